#!/usr/bin/env python3
"""A seeded random month of invoices, bills, payments, credit notes, allocations (two declined on
purpose), refunds and a returned payment, with the book's billing register (counterparties, tax
codes changing rate mid-month, three issues refused on purpose), through the real broker and
`daybook serve` (processor, projector and the billing process managers), compared with what
tools/billing-month.py computed independently: every invoice's status, outstanding amount and
(while a draft) the code of its refused issue, gapless numbers per series, AR and AP aging as of
the month's end, every ledger account's debits and credits, and the control-account
reconciliation. Prints one summary line; exits 1 on any difference.

Environment: DAYBOOK_BIN, DAYBOOK_TEST_BROKERS, DAYBOOK_SOURCE_DIR (set by CMake).
Optional: BILLING_MONTH_SEED (default 7), BILLING_MONTH_INVOICES (default 24).
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.environ["DAYBOOK_BIN"]
BROKERS = os.environ["DAYBOOK_TEST_BROKERS"]
SOURCE = os.environ["DAYBOOK_SOURCE_DIR"]
SEED = int(os.environ.get("BILLING_MONTH_SEED", "7"))
INVOICES = int(os.environ.get("BILLING_MONTH_INVOICES", "24"))
BOOK = "month"
PHASES = ("setup", "documents", "payments", "returns")
CONVERGE_TIMEOUT_S = 120


def main():
    work = tempfile.mkdtemp(prefix="daybook-billing-month-")
    prefix = f"bm{os.getpid()}-{int(time.time())}."
    common = ["--brokers", BROKERS, "--topic-prefix", prefix, "--group", prefix + "processor", "--data-dir",
              work + "/data", "--instance", "bm", "--session-timeout-ms", "6000", "--transaction-timeout-ms", "10000"]
    run([BIN, "topics", "create"] + common[:4])
    subprocess.run([sys.executable, SOURCE + "/tools/billing-month.py", "--seed", str(SEED), "--book", BOOK, "--invoices",
                    str(INVOICES), "--out-commands", work + "/month", "--out-expected", work + "/expected.json"],
                   check=True, stderr=subprocess.DEVNULL)
    expected = json.load(open(work + "/expected.json"))
    log = open(work + "/serve.log", "w")
    serve = subprocess.Popen([BIN, "serve"] + common, stdout=log, stderr=subprocess.STDOUT)
    try:
        for phase in PHASES:
            # One by one: the month is written to be valid in its order, across documents.
            with open(f"{work}/outcomes.{phase}.ndjson", "w") as outcomes:
                status = subprocess.run([BIN, "submit", "--one-by-one", f"{work}/month.{phase}.ndjson"] + common[:6],
                                        stdout=outcomes).returncode
            if status == 2:
                fail(f"submitting phase {phase} failed", work)
            wait_converged(common, phase, work, token_of(f"{work}/outcomes.{phase}.ndjson"))
        differences = compare(common, expected)
        for phase in PHASES:  # the month is written to be accepted command by command
            for line in open(f"{work}/outcomes.{phase}.ndjson"):
                outcome = json.loads(line)
                if outcome.get("status") != "OUTCOME_STATUS_ACCEPTED":
                    differences.append(f"{phase}: {outcome.get('command_id')} {outcome.get('code_name')} {outcome.get('detail')}")
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.kill()
    for d in differences[:40]:
        print("DIFFERENCE: " + d)
    valid = not differences
    print(f"billing month seed={SEED} invoices={len(expected['invoices'])} payments={len(expected['payments'])} "
          f"ledger_accounts={len(expected['ledger'])} differences={len(differences)} valid: {str(valid).lower()}")
    sys.exit(0 if valid else 1)


def run(argv):
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode not in (0,):
        raise SystemExit(f"{' '.join(argv[:3])} failed ({out.returncode}): {out.stderr[-2000:]}")
    return out.stdout


def query(common, *args, ok_codes=(0,)):
    out = subprocess.run([BIN, "query"] + list(args) + common, capture_output=True, text=True)
    if out.returncode not in ok_codes:
        raise SystemExit(f"daybook query {' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")
    return out.returncode, out.stdout


def token_of(outcomes_file):
    """The read-your-writes token covering every outcome of a phase (highest seq per partition)."""
    seqs = {}
    for line in open(outcomes_file):
        for part in json.loads(line).get("token", "").split(","):
            if part:
                p, seq = part.split(":")
                seqs[p] = max(seqs.get(p, 0), int(seq))
    return ",".join(f"{p}:{seq}" for p, seq in sorted(seqs.items()))


def wait_converged(common, phase, work, token):
    """Every saga step of the phase has arrived: the projection has applied the phase's own events
    (its token), then the reconciliation balances with nothing in flight."""
    deadline = time.time() + CONVERGE_TIMEOUT_S
    text = ""
    while time.time() < deadline:
        code, text = query(common, "reconcile", "--book", BOOK, *(["--token", token] if token else []), ok_codes=(0, 1, 2))
        if code == 0 and "in flight" not in text:
            return
        time.sleep(0.3)
    fail(f"phase {phase} did not converge in {CONVERGE_TIMEOUT_S} s:\n{text}", work)


def compare(common, expected):
    diffs = []
    _, text = query(common, "invoices", "--book", BOOK, "--format", "json")
    invoices = {}
    numbers = {}
    for line in text.splitlines():
        inv = json.loads(line)
        draft = inv["draft"]
        invoices[draft["invoice_id"]] = inv
        number = int(inv.get("number", "0"))
        if number:
            numbers.setdefault(draft["series_key"], []).append(number)
    for invoice_id, want in expected["invoices"].items():
        got = invoices.get(invoice_id)
        if got is None:
            diffs.append(f"invoice {invoice_id} missing")
            continue
        for key in ("status", "outstanding_minor"):
            have = got.get(key, "0" if key.endswith("_minor") else "")
            if str(have) != str(want[key]):
                diffs.append(f"invoice {invoice_id} {key}: daybook {have}, model {want[key]}")
        if str(got["draft"]["gross_minor"]) != want["gross_minor"]:
            diffs.append(f"invoice {invoice_id} gross: daybook {got['draft']['gross_minor']}, model {want['gross_minor']}")
        if (int(got.get("number", "0")) > 0) != (int(want["number"]) > 0):
            diffs.append(f"invoice {invoice_id} numbered: daybook {got.get('number')}, model {want['number']}")
        refusal = got.get("issue_refusal", {}).get("code_name", "")  # the register's last refusal, while a draft
        if refusal != want.get("issue_refusal", ""):
            diffs.append(f"invoice {invoice_id} issue refusal: daybook {refusal or '-'}, model {want.get('issue_refusal') or '-'}")
    if len(invoices) != len(expected["invoices"]):
        diffs.append(f"invoices: daybook {len(invoices)}, model {len(expected['invoices'])}")
    for series, want in expected["numbers"].items():
        if sorted(numbers.get(series, [])) != sorted(want):
            diffs.append(f"series {series}: daybook {sorted(numbers.get(series, []))}, model {sorted(want)}")
    for direction in ("customer", "supplier"):
        _, text = query(common, "aging", "--book", BOOK, "--direction", direction, "--as-of", expected["as_of"], "--format",
                        "json")
        got = {row["counterparty"]: row for row in map(json.loads, text.splitlines())}
        want = {row["counterparty"]: row for row in expected["aging_" + direction]}
        for cp in sorted(set(got) | set(want)):
            g, w = got.get(cp, {}), want.get(cp, {})
            for key in ("current", "days_1_30", "days_31_60", "days_61_90", "over_90", "total", "unallocated"):
                if g.get(key, "0") != w.get(key, "0"):
                    diffs.append(f"{direction} aging {cp} {key}: daybook {g.get(key, '0')}, model {w.get(key, '0')}")
    _, text = query(common, "accounts", "--book", BOOK, "--format", "json")
    accounts = {a["account_id"]: a for a in map(json.loads, text.splitlines())}
    for account, want in expected["ledger"].items():
        got = accounts.get(account, {})
        for key in ("debits_minor", "credits_minor"):
            if str(got.get(key, "0")) != want[key]:
                diffs.append(f"ledger {account} {key}: daybook {got.get(key, '0')}, model {want[key]}")
    code, text = query(common, "reconcile", "--book", BOOK, ok_codes=(0, 1))
    if code != 0:
        diffs.append("reconciliation: " + text.replace("\n", "; "))
    verify = subprocess.run([BIN, "verify", "--book", BOOK] + common, capture_output=True, text=True)
    if verify.returncode != 0 or "verify: all clear" not in verify.stdout:
        diffs.append("daybook verify: " + verify.stdout.replace("\n", "; "))
    return diffs


def fail(message, work):
    print("FAILED: " + message)
    try:
        print(open(work + "/serve.log").read()[-4000:])
    except OSError:
        pass
    sys.exit(1)


if __name__ == "__main__":
    main()
