// Exactly-once through Kafka transactions, the way Daybook uses them (Kafka's TransactionsTest in
// miniature), on the test's own broker: a read-process-write copier (tests/copier.cc) copies a
// stream of numbered records while it is SIGKILLed again and again and the broker is restarted
// once; a concurrent read_committed reader watches the output. Also: records of an aborted
// transaction are never visible, and a second producer with the same transactional id fences the
// first (the zombie's writes are never visible). One summary line, Jepsen style.

#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "consumers/kafka.h"
#include "consumers/log_reader.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

// Reads every partition of `topic` read_committed from the start until `stop`, keeping the
// values in arrival order per partition.
struct committed_reader {
    std::atomic<bool> stop{false};
    std::mutex m;
    std::map<int, std::vector<std::string>> values;
    std::thread thread;

    committed_reader(const consumers::kafka_settings& k, const std::string& topic, int partitions) {
        thread = std::thread([this, k, topic, partitions] {
            auto c = consumers::make_consumer(k, "", "");
            if (!c) return;
            consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(partitions));
            for (int p = 0; p < partitions; ++p)
                rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
            rd_kafka_assign(c->get(), list.get());
            while (!stop.load()) {
                consumers::message_ptr msg(rd_kafka_consumer_poll(c->get(), 100));
                if (!msg || msg->err) continue;
                std::lock_guard lock(m);
                values[msg->partition].emplace_back(static_cast<const char*>(msg->payload), msg->len);
            }
        });
    }
    ~committed_reader() {
        stop = true;
        if (thread.joinable()) thread.join();
    }
    std::size_t count(const std::string& prefix) {
        std::lock_guard lock(m);
        std::size_t n = 0;
        for (const auto& [p, v] : values)
            for (const auto& x : v) n += x.starts_with(prefix);
        return n;
    }
};

void produce(rd_kafka_t* producer, const std::string& topic, int partition, const std::string& value) {
    for (;;) {
        auto err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                                     RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
            return;
        }
        rd_kafka_poll(producer, 10);
    }
}

}  // namespace

TEST_CASE("exactly-once copier: SIGKILLs and a broker restart leave no duplicate, no loss, order kept; aborted and zombie writes invisible",
          "[eos]") {
    const int partitions = 3, records = 20000;
    const auto seed = static_cast<unsigned>(std::getenv("DAYBOOK_EOS_SEED") ? std::stoul(std::getenv("DAYBOOK_EOS_SEED")) : 20261206);
    std::mt19937 rng(seed);
    auto dir = std::filesystem::temp_directory_path() / ("daybook-eos-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    own_broker broker(29492, (dir / "kafka").string());
    sandbox box("eos", partitions, broker.brokers());
    // Two of the sandbox's topics (equal partition counts) serve as the copier's input and output.
    const auto input = box.topics.commands(), output = box.topics.events();
    auto outputs = [&] {
        auto c = consumers::make_consumer(box.kafka, "", "");
        REQUIRE(c);
        auto n = consumers::partition_count(c->get(), output, 30000);
        REQUIRE(n);
        return *n;
    }();
    committed_reader reader(box.kafka, output, outputs);

    // The input arrives over about ten seconds while the copier is killed.
    std::thread feeder([&] {
        auto p = consumers::make_producer(box.kafka, "");
        if (!p) return;
        for (int i = 0; i < records; ++i) {
            char value[32];
            std::snprintf(value, sizeof value, "in-%08d", i);
            produce(p->get(), input, i % partitions, value);
            if (i % 200 == 199) std::this_thread::sleep_for(100ms);
        }
        rd_kafka_flush(p->get(), 120000);
    });

    const std::vector<std::string> copier{std::string(DAYBOOK_TEST_COPIER), box.kafka.brokers, input, output,
                                          box.group + ".copier", box.topics.prefix + "copier", "50"};
    int kills = 0;
    bool broker_restarted = false;
    {
        auto run = std::make_unique<child_process>(copier, (dir / "copier.log").string());
        for (int round = 0; round < 8; ++round) {
            std::this_thread::sleep_for(std::chrono::milliseconds(700 + rng() % 1300));
            run->kill();
            ++kills;
            if (round == 3) {  // the broker goes away and comes back once, with the copier down
                broker.stop();
                broker.start();
                broker_restarted = true;
            }
            run = std::make_unique<child_process>(copier, (dir / "copier.log").string());
        }
        feeder.join();

        // An aborted transaction, and a zombie fenced by a newer producer with its transactional id.
        auto aborter = consumers::make_producer(box.kafka, box.topics.prefix + "aborter");
        REQUIRE(aborter);
        REQUIRE_FALSE(rd_kafka_init_transactions(aborter->get(), 30000));
        REQUIRE_FALSE(rd_kafka_begin_transaction(aborter->get()));
        for (int j = 0; j < 100; ++j) produce(aborter->get(), output, j % outputs, "aborted-" + std::to_string(j));
        REQUIRE(rd_kafka_flush(aborter->get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
        REQUIRE_FALSE(rd_kafka_abort_transaction(aborter->get(), 30000));

        auto zombie = consumers::make_producer(box.kafka, box.topics.prefix + "zombie");
        REQUIRE(zombie);
        REQUIRE_FALSE(rd_kafka_init_transactions(zombie->get(), 30000));
        REQUIRE_FALSE(rd_kafka_begin_transaction(zombie->get()));
        produce(zombie->get(), output, 0, "zombie-1");
        auto successor = consumers::make_producer(box.kafka, box.topics.prefix + "zombie");
        REQUIRE(successor);
        REQUIRE_FALSE(rd_kafka_init_transactions(successor->get(), 30000));  // fences the zombie
        produce(zombie->get(), output, 0, "zombie-2");
        rd_kafka_flush(zombie->get(), 10000);
        auto* zombie_commit = rd_kafka_commit_transaction(zombie->get(), 10000);
        CHECK(zombie_commit != nullptr);  // refused: fenced
        if (zombie_commit) rd_kafka_error_destroy(zombie_commit);
        REQUIRE_FALSE(rd_kafka_begin_transaction(successor->get()));
        produce(successor->get(), output, 0, "successor-1");
        REQUIRE_FALSE(rd_kafka_commit_transaction(successor->get(), 30000));

        // Wait for the copier to catch up (or two minutes).
        for (auto deadline = std::chrono::steady_clock::now() + 120s;
             reader.count("in-") < static_cast<std::size_t>(records) && std::chrono::steady_clock::now() < deadline;)
            std::this_thread::sleep_for(200ms);
        std::this_thread::sleep_for(2s);  // anything late (a duplicate) would show now
        reader.stop = true;
        reader.thread.join();
        run->kill();
    }

    // Count the anomalies.
    std::set<int> seen;
    std::size_t duplicates = 0, reordered = 0, foreign_partition = 0;
    for (const auto& [p, values] : reader.values) {
        int last = -1;
        for (const auto& v : values) {
            if (!v.starts_with("in-")) continue;
            int i = std::stoi(v.substr(3));
            if (!seen.insert(i).second) ++duplicates;
            if (i <= last) ++reordered;
            if (i % partitions != p) ++foreign_partition;
            last = std::max(last, i);
        }
    }
    const std::size_t lost = static_cast<std::size_t>(records) - seen.size();
    const auto aborted_visible = reader.count("aborted-"), zombie_visible = reader.count("zombie-");
    const auto successor_visible = reader.count("successor-");
    const bool valid = lost == 0 && duplicates == 0 && reordered == 0 && foreign_partition == 0 && aborted_visible == 0 &&
                       zombie_visible == 0 && successor_visible == 1;
    std::printf("eos copier: records=%d copied=%zu kills=%d broker_restarts=%d lost=%zu duplicated=%zu reordered=%zu "
                "aborted_visible=%zu zombie_visible=%zu seed=%u valid: %s\n",
                records, seen.size(), kills, broker_restarted ? 1 : 0, lost, duplicates, reordered, aborted_visible,
                zombie_visible, seed, valid ? "true" : "false");
    CHECK(lost == 0);
    CHECK(duplicates == 0);
    CHECK(reordered == 0);
    CHECK(foreign_partition == 0);
    CHECK(aborted_visible == 0);
    CHECK(zombie_visible == 0);
    CHECK(successor_visible == 1);
    std::filesystem::remove_all(dir);
}

namespace {

// Delivery reports of the durability test: the ids the broker acknowledged.
struct acknowledged {
    std::mutex m;
    std::set<int> ids;
    std::size_t failed = 0;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* acks = static_cast<acknowledged*>(opaque);
    std::lock_guard lock(acks->m);
    if (msg->err) {
        ++acks->failed;
        return;
    }
    acks->ids.insert(std::stoi(std::string(static_cast<const char*>(msg->payload), msg->len).substr(2)));
}

}  // namespace

TEST_CASE("broker SIGKILLs during idempotent acks=all production: nothing acknowledged is lost, nothing is written twice",
          "[broker-kill]") {
    // Scope: the broker process is killed; a single-node broker does not fsync every write, so a
    // machine crash is not covered.
    const int partitions = 3;
    const int faults = std::getenv("DAYBOOK_DURABILITY_FAULTS") ? std::stoi(std::getenv("DAYBOOK_DURABILITY_FAULTS")) : 3;
    auto dir = std::filesystem::temp_directory_path() / ("daybook-durability-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    own_broker broker(29592, (dir / "kafka").string());
    sandbox box("durability", partitions, broker.brokers());
    const auto topic = box.topics.events();
    // Idempotence holds only while no message times out: a timed-out batch makes librdkafka bump
    // the producer epoch and send what follows again, and a batch the broker had written but not
    // acknowledged is then written twice. The message timeout (transaction timeout - 1 s) must
    // outlast the broker's absence, as in production where an outage stops the processor's
    // transaction instead (read_committed readers never see its records).
    auto settings = box.kafka;
    settings.transaction_timeout_ms = 121000;
    acknowledged acks;
    std::atomic<bool> stop{false};
    std::atomic<int> recreated{0}, sent{0};
    std::thread writer([&] {
        int next = 0;
        while (!stop.load()) {
            auto* conf = consumers::base_conf(settings);
            rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
            rd_kafka_conf_set_opaque(conf, &acks);
            auto p = consumers::make_producer(settings, "", conf);
            if (!p) return;
            char errstr[256];
            while (!stop.load()) {
                // librdkafka 2.0.2 may raise a false fatal sequence error after a broker kill: a
                // new producer takes over (info, not an anomaly).
                if (rd_kafka_fatal_error(p->get(), errstr, sizeof errstr)) {
                    ++recreated;
                    break;
                }
                const std::string value = "d-" + std::to_string(next);
                auto err = rd_kafka_producev(p->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(next % partitions),
                                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                    ++next;
                    ++sent;
                }
                rd_kafka_poll(p->get(), err ? 50 : 0);
                if (next % 10 == 0) std::this_thread::sleep_for(5ms);  // about 2,000 records a second
            }
            rd_kafka_flush(p->get(), 120000);
        }
    });
    for (int f = 0; f < faults; ++f) {
        std::this_thread::sleep_for(2s);
        broker.stop(true);  // SIGKILL
        std::this_thread::sleep_for(500ms);
        broker.start();
    }
    std::this_thread::sleep_for(3s);
    stop = true;
    writer.join();

    std::map<int, int> copies;
    auto read = consumers::read_whole_topic(box.kafka, topic, [&](std::uint32_t, std::int64_t, std::string_view v) {
        ++copies[std::stoi(std::string(v.substr(2)))];
    });
    REQUIRE(read);
    std::size_t lost = 0, duplicated = 0, unacknowledged_present = 0;
    for (int id : acks.ids) lost += copies.count(id) == 0;
    for (const auto& [id, n] : copies) {
        duplicated += n > 1;
        unacknowledged_present += acks.ids.count(id) == 0;
    }
    std::printf("broker kill durability: sent=%d acknowledged=%zu failed=%zu faults=%d lost=%zu duplicated=%zu "
                "unacknowledged_present=%zu producer_recreations=%d valid: %s\n",
                sent.load(), acks.ids.size(), acks.failed, faults, lost, duplicated, unacknowledged_present, recreated.load(),
                lost == 0 && duplicated == 0 ? "true" : "false");
    CHECK(acks.ids.size() > 1000);
    CHECK(lost == 0);
    CHECK(duplicated == 0);
    std::filesystem::remove_all(dir);
}
