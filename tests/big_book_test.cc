// A book of 1,000,000 accounts decided in-process through the processor's own path (overlay over a
// RocksDB store with the bounded cache, decide, evolve, one WriteBatch per batch), with one hot
// account taking every posting. Kafka is left out to keep `make test` fast; the memory bound is the
// point: the book is keyed state on disk, never in memory. Runs in its own ctest process
// (unit.big_book) so its peak RSS is its own.

#include <catch2/catch.hpp>
#include <sys/resource.h>

#include <filesystem>
#include <random>

#include "consumers/command_state.h"
#include "events/codec.h"
#include "projections/store.h"
#include "tests/test_support.h"

using namespace daybook;

namespace {

// Documented in the README: peak resident memory of a process deciding a 1,000,000-account book.
constexpr long peak_rss_bound_kib = 256 * 1024;

long peak_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;  // KiB on Linux
}

v1::CommandEnvelope open_cmd(int i) {
    v1::CommandEnvelope c;
    c.set_command_id("open-" + std::to_string(i));
    auto* p = c.mutable_open_account();
    p->set_book_id("big");
    p->set_account_id(i == 0 ? "fees" : "acct-" + std::to_string(i));
    p->set_name(i == 0 ? "Fee income (hot)" : "Customer " + std::to_string(i));
    p->set_type(i == 0 ? v1::ACCOUNT_TYPE_REVENUE : v1::ACCOUNT_TYPE_ASSET);
    p->set_currency("EUR");
    p->set_scale(2);
    return c;
}

v1::CommandEnvelope fee_cmd(int n, int account) {
    v1::CommandEnvelope c;
    c.set_command_id("fee-" + std::to_string(n));
    auto* p = c.mutable_post_entry();
    p->set_book_id("big");
    p->set_entry_id("F" + std::to_string(n));
    p->set_effective_date("2026-11-01");
    for (int side = 0; side < 2; ++side) {
        auto* l = p->add_legs();
        l->set_account_id(side == 0 ? "acct-" + std::to_string(account) : "fees");
        l->set_side(side == 0 ? v1::SIDE_DEBIT : v1::SIDE_CREDIT);
        l->set_amount_minor(7);
        l->set_currency("EUR");
    }
    return c;
}

}  // namespace

TEST_CASE("a book of 1,000,000 accounts with a hot account stays within its memory bound", "[big-book]") {
    test::temp_dir dir;
    auto opened = projections::store::open(dir.path() + "/processor", projections::store_options{});
    REQUIRE(opened);
    auto& store = **opened;
    constexpr int accounts = 1'000'000, postings = 200'000, batch = 5000;
    std::uint64_t seq = 0;
    std::size_t rejected = 0;
    // One batch as the processor runs it: decide and evolve into an overlay, then one WriteBatch.
    auto run_batch = [&](int from, int to, auto make) {
        projections::overlay state(store, "p/0/");
        for (int i = from; i < to; ++i) {
            auto cmd = make(i);
            consumers::record_context ctx{"big", events::fingerprint_of(cmd), 1'795'000'000'000, "test"};
            for (const auto& rec : consumers::records_for(cmd, ctx, std::nullopt, state)) {
                rejected += rec.has_command_rejected();
                consumers::apply_record(state, 0, ++seq, rec);
            }
        }
        rocksdb::WriteBatch wb;
        state.flush_into(wb);
        store.write(wb);
    };
    for (int i = 0; i < accounts; i += batch) run_batch(i, std::min(i + batch, accounts), open_cmd);
    std::mt19937_64 rng(7);
    for (int n = 0; n < postings; n += batch)
        run_batch(n, n + batch, [&](int k) { return fee_cmd(k, 1 + static_cast<int>(rng() % (accounts - 1))); });

    CHECK(rejected == 0);
    CHECK(seq == static_cast<std::uint64_t>(accounts + postings));
    projections::overlay state(store, "p/0/");
    auto fees = aggregates::ledger::find_account(state, events::book_id{"big"}, events::account_id{"fees"});
    REQUIRE(fees);
    CHECK(fees->credits_minor() == 7LL * postings);
    INFO("peak RSS " << peak_rss_kib() / 1024 << " MiB; bound " << peak_rss_bound_kib / 1024 << " MiB");
    CHECK(peak_rss_kib() < peak_rss_bound_kib);
    std::printf("big book: %d accounts, %d postings to one hot account, peak RSS %ld MiB (bound %ld MiB)\n",
                accounts, postings, peak_rss_kib() / 1024, peak_rss_bound_kib / 1024);
}
