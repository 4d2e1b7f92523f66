// Integration tests against the real local Kafka broker (started by the ctest fixture). Each test
// has its own topics, consumer group, instance ids and directories, and stops what it started by
// PID.

#include <catch2/catch.hpp>
#include <librdkafka/rdkafka.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "events/codec.h"
#include "events/hashing.h"
#include "events/murmur2.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

std::vector<v1::CommandEnvelope> chart(const std::string& prefix, const std::string& book) {
    return {open_account(prefix + "-cash", book, "1000", v1::ACCOUNT_TYPE_ASSET),
            open_account(prefix + "-sales", book, "4000", v1::ACCOUNT_TYPE_REVENUE)};
}

bool all_accepted(const std::map<std::string, v1::Outcome>& outcomes, std::size_t expected) {
    if (outcomes.size() != expected) return false;
    for (const auto& [id, o] : outcomes)
        if (o.status() != v1::OUTCOME_STATUS_ACCEPTED) return false;
    return true;
}

std::string balance_json(const sandbox& box, const std::string& data_dir, const std::string& book,
                         const std::string& account, const std::string& token = "") {
    auto args = std::vector<std::string>{"query", "balance", "--book", book, "--account", account, "--format", "json"};
    for (auto& a : box.common_args(data_dir, "a")) args.push_back(a);
    if (!token.empty()) {
        args.push_back("--token");
        args.push_back(token);
    }
    auto [code, out] = run_daybook(args);
    INFO(out);
    REQUIRE(code == 0);
    return out;
}

}  // namespace

TEST_CASE("submit, outcome, then query with the read-your-writes token", "[integration][submit]") {
    sandbox box("submit");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    auto setup = c.submit(chart("s", "acme"));
    REQUIRE(all_accepted(setup, 2));
    auto posted = c.submit({post_entry("s-je1", "acme", "je-1", "1000", "4000", 12345)});
    REQUIRE(posted.size() == 1);
    const auto& o = posted.at("s-je1");
    REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
    REQUIRE(o.events_size() == 1);
    auto token = events::token_of(o);
    auto json = balance_json(box, data, "acme", "1000", token);
    CHECK(json.find("\"debits_minor\":\"12345\"") != std::string::npos);
    CHECK(json.find("\"entry_count\":\"1\"") != std::string::npos);

    SECTION("the CLI submit prints the outcome and exits 1 when one is rejected") {
        auto file = box.dir + "/cmds.ndjson";
        std::ofstream(file) << R"({"command_id":"cli-1","post_entry":{"book_id":"acme","entry_id":"je-2","effective_date":"2026-03-02","legs":[{"account_id":"1000","side":"SIDE_DEBIT","amount_minor":"5","currency":"EUR"},{"account_id":"4000","side":"SIDE_CREDIT","amount_minor":"5","currency":"EUR"}]}})"
                            << "\n"
                            << R"({"command_id":"cli-2","post_entry":{"book_id":"acme","entry_id":"je-3","effective_date":"2026-03-02","legs":[{"account_id":"1000","side":"SIDE_DEBIT","amount_minor":"5","currency":"EUR"},{"account_id":"9999","side":"SIDE_CREDIT","amount_minor":"5","currency":"EUR"}]}})"
                            << "\n";
        auto args = std::vector<std::string>{"submit", file};
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        auto [code, out] = run_daybook(args);
        INFO(out);
        CHECK(code == 1);
        CHECK(out.find("\"command_id\":\"cli-1\"") != std::string::npos);
        CHECK(out.find("account_not_found") != std::string::npos);
        CHECK(out.find("\"field\":\"post_entry.legs[1].account_id\"") != std::string::npos);
    }
    SECTION("a malformed line submits nothing and exits 2") {
        auto file = box.dir + "/bad.ndjson";
        std::ofstream(file) << R"({"command_id":"bad-1","post_entry":{"book_id":"acme","entry_id":"x"}})" << "\n"
                            << R"({"command_id":"bad-2","post_entry":{"book_id":"acme","surprise":1}})" << "\n";
        auto args = std::vector<std::string>{"submit", file, "--wait-ms", "3000"};
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        auto [code, out] = run_daybook(args);
        INFO(out);
        CHECK(code == 2);
        CHECK(out.find("line 2") != std::string::npos);
        auto nothing = c.wait({"bad-1"}, 3s);
        CHECK(nothing.empty());
    }
    serve.terminate();
}

TEST_CASE("the same command twice appends once; the same id with another payload is refused",
          "[integration][idempotency]") {
    sandbox box("idem");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    REQUIRE(all_accepted(c.submit(chart("i", "book1")), 2));
    auto entry = post_entry("i-je1", "book1", "je-1", "1000", "4000", 500);
    auto first = c.submit({entry});
    REQUIRE(first.at("i-je1").status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto again = c.submit({entry});
    REQUIRE(again.count("i-je1") == 1);
    CHECK(again.at("i-je1").duplicate());
    CHECK(again.at("i-je1").status() == v1::OUTCOME_STATUS_ACCEPTED);
    CHECK(events::token_of(again.at("i-je1")) == events::token_of(first.at("i-je1")));

    auto other = post_entry("i-je1", "book1", "je-1", "1000", "4000", 501);
    auto reused = c.submit({other});
    REQUIRE(reused.count("i-je1") == 1);
    CHECK(reused.at("i-je1").status() == v1::OUTCOME_STATUS_REJECTED);
    CHECK(reused.at("i-je1").code_name() == "command_id_reused");

    serve.terminate();
    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    CHECK(audit.records_per_command["i-je1"] == 1);
    CHECK(audit.records == 3);
}

TEST_CASE("a rejected command retried after wiping the processor's state gets the same outcome",
          "[integration][restore]") {
    sandbox box("wipe");
    auto data = box.dir + "/data";
    v1::Outcome first;
    {
        serve_process serve(box, "a", data);
        client c(box);
        REQUIRE(all_accepted(c.submit(chart("w", "b")), 2));
        auto r = c.submit({post_entry("w-bad", "b", "je-1", "1000", "7777", 100)});
        REQUIRE(r.count("w-bad") == 1);
        first = r.at("w-bad");
        REQUIRE(first.status() == v1::OUTCOME_STATUS_REJECTED);
        serve.terminate();
    }
    std::filesystem::remove_all(data + "/processor-a");
    serve_process serve(box, "a", data);
    client c(box);
    auto again = c.submit({post_entry("w-bad", "b", "je-1", "1000", "7777", 100)});
    REQUIRE(again.count("w-bad") == 1);
    CHECK(again.at("w-bad").duplicate());
    CHECK(again.at("w-bad").code() == first.code());
    CHECK(again.at("w-bad").field() == first.field());
    CHECK(again.at("w-bad").detail() == first.detail());
    CHECK(events::token_of(again.at("w-bad")) == events::token_of(first));
    // State restored from the log: the accounts exist, so a valid entry is accepted.
    auto ok = c.submit({post_entry("w-good", "b", "je-1", "1000", "4000", 100)});
    CHECK(ok.at("w-good").status() == v1::OUTCOME_STATUS_ACCEPTED);
    serve.terminate();
    CHECK(audit_events(box).problems.empty());
}

TEST_CASE("a poison message goes to the DLQ and the next command is processed", "[integration][dlq]") {
    sandbox box("dlq");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    REQUIRE(all_accepted(c.submit(chart("d", "b")), 2));
    int p = events::partition_for("b", box.partitions);
    c.send_raw("b", p, std::string("\xff\xfe garbage that is not protobuf", 31));
    // Readable id, but a field this build does not know: refused with an outcome.
    auto unknown = events::serialize(post_entry("d-unknown", "b", "je-9", "1000", "4000", 1));
    unknown += std::string("\xb8\x3e\x01", 3);  // field 999, varint 1
    c.send_raw("b", p, unknown);
    auto after = c.submit({post_entry("d-next", "b", "je-1", "1000", "4000", 42)});
    REQUIRE(after.count("d-next") == 1);
    CHECK(after.at("d-next").status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto refused = c.wait({"d-unknown"}, 10s);
    REQUIRE(refused.count("d-unknown") == 1);
    CHECK(refused.at("d-unknown").code_name() == "envelope_invalid");

    // The DLQ holds the undecodable record with its provenance headers.
    rd_kafka_conf_t* conf = consumers::base_conf(box.kafka);
    consumers::set(conf, "enable.partition.eof", "true");
    auto reader = consumers::make_consumer(box.kafka, "", "", conf);
    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), box.topics.dlq().c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(reader->get(), list.get());
    int dead = 0;
    std::string error_header;
    for (int i = 0; i < 100; ++i) {
        consumers::message_ptr m(rd_kafka_consumer_poll(reader->get(), 200));
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
        if (m->err) continue;
        ++dead;
        rd_kafka_headers_t* h = nullptr;
        const void* v = nullptr;
        size_t n = 0;
        if (rd_kafka_message_headers(m.get(), &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(h, "daybook.error", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR)
            error_header.assign(static_cast<const char*>(v), n);
    }
    CHECK(dead == 1);
    CHECK_FALSE(error_header.empty());
    serve.terminate();
}

TEST_CASE("records of an aborted transaction are invisible to the projector", "[integration][aborted]") {
    sandbox box("abort");
    auto data = box.dir + "/data";
    int p = events::partition_for("b", box.partitions);
    // A producer writes a forged record into the events log and aborts: read_committed readers
    // must never see it (the projector would stop the partition if it did).
    forge_events_record(box, p, "forged record", false);
    serve_process serve(box, "a", data);
    client c(box);
    REQUIRE(all_accepted(c.submit(chart("a", "b")), 2));
    auto r = c.submit({post_entry("a-je", "b", "je-1", "1000", "4000", 700)});
    REQUIRE(r.at("a-je").status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto json = balance_json(box, data, "b", "1000", events::token_of(r.at("a-je")));
    CHECK(json.find("\"debits_minor\":\"700\"") != std::string::npos);
    auto status_args = std::vector<std::string>{"status", "--format", "json"};
    for (auto& a : box.common_args(data, "a")) status_args.push_back(a);
    auto [code, out] = run_daybook(status_args);
    INFO(out);
    CHECK(code == 0);
    CHECK(out.find("\"stopped\":true") == std::string::npos);
    serve.terminate();
    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    CHECK(audit.last_seq[static_cast<std::size_t>(p)] == 3);
}

TEST_CASE("a second processor with the same instance id fences the first", "[integration][fencing]") {
    sandbox box("fence");
    serve_process first(box, "same", box.dir + "/data1", {"--roles", "processor"});
    client c(box);
    REQUIRE(all_accepted(c.submit(chart("f", "b")), 2));
    serve_process second(box, "same", box.dir + "/data2", {"--roles", "processor"});
    // The first learns it was fenced at its next transaction: give it commands to try.
    std::vector<v1::CommandEnvelope> entries;
    for (int i = 0; i < 20; ++i)
        entries.push_back(post_entry("f-je" + std::to_string(i), "b", "je-" + std::to_string(i), "1000", "4000", 1 + i));
    auto outcomes = c.submit(entries, 90s);
    int exit_code = first.wait_exit(60s);
    INFO(first.log());
    CHECK(exit_code != 0);
    CHECK(exit_code != -1);
    CHECK(first.log().find("fenced") != std::string::npos);
    CHECK(first.log().find("daybook-processor-same") != std::string::npos);
    CHECK(all_accepted(outcomes, entries.size()));
    CHECK(second.running());
    second.terminate();
    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    for (const auto& e : entries) CHECK(audit.records_per_command[e.command_id()] == 1);
}

TEST_CASE("a commit reported as timed out ends in drop-recreate-restore without loss or duplication",
          "[integration][commit-unknown]") {
    auto hook = GENERATE(std::string("DAYBOOK_FAULT_UNKNOWN_AFTER_COMMIT_EVERY=3"),
                         std::string("DAYBOOK_FAULT_UNKNOWN_INSTEAD_OF_COMMIT_EVERY=3"));
    INFO(hook);
    sandbox box("unknown");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data, {"--commit-interval-ms", "20", "--batch-max", "25"}, {hook});
    client c(box);
    std::vector<v1::CommandEnvelope> cmds;
    for (const auto& book : {"b1", "b2", "b3"})
        for (auto& cmd : chart(std::string("u") + book, book)) cmds.push_back(cmd);
    REQUIRE(all_accepted(c.submit(cmds, 90s), cmds.size()));
    std::vector<v1::CommandEnvelope> entries;
    for (int i = 0; i < 300; ++i) {
        std::string book = "b" + std::to_string(1 + i % 3);
        entries.push_back(post_entry("u-je" + std::to_string(i), book, "je-" + std::to_string(i), "1000", "4000", 100));
    }
    auto outcomes = c.submit(entries, 120s);
    CHECK(all_accepted(outcomes, entries.size()));
    serve.terminate();
    CHECK(serve.log().find("recreating producer") != std::string::npos);
    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    for (const auto& e : entries) CHECK(audit.records_per_command[e.command_id()] == 1);
    auto first_outcomes = count_outcomes(box, false);
    for (const auto& e : entries) CHECK(first_outcomes[e.command_id()] == 1);
}

TEST_CASE("serve SIGKILLed in the middle of 10,000 commands loses and doubles nothing",
          "[integration][crash]") {
    sandbox box("crash");
    auto data = box.dir + "/data";
    const int books = 6, per_book = 10000 / books + 1;
    std::vector<v1::CommandEnvelope> setup, entries;
    for (int b = 0; b < books; ++b)
        for (auto& cmd : chart("k" + std::to_string(b), "book" + std::to_string(b))) setup.push_back(cmd);
    for (int i = 0; i < books * per_book; ++i) {
        std::string book = "book" + std::to_string(i % books);
        // Every 50th command is invalid (unknown account): rejections must survive too.
        std::string credit = i % 50 == 49 ? "9999" : "4000";
        entries.push_back(post_entry("k-je" + std::to_string(i), book, "je-" + std::to_string(i), "1000", credit, 1 + i % 97));
    }
    client c(box);
    std::set<std::string> ids;
    for (const auto& e : entries) ids.insert(e.command_id());
    std::map<std::string, v1::Outcome> outcomes;
    // Collects outcomes until `target` commands have one (or the time is up).
    auto collect = [&](std::size_t target, std::chrono::seconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (outcomes.size() < target && std::chrono::steady_clock::now() < deadline) {
            std::set<std::string> missing;
            for (const auto& id : ids)
                if (!outcomes.count(id)) missing.insert(id);
            auto got = c.wait(missing, 100ms);
            outcomes.insert(got.begin(), got.end());
        }
    };
    std::vector<std::size_t> killed_at;
    {
        serve_process serve(box, "a", data, {"--commit-interval-ms", "30"});
        REQUIRE(all_accepted(c.submit(setup, 90s), setup.size()));
        c.send(entries);
        // SIGKILL at a third and at two thirds of the stream, in the middle of processing.
        collect(entries.size() / 3, 120s);
        serve.kill();
        killed_at.push_back(outcomes.size());
        serve_process again(box, "a", data, {"--commit-interval-ms", "30"});
        collect(2 * entries.size() / 3, 120s);
        again.kill();
        killed_at.push_back(outcomes.size());
    }
    INFO("outcomes seen when killed: " << killed_at[0] << ", " << killed_at[1]);
    CHECK(killed_at[0] >= entries.size() / 3);
    CHECK(killed_at[1] < entries.size());
    serve_process serve(box, "a", data, {"--commit-interval-ms", "30"});
    collect(entries.size(), 180s);
    // A client retries what has no outcome yet, with the same ids: nothing may be doubled.
    std::vector<v1::CommandEnvelope> retry;
    for (const auto& e : entries)
        if (!outcomes.count(e.command_id())) retry.push_back(e);
    if (!retry.empty()) {
        auto more = c.submit(retry, 120s);
        outcomes.insert(more.begin(), more.end());
    }
    REQUIRE(outcomes.size() == entries.size());
    // Re-submitting a sample after the crash gives the first outcome again, nothing appended.
    std::vector<v1::CommandEnvelope> sample(entries.begin(), entries.begin() + 200);
    auto replayed = c.submit(sample, 60s);
    for (const auto& e : sample) {
        REQUIRE(replayed.count(e.command_id()) == 1);
        CHECK(replayed.at(e.command_id()).duplicate());
    }
    std::uint64_t expected_rejected = 0;
    for (int i = 0; i < static_cast<int>(entries.size()); ++i) {
        const auto& o = outcomes.at(entries[static_cast<std::size_t>(i)].command_id());
        bool should_reject = i % 50 == 49;
        CHECK((o.status() == v1::OUTCOME_STATUS_REJECTED) == should_reject);
        expected_rejected += should_reject;
    }
    auto audit = audit_events(box);
    INFO(audit.problems.size());
    CHECK(audit.problems.empty());
    for (const auto& e : entries) REQUIRE(audit.records_per_command[e.command_id()] == 1);
    CHECK(audit.rejected_code.size() == expected_rejected);
    std::uint64_t total = 0;
    for (auto s : audit.last_seq) total += s;
    CHECK(total == setup.size() + entries.size());

    // The live projection equals a clean rebuild from offset 0.
    auto live = projected_digest(box, data, "a", audit.last_seq, 120s);
    serve.terminate();
    serve_process rebuild(box, "clean", box.dir + "/rebuild", {"--roles", "projector"});
    auto clean = projected_digest(box, box.dir + "/rebuild", "clean", audit.last_seq, 120s);
    rebuild.terminate();
    CHECK(live == clean);
    CHECK(live.size() == 64);
}

TEST_CASE("a forged record in the events log stops its partition and status says why",
          "[integration][stopped]") {
    sandbox box("stopped");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    // Two books on different partitions: one will be stopped, the other must go on.
    std::string bad_book = "acme", good_book = "stark";
    int bad = events::partition_for(bad_book, box.partitions), good = events::partition_for(good_book, box.partitions);
    REQUIRE(bad != good);
    REQUIRE(all_accepted(c.submit(chart("x", bad_book)), 2));
    REQUIRE(all_accepted(c.submit(chart("y", good_book)), 2));
    // Well-formed and correctly hashed, but not chained to the real record 2.
    v1::EventEnvelope env;
    env.set_stream_id("book/" + bad_book);
    env.set_version(3);
    env.mutable_account_opened()->set_book_id(bad_book);
    forge_events_record(box, bad,
                        events::seal(static_cast<std::uint32_t>(bad), 3, std::string(32, 'x'), events::serialize(env)).value,
                        true);
    auto good_entry = c.submit({post_entry("y-je", good_book, "je-1", "1000", "4000", 10)});
    REQUIRE(good_entry.at("y-je").status() == v1::OUTCOME_STATUS_ACCEPTED);
    // The other partition is still projected.
    auto json = balance_json(box, data, good_book, "1000", events::token_of(good_entry.at("y-je")));
    CHECK(json.find("\"debits_minor\":\"10\"") != std::string::npos);

    auto status_args = std::vector<std::string>{"status", "--format", "json"};
    for (auto& a : box.common_args(data, "a")) status_args.push_back(a);
    std::pair<int, std::string> status;
    for (int i = 0; i < 50; ++i) {
        status = run_daybook(status_args);
        if (status.second.find("\"stopped\":true") != std::string::npos) break;
        std::this_thread::sleep_for(100ms);
    }
    INFO(status.second);
    CHECK(status.first == 1);
    CHECK(status.second.find("\"partition\":" + std::to_string(bad) + ",") != std::string::npos);
    CHECK(status.second.find("chain broken") != std::string::npos);
    serve.terminate();
    // The processor fails closed too: it will not restore a partition whose log does not verify.
    serve_process again(box, "a", data, {"--roles", "processor"});
    int code = again.wait_exit(60s);
    INFO(again.log());
    CHECK(code == 3);
    CHECK(again.log().find("events partition " + std::to_string(bad)) != std::string::npos);
}

TEST_CASE("stores built from a log that is gone are rebuilt from the new log", "[integration][rebuild]") {
    sandbox box("rebuild");
    auto data = box.dir + "/data";
    {
        serve_process serve(box, "a", data);
        client c(box);
        REQUIRE(all_accepted(c.submit(chart("old", "acme")), 2));
        auto r = c.submit({post_entry("old-je", "acme", "je-1", "1000", "4000", 900)});
        REQUIRE(r.at("old-je").status() == v1::OUTCOME_STATUS_ACCEPTED);
        balance_json(box, data, "acme", "1000", events::token_of(r.at("old-je")));
        serve.terminate();
    }
    box.recreate_topics();  // same cluster, same topic names, an empty log
    serve_process serve(box, "a", data);
    client c(box);
    // The processor forgot the old history: the same accounts can be opened again.
    auto reopened = c.submit(chart("new", "acme"));
    REQUIRE(all_accepted(reopened, 2));
    auto token = events::token_of(reopened.at("new-sales"));
    auto json = balance_json(box, data, "acme", "1000", token);
    CHECK(json.find("\"debits_minor\":\"0\"") != std::string::npos);
    CHECK(json.find("\"entry_count\":\"0\"") != std::string::npos);
    serve.terminate();
    CHECK(serve.log().find("rebuilding") != std::string::npos);
}
