#include "consumers/command_state.h"

#include <cstdlib>
#include <map>

#include "aggregates/ledger.h"
#include "events/ledger_codec.h"
#include "events/overloaded.h"

namespace daybook::consumers {
namespace {

std::string idem_key(const std::string& routing_key, const std::string& command_id) {
    std::string k = "idem/";
    k += routing_key;
    k += '\0';
    k += command_id;
    return k;
}

// The stream and effective date a ledger event belongs to: postings carry their own date, every
// other event takes the date of `now`.
void describe_ledger_event(const events::ledger_event& e, v1::EventEnvelope& out, std::int64_t now_ms) {
    std::visit([&](const auto& evt) { out.set_stream_id(aggregates::stream_of(evt.book)); }, e);
    out.set_effective_date(utc_date(now_ms));
    if (const auto* p = std::get_if<events::entry_posted>(&e)) out.set_effective_date(p->effective_date);
    if (const auto* c = std::get_if<events::hold_captured>(&e)) out.set_effective_date(c->effective_date);
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
    return raw ? events::read_be64(*raw) : 0;
}

result<std::vector<v1::EventEnvelope>> decide_command(const v1::CommandEnvelope& command,
                                                      const events::keyed_state& state,
                                                      std::int64_t now_ms) {
    auto ledger_cmd = events::ledger_command_of(command);
    if (!ledger_cmd)
        return rejection{rejection_code::payload_missing, "payload", "the envelope carries no command"};
    auto decided = aggregates::ledger::decide(*ledger_cmd, state, aggregates::decide_context{now_ms, command.actor()});
    if (!decided) return decided.error();
    std::vector<v1::EventEnvelope> out;
    for (const auto& e : *decided) {
        auto& env = out.emplace_back();
        describe_ledger_event(e, env, now_ms);
        events::set_payload(env, e);
    }
    return out;
}

namespace {

v1::EventEnvelope stamped(const v1::CommandEnvelope& cmd, const record_context& ctx) {
    v1::EventEnvelope env;
    env.set_schema_version(1);
    env.set_command_id(cmd.command_id());
    env.set_command_fingerprint(ctx.fingerprint);
    env.set_causation_event_id(cmd.causation_event_id());
    env.set_correlation_id(cmd.correlation_id());
    env.set_actor(cmd.actor());
    env.set_source(cmd.source().empty() ? "client" : cmd.source());
    env.set_software_version(ctx.software_version);
    env.set_recorded_at_ms(ctx.now_ms);
    env.set_routing_key(ctx.routing_key);
    return env;
}

}  // namespace

v1::EventEnvelope rejection_record(const v1::CommandEnvelope& cmd, const record_context& ctx,
                                   const rejection& r) {
    auto env = stamped(cmd, ctx);
    env.set_effective_date(utc_date(ctx.now_ms));
    env.set_events_in_command(1);
    auto* cr = env.mutable_command_rejected();
    cr->set_command_id(cmd.command_id());
    cr->set_fingerprint(ctx.fingerprint);
    cr->set_code(static_cast<std::uint32_t>(r.code));
    cr->set_code_name(std::string(name_of(r.code)));
    cr->set_field(r.field);
    cr->set_detail(r.detail.substr(0, 2000));
    cr->set_routing_key(ctx.routing_key);
    return env;
}

std::vector<v1::EventEnvelope> records_for(const v1::CommandEnvelope& cmd, const record_context& ctx,
                                           const std::optional<rejection>& refused,
                                           const events::keyed_state& state) {
    if (refused) return {rejection_record(cmd, ctx, *refused)};
    auto decided = decide_command(cmd, state, ctx.now_ms);
    if (!decided) return {rejection_record(cmd, ctx, decided.error())};
    std::vector<v1::EventEnvelope> out;
    std::map<std::string, std::uint64_t> versions;
    for (std::size_t i = 0; i < decided->size(); ++i) {
        auto env = stamped(cmd, ctx);
        env.MergeFrom((*decided)[i]);
        auto& v = versions[env.stream_id()];
        if (v == 0) v = stream_version(state, env.stream_id());
        env.set_version(++v);
        env.set_index_in_command(static_cast<std::uint32_t>(i));
        env.set_events_in_command(static_cast<std::uint32_t>(decided->size()));
        out.push_back(std::move(env));
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
    state.put("ver/" + envelope.stream_id(), events::be64(envelope.version()));

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

}  // namespace daybook::consumers
