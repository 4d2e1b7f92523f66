#include "consumers/command_state.h"

#include <cstdlib>
#include <map>
#include <set>

#include "aggregates/billing.h"
#include "aggregates/ledger.h"
#include "aggregates/payroll.h"
#include "aggregates/security.h"
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
                                                      std::int64_t now_ms, const std::string& approver) {
    if (aggregates::payroll::is_command(command))
        return aggregates::payroll::decide(command, state, aggregates::decide_context{now_ms, command.actor(), false, approver});
    if (aggregates::security::is_command(command))
        return aggregates::security::decide(command, state, aggregates::decide_context{now_ms, command.actor()});
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
    // A process manager's posting (caused by a recorded event) may still enter a closed period.
    const bool process_manager = command.source() == "billing-manager" && !command.causation_event_id().empty();
    auto decided = aggregates::ledger::decide(*ledger_cmd, state, aggregates::decide_context{now_ms, command.actor(), process_manager});
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

namespace {

// The records of a command that passed its permission and approval checks: its events, with
// their aggregate versions, or its command_rejected record. `approver`: who approved it, if held.
std::vector<v1::EventEnvelope> decided_records(const v1::CommandEnvelope& cmd, const record_context& ctx,
                                               const events::keyed_state& state, const std::string& approver) {
    auto decided = decide_command(cmd, state, ctx.now_ms, approver);
    std::vector<v1::EventEnvelope> out;
    if (!decided) {
        out.push_back(rejection_record(cmd, ctx, decided.error()));
        if (!approver.empty()) out.back().add_approvers(approver);
        return out;
    }
    std::map<std::string, std::uint64_t> versions;
    for (std::size_t i = 0; i < decided->size(); ++i) {
        auto env = stamped(cmd, ctx);
        env.MergeFrom((*decided)[i]);
        auto& v = versions[env.stream_id()];
        if (v == 0) v = stream_version(state, env.stream_id());
        env.set_version(++v);
        env.set_index_in_command(static_cast<std::uint32_t>(i));
        env.set_events_in_command(static_cast<std::uint32_t>(decided->size()));
        if (!approver.empty()) env.add_approvers(approver);
        out.push_back(std::move(env));
    }
    return out;
}

// One record of an engine-level event (approval_requested, approval_resolved) in `stream`.
template <typename Fill>
v1::EventEnvelope engine_record(const v1::CommandEnvelope& cmd, const record_context& ctx, const events::keyed_state& state,
                                const std::string& stream, Fill&& fill) {
    auto env = stamped(cmd, ctx);
    env.set_stream_id(stream);
    env.set_version(stream_version(state, stream) + 1);
    env.set_effective_date(utc_date(ctx.now_ms));
    env.set_events_in_command(1);
    fill(env);
    return env;
}

// approve_command: the held command decided now (approved) or refused (rejected), after the
// approval's own checks (aggregates/security.h, rule 3).
std::vector<v1::EventEnvelope> approval_records(const v1::CommandEnvelope& cmd, const record_context& ctx,
                                                const events::keyed_state& state) {
    namespace security = aggregates::security;
    const auto& a = cmd.approve_command();
    auto held = security::find_held(state, ctx.routing_key, a.command_id());
    if (!held)
        return {rejection_record(cmd, ctx, rejection{rejection_code::approval_not_found, "approve_command.command_id",
                                                     "no command " + a.command_id() + " waits for approval in " + ctx.routing_key})};
    if (auto refused = security::check_approval(state, a, cmd.actor(), *held, ctx.now_ms)) return {rejection_record(cmd, ctx, *refused)};
    std::vector<v1::EventEnvelope> out{engine_record(cmd, ctx, state, security::approval_stream(ctx.routing_key, a.command_id()), [&](auto& e) {
        auto* r = e.mutable_approval_resolved();
        r->set_command_id(a.command_id());
        r->set_approver(cmd.actor());
        r->set_approved(!a.reject());
        r->set_reason(a.reason().substr(0, limits::memo_bytes_max));
    })};
    if (a.reject()) return out;
    v1::CommandEnvelope original;
    if (!original.ParseFromString(held->command())) std::abort();  // written by this processor
    record_context octx{ctx.routing_key, held->fingerprint(), ctx.now_ms, ctx.software_version};
    auto facts = security::facts_of(original, state);
    std::vector<v1::EventEnvelope> decided;
    if (auto denied = security::authorize(state, original, facts)) {  // the submitter, authorised again
        decided.push_back(rejection_record(original, octx, *denied));
        decided.back().add_approvers(cmd.actor());
    } else {
        decided = decided_records(original, octx, state, cmd.actor());
    }
    for (auto& r : decided) out.push_back(std::move(r));
    return out;
}

// Process managers' and the scheduler's commands follow from recorded events: never held (their
// actors still need roles when permissions are enforced). Gateways overwrite `source`.
bool follows_from_events(const v1::CommandEnvelope& cmd) {
    return cmd.source() == "billing-manager" || cmd.source().starts_with("scheduler:");
}

}  // namespace

std::vector<v1::EventEnvelope> records_for(const v1::CommandEnvelope& cmd, const record_context& ctx,
                                           const std::optional<rejection>& refused,
                                           const events::keyed_state& state, bool in_run) {
    namespace security = aggregates::security;
    std::vector<v1::EventEnvelope> out;
    if (refused) {
        out = {rejection_record(cmd, ctx, *refused)};
    } else if (cmd.has_approve_command()) {
        out = approval_records(cmd, ctx, state);
    } else {
        auto facts = security::facts_of(cmd, state);
        auto hold = follows_from_events(cmd) ? std::nullopt : security::approval_needed(state, facts);
        if (auto denied = security::authorize(state, cmd, facts)) {
            out = {rejection_record(cmd, ctx, *denied)};
        } else if (hold && in_run) {
            out = {rejection_record(cmd, ctx, rejection{rejection_code::approval_required_in_run, "linked_run",
                                                        facts.name + " needs approval (" + hold->policy + "): submit it on its own"})};
        } else if (hold) {
            out = {engine_record(cmd, ctx, state, security::approval_stream(ctx.routing_key, cmd.command_id()), [&](auto& e) {
                auto* r = e.mutable_approval_requested();
                r->set_command_id(cmd.command_id());
                r->set_fingerprint(ctx.fingerprint);
                r->set_command(events::serialize(cmd));
                r->set_requested_by(cmd.actor());
                r->set_expires_at_ms(ctx.now_ms + hold->expires_after_ms);
                r->set_command_name(facts.name);
                r->set_book_id(facts.book);
                r->set_policy(hold->policy);
            })};
        } else {
            out = decided_records(cmd, ctx, state, "");
        }
    }
    const auto version = security::version(state);
    for (auto& r : out) r.set_permissions_version(version);
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
        if (c.has_approve_command()) return invalid(f, "an approval is submitted on its own, not in a linked run");
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
        auto decided = records_for(inner, ictx, std::nullopt, scratch, true);
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
    else if (aggregates::security::is_event(envelope)) aggregates::security::evolve(state, envelope);
    else if (aggregates::payroll::is_event(envelope)) aggregates::payroll::evolve(state, envelope);
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
    if (envelope.has_approval_requested()) {  // held: the command's outcome until it is approved
        rec.mutable_outcome()->set_status(v1::OUTCOME_STATUS_PENDING_APPROVAL);
        rec.mutable_outcome()->set_detail("held for approval (" + envelope.approval_requested().policy() + ") until " +
                                          std::to_string(envelope.approval_requested().expires_at_ms()) + " ms");
    }
    state.put(key, rec.SerializeAsString());
    if (envelope.has_approval_resolved() && !envelope.approval_resolved().approved()) {
        // Rejected by the approver: the held command's outcome, under its own id.
        const auto& r = envelope.approval_resolved();
        auto held_key = idem_key(envelope.routing_key(), r.command_id());
        v1::IdempotencyRecord held;
        if (auto raw = state.get(held_key); !raw || !held.ParseFromString(*raw)) std::abort();  // it was held here
        auto* o = held.mutable_outcome();
        o->set_status(v1::OUTCOME_STATUS_REJECTED);
        o->set_code(static_cast<std::uint32_t>(rejection_code::approval_rejected));
        o->set_code_name(std::string(name_of(rejection_code::approval_rejected)));
        o->set_field("approve_command");
        o->set_detail("rejected by " + r.approver() + (r.reason().empty() ? "" : ": " + r.reason()));
        o->set_recorded_at_ms(envelope.recorded_at_ms());
        auto* at = o->add_events();
        at->set_partition(partition);
        at->set_seq(seq);
        state.put(held_key, held.SerializeAsString());
    }
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
