#pragma once
// Load drivers. One driver serves every workload, Daybook's and the baselines', so they are
// measured the same way:
//
//   drive()  a sender thread produces records i = 0..n-1, either as fast as the producer takes
//            them (closed loop: throughput) or each at its scheduled time start + i / rate (open
//            loop); the calling thread reads the replies read_committed and records, per reply,
//            the latency from the record's *scheduled* send time (no coordinated omission: a
//            sender that falls behind makes latency worse, not better). A reply is a Daybook
//            Outcome (its command_id) or, for the baselines, any record whose key is the id.
//   projection_follower  follows the projector's RocksDB store as a secondary instance and
//            records when each accepted command's last event is in the projection.
//   copier   B0-txn: Daybook's transaction shape without Daybook.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "bench/histogram.h"
#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "daybook.pb.h"

namespace daybook::bench {

struct bench_record {
    std::string key, value;  // the id is the key unless the workload's replies are outcomes
};
using record_source = std::function<bench_record(std::uint64_t i)>;

class projection_follower;

struct drive_spec {
    std::string send_topic{}, reply_topic{};
    int partitions = 3;
    std::uint64_t count = 0;
    double rate = 0;                // records/s; 0: as fast as possible (closed loop)
    bool daybook_outcomes = false;  // replies are Outcome records (id = command_id, index from it)
    std::string id_tag{};           // ids are "<tag>-<i>"
    projection_follower* follower = nullptr;
    // Called for every first reply (outcome null for baselines), from the reading thread.
    std::function<void(std::uint64_t i, const v1::Outcome* outcome)> on_reply{};
    int idle_timeout_s = 120;  // give up when no reply arrives for this long
    int warmup_ms = 1500;      // the reader polls this long before the first send (not measured)
};

struct drive_result {
    std::uint64_t sent = 0, replied = 0, accepted = 0, rejected = 0, duplicates = 0;
    double seconds = 0;         // first send to last reply
    double send_seconds = 0;    // first to last send
    double drain_seconds = 0;   // last send to last reply
    std::uint64_t max_backlog = 0;  // sent and not yet replied, at its largest
    std::uint64_t reply_bytes = 0, send_bytes = 0;
    latency_histogram to_reply, to_projection;
    std::map<std::uint32_t, std::uint64_t> last_seq;  // per events partition, the highest seq an outcome named
    double per_second() const { return seconds > 0 ? static_cast<double>(replied) / seconds : 0; }
};

drive_result drive(const consumers::kafka_settings& kafka, const drive_spec& spec, const record_source& source);

// Produces n records as fast as the producer takes them and waits until all are acknowledged.
void produce_n(const consumers::kafka_settings& kafka, const std::string& topic, int partitions, std::uint64_t n,
               const record_source& source);
// Reads n records of a topic from the beginning; returns how many it got and the microseconds from
// the first record to the last.
std::pair<std::uint64_t, std::uint64_t> consume_n(const consumers::kafka_settings& kafka, const std::string& topic,
                                                  int partitions, std::uint64_t n);

// Waits until the projector's store (a secondary view of it) holds every partition's events up to
// `last_seq`; false on timeout.
bool wait_projected(const std::string& store_path, const std::string& scratch,
                    const std::map<std::uint32_t, std::uint64_t>& last_seq, int timeout_s);

class projection_follower {
public:
    projection_follower(const std::string& store_path, const std::string& scratch, int partitions);
    ~projection_follower();
    // The command scheduled at `scheduled_us` (steady clock) left its last event at (partition, seq).
    void expect(std::uint32_t partition, std::uint64_t seq, std::int64_t scheduled_us);
    latency_histogram take();  // the latencies recorded since the last take()

private:
    void run();
    std::string path_, scratch_;
    int partitions_;
    std::mutex mu_;
    std::vector<std::multimap<std::uint64_t, std::int64_t>> pending_;
    std::vector<std::uint64_t> seen_;
    latency_histogram hist_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// The transactional copier (B0-txn) or its at-least-once twin: reads `commands` in a group,
// writes an event-sized record to `events` and an outcome-sized record (key = the input's key)
// to `outcomes` per input record; transactional: offsets in the transaction, one transaction per
// 50 ms or 5,000 records, as Daybook's processor; at-least-once: offsets committed after the
// same batch's produce is flushed. Sets ready once it has its partitions; runs until stop is set.
struct copier_stats {
    std::uint64_t copied = 0, transactions = 0;
};
copier_stats run_copier(const consumers::kafka_settings& kafka, const consumers::topic_names& topics, bool transactional,
                        const std::atomic<bool>& stop, std::atomic<bool>& ready);

std::int64_t steady_us();

}  // namespace daybook::bench
