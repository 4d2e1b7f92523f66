// The projector crash loop (RocksDB's crash tests in spirit): a ledger log of 100,000 events is
// written into a sandbox's events topic; `daybook serve --roles projector` is killed again and
// again, at named crash points (consumers/crash_points.h: after_poll, mid_batch, before_write,
// after_write) and at random moments from outside. After each crash the store's state at its
// stored positions must equal a clean replay of the log to those positions (state digest), and
// at the end the whole store must equal a clean replay. One summary line.
//
// DAYBOOK_CRASH_EVENTS (default 100000), DAYBOOK_PROJECTOR_CRASHES (default 8; make test-long
// 40), DAYBOOK_CRASH_SEED vary it.

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <thread>

#include "consumers/kafka.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/ledger_codec.h"
#include "tests/harness.h"
#include "tests/test_support.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

int env_int(const char* name, int fallback) { return std::getenv(name) ? std::stoi(std::getenv(name)) : fallback; }

// A valid ledger log: one book per partition, 10 accounts each, then entries between them.
std::vector<std::uint64_t> write_ledger_log(const sandbox& box, int events_count, std::mt19937& rng) {
    auto producer = consumers::make_producer(box.kafka, "");
    REQUIRE(producer);
    const auto parts = static_cast<std::uint32_t>(box.partitions);
    std::vector<std::uint64_t> seq(parts, 0);
    std::vector<std::string> head(parts, events::genesis_hash());
    std::int64_t now = 1'790'000'000'000;
    auto emit = [&](std::uint32_t p, const events::ledger_event& e) {
        v1::EventEnvelope env;
        env.set_stream_id("book/crash" + std::to_string(p));
        env.set_version(seq[p] + 1);
        env.set_command_id("c" + std::to_string(p) + "-" + std::to_string(seq[p] + 1));
        env.set_recorded_at_ms(now += 3);
        events::set_payload(env, e);
        auto sealed = events::seal(p, ++seq[p], head[p], events::serialize(env));
        head[p] = sealed.hash;
        for (;;) {
            auto err = rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(box.topics.events().c_str()),
                                         RD_KAFKA_V_PARTITION(static_cast<int>(p)),
                                         RD_KAFKA_V_VALUE(sealed.value.data(), sealed.value.size()),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
                break;
            }
            rd_kafka_poll(producer->get(), 10);
        }
    };
    int written = 0;
    for (std::uint32_t p = 0; p < parts; ++p)
        for (int a = 0; a < 10; ++a, ++written) {
            auto opened = test::opened("a" + std::to_string(a), "EUR");
            opened.book = events::book_id{"crash" + std::to_string(p)};
            emit(p, opened);
        }
    for (int i = 0; written < events_count; ++i, ++written) {
        auto p = static_cast<std::uint32_t>(i % parts);
        auto from = "a" + std::to_string(rng() % 10), to = "a" + std::to_string(rng() % 10);
        if (from == to) to = from == "a0" ? "a1" : "a0";
        char date[11];
        std::snprintf(date, sizeof date, "2026-%02u-%02u", 1 + static_cast<unsigned>(rng() % 12), 1 + static_cast<unsigned>(rng() % 28));
        auto amount = static_cast<std::int64_t>(1 + rng() % 100000);
        emit(p, events::entry_posted{events::book_id{"crash" + std::to_string(p)}, events::entry_id{"e" + std::to_string(i)}, date, "",
                                     {test::debit(from, amount, "EUR"), test::credit(to, amount, "EUR")}, {}});
    }
    REQUIRE(rd_kafka_flush(producer->get(), 120000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    return seq;
}

}  // namespace

TEST_CASE("projector crash loop: after every crash the stored state equals a clean replay to the stored positions",
          "[projector-crash]") {
    const int events_count = env_int("DAYBOOK_CRASH_EVENTS", 100000), crashes = env_int("DAYBOOK_PROJECTOR_CRASHES", 8);
    const auto seed = static_cast<unsigned>(env_int("DAYBOOK_CRASH_SEED", 20261206));
    std::mt19937 rng(seed);
    sandbox box("projcrash", 3);
    auto last_seq = write_ledger_log(box, events_count, rng);
    const auto data = box.dir + "/data";
    auto args = [&](std::vector<std::string> a) {
        for (auto& x : box.common_args(data, "a")) a.push_back(x);
        return a;
    };
    const std::vector<std::string> points{"after_poll", "mid_batch", "before_write", "after_write", "random"};
    std::map<std::string, int> by_point;
    int mismatches = 0, not_reached = 0, fresh_starts = 0;
    std::string end_positions;
    for (std::size_t p = 0; p < last_seq.size(); ++p)
        end_positions += (p ? "," : "") + std::to_string(p) + ":" + std::to_string(last_seq[p]);
    bool at_end = false;
    for (int i = 0; i < crashes; ++i) {
        if (at_end) {  // nothing left to crash in: start again from an empty store
            std::filesystem::remove_all(data);
            ++fresh_starts;
        }
        const auto& point = points[static_cast<std::size_t>(i) % points.size()];
        // The n-th pass: early ones hit within the first batches, later ones deep into the log.
        const long n = point == "after_poll" ? 1 + static_cast<long>(rng() % 30000)
                       : point == "mid_batch" ? 1 + static_cast<long>(rng() % 6)
                                               : 1 + static_cast<long>(rng() % 3);
        std::vector<std::string> env;
        if (point != "random") env.push_back("DAYBOOK_CRASH_AT=" + point + ":" + std::to_string(n));
        serve_process serve(box, "a", data, {"--roles", "projector", "--digest-every-events", "0"}, env);
        if (point == "random") {
            std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 4000));
            serve.kill();
        } else if (serve.wait_exit(30s) == -1) {
            ++not_reached;  // the log ended first: stop it from outside
            serve.kill();
        }
        ++by_point[point];
        auto stored = run_daybook(args({"query", "state-digest"}));
        REQUIRE(stored.first == 0);
        auto digest = text_between(stored.second, "state digest ", " ");
        auto positions = text_between(stored.second, " at ", "\n");
        at_end = positions == end_positions;
        auto replay_dir = box.dir + "/replay-" + std::to_string(i);
        auto replayed = run_daybook(args({"replay", "--to", positions.empty() ? "0:0" : positions, "--state-dir", replay_dir}));
        INFO("crash " << i << " at " << point << ":" << n << " positions " << positions << "\n" << replayed.second);
        REQUIRE(replayed.first == 0);
        bool equal = text_between(replayed.second, "state digest ", " ") == digest;
        mismatches += !equal;
        CHECK(equal);
        std::filesystem::remove_all(replay_dir);
    }
    // The last run, uninterrupted, reaches the end; the store equals a replay of the whole log.
    {
        serve_process serve(box, "a", data, {"--roles", "projector"});
        auto live = projected_digest(box, data, "a", last_seq, 180s);
        serve.terminate();
        auto full = run_daybook(args({"replay", "--state-dir", box.dir + "/replay-full"}));
        REQUIRE(full.first == 0);
        bool equal = text_between(full.second, "state digest ", " ") == live;
        mismatches += !equal;
        CHECK(equal);
    }
    std::string counts;
    for (const auto& [p, c] : by_point) counts += " " + p + "=" + std::to_string(c);
    std::printf("projector crash loop: events=%d crashes=%d (%s) not_reached=%d fresh_starts=%d mismatches=%d seed=%u valid: %s\n",
                events_count, crashes, counts.substr(1).c_str(), not_reached, fresh_starts, mismatches, seed,
                mismatches == 0 ? "true" : "false");
    CHECK(mismatches == 0);
}
