#include <cstdio>

#include "app/options.h"
#include "consumers/processor.h"
#include "events/hashing.h"
#include "projections/ledger_projection.h"

namespace daybook::app {

int run_status(const options& o, const std::string& format) {
    auto consumer = consumers::make_consumer(o.kafka, o.processor.group_id, "");
    if (!consumer) return std::fprintf(stderr, "daybook status: %s\n", consumer.error().c_str()), 2;
    auto partitions = consumers::partition_count(consumer->get(), o.topics.events(), 30000);
    if (!partitions) return std::fprintf(stderr, "daybook status: %s\n", partitions.error().c_str()), 2;
    auto proj = open_projection_reader(o);

    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(*partitions));
    for (int p = 0; p < *partitions; ++p) rd_kafka_topic_partition_list_add(list.get(), o.topics.commands().c_str(), p);
    auto committed_err = rd_kafka_committed(consumer->get(), list.get(), 30000);

    bool json = format == "json";
    bool any_stopped = false;
    if (!json)
        std::printf("%4s %12s %12s %10s %12s %12s %10s %10s  %s\n", "part", "cmd_end", "cmd_done", "cmd_lag", "events_end",
                    "projected", "proj_seq", "proj_lag", "state");
    for (int p = 0; p < *partitions; ++p) {
        auto cw = consumers::watermarks(consumer->get(), o.topics.commands(), p, 10000);
        auto ew = consumers::watermarks(consumer->get(), o.topics.events(), p, 10000);
        std::int64_t cmd_end = cw ? cw->second : -1, ev_end = ew ? ew->second : -1;
        std::int64_t done = committed_err ? -1 : list->elems[p].offset;
        std::uint64_t committed_seq = 0;
        if (!committed_err && list->elems[p].metadata)
            if (auto md = consumers::parse_metadata(std::string_view(static_cast<const char*>(list->elems[p].metadata),
                                                                     list->elems[p].metadata_size)))
                committed_seq = md->seq;
        v1::PartitionPosition pos;
        std::string state = "ok";
        if (proj) {
            if (auto raw = (*proj)->get(projections::position_key(static_cast<std::uint32_t>(p)))) pos.ParseFromString(*raw);
            if (auto why = (*proj)->get(projections::stop_key(static_cast<std::uint32_t>(p)))) {
                state = "STOPPED: " + *why;
                any_stopped = true;
            }
        } else {
            state = "no projection store";
        }
        std::int64_t cmd_lag = cmd_end >= 0 ? cmd_end - std::max<std::int64_t>(done, 0) : -1;
        std::int64_t proj_lag = static_cast<std::int64_t>(committed_seq) - static_cast<std::int64_t>(pos.seq());
        if (json) {
            std::printf("{\"partition\":%d,\"commands_end\":%lld,\"commands_committed\":%lld,\"commands_lag\":%lld,"
                        "\"events_end\":%lld,\"committed_seq\":%llu,\"projected_seq\":%llu,\"projected_offset\":%lld,"
                        "\"projection_lag_events\":%lld,\"stopped\":%s,\"state\":\"%s\"}\n",
                        p, (long long)cmd_end, (long long)done, (long long)cmd_lag, (long long)ev_end,
                        (unsigned long long)committed_seq, (unsigned long long)pos.seq(), (long long)pos.next_offset(),
                        (long long)proj_lag, state.starts_with("STOPPED") ? "true" : "false", state.c_str());
        } else {
            std::printf("%4d %12lld %12lld %10lld %12lld %12lld %10llu %10lld  %s\n", p, (long long)cmd_end,
                        (long long)done, (long long)cmd_lag, (long long)ev_end, (long long)pos.next_offset(),
                        (unsigned long long)pos.seq(), (long long)proj_lag, state.c_str());
        }
    }
    return any_stopped ? 1 : 0;
}

}  // namespace daybook::app
