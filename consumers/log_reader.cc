#include "consumers/log_reader.h"

#include <chrono>

namespace daybook::consumers {

result<rk_ptr, std::string> make_page_reader(const kafka_settings& kafka) {
    rd_kafka_conf_t* conf = base_conf(kafka);
    set(conf, "enable.partition.eof", "true");
    return make_consumer(kafka, "", "", conf);
}

result<int, std::string> read_whole_topic(const kafka_settings& kafka, const std::string& topic, const record_fn& fn) {
    auto c = make_page_reader(kafka);
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

result<page, std::string> read_page(rd_kafka_t* consumer, const std::string& topic, int partition,
                                    std::int64_t from_offset, std::size_t limit, std::size_t scan_max,
                                    const page_filter& keep, int timeout_ms) {
    page out;
    auto ends = watermarks(consumer, topic, partition, timeout_ms);
    if (!ends) return ends.error();
    from_offset = std::max(from_offset, ends->first);
    if (from_offset >= ends->second) return out;
    tpl_ptr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = from_offset;
    if (auto err = rd_kafka_assign(consumer, list.get())) return "cannot read " + topic + ": " + error_text(err);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::size_t scanned = 0;
    out.next_offset = from_offset;
    for (;;) {
        if (std::chrono::steady_clock::now() > deadline) {
            rd_kafka_assign(consumer, nullptr);
            return "timed out reading partition " + std::to_string(partition) + " of " + topic;
        }
        message_ptr m(rd_kafka_consumer_poll(consumer, 100));
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            out.next_offset = -1;
            break;
        }
        if (m->err) {
            rd_kafka_assign(consumer, nullptr);
            return "cannot read " + topic + ": " + std::string(rd_kafka_message_errstr(m.get()));
        }
        page_record r;
        r.offset = m->offset;
        if (m->key) r.key.assign(static_cast<const char*>(m->key), m->key_len);
        r.value.assign(static_cast<const char*>(m->payload), m->len);
        rd_kafka_headers_t* h = nullptr;
        if (!rd_kafka_message_headers(m.get(), &h) && h) {
            const char* name;
            const void* v;
            std::size_t size;
            for (std::size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &v, &size); ++i)
                r.headers.emplace_back(name, v ? std::string(static_cast<const char*>(v), size) : std::string());
        }
        out.next_offset = m->offset + 1;
        if (!keep || keep(r)) out.records.push_back(std::move(r));
        if (out.records.size() >= limit || ++scanned >= scan_max) break;
        if (out.next_offset >= ends->second) {
            out.next_offset = -1;
            break;
        }
    }
    rd_kafka_assign(consumer, nullptr);
    return out;
}

}  // namespace daybook::consumers
