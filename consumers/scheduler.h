#pragma once
// The scheduler: turns the clock and the projections into commands (DESIGN.md "Time": scheduled
// work enters as ordinary commands with derived ids).
//
// Every interval it runs its rules; each rule reads the projection store and the wall clock and
// returns commands whose ids are derived from (rule, aggregate, time bucket), so a restarted or
// doubled scheduler sends duplicates that the processor answers with the first outcome and never
// applies twice. The decision itself uses the processor's clock (LogAppendTime), not this one.
//
// Lifecycle: construct, add rules, run() until the stop flag is set. One thread; the store may be
// written by the projector thread meanwhile (RocksDB reads are thread-safe).

#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "daybook.pb.h"
#include "projections/store.h"

namespace daybook::consumers {

struct scheduler_options {
    // How often the rules run; also the time bucket of derived command ids. Default: 1000.
    std::uint32_t interval_ms = 1000;
};

class scheduler {
public:
    // A rule: (projection, wall clock ms, time bucket) -> commands to submit.
    using rule = std::function<std::vector<v1::CommandEnvelope>(const projections::store&, std::int64_t now_ms,
                                                                std::int64_t bucket)>;

    scheduler(kafka_settings kafka, topic_names topics, scheduler_options options,
              const projections::store& projection, std::shared_ptr<spdlog::logger> log);
    void add_rule(std::string name, rule r);
    [[nodiscard]] result<ok_t, std::string> run(const std::atomic<bool>& stop);
    std::uint64_t commands_sent() const { return sent_.load(); }

private:
    kafka_settings kafka_;
    topic_names topics_;
    scheduler_options options_;
    const projections::store& projection_;
    std::shared_ptr<spdlog::logger> log_;
    std::vector<std::pair<std::string, rule>> rules_;
    std::atomic<std::uint64_t> sent_{0};
};

// Rule: one expire_holds command per book with open holds past their deadline.
std::vector<v1::CommandEnvelope> expire_holds_rule(const projections::store& projection, std::int64_t now_ms,
                                                   std::int64_t bucket);

}  // namespace daybook::consumers
