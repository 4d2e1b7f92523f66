// Integration tests against the real local Kafka broker (started by the ctest fixture). Each test
// has its own topics, consumer group, instance ids and directories, and stops what it started by
// PID.

#include <catch2/catch.hpp>
#include <httplib.h>
#include <librdkafka/rdkafka.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "events/codec.h"
#include "events/hashing.h"
#include "events/limits.h"
#include "events/murmur2.h"
#include "tests/harness.h"
#include "tests/http_support.h"

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

    // Two writers for one aggregate must be impossible: a record whose key is not its book, or
    // that sits in another partition than murmur2(key), is refused with a record and an outcome.
    c.send_raw("b", p, events::serialize(post_entry("d-misrouted", "elsewhere", "je-m", "1000", "4000", 1)));
    c.send_raw("b", (p + 1) % box.partitions, events::serialize(post_entry("d-wrong-part", "b", "je-w", "1000", "4000", 1)));
    auto routing = c.wait({"d-misrouted", "d-wrong-part"}, 20s);
    REQUIRE(routing.size() == 2);
    CHECK(routing.at("d-misrouted").code_name() == "routing_key_mismatch");
    CHECK(routing.at("d-misrouted").field() == "key");
    CHECK(routing.at("d-wrong-part").code_name() == "wrong_partition");
    CHECK(routing.at("d-wrong-part").field() == "partition");

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

TEST_CASE("two deployments on one cluster with the same instance id do not fence each other", "[integration][fencing]") {
    // Transactional ids are global to a cluster: they carry the deployment's topic prefix.
    sandbox one("deploy-one"), two("deploy-two");
    serve_process a(one, "same", one.dir + "/data", {"--roles", "processor"});
    serve_process b(two, "same", two.dir + "/data", {"--roles", "processor"});
    client c1(one), c2(two);
    for (int round = 0; round < 3; ++round) {  // both keep committing, round after round
        const auto r = std::to_string(round);
        CHECK(all_accepted(c1.submit(chart("one-" + r, "b" + r)), 2));
        CHECK(all_accepted(c2.submit(chart("two-" + r, "b" + r)), 2));
    }
    CHECK(a.running());
    CHECK(b.running());
    CHECK(a.log().find("fenced") == std::string::npos);
    CHECK(b.log().find("fenced") == std::string::npos);
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
    CHECK(first.log().find(box.topics.prefix + "processor-same") != std::string::npos);
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
        // SIGKILL at a third of the stream, in the middle of processing; then again at half, just
        // after the last third is sent (a restarted processor can work off the rest in one
        // transaction, so waiting for two thirds could find nothing left to interrupt).
        const auto split = static_cast<std::ptrdiff_t>(2 * entries.size() / 3);
        c.send({entries.begin(), entries.begin() + split});
        collect(entries.size() / 3, 120s);
        serve.kill();
        killed_at.push_back(outcomes.size());
        serve_process again(box, "a", data, {"--commit-interval-ms", "30"});
        collect(entries.size() / 2, 120s);
        c.send({entries.begin() + split, entries.end()});
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

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

v1::CommandEnvelope command(const std::string& id, const std::string& actor = "alice") {
    v1::CommandEnvelope c;
    c.set_command_id(id);
    c.set_actor(actor);
    return c;
}

v1::CommandEnvelope place_hold(const std::string& id, const std::string& hold, std::int64_t amount, std::int64_t expires) {
    auto c = command(id);
    auto* p = c.mutable_place_hold();
    p->set_book_id("bank");
    p->set_hold_id(hold);
    p->set_debit_account_id("customer");
    p->set_credit_account_id("merchant");
    p->set_amount_minor(amount);
    p->set_currency("EUR");
    p->set_expires_at_ms(expires);
    return c;
}

v1::CommandEnvelope capture(const std::string& id, const std::string& hold, const std::string& entry, std::int64_t amount,
                            bool final) {
    auto c = command(id);
    auto* p = c.mutable_capture_hold();
    p->set_book_id("bank");
    p->set_hold_id(hold);
    p->set_entry_id(entry);
    p->set_amount_minor(amount);
    p->set_effective_date("2026-04-02");
    p->set_final(final);
    return c;
}

std::string code_of(const std::map<std::string, v1::Outcome>& outcomes, const std::string& id) {
    auto it = outcomes.find(id);
    if (it == outcomes.end()) return "no outcome";
    return it->second.status() == v1::OUTCOME_STATUS_ACCEPTED ? "accepted" : it->second.code_name();
}

}  // namespace

TEST_CASE("holds with expiry swept by the scheduler, partial captures, reversals and period locks",
          "[integration][holds]") {
    sandbox box("holds");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data, {"--scheduler-interval-ms", "200"});
    client c(box);
    auto customer = open_account("o1", "bank", "customer", v1::ACCOUNT_TYPE_LIABILITY);
    customer.mutable_open_account()->mutable_constraints()->set_debits_must_not_exceed_credits(true);
    REQUIRE(all_accepted(c.submit({customer, open_account("o2", "bank", "cash", v1::ACCOUNT_TYPE_ASSET),
                                   open_account("o3", "bank", "merchant", v1::ACCOUNT_TYPE_LIABILITY)}),
                         3));
    // The customer deposits 1000.00; its debits may never exceed its credits.
    REQUIRE(all_accepted(c.submit({post_entry("fund", "bank", "dep-1", "cash", "customer", 100000)}), 1));
    auto step = [&](const v1::CommandEnvelope& cmd) { return code_of(c.submit({cmd}), cmd.command_id()); };

    CHECK(step(place_hold("h1", "card-1", 60000, wall_ms() + 60000)) == "accepted");
    CHECK(step(place_hold("h2", "card-2", 60000, wall_ms() + 60000)) == "exceeds_credits");  // 400.00 available
    CHECK(step(capture("c1", "card-1", "cap-1", 20000, false)) == "accepted");
    CHECK(step(capture("c2", "card-1", "cap-2", 50000, false)) == "capture_exceeds_hold");  // 400.00 left
    CHECK(step(capture("c3", "card-1", "cap-3", 10000, true)) == "accepted");  // releases 300.00
    CHECK(step(capture("c4", "card-1", "cap-4", 1, false)) == "hold_already_resolved");

    // 700.00 available; a short hold of 500.00 leaves 200.00 until its deadline passes.
    CHECK(step(place_hold("h3", "card-3", 50000, wall_ms() + 1500)) == "accepted");
    CHECK(step(post_entry("w1", "bank", "wd-1", "customer", "cash", 40000)) == "exceeds_credits");
    // The scheduler sweeps the expired hold into the log.
    std::string status_after;
    for (int i = 0; i < 100 && status_after != "expired"; ++i) {
        std::this_thread::sleep_for(200ms);
        auto args = std::vector<std::string>{"query", "holds", "--book", "bank", "--format", "json"};
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        auto [code, out] = run_daybook(args);
        if (out.find("\"hold_id\":\"card-3\"") != std::string::npos &&
            out.find("HOLD_STATUS_EXPIRED") != std::string::npos)
            status_after = "expired";
    }
    CHECK(status_after == "expired");
    CHECK(step(post_entry("w2", "bank", "wd-2", "customer", "cash", 40000)) == "accepted");
    CHECK(step(capture("c5", "card-3", "cap-5", 1, false)) == "hold_already_resolved");

    // Reversal: once, mirrored.
    auto reverse = [&](const std::string& id) {
        auto cmd = command(id);
        auto* p = cmd.mutable_reverse_entry();
        p->set_book_id("bank");
        p->set_entry_id("wd-2");
        p->set_reversal_entry_id("wd-2-rev-" + id);
        p->set_effective_date("2026-04-03");
        return cmd;
    };
    CHECK(step(reverse("r1")) == "accepted");
    CHECK(step(reverse("r2")) == "entry_already_reversed");

    // Period lock: closed by alice, refused posting, reopened by bob only.
    auto close = command("p1", "alice");
    close.mutable_close_period()->set_book_id("bank");
    close.mutable_close_period()->set_through_date("2026-03-31");
    CHECK(step(close) == "accepted");
    auto late = post_entry("late", "bank", "late-1", "cash", "customer", 5);
    late.mutable_post_entry()->set_effective_date("2026-03-15");
    CHECK(step(late) == "period_closed");
    auto reopen_same = command("p2", "alice");
    reopen_same.mutable_reopen_period()->set_book_id("bank");
    CHECK(step(reopen_same) == "reopen_requires_other_actor");
    auto reopen_other = command("p3", "bob");
    reopen_other.mutable_reopen_period()->set_book_id("bank");
    CHECK(step(reopen_other) == "accepted");
    auto late_again = late;
    late_again.set_command_id("late-2");
    auto last = c.submit({late_again});
    REQUIRE(code_of(last, "late-2") == "accepted");

    // Balances: 1000.00 + 0.05 credited, 200.00 + 400.00 - 400.00 debited, nothing pending.
    auto json = balance_json(box, data, "bank", "customer", events::token_of(last.at("late-2")));
    INFO(json);
    CHECK(json.find("\"credits_minor\":\"140005\"") != std::string::npos);  // deposit, reversal, late
    CHECK(json.find("\"debits_minor\":\"70000\"") != std::string::npos);    // captures 300.00, withdrawal 400.00
    CHECK(json.find("\"debits_pending_minor\":\"0\"") != std::string::npos);
    serve.terminate();
    CHECK(audit_events(box).problems.empty());
}

namespace {

std::string base36(int n, int width) {
    std::string out(static_cast<std::size_t>(width), '0');
    for (int i = width - 1; i >= 0; --i, n /= 36) out[static_cast<std::size_t>(i)] = "0123456789abcdefghijklmnopqrstuvwxyz"[n % 36];
    return out;
}

v1::CommandEnvelope linked(const std::string& id, const std::vector<v1::CommandEnvelope>& commands) {
    v1::CommandEnvelope run;
    run.set_command_id(id);
    for (const auto& c : commands) *run.mutable_linked_run()->add_commands() = c;
    return run;
}

}  // namespace

TEST_CASE("linked runs are all-or-nothing, up to 8,189 commands in one record", "[integration][linked]") {
    sandbox box("linked");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    REQUIRE(all_accepted(c.submit(chart("l", "b")), 2));

    SECTION("a run with one bad command applies nothing and says who failed") {
        auto bad = linked("run-bad", {post_entry("x1", "b", "e1", "1000", "4000", 10),
                                      post_entry("x2", "b", "e2", "1000", "9999", 10),
                                      post_entry("x3", "b", "e3", "1000", "4000", 10)});
        auto r = c.submit({bad});
        REQUIRE(r.count("run-bad") == 1);
        CHECK(r.at("run-bad").status() == v1::OUTCOME_STATUS_REJECTED);
        CHECK(r.at("run-bad").code_name() == "account_not_found");
        CHECK(r.at("run-bad").field() == "linked_run.commands[1].post_entry.legs[1].account_id");
        auto inner = c.wait({"x1", "x2", "x3"}, 10s);
        REQUIRE(inner.size() == 3);
        CHECK(inner.at("x1").code_name() == "linked_command_failed");
        CHECK(inner.at("x2").code_name() == "account_not_found");
        CHECK(inner.at("x3").code_name() == "linked_command_failed");
        auto json = balance_json(box, data, "b", "1000", events::token_of(r.at("run-bad")));
        CHECK(json.find("\"debits_minor\":\"0\"") != std::string::npos);

        // The corrected run, under a new run id, may reuse the inner ids: they never happened.
        auto good = linked("run-good", {post_entry("x1", "b", "e1", "1000", "4000", 10),
                                        post_entry("x2", "b", "e2", "1000", "4000", 10),
                                        post_entry("x3", "b", "e3", "1000", "4000", 10)});
        auto g = c.submit({good});
        REQUIRE(g.count("run-good") == 1);
        CHECK(g.at("run-good").status() == v1::OUTCOME_STATUS_ACCEPTED);
        CHECK(g.at("run-good").events_size() == 3);
        json = balance_json(box, data, "b", "1000", events::token_of(g.at("run-good")));
        CHECK(json.find("\"debits_minor\":\"30\"") != std::string::npos);
        // A retried run gives the first outcome and appends nothing.
        auto again = c.submit({good});
        CHECK(again.at("run-good").duplicate());
        // A run may not mix books.
        auto mixed = linked("run-mixed", {post_entry("y1", "b", "f1", "1000", "4000", 1),
                                          post_entry("y2", "other", "f2", "1000", "4000", 1)});
        CHECK(c.submit({mixed}).at("run-mixed").code_name() == "linked_run_invalid");
    }
    SECTION("8,189 commands in one run, and one more is refused") {
        std::vector<v1::CommandEnvelope> commands;
        for (int i = 0; i < 8189; ++i) {
            auto e = post_entry(base36(i, 3), "b", base36(i, 3), "1000", "4000", 1);
            e.mutable_post_entry()->clear_memo();
            commands.push_back(e);
        }
        auto run = linked("run-max", commands);
        REQUIRE(events::serialize(run).size() <= limits::command_bytes_max);
        auto r = c.submit({run}, 120s);
        REQUIRE(r.count("run-max") == 1);
        CHECK(r.at("run-max").status() == v1::OUTCOME_STATUS_ACCEPTED);
        CHECK(r.at("run-max").events_size() == 8189);
        auto json = balance_json(box, data, "b", "1000", events::token_of(r.at("run-max")));
        CHECK(json.find("\"debits_minor\":\"8189\"") != std::string::npos);
        commands.push_back(post_entry("zzzz", "b", "zzzz", "1000", "4000", 1));
        auto too_long = c.submit({linked("run-over", commands)}, 60s);
        CHECK(too_long.at("run-over").code_name() == "linked_run_too_long");
    }
    serve.terminate();
    CHECK(audit_events(box).problems.empty());
}

TEST_CASE("audit: verify the live log, sign a checkpoint, prove, replay to the live digest", "[integration][audit]") {
    sandbox box("audit");
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    REQUIRE(all_accepted(c.submit(chart("au", "acme")), 2));
    std::vector<v1::CommandEnvelope> entries;
    for (int i = 0; i < 50; ++i)
        entries.push_back(post_entry("au-je" + std::to_string(i), "acme", "je-" + std::to_string(i), "1000", "4000", 10 + i));
    entries.push_back(post_entry("au-bad", "acme", "je-bad", "1000", "9999", 1));
    auto outcomes = c.submit(entries);
    REQUIRE(outcomes.size() == entries.size());
    auto run = [&](std::vector<std::string> args) {
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        return run_daybook(args);
    };
    auto [vcode, vout] = run({"audit", "verify"});
    INFO(vout);
    CHECK(vcode == 0);
    CHECK(vout.find("valid: true") != std::string::npos);

    auto priv = box.dir + "/k.pem", pub = box.dir + "/k.pub", cp1 = box.dir + "/cp1", cp2 = box.dir + "/cp2";
    REQUIRE(run_daybook({"audit", "keygen", "--private", priv, "--public", pub}).first == 0);
    REQUIRE(run({"audit", "checkpoint", "--key", priv, "--out", cp1}).first == 0);
    CHECK(run({"audit", "checkpoint", "--key", priv, "--out", cp1}).first == 2);  // never overwritten
    auto more = c.submit({post_entry("au-more", "acme", "je-more", "1000", "4000", 5)});
    REQUIRE(more.count("au-more") == 1);
    REQUIRE(run({"audit", "checkpoint", "--key", priv, "--out", cp2}).first == 0);
    auto [ccode, cout_] = run({"audit", "verify", "--checkpoint", cp1, "--public-key", pub});
    INFO(cout_);
    CHECK(ccode == 0);

    auto [pcode, proof] = run({"audit", "prove-consistency", cp1, cp2, "--public-key", pub});
    REQUIRE(pcode == 0);
    std::ofstream(box.dir + "/consistency") << proof;
    auto [kcode, kout] = run_daybook({"audit", "check-proof", box.dir + "/consistency"});
    INFO(kout);
    CHECK(kcode == 0);
    int p = events::partition_for("acme", box.partitions);
    auto [icode, inclusion] = run({"audit", "prove", "--event", std::to_string(p) + ":3"});
    REQUIRE(icode == 0);
    std::ofstream(box.dir + "/inclusion") << inclusion;
    CHECK(run_daybook({"audit", "check-proof", box.dir + "/inclusion"}).first == 0);

    auto [tcode, tout] = run({"audit", "trail", "--command-id", "au-bad"});
    CHECK(tcode == 0);
    CHECK(tout.find("rejected account_not_found") != std::string::npos);

    // A replay from offset 0 into a fresh directory reaches the live projection's digest.
    auto audit = audit_events(box);
    auto live = projected_digest(box, data, "a", audit.last_seq, 60s);
    auto [rcode, rout] = run({"replay", "--state-dir", box.dir + "/replayed"});
    INFO(rout);
    REQUIRE(rcode == 0);
    CHECK(rout.find("state digest " + live) != std::string::npos);
    serve.terminate();

    // The exported log verifies offline against the checkpoint, and a tampered copy does not.
    auto exported = box.dir + "/log.bin";
    REQUIRE(run({"audit", "export", "--out", exported}).first == 0);
    auto offline = run_daybook({"audit", "verify", "--log", exported, "--partitions", std::to_string(box.partitions),
                                "--checkpoint", cp2, "--public-key", pub});
    CHECK(offline.first == 0);
    // The independent checker (tools/audit-check, Python, written from docs/audit-format.md alone)
    // agrees on the log, the checkpoints and the proofs.
    const std::string checker = test_env::get().source_dir + "/tools/audit-check";
    auto independent = run_program({checker, "verify-log", exported, "--checkpoint", cp2, "--public-key", pub});
    INFO(independent.second);
    CHECK(independent.first == 0);
    CHECK(run_program({checker, "verify-log", exported, "--checkpoint", cp1, "--public-key", pub}).first == 0);
    CHECK(run_program({checker, "verify-inclusion", box.dir + "/inclusion"}).first == 0);
    CHECK(run_program({checker, "verify-consistency", box.dir + "/consistency"}).first == 0);
    CHECK(run_program({checker, "verify-checkpoint", cp2, "--public-key", pub}).first == 0);
    {
        std::fstream f(exported, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(200);
        char byte = 0;
        f.read(&byte, 1);
        f.seekp(200);
        byte ^= 0x40;
        f.write(&byte, 1);
    }
    auto tampered = run_daybook({"audit", "verify", "--log", exported, "--partitions", std::to_string(box.partitions)});
    INFO(tampered.second);
    CHECK(tampered.first == 1);
    CHECK(tampered.second.find("kind=altered") != std::string::npos);
    auto tampered_independent = run_program({checker, "verify-log", exported});
    INFO(tampered_independent.second);
    CHECK(tampered_independent.first == 1);
    // Both name the same partition, seq and kind.
    auto first_break = [](const std::string& out) {
        auto at = out.find("break partition=");
        return at == std::string::npos ? std::string() : out.substr(at, out.find(" kind=", at) + 13 - at);
    };
    CHECK_FALSE(first_break(tampered.second).empty());
    CHECK(first_break(tampered.second) == first_break(tampered_independent.second));
}

TEST_CASE("the broker stopped, killed and restarted under a stream: nothing lost or doubled",
          "[integration][broker-restarts]") {
    auto broker_dir = std::filesystem::temp_directory_path() / ("daybook-own-broker-" + std::to_string(::getpid()));
    own_broker broker(29192, broker_dir.string());
    sandbox box("restarts", 3, broker.brokers());
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data, {"--commit-interval-ms", "30"});
    client c(box);
    std::vector<v1::CommandEnvelope> setup, entries;
    for (int b = 0; b < 4; ++b)
        for (auto& cmd : chart("r" + std::to_string(b), "book" + std::to_string(b))) setup.push_back(cmd);
    REQUIRE(all_accepted(c.submit(setup, 90s), setup.size()));
    for (int i = 0; i < 3000; ++i)
        entries.push_back(post_entry("r-je" + std::to_string(i), "book" + std::to_string(i % 4), "je-" + std::to_string(i),
                                     "1000", "4000", 1 + i % 13));
    auto chunk = [&](int k) {
        return std::vector<v1::CommandEnvelope>(entries.begin() + k * 1000, entries.begin() + (k + 1) * 1000);
    };
    c.send(chunk(0));
    std::this_thread::sleep_for(300ms);
    broker.stop();  // SIGTERM: a clean broker restart in the middle of processing
    std::this_thread::sleep_for(2s);
    broker.start();
    c.send(chunk(1));
    std::this_thread::sleep_for(300ms);
    broker.stop(true);  // SIGKILL: the broker dies with transactions open
    std::this_thread::sleep_for(1s);
    broker.start();
    c.send(chunk(2));
    std::this_thread::sleep_for(300ms);
    serve.kill();  // and the processor too
    serve_process again(box, "a", data, {"--commit-interval-ms", "30"});

    std::set<std::string> ids;
    for (const auto& e : entries) ids.insert(e.command_id());
    auto outcomes = c.wait(ids, 120s);
    std::vector<v1::CommandEnvelope> retry;
    for (const auto& e : entries)
        if (!outcomes.count(e.command_id())) retry.push_back(e);
    INFO("retried " << retry.size());
    if (!retry.empty()) {
        auto more = c.submit(retry, 120s);
        outcomes.insert(more.begin(), more.end());
    }
    CHECK(outcomes.size() == entries.size());
    for (const auto& [id, o] : outcomes) CHECK(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    for (const auto& e : entries) CHECK(audit.records_per_command[e.command_id()] == 1);
    auto live = projected_digest(box, data, "a", audit.last_seq, 120s);
    again.terminate();
    INFO(again.log().substr(again.log().size() > 3000 ? again.log().size() - 3000 : 0));
    serve_process rebuild(box, "clean", box.dir + "/rebuild", {"--roles", "projector"});
    CHECK(projected_digest(box, box.dir + "/rebuild", "clean", audit.last_seq, 120s) == live);
    rebuild.terminate();
}

TEST_CASE("HTTP API: tokens and roles, commands with outcomes, queries with min_token, problems",
          "[integration][http]") {
    sandbox box("http");
    auto data = box.dir + "/data";
    auto tokens = box.dir + "/tokens";
    auto submitter = run_daybook({"tokens", "create", "--file", tokens, "--actor", "alice", "--role", "submitter"});
    auto reader = run_daybook({"tokens", "create", "--file", tokens, "--actor", "rita", "--role", "reader"});
    REQUIRE(submitter.first == 0);
    REQUIRE(reader.first == 0);
    int port = 28000 + static_cast<int>(::getpid() % 1000);
    serve_process serve(box, "a", data, {"--http", "127.0.0.1:" + std::to_string(port), "--tokens-file", tokens});
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(40, 0);
    REQUIRE(wait_for_health(http));

    const std::string chart_body =
        R"({"commands":[{"command_id":"w-1","open_account":{"book_id":"web","account_id":"cash","name":"Cash","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}},)"
        R"({"command_id":"w-2","open_account":{"book_id":"web","account_id":"sales","name":"Sales","type":"ACCOUNT_TYPE_REVENUE","currency":"EUR","scale":2}}]})";
    auto anonymous = http.Post("/v1/commands", chart_body, "application/json");
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    auto as_reader = http.Post("/v1/commands", bearer(reader.second), chart_body, "application/json");
    REQUIRE(as_reader);
    CHECK(as_reader->status == 403);
    auto unknown = http.Post("/v1/commands", bearer(submitter.second), R"({"command_id":"w-x","bogus":1})", "application/json");
    REQUIRE(unknown);
    CHECK(unknown->status == 400);
    CHECK(unknown->get_header_value("Content-Type") == "application/problem+json");
    auto actor = http.Post("/v1/commands", bearer(submitter.second),
                           R"({"command_id":"w-y","actor":"mallory","close_account":{"book_id":"web","account_id":"cash"}})",
                           "application/json");
    REQUIRE(actor);
    CHECK(actor->status == 400);
    CHECK(actor->body.find("\"field\":\"actor\"") != std::string::npos);

    auto opened = http.Post("/v1/commands", bearer(submitter.second), chart_body, "application/json");
    REQUIRE(opened);
    INFO(opened->body);
    CHECK(opened->status == 200);
    CHECK(opened->body.find("\"pending\":[]") != std::string::npos);
    auto headers = bearer(submitter.second);
    headers.emplace("Idempotency-Key", "w-3");
    const std::string entry =
        R"({"post_entry":{"book_id":"web","entry_id":"W1","effective_date":"2026-11-23","legs":[{"account_id":"cash","side":"SIDE_DEBIT","amount_minor":"500","currency":"EUR"},{"account_id":"sales","side":"SIDE_CREDIT","amount_minor":"500","currency":"EUR"}]}})";
    auto posted = http.Post("/v1/commands?wait_ms=10000", headers, entry, "application/json");
    REQUIRE(posted);
    INFO(posted->body);
    REQUIRE(posted->status == 200);
    auto at = posted->body.find("\"token\":\"");
    REQUIRE(at != std::string::npos);
    auto token = posted->body.substr(at + 9, posted->body.find('"', at + 9) - at - 9);
    // Retrying with the same key answers with the first outcome: same events, nothing appended.
    auto again = http.Post("/v1/commands", headers, entry, "application/json");
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(again->body.find("\"token\":\"" + token + "\"") != std::string::npos);

    auto balance = http.Get("/v1/books/web/accounts/cash?min_token=" + token, bearer(reader.second));
    REQUIRE(balance);
    INFO(balance->body);
    CHECK(balance->status == 200);
    CHECK(balance->body.find("\"debits_minor\":\"500\"") != std::string::npos);
    auto missing = http.Get("/v1/books/web/accounts/nope", bearer(reader.second));
    REQUIRE(missing);
    CHECK(missing->status == 404);
    auto statement = http.Get("/v1/books/web/accounts/cash/statement?limit=1", bearer(reader.second));
    REQUIRE(statement);
    CHECK(statement->body.find("\"next_after\":\"1\"") != std::string::npos);
    auto sheet = http.Get("/v1/books/web/balance-sheet", bearer(reader.second));
    REQUIRE(sheet);
    INFO(sheet->body);
    CHECK(sheet->body.find("\"assets\":\"500\"") != std::string::npos);
    CHECK(sheet->body.find("\"net_income\":\"500\"") != std::string::npos);
    CHECK(sheet->body.find("\"balanced\":true") != std::string::npos);
    auto income = http.Get("/v1/books/web/income-statement?from=2026-11-01&to=2026-11-30", bearer(reader.second));
    REQUIRE(income);
    CHECK(income->body.find("\"revenue\":\"500\"") != std::string::npos);
    auto metrics = http.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->body.find("daybook_commands_total{outcome=\"accepted\"} 3") != std::string::npos);
    auto ready = http.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 200);

    // The actor came from the token, not from the client.
    serve.terminate();
    auto audit_args = std::vector<std::string>{"audit", "trail", "--command-id", "w-3"};
    for (auto& a : box.common_args(data, "a")) audit_args.push_back(a);
    auto [code, trail] = run_daybook(audit_args);
    CHECK(code == 0);
    CHECK(trail.find("actor=alice") != std::string::npos);
}
