// Period sealing through the real broker: invoices of November are issued while no process
// manager runs, so their ledger postings are still owed when the period is closed. The closer
// (`daybook close-period`) closes, waits for the process managers (started later) and the
// projector, and seals; the postings land in the closed period after the close and before the
// seal, the seal checks out by replay (`daybook audit seals`), and afterwards nothing enters the
// period. Known-at: the trial balance as known just before the postings equals the one a replay
// to that moment computes, and shows none of them.

#include <catch2/catch.hpp>

#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "events/codec.h"
#include "events/hashing.h"
#include "projections/store.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

}  // namespace

TEST_CASE("close-period waits for process managers' postings in flight, then seals; the seal checks out by replay",
          "[integration][period-close]") {
    sandbox box("close");
    const std::string book = "shop";
    const auto data = box.dir + "/data";
    const auto args = box.common_args(data, "a");
    serve_process core(box, "a", data, {"--roles", "processor,projector"});
    client c(box);
    for (const auto& [id, o] : c.submit(billing_chart(book))) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);

    // Ten invoices of November, issued while no process manager runs: numbers and postings owed.
    std::vector<v1::CommandEnvelope> documents;
    for (int i = 0; i < 10; ++i) {
        auto id = "inv-" + std::to_string(i);
        documents.push_back(parse_command(R"({"command_id":"create-)" + id + R"(","create_invoice":{"invoice_id":")" + id +
                                          R"(","book_id":")" + book + R"(","direction":"INVOICE_DIRECTION_CUSTOMER","counterparty_id":"cp-)" +
                                          std::to_string(i % 7) + R"(","currency":"EUR","issue_date":"2026-11-1)" + std::to_string(i) +
                                          R"(","payment_terms_days":14,"lines":[{"description":"goods","quantity_milli":"1000",)"
                                          R"("unit_price_minor":")" + std::to_string(10000 * (i + 1)) + R"(","tax_code":"STD"}]}})"));
        documents.push_back(parse_command(R"({"command_id":"issue-)" + id + R"(","issue_invoice":{"invoice_id":")" + id + R"("}})"));
    }
    std::int64_t known_before = 0;
    for (const auto& [id, o] : c.submit(documents)) {
        REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
        known_before = std::max(known_before, o.recorded_at_ms());
    }

    // The closer starts first; the process managers three seconds later.
    auto closer = std::async(std::launch::async, [&] {
        return run_daybook(with({"close-period", "--book", book, "--through", "2026-11-30", "--wait-ms", "90000"}, args));
    });
    std::this_thread::sleep_for(3s);
    serve_process managers(box, "pm", box.dir + "/pm", {"--roles", "billing"});
    auto [status, out] = closer.get();
    INFO(out);
    REQUIRE(status == 0);
    CHECK(out.find("process managers caught up") != std::string::npos);
    const auto sealed_sha = text_between(out, "trial balance sha256 ", "\n");
    REQUIRE(sealed_sha.size() == 64);

    // In the book's stream: the close, then the ten invoices' postings (dated in the period, from
    // the process manager), then the seal.
    auto log = audit_events(box);
    REQUIRE(log.problems.empty());
    int closed_at = -1, sealed_at = -1, postings = 0, postings_after_close = 0;
    for (std::size_t i = 0; i < log.envelopes.size(); ++i) {
        const auto& e = log.envelopes[i];
        if (e.stream_id() != "book/" + book) continue;
        if (e.has_period_closed()) closed_at = static_cast<int>(i);
        if (e.has_period_sealed()) sealed_at = static_cast<int>(i);
        if (e.has_entry_posted() && e.source() == "billing-manager" && e.entry_posted().effective_date() <= "2026-11-30") {
            ++postings;
            postings_after_close += closed_at >= 0 && sealed_at < 0;
        }
    }
    CHECK(closed_at >= 0);
    CHECK(sealed_at > closed_at);
    CHECK(postings == 10);
    CHECK(postings_after_close == 10);

    // The seal checks out by replay to its chain heads, and today's export of the period agrees.
    auto seals = run_daybook(with({"audit", "seals"}, args));
    INFO(seals.second);
    CHECK(seals.first == 0);
    CHECK(seals.second.find("ok   book shop sealed through 2026-11-30") != std::string::npos);
    auto exported = run_daybook(with({"export", "trial-balance", "--book", book, "--as-of", "2026-11-30", "--out", box.dir + "/tb.csv"}, args));
    REQUIRE(exported.first == 0);
    std::ifstream tb(box.dir + "/tb.csv", std::ios::binary);
    std::stringstream bytes;
    bytes << tb.rdbuf();
    CHECK(events::to_hex(events::sha256(bytes.str())) == sealed_sha);

    // Nothing enters the sealed period, not even a process manager's posting; December is open.
    auto late = post_entry("late-nov", book, "late-nov", "1000", "4000", 100);
    late.mutable_post_entry()->set_effective_date("2026-11-20");
    auto december = post_entry("dec", book, "dec", "1000", "4000", 100);
    december.mutable_post_entry()->set_effective_date("2026-12-01");
    auto pm_late = late;
    pm_late.set_command_id("pm-late-nov");
    pm_late.mutable_post_entry()->set_entry_id("pm-late-nov");
    pm_late.set_source("billing-manager");
    pm_late.set_causation_event_id("0:1");
    auto after = c.submit({late, december, pm_late});
    CHECK(after["late-nov"].code_name() == "period_sealed");
    CHECK(after["pm-late-nov"].code_name() == "period_sealed");
    CHECK(after["dec"].status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto reopen = parse_command(R"({"command_id":"reopen","reopen_period":{"book_id":"shop"}})");
    reopen.set_actor("someone-else");
    CHECK(c.submit({reopen})["reopen"].code_name() == "period_sealed");

    // Known-at: as known just before the process managers posted, the period's receivable is
    // empty; a replay to that moment gives the same trial balance as the online answer.
    const auto known = std::to_string(known_before);
    auto online = run_daybook(with({"query", "trial-balance", "--book", book, "--as-of", "2026-11-30", "--known-at", known, "--format", "json"}, args));
    REQUIRE(online.first == 0);
    auto now = run_daybook(with({"query", "trial-balance", "--book", book, "--as-of", "2026-11-30", "--format", "json"}, args));
    REQUIRE(now.first == 0);
    CHECK(online.second.find("\"debits_minor\":\"0\"") != std::string::npos);
    CHECK(online.second != now.second);
    auto receivable = run_daybook(with({"query", "balance", "--book", book, "--account", "1200", "--known-at", known, "--format", "json"}, args));
    INFO(receivable.second);
    CHECK(receivable.first == 0);
    CHECK(receivable.second.find("\"debits_minor\":\"0\"") != std::string::npos);
    CHECK(receivable.second.find("\"statement_lines\":\"0\"") != std::string::npos);
    auto replay = run_daybook(with({"replay", "--known-at", known, "--state-dir", box.dir + "/then/projector-r"}, args));
    REQUIRE(replay.first == 0);
    auto then_args = box.common_args(box.dir + "/then", "r");
    auto replayed = run_daybook(with({"query", "trial-balance", "--book", book, "--as-of", "2026-11-30", "--format", "json"}, then_args));
    REQUIRE(replayed.first == 0);
    CHECK(replayed.second == online.second);
    // Reports without an online known-at answer from a replay to then: equal to the replayed store's.
    for (const std::vector<std::string>& report : {std::vector<std::string>{"balance-sheet", "--as-of", "2026-11-30"},
                                                  std::vector<std::string>{"invoices"}}) {
        auto q = with(with({"query"}, report), {"--book", book, "--format", "json"});
        auto then = run_daybook(with(with(q, {"--known-at", known}), args));
        auto from_replay = run_daybook(with(q, then_args));
        auto today = run_daybook(with(q, args));
        INFO(report[0] << ": " << then.second);
        CHECK(then.first == 0);
        CHECK(then.second == from_replay.second);
        CHECK(then.second != today.second);
    }
    auto bad = run_daybook(with({"query", "balance", "--book", book, "--account", "1200", "--known-at", "last tuesday"}, args));
    CHECK(bad.first == 2);
}

TEST_CASE("the live projector records its state digest; verify replays the log to its positions and catches a corrupted store",
          "[integration][recorded-digest]") {
    sandbox box("digest");
    const auto data = box.dir + "/data";
    const auto args = box.common_args(data, "a");
    client c(box);
    std::vector<v1::CommandEnvelope> setup{open_account("o1", "acme", "cash", v1::ACCOUNT_TYPE_ASSET),
                                           open_account("o2", "acme", "sales", v1::ACCOUNT_TYPE_REVENUE)};
    auto postings = [&](const std::string& prefix, int n) {
        std::vector<v1::CommandEnvelope> out;
        for (int i = 0; i < n; ++i)
            out.push_back(post_entry(prefix + std::to_string(i), "acme", prefix + std::to_string(i), "cash", "sales", 100 + i));
        return out;
    };
    {
        serve_process serve(box, "a", data, {"--roles", "processor,projector", "--digest-every-events", "25"});
        for (const auto& [id, o] : c.submit(setup)) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
        for (const auto& [id, o] : c.submit(postings("e", 60))) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
        serve.terminate();  // a clean stop records the digest of the final state too
        CHECK(serve.log().find("state digest recorded") != std::string::npos);
    }
    auto verified = run_daybook(with({"verify"}, args));
    INFO(verified.second);
    CHECK(verified.first == 0);
    CHECK(verified.second.find("ok    state digest recorded by the projector at") != std::string::npos);
    CHECK(verified.second.find("equals a replay of the log to those positions") != std::string::npos);

    // A projection row altered behind Daybook's back (a bit flip on disk, a hand edit): the next
    // recorded digest includes it, and no replay of the log can give it.
    {
        auto store = projections::store::open(data + "/projector-a", {});
        REQUIRE(store);
        auto key = std::string("bal/acme") + '\0' + "cash";
        auto row = (*store)->get(key);
        REQUIRE(row);
        v1::ProjectedAccount a;
        REQUIRE(a.ParseFromString(*row));
        a.set_debits_minor(a.debits_minor() + 1);
        rocksdb::WriteBatch b;
        b.Put(key, a.SerializeAsString());
        (*store)->write(b);
    }
    {
        serve_process serve(box, "a", data, {"--roles", "processor,projector", "--digest-every-events", "25"});
        for (const auto& [id, o] : c.submit(postings("f", 5))) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
        serve.terminate();
    }
    auto caught = run_daybook(with({"verify"}, args));
    INFO(caught.second);
    CHECK(caught.first == 1);
    CHECK(caught.second.find("FAIL  state digest recorded by the projector at") != std::string::npos);
    CHECK(caught.second.find("but a replay of the log to those positions gives") != std::string::npos);
    auto skipped = run_daybook(with({"verify", "--no-replay"}, args));
    CHECK(skipped.second.find("state digest") == std::string::npos);
}
