#include "consumers/kafka.h"

#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>

namespace daybook::consumers {

void rk_deleter::operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }

result<ok_t, std::string> check_passthrough(const std::string& name) {
    if (name == "bootstrap.servers" || name == "security.protocol" || name == "client.id" ||
        name.rfind("sasl.", 0) == 0 || name.rfind("ssl.", 0) == 0)
        return ok;
    return "Kafka property '" + name +
           "' cannot be set: only bootstrap.servers, security.protocol, sasl.*, ssl.* and "
           "client.id pass through (the rest is fixed for exactly-once)";
}

void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "librdkafka refused %s=%s: %s\n", name.c_str(), value.c_str(), err);
        std::abort();
    }
}

rd_kafka_conf_t* base_conf(const kafka_settings& s) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", s.brokers);
    set(conf, "reconnect.backoff.max.ms", std::to_string(s.reconnect_backoff_max_ms));
    set(conf, "log.connection.close", "false");
    for (const auto& [k, v] : s.passthrough) set(conf, k, v);
    return conf;
}

namespace {

result<rk_ptr, std::string> create(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
    char err[512];
    rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return std::string("cannot create Kafka client: ") + err;
    }
    return rk_ptr(rk);
}

}  // namespace

result<rk_ptr, std::string> make_producer(const kafka_settings& s, const std::string& transactional_id,
                                          rd_kafka_conf_t* conf) {
    if (!conf) conf = base_conf(s);
    set(conf, "enable.idempotence", "true");
    set(conf, "acks", "all");
    set(conf, "partitioner", "murmur2_random");
    set(conf, "linger.ms", "5");
    // Producer buffering bounded (librdkafka's default allows about 1 GiB).
    set(conf, "queue.buffering.max.kbytes", "65536");
    set(conf, "queue.buffering.max.messages", "100000");
    set(conf, "message.timeout.ms", std::to_string(s.transaction_timeout_ms - 1000));
    if (!transactional_id.empty()) {
        set(conf, "transactional.id", transactional_id);
        set(conf, "transaction.timeout.ms", std::to_string(s.transaction_timeout_ms));
    }
    return create(RD_KAFKA_PRODUCER, conf);
}

result<rk_ptr, std::string> make_consumer(const kafka_settings& s, const std::string& group_id,
                                          const std::string& instance_id, rd_kafka_conf_t* conf) {
    if (!conf) conf = base_conf(s);
    set(conf, "isolation.level", "read_committed");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "check.crcs", "true");
    set(conf, "auto.offset.reset", "earliest");
    // Consumer buffering bounded: at most ~16 MiB prefetched per client.
    set(conf, "queued.max.messages.kbytes", "16384");
    set(conf, "fetch.max.bytes", "8388608");
    set(conf, "fetch.wait.max.ms", "10");
    if (!group_id.empty()) {
        set(conf, "group.id", group_id);
        set(conf, "session.timeout.ms", std::to_string(s.session_timeout_ms));
        set(conf, "heartbeat.interval.ms", std::to_string(std::max(500, s.session_timeout_ms / 5)));
        set(conf, "partition.assignment.strategy", "range");
        if (!instance_id.empty()) set(conf, "group.instance.id", instance_id);
    } else {
        // librdkafka needs a group.id for some consumer calls; this one never joins a group.
        set(conf, "group.id", "daybook-unjoined");
    }
    auto rk = create(RD_KAFKA_CONSUMER, conf);
    if (rk) rd_kafka_poll_set_consumer(rk->get());
    return rk;
}

result<int, std::string> partition_count(rd_kafka_t* rk, const std::string& topic, int timeout_ms) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    auto err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    if (err) return "cannot read metadata of " + topic + ": " + rd_kafka_err2str(err);
    int count = -1;
    std::string problem;
    if (md->topic_cnt == 1) {
        if (md->topics[0].err) problem = rd_kafka_err2str(md->topics[0].err);
        else count = md->topics[0].partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    if (count <= 0) return "topic " + topic + " is not available: " + problem;
    return count;
}

result<std::pair<std::int64_t, std::int64_t>, std::string> watermarks(rd_kafka_t* rk,
                                                                       const std::string& topic,
                                                                       int partition, int timeout_ms) {
    // A topic created a moment ago may not have its leaders yet: those errors are retried.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        std::int64_t low = 0, high = 0;
        auto err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, timeout_ms);
        if (!err) return std::pair{low, high};
        bool transient = err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                         err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                         err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                         err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__TRANSPORT;
        if (!transient || std::chrono::steady_clock::now() > deadline)
            return "cannot read offsets of " + topic + ": " + rd_kafka_err2str(err);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

std::string cluster_id(rd_kafka_t* rk, int timeout_ms) {
    char* id = rd_kafka_clusterid(rk, timeout_ms);
    if (!id) return {};
    std::string out(id);
    rd_kafka_mem_free(rk, id);
    return out;
}

std::string error_text(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

std::optional<std::string> log_identity(rd_kafka_t* rk, const std::string& topic) {
    std::string cluster = cluster_id(rk, 30000);
    if (cluster.empty()) return std::nullopt;
    return cluster + "/" + topic;
}

}  // namespace daybook::consumers
