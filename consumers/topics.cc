#include "consumers/topics.h"

#include <map>
#include <vector>

#include "events/limits.h"

namespace daybook::consumers {
namespace {

constexpr int admin_timeout_ms = 30000;

struct queue_deleter {
    void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};

struct event_deleter {
    void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};

using config_map = std::map<std::string, std::string>;

config_map configs_for(const topic_names& names, const topic_layout& layout,
                       const std::string& topic) {
    config_map c{{"max.message.bytes", std::to_string(limits::topic_message_bytes_max)},
                 {"min.insync.replicas", "1"}};
    if (topic == names.events()) {
        c["retention.ms"] = "-1";
        c["retention.bytes"] = "-1";
        c["cleanup.policy"] = "delete";
    } else if (topic == names.commands()) {
        c["retention.ms"] = std::to_string(layout.commands_retention_ms);
        c["message.timestamp.type"] = "LogAppendTime";
    } else if (topic == names.outcomes()) {
        c["retention.ms"] = std::to_string(layout.commands_retention_ms);
    } else {
        c["retention.ms"] = std::to_string(90LL * 24 * 3600 * 1000);
    }
    return c;
}

result<config_map, std::string> describe(rd_kafka_t* rk, const std::string& topic) {
    std::unique_ptr<rd_kafka_queue_t, queue_deleter> q(rd_kafka_queue_new(rk));
    rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
    rd_kafka_DescribeConfigs(rk, &res, 1, nullptr, q.get());
    rd_kafka_ConfigResource_destroy(res);
    std::unique_ptr<rd_kafka_event_t, event_deleter> ev(rd_kafka_queue_poll(q.get(), admin_timeout_ms));
    if (!ev) return "timed out describing " + topic;
    if (rd_kafka_event_error(ev.get()))
        return "cannot describe " + topic + ": " + rd_kafka_event_error_string(ev.get());
    const auto* result = rd_kafka_event_DescribeConfigs_result(ev.get());
    size_t count = 0;
    const auto** resources = rd_kafka_DescribeConfigs_result_resources(result, &count);
    if (count != 1) return "no configuration returned for " + topic;
    if (rd_kafka_ConfigResource_error(resources[0]))
        return "cannot describe " + topic + ": " +
               rd_kafka_ConfigResource_error_string(resources[0]);
    size_t n = 0;
    const auto** entries = rd_kafka_ConfigResource_configs(resources[0], &n);
    config_map out;
    for (size_t i = 0; i < n; ++i) {
        const char* v = rd_kafka_ConfigEntry_value(entries[i]);
        out[rd_kafka_ConfigEntry_name(entries[i])] = v ? v : "";
    }
    return out;
}

}  // namespace

result<ok_t, std::string> create_topics(const kafka_settings& s, const topic_names& names,
                                        const topic_layout& layout) {
    auto rk = make_producer(s, "");
    if (!rk) return rk.error();
    std::vector<std::pair<std::string, int>> wanted = {
        {names.commands(), layout.partitions},
        {names.events(), layout.partitions},
        {names.outcomes(), layout.outcome_partitions},
        {names.dlq(), 1}};
    std::vector<rd_kafka_NewTopic_t*> topics;
    char err[512];
    for (const auto& [name, parts] : wanted) {
        auto* t = rd_kafka_NewTopic_new(name.c_str(), parts, 1, err, sizeof err);
        if (!t) return std::string("bad topic definition: ") + err;
        for (const auto& [k, v] : configs_for(names, layout, name))
            rd_kafka_NewTopic_set_config(t, k.c_str(), v.c_str());
        topics.push_back(t);
    }
    std::unique_ptr<rd_kafka_queue_t, queue_deleter> q(rd_kafka_queue_new(rk->get()));
    rd_kafka_CreateTopics(rk->get(), topics.data(), topics.size(), nullptr, q.get());
    rd_kafka_NewTopic_destroy_array(topics.data(), topics.size());
    std::unique_ptr<rd_kafka_event_t, event_deleter> ev(rd_kafka_queue_poll(q.get(), admin_timeout_ms));
    if (!ev) return std::string("timed out creating topics");
    if (rd_kafka_event_error(ev.get()))
        return std::string("cannot create topics: ") + rd_kafka_event_error_string(ev.get());
    size_t n = 0;
    const auto** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
    for (size_t i = 0; i < n; ++i) {
        auto e = rd_kafka_topic_result_error(results[i]);
        if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            return std::string("cannot create ") + rd_kafka_topic_result_name(results[i]) + ": " +
                   rd_kafka_topic_result_error_string(results[i]);
    }
    // Wait until every new partition has a leader, so the first client does not race it.
    for (const auto& [name, parts] : wanted)
        for (int p = 0; p < parts; ++p)
            if (auto w = watermarks(rk->get(), name, p, admin_timeout_ms); !w) return w.error();
    auto check = check_topics(s, names);
    if (!check) return check.error();
    if (check->partitions != layout.partitions)
        return "topics exist with " + std::to_string(check->partitions) +
               " partitions, not the requested " + std::to_string(layout.partitions) +
               " (changing it is a migration to a new topic set, see README)";
    return ok;
}

result<topic_check, std::string> check_topics(const kafka_settings& s, const topic_names& names) {
    auto rk = make_producer(s, "");
    if (!rk) return rk.error();
    topic_check out;
    auto commands = partition_count(rk->get(), names.commands(), admin_timeout_ms);
    if (!commands) return commands.error() + " (run `daybook topics create`)";
    auto events = partition_count(rk->get(), names.events(), admin_timeout_ms);
    if (!events) return events.error() + " (run `daybook topics create`)";
    auto outcomes = partition_count(rk->get(), names.outcomes(), admin_timeout_ms);
    if (!outcomes) return outcomes.error() + " (run `daybook topics create`)";
    auto dlq = partition_count(rk->get(), names.dlq(), admin_timeout_ms);
    if (!dlq) return dlq.error() + " (run `daybook topics create`)";
    if (*commands != *events)
        return names.commands() + " has " + std::to_string(*commands) + " partitions and " +
               names.events() + " has " + std::to_string(*events) +
               ": they must be equal (events partition p is the changelog of commands partition p)";
    auto cc = describe(rk->get(), names.commands());
    if (!cc) return cc.error();
    if ((*cc)["message.timestamp.type"] != "LogAppendTime")
        return names.commands() + " must use message.timestamp.type=LogAppendTime (time comes from the broker)";
    auto ec = describe(rk->get(), names.events());
    if (!ec) return ec.error();
    if ((*ec)["retention.ms"] != "-1" || (*ec)["retention.bytes"] != "-1" ||
        (*ec)["cleanup.policy"] != "delete")
        return names.events() +
               " must keep records forever: retention.ms=-1, retention.bytes=-1, cleanup.policy=delete";
    out.partitions = *commands;
    out.outcome_partitions = *outcomes;
    return out;
}

}  // namespace daybook::consumers
