#!/usr/bin/env python3
"""Self-test for tools/audit-check. Run: python3 tools/audit_check_test.py

Everything here is built from docs/audit-format.md and RFC 9162 / RFC 8032 directly:
records are hand-encoded protobuf, proofs are generated with the recursive definitions of
RFC 9162 §2.1.3.1 and §2.1.4.1 (the checker only verifies, with the iterative algorithms
of §2.1.3.2 and §2.1.4.2), and checkpoints are signed with an Ed25519 signer (RFC 8032
§5.1.6) that exists only in this file.
"""

import base64
import hashlib
import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "audit-check")


def load_checker():
    sys.dont_write_bytecode = True  # keep tools/ free of __pycache__
    loader = importlib.machinery.SourceFileLoader("audit_check", SCRIPT)
    spec = importlib.util.spec_from_loader("audit_check", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


ac = load_checker()


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- protobuf encoding and records (spec §1) -------------------------------------------

def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, data: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(data)) + data


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3 | 0) + varint(value)


def spec_hash(p: int, seq: int, prev: bytes, body: bytes) -> bytes:
    """Spec §1 hash, written out again here on purpose (not the checker's function)."""
    return sha256(b"daybook.v1daybook.events" + p.to_bytes(4, "big") + seq.to_bytes(8, "big")
                  + prev + body)


def sealed_event(body: bytes, seq: int, prev: bytes, h: bytes, extra: bytes = b"") -> bytes:
    return field_bytes(1, body) + field_varint(2, seq) + field_bytes(3, prev) + field_bytes(4, h) + extra


def build_chain(p: int, bodies: list, extras: dict = None):
    """Return (record bytes list, hash list) for a correct chain of the given bodies."""
    records, hashes, prev = [], [], bytes(32)
    for i, body in enumerate(bodies):
        seq = i + 1
        h = spec_hash(p, seq, prev, body)
        records.append(sealed_event(body, seq, prev, h, (extras or {}).get(seq, b"")))
        hashes.append(h)
        prev = h
    return records, hashes


def export(partitions: dict) -> bytes:
    """Spec §5 layout: u32be(partition) ‖ u32be(length) ‖ record bytes, partitions in order."""
    out = bytearray()
    for p in sorted(partitions):
        for rec in partitions[p]:
            out += p.to_bytes(4, "big") + len(rec).to_bytes(4, "big") + rec
    return bytes(out)


def bodies(p: int, n: int) -> list:
    return [f'{{"partition":{p},"n":{i}}}'.encode() for i in range(1, n + 1)]


# --- Merkle reference implementations (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1) ------------

def k_for(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list) -> bytes:
    if len(d) == 0:
        return sha256(b"")
    if len(d) == 1:
        return sha256(b"\x00" + d[0])
    k = k_for(len(d))
    return sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def gen_path(m: int, d: list) -> list:
    if len(d) == 1:
        return []
    k = k_for(len(d))
    if m < k:
        return gen_path(m, d[:k]) + [naive_mth(d[k:])]
    return gen_path(m - k, d[k:]) + [naive_mth(d[:k])]


def gen_subproof(m: int, d: list, b: bool) -> list:
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = k_for(n)
    if m <= k:
        return gen_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return gen_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


def gen_consistency(m: int, d: list) -> list:
    return gen_subproof(m, d, True)


def leaves(n: int) -> list:
    return [sha256(b"leaf %d" % i) for i in range(n)]


def flip(data: bytes, byte: int = 0, bit: int = 0) -> bytes:
    b = bytearray(data)
    b[byte] ^= 1 << bit
    return bytes(b)


# --- Ed25519 signing (RFC 8032 §5.1.5, §5.1.6), for tests only ----------------------------

def ed_encode(point) -> bytes:
    x, y, z, _ = point
    zi = pow(z, ac.ED_P - 2, ac.ED_P)
    x, y = x * zi % ac.ED_P, y * zi % ac.ED_P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def ed_expand(secret: bytes):
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    return a, h[32:]


def ed_public(secret: bytes) -> bytes:
    return ed_encode(ac.ed_scalar_mult(ed_expand(secret)[0], ac.ED_BASE))


def ed_sign(secret: bytes, message: bytes) -> bytes:
    a, prefix = ed_expand(secret)
    pub = ed_encode(ac.ed_scalar_mult(a, ac.ED_BASE))
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % ac.ED_L
    big_r = ed_encode(ac.ed_scalar_mult(r, ac.ED_BASE))
    k = int.from_bytes(hashlib.sha512(big_r + pub + message).digest(), "little") % ac.ED_L
    s = (r + k * a) % ac.ED_L
    return big_r + s.to_bytes(32, "little")


RFC8032_VECTORS = [  # RFC 8032 §7.1 TEST 1, 2, 3: (secret, public, message, signature)
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]

TEST_SECRET = sha256(b"audit-check self-test key")
TEST_PUBLIC = ed_public(TEST_SECRET)


def make_checkpoint(entries: list, secret: bytes = TEST_SECRET, time_ms: int = 1700000000000) -> bytes:
    """entries: list of (seq, head, root) for partitions 0..P-1 (spec §3)."""
    lines = ["daybook-checkpoint v1", "log daybook.events", f"time_ms {time_ms}",
             f"partitions {len(entries)}"]
    lines += [f"partition {p} {seq} {head.hex()} {root.hex()}" for p, (seq, head, root) in enumerate(entries)]
    signed = "".join(line + "\n" for line in lines).encode()
    return signed + f"signature {ed_sign(secret, signed).hex()}\n".encode()


def checkpoint_for(chains: dict, count: int, sizes: dict = None) -> bytes:
    """A checkpoint over partitions 0..count-1 at sizes (default: the full chain)."""
    entries = []
    for p in range(count):
        hashes = chains.get(p, ([], []))[1]
        n = len(hashes) if not sizes or p not in sizes else sizes[p]
        entries.append((n, hashes[n - 1] if n else bytes(32), naive_mth(hashes[:n])))
    return make_checkpoint(entries)


def pem(public: bytes) -> str:
    der = bytes.fromhex("302a300506032b6570032100") + public
    return "-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----\n"


# --- test plumbing ----------------------------------------------------------------------

class CliCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def write(self, name: str, data) -> str:
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def run_cli(self, *args):
        proc = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True)
        return proc.returncode, proc.stdout, proc.stderr

    def breaks(self, stdout: str) -> list:
        return [line for line in stdout.splitlines() if line.startswith("break ")]


def standard_chains():
    """Three partitions of 7, 12 and 5 records; some records carry unknown fields."""
    unknown = field_varint(9, 12345) + varint(10 << 3 | 5) + b"\x01\x02\x03\x04" \
        + varint(11 << 3 | 1) + bytes(8) + field_bytes(12, b"ignored")
    return {0: build_chain(0, bodies(0, 7), {3: unknown}),
            1: build_chain(1, bodies(1, 12), {1: unknown, 12: unknown}),
            2: build_chain(2, bodies(2, 5))}


def records_of(chains: dict) -> dict:
    return {p: list(recs) for p, (recs, _) in chains.items()}


# --- tests ------------------------------------------------------------------------------

class Ed25519Test(unittest.TestCase):
    def test_rfc8032_vectors(self):
        for secret, public, message, signature in RFC8032_VECTORS:
            secret, public, message, signature = map(bytes.fromhex, (secret, public, message, signature))
            self.assertEqual(ed_public(secret), public)
            self.assertEqual(ed_sign(secret, message), signature)
            self.assertTrue(ac.ed25519_verify(public, message, signature))

    def test_negative_cases(self):
        for _, public, message, signature in RFC8032_VECTORS:
            public, message, signature = map(bytes.fromhex, (public, message, signature))
            for bit in (0, 3, 7):
                self.assertFalse(ac.ed25519_verify(public, message, flip(signature, 5, bit)), "R bit")
                self.assertFalse(ac.ed25519_verify(public, message, flip(signature, 40, bit)), "S bit")
                self.assertFalse(ac.ed25519_verify(flip(public, 9, bit), message, signature), "key bit")
            self.assertFalse(ac.ed25519_verify(public, message + b"x", signature))
            if message:
                self.assertFalse(ac.ed25519_verify(public, flip(message, 0, 1), signature))
            self.assertFalse(ac.ed25519_verify(public, message, signature[:63]))

    def test_s_not_reduced_is_rejected(self):
        public, message, signature = map(bytes.fromhex, RFC8032_VECTORS[0][1:])
        s = int.from_bytes(signature[32:], "little") + ac.ED_L  # same point equation, S >= L
        self.assertFalse(ac.ed25519_verify(public, message, signature[:32] + s.to_bytes(32, "little")))

    def test_non_canonical_point_is_rejected(self):
        self.assertIsNone(ac.ed_decode_point((ac.ED_P + 1).to_bytes(32, "little")))  # y >= p
        self.assertIsNone(ac.ed_decode_point((1 | 1 << 255).to_bytes(32, "little")))  # x = 0, sign 1


class RecordDecodingTest(unittest.TestCase):
    def test_unknown_fields_are_skipped(self):
        rec = standard_chains()[0][0][2]
        decoded = ac.decode_sealed_event(rec)
        self.assertEqual(decoded.seq, 3)
        self.assertEqual(decoded.body, bodies(0, 7)[2])

    def test_bad_records_do_not_decode(self):
        good = sealed_event(b"x", 1, bytes(32), bytes(32))
        for bad in (good[:-1],                                       # truncated
                    sealed_event(b"x", 1, bytes(31), bytes(32)),       # short prev_hash
                    good + varint(5 << 3 | 3),                         # group wire type
                    varint(2 << 3 | 2) + varint(1) + b"\x01" + good,   # seq with wrong type
                    good + field_varint(9, 0)[:1] + b"\xff" * 11):     # overlong varint
            with self.assertRaises(ac.DecodeError):
                ac.decode_sealed_event(bad)


class VerifyLogTest(CliCase):
    def verify(self, partitions: dict, *extra):
        return self.run_cli("verify-log", self.write("events.log", export(partitions)), *extra)

    def test_good_log_is_valid(self):
        chains = standard_chains()
        rc, out, _ = self.verify(records_of(chains))
        self.assertEqual(rc, 0, out)
        self.assertIn("valid: true", out.splitlines())
        self.assertIn(f"partition 1 seq 12 head {chains[1][1][-1].hex()}", out.splitlines())

    def test_empty_log_is_valid(self):
        rc, out, _ = self.verify({})
        self.assertEqual((rc, out.strip()), (0, "valid: true"))

    def test_body_byte_flip_is_altered(self):
        parts = records_of(standard_chains())
        rec = parts[1][3]
        body = bodies(1, 12)[3]
        at = rec.index(body) + 2
        parts[1][3] = rec[:at] + bytes([rec[at] ^ 0x20]) + rec[at + 1:]
        rc, out, _ = self.verify(parts)
        self.assertEqual(rc, 1, out)
        self.assertIn("valid: false", out.splitlines())
        self.assertEqual(len(self.breaks(out)), 1, out)
        self.assertTrue(self.breaks(out)[0].startswith("break partition=1 seq=4 kind=altered index=3"), out)
        self.assertIn("partition 1 seq 3 head", out)

    def test_deleted_record_is_missing(self):
        parts = records_of(standard_chains())
        del parts[0][4]
        rc, out, _ = self.verify(parts)
        self.assertEqual(rc, 1)
        self.assertEqual(self.breaks(out), ["break partition=0 seq=5 kind=missing index=4 detail=found seq 6"])

    def test_swapped_records_are_reordered(self):
        parts = records_of(standard_chains())
        parts[1][6], parts[1][7] = parts[1][7], parts[1][6]
        rc, out, _ = self.verify(parts)
        self.assertEqual(rc, 1)
        self.assertEqual(self.breaks(out), ["break partition=1 seq=7 kind=reordered index=6 detail=found seq 8"])

    def test_repeated_record_is_reordered(self):
        parts = records_of(standard_chains())
        parts[2].insert(3, parts[2][2])
        rc, out, _ = self.verify(parts)
        self.assertEqual(self.breaks(out), ["break partition=2 seq=4 kind=reordered index=3 detail=found seq 3"])

    def test_relinked_record_is_altered(self):
        """A record replaced by one with a valid own hash but the wrong prev_hash."""
        parts = records_of(standard_chains())
        body = b"forged"
        parts[0][2] = sealed_event(body, 3, bytes(32), spec_hash(0, 3, bytes(32), body))
        rc, out, _ = self.verify(parts)
        self.assertEqual(self.breaks(out), ["break partition=0 seq=3 kind=altered index=2 "
                                            "detail=prev_hash is not the previous record's hash"])

    def test_first_record_needs_zero_prev_hash(self):
        body, prev = b"first", b"\x01" * 32
        rec = sealed_event(body, 1, prev, spec_hash(0, 1, prev, body))
        rc, out, _ = self.verify({0: [rec]})
        self.assertEqual(rc, 1)
        self.assertIn("kind=altered index=0", out)

    def test_cut_export_file_is_altered(self):
        data = export(records_of(standard_chains()))
        rc, out, _ = self.run_cli("verify-log", self.write("cut.log", data[:-10]))
        self.assertEqual(rc, 1)
        self.assertTrue(self.breaks(out)[0].startswith("break partition=2 seq=5 kind=altered index=4"), out)

    def test_interleaved_partitions_are_valid(self):
        # Spec §5: partitions may interleave; the order within each partition is what counts.
        chains = standard_chains()
        data = export({1: chains[1][0]}) + export({0: chains[0][0]})
        rc, out, _ = self.run_cli("verify-log", self.write("interleaved.log", data))
        self.assertEqual(rc, 0, out)
        self.assertIn("valid: true", out)

    def test_usage_errors_exit_2(self):
        log = self.write("events.log", export(records_of(standard_chains())))
        self.assertEqual(self.run_cli("verify-log", os.path.join(self.tmp.name, "absent.log"))[0], 2)
        self.assertEqual(self.run_cli("verify-log", log, "--checkpoint", log)[0], 2)
        self.assertEqual(self.run_cli("verify-log")[0], 2)


class CheckpointTest(CliCase):
    def setUp(self):
        super().setUp()
        self.chains = standard_chains()
        self.key = self.write("key.pem", pem(TEST_PUBLIC))
        self.raw_key = self.write("key.hex", TEST_PUBLIC.hex() + "\n")

    def verify_log(self, partitions: dict, checkpoint: bytes, key=None):
        return self.run_cli("verify-log", self.write("events.log", export(partitions)),
                            "--checkpoint", self.write("ckpt", checkpoint),
                            "--public-key", key or self.key)

    def test_signed_checkpoint_verifies_with_both_key_forms(self):
        ckpt = self.write("ckpt", checkpoint_for(self.chains, 4))
        for key in (self.key, self.raw_key):
            rc, out, _ = self.run_cli("verify-checkpoint", ckpt, "--public-key", key)
            self.assertEqual(rc, 0, out)
            self.assertIn("valid: true", out.splitlines())

    def test_modified_line_fails_signature(self):
        ckpt = checkpoint_for(self.chains, 3)
        lines = ckpt.split(b"\n")
        for i in range(len(lines) - 2):  # every signed line
            changed = list(lines)
            changed[i] = changed[i].replace(b"1", b"2", 1) if b"1" in changed[i] else changed[i] + b" "
            rc, out, _ = self.run_cli("verify-checkpoint", self.write("bad", b"\n".join(changed)),
                                      "--public-key", self.key)
            self.assertEqual(rc, 1, (i, out))
            self.assertIn("break kind=bad_signature", out)

    def test_wrong_key_fails(self):
        other = self.write("other.hex", ed_public(b"\x07" * 32).hex())
        rc, out, _ = self.run_cli("verify-checkpoint", self.write("ckpt", checkpoint_for(self.chains, 3)),
                                  "--public-key", other)
        self.assertEqual(rc, 1)
        self.assertIn("break kind=bad_signature", out)

    def test_signed_but_malformed_checkpoint(self):
        entries = [(0, bytes(32), sha256(b"")), (0, bytes(32), sha256(b""))]
        text = make_checkpoint(entries).decode().replace("partitions 2", "partitions 3")
        signed = text[:text.index("signature ")].encode()
        bad = signed + f"signature {ed_sign(TEST_SECRET, signed).hex()}\n".encode()
        rc, out, _ = self.run_cli("verify-checkpoint", self.write("ckpt", bad), "--public-key", self.key)
        self.assertEqual(rc, 1)
        self.assertIn("kind=bad_checkpoint", out)

    def test_log_extends_its_checkpoint(self):
        rc, out, _ = self.verify_log(records_of(self.chains), checkpoint_for(self.chains, 3))
        self.assertEqual(rc, 0, out)

    def test_log_grown_after_checkpoint_still_extends_it(self):
        ckpt = checkpoint_for(self.chains, 4, sizes={0: 3, 1: 12, 2: 1})
        rc, out, _ = self.verify_log(records_of(self.chains), ckpt)
        self.assertEqual(rc, 0, out)
        self.assertIn(f"partition 3 seq 0 head {'0' * 64}", out)

    def test_truncated_log(self):
        parts = records_of(self.chains)
        del parts[1][9:]
        rc, out, _ = self.verify_log(parts, checkpoint_for(self.chains, 3))
        self.assertEqual(rc, 1)
        self.assertEqual(self.breaks(out), ["break partition=1 seq=10 kind=truncated index=9 "
                                            "detail=log ends at seq 9, checkpoint records seq 12"])

    def test_rewritten_log_with_recomputed_hashes_does_not_extend(self):
        new_bodies = bodies(0, 7)
        new_bodies[1] = b"rewritten history"
        parts = records_of(self.chains)
        parts[0] = build_chain(0, new_bodies)[0]
        rc, out, _ = self.verify_log(parts, checkpoint_for(self.chains, 3, sizes={0: 5}))
        self.assertEqual(rc, 1)
        self.assertEqual(self.breaks(out), ["break partition=0 seq=5 kind=altered index=4 "
                                            "detail=does not extend checkpoint (head hash differs)"])

    def test_wrong_merkle_root_does_not_extend(self):
        hashes = self.chains[2][1]
        entries = [(7, self.chains[0][1][-1], naive_mth(self.chains[0][1])),
                   (12, self.chains[1][1][-1], naive_mth(self.chains[1][1])),
                   (5, hashes[-1], naive_mth(hashes[1:2] + hashes[0:1] + hashes[2:]))]  # leaves 1, 2 swapped
        rc, out, _ = self.verify_log(records_of(self.chains), make_checkpoint(entries))
        self.assertEqual(rc, 1)
        self.assertEqual(self.breaks(out), ["break partition=2 seq=5 kind=altered index=4 "
                                            "detail=does not extend checkpoint (merkle root differs)"])

    def test_bad_signature_in_verify_log(self):
        ckpt = checkpoint_for(self.chains, 3).replace(b"time_ms 1", b"time_ms 2")
        rc, out, _ = self.verify_log(records_of(self.chains), ckpt)
        self.assertEqual(rc, 1)
        self.assertIn("valid: false", out.splitlines())
        self.assertTrue(any(b.startswith("break kind=bad_signature") for b in self.breaks(out)))


class MerkleTest(CliCase):
    def test_roots_match_naive_recursion(self):
        for n in range(0, 21):
            d = leaves(n)
            self.assertEqual(ac.merkle_root(d), naive_mth(d), n)

    def test_merkle_root_command(self):
        chains = standard_chains()
        log = self.write("events.log", export(records_of(chains)))
        for size in (None, 1, 5, 12):
            args = ["merkle-root", log, "--partition", "1"] + ([] if size is None else ["--size", str(size)])
            rc, out, _ = self.run_cli(*args)
            self.assertEqual(rc, 0)
            self.assertEqual(out.strip(), naive_mth(chains[1][1][:size]).hex())
        self.assertEqual(self.run_cli("merkle-root", log, "--partition", "1", "--size", "13")[0], 2)


class InclusionTest(CliCase):
    def test_every_leaf_of_every_tree_up_to_20(self):
        for n in range(1, 21):
            d = leaves(n)
            root = naive_mth(d)
            for m in range(n):
                path = gen_path(m, d)
                self.assertTrue(ac.verify_inclusion(m, n, d[m], path, root), (m, n))
                self.assertFalse(ac.verify_inclusion(m, n, flip(d[m]), path, root))
                self.assertFalse(ac.verify_inclusion(m, n, d[m], path, flip(root)))
                self.assertFalse(ac.verify_inclusion(m, n, d[m], path + [root], root))
                self.assertFalse(ac.verify_inclusion(n, n, d[m], path, root))
                if n > 1:
                    self.assertFalse(ac.verify_inclusion((m + 1) % n, n, d[m], path, root), (m, n))
                for i in range(len(path)):
                    tampered = list(path)
                    tampered[i] = flip(tampered[i], 31, 7)
                    self.assertFalse(ac.verify_inclusion(m, n, d[m], tampered, root), (m, n, i))
                if path:
                    self.assertFalse(ac.verify_inclusion(m, n, d[m], path[:-1], root))
                self.assert_short_path_fails(m, n, d[m], path, root)

    def assert_short_path_fails(self, m, n, leaf, path, root):
        """A path too short for the claimed tree_size must fail (the final sn == 0 check)."""
        for bigger in range(n + 1, 21):
            if len(gen_path(m, leaves(bigger))) > len(path):
                self.assertFalse(ac.verify_inclusion(m, bigger, leaf, path, root), (m, n, bigger))

    def block(self, seq, leaf, n, root, path):
        return (f"daybook-inclusion v1\npartition 0\nseq {seq}\nleaf {leaf.hex()}\ntree_size {n}\n"
                f"root {root.hex()}\npath {' '.join(h.hex() for h in path)}\n")

    def test_cli(self):
        d = leaves(13)
        root = naive_mth(d)
        good = self.write("ok.proof", "\n".join(self.block(m + 1, d[m], 13, root, gen_path(m, d)) for m in range(13)))
        rc, out, _ = self.run_cli("verify-inclusion", good)
        self.assertEqual(rc, 0, out)
        single = self.write("one.proof", self.block(1, d[0], 1, naive_mth(d[:1]), []))
        self.assertEqual(self.run_cli("verify-inclusion", single)[0], 0)
        path = gen_path(4, d)
        path[2] = flip(path[2])
        bad = self.write("bad.proof", self.block(5, d[4], 13, root, path))
        rc, out, _ = self.run_cli("verify-inclusion", bad)
        self.assertEqual(rc, 1)
        self.assertIn("valid: false", out.splitlines())
        malformed = self.write("upper.proof", self.block(1, d[0], 1, naive_mth(d[:1]), []).upper())
        self.assertEqual(self.run_cli("verify-inclusion", malformed)[0], 1)


class ConsistencyTest(CliCase):
    def test_all_pairs_up_to_20(self):
        d = leaves(21)
        for n in range(1, 21):
            new_root = naive_mth(d[:n])
            for m in range(1, n + 1):
                old_root = naive_mth(d[:m])
                proof = gen_consistency(m, d[:n])
                self.assertTrue(ac.verify_consistency(m, n, old_root, new_root, proof), (m, n))
                self.assert_tampered_fail(m, n, d, proof)

    def assert_tampered_fail(self, m, n, d, proof):
        """Every tampering must fail. Claimed sizes are paired with the genuine root of
        that size: the algorithm cannot tell a leaf hash from a node hash, so a proof
        with a size changed but the old roots kept may still balance (e.g. the (1, 3)
        proof also verifies as (1, 4) against the size-3 root, which no honest log would
        ever sign for size 4)."""
        v, old_root, new_root = ac.verify_consistency, naive_mth(d[:m]), naive_mth(d[:n])
        self.assertFalse(v(m, n, flip(old_root), new_root, proof), (m, n))
        self.assertFalse(v(m, n, old_root, flip(new_root), proof), (m, n))
        self.assertFalse(v(m, n, old_root, new_root, proof + [old_root]), (m, n))
        self.assertFalse(v(m, n + 1, old_root, naive_mth(d[:n + 1]), proof), (m, n))
        if m > 1:
            self.assertFalse(v(m - 1, n, naive_mth(d[:m - 1]), new_root, proof), (m, n))
        self.assertFalse(v(n + 1, n, naive_mth(d[:n + 1]), new_root, proof), (m, n))
        if proof:
            self.assertFalse(v(m, n, old_root, new_root, proof[:-1]), (m, n))
            self.assertFalse(v(m, n, old_root, new_root, proof[1:]), (m, n))
        for i in range(len(proof)):
            tampered = list(proof)
            tampered[i] = flip(tampered[i], 17, 2)
            self.assertFalse(v(m, n, old_root, new_root, tampered), (m, n, i))
        for bigger in range(n + 1, 21):  # a proof too short for the claimed new_size
            if m < n and len(gen_consistency(m, d[:bigger])) > len(proof):
                self.assertFalse(v(m, bigger, old_root, new_root, proof), (m, n, bigger))

    def test_degenerate_sizes(self):
        d = leaves(5)
        root = naive_mth(d)
        self.assertTrue(ac.verify_consistency(5, 5, root, root, []))
        self.assertFalse(ac.verify_consistency(5, 5, root, flip(root), []))
        self.assertFalse(ac.verify_consistency(5, 5, root, root, [root]))
        self.assertTrue(ac.verify_consistency(0, 5, sha256(b""), root, []))
        self.assertTrue(ac.verify_consistency(0, 0, sha256(b""), sha256(b""), []))
        self.assertFalse(ac.verify_consistency(0, 5, root, root, []))
        self.assertFalse(ac.verify_consistency(0, 5, sha256(b""), root, [root]))

    def block(self, m, n, d, proof=None, partition=0):
        if proof is None:
            proof = gen_consistency(m, d[:n]) if m else []  # RFC 9162 PROOF needs 0 < m
        return (f"daybook-consistency v1\npartition {partition}\nold_size {m}\n"
                f"old_root {naive_mth(d[:m]).hex()}\nnew_size {n}\nnew_root {naive_mth(d[:n]).hex()}\n"
                f"path {' '.join(h.hex() for h in proof)}\n")

    def test_cli_multiple_blocks(self):
        d = leaves(20)
        blocks = [self.block(7, 20, d, partition=0), self.block(0, 3, d, partition=1),
                  self.block(4, 4, d, partition=2), self.block(16, 19, d, partition=3)]
        rc, out, _ = self.run_cli("verify-consistency", self.write("ok.proof", "\n".join(blocks)))
        self.assertEqual(rc, 0, out)
        self.assertIn("valid: true", out.splitlines())
        proof = gen_consistency(9, d[:17])
        proof[0] = flip(proof[0])
        blocks.insert(2, self.block(9, 17, d, proof, partition=4))
        rc, out, _ = self.run_cli("verify-consistency", self.write("bad.proof", "\n".join(blocks)))
        self.assertEqual(rc, 1, out)
        self.assertIn("block 3 partition 4: FAIL", out)
        self.assertIn("block 1 partition 0: ok", out)
        self.assertEqual(self.run_cli("verify-consistency", self.write("empty.proof", ""))[0], 1)


if __name__ == "__main__":
    unittest.main()
