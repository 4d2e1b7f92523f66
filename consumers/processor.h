#pragma once
// The command processor (DESIGN.md "The command processor, precisely").
//
// Lifecycle: construct, run() until the stop flag is set (SIGTERM), which finishes and commits
// the batch in hand and closes cleanly. run() returns an error when the processor must not go on:
// fenced by another process with the same instance id, or the events log does not verify.
//
// Per batch: commands are decided one after another against an overlay per partition; ONE Kafka
// transaction carries the sealed events, the outcomes and the consumed offsets (with restore
// metadata); only after a successful commit do the overlays and positions go to RocksDB in ONE
// WriteBatch. On any other commit result the overlays are dropped, the producer is destroyed and
// recreated (init_transactions fences the old epoch), and every assigned partition is restored
// from daybook.events before it is resumed.
//
// Thread-safety: run() owns everything; one thread.

#include <spdlog/logger.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "projections/store.h"

namespace daybook::consumers {

class writer_trust;  // consumers/command_writer.h

struct processor_options {
    // Stable instance id of this process: transactional.id = <topic prefix>processor-<instance>,
    // group.instance.id = <instance>. Default: "0". Two live processes must never share it.
    std::string instance = "0";
    // Consumer group of the processors. The CLI's default: <topic prefix>processor.
    std::string group_id = "daybook.processor";
    // Longest time a batch stays open in one transaction. Lower: lower latency, more transaction
    // overhead. Default: 50.
    std::uint32_t commit_interval_ms = 50;
    // The writers whose signed commands are accepted (--writers). Default: none (development:
    // unsigned commands are accepted).
    std::shared_ptr<const writer_trust> writers;
    // Most commands in one batch. Bounds the overlay's memory. Default: 5000.
    std::size_t batch_commands_max = 5000;
    // Written into every event's software_version.
    std::string software_version = "daybook 0.1.0";
    // Key store of personal data (consumers/keystore.h): personal fields of events are sealed
    // with their subject's key before they are appended. Set by `serve` (--keystore,
    // --master-key-file); empty: <store dir>/../keystore and master.key are not guessed, the
    // processor refuses to start.
    std::string keystore_dir, master_key_file;
    // Test-only fault hooks (0 = off): every Nth commit is reported as timed out, either after it
    // really committed or without committing at all. Both must end in drop-recreate-restore with
    // nothing lost or doubled.
    std::uint32_t fault_unknown_after_commit_every = 0;
    std::uint32_t fault_unknown_instead_of_commit_every = 0;
};

// Cumulative latency buckets (Prometheus histogram layout), in microseconds.
struct latency_histogram {
    static constexpr std::array<std::uint64_t, 12> bounds_us{500,    1000,   2500,   5000,    10000,   25000,
                                                             50000,  100000, 250000, 500000, 1000000, 5000000};
    std::array<std::atomic<std::uint64_t>, bounds_us.size() + 1> counts{};  // the last one: above every bound
    std::atomic<std::uint64_t> sum_us{0};
    void record(std::uint64_t us) {
        std::size_t i = 0;
        while (i < bounds_us.size() && us > bounds_us[i]) ++i;
        counts[i]++;
        sum_us += us;
    }
};

struct processor_stats {
    std::atomic<std::uint64_t> commands{0};
    std::atomic<std::uint64_t> accepted{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> duplicates{0};
    std::atomic<std::uint64_t> dead_lettered{0};
    std::atomic<std::uint64_t> batches{0};
    std::atomic<std::uint64_t> producer_recreations{0};
    std::atomic<std::uint64_t> restores{0};
    std::atomic<std::uint64_t> aborts{0};           // transactions aborted (including failed commits)
    std::atomic<std::uint64_t> assignments{0};      // partition assignments received from the group
    std::atomic<std::int32_t> partitions_restoring{0};  // assigned and not yet restored
    latency_histogram commit_latency;               // flush + send_offsets + commit_transaction
};

class processor {
public:
    processor(kafka_settings kafka, topic_names topics, processor_options options,
              projections::store& store, std::shared_ptr<spdlog::logger> log);
    ~processor();
    processor(const processor&) = delete;
    processor& operator=(const processor&) = delete;

    [[nodiscard]] result<ok_t, std::string> run(const std::atomic<bool>& stop);
    const processor_stats& stats() const { return stats_; }

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    processor_stats stats_;
};

// Restore metadata carried in the consumed offsets of each transaction.
struct restore_metadata {
    std::int64_t events_end = 0;
    std::uint64_t seq = 0;
    std::string head;  // 32 raw bytes
};
std::string format_metadata(const restore_metadata& m);
std::optional<restore_metadata> parse_metadata(std::string_view text);

}  // namespace daybook::consumers
