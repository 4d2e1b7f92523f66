#pragma once
// Where the pipeline stands, per partition: commands written and decided (the processor's
// committed offset and the seq in its restore metadata), events written, and how far the
// projection has applied them. One definition, used by `daybook status`, `GET /v1/status` and
// the HTTP API's backlog check (429 when the commands backlog is over its bound).

#include <cstdint>
#include <string>
#include <vector>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "projections/store.h"

namespace daybook::consumers {

struct partition_status {
    int partition = 0;
    std::int64_t commands_end = -1;        // high watermark of commands; -1: unknown
    std::int64_t commands_committed = -1;  // the processor group's committed offset; -1: none
    std::int64_t commands_lag = -1;        // commands written and not yet decided
    std::int64_t events_end = -1;
    std::uint64_t committed_seq = 0;       // events seq the processor has committed
    std::uint64_t projected_seq = 0;       // events seq the projection has applied
    std::int64_t projected_offset = 0;     // events offset after the last applied record
    std::int64_t projection_lag_events = 0;
    std::string head_hex;                  // chain head the projection verified up to
    bool stopped = false;
    std::string state = "ok";              // "ok", "STOPPED: why" or "no projection store"
};

// `consumer`: a consumer created with the processor's group id (it need not subscribe): its
// committed offsets are the processor's. `projection` may be null.
result<std::vector<partition_status>, std::string> pipeline_status(rd_kafka_t* consumer, const topic_names& topics,
                                                                   const projections::store* projection,
                                                                   int timeout_ms);

// Sum of commands_lag over the partitions (unknown counts as 0).
std::int64_t commands_backlog(const std::vector<partition_status>& status);

std::string to_json(const partition_status& s);

}  // namespace daybook::consumers
