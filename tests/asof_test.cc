// Balances as of an effective date, against an independent computation over a seeded random
// history with backdated entries.

#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "events/codec.h"
#include "events/ledger_codec.h"
#include "projections/ledger_projection.h"
#include "tests/test_support.h"

using namespace daybook;

TEST_CASE("balances as of any date equal a direct sum over a random backdated history", "[projection][as-of]") {
    auto seed = GENERATE(1u, 2u, 3u);
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    test::temp_dir dir;
    auto opened = projections::store::open(dir.path() + "/p", {});
    REQUIRE(opened);
    projections::overlay rows(**opened, "");
    const std::vector<std::string> accounts{"a", "b", "c", "d"};
    std::uint64_t seq = 0, version = 0;
    auto apply = [&](const events::ledger_event& e) {
        v1::EventEnvelope env;
        env.set_stream_id("book/acme");
        env.set_version(++version);
        events::set_payload(env, e);
        REQUIRE(projections::apply_event(rows, env, 0, ++seq));
    };
    for (const auto& a : accounts) apply(test::opened(a));
    struct posted_leg { std::string account, date; bool debit; std::int64_t amount; };
    std::vector<posted_leg> history;
    auto date = [&] {
        char buf[11];
        std::snprintf(buf, sizeof buf, "2025-%02u-%02u", static_cast<unsigned>(1 + rng() % 12), static_cast<unsigned>(1 + rng() % 28));
        return std::string(buf);
    };
    for (int i = 0; i < 600; ++i) {
        auto d = date();  // arrival order is random: many entries are backdated
        auto from = accounts[rng() % 4], to = accounts[rng() % 4];
        if (from == to) continue;
        std::int64_t amount = 1 + rng() % 10000;
        apply(events::entry_posted{events::book_id{"acme"}, events::entry_id{"e" + std::to_string(i)}, d, "",
                                   {test::debit(from, amount), test::credit(to, amount)}, {}});
        history.push_back({from, d, true, amount});
        history.push_back({to, d, false, amount});
    }
    rocksdb::WriteBatch batch;
    rows.flush_into(batch);
    (*opened)->write(batch);
    for (int probe = 0; probe < 60; ++probe) {
        auto from = probe % 3 == 0 ? std::string() : date();
        auto to = probe % 5 == 0 ? std::string() : date();
        if (!from.empty() && !to.empty() && from > to) std::swap(from, to);
        std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected;
        for (const auto& h : history)
            if ((from.empty() || h.date >= from) && (to.empty() || h.date <= to))
                (h.debit ? expected[h.account].first : expected[h.account].second) += h.amount;
        auto got = projections::movements(**opened, "acme", from, to);
        INFO("from '" << from << "' to '" << to << "'");
        for (const auto& a : accounts) {
            CHECK(static_cast<std::int64_t>(got[a].debits) == expected[a].first);
            CHECK(static_cast<std::int64_t>(got[a].credits) == expected[a].second);
        }
    }
}
