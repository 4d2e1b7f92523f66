#pragma once
// One partition of the processor for decider tests: commands go through the processor's own
// record path (consumers/command_state.h: records_for + apply_record), and the process managers'
// follow-ups (consumers/billing_manager.h: postings, security copies) are submitted back, as the
// running system would. What a test sees is what the processor would append.

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <string>
#include <vector>

#include "consumers/billing_manager.h"
#include "consumers/command_state.h"
#include "events/codec.h"

namespace daybook::testing {

constexpr std::int64_t start_ms = 1'795'400'000'000;  // 2026-11-23

// One partition of the processor: commands in, records appended and applied, outcomes read back.
// A security change is copied into the partition the way the process managers do it.
struct partition {
    events::memory_state state;
    std::uint64_t seq = 0;
    std::int64_t now_ms = start_ms;
    int ids = 0;

    std::vector<v1::EventEnvelope> submit(v1::CommandEnvelope cmd, const std::string& actor) {
        if (cmd.command_id().empty()) cmd.set_command_id("c" + std::to_string(++ids));
        cmd.set_actor(actor);
        auto key = events::routing_key_of(cmd);
        consumers::record_context ctx{key, events::fingerprint_of(cmd), now_ms, "test"};
        auto records = consumers::records_for(cmd, ctx, std::nullopt, state);
        for (auto& r : records) {
            consumers::apply_record(state, 0, ++seq, r);
            for (auto& copy : consumers::follow_ups(r, 1)) submit(copy, copy.actor());
        }
        return records;
    }
    v1::Outcome outcome(const v1::CommandEnvelope& cmd) {
        auto rec = consumers::find_command(state, events::routing_key_of(cmd), cmd.command_id());
        REQUIRE(rec);
        return rec->outcome();
    }
};

inline v1::CommandEnvelope parse(const std::string& json, const std::string& id = "") {
    v1::CommandEnvelope c;
    auto status = google::protobuf::util::JsonStringToMessage(json, &c);
    INFO(json);
    REQUIRE(status.ok());
    if (!id.empty()) c.set_command_id(id);
    return c;
}

inline std::string code_of(const std::vector<v1::EventEnvelope>& records) {
    REQUIRE(!records.empty());
    return records.front().has_command_rejected() ? records.front().command_rejected().code_name() : "accepted";
}

inline v1::CommandEnvelope grant(const std::string& actor, const std::string& role, const std::string& book = "*") {
    return parse(R"({"grant_role":{"realm":"security","actor":")" + actor + R"(","role":")" + role + R"(","book_id":")" + book + R"("}})");
}
}  // namespace daybook::testing
