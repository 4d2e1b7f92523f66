// Idempotent submission at scale (issue 7, item 5): 3,000 commands, each submitted 1 to 5 times,
// shuffled, by two `daybook submit` processes at once, and partly by a third that is SIGKILLed
// mid-way and then run again. Every command leaves exactly one record in the log, every
// duplicate is answered with the original outcome (same status, code and event positions), the
// balances hold each accepted amount once, and reusing an id with another payload is refused.
// One summary line.

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "consumers/log_reader.h"
#include "events/codec.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

TEST_CASE("thousands of commands submitted one to five times, by two processes at once and by a killed submitter: applied once, "
          "duplicates answered with the original outcome",
          "[idempotency-scale]") {
    const int commands = 3000, books = 4;
    std::mt19937 rng(20261206);
    sandbox box("idemscale");
    const auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    std::vector<v1::CommandEnvelope> setup;
    for (int b = 0; b < books; ++b) {
        setup.push_back(open_account("cash-" + std::to_string(b), "b" + std::to_string(b), "cash", v1::ACCOUNT_TYPE_ASSET));
        setup.push_back(open_account("sales-" + std::to_string(b), "b" + std::to_string(b), "sales", v1::ACCOUNT_TYPE_REVENUE));
    }
    for (const auto& [id, o] : c.submit(setup)) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);

    // Every 10th command names an account that does not exist: its duplicates must be refused the
    // same way.
    std::vector<std::string> lines;
    std::map<std::string, int> copies;
    std::map<std::string, std::int64_t> accepted_amount;  // expected: id -> amount
    std::vector<v1::CommandEnvelope> originals;
    for (int i = 0; i < commands; ++i) {
        auto id = "s-" + std::to_string(i);
        bool bad = i % 10 == 0;
        auto cmd = post_entry(id, "b" + std::to_string(i % books), "e-" + std::to_string(i), "cash", bad ? "nope" : "sales", i + 1);
        originals.push_back(cmd);
        if (!bad) accepted_amount[id] = i + 1;
        int k = 1 + static_cast<int>(rng() % 5);
        copies[id] = k;
        for (int j = 0; j < k; ++j) lines.push_back(events::to_json(cmd));
    }
    std::shuffle(lines.begin(), lines.end(), rng);
    auto write = [&](const std::string& path, std::size_t from, std::size_t to) {
        std::ofstream out(path);
        for (std::size_t i = from; i < to; ++i) out << lines[i] << "\n";
    };
    const auto half = lines.size() / 2;
    write(box.dir + "/a.ndjson", 0, half);
    write(box.dir + "/b.ndjson", half, lines.size());
    write(box.dir + "/c.ndjson", lines.size() / 3, lines.size() / 3 + 1500);  // the killed submitter's share
    auto args = box.common_args(data, "a");
    auto submit = [&](const std::string& file) {
        std::vector<std::string> a{"submit", file, "--quiet", "--wait-ms", "180000"};
        a.insert(a.end(), args.begin(), args.end());
        return a;
    };
    {
        auto killed_args = submit(box.dir + "/c.ndjson");
        killed_args.insert(killed_args.begin(), test_env::get().bin);
        child_process killed(killed_args, box.dir + "/killed-submitter.log");
        std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 400));
        killed.kill();
    }
    auto first = std::async(std::launch::async, [&] { return run_daybook(submit(box.dir + "/a.ndjson")); });
    auto second = std::async(std::launch::async, [&] { return run_daybook(submit(box.dir + "/b.ndjson")); });
    auto again = run_daybook(submit(box.dir + "/c.ndjson"));  // the killed submitter, run again
    auto r1 = first.get(), r2 = second.get();
    INFO(r1.second.substr(0, 400) << "\n" << r2.second.substr(0, 400) << "\n" << again.second.substr(0, 400));
    // Exit 1: some commands were refused (the bad ones); 2 would mean missing outcomes.
    CHECK(r1.first == 1);
    CHECK(r2.first == 1);
    CHECK(again.first <= 1);

    // Reusing 50 ids with another amount is refused, and changes nothing.
    std::vector<v1::CommandEnvelope> reused;
    for (int i = 1; i <= 50; ++i) {
        auto cmd = originals[static_cast<std::size_t>(i * 7)];
        cmd.mutable_post_entry()->mutable_legs(0)->set_amount_minor(cmd.post_entry().legs(0).amount_minor() + 1);
        cmd.mutable_post_entry()->mutable_legs(1)->set_amount_minor(cmd.post_entry().legs(1).amount_minor() + 1);
        reused.push_back(cmd);
    }
    client fresh(box);  // its outcome waiter starts now: it sees the answers to these records only
    auto reuse = fresh.submit(reused);
    int reuse_refused = 0;
    for (const auto& [id, o] : reuse) reuse_refused += o.code_name() == "command_id_reused";
    CHECK(reuse_refused == 50);
    serve.terminate();

    // The log: one record per command, each accepted amount once.
    auto log = audit_events(box);
    REQUIRE(log.problems.empty());
    std::size_t not_once = 0;
    for (const auto& [id, k] : copies) not_once += log.records_per_command[id] != 1;
    std::map<std::string, std::int64_t> posted;
    for (const auto& e : log.envelopes)
        if (e.has_entry_posted() && e.command_id().starts_with("s-")) posted[e.command_id()] += e.entry_posted().legs(0).amount_minor();
    CHECK(posted == accepted_amount);

    // The outcomes: every duplicate says what the original said.
    std::map<std::string, v1::Outcome> original;
    std::vector<v1::Outcome> duplicates;
    auto read = consumers::read_whole_topic(box.kafka, box.topics.outcomes(), [&](std::uint32_t, std::int64_t, std::string_view v) {
        v1::Outcome o;
        if (!o.ParseFromArray(v.data(), static_cast<int>(v.size())) || !o.command_id().starts_with("s-")) return;
        if (o.duplicate()) duplicates.push_back(o);
        else if (o.code_name() != "command_id_reused") original.emplace(o.command_id(), o);
    });
    REQUIRE(read);
    std::size_t different = 0, missing = 0;
    for (const auto& [id, k] : copies) missing += original.count(id) == 0;
    for (const auto& d : duplicates) {
        auto it = original.find(d.command_id());
        if (it == original.end()) continue;
        different += d.status() != it->second.status() || d.code_name() != it->second.code_name() ||
                     events::token_of(d) != events::token_of(it->second);
    }
    // By the two processes, plus the killed submitter's share run again (and what it sent before).
    const std::size_t submissions = lines.size() + 1500;
    std::printf("idempotent submission: commands=%d submissions=%zu duplicates_answered=%zu not_once=%zu missing=%zu "
                "different_answer=%zu reuse_refused=%d valid: %s\n",
                commands, submissions, duplicates.size(), not_once, missing, different, reuse_refused,
                not_once == 0 && missing == 0 && different == 0 && reuse_refused == 50 ? "true" : "false");
    CHECK(not_once == 0);
    CHECK(missing == 0);
    CHECK(different == 0);
    CHECK(duplicates.size() >= submissions - static_cast<std::size_t>(commands));
}
