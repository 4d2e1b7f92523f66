#pragma once
// The command processor's per-partition state and the two functions that change it:
//   decide_command: a command against the state -> event envelopes or a rejection (pure);
//   apply_record:   one sealed record -> state (domain evolve, stream version, idempotency).
// apply_record serves both the live path and the restore from daybook.events, so a restored
// partition holds exactly the state the live processor had.
//
// Keys of a partition's state (under the processor store's prefix p/<partition u32 BE>/):
//   pos                          PartitionPosition: seq, chain head, next events offset, now
//   idem/<routing key>\0<id>     IdempotencyRecord: fingerprint and first outcome
//   ver/<stream id>              aggregate version (u64 BE)
//   ledger/...                   the ledger aggregate's rows (aggregates/ledger.cc)
//   billing/...                  invoices, payments, the billing register (aggregates/billing.cc)
//   sec/..., secauth/...         permissions: the partition's copy, the realm (aggregates/security.cc)
//   approval/<routing key>\0<id> a command held for approval

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "daybook.pb.h"
#include "events/keyed_state.h"
#include "aggregates/validation.h"
#include "events/result.h"

namespace daybook::consumers {

v1::PartitionPosition read_position(const events::keyed_state& state);
void write_position(events::keyed_state& state, const v1::PartitionPosition& pos);

std::optional<v1::IdempotencyRecord> find_command(const events::keyed_state& state,
                                                  const std::string& routing_key,
                                                  const std::string& command_id);
std::uint64_t stream_version(const events::keyed_state& state, const std::string& stream_id);

// Decides one command. Accepted: envelopes with stream_id, effective_date and payload set; the
// caller adds versions, causation and sealing. The state is only read. `approver`: who approved
// the command when it was held (aggregates/security.h rule 3), else empty.
result<std::vector<v1::EventEnvelope>> decide_command(const v1::CommandEnvelope& command,
                                                      const events::keyed_state& state,
                                                      std::int64_t now_ms, const std::string& approver = {});
using aggregates::utc_date;

// What the processor stamps on every record it appends for a command.
struct record_context {
    std::string routing_key;      // the command record's key
    std::string fingerprint;      // events::fingerprint_of(command)
    std::int64_t now_ms = 0;      // processing clock
    std::string software_version;
};

// The records a command leaves in its events partition: its domain events with their aggregate
// versions, or one command_rejected record. `refused` is a rejection found before deciding
// (envelope, routing); then the command is not decided at all. Before deciding, the permission
// and approval rules of aggregates/security.h apply: a command may be refused (not_permitted) or
// held (one approval_requested record); approve_command leaves approval_resolved followed by
// the held command's own records. Every record carries the partition's permissions_version.
std::vector<v1::EventEnvelope> records_for(const v1::CommandEnvelope& command, const record_context& ctx,
                                           const std::optional<rejection>& refused,
                                           const events::keyed_state& state, bool in_run = false);
v1::EventEnvelope rejection_record(const v1::CommandEnvelope& command, const record_context& ctx,
                                   const rejection& r);

// A linked run refused as a whole (shape, size, mixed routing keys), before any inner command is
// decided; it then leaves one command_rejected record under the run's id.
std::optional<rejection> check_linked_run(const v1::CommandEnvelope& run, const std::string& routing_key);

// The records a linked run leaves: all inner commands' events when every one is accepted (each
// decided against the state the previous ones leave), else one command_rejected record per inner
// command: the culprit's own reason, linked_command_failed for the others. Every record carries the
// run's id and fingerprint, so apply_record rebuilds the run's idempotency record on restore.
// `first_seq` is the seq the first record will get (inner commands see each other's records).
std::vector<v1::EventEnvelope> records_for_run(const v1::CommandEnvelope& run, const record_context& ctx,
                                               const events::keyed_state& state, std::uint32_t partition,
                                               std::uint64_t first_seq);

// Applies one record of the events partition to the state.
void apply_record(events::keyed_state& state, std::uint32_t partition, std::uint64_t seq,
                  const v1::EventEnvelope& envelope);

// The outcome a command_rejected record stands for.
v1::Outcome rejected_outcome(const v1::CommandRejected& rejected, std::int64_t recorded_at_ms);

}  // namespace daybook::consumers
