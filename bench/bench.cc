// daybook-bench: Daybook's throughput as ratios to raw baselines measured in the same run, against
// the same broker, with the same record sizes and partition count (issue 8, first cut).
//
//   B0-produce  idempotent produce of event-sized records
//   B0-consume  read_committed consume of them
//   B0-txn      a transactional copier with Daybook's shape and nothing else: consume a
//               command-sized record, produce an event-sized and an outcome-sized record, offsets
//               in the same transaction, one transaction per 50 ms or 5,000 records
//   W1          Daybook: two-leg entries over 10,000 accounts in 6 books, closed loop from the
//               first command produced to the last outcome read (processor + projector running)
// Results: a Markdown table on stdout and JSON + Markdown under --out.

#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "consumers/kafka.h"
#include "consumers/outcome_waiter.h"
#include "consumers/topics.h"
#include "events/codec.h"
#include "events/murmur2.h"

using namespace daybook;
using clock_type = std::chrono::steady_clock;

namespace {

struct result_row {
    std::string name, detail;
    double per_second = 0;
};

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

void produce_all(rd_kafka_t* rk, const std::string& topic, int partitions, std::size_t n, std::size_t bytes) {
    std::string value(bytes, 'x');
    for (std::size_t i = 0; i < n; ++i) {
        auto key = "k" + std::to_string(i % 64);
        for (;;) {
            auto err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                                         RD_KAFKA_V_PARTITION(events::partition_for(key, partitions)),
                                         RD_KAFKA_V_KEY(key.data(), key.size()),
                                         RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 5);
                continue;
            }
            break;
        }
    }
    rd_kafka_flush(rk, 120000);
}

std::size_t consume_all(const consumers::kafka_settings& k, const std::string& topic, int partitions, std::size_t n) {
    auto c = consumers::make_consumer(k, "", "");
    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(partitions));
    for (int p = 0; p < partitions; ++p)
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c->get(), list.get());
    std::size_t got = 0;
    auto deadline = clock_type::now() + std::chrono::minutes(5);
    while (got < n && clock_type::now() < deadline) {
        consumers::message_ptr m(rd_kafka_consumer_poll(c->get(), 100));
        if (m && !m->err) ++got;
    }
    return got;
}

// The fair denominator: Daybook's transaction shape without Daybook.
std::size_t txn_copier(const consumers::kafka_settings& k, const consumers::topic_names& t, int partitions, std::size_t n) {
    rd_kafka_conf_t* cconf = consumers::base_conf(k);
    auto consumer = consumers::make_consumer(k, "bench-copier-" + t.prefix, "", cconf);
    auto producer = consumers::make_producer(k, "bench-copier-" + t.prefix);
    consumers::error_ptr e(rd_kafka_init_transactions(producer->get(), 30000));
    consumers::tpl_ptr sub(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(sub.get(), t.commands().c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer->get(), sub.get());
    std::string event(300, 'e'), outcome(120, 'o');
    std::size_t copied = 0;
    auto deadline = clock_type::now() + std::chrono::minutes(5);
    while (copied < n && clock_type::now() < deadline) {
        std::map<int, std::int64_t> next;
        auto batch_end = clock_type::now() + std::chrono::milliseconds(50);
        bool open = false;
        std::size_t in_batch = 0;
        while (clock_type::now() < batch_end && in_batch < 5000) {
            consumers::message_ptr m(rd_kafka_consumer_poll(consumer->get(), 10));
            if (!m || m->err) continue;
            if (!open) {
                e.reset(rd_kafka_begin_transaction(producer->get()));
                open = true;
            }
            rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(t.events().c_str()), RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_VALUE(event.data(), event.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(t.outcomes().c_str()), RD_KAFKA_V_PARTITION(m->partition % 3),
                              RD_KAFKA_V_VALUE(outcome.data(), outcome.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            next[m->partition] = m->offset + 1;
            ++in_batch;
        }
        if (!open) continue;
        consumers::tpl_ptr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
        for (auto [p, o] : next) rd_kafka_topic_partition_list_add(offsets.get(), t.commands().c_str(), p)->offset = o;
        auto* md = rd_kafka_consumer_group_metadata(consumer->get());
        e.reset(rd_kafka_send_offsets_to_transaction(producer->get(), offsets.get(), md, -1));
        rd_kafka_consumer_group_metadata_destroy(md);
        e.reset(rd_kafka_commit_transaction(producer->get(), -1));
        if (!e) copied += in_batch;
    }
    (void)partitions;
    rd_kafka_consumer_close(consumer->get());
    return copied;
}

v1::CommandEnvelope open_cmd(const std::string& book, int account) {
    v1::CommandEnvelope c;
    c.set_command_id(book + "-open-" + std::to_string(account));
    c.set_actor("bench");
    auto* p = c.mutable_open_account();
    p->set_book_id(book);
    p->set_account_id("a" + std::to_string(account));
    p->set_name("Account");
    p->set_type(v1::ACCOUNT_TYPE_ASSET);
    p->set_currency("EUR");
    p->set_scale(2);
    return c;
}

v1::CommandEnvelope entry_cmd(const std::string& book, std::size_t i, int debit, int credit) {
    v1::CommandEnvelope c;
    c.set_command_id(book + "-e" + std::to_string(i));
    c.set_actor("bench");
    auto* p = c.mutable_post_entry();
    p->set_book_id(book);
    p->set_entry_id("E" + std::to_string(i));
    p->set_effective_date("2026-11-23");
    for (int side = 0; side < 2; ++side) {
        auto* l = p->add_legs();
        l->set_account_id("a" + std::to_string(side == 0 ? debit : credit));
        l->set_side(side == 0 ? v1::SIDE_DEBIT : v1::SIDE_CREDIT);
        l->set_amount_minor(100 + static_cast<std::int64_t>(i % 1000));
        l->set_currency("EUR");
    }
    return c;
}

// Produces the commands and waits for every outcome; returns the commands per second.
double closed_loop(const consumers::kafka_settings& k, const consumers::topic_names& t, int partitions,
                   const std::vector<v1::CommandEnvelope>& commands, std::size_t& accepted) {
    auto waiter = consumers::outcome_waiter::open(k, t);
    auto producer = consumers::make_producer(k, "");
    std::set<std::string> ids;
    auto start = clock_type::now();
    for (const auto& c : commands) {
        auto key = events::routing_key_of(c);
        auto value = events::serialize(c);
        ids.insert(c.command_id());
        for (;;) {
            auto err = rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(t.commands().c_str()),
                                         RD_KAFKA_V_PARTITION(events::partition_for(key, partitions)),
                                         RD_KAFKA_V_KEY(key.data(), key.size()),
                                         RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(producer->get(), 5);
                continue;
            }
            break;
        }
    }
    rd_kafka_flush(producer->get(), 120000);
    auto outcomes = (*waiter)->wait(ids, clock_type::now() + std::chrono::minutes(5));
    double s = seconds_since(start);
    accepted = 0;
    for (const auto& [id, o] : outcomes) accepted += o.status() == v1::OUTCOME_STATUS_ACCEPTED;
    return static_cast<double>(outcomes.size()) / s;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"daybook-bench: throughput as ratios to raw Kafka baselines measured in the same run"};
    consumers::kafka_settings kafka;
    std::string daybook_bin = "build/daybook", out_dir = "build/bench";
    std::size_t n = 50000;
    int partitions = 3;
    app.add_option("--brokers", kafka.brokers)->capture_default_str();
    app.add_option("--daybook", daybook_bin, "the daybook binary")->capture_default_str();
    app.add_option("--events", n, "records / commands per workload")->capture_default_str();
    app.add_option("--partitions", partitions)->capture_default_str();
    app.add_option("--out", out_dir)->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    kafka.transaction_timeout_ms = 30000;
    std::filesystem::create_directories(out_dir);
    auto stamp = std::to_string(::getpid());
    consumers::topic_layout layout;
    layout.partitions = partitions;
    std::vector<result_row> rows;

    // B0: raw produce and consume.
    consumers::topic_names raw{"bench-raw-" + stamp + "."};
    if (auto r = consumers::create_topics(kafka, raw, layout); !r) return std::fprintf(stderr, "%s\n", r.error().c_str()), 2;
    {
        auto p = consumers::make_producer(kafka, "");
        auto t0 = clock_type::now();
        produce_all(p->get(), raw.events(), partitions, n, 300);
        rows.push_back({"B0-produce", "300 B records, idempotent, acks=all", static_cast<double>(n) / seconds_since(t0)});
        t0 = clock_type::now();
        auto got = consume_all(kafka, raw.events(), partitions, n);
        rows.push_back({"B0-consume", "read_committed", static_cast<double>(got) / seconds_since(t0)});
    }
    // B0-txn: the transactional copier.
    consumers::topic_names txn{"bench-txn-" + stamp + "."};
    if (auto r = consumers::create_topics(kafka, txn, layout); !r) return std::fprintf(stderr, "%s\n", r.error().c_str()), 2;
    {
        auto p = consumers::make_producer(kafka, "");
        produce_all(p->get(), txn.commands(), partitions, n, 150);
        auto t0 = clock_type::now();
        auto copied = txn_copier(kafka, txn, partitions, n);
        rows.push_back({"B0-txn", "consume 150 B, produce 300 B + 120 B, offsets in the txn, 50 ms",
                        static_cast<double>(copied) / seconds_since(t0)});
    }
    // W1: Daybook.
    consumers::topic_names w1{"bench-w1-" + stamp + "."};
    if (auto r = consumers::create_topics(kafka, w1, layout); !r) return std::fprintf(stderr, "%s\n", r.error().c_str()), 2;
    auto data = out_dir + "/w1-data-" + stamp;
    pid_t serve = ::fork();
    if (serve == 0) {
        std::string log = out_dir + "/w1-serve.log";
        std::freopen(log.c_str(), "w", stderr);
        std::freopen(log.c_str(), "a", stdout);
        ::execl(daybook_bin.c_str(), daybook_bin.c_str(), "serve", "--development", "--roles", "processor,projector", "--brokers",
                kafka.brokers.c_str(), "--topic-prefix", w1.prefix.c_str(), "--data-dir", data.c_str(), "--instance",
                ("bench-" + stamp).c_str(), "--group", ("bench-" + stamp).c_str(), nullptr);
        ::_exit(127);
    }
    const std::vector<std::string> books{"b0", "b1", "b2", "b3", "b4", "b5"};
    const int accounts_per_book = 10000 / static_cast<int>(books.size());
    std::vector<v1::CommandEnvelope> opens, entries;
    for (const auto& b : books)
        for (int a = 0; a < accounts_per_book; ++a) opens.push_back(open_cmd(b, a));
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& b = books[i % books.size()];
        int d = static_cast<int>(rng() % accounts_per_book), c = static_cast<int>(rng() % accounts_per_book);
        if (c == d) c = (c + 1) % accounts_per_book;
        entries.push_back(entry_cmd(b, i, d, c));
    }
    std::size_t accepted = 0;
    closed_loop(kafka, w1, partitions, opens, accepted);  // setup, not measured
    if (accepted != opens.size()) std::fprintf(stderr, "warning: %zu of %zu accounts opened\n", accepted, opens.size());
    double w1_rate = closed_loop(kafka, w1, partitions, entries, accepted);
    rows.push_back({"W1", "two-leg entries, 10,000 accounts in 6 books, uniform, closed loop to the outcome", w1_rate});
    ::kill(serve, SIGTERM);
    ::waitpid(serve, nullptr, 0);
    std::filesystem::remove_all(data);

    double txn_rate = rows[2].per_second, produce_rate = rows[0].per_second;
    std::string md = "| workload | what | records/s | ratio to B0-txn | ratio to B0-produce |\n|---|---|---:|---:|---:|\n";
    std::string json = "{\"events\":" + std::to_string(n) + ",\"partitions\":" + std::to_string(partitions) + ",\"rows\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        char line[512];
        std::snprintf(line, sizeof line, "| %s | %s | %.0f | %.2f | %.2f |\n", r.name.c_str(), r.detail.c_str(), r.per_second,
                      r.per_second / txn_rate, r.per_second / produce_rate);
        md += line;
        std::snprintf(line, sizeof line, "%s{\"name\":\"%s\",\"per_second\":%.1f,\"ratio_to_b0_txn\":%.3f}", i ? "," : "",
                      r.name.c_str(), r.per_second, r.per_second / txn_rate);
        json += line;
    }
    json += "],\"w1_accepted\":" + std::to_string(accepted) + "}\n";
    std::ofstream(out_dir + "/results.md") << md;
    std::ofstream(out_dir + "/results.json") << json;
    std::printf("%s\nW1 accepted %zu of %zu entries. load accepted = %.0f tx/s\n", md.c_str(), accepted, entries.size(), w1_rate);
    return accepted == entries.size() ? 0 : 1;
}
