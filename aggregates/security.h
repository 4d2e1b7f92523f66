#pragma once
// Who may do what: roles, grants, approval policies (four eyes), and the check every command
// passes before its aggregate decides it.
//
// One authoritative aggregate, the security realm (stream "security", routing key "security"),
// decides define_role, grant_role, revoke_role, set_approval_policy and set_permissions_enforced
// and records each as a numbered security_changed. The process managers copy every change into
// every partition (replicate_security -> security_replicated, in version order), so the
// processor authorises a command from its own partition's state: deterministic, recorded, and
// every event names the permissions_version it was decided under. A change reaches a partition
// when its copy has been appended there (normally within a transaction interval).
//
// Rules, checked by consumers/command_state.cc in this order for every command:
//  1. Enforcement (set_permissions_enforced) on -- and always for a read of pay data
//     (record_access with pay_data, named read_pay_data) --: the actor needs a grant (book = the command's,
//     or "*") of a role with a permission for the command (or "*"); a permission with limits
//     covers a command only when each currency the command moves has a limit there and the
//     amount is within it. Else not_permitted. Exempt: security commands (the realm checks its
//     own admin rule), replicate_security (a process manager's copy), approve_command (checked
//     as an approval).
//  2. An approval policy for the command (in its book or "*") that applies -- always when the
//     policy has no currency, else when the command's amount in that currency is above the
//     threshold -- holds the command: approval_requested, outcome PENDING_APPROVAL, nothing
//     decided. Inside a linked run: approval_required_in_run. Built in: run_payroll is always
//     held (a policy for it sets its window; else payroll::approval_window_ms).
//  3. approve_command (routed like the held command): approval_not_found,
//     approval_fingerprint_mismatch (the approver names the payload they saw), self_approval
//     (also for admins), approval_expired, not_permitted (the approver needs a role that
//     may_approve the command, in its book). Approved: the held command is decided now, as its
//     submitter (authorised again), with the approver in its events' approvers. Rejected: its
//     outcome becomes approval_rejected.
//
// The realm's own rules (decide), in order:
//   every command:  security_realm_invalid; security_admin_required (the actor does not hold
//                   security_admin -- except while nobody does, when anyone may grant it: the
//                   bootstrap, itself recorded).
//   define_role:    role_invalid (name; security_admin is built in; permission and may_approve
//                   names must be commands or "*"; limits need a currency and an amount >= 0).
//   grant_role:     actor_invalid, role_invalid (book not an id or "*"; security_admin only
//                   for "*"), role_not_found.
//   revoke_role:    actor_invalid, grant_not_found, security_admin_required (the last
//                   security admin cannot be revoked).
//   set_approval_policy: approval_policy_invalid (command, book, currency, threshold, window).
// replicate_security: security_realm_invalid (key), security_version_invalid (not the next).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aggregates/ledger.h"
#include "daybook.pb.h"
#include "events/int128.h"
#include "events/keyed_state.h"
#include "events/result.h"

namespace daybook::aggregates::security {

inline constexpr const char* realm = "security";
inline constexpr const char* admin_role = "security_admin";
// The permission a reader of pay data needs (record_access with pay_data), enforced or not: it
// names no command, and a role's permissions may list it like one.
inline constexpr std::string_view read_pay_data = "read_pay_data";

// Security commands (define_role ... set_permissions_enforced, replicate_security,
// record_erasure, record_access) and events. record_erasure only records that a data subject's
// key was deleted (consumers/keystore.h): subject_erased, stream "privacy/<subject>".
// record_access records a read of personal data (access_recorded, stream "access/<reader>"); the
// HTTP gateway submits it before it answers such a read and refuses the read when it is refused.
// Both need a role like any command (when permissions are enforced).
bool is_command(const v1::CommandEnvelope& command);
bool is_event(const v1::EventEnvelope& event);
result<std::vector<v1::EventEnvelope>> decide(const v1::CommandEnvelope& command, const events::keyed_state& state,
                                              const decide_context& ctx);
void evolve(events::keyed_state& state, const v1::EventEnvelope& event);

// What authorisation looks at: the command's payload name, its book (from the payload, or from
// the invoice or payment it names), and the amounts it moves per currency (run_payroll: its
// expected_total_minor, or above every limit when it states none).
struct command_facts {
    std::string name;
    std::string book;
    std::map<std::string, int128> amounts;
};
command_facts facts_of(const v1::CommandEnvelope& command, const events::keyed_state& state);

// The partition's copy of the realm.
std::uint64_t version(const events::keyed_state& state);
bool enforced(const events::keyed_state& state);

// Rule 1: nullopt when the actor may submit the command.
std::optional<rejection> authorize(const events::keyed_state& state, const v1::CommandEnvelope& command,
                                   const command_facts& facts);
// Rule 2: the policy that holds the command, if any.
struct hold {
    std::string policy;  // for people: "post_entry in acme above 10000 EUR"
    std::int64_t expires_after_ms = 0;
};
std::optional<hold> approval_needed(const events::keyed_state& state, const command_facts& facts);
// Rule 3 (after the held command was found): nullopt when `approver` may approve it at `now`.
std::optional<rejection> check_approval(const events::keyed_state& state, const v1::ApproveCommand& approval,
                                        const std::string& approver, const v1::ApprovalRequested& held,
                                        std::int64_t now_ms);

// The command held under (routing key, command id), while it waits.
std::optional<v1::ApprovalRequested> find_held(const events::keyed_state& state, const std::string& routing_key,
                                               const std::string& command_id);
std::string approval_stream(const std::string& routing_key, const std::string& command_id);
// Every command waiting for approval, (routing key, what is held), in key order, at most `limit`.
std::vector<std::pair<std::string, v1::ApprovalRequested>> held_commands(const events::keyed_state& state, std::size_t limit);

// For the process managers: a security_changed copied to every partition, one command each,
// keyed by partition_key(p, partitions).
std::vector<v1::CommandEnvelope> replication_commands(const v1::EventEnvelope& event, int partitions);
std::string partition_key(int partition, int partitions);

// Segregation of duties: an actor who may both submit and approve a command (in a book).
struct duty_conflict {
    std::string actor, book, command, submit_role, approve_role;
};
std::vector<duty_conflict> duty_conflicts(const events::keyed_state& state);
// Roles held, from the realm's own rows (the projection's view): (actor, role, book).
std::vector<v1::GrantRole> grants(const events::keyed_state& state);

}  // namespace daybook::aggregates::security
