#include "consumers/pipeline_status.h"

#include "consumers/processor.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "projections/ledger_projection.h"

namespace daybook::consumers {

result<std::vector<partition_status>, std::string> pipeline_status(rd_kafka_t* consumer, const topic_names& topics,
                                                                   const projections::store* projection,
                                                                   int timeout_ms) {
    auto partitions = partition_count(consumer, topics.events(), timeout_ms);
    if (!partitions) return partitions.error();
    // rd_kafka_committed reads the offsets of the consumer's own group: pass a consumer created
    // with the processor's group id (it need not subscribe).
    tpl_ptr list(rd_kafka_topic_partition_list_new(*partitions));
    for (int p = 0; p < *partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), topics.commands().c_str(), p);
    auto committed_err = rd_kafka_committed(consumer, list.get(), timeout_ms);
    std::vector<partition_status> out;
    for (int p = 0; p < *partitions; ++p) {
        partition_status s;
        s.partition = p;
        if (auto w = watermarks(consumer, topics.commands(), p, timeout_ms)) s.commands_end = w->second;
        if (auto w = watermarks(consumer, topics.events(), p, timeout_ms)) s.events_end = w->second;
        if (!committed_err) {
            s.commands_committed = std::max<std::int64_t>(list->elems[p].offset, -1);  // -1001: nothing committed
            if (list->elems[p].metadata)
                if (auto md = parse_metadata(std::string_view(static_cast<const char*>(list->elems[p].metadata),
                                                              list->elems[p].metadata_size)))
                    s.committed_seq = md->seq;
        }
        if (s.commands_end >= 0) s.commands_lag = s.commands_end - std::max<std::int64_t>(s.commands_committed, 0);
        if (projection) {
            v1::PartitionPosition pos;
            if (auto raw = projection->get(projections::position_key(static_cast<std::uint32_t>(p)))) pos.ParseFromString(*raw);
            s.projected_seq = pos.seq();
            s.projected_offset = pos.next_offset();
            s.head_hex = events::to_hex(pos.head());
            if (auto why = projection->get(projections::stop_key(static_cast<std::uint32_t>(p)))) {
                s.stopped = true;
                s.state = "STOPPED: " + *why;
            }
        } else {
            s.state = "no projection store";
        }
        s.projection_lag_events = static_cast<std::int64_t>(s.committed_seq) - static_cast<std::int64_t>(s.projected_seq);
        out.push_back(std::move(s));
    }
    return out;
}

std::int64_t commands_backlog(const std::vector<partition_status>& status) {
    std::int64_t total = 0;
    for (const auto& s : status) total += std::max<std::int64_t>(s.commands_lag, 0);
    return total;
}

std::string to_json(const partition_status& s) {
    return "{\"partition\":" + std::to_string(s.partition) + ",\"commands_end\":" + std::to_string(s.commands_end) +
           ",\"commands_committed\":" + std::to_string(s.commands_committed) +
           ",\"commands_lag\":" + std::to_string(s.commands_lag) + ",\"events_end\":" + std::to_string(s.events_end) +
           ",\"committed_seq\":" + std::to_string(s.committed_seq) + ",\"projected_seq\":" + std::to_string(s.projected_seq) +
           ",\"projected_offset\":" + std::to_string(s.projected_offset) +
           ",\"projection_lag_events\":" + std::to_string(s.projection_lag_events) + ",\"head_hex\":" + events::json_string(s.head_hex) +
           ",\"stopped\":" + (s.stopped ? "true" : "false") + ",\"state\":" + events::json_string(s.state) + "}";
}

}  // namespace daybook::consumers
