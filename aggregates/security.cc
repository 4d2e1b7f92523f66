#include "aggregates/security.h"

#include <algorithm>
#include <limits>

#include "aggregates/billing.h"
#include "aggregates/payroll.h"
#include "aggregates/validation.h"
#include "events/codec.h"
#include "events/limits.h"
#include "events/murmur2.h"

namespace daybook::aggregates::security {
namespace {

using events::keyed_state;
using decided = result<std::vector<v1::EventEnvelope>>;
using C = v1::CommandEnvelope;
using E = v1::EventEnvelope;

// Rows: <view>ver, <view>enforced, <view>role/<role>, <view>grant/<actor>\0<role>\0<book>,
// <view>policy/<command>\0<book>; the view is "secauth/" (the realm, in its own partition and in
// the projection) or "sec/" (the copy every partition authorises from). secauth/admin/<actor>
// indexes the security admins; approval/<routing key>\0<command id> holds a command.
constexpr const char* realm_view = "secauth/";
constexpr const char* copy_view = "sec/";
constexpr std::uint32_t approval_window_max_s = 30 * 24 * 3600;

std::string join3(const std::string& a, const std::string& b, const std::string& c) {
    std::string k = a;
    k += '\0';
    k += b;
    k += '\0';
    return k + c;
}
std::string grant_key(const std::string& view, const std::string& actor, const std::string& role, const std::string& book) {
    return view + "grant/" + join3(actor, role, book);
}
std::string grant_prefix(const std::string& view, const std::string& actor) {
    std::string k = view + "grant/" + actor;
    k += '\0';
    return k;
}
std::string policy_key(const std::string& view, const std::string& command, const std::string& book) {
    std::string k = view + "policy/" + command;
    k += '\0';
    return k + book;
}
std::string held_key(const std::string& routing_key, const std::string& command_id) {
    std::string k = "approval/" + routing_key;
    k += '\0';
    return k + command_id;
}

rejection reject(rejection_code code, std::string field, std::string detail) {
    return rejection{code, std::move(field), std::move(detail)};
}

std::uint64_t version_of(const keyed_state& state, const std::string& view) {
    auto raw = state.get(view + "ver");
    return raw ? events::read_be64(*raw) : 0;
}

// A command's payload name (post_entry), or "*" -- what permissions and policies name.
bool known_command(const std::string& name) {
    if (name == "*" || name == read_pay_data) return true;
    const auto* field = v1::CommandEnvelope::descriptor()->FindFieldByName(name);
    return field && field->containing_oneof() && name != "linked_run";
}

bool valid_role_name(const std::string& role) { return valid_id(role) && role.find('/') == std::string::npos; }
bool valid_book(const std::string& book) { return book == "*" || valid_id(book); }

void apply_change(keyed_state& state, const std::string& view, const v1::SecurityChange& c) {
    state.put(view + "ver", events::be64(c.version()));
    switch (c.change_case()) {
        case v1::SecurityChange::kRoleDefined: state.put(view + "role/" + c.role_defined().role(), events::serialize(c.role_defined())); break;
        case v1::SecurityChange::kRoleGranted: {
            const auto& g = c.role_granted();
            state.put(grant_key(view, g.actor(), g.role(), g.book_id()), events::serialize(g));
            if (view == realm_view && g.role() == admin_role) state.put(std::string(realm_view) + "admin/" + g.actor(), "");
            break;
        }
        case v1::SecurityChange::kRoleRevoked: {
            const auto& r = c.role_revoked();
            state.erase(grant_key(view, r.actor(), r.role(), r.book_id()));
            if (view == realm_view && r.role() == admin_role) state.erase(std::string(realm_view) + "admin/" + r.actor());
            break;
        }
        case v1::SecurityChange::kApprovalPolicySet: {
            const auto& p = c.approval_policy_set();
            auto key = policy_key(view, p.command(), p.book_id());
            if (p.remove()) state.erase(key);
            else state.put(key, events::serialize(p));
            break;
        }
        case v1::SecurityChange::kPermissionsEnforcedSet:
            if (c.permissions_enforced_set().enforced()) state.put(view + "enforced", "1");
            else state.erase(view + "enforced");
            break;
        case v1::SecurityChange::CHANGE_NOT_SET: break;
    }
}

bool is_admin(const keyed_state& state, const std::string& actor) {
    return state.get(std::string(realm_view) + "admin/" + actor).has_value();
}
std::size_t admin_count(const keyed_state& state) {
    return state.scan(std::string(realm_view) + "admin/", "", 2).size();
}

// The security change a realm command asks for (without version and author), or why not.
result<v1::SecurityChange> change_of(const C& cmd, const keyed_state& state) {
    v1::SecurityChange change;
    switch (cmd.payload_case()) {
        case C::kDefineRole: {
            const auto& d = cmd.define_role();
            const std::string f = "define_role.";
            if (!valid_role_name(d.role()) || d.role() == admin_role)
                return reject(rejection_code::role_invalid, f + "role",
                              d.role() == admin_role ? "security_admin is built in" : "role must be an id without '/'");
            for (int i = 0; i < d.permissions_size(); ++i) {
                const auto& p = d.permissions(i);
                const std::string pf = f + "permissions[" + std::to_string(i) + "]";
                if (!known_command(p.command()))
                    return reject(rejection_code::role_invalid, pf + ".command", "'" + p.command() + "' is not a command name or *");
                for (const auto& l : p.limits())
                    if (!valid_currency(l.currency()) || l.max_minor() < 0)
                        return reject(rejection_code::role_invalid, pf + ".limits", "a limit needs a currency and an amount >= 0");
            }
            for (const auto& a : d.may_approve())
                if (!known_command(a)) return reject(rejection_code::role_invalid, f + "may_approve", "'" + a + "' is not a command name or *");
            *change.mutable_role_defined() = d;
            return change;
        }
        case C::kGrantRole: {
            const auto& g = cmd.grant_role();
            const std::string f = "grant_role.";
            if (!valid_id(g.actor())) return reject(rejection_code::actor_invalid, f + "actor", "actor must be an id");
            if (!valid_book(g.book_id())) return reject(rejection_code::role_invalid, f + "book_id", "book_id must be an id or *");
            if (g.role() == admin_role && g.book_id() != "*")
                return reject(rejection_code::role_invalid, f + "book_id", "security_admin is granted for every book (*)");
            if (g.role() != admin_role && !state.get(std::string(realm_view) + "role/" + g.role()))
                return reject(rejection_code::role_not_found, f + "role", "role '" + g.role() + "' is not defined");
            *change.mutable_role_granted() = g;
            return change;
        }
        case C::kRevokeRole: {
            const auto& r = cmd.revoke_role();
            const std::string f = "revoke_role.";
            if (!valid_id(r.actor())) return reject(rejection_code::actor_invalid, f + "actor", "actor must be an id");
            if (!state.get(grant_key(realm_view, r.actor(), r.role(), r.book_id())))
                return reject(rejection_code::grant_not_found, f + "role",
                              r.actor() + " does not hold " + r.role() + " for " + r.book_id());
            if (r.role() == admin_role && admin_count(state) < 2)
                return reject(rejection_code::security_admin_required, f + "actor", "the last security admin cannot be revoked");
            *change.mutable_role_revoked() = r;
            return change;
        }
        case C::kSetApprovalPolicy: {
            const auto& p = cmd.set_approval_policy();
            const std::string f = "set_approval_policy.";
            if (!known_command(p.command()) || p.command() == "*" || p.command() == "approve_command" || p.command() == "replicate_security")
                return reject(rejection_code::approval_policy_invalid, f + "command", "'" + p.command() + "' is not a command that can be held");
            if (p.command() == "hire_employee" || p.command() == "register_counterparty" || p.command() == read_pay_data)
                return reject(rejection_code::approval_policy_invalid, f + "command",
                              "'" + p.command() + "' carries personal data, which a held command would keep in clear: it cannot be held");
            if (!valid_book(p.book_id())) return reject(rejection_code::approval_policy_invalid, f + "book_id", "book_id must be an id or *");
            if (!p.remove()) {
                if (!p.currency().empty() && !valid_currency(p.currency()))
                    return reject(rejection_code::approval_policy_invalid, f + "currency", "currency is empty (always) or a currency code");
                if (p.above_minor() < 0) return reject(rejection_code::approval_policy_invalid, f + "above_minor", "the threshold is >= 0");
                if (p.expires_after_s() == 0 || p.expires_after_s() > approval_window_max_s)
                    return reject(rejection_code::approval_policy_invalid, f + "expires_after_s",
                                  "an approval window is 1 s to " + std::to_string(approval_window_max_s) + " s");
            }
            *change.mutable_approval_policy_set() = p;
            return change;
        }
        case C::kSetPermissionsEnforced: *change.mutable_permissions_enforced_set() = cmd.set_permissions_enforced(); return change;
        default: break;
    }
    return reject(rejection_code::payload_missing, "payload", "not a security command");
}

decided decide_realm(const C& cmd, const keyed_state& state, const decide_context& ctx) {
    if (events::routing_key_of(cmd) != realm)
        return reject(rejection_code::security_realm_invalid, "realm", std::string("realm must be \"") + realm + "\"");
    // The bootstrap: while nobody is a security admin, anyone may make someone one.
    const bool bootstrap = cmd.has_grant_role() && cmd.grant_role().role() == admin_role && admin_count(state) == 0;
    if (!bootstrap && !is_admin(state, ctx.actor))
        return reject(rejection_code::security_admin_required, "actor", "'" + ctx.actor + "' is not a security admin");
    auto change = change_of(cmd, state);
    if (!change) return change.error();
    change->set_version(version_of(state, realm_view) + 1);
    change->set_by(ctx.actor);
    v1::EventEnvelope e;
    e.set_stream_id(realm);
    *e.mutable_security_changed()->mutable_change() = *change;
    return std::vector{e};
}

decided decide_copy(const v1::ReplicateSecurity& c, const keyed_state& state) {
    if (!c.partition_key().starts_with("security/"))
        return reject(rejection_code::security_realm_invalid, "replicate_security.partition_key", "the key is security/<n>");
    auto expected = version_of(state, copy_view) + 1;
    if (c.change().version() != expected)
        return reject(rejection_code::security_version_invalid, "replicate_security.change.version",
                      "this partition expects security version " + std::to_string(expected) + ", got " +
                          std::to_string(c.change().version()));
    v1::EventEnvelope e;
    e.set_stream_id("permissions/" + c.partition_key());
    *e.mutable_security_replicated()->mutable_change() = c.change();
    return std::vector{e};
}

// Does one permission cover the command's amounts?
bool within(const v1::Permission& p, const command_facts& facts) {
    if (p.limits().empty()) return true;
    for (const auto& [currency, amount] : facts.amounts) {
        auto l = std::find_if(p.limits().begin(), p.limits().end(), [&](const auto& x) { return x.currency() == currency; });
        if (l == p.limits().end() || amount > l->max_minor()) return false;
    }
    return true;
}

// The roles the actor holds in the book (grants for it or for "*"), from the partition's copy.
std::vector<v1::DefineRole> roles_of(const keyed_state& state, const std::string& actor, const std::string& book) {
    std::vector<v1::DefineRole> out;
    for (const auto& [k, v] : state.scan(grant_prefix(copy_view, actor), "", limits::mapping_versions_max)) {
        v1::GrantRole g;
        if (!g.ParseFromString(v)) std::abort();
        if (g.book_id() != "*" && g.book_id() != book) continue;
        if (auto role = events::parse_row<v1::DefineRole>(state.get(std::string(copy_view) + "role/" + g.role()))) out.push_back(*role);
    }
    return out;
}

std::string amounts_text(const command_facts& facts) {
    std::string out;
    for (const auto& [currency, amount] : facts.amounts) out += (out.empty() ? "" : ", ") + to_decimal(amount) + " " + currency;
    return out;
}

}  // namespace

bool is_command(const v1::CommandEnvelope& c) {
    auto n = static_cast<int>(c.payload_case());
    return n >= 300 && n <= 331;
}

bool is_event(const v1::EventEnvelope& e) {
    auto n = static_cast<int>(e.payload_case());
    return n >= 300 && n <= 331;
}

result<std::vector<v1::EventEnvelope>> decide(const v1::CommandEnvelope& cmd, const keyed_state& state, const decide_context& ctx) {
    if (cmd.has_replicate_security()) return decide_copy(cmd.replicate_security(), state);
    if (cmd.has_record_access()) {
        const auto& r = cmd.record_access();
        if (r.reader() != ctx.actor)
            return reject(rejection_code::actor_invalid, "record_access.reader", "a read is recorded by the gateway for its own actor");
        v1::EventEnvelope e;
        e.set_stream_id("access/" + r.reader());
        e.set_effective_date(utc_date(ctx.now_ms));
        auto* a = e.mutable_access_recorded();
        a->set_reader(r.reader());
        a->set_what(r.what().substr(0, limits::memo_bytes_max));
        a->set_book_id(r.book_id());
        a->set_pay_data(r.pay_data());
        return std::vector{e};
    }
    if (cmd.has_record_erasure()) {
        const auto& r = cmd.record_erasure();
        if (r.subject().empty() || r.subject().size() > 2 * limits::id_bytes_max + 10)
            return reject(rejection_code::subject_invalid, "record_erasure.subject",
                          "subject is \"<book>/<counterparty id>\" or \"<book>/employee/<employee id>\"");
        v1::EventEnvelope e;
        e.set_stream_id("privacy/" + r.subject());
        e.set_effective_date(utc_date(ctx.now_ms));
        e.mutable_subject_erased()->set_subject(r.subject());
        e.mutable_subject_erased()->set_reason(r.reason().substr(0, limits::memo_bytes_max));
        return std::vector{e};
    }
    auto out = decide_realm(cmd, state, ctx);
    if (out)
        for (auto& e : *out) e.set_effective_date(utc_date(ctx.now_ms));
    return out;
}

void evolve(keyed_state& state, const v1::EventEnvelope& e) {
    switch (e.payload_case()) {
        case E::kSecurityChanged: apply_change(state, realm_view, e.security_changed().change()); break;
        case E::kSecurityReplicated: apply_change(state, copy_view, e.security_replicated().change()); break;
        case E::kApprovalRequested: {
            // The held command's routing key is the record's: the approval is routed the same way.
            state.put(held_key(e.routing_key(), e.approval_requested().command_id()), events::serialize(e.approval_requested()));
            break;
        }
        case E::kApprovalResolved: state.erase(held_key(e.routing_key(), e.approval_resolved().command_id())); break;
        default: break;
    }
}

command_facts facts_of(const v1::CommandEnvelope& cmd, const keyed_state& state) {
    command_facts f;
    if (cmd.payload_case() == C::PAYLOAD_NOT_SET) return f;
    const auto* field = cmd.GetDescriptor()->FindFieldByNumber(cmd.payload_case());
    f.name = field->name();
    if (cmd.has_record_access() && cmd.record_access().pay_data()) f.name = std::string(read_pay_data);
    const auto& payload = cmd.GetReflection()->GetMessage(cmd, field);
    auto string_field = [&](const char* name) -> std::string {
        const auto* fd = payload.GetDescriptor()->FindFieldByName(name);
        if (!fd || fd->type() != google::protobuf::FieldDescriptor::TYPE_STRING || fd->is_repeated()) return {};
        return payload.GetReflection()->GetString(payload, fd);
    };
    f.book = string_field("book_id");
    if (f.book.empty())
        if (auto id = string_field("invoice_id"); !id.empty())
            if (auto inv = billing::find_invoice(state, id)) f.book = inv->draft().book_id();
    if (f.book.empty())
        if (auto id = string_field("payment_id"); !id.empty())
            if (auto pay = billing::find_payment(state, id)) f.book = pay->payment().book_id();
    auto hold_currency = [&](const std::string& book, const std::string& hold) {
        auto h = ledger::find_hold(state, events::book_id{book}, events::hold_id{hold});
        return h ? h->currency() : std::string("?");
    };
    switch (cmd.payload_case()) {
        case C::kPostEntry:
            for (const auto& l : cmd.post_entry().legs())
                if (l.side() == v1::SIDE_DEBIT) f.amounts[l.currency()] += l.amount_minor();
            break;
        case C::kPlaceHold: f.amounts[cmd.place_hold().currency()] += cmd.place_hold().amount_minor(); break;
        case C::kIncreaseHold:
            f.amounts[hold_currency(f.book, cmd.increase_hold().hold_id())] += cmd.increase_hold().amount_minor();
            break;
        case C::kCaptureHold: f.amounts[hold_currency(f.book, cmd.capture_hold().hold_id())] += cmd.capture_hold().amount_minor(); break;
        case C::kCreateInvoice: {
            int128 total = 0;
            for (const auto& l : cmd.create_invoice().lines()) total += int128(l.quantity_milli()) * l.unit_price_minor() / 1000;
            f.amounts[cmd.create_invoice().currency()] += total;
            break;
        }
        case C::kReceivePayment: f.amounts[cmd.receive_payment().currency()] += cmd.receive_payment().amount_minor(); break;
        case C::kRunPayroll:  // the stated total (the run pays exactly that or is refused); unknown: above every limit
            f.amounts[cmd.run_payroll().currency()] += cmd.run_payroll().expected_total_minor() > 0
                                                           ? cmd.run_payroll().expected_total_minor()
                                                           : std::numeric_limits<std::int64_t>::max();
            break;
        case C::kRefundPayment:
            if (auto pay = billing::find_payment(state, cmd.refund_payment().payment_id()))
                f.amounts[pay->payment().currency()] += cmd.refund_payment().amount_minor();
            break;
        case C::kCreditInvoice:
            if (auto inv = billing::find_invoice(state, cmd.credit_invoice().invoice_id()))
                f.amounts[inv->draft().currency()] += cmd.credit_invoice().gross_minor();
            break;
        default: break;
    }
    return f;
}

std::uint64_t version(const keyed_state& state) { return version_of(state, copy_view); }
bool enforced(const keyed_state& state) { return state.get(std::string(copy_view) + "enforced").has_value(); }

std::optional<rejection> authorize(const keyed_state& state, const v1::CommandEnvelope& cmd, const command_facts& facts) {
    const bool realm_command = is_command(cmd) && !cmd.has_record_erasure() && !cmd.has_record_access();  // the realm checks its own admins
    // Pay data is confidential whether or not permissions are enforced.
    const bool pay_read = facts.name == read_pay_data;
    if (realm_command || cmd.has_approve_command() || (!enforced(state) && !pay_read)) return std::nullopt;
    auto roles = roles_of(state, cmd.actor(), facts.book);
    bool named = false;  // some role names the command, but not for this amount
    for (const auto& role : roles)
        for (const auto& p : role.permissions())
            if ((p.command() == "*" && !pay_read) || p.command() == facts.name) {  // pay data: named, never by "*"
                if (within(p, facts)) return std::nullopt;
                named = true;
            }
    const std::string who = "'" + cmd.actor() + "'";
    if (named)
        return reject(rejection_code::not_permitted, "actor",
                      who + " may " + facts.name + " in book " + facts.book + ", but not for " + amounts_text(facts));
    return reject(rejection_code::not_permitted, "actor",
                  who + " holds no role that allows " + facts.name + (facts.book.empty() ? "" : " in book " + facts.book));
}

std::optional<hold> approval_needed(const keyed_state& state, const command_facts& facts) {
    std::int64_t payroll_window_ms = payroll::approval_window_ms;  // a policy for run_payroll sets it
    for (const auto& book : {facts.book, std::string("*")}) {
        auto p = events::parse_row<v1::SetApprovalPolicy>(state.get(policy_key(copy_view, facts.name, book)));
        if (!p) continue;
        if (facts.name == "run_payroll" && payroll_window_ms == payroll::approval_window_ms)
            payroll_window_ms = static_cast<std::int64_t>(p->expires_after_s()) * 1000;
        bool applies = p->currency().empty();
        if (!applies)
            if (auto it = facts.amounts.find(p->currency()); it != facts.amounts.end()) applies = it->second > p->above_minor();
        if (!applies) continue;
        std::string why = facts.name + " in " + (book == "*" ? "any book" : "book " + book) +
                          (p->currency().empty() ? "" : " above " + std::to_string(p->above_minor()) + " " + p->currency() + " (minor units)");
        return hold{why, static_cast<std::int64_t>(p->expires_after_s()) * 1000};
    }
    if (facts.name == "run_payroll")  // built in: every payroll run needs a second person
        return hold{"run_payroll (every payroll run needs a second person)", payroll_window_ms};
    return std::nullopt;
}

std::optional<rejection> check_approval(const keyed_state& state, const v1::ApproveCommand& a, const std::string& approver,
                                        const v1::ApprovalRequested& held, std::int64_t now_ms) {
    const std::string f = "approve_command.";
    if (a.fingerprint() != held.fingerprint())
        return reject(rejection_code::approval_fingerprint_mismatch, f + "fingerprint",
                      "the command held as " + held.command_id() + " is not the one approved (its payload differs)");
    if (approver == held.requested_by())
        return reject(rejection_code::self_approval, "actor", "'" + approver + "' submitted " + held.command_id() + " and cannot approve it");
    if (now_ms > held.expires_at_ms())
        return reject(rejection_code::approval_expired, f + "command_id",
                      held.command_id() + " could be approved until " + std::to_string(held.expires_at_ms()) + " ms");
    for (const auto& role : roles_of(state, approver, held.book_id()))
        for (const auto& c : role.may_approve())
            if (c == "*" || c == held.command_name()) return std::nullopt;
    return reject(rejection_code::not_permitted, "actor",
                  "'" + approver + "' holds no role that may approve " + held.command_name() +
                      (held.book_id().empty() ? "" : " in book " + held.book_id()));
}

std::optional<v1::ApprovalRequested> find_held(const keyed_state& state, const std::string& routing_key, const std::string& command_id) {
    return events::parse_row<v1::ApprovalRequested>(state.get(held_key(routing_key, command_id)));
}

std::vector<std::pair<std::string, v1::ApprovalRequested>> held_commands(const keyed_state& state, std::size_t limit) {
    std::vector<std::pair<std::string, v1::ApprovalRequested>> out;
    for (const auto& [k, v] : state.scan("approval/", "", limit)) {
        auto rest = std::string_view(k).substr(9);
        auto& [key, held] = out.emplace_back(std::string(rest.substr(0, rest.find('\0'))), v1::ApprovalRequested{});
        if (!held.ParseFromString(v)) std::abort();
    }
    return out;
}

std::string approval_stream(const std::string& routing_key, const std::string& command_id) {
    return "approval/" + routing_key + "/" + command_id;
}

std::string partition_key(int partition, int partitions) {
    // The first "security/<n>" that murmur2 puts in the partition: the same key every time.
    for (int n = 0;; ++n) {
        auto key = "security/" + std::to_string(n);
        if (events::partition_for(key, partitions) == partition) return key;
    }
}

std::vector<v1::CommandEnvelope> replication_commands(const v1::EventEnvelope& e, int partitions) {
    std::vector<v1::CommandEnvelope> out;
    if (!e.has_security_changed()) return out;
    for (int p = 0; p < partitions; ++p) {
        auto& c = out.emplace_back();
        auto* r = c.mutable_replicate_security();
        r->set_partition_key(partition_key(p, partitions));
        *r->mutable_change() = e.security_changed().change();
    }
    return out;
}

std::vector<v1::GrantRole> grants(const keyed_state& state) {
    std::vector<v1::GrantRole> out;
    for (const auto& [k, v] : state.scan(std::string(realm_view) + "grant/", "", 1'000'000)) {
        v1::GrantRole g;
        if (g.ParseFromString(v)) out.push_back(g);
    }
    return out;
}

std::vector<duty_conflict> duty_conflicts(const keyed_state& state) {
    std::vector<duty_conflict> out;
    auto role = [&](const std::string& name) {
        return events::parse_row<v1::DefineRole>(state.get(std::string(realm_view) + "role/" + name));
    };
    auto held = grants(state);
    for (const auto& submit : held) {
        auto s = role(submit.role());
        if (!s) continue;
        for (const auto& approve : held) {
            if (approve.actor() != submit.actor()) continue;
            if (submit.book_id() != approve.book_id() && submit.book_id() != "*" && approve.book_id() != "*") continue;
            auto a = role(approve.role());
            if (!a) continue;
            for (const auto& p : s->permissions())
                for (const auto& m : a->may_approve())
                    if (p.command() == m || m == "*" || p.command() == "*")
                        out.push_back({submit.actor(), submit.book_id() == "*" ? approve.book_id() : submit.book_id(),
                                       m == "*" ? p.command() : m, submit.role(), approve.role()});
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
        return std::tie(x.actor, x.book, x.command, x.submit_role, x.approve_role) < std::tie(y.actor, y.book, y.command, y.submit_role, y.approve_role);
    });
    out.erase(std::unique(out.begin(), out.end(), [](const auto& x, const auto& y) {
                  return std::tie(x.actor, x.book, x.command, x.submit_role, x.approve_role) ==
                         std::tie(y.actor, y.book, y.command, y.submit_role, y.approve_role);
              }),
              out.end());
    return out;
}

}  // namespace daybook::aggregates::security
