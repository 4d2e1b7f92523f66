#include "consumers/command_state.h"

#include <cstdlib>
#include <map>
#include <set>

#include "aggregates/billing.h"
#include "aggregates/ledger.h"
#include "aggregates/validation.h"
#include "events/codec.h"
#include "events/ledger_codec.h"
#include "events/limits.h"
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
void describe_ledger_event(const events::ledger_event& e, v1::EventEnvelope& out, std::int64_t now_ms,
                           const events::keyed_state& state) {
    const auto& book = std::visit([](const auto& evt) -> const events::book_id& { return evt.book; }, e);
    out.set_stream_id(aggregates::stream_of(book));
    out.set_effective_date(aggregates::ledger::business_date(state, book, now_ms));
    if (const auto* p = std::get_if<events::entry_posted>(&e)) out.set_effective_date(p->effective_date);
    if (const auto* c = std::get_if<events::hold_captured>(&e)) out.set_effective_date(c->effective_date);
}

}  // namespace

v1::PartitionPosition read_position(const events::keyed_state& state) {
    return events::parse_row<v1::PartitionPosition>(state.get("pos")).value_or(v1::PartitionPosition{});
}

void write_position(events::keyed_state& state, const v1::PartitionPosition& pos) {
    state.put("pos", pos.SerializeAsString());
}

std::optional<v1::IdempotencyRecord> find_command(const events::keyed_state& state,
                                                  const std::string& routing_key,
                                                  const std::string& command_id) {
    return events::parse_row<v1::IdempotencyRecord>(state.get(idem_key(routing_key, command_id)));
}

std::uint64_t stream_version(const events::keyed_state& state, const std::string& stream_id) {
    auto raw = state.get("ver/" + stream_id);
    return raw ? events::read_be64(*raw) : 0;
}

result<std::vector<v1::EventEnvelope>> decide_command(const v1::CommandEnvelope& command,
                                                      const events::keyed_state& state,
                                                      std::int64_t now_ms) {
    if (aggregates::billing::is_command(command)) {
        auto decided = aggregates::billing::decide(command, state, aggregates::decide_context{now_ms, command.actor()});
        if (!decided) return decided.error();
        for (auto& e : *decided)
            if (e.effective_date().empty()) e.set_effective_date(aggregates::utc_date(now_ms));
        return decided;
    }
    auto ledger_cmd = events::ledger_command_of(command);
    if (!ledger_cmd)
        return rejection{rejection_code::payload_missing, "payload", "the envelope carries no command"};
    auto decided = aggregates::ledger::decide(*ledger_cmd, state, aggregates::decide_context{now_ms, command.actor()});
    if (!decided) return decided.error();
    std::vector<v1::EventEnvelope> out;
    for (const auto& e : *decided) {
        auto& env = out.emplace_back();
        describe_ledger_event(e, env, now_ms, state);
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

std::optional<rejection> check_linked_run(const v1::CommandEnvelope& run, const std::string& routing_key) {
    const auto& commands = run.linked_run().commands();
    auto invalid = [](std::string field, std::string detail) {
        return rejection{rejection_code::linked_run_invalid, std::move(field), std::move(detail)};
    };
    if (commands.empty()) return invalid("linked_run.commands", "a linked run needs at least one command");
    if (static_cast<std::size_t>(commands.size()) > limits::linked_run_commands_max)
        return rejection{rejection_code::linked_run_too_long, "linked_run.commands",
                         "a linked run has at most " + std::to_string(limits::linked_run_commands_max) +
                             " commands, got " + std::to_string(commands.size())};
    std::set<std::string> ids;
    for (int i = 0; i < commands.size(); ++i) {
        const auto& c = commands[i];
        const std::string f = "linked_run.commands[" + std::to_string(i) + "]";
        if (c.has_linked_run()) return invalid(f, "a linked run cannot contain another linked run");
        if (c.payload_case() == v1::CommandEnvelope::PAYLOAD_NOT_SET) return invalid(f, "the command is missing");
        if (c.command_id().empty() || c.command_id().size() > limits::id_bytes_max)
            return invalid(f + ".command_id", "every command of a run needs its own command_id (1-128 bytes)");
        if (c.command_id() == run.command_id() || !ids.insert(c.command_id()).second)
            return invalid(f + ".command_id", "command_id " + c.command_id() + " appears twice in the run");
        if (events::routing_key_of(c) != routing_key)
            return invalid(f, "every command of a run must have the routing key '" + routing_key + "'");
    }
    return std::nullopt;
}

std::vector<v1::EventEnvelope> records_for_run(const v1::CommandEnvelope& run, const record_context& ctx,
                                               const events::keyed_state& state, std::uint32_t partition,
                                               std::uint64_t first_seq) {
    const auto& commands = run.linked_run().commands();
    events::layered_state scratch(state);  // dropped when a command is refused
    std::vector<v1::EventEnvelope> records;
    std::vector<record_context> contexts;
    std::optional<std::pair<int, rejection>> culprit;
    std::uint64_t seq = first_seq;
    for (int i = 0; i < commands.size() && !culprit; ++i) {
        v1::CommandEnvelope inner = commands[i];
        inner.set_actor(run.actor());  // the gateway stamped the run
        inner.set_source(run.source());
        inner.set_correlation_id(inner.correlation_id().empty() ? run.correlation_id() : inner.correlation_id());
        const auto& ictx = contexts.emplace_back(
            record_context{ctx.routing_key, events::fingerprint_of(inner), ctx.now_ms, ctx.software_version});
        if (find_command(scratch, ctx.routing_key, inner.command_id())) {
            culprit.emplace(i, rejection{rejection_code::command_id_reused, "command_id",
                                         "command_id " + inner.command_id() + " was already used in " + ctx.routing_key});
            break;
        }
        auto decided = records_for(inner, ictx, std::nullopt, scratch);
        if (decided.front().has_command_rejected()) {
            const auto& r = decided.front().command_rejected();
            culprit.emplace(i, rejection{static_cast<rejection_code>(r.code()), r.field(), r.detail()});
            break;
        }
        for (auto& rec : decided) {
            apply_record(scratch, partition, seq++, rec);
            records.push_back(std::move(rec));
        }
    }
    if (culprit) {
        records.clear();
        const auto& [index, reason] = *culprit;
        for (int i = 0; i < commands.size(); ++i) {
            v1::CommandEnvelope inner = commands[i];
            inner.set_actor(run.actor());
            inner.set_source(run.source());
            record_context ictx{ctx.routing_key, events::fingerprint_of(inner), ctx.now_ms, ctx.software_version};
            records.push_back(rejection_record(
                inner, ictx,
                i == index ? reason
                           : rejection{rejection_code::linked_command_failed, "linked_run.commands[" + std::to_string(index) + "]",
                                       "command " + commands[index].command_id() + " of linked run " + run.command_id() +
                                           " was refused (" + std::string(name_of(reason.code)) + "): nothing of the run was applied"}));
        }
    }
    for (std::size_t i = 0; i < records.size(); ++i) {
        records[i].set_linked_run_id(run.command_id());
        records[i].set_linked_run_fingerprint(ctx.fingerprint);
        records[i].set_linked_run_index(static_cast<std::uint32_t>(i));
        records[i].set_linked_run_records(static_cast<std::uint32_t>(records.size()));
    }
    return records;
}

namespace {

// The run's own idempotency record: accepted unless one of its records is the culprit's refusal.
void apply_run_record(events::keyed_state& state, std::uint32_t partition, std::uint64_t seq,
                      const v1::EventEnvelope& envelope) {
    auto key = idem_key(envelope.routing_key(), envelope.linked_run_id());
    v1::IdempotencyRecord rec;
    if (envelope.linked_run_index() > 0) {
        auto raw = state.get(key);
        if (!raw || !rec.ParseFromString(*raw)) std::abort();  // the records of a run are contiguous
    } else {
        rec.set_fingerprint(envelope.linked_run_fingerprint());
        auto* o = rec.mutable_outcome();
        o->set_command_id(envelope.linked_run_id());
        o->set_routing_key(envelope.routing_key());
        o->set_status(v1::OUTCOME_STATUS_ACCEPTED);
        o->set_recorded_at_ms(envelope.recorded_at_ms());
    }
    auto* o = rec.mutable_outcome();
    if (envelope.has_command_rejected() &&
        envelope.command_rejected().code() != static_cast<std::uint32_t>(rejection_code::linked_command_failed)) {
        const auto& r = envelope.command_rejected();
        o->set_status(v1::OUTCOME_STATUS_REJECTED);
        o->set_code(r.code());
        o->set_code_name(r.code_name());
        o->set_field("linked_run.commands[" + std::to_string(envelope.linked_run_index()) + "]." + r.field());
        o->set_detail("command " + r.command_id() + " was refused: " + r.detail());
    }
    auto* ref = o->add_events();
    ref->set_partition(partition);
    ref->set_seq(seq);
    state.put(key, rec.SerializeAsString());
}

}  // namespace

void apply_record(events::keyed_state& state, std::uint32_t partition, std::uint64_t seq,
                  const v1::EventEnvelope& envelope) {
    if (!envelope.linked_run_id().empty()) apply_run_record(state, partition, seq, envelope);
    if (envelope.has_command_rejected()) {
        // A refused run's commands are not registered one by one: they never happened, and may be
        // submitted again (in a corrected run) under the same ids. The run's record answers retries.
        if (!envelope.linked_run_id().empty()) return;
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
    else if (aggregates::billing::is_event(envelope)) aggregates::billing::evolve(state, envelope);
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
