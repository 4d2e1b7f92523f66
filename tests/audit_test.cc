// Tamper detection over a log of 100,000+ events, Merkle proofs against RFC 9162's definitions,
// and signed checkpoints (docs/audit-format.md).

#include <catch2/catch.hpp>

#include <random>

#include "events/chain_verifier.h"
#include "events/checkpoint.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/merkle.h"
#include "tests/test_support.h"

using namespace daybook;

namespace {

constexpr std::uint32_t partitions = 2;

using log_entry = test::sealed_event;

std::vector<log_entry> make_log(std::size_t n) { return test::sealed_log(n, partitions); }

events::chain_verifier verify(const std::vector<log_entry>& log) {
    events::chain_verifier v(partitions);
    for (const auto& e : log) v.add(e.partition, e.record);
    v.finish();
    return v;
}

events::checkpoint checkpoint_of(const events::chain_verifier& v) {
    events::checkpoint c;
    c.time_ms = 1;
    for (std::uint32_t p = 0; p < partitions; ++p) {
        const auto& pc = v.partitions()[p];
        c.partitions.push_back({p, pc.seq, pc.head, events::merkle_root(pc.leaves, pc.seq)});
    }
    return c;
}

// Index in the whole log of record `seq` of partition p.
std::size_t at(std::uint32_t p, std::uint64_t seq) { return static_cast<std::size_t>((seq - 1) * partitions + p); }

// Naive RFC 9162 §2.1.1 definition, for cross-checking.
std::string naive_root(const std::vector<std::string>& d) {
    if (d.empty()) return events::sha256("");
    if (d.size() == 1) return events::sha256(std::string(1, '\0') + d[0]);
    std::size_t k = 1;
    while (k * 2 < d.size()) k *= 2;
    return events::sha256(std::string(1, '\1') + naive_root({d.begin(), d.begin() + static_cast<long>(k)}) +
                          naive_root({d.begin() + static_cast<long>(k), d.end()}));
}

}  // namespace

TEST_CASE("tampering with a 100,000-event log is detected at the right place", "[audit]") {
    static const auto log = make_log(100'000);
    auto clean = verify(log);
    REQUIRE(clean.valid());
    REQUIRE(clean.partitions()[0].seq == 50'000);
    auto keys = events::generate_ed25519();
    REQUIRE(keys);
    auto signed_cp = events::sign_checkpoint(checkpoint_of(clean), keys->private_pem);
    REQUIRE(signed_cp);
    auto cp = events::read_checkpoint(signed_cp->text, keys->public_pem);
    REQUIRE(cp);

    auto expect = [](const events::chain_verifier& v, std::uint32_t p, std::uint64_t seq, const std::string& kind) {
        auto breaks = v.breaks();
        REQUIRE(breaks.size() == 1);
        CHECK(breaks[0].partition == p);
        CHECK(breaks[0].seq == seq);
        CHECK(breaks[0].kind == kind);
    };
    SECTION("a flipped byte in a body: altered") {
        auto t = log;
        auto& r = t[at(1, 31'337)].record;
        r[r.size() / 2] ^= 0x01;
        expect(verify(t), 1, 31'337, "altered");
    }
    SECTION("a deleted event: missing") {
        auto t = log;
        t.erase(t.begin() + static_cast<long>(at(0, 12'345)));
        expect(verify(t), 0, 12'345, "missing");
    }
    SECTION("two swapped events: reordered") {
        auto t = log;
        std::swap(t[at(1, 777)], t[at(1, 778)]);
        expect(verify(t), 1, 777, "reordered");
    }
    SECTION("a repeated event: reordered") {
        auto t = log;
        t.insert(t.begin() + static_cast<long>(at(0, 900)), t[at(0, 899)]);
        expect(verify(t), 0, 900, "reordered");
    }
    SECTION("a truncated tail: valid alone, truncated against the checkpoint") {
        auto t = log;
        t.resize(t.size() - 10);
        auto v = verify(t);
        CHECK(v.valid());
        v.check_extends(*cp);
        auto breaks = v.breaks();
        REQUIRE(breaks.size() == 2);
        CHECK(breaks[0].kind == "truncated");
        CHECK(breaks[0].seq == 50'000);
    }
    SECTION("a full rewrite with recomputed hashes: valid alone, altered against the checkpoint") {
        // Change one event's body and re-seal everything after it: every hash is consistent again.
        auto t = log;
        std::string head = events::genesis_hash();
        for (std::uint64_t seq = 1; seq <= 50'000; ++seq) {
            auto& e = t[at(0, seq)];
            auto body = seq == 40'000 ? e.body + std::string("\x0a\x01x", 3) : e.body;
            auto sealed = events::seal(0, seq, head, body);
            head = sealed.hash;
            e.record = sealed.value;
        }
        auto v = verify(t);
        CHECK(v.valid());
        v.check_extends(*cp);
        expect(v, 0, 50'000, "altered");
        CHECK(v.breaks()[0].detail.find("does not extend checkpoint") != std::string::npos);
    }
    SECTION("the untouched log extends its checkpoint") {
        auto v = verify(log);
        v.check_extends(*cp);
        CHECK(v.valid());
    }
}

TEST_CASE("checkpoint signatures: a changed line or another key is refused", "[audit]") {
    auto keys = events::generate_ed25519();
    auto other = events::generate_ed25519();
    REQUIRE(keys);
    REQUIRE(other);
    auto v = verify(make_log(50));
    auto signed_cp = events::sign_checkpoint(checkpoint_of(v), keys->private_pem);
    REQUIRE(signed_cp);
    CHECK(events::read_checkpoint(signed_cp->text, keys->public_pem));
    CHECK_FALSE(events::read_checkpoint(signed_cp->text, other->public_pem));
    auto changed = signed_cp->text;
    changed.replace(changed.find("partition 0 25"), 14, "partition 0 24");
    CHECK_FALSE(events::read_checkpoint(changed, keys->public_pem));
    CHECK_FALSE(events::read_checkpoint("garbage", keys->public_pem));
    CHECK_FALSE(events::sign_checkpoint(checkpoint_of(v), "not a key"));
}

TEST_CASE("Merkle roots and proofs follow RFC 9162", "[audit][merkle]") {
    std::vector<std::string> leaves;
    for (int i = 0; i < 70; ++i) leaves.push_back(events::sha256("leaf " + std::to_string(i)));
    CHECK(events::merkle_root(leaves, 0) == events::sha256(""));
    for (std::size_t n = 1; n <= leaves.size(); ++n) {
        auto root = events::merkle_root(leaves, n);
        REQUIRE(root == naive_root({leaves.begin(), leaves.begin() + static_cast<long>(n)}));
        for (std::size_t i = 0; i < n; ++i) {
            auto path = events::inclusion_proof(leaves, i, n);
            REQUIRE(events::verify_inclusion(leaves[i], i, n, path, root));
            CHECK_FALSE(events::verify_inclusion(leaves[(i + 1) % leaves.size()], i, n, path, root));
            if (!path.empty()) {
                auto bad = path;
                bad.back()[0] ^= 1;
                CHECK_FALSE(events::verify_inclusion(leaves[i], i, n, bad, root));
            }
        }
        for (std::size_t m = 1; m <= n; ++m) {
            auto old_root = events::merkle_root(leaves, m);
            auto proof = events::consistency_proof(leaves, m, n);
            REQUIRE(events::verify_consistency(m, n, old_root, root, proof));
            if (m < n) {
                CHECK_FALSE(events::verify_consistency(m, n, events::sha256("forged"), root, proof));
                CHECK_FALSE(events::verify_consistency(m, n, old_root, events::sha256("forged"), proof));
            }
        }
    }
}
