#include "consumers/log_reader.h"

#include <chrono>

namespace daybook::consumers {

result<int, std::string> read_whole_topic(const kafka_settings& kafka, const std::string& topic, const record_fn& fn) {
    rd_kafka_conf_t* conf = base_conf(kafka);
    set(conf, "enable.partition.eof", "true");
    auto c = make_consumer(kafka, "", "", conf);
    if (!c) return c.error();
    auto count = partition_count(c->get(), topic, 30000);
    if (!count) return count.error();
    for (int p = 0; p < *count; ++p) {
        tpl_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        if (auto err = rd_kafka_assign(c->get(), list.get())) return "cannot read " + topic + ": " + error_text(err);
        auto idle_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        for (;;) {
            message_ptr m(rd_kafka_consumer_poll(c->get(), 200));
            if (!m) {
                if (std::chrono::steady_clock::now() > idle_deadline)
                    return "timed out reading partition " + std::to_string(p) + " of " + topic;
                continue;
            }
            idle_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
            if (m->err) return "cannot read " + topic + ": " + std::string(rd_kafka_message_errstr(m.get()));
            fn(static_cast<std::uint32_t>(p), m->offset,
               std::string_view(static_cast<const char*>(m->payload), m->len));
        }
    }
    return *count;
}

}  // namespace daybook::consumers
