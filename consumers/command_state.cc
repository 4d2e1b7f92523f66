#include "consumers/command_state.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "aggregates/ledger.h"
#include "events/ledger_codec.h"
#include "events/overloaded.h"
#include "projections/store.h"

namespace daybook::consumers {
namespace {

std::string idem_key(const std::string& routing_key, const std::string& command_id) {
    std::string k = "idem/";
    k += routing_key;
    k += '\0';
    k += command_id;
    return k;
}

// The stream and effective date a ledger event belongs to.
void describe_ledger_event(const events::ledger_event& e, v1::EventEnvelope& out,
                           std::int64_t now_ms) {
    std::visit(overloaded{
                   [&](const events::account_opened& a) {
                       out.set_stream_id(aggregates::stream_of(a.book));
                       out.set_effective_date(utc_date(now_ms));
                   },
                   [&](const events::entry_posted& p) {
                       out.set_stream_id(aggregates::stream_of(p.book));
                       out.set_effective_date(p.effective_date);
                   },
               },
               e);
}

}  // namespace

v1::PartitionPosition read_position(const events::keyed_state& state) {
    v1::PartitionPosition pos;
    if (auto raw = state.get("pos")) {
        if (!pos.ParseFromString(*raw)) std::abort();
    }
    return pos;
}

void write_position(events::keyed_state& state, const v1::PartitionPosition& pos) {
    state.put("pos", pos.SerializeAsString());
}

std::optional<v1::IdempotencyRecord> find_command(const events::keyed_state& state,
                                                  const std::string& routing_key,
                                                  const std::string& command_id) {
    auto raw = state.get(idem_key(routing_key, command_id));
    if (!raw) return std::nullopt;
    v1::IdempotencyRecord r;
    if (!r.ParseFromString(*raw)) std::abort();
    return r;
}

std::uint64_t stream_version(const events::keyed_state& state, const std::string& stream_id) {
    auto raw = state.get("ver/" + stream_id);
    return raw ? projections::read_be64(*raw) : 0;
}

result<std::vector<v1::EventEnvelope>> decide_command(const v1::CommandEnvelope& command,
                                                      const events::keyed_state& state,
                                                      std::int64_t now_ms) {
    auto ledger_cmd = events::ledger_command_of(command);
    if (!ledger_cmd)
        return rejection{rejection_code::payload_missing, "payload", "the envelope carries no command"};
    auto decided = aggregates::ledger::decide(*ledger_cmd, state);
    if (!decided) return decided.error();
    std::vector<v1::EventEnvelope> out;
    for (const auto& e : *decided) {
        auto& env = out.emplace_back();
        describe_ledger_event(e, env, now_ms);
        events::set_payload(env, e);
    }
    return out;
}

void apply_record(events::keyed_state& state, std::uint32_t partition, std::uint64_t seq,
                  const v1::EventEnvelope& envelope) {
    if (envelope.has_command_rejected()) {
        const auto& r = envelope.command_rejected();
        v1::IdempotencyRecord rec;
        rec.set_fingerprint(r.fingerprint());
        *rec.mutable_outcome() = rejected_outcome(r, envelope.recorded_at_ms());
        auto* ref = rec.mutable_outcome()->add_events();
        ref->set_partition(partition);
        ref->set_seq(seq);
        state.put(idem_key(r.routing_key(), r.command_id()), rec.SerializeAsString());
        return;
    }
    if (auto e = events::ledger_event_of(envelope)) aggregates::ledger::evolve(state, *e);
    state.put("ver/" + envelope.stream_id(), projections::be64(envelope.version()));

    // The first event of a command creates its idempotency record; later ones add their refs.
    auto key = idem_key(envelope.routing_key(), envelope.command_id());
    v1::IdempotencyRecord rec;
    if (envelope.index_in_command() > 0) {
        auto raw = state.get(key);
        if (!raw || !rec.ParseFromString(*raw)) std::abort();  // events of a command are contiguous
    } else {
        rec.set_fingerprint(envelope.command_fingerprint());
        auto* o = rec.mutable_outcome();
        o->set_command_id(envelope.command_id());
        o->set_routing_key(envelope.routing_key());
        o->set_status(v1::OUTCOME_STATUS_ACCEPTED);
        o->set_recorded_at_ms(envelope.recorded_at_ms());
    }
    auto* ref = rec.mutable_outcome()->add_events();
    ref->set_partition(partition);
    ref->set_seq(seq);
    state.put(key, rec.SerializeAsString());
}

v1::Outcome rejected_outcome(const v1::CommandRejected& r, std::int64_t recorded_at_ms) {
    v1::Outcome o;
    o.set_command_id(r.command_id());
    o.set_routing_key(r.routing_key());
    o.set_status(v1::OUTCOME_STATUS_REJECTED);
    o.set_code(r.code());
    o.set_code_name(r.code_name());
    o.set_field(r.field());
    o.set_detail(r.detail());
    o.set_recorded_at_ms(recorded_at_ms);
    return o;
}

std::string utc_date(std::int64_t ms) {
    using namespace std::chrono;
    year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(ms)))};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

}  // namespace daybook::consumers
