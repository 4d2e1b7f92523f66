// daybook_test_copier: a read-process-write stage with Kafka transactions and nothing else, for
// the exactly-once test (Kafka's TransactionsTest in miniature, tests/eos_test.cc). It copies
// every record of INPUT to the same partition of OUTPUT, and commits the consumed offsets in the
// same transaction as the copies, every COMMIT_EVERY records or 100 ms. Any error: exit 3 (the
// test starts it again). It runs until it is killed.
//
//   daybook_test_copier BROKERS INPUT OUTPUT GROUP TRANSACTIONAL_ID COMMIT_EVERY

#include <chrono>
#include <cstdio>
#include <string>

#include "consumers/kafka.h"

using namespace daybook;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv) {
    if (argc != 7) return std::fprintf(stderr, "usage: daybook_test_copier BROKERS INPUT OUTPUT GROUP TXN_ID COMMIT_EVERY\n"), 2;
    consumers::kafka_settings k;
    k.brokers = argv[1];
    k.session_timeout_ms = 6000;
    k.transaction_timeout_ms = 10000;
    k.reconnect_backoff_max_ms = 500;
    const std::string input = argv[2], output = argv[3];
    const int commit_every = std::stoi(argv[6]);
    auto consumer = consumers::make_consumer(k, argv[4], "copier");
    if (!consumer) return std::fprintf(stderr, "consumer: %s\n", consumer.error().c_str()), 3;
    auto producer = consumers::make_producer(k, argv[5]);
    if (!producer) return std::fprintf(stderr, "producer: %s\n", producer.error().c_str()), 3;
    auto fail = [&](const char* what, rd_kafka_error_t* e) {
        std::fprintf(stderr, "%s: %s\n", what, e ? rd_kafka_error_string(e) : "?");
        if (e) rd_kafka_error_destroy(e);
        return 3;
    };
    if (auto* e = rd_kafka_init_transactions(producer->get(), 30000)) return fail("init_transactions", e);
    consumers::tpl_ptr topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), input.c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(consumer->get(), topics.get())) return std::fprintf(stderr, "subscribe: %s\n", rd_kafka_err2str(err)), 3;
    std::fprintf(stderr, "copier started\n");
    for (;;) {
        int copied = 0;
        bool open = false;
        auto deadline = clock_type::now() + std::chrono::milliseconds(100);
        while (copied < commit_every && clock_type::now() < deadline) {
            consumers::message_ptr m(rd_kafka_consumer_poll(consumer->get(), 20));
            if (!m) continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
            if (m->err) return std::fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m.get())), 3;
            if (!open) {
                if (auto* e = rd_kafka_begin_transaction(producer->get())) return fail("begin", e);
                open = true;
            }
            for (;;) {
                auto err = rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(output.c_str()), RD_KAFKA_V_PARTITION(m->partition),
                                             RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
                                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    rd_kafka_poll(producer->get(), 10);
                    continue;
                }
                if (err) return std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err)), 3;
                break;
            }
            ++copied;
        }
        if (!open) continue;
        consumers::tpl_ptr positions;
        {
            rd_kafka_topic_partition_list_t* assigned = nullptr;
            if (rd_kafka_assignment(consumer->get(), &assigned)) return 3;
            positions.reset(assigned);
        }
        if (rd_kafka_position(consumer->get(), positions.get())) return 3;
        auto* group = rd_kafka_consumer_group_metadata(consumer->get());
        auto* e = rd_kafka_send_offsets_to_transaction(producer->get(), positions.get(), group, 30000);
        rd_kafka_consumer_group_metadata_destroy(group);
        if (e) return fail("send_offsets", e);
        if (auto* c = rd_kafka_commit_transaction(producer->get(), 30000)) return fail("commit", c);
    }
}
