#pragma once
// Thin RAII wrappers over librdkafka's C API (2.0.2). The C API is used because the C++ API of
// 2.0.2 cannot carry offset metadata, which the processor's restore relies on.
//
// Client settings are fixed here (DESIGN.md "Kafka client settings"); only bootstrap.servers,
// security.protocol, sasl.*, ssl.* and client.id pass through from configuration, and nothing
// that would weaken exactly-once is accepted.

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/result.h"

namespace daybook::consumers {

class command_signer;  // consumers/command_writer.h

struct kafka_settings {
    // bootstrap.servers. Default: 127.0.0.1:19092 (scripts/kafka-local).
    std::string brokers = "127.0.0.1:19092";
    // Pass-through client properties (security.protocol, sasl.*, ssl.*, client.id only).
    std::map<std::string, std::string> passthrough;
    // Consumer group session timeout. Lower: a dead member is replaced sooner, more false
    // evictions under load. Default: 10000 (tests use 6000).
    int session_timeout_ms = 10000;
    // Transaction timeout; message.timeout.ms is set below it. Lower: a zombie's open
    // transaction is aborted sooner. Default: 60000 (tests use 10000).
    int transaction_timeout_ms = 60000;
    // Upper bound of the reconnect backoff. Default: 1000.
    int reconnect_backoff_max_ms = 1000;
    // The key this process signs the commands it writes with (--writer-name, --writer-key), so
    // the processor can tell who wrote them. Default: none (unsigned; accepted only by a
    // processor without a writers file).
    std::shared_ptr<const command_signer> signer;
};

// Checks a pass-through property name; an error names the property that is refused.
result<ok_t, std::string> check_passthrough(const std::string& name);

struct rk_deleter {
    void operator()(rd_kafka_t* rk) const;
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

struct tpl_deleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using tpl_ptr = std::unique_ptr<rd_kafka_topic_partition_list_t, tpl_deleter>;

struct message_deleter {
    void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using message_ptr = std::unique_ptr<rd_kafka_message_t, message_deleter>;

struct error_deleter {
    void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;

// Starts a configuration with the fixed settings and the pass-through ones.
rd_kafka_conf_t* base_conf(const kafka_settings& s);
// Sets one property; aborts on an invalid name or value (ours, so a bug).
void set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

// A transactional producer (transactional_id given) or an idempotent one (empty).
result<rk_ptr, std::string> make_producer(const kafka_settings& s, const std::string& transactional_id,
                                          rd_kafka_conf_t* conf = nullptr);
// A read_committed consumer. group_id empty: no group (manual assignment only).
result<rk_ptr, std::string> make_consumer(const kafka_settings& s, const std::string& group_id,
                                          const std::string& instance_id,
                                          rd_kafka_conf_t* conf = nullptr);

// Number of partitions of a topic, or an error when it does not exist.
result<int, std::string> partition_count(rd_kafka_t* rk, const std::string& topic, int timeout_ms);
// (low, high) watermark offsets.
result<std::pair<std::int64_t, std::int64_t>, std::string> watermarks(rd_kafka_t* rk,
                                                                       const std::string& topic,
                                                                       int partition, int timeout_ms);
// The cluster id, or empty when it cannot be fetched in time.
std::string cluster_id(rd_kafka_t* rk, int timeout_ms);

std::string error_text(rd_kafka_resp_err_t err);

// "<cluster id>/<topic>": which log a store is built from (DESIGN.md "Stores"); nullopt when
// the cluster id cannot be read (broker down).
std::optional<std::string> log_identity(rd_kafka_t* rk, const std::string& topic);

}  // namespace daybook::consumers
