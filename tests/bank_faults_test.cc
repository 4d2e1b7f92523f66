// Jepsen's bank workload against Daybook, with faults (issue 7). Four books of ten accounts, each
// funded with 1,000.00; accounts may not go below zero (credits_must_not_exceed_debits). Four
// client threads send transfers within a book and between books (two entries through transit
// accounts: out of book A, into book B), each with its own command id, and retry a transfer with
// the same id until it has an outcome. Meanwhile a fault injector, seeded, SIGKILLs and restarts
// `daybook serve`, restarts the broker, or SIGKILLs it (20 faults; DAYBOOK_BANK_FAULTS for more).
//
// Checked at the end, from the log and the projection, against what the clients were told:
//   lost        an accepted transfer whose entry is not in the log exactly once
//   duplicated  a command id with more than one record in the log
//   wrong-total the customer and transit accounts together no longer hold the funded total
//   negative    a customer account below zero
//   mismatch    an account whose projected balance is not its funding plus its accepted transfers
//   in-transit  money left in transit after every transfer's second leg was retried to an outcome
// And during the run, from a reader taking snapshots of every balance (a secondary instance of the
// projector's store: its rows and positions are written in one batch, so each snapshot is all
// balances at one position vector):
//   snapshot-wrong-total  a snapshot whose customer and transit accounts do not hold the total
//   snapshot-negative     a snapshot with a customer account below zero
// One summary line, Jepsen style; the test fails unless every anomaly count is zero.

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "events/codec.h"
#include "projections/ledger_projection.h"
#include "projections/store.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

constexpr int books = 4, accounts_per_book = 10, clients = 4;
constexpr std::int64_t funding = 100000;  // 1,000.00 per account

std::string book_of(int b) { return "bank" + std::to_string(b); }
std::string account_of(int a) { return "a" + std::to_string(a); }

v1::CommandEnvelope entry(const std::string& id, const std::string& book, const std::string& debit, const std::string& credit,
                          std::int64_t amount) {
    auto c = post_entry(id, book, id, debit, credit, amount);
    c.set_actor("bank-client");
    return c;
}

struct transfer {
    std::vector<v1::CommandEnvelope> legs;  // one (within a book) or two (out of A, into B)
    std::vector<std::optional<v1::Outcome>> outcomes;
};

}  // namespace

TEST_CASE("bank under faults: serve and broker killed and restarted under concurrent transfers; nothing lost, doubled or overdrawn",
          "[integration][bank-faults]") {
    const int faults = std::getenv("DAYBOOK_BANK_FAULTS") ? std::atoi(std::getenv("DAYBOOK_BANK_FAULTS")) : 20;
    const unsigned seed = std::getenv("DAYBOOK_BANK_SEED") ? static_cast<unsigned>(std::atoi(std::getenv("DAYBOOK_BANK_SEED"))) : 20261123u;
    auto broker_dir = std::filesystem::temp_directory_path() / ("daybook-bank-broker-" + std::to_string(::getpid()));
    own_broker broker(29392, broker_dir.string());
    sandbox box("bank", 3, broker.brokers());
    auto data = box.dir + "/data";
    auto serve = std::make_unique<serve_process>(box, "a", data, std::vector<std::string>{"--roles", "processor,projector", "--commit-interval-ms", "30"});
    const std::int64_t funded = static_cast<std::int64_t>(books) * accounts_per_book * funding;
    std::map<std::uint32_t, std::uint64_t> funded_at;  // per partition, the seq after which every funding is in the log
    {
        client setup_client(box);
        std::vector<v1::CommandEnvelope> setup;
        for (int b = 0; b < books; ++b) {
            const auto book = book_of(b);
            setup.push_back(open_account("open-eq-" + book, book, "equity", v1::ACCOUNT_TYPE_EQUITY));
            setup.push_back(open_account("open-out-" + book, book, "transit-out", v1::ACCOUNT_TYPE_ASSET));
            setup.push_back(open_account("open-in-" + book, book, "transit-in", v1::ACCOUNT_TYPE_ASSET));
            for (int a = 0; a < accounts_per_book; ++a) {
                auto open = open_account("open-" + book + "-" + account_of(a), book, account_of(a), v1::ACCOUNT_TYPE_ASSET);
                open.mutable_open_account()->mutable_constraints()->set_credits_must_not_exceed_debits(true);
                setup.push_back(open);
            }
        }
        for (int b = 0; b < books; ++b)
            for (int a = 0; a < accounts_per_book; ++a)
                setup.push_back(entry("fund-" + book_of(b) + "-" + account_of(a), book_of(b), account_of(a), "equity", funding));
        auto out = setup_client.submit(setup, 120s);
        REQUIRE(out.size() == setup.size());
        for (const auto& [id, o] : out) {
            INFO(id << " " << o.code_name() << " " << o.detail());
            REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
            for (const auto& ref : o.events()) funded_at[ref.partition()] = std::max(funded_at[ref.partition()], ref.seq());
        }
    }

    // Clients: transfers until told to stop, each retried with its own id until it has outcomes.
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::vector<transfer> done;
    std::atomic<int> retries{0};
    std::atomic<bool> client_stuck{false};  // Catch's assertions stay on the main thread
    auto run_client = [&](int n) {
        client c(box);
        std::mt19937 rng(seed + static_cast<unsigned>(n));
        for (int i = 0; !stop.load(); ++i) {
            transfer t;
            const int a = static_cast<int>(rng() % books);
            const int from = static_cast<int>(rng() % accounts_per_book), to = static_cast<int>(rng() % accounts_per_book);
            const std::int64_t amount = 1 + static_cast<std::int64_t>(rng() % 40000);  // up to 400.00: some overdraw
            const std::string id = "t" + std::to_string(n) + "-" + std::to_string(i);
            if (rng() % 4 == 0) {  // between books, through transit accounts
                const int b = (a + 1 + static_cast<int>(rng() % (books - 1))) % books;
                t.legs.push_back(entry(id + "-out", book_of(a), "transit-out", account_of(from), amount));
                t.legs.push_back(entry(id + "-in", book_of(b), account_of(to), "transit-in", amount));
            } else {
                t.legs.push_back(entry(id, book_of(a), account_of(to), account_of(from), amount));
            }
            t.outcomes.resize(t.legs.size());
            for (std::size_t leg = 0; leg < t.legs.size(); ++leg) {
                // The second leg is sent only when the money left the first book.
                if (leg == 1 && t.outcomes[0]->status() != v1::OUTCOME_STATUS_ACCEPTED) break;
                for (int attempt = 0; !t.outcomes[leg]; ++attempt) {
                    if (attempt > 0) retries++;
                    auto out = c.submit({t.legs[leg]}, 15s);
                    if (auto it = out.find(t.legs[leg].command_id()); it != out.end()) t.outcomes[leg] = it->second;
                    if (attempt > (stop ? 8 : 40)) {  // 10 minutes without an outcome (2 once stopping)
                        client_stuck = true;
                        return;
                    }
                }
            }
            std::lock_guard lock(mutex);
            done.push_back(std::move(t));
        }
    };
    std::vector<std::thread> threads;
    for (int n = 0; n < clients; ++n) threads.emplace_back(run_client, n);

    // The reader: a snapshot of every balance every 100 ms, through the faults. A snapshot from
    // before the funding was projected counts as info, not as a check.
    std::atomic<int> snapshots{0}, snapshots_early{0}, snapshot_wrong_total{0}, snapshot_negative{0};
    std::thread reader([&] {
        for (int k = 0; !stop.load(); ++k) {
            std::this_thread::sleep_for(100ms);
            auto s = projections::store::open_secondary(data + "/projector-a", box.dir + "/snapshot-" + std::to_string(k % 2));
            if (!s) continue;  // between a kill and the restart's first open
            bool early = false;
            for (auto [p, seq] : funded_at) {
                v1::PartitionPosition pos;
                if (auto raw = (*s)->get(projections::position_key(p))) pos.ParseFromString(*raw);
                early = early || pos.seq() < seq;
            }
            if (early) {
                ++snapshots_early;
                continue;
            }
            std::int64_t total = 0;
            bool negative = false;
            for (int b = 0; b < books; ++b)
                for (const auto& acc : projections::list_accounts(**s, book_of(b))) {
                    if (acc.account_id() == "equity") continue;
                    const std::int64_t balance = acc.debits_minor() - acc.credits_minor();
                    total += balance;
                    negative = negative || (acc.account_id().starts_with("a") && balance < 0);
                }
            ++snapshots;
            snapshot_wrong_total += total != funded;
            snapshot_negative += negative;
        }
    });

    // Faults, seeded: kill the processor, restart the broker, or kill the broker.
    std::mt19937 rng(seed);
    int serve_kills = 0, broker_restarts = 0, broker_kills = 0;
    std::int64_t longest_recovery_ms = 0;
    std::string recovery_failure;
    try {
    for (int f = 0; f < faults && recovery_failure.empty(); ++f) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 1500));
        std::size_t before;
        {
            std::lock_guard lock(mutex);
            before = done.size();
        }
        const auto kind = rng() % 5;
        const auto t0 = std::chrono::steady_clock::now();
        if (kind < 3) {
            serve->kill();
            ++serve_kills;
            serve = std::make_unique<serve_process>(box, "a", data, std::vector<std::string>{"--roles", "processor,projector", "--commit-interval-ms", "30"});
        } else if (kind == 3) {
            broker.stop();
            ++broker_restarts;
            broker.start();
        } else {
            broker.stop(true);
            ++broker_kills;
            broker.start();
        }
        // Recovered: transfers complete again.
        for (;;) {
            {
                std::lock_guard lock(mutex);
                if (done.size() > before + clients) break;
            }
            if (std::chrono::steady_clock::now() - t0 > 180s || client_stuck) {
                recovery_failure = "no transfer completed within 180 s after fault " + std::to_string(f);
                break;
            }
            std::this_thread::sleep_for(50ms);
        }
        longest_recovery_ms = std::max<std::int64_t>(
            longest_recovery_ms, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count());
    }
    } catch (const std::exception& e) {  // a broker or serve that does not come back: stop the clients first
        recovery_failure = e.what();
    }
    stop = true;
    for (auto& t : threads) t.join();
    reader.join();
    INFO(serve->log().substr(serve->log().size() > 4000 ? serve->log().size() - 4000 : 0));
    REQUIRE(recovery_failure.empty());
    REQUIRE_FALSE(client_stuck);

    // What the clients were told, and the balances that follow from it.
    std::map<std::pair<std::string, std::string>, std::int64_t> expected;  // (book, account) -> debits - credits
    for (int b = 0; b < books; ++b)
        for (int a = 0; a < accounts_per_book; ++a) expected[{book_of(b), account_of(a)}] = funding;
    int ok = 0, fail = 0, in_transit_legs = 0;
    std::set<std::string> accepted_ids, all_ids;
    for (const auto& t : done) {
        bool first_ok = t.outcomes[0]->status() == v1::OUTCOME_STATUS_ACCEPTED;
        (first_ok ? ok : fail)++;
        for (std::size_t leg = 0; leg < t.legs.size(); ++leg) {
            all_ids.insert(t.legs[leg].command_id());
            if (!t.outcomes[leg] || t.outcomes[leg]->status() != v1::OUTCOME_STATUS_ACCEPTED) {
                if (leg == 1 && first_ok) ++in_transit_legs;  // a second leg refused: money stuck in transit
                continue;
            }
            accepted_ids.insert(t.legs[leg].command_id());
            const auto& p = t.legs[leg].post_entry();
            for (const auto& l : p.legs())
                expected[{p.book_id(), l.account_id()}] += l.side() == v1::SIDE_DEBIT ? l.amount_minor() : -l.amount_minor();
        }
    }

    auto audit = audit_events(box);
    int lost = 0, duplicated = 0;
    for (const auto& id : all_ids) {
        auto it = audit.records_per_command.find(id);
        int n = it == audit.records_per_command.end() ? 0 : it->second;
        if (n > 1) ++duplicated;
        if (accepted_ids.count(id) && n != 1) ++lost;
    }
    // The projection, caught up to the log's end.
    projected_digest(box, data, "a", audit.last_seq, 180s);
    int negative = 0, mismatch = 0;
    std::int64_t total = 0;
    for (int b = 0; b < books; ++b) {
        std::vector<std::string> args{"query", "accounts", "--book", book_of(b), "--format", "json"};
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        auto [code, out] = run_daybook(args);
        REQUIRE(code == 0);
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);) {
            v1::ProjectedAccount acc;
            REQUIRE(google::protobuf::util::JsonStringToMessage(line, &acc).ok());
            if (acc.account_id() == "equity") continue;
            const std::int64_t balance = acc.debits_minor() - acc.credits_minor();
            total += balance;
            if (acc.account_id().starts_with("a")) {
                negative += balance < 0;
                const auto want = expected[std::make_pair(book_of(b), acc.account_id())];
                if (balance != want) {
                    ++mismatch;
                    UNSCOPED_INFO(book_of(b) << "/" << acc.account_id() << " projected " << balance << " expected " << want);
                }
            }
        }
    }
    const int wrong_total = total != funded;
    serve->terminate();
    std::printf("bank: seed=%u faults=%d (serve_kills=%d broker_restarts=%d broker_kills=%d) transfers=%zu ok=%d fail=%d info=%d "
                "wrong_total=%d negative=%d lost=%d duplicated=%d mismatch=%d in_transit=%d client_retries=%d "
                "longest_recovery_ms=%lld chain_problems=%zu snapshots=%d (before funding: %d) snapshot_wrong_total=%d "
                "snapshot_negative=%d valid: %s\n",
                seed, faults, serve_kills, broker_restarts, broker_kills, done.size(), ok, fail, retries.load(), wrong_total, negative,
                lost, duplicated, mismatch, in_transit_legs, retries.load(), static_cast<long long>(longest_recovery_ms),
                audit.problems.size(), snapshots.load(), snapshots_early.load(), snapshot_wrong_total.load(), snapshot_negative.load(),
                wrong_total + negative + lost + duplicated + mismatch + in_transit_legs + snapshot_wrong_total + snapshot_negative == 0 &&
                        audit.problems.empty()
                    ? "true"
                    : "false");
    CHECK(audit.problems.empty());
    CHECK(wrong_total == 0);
    CHECK(negative == 0);
    CHECK(lost == 0);
    CHECK(duplicated == 0);
    CHECK(mismatch == 0);
    CHECK(in_transit_legs == 0);
    CHECK(snapshots > 10);
    CHECK(snapshot_wrong_total == 0);
    CHECK(snapshot_negative == 0);
    CHECK(ok > 0);
    CHECK(fail > 0);  // overdrafts were tried and refused
}
