#pragma once
// The projector: reads every partition of daybook.events read_committed into one store.
//
// Each batch's projection rows and positions go into ONE WriteBatch, so after a crash the
// projector resumes right after the last applied record and never counts one twice. Records are
// checked before they are applied: hash, sequence without gaps, chain to the previous hash. A
// record that fails stops its partition (recorded under stop/<p>, shown by `daybook status`);
// the other partitions go on. Redelivered records (seq already applied) are skipped.
//
// Lifecycle: construct, run() until the stop flag is set. One thread.

#include <spdlog/logger.h>

#include <atomic>
#include <memory>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "projections/store.h"

namespace daybook::consumers {

struct projector_options {
    // Longest time events wait before their batch is written. Default: 50.
    std::uint32_t batch_interval_ms = 50;
    // Most events in one WriteBatch. Default: 20000.
    std::size_t batch_events_max = 20000;
    // Record the state digest (with the positions it belongs to) after this many applied events,
    // and at a clean stop; 0: never. It costs a scan of the whole store. Default: 100000.
    std::uint64_t digest_every_events = 100000;
    // Tagged on recorded digests.
    std::string software_version = "daybook 0.1.0";
};

// Recorded digests kept in the store (the oldest go first).
inline constexpr std::size_t recorded_digests_max = 100;

struct projector_stats {
    std::atomic<std::uint64_t> applied{0};
    std::atomic<std::uint64_t> skipped_duplicates{0};
    std::atomic<std::uint64_t> stopped_partitions{0};
};

class projector {
public:
    projector(kafka_settings kafka, topic_names topics, projector_options options,
              projections::store& store, std::shared_ptr<spdlog::logger> log);
    ~projector();
    [[nodiscard]] result<ok_t, std::string> run(const std::atomic<bool>& stop);
    const projector_stats& stats() const { return stats_; }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    projector_stats stats_;
};

}  // namespace daybook::consumers
