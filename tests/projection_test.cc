// projections/ and consumers/command_state: the ledger read models on a real RocksDB store in a
// temporary directory, the state digest, the store and overlay primitives, and the processor's
// idempotency records built by apply_record.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "consumers/command_state.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "projections/ledger_projection.h"
#include "projections/store.h"
#include "tests/test_support.h"

namespace {

using namespace daybook;
using namespace daybook::test;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
__extension__ typedef __int128 int128;  // the projection's sum type (a GCC extension)
__extension__ typedef unsigned __int128 uint128;

// A store in its own temporary directory; both are gone when it goes out of scope.
class scratch_store {
public:
    scratch_store() {
        projections::store_options o;
        o.cache_bytes = 8u << 20;
        o.write_buffer_bytes = 2u << 20;
        auto opened_store = projections::store::open(dir_.sub("db"), o);
        REQUIRE(opened_store.has_value());
        db_ = std::move(opened_store).value();
    }
    ~scratch_store() { db_.reset(); }  // close before the directory is removed

    projections::store& db() { return *db_; }

    // Applies events as the projector does: one overlay, flushed in one WriteBatch.
    std::vector<bool> apply(const std::vector<v1::EventEnvelope>& envelopes,
                            std::uint32_t partition = 0, std::uint64_t first_seq = 1) {
        projections::overlay rows(*db_, "");
        std::vector<bool> applied;
        for (std::size_t i = 0; i < envelopes.size(); ++i)
            applied.push_back(projections::apply_event(rows, envelopes[i], partition, first_seq + i));
        rocksdb::WriteBatch batch;
        rows.flush_into(batch);
        db_->write(batch);
        return applied;
    }
    bool apply_one(const v1::EventEnvelope& envelope, std::uint32_t partition, std::uint64_t seq) {
        return apply({envelope}, partition, seq).front();
    }

    void put(const std::string& key, const std::string& value) {
        rocksdb::WriteBatch batch;
        REQUIRE(batch.Put(key, value).ok());
        db_->write(batch);
    }

    std::vector<std::string> keys(const std::string& prefix) const {
        std::vector<std::string> out;
        db_->scan(prefix, [&](std::string_view k, std::string_view) {
            out.emplace_back(k);
            return true;
        });
        return out;
    }

private:
    temp_dir dir_;
    std::unique_ptr<projections::store> db_;
};

// Numbers the events of one book as versions 1, 2, ... of its stream.
std::vector<v1::EventEnvelope> stream(const std::vector<ledger::event>& evts) {
    std::vector<v1::EventEnvelope> out;
    for (std::size_t i = 0; i < evts.size(); ++i)
        out.push_back(event_envelope(evts[i], i + 1, "cmd-" + std::to_string(i + 1)));
    return out;
}

template <typename E>
E in_book(E e, const std::string& b) {
    e.book = book_id{b};
    return e;
}

// The book used by most tests: two USD and two EUR accounts, five entries. cash ends with
// lines +100, +50, -30, +5, +6 (running 100, 150, 120, 125, 131).
std::vector<ledger::event> acme_events() {
    return {
        opened("cash"),
        opened("revenue", "USD", account_type::revenue),
        opened("eur_cash", "EUR"),
        opened("eur_revenue", "EUR", account_type::revenue),
        posted("e1", {debit("cash", 100), credit("revenue", 100)}),
        posted("e2", {debit("cash", 50), credit("revenue", 50)}),
        posted("e3", {debit("revenue", 30), credit("cash", 30)}),
        posted("fx", {debit("eur_cash", 70, "EUR"), credit("eur_revenue", 70, "EUR")}),
        posted("e4", {debit("cash", 5), debit("cash", 6), credit("revenue", 11)}),
    };
}

std::string empty_digest() {
    scratch_store empty;
    return projections::state_digest(empty.db());
}

}  // namespace

// ---- Read models ------------------------------------------------------------------------------

TEST_CASE("projected balances, accounts and trial balance", "[projection]") {
    scratch_store s;
    auto applied = s.apply(stream(acme_events()), 4, 1);
    CHECK(applied == std::vector<bool>(9, true));

    SECTION("find_balance") {
        auto cash = projections::find_balance(s.db(), book, "cash");
        REQUIRE(cash.has_value());
        CHECK(cash->book_id() == book);
        CHECK(cash->account_id() == "cash");
        CHECK(cash->name() == "Account");
        CHECK(cash->type() == v1::ACCOUNT_TYPE_ASSET);
        CHECK(cash->currency() == "USD");
        CHECK(cash->scale() == 2);
        CHECK(cash->debits_minor() == 161);
        CHECK(cash->credits_minor() == 30);
        CHECK(cash->entry_count() == 4);       // e1, e2, e3, e4
        CHECK(cash->statement_lines() == 5);   // e4 touches cash twice

        auto revenue = projections::find_balance(s.db(), book, "revenue");
        REQUIRE(revenue.has_value());
        CHECK(revenue->debits_minor() == 30);
        CHECK(revenue->credits_minor() == 161);
        CHECK(revenue->entry_count() == 4);

        CHECK_FALSE(projections::find_balance(s.db(), book, "ghost").has_value());
        CHECK_FALSE(projections::find_balance(s.db(), "other", "cash").has_value());
    }
    SECTION("list_accounts in account id order, this book only") {
        s.apply({event_envelope(in_book(opened("zzz"), "acme2"), 1)});
        auto accounts = projections::list_accounts(s.db(), book);
        std::vector<std::string> ids;
        for (const auto& a : accounts) ids.push_back(a.account_id());
        CHECK(ids == std::vector<std::string>{"cash", "eur_cash", "eur_revenue", "revenue"});
        REQUIRE(projections::list_accounts(s.db(), "acme2").size() == 1);
        CHECK(projections::list_accounts(s.db(), "nobody").empty());
    }
    SECTION("trial_balance: one row per currency, debits equal credits") {
        auto rows = projections::trial_balance(s.db(), book);
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].currency() == "EUR");
        CHECK(rows[0].debits_minor() == "70");
        CHECK(rows[0].credits_minor() == "70");
        CHECK(rows[0].accounts() == 2);
        CHECK(rows[1].currency() == "USD");
        CHECK(rows[1].debits_minor() == "191");
        CHECK(rows[1].credits_minor() == "191");
        CHECK(rows[1].accounts() == 2);
        for (const auto& r : rows) CHECK(r.book_id() == book);
    }
    SECTION("find_entry") {
        auto e2 = projections::find_entry(s.db(), book, "e2");
        REQUIRE(e2.has_value());
        CHECK(e2->partition() == 4);
        CHECK(e2->seq() == 6);
        CHECK(e2->command_id() == "cmd-6");
        CHECK(e2->actor() == "tester");
        CHECK(e2->recorded_at_ms() == 1'700'000'000'000);
        CHECK(e2->entry().entry_id() == "e2");
        REQUIRE(e2->entry().legs_size() == 2);
        CHECK(e2->entry().legs(0).account_id() == "cash");
        CHECK(e2->entry().legs(0).side() == v1::SIDE_DEBIT);
        CHECK(e2->entry().legs(0).amount_minor() == 50);
        CHECK_FALSE(projections::find_entry(s.db(), book, "e9").has_value());
    }
}

TEST_CASE("statements page with running balances", "[projection]") {
    scratch_store s;
    s.apply(stream(acme_events()), 4, 1);

    struct expected_line { std::uint64_t line; const char* entry; v1::Side side; std::int64_t amount, balance; std::uint64_t seq; };
    const std::vector<expected_line> cash = {
        {1, "e1", v1::SIDE_DEBIT, 100, 100, 5}, {2, "e2", v1::SIDE_DEBIT, 50, 150, 6},
        {3, "e3", v1::SIDE_CREDIT, 30, 120, 7}, {4, "e4", v1::SIDE_DEBIT, 5, 125, 9},
        {5, "e4", v1::SIDE_DEBIT, 6, 131, 9},
    };
    auto check_page = [&](std::uint64_t after, std::size_t limit, std::vector<std::uint64_t> want) {
        auto page = projections::statement(s.db(), book, "cash", after, limit);
        INFO("after " << after << " limit " << limit);
        REQUIRE(page.size() == want.size());
        for (std::size_t i = 0; i < page.size(); ++i) {
            const auto& e = cash[want[i] - 1];
            CHECK(page[i].line() == e.line);
            CHECK(page[i].entry_id() == e.entry);
            CHECK(page[i].side() == e.side);
            CHECK(page[i].amount_minor() == e.amount);
            CHECK(page[i].balance_minor() == e.balance);
            CHECK(page[i].partition() == 4);
            CHECK(page[i].seq() == e.seq);
            CHECK(page[i].effective_date() == "2024-03-01");
        }
    };
    check_page(0, 100, {1, 2, 3, 4, 5});
    check_page(0, 2, {1, 2});
    check_page(2, 2, {3, 4});
    check_page(4, 2, {5});
    check_page(5, 2, {});
    check_page(0, 0, {});
    check_page(3, 1, {4});

    SECTION("a credit-normal account runs negative (debits minus credits)") {
        auto rev = projections::statement(s.db(), book, "revenue", 0, 10);
        REQUIRE(rev.size() == 4);
        CHECK(rev[0].balance_minor() == -100);
        CHECK(rev[2].balance_minor() == -120);
        CHECK(rev[3].balance_minor() == -131);
    }
    SECTION("other accounts and books are not mixed in") {
        CHECK(projections::statement(s.db(), book, "cas", 0, 10).empty());
        CHECK(projections::statement(s.db(), "acm", "cash", 0, 10).empty());
        CHECK(projections::statement(s.db(), book, "ghost", 0, 10).empty());
    }
    SECTION("the largest cursor gives no lines") {
        CHECK(projections::statement(s.db(), book, "cash",
                                     std::numeric_limits<std::uint64_t>::max(), 10).empty());
    }
}

TEST_CASE("trial balance sums beyond 64 bits as decimal text", "[projection]") {
    scratch_store s;
    s.apply(stream({opened("a1"), opened("a2"), opened("b1", "USD", account_type::liability),
                    opened("b2", "USD", account_type::liability),
                    posted("x1", {debit("a1", int64_max), credit("b1", int64_max)}),
                    posted("x2", {debit("a2", int64_max), credit("b2", int64_max)})}));
    auto rows = projections::trial_balance(s.db(), book);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].debits_minor() == "18446744073709551614");
    CHECK(rows[0].credits_minor() == "18446744073709551614");
    CHECK(rows[0].accounts() == 4);
}

TEST_CASE("to_decimal and parse_decimal", "[projection]") {
    const int128 max128 = static_cast<int128>(~uint128{0} >> 1);
    const int128 min128 = -max128 - 1;
    CHECK(to_decimal(0) == "0");
    CHECK(to_decimal(7) == "7");
    CHECK(to_decimal(-42) == "-42");
    CHECK(to_decimal(max128) == "170141183460469231731687303715884105727");
    CHECK(to_decimal(min128) == "-170141183460469231731687303715884105728");
    for (int128 v : {int128{0}, int128{1}, int128{-1}, int128{int64_max} * 3, max128,
                       min128 + 1})
        CHECK(parse_decimal(to_decimal(v)) == v);
}

// ---- Deduplication and digests ------------------------------------------------------------------

TEST_CASE("an aggregate version applied before is skipped", "[projection][dedup]") {
    scratch_store s;
    auto envelopes = stream(acme_events());
    s.apply(envelopes, 4, 1);
    const auto digest = projections::state_digest(s.db());
    REQUIRE(digest != empty_digest());

    SECTION("the same event redelivered, in a later batch") {
        CHECK_FALSE(s.apply_one(envelopes.back(), 4, 9));
        CHECK(projections::state_digest(s.db()) == digest);
        CHECK(projections::find_balance(s.db(), book, "cash")->statement_lines() == 5);
    }
    SECTION("an older version") {
        CHECK_FALSE(s.apply_one(envelopes[4], 4, 5));
        CHECK(projections::state_digest(s.db()) == digest);
    }
    SECTION("the same event twice in one batch") {
        auto next = event_envelope(posted("e5", {debit("cash", 1), credit("revenue", 1)}), 10);
        CHECK(s.apply({next, next}, 4, 10) == std::vector<bool>{true, false});
        CHECK(projections::state_digest(s.db()) != digest);
        CHECK(projections::find_balance(s.db(), book, "cash")->debits_minor() == 162);
        CHECK(projections::find_balance(s.db(), book, "cash")->statement_lines() == 6);
    }
    SECTION("a command_rejected record (version 0) changes no row") {
        v1::EventEnvelope rejected;
        rejected.set_recorded_at_ms(1);
        rejected.mutable_command_rejected()->set_command_id("c-9");
        projections::overlay rows(s.db(), "");
        CHECK(projections::apply_event(rows, rejected, 4, 10));
        CHECK(rows.empty());
    }
}

TEST_CASE("the state digest", "[projection][digest]") {
    scratch_store a, b;
    a.apply(stream(acme_events()), 4, 1);
    b.apply(stream(acme_events()), 4, 1);
    const auto digest = projections::state_digest(a.db());
    CHECK(digest.size() == 64);

    SECTION("two stores built from the same events agree") {
        CHECK(projections::state_digest(b.db()) == digest);
        CHECK(digest != empty_digest());
    }
    SECTION("it does not depend on how the events were cut into batches") {
        scratch_store c;
        auto envelopes = stream(acme_events());
        for (std::size_t i = 0; i < envelopes.size(); ++i) c.apply_one(envelopes[i], 4, i + 1);
        CHECK(projections::state_digest(c.db()) == digest);
    }
    SECTION("it does not depend on how RocksDB laid the rows out in files (after a full compaction)") {
        scratch_store c;
        auto envelopes = stream(acme_events());
        for (std::size_t i = 0; i < envelopes.size(); ++i) {
            c.apply_one(envelopes[i], 4, i + 1);
            c.db().compact();  // many small files, then one
        }
        CHECK(projections::state_digest(c.db()) == digest);
    }
    SECTION("a different amount gives a different digest") {
        auto evts = acme_events();
        evts[4] = posted("e1", {debit("cash", 101), credit("revenue", 101)});
        scratch_store c;
        c.apply(stream(evts), 4, 1);
        CHECK(projections::state_digest(c.db()) != digest);
    }
    SECTION("a different position in the log gives a different digest") {
        scratch_store c;
        c.apply(stream(acme_events()), 5, 1);
        CHECK(projections::state_digest(c.db()) != digest);
    }
    SECTION("bookkeeping rows are not covered") {
        b.put(projections::position_key(4), "position");
        b.put(projections::stop_key(4), "stopped: hash mismatch");
        b.put("meta/cluster", "abc");
        REQUIRE(b.keys("pos/").size() == 1);
        REQUIRE(b.keys("stop/").size() == 1);
        CHECK(projections::state_digest(b.db()) == digest);
    }
    SECTION("projection rows are covered") {
        for (const char* key : {"bal/x", "entry/x", "stmt/x", "tb/x", "ver/x"}) {
            scratch_store c;
            c.apply(stream(acme_events()), 4, 1);
            c.put(key, "v");
            INFO("extra row " << key);
            CHECK(projections::state_digest(c.db()) != digest);
        }
    }
    SECTION("books on different partitions: the interleaving does not matter") {
        auto acme = stream(acme_events());
        std::vector<v1::EventEnvelope> globex;
        std::uint64_t version = 0;
        for (auto e : acme_events()) {
            std::visit([](auto& x) { x.book = book_id{"globex"}; }, e);
            ++version;
            globex.push_back(event_envelope(e, version, "g-" + std::to_string(version)));
        }
        scratch_store first, second;
        // first: all of acme (partition 1), then all of globex (partition 2).
        for (std::size_t i = 0; i < acme.size(); ++i) first.apply_one(acme[i], 1, i + 1);
        for (std::size_t i = 0; i < globex.size(); ++i) first.apply_one(globex[i], 2, i + 1);
        // second: alternating.
        for (std::size_t i = 0; i < acme.size(); ++i) {
            second.apply_one(globex[i], 2, i + 1);
            second.apply_one(acme[i], 1, i + 1);
        }
        CHECK(projections::state_digest(first.db()) == projections::state_digest(second.db()));
        CHECK(projections::list_accounts(first.db(), "globex").size() == 4);
    }
}

// ---- Store and overlay --------------------------------------------------------------------------

TEST_CASE("store::erase_prefix deletes exactly the keys with the prefix", "[store]") {
    scratch_store s;
    for (std::string k : {std::string("a/"), std::string("a/1"), std::string("a/2"),
                          std::string("a0"), std::string("a"), std::string("b/1"), std::string("x\xfe"),
                          std::string("x\xff"), std::string("x\xff\x01"), std::string("y")})
        s.put(k, "v");
    s.db().erase_prefix("a/");
    CHECK(s.keys("a").size() == 2);  // "a" and "a0" remain
    CHECK_FALSE(s.db().get("a/").has_value());
    CHECK_FALSE(s.db().get("a/1").has_value());
    CHECK(s.db().get("a0").has_value());
    CHECK(s.db().get("a").has_value());
    CHECK(s.db().get("b/1").has_value());

    s.db().erase_prefix(std::string("x\xff"));
    CHECK(s.db().get(std::string("x\xfe")).has_value());
    CHECK_FALSE(s.db().get(std::string("x\xff")).has_value());
    CHECK_FALSE(s.db().get(std::string("x\xff\x01")).has_value());
    CHECK(s.db().get("y").has_value());
}

TEST_CASE("store::scan honours prefix, start and early stop", "[store]") {
    scratch_store s;
    for (std::string k : {"p/1", "p/2", "p/3", "q/1"}) s.put(k, "v" + k.substr(2));
    CHECK(s.keys("p/") == std::vector<std::string>{"p/1", "p/2", "p/3"});
    std::vector<std::string> seen;
    s.db().scan("p/", [&](std::string_view k, std::string_view v) {
        seen.emplace_back(std::string(k) + "=" + std::string(v));
        return seen.size() < 2;
    });
    CHECK(seen == std::vector<std::string>{"p/1=v1", "p/2=v2"});
    seen.clear();
    s.db().scan("p/", [&](std::string_view k, std::string_view) {
        seen.emplace_back(k);
        return true;
    }, "p/2");
    CHECK(seen == std::vector<std::string>{"p/2", "p/3"});
}

TEST_CASE("an overlay reads its own writes and forgets them on clear", "[store][overlay]") {
    scratch_store s;
    s.put("p/base", "stored");
    projections::overlay o(s.db(), "p/");
    CHECK(o.empty());
    CHECK(o.get("base") == std::optional<std::string>("stored"));  // reads through, under the prefix
    CHECK_FALSE(o.get("p/base").has_value());

    o.put("k", "1");
    o.put("base", "shadowed");
    CHECK_FALSE(o.empty());
    CHECK(o.get("k") == std::optional<std::string>("1"));
    CHECK(o.get("base") == std::optional<std::string>("shadowed"));
    CHECK_FALSE(s.db().get("p/k").has_value());  // nothing written yet

    SECTION("clear drops the pending writes") {
        o.clear();
        CHECK(o.empty());
        CHECK_FALSE(o.get("k").has_value());
        CHECK(o.get("base") == std::optional<std::string>("stored"));
    }
    SECTION("flush_into writes them under the prefix, in one batch") {
        rocksdb::WriteBatch batch;
        o.flush_into(batch);
        CHECK(o.empty());
        CHECK(batch.Count() == 2);
        CHECK_FALSE(s.db().get("p/k").has_value());
        s.db().write(batch);
        CHECK(s.db().get("p/k") == std::optional<std::string>("1"));
        CHECK(s.db().get("p/base") == std::optional<std::string>("shadowed"));
        CHECK(o.get("k") == std::optional<std::string>("1"));  // now read through
    }
}

TEST_CASE("be64 sorts numerically and round-trips", "[store]") {
    CHECK(projections::be64(1) < projections::be64(2));
    CHECK(projections::be64(255) < projections::be64(256));
    CHECK(projections::be64(0x0102030405060708ull) == std::string("\x01\x02\x03\x04\x05\x06\x07\x08"));
    CHECK(projections::be32(0x01020304u) == std::string("\x01\x02\x03\x04"));
    for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1} << 40,
                            std::numeric_limits<std::uint64_t>::max()})
        CHECK(projections::read_be64(projections::be64(v)) == v);
}

// ---- The processor's per-partition state --------------------------------------------------------

namespace {

constexpr std::int64_t now_ms = 1'709'251'200'000;  // 2024-03-01T00:00:00Z

// What the processor adds to a decided envelope before sealing it.
v1::EventEnvelope stamped(v1::EventEnvelope env, const v1::CommandEnvelope& cmd,
                          std::uint64_t version, std::uint32_t index = 0, std::uint32_t count = 1) {
    env.set_version(version);
    env.set_command_id(cmd.command_id());
    env.set_command_fingerprint(events::fingerprint_of(cmd));
    env.set_routing_key(events::routing_key_of(cmd));
    env.set_recorded_at_ms(now_ms);
    env.set_index_in_command(index);
    env.set_events_in_command(count);
    return env;
}

// The command_rejected record the processor writes for a refused command.
v1::EventEnvelope rejected_record(const v1::CommandEnvelope& cmd, const rejection& r) {
    v1::EventEnvelope env;
    env.set_recorded_at_ms(now_ms + 5);
    env.set_command_id(cmd.command_id());
    env.set_routing_key(events::routing_key_of(cmd));
    auto* p = env.mutable_command_rejected();
    p->set_command_id(cmd.command_id());
    p->set_fingerprint(events::fingerprint_of(cmd));
    p->set_code(static_cast<std::uint32_t>(r.code));
    p->set_code_name(std::string(name_of(r.code)));
    p->set_field(r.field);
    p->set_detail(r.detail);
    p->set_routing_key(events::routing_key_of(cmd));
    return env;
}

}  // namespace

TEST_CASE("decide_command and apply_record keep idempotency records", "[consumers][idempotency]") {
    events::memory_state state;

    // Command 1: open cash.
    auto open_cmd = command_envelope(open_acct("cash"), "c-1");
    auto decided = consumers::decide_command(open_cmd, state, now_ms);
    REQUIRE(decided.has_value());
    REQUIRE(decided->size() == 1);
    CHECK(decided->front().stream_id() == "book/acme");
    CHECK(decided->front().effective_date() == "2024-03-01");
    CHECK(decided->front().has_account_opened());
    CHECK(state.rows().empty());  // deciding only reads
    consumers::apply_record(state, 3, 1, stamped(decided->front(), open_cmd, 1));

    SECTION("an accepted command: fingerprint and outcome with its event") {
        auto rec = consumers::find_command(state, "acme", "c-1");
        REQUIRE(rec.has_value());
        CHECK(rec->fingerprint() == events::fingerprint_of(open_cmd));
        CHECK(rec->fingerprint().size() == 32);
        const auto& o = rec->outcome();
        CHECK(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
        CHECK(o.command_id() == "c-1");
        CHECK(o.routing_key() == "acme");
        CHECK(o.recorded_at_ms() == now_ms);
        CHECK(o.code() == 0);
        REQUIRE(o.events_size() == 1);
        CHECK(o.events(0).partition() == 3);
        CHECK(o.events(0).seq() == 1);
        CHECK(events::token_of(o) == "3:1");

        CHECK(consumers::stream_version(state, "book/acme") == 1);
        CHECK(ledger::find_account(state, book_id{book}, account_id{"cash"}).has_value());
        CHECK_FALSE(consumers::find_command(state, "acme", "c-2").has_value());
        CHECK_FALSE(consumers::find_command(state, "other", "c-1").has_value());
    }
    SECTION("a rejected command: outcome with its code, and no stream version") {
        auto bad = command_envelope(post("e1", {debit("cash", 5), credit("ghost", 5)}), "c-2");
        auto refused = consumers::decide_command(bad, state, now_ms);
        REQUIRE_REJECTED(refused, rejection_code::account_not_found,
                         "post_entry.legs[1].account_id");
        consumers::apply_record(state, 3, 2, rejected_record(bad, refused.error()));

        auto rec = consumers::find_command(state, "acme", "c-2");
        REQUIRE(rec.has_value());
        CHECK(rec->fingerprint() == events::fingerprint_of(bad));
        const auto& o = rec->outcome();
        CHECK(o.status() == v1::OUTCOME_STATUS_REJECTED);
        CHECK(o.code() == 1013);
        CHECK(o.code_name() == "account_not_found");
        CHECK(o.field() == "post_entry.legs[1].account_id");
        CHECK(o.detail() == refused.error().detail);
        CHECK(o.command_id() == "c-2");
        CHECK(o.routing_key() == "acme");
        CHECK(o.recorded_at_ms() == now_ms + 5);
        REQUIRE(o.events_size() == 1);
        CHECK(o.events(0).partition() == 3);
        CHECK(o.events(0).seq() == 2);
        CHECK(consumers::stream_version(state, "book/acme") == 1);  // unchanged
        CHECK_FALSE(ledger::entry_exists(state, book_id{book}, entry_id{"e1"}));
    }
    SECTION("a posted entry carries its effective date; a second event of a command adds a ref") {
        consumers::apply_record(
            state, 3, 2,
            stamped(consumers::decide_command(command_envelope(open_acct("revenue", "USD",
                                                                         account_type::revenue),
                                                               "c-2"),
                                              state, now_ms)
                        .value()
                        .front(),
                    command_envelope(open_acct("revenue", "USD", account_type::revenue), "c-2"),
                    2));
        auto cmd = command_envelope(post("e1", {debit("cash", 5), credit("revenue", 5)},
                                         "2023-12-31"),
                                    "c-3");
        auto posted_env = consumers::decide_command(cmd, state, now_ms);
        REQUIRE(posted_env.has_value());
        REQUIRE(posted_env->size() == 1);
        CHECK(posted_env->front().effective_date() == "2023-12-31");
        CHECK(posted_env->front().stream_id() == "book/acme");
        consumers::apply_record(state, 3, 3, stamped(posted_env->front(), cmd, 3, 0, 2));
        consumers::apply_record(state, 3, 4, stamped(posted_env->front(), cmd, 4, 1, 2));

        auto rec = consumers::find_command(state, "acme", "c-3");
        REQUIRE(rec.has_value());
        REQUIRE(rec->outcome().events_size() == 2);
        CHECK(rec->outcome().events(0).seq() == 3);
        CHECK(rec->outcome().events(1).seq() == 4);
        CHECK(consumers::stream_version(state, "book/acme") == 4);
        CHECK(ledger::entry_exists(state, book_id{book}, entry_id{"e1"}));
    }
    SECTION("a command without payload is refused by decide_command") {
        v1::CommandEnvelope empty;
        empty.set_command_id("c-9");
        auto refused = consumers::decide_command(empty, state, now_ms);
        REQUIRE_REJECTED(refused, rejection_code::payload_missing, "payload");
    }
}

TEST_CASE("the processor state through an overlay survives a flush", "[consumers][overlay]") {
    scratch_store s;
    const std::string prefix = "p/" + projections::be32(3) + "/";
    auto cmd = command_envelope(open_acct("cash"), "c-1");
    {
        projections::overlay state(s.db(), prefix);
        auto decided = consumers::decide_command(cmd, state, now_ms);
        REQUIRE(decided.has_value());
        consumers::apply_record(state, 3, 1, stamped(decided->front(), cmd, 1));
        v1::PartitionPosition pos;
        pos.set_seq(1);
        pos.set_head(events::genesis_hash());
        pos.set_next_offset(17);
        consumers::write_position(state, pos);
        rocksdb::WriteBatch batch;
        state.flush_into(batch);
        s.db().write(batch);
    }
    projections::overlay reopened(s.db(), prefix);
    auto rec = consumers::find_command(reopened, "acme", "c-1");
    REQUIRE(rec.has_value());
    CHECK(rec->outcome().status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto pos = consumers::read_position(reopened);
    CHECK(pos.seq() == 1);
    CHECK(pos.next_offset() == 17);
    CHECK(pos.head() == events::genesis_hash());
    CHECK(consumers::stream_version(reopened, "book/acme") == 1);

    // Another partition's prefix sees none of it.
    projections::overlay other(s.db(), "p/" + projections::be32(4) + "/");
    CHECK_FALSE(consumers::find_command(other, "acme", "c-1").has_value());
    CHECK(consumers::read_position(other).seq() == 0);

    // The whole partition is erased by its prefix.
    s.db().erase_prefix(prefix);
    CHECK(s.keys("p/").empty());
}

TEST_CASE("rejected_outcome and utc_date", "[consumers]") {
    v1::CommandRejected r;
    r.set_command_id("c-1");
    r.set_routing_key("acme");
    r.set_code(1015);
    r.set_code_name("entry_unbalanced");
    r.set_field("post_entry.legs");
    r.set_detail("debits and credits in USD differ by 1 minor units");
    auto o = consumers::rejected_outcome(r, 42);
    CHECK(o.status() == v1::OUTCOME_STATUS_REJECTED);
    CHECK(o.command_id() == "c-1");
    CHECK(o.routing_key() == "acme");
    CHECK(o.code() == 1015);
    CHECK(o.code_name() == "entry_unbalanced");
    CHECK(o.field() == "post_entry.legs");
    CHECK(o.detail() == r.detail());
    CHECK(o.recorded_at_ms() == 42);
    CHECK(o.events_size() == 0);

    CHECK(consumers::utc_date(0) == "1970-01-01");
    CHECK(consumers::utc_date(951'782'400'000) == "2000-02-29");
    CHECK(consumers::utc_date(951'868'799'999) == "2000-02-29");
    CHECK(consumers::utc_date(951'868'800'000) == "2000-03-01");
    CHECK(consumers::utc_date(-1) == "1969-12-31");
    CHECK(consumers::utc_date(now_ms) == "2024-03-01");
}

// ---- records_for: what a command leaves in its events partition ----------------------------------

namespace {

consumers::record_context context_for(const v1::CommandEnvelope& cmd) {
    return consumers::record_context{events::routing_key_of(cmd), events::fingerprint_of(cmd),
                                     now_ms, "daybook test"};
}

}  // namespace

TEST_CASE("records_for stamps accepted commands and numbers their versions", "[consumers][records]") {
    events::memory_state state;
    std::uint64_t seq = 0;
    for (auto cmd : {command_envelope(open_acct("cash"), "c-1"),
                     command_envelope(open_acct("revenue", "USD", account_type::revenue), "c-2")}) {
        auto records = consumers::records_for(cmd, context_for(cmd), std::nullopt, state);
        REQUIRE(records.size() == 1);
        consumers::apply_record(state, 0, ++seq, records.front());
    }
    REQUIRE(consumers::stream_version(state, "book/acme") == 2);

    auto cmd = command_envelope(post("e1", {debit("cash", 5), credit("revenue", 5)}, "2023-12-31"),
                                "c-3");
    cmd.set_correlation_id("corr");
    cmd.set_causation_event_id("cause");
    cmd.set_actor("alice");
    auto records = consumers::records_for(cmd, context_for(cmd), std::nullopt, state);
    REQUIRE(records.size() == 1);
    const auto& r = records.front();
    CHECK(r.has_entry_posted());
    CHECK(r.stream_id() == "book/acme");
    CHECK(r.version() == 3);  // after the two accounts
    CHECK(r.schema_version() == 1);
    CHECK(r.command_id() == "c-3");
    CHECK(r.command_fingerprint() == events::fingerprint_of(cmd));
    CHECK(r.routing_key() == "acme");
    CHECK(r.correlation_id() == "corr");
    CHECK(r.causation_event_id() == "cause");
    CHECK(r.actor() == "alice");
    CHECK(r.source() == "client");  // a command without a source
    CHECK(r.software_version() == "daybook test");
    CHECK(r.recorded_at_ms() == now_ms);
    CHECK(r.effective_date() == "2023-12-31");
    CHECK(r.index_in_command() == 0);
    CHECK(r.events_in_command() == 1);
    auto back = events::ledger_event_of(r);
    REQUIRE(back.has_value());
    CHECK(*back == ledger::event{posted_from(post("e1", {debit("cash", 5), credit("revenue", 5)},
                                                  "2023-12-31"))});
}

TEST_CASE("records_for turns a rejection into one command_rejected record", "[consumers][records]") {
    events::memory_state state;
    auto cmd = command_envelope(open_acct("cash"), "c-1");
    cmd.set_source("import");
    auto ctx = context_for(cmd);

    SECTION("a rejection found before deciding: the command is not decided") {
        rejection refused{rejection_code::wrong_partition, "partition", std::string(5000, 'd')};
        auto records = consumers::records_for(cmd, ctx, refused, state);
        REQUIRE(records.size() == 1);
        const auto& r = records.front();
        REQUIRE(r.has_command_rejected());
        CHECK(r.version() == 0);
        CHECK(r.stream_id().empty());
        CHECK(r.source() == "import");
        CHECK(r.effective_date() == "2024-03-01");
        CHECK(r.events_in_command() == 1);
        const auto& cr = r.command_rejected();
        CHECK(cr.command_id() == "c-1");
        CHECK(cr.fingerprint() == ctx.fingerprint);
        CHECK(cr.code() == static_cast<std::uint32_t>(rejection_code::wrong_partition));
        CHECK(cr.code_name() == "wrong_partition");
        CHECK(cr.field() == "partition");
        CHECK(cr.detail().size() == 2000);  // bounded
        CHECK(cr.routing_key() == "acme");
    }
    SECTION("a rejection by the decider") {
        auto bad = command_envelope(open_acct("cash", "usd"), "c-2");
        auto records = consumers::records_for(bad, context_for(bad), std::nullopt, state);
        REQUIRE(records.size() == 1);
        REQUIRE(records.front().has_command_rejected());
        CHECK(records.front().command_rejected().code() ==
              static_cast<std::uint32_t>(rejection_code::currency_invalid));
        CHECK(records.front().command_rejected().field() == "open_account.currency");

        consumers::apply_record(state, 1, 1, records.front());
        auto rec = consumers::find_command(state, "acme", "c-2");
        REQUIRE(rec.has_value());
        CHECK(rec->outcome().status() == v1::OUTCOME_STATUS_REJECTED);
        CHECK(rec->outcome().code_name() == "currency_invalid");
        CHECK(consumers::stream_version(state, "book/acme") == 0);
    }
}

TEST_CASE("commands through sealing into processor state and projections agree", "[consumers][pipeline]") {
    // The processor's path (decide, seal) and both readers of the log (processor restore,
    // projector) on one partition: balances in the projection equal the decider's state.
    events::memory_state state;
    scratch_store s;
    std::string head = events::genesis_hash();
    std::uint64_t seq = 0;
    std::size_t rejected = 0;
    auto submit = [&](const events::ledger_command& c, const std::string& id) {
        auto cmd = command_envelope(c, id);
        for (const auto& env : consumers::records_for(cmd, context_for(cmd), std::nullopt, state)) {
            auto sealed = events::seal(7, ++seq, head, events::serialize(env));
            head = sealed.hash;
            auto read = events::read_sealed(7, sealed.value);
            REQUIRE(read.has_value());
            consumers::apply_record(state, 7, seq, read->envelope);
            REQUIRE(s.apply_one(read->envelope, 7, seq));
            rejected += read->envelope.has_command_rejected();
        }
    };
    submit(open_acct("cash"), "c1");
    submit(open_acct("revenue", "USD", account_type::revenue), "c2");
    submit(open_acct("cash"), "c3");                                                // rejected
    submit(post("e1", {debit("cash", 500), credit("revenue", 500)}), "c4");
    submit(post("e1", {debit("cash", 1), credit("revenue", 1)}), "c5");             // rejected
    submit(post("e2", {debit("revenue", 120), credit("cash", 120)}), "c6");
    submit(post("e3", {debit("cash", 1), credit("ghost", 1)}), "c7");              // rejected
    CHECK(seq == 7);
    CHECK(rejected == 3);

    for (const char* account : {"cash", "revenue"}) {
        auto decided = ledger::find_account(state, book_id{book}, account_id{account});
        auto projected = projections::find_balance(s.db(), book, account);
        REQUIRE(decided.has_value());
        REQUIRE(projected.has_value());
        CHECK(projected->debits_minor() == decided->debits_minor());
        CHECK(projected->credits_minor() == decided->credits_minor());
    }
    CHECK(projections::find_balance(s.db(), book, "cash")->debits_minor() == 500);
    CHECK(projections::find_balance(s.db(), book, "cash")->credits_minor() == 120);
    CHECK(consumers::stream_version(state, "book/acme") == 4);

    auto c5 = consumers::find_command(state, "acme", "c5");
    REQUIRE(c5.has_value());
    CHECK(c5->outcome().code_name() == "entry_exists_with_different_legs");
    CHECK(events::token_of(c5->outcome()) == "7:5");
    auto c6 = consumers::find_command(state, "acme", "c6");
    REQUIRE(c6.has_value());
    CHECK(c6->outcome().status() == v1::OUTCOME_STATUS_ACCEPTED);
    CHECK(events::token_of(c6->outcome()) == "7:6");
    auto e2 = projections::find_entry(s.db(), book, "e2");
    REQUIRE(e2.has_value());
    CHECK(e2->seq() == 6);
    CHECK(e2->command_id() == "c6");
}
