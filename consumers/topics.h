#pragma once
// Daybook's topics (DESIGN.md "Topics"), their creation and the start-up check.

#include <string>

#include "consumers/kafka.h"

namespace daybook::consumers {

struct topic_names {
    // Physical names are <prefix>commands, ... The hash chain always uses the logical name
    // "daybook.events", so a store under another prefix still verifies. Default: "daybook.".
    std::string prefix = "daybook.";
    std::string commands() const { return prefix + "commands"; }
    std::string events() const { return prefix + "events"; }
    std::string outcomes() const { return prefix + "outcomes"; }
    std::string dlq() const { return prefix + "dlq"; }
};

struct topic_layout {
    // Partitions of commands and events (always equal). Default: 3.
    int partitions = 3;
    // Partitions of outcomes. Default: 3.
    int outcome_partitions = 3;
    // Retention of commands and outcomes. Default: 7 days.
    std::int64_t commands_retention_ms = 7LL * 24 * 3600 * 1000;
};

// Creates the four topics; existing topics with the right layout are left alone (idempotent).
result<ok_t, std::string> create_topics(const kafka_settings& s, const topic_names& names,
                                        const topic_layout& layout);

struct topic_check {
    int partitions = 0;          // of commands and events
    int outcome_partitions = 0;
};
// Refuses to run unless commands and events exist with equal partition counts, commands use
// LogAppendTime and events keep records forever without compaction.
result<topic_check, std::string> check_topics(const kafka_settings& s, const topic_names& names);

}  // namespace daybook::consumers
