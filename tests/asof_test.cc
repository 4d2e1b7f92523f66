// Balances as of an effective date, against an independent computation over a seeded random
// history with backdated entries.

#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "events/codec.h"
#include "aggregates/validation.h"
#include "events/int128.h"
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

TEST_CASE("balances as known at any time equal a direct sum over what had been recorded by then", "[projection][known-at]") {
    auto seed = GENERATE(4u, 5u, 6u);
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    test::temp_dir dir;
    auto opened = projections::store::open(dir.path() + "/p", {});
    REQUIRE(opened);
    projections::overlay rows(**opened, "");
    std::uint64_t seq = 0, version = 0;
    std::int64_t now = 1'750'000'000'000;  // recorded_at never decreases within a partition; often equal
    auto apply = [&](const events::ledger_event& e) {
        v1::EventEnvelope env;
        env.set_stream_id("book/acme");
        env.set_version(++version);
        now += rng() % 3 == 0 ? 0 : 1 + rng() % 5000;
        env.set_recorded_at_ms(now);
        events::set_payload(env, e);
        REQUIRE(projections::apply_event(rows, env, 0, ++seq));
    };
    std::vector<std::string> accounts;
    std::map<std::string, std::int64_t> opened_at;
    struct posted_leg { std::string account, date; bool debit; std::int64_t amount, recorded_at; };
    std::vector<posted_leg> history;
    auto date = [&] {
        char buf[11];
        std::snprintf(buf, sizeof buf, "2025-%02u-%02u", static_cast<unsigned>(1 + rng() % 12), static_cast<unsigned>(1 + rng() % 28));
        return std::string(buf);
    };
    const std::int64_t start = now;
    for (int i = 0; i < 800; ++i) {
        if (accounts.size() < 2 || (accounts.size() < 6 && rng() % 50 == 0)) {  // accounts open as time goes on
            accounts.push_back("a" + std::to_string(accounts.size()));
            apply(test::opened(accounts.back()));
            opened_at[accounts.back()] = now;
            continue;
        }
        auto from = accounts[rng() % accounts.size()], to = accounts[rng() % accounts.size()];
        if (from == to) continue;
        std::int64_t amount = 1 + rng() % 10000;
        auto d = date();  // backdated and postdated at random
        apply(events::entry_posted{events::book_id{"acme"}, events::entry_id{"e" + std::to_string(i)}, d, "",
                                   {test::debit(from, amount), test::credit(to, amount)}, {}});
        history.push_back({from, d, true, amount, now});
        history.push_back({to, d, false, amount, now});
    }
    rocksdb::WriteBatch batch;
    rows.flush_into(batch);
    (*opened)->write(batch);
    for (int probe = 0; probe < 80; ++probe) {
        // Known-at times before, at and between recordings, and after the last one.
        std::int64_t known = probe == 0 ? start - 1 : probe == 1 ? now + 1 : start + static_cast<std::int64_t>(rng() % (now - start + 1));
        if (probe % 4 == 2 && !history.empty()) known = history[rng() % history.size()].recorded_at;  // exactly a recording time
        auto as_of = probe % 3 == 0 ? std::string() : date();
        std::map<std::string, std::pair<std::int64_t, std::int64_t>> expected;
        for (const auto& h : history)
            if (h.recorded_at <= known && (as_of.empty() || h.date <= as_of))
                (h.debit ? expected[h.account].first : expected[h.account].second) += h.amount;
        auto got = projections::accounts_as_of(**opened, "acme", as_of, known);
        INFO("as_of '" << as_of << "' known_at " << known);
        std::size_t open_then = 0;
        for (const auto& [a, t] : opened_at) open_then += t <= known;
        REQUIRE(got.size() == open_then);
        std::map<std::string, std::pair<int128, int128>> by_currency;
        for (const auto& acc : got) {
            CHECK(opened_at[acc.account_id()] <= known);
            CHECK(acc.debits_minor() == expected[acc.account_id()].first);
            CHECK(acc.credits_minor() == expected[acc.account_id()].second);
        }
        if (!got.empty()) {
            auto tb = projections::trial_balance_of(got);
            REQUIRE(tb.size() == 1);
            CHECK(tb[0].debits_minor() == tb[0].credits_minor());  // every entry known then balances
        }
    }
}

TEST_CASE("known-at moments are read from dates, UTC times and epoch milliseconds", "[known-at]") {
    CHECK(aggregates::parse_instant("1970-01-01") == 86'400'000 - 1);
    CHECK(aggregates::parse_instant("2026-07-02T00:00:00Z") == 1'782'950'400'000);
    CHECK(aggregates::parse_instant("2026-07-02T13:45:07.250Z") == 1'782'950'400'000 + ((13 * 60 + 45) * 60 + 7) * 1000LL + 250);
    CHECK(aggregates::parse_instant("1782950400000") == 1'782'950'400'000);
    for (const char* bad : {"", "2026-02-30", "2026-07-02T24:00:00Z", "2026-07-02T10:00:00", "2026-07-02T10:00:00+02:00",
                            "2026-07-02T10:00:00.5Z", "2026-07-02 10:00:00Z", "-5", "yesterday"})
        CHECK_FALSE(aggregates::parse_instant(bad).has_value());
}

TEST_CASE("after a year-end closing the income statement of the year still shows its income; the balance sheet holds it in equity",
          "[projection][year-end]") {
    test::temp_dir dir;
    auto opened = projections::store::open(dir.path() + "/p", {});
    REQUIRE(opened);
    projections::overlay rows(**opened, "");
    std::uint64_t seq = 0;
    auto apply = [&](const events::ledger_event& e) {
        v1::EventEnvelope env;
        env.set_stream_id("book/acme");
        env.set_version(seq + 1);
        env.set_recorded_at_ms(1'750'000'000'000 + static_cast<std::int64_t>(seq));
        events::set_payload(env, e);
        REQUIRE(projections::apply_event(rows, env, 0, ++seq));
    };
    apply(test::opened("cash"));
    apply(test::opened("sales", "USD", events::account_type::revenue));
    apply(test::opened("rent", "USD", events::account_type::expense));
    apply(test::opened("retained", "USD", events::account_type::equity));
    auto entry = [](std::string id, std::string date, std::vector<events::leg> legs, bool closing = false) {
        return events::entry_posted{events::book_id{"acme"}, events::entry_id{std::move(id)}, std::move(date), "", std::move(legs), {}, false, closing};
    };
    apply(entry("s1", "2025-03-01", {test::debit("cash", 1000), test::credit("sales", 1000)}));
    apply(entry("r1", "2025-04-01", {test::debit("rent", 300), test::credit("cash", 300)}));
    apply(entry("close", "2025-12-31", {test::debit("sales", 1000), test::credit("rent", 300), test::credit("retained", 700)}, true));
    apply(entry("s2", "2026-01-05", {test::debit("cash", 50), test::credit("sales", 50)}));
    rocksdb::WriteBatch batch;
    rows.flush_into(batch);
    (*opened)->write(batch);

    auto year = projections::income_statement(**opened, "acme", "2025-01-01", "2025-12-31");
    REQUIRE(year.size() == 1);
    CHECK(year[0].revenue == 1000);
    CHECK(year[0].expenses == 300);
    auto next = projections::income_statement(**opened, "acme", "2026-01-01", "2026-12-31");
    REQUIRE(next.size() == 1);
    CHECK(next[0].revenue == 50);
    CHECK(next[0].expenses == 0);
    auto sheet = projections::balance_sheet(**opened, "acme", "2025-12-31");
    REQUIRE(sheet.size() == 1);
    CHECK(sheet[0].equity == 700);
    CHECK(sheet[0].net_income == 0);  // closed into equity
    CHECK(sheet[0].balanced);
    auto view = projections::find_entry(**opened, "acme", "close");
    REQUIRE(view);
    CHECK(view->entry().closing());
}
