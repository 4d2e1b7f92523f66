#pragma once
// The process managers (a `daybook serve` role, "billing"): they read daybook.events
// read_committed and answer events of invoices, series and payments with commands, written to
// daybook.commands in ONE Kafka transaction together with the consumed offsets. Command ids are
// derived from the source event ("pm/<stream>@<version>/<what>"), so a redelivered event gives
// the same commands and the processor appends nothing twice. They keep no state: every event
// carries what its follow-ups need, and refusals come back as events (allocation_declined) or as
// command_rejected records of the target book (a refused posting, listed in the exceptions).
//
//   invoice_issue_requested -> number_invoice (the book's register: checks the counterparty,
//                               resolves the tax codes, numbers)
//   number_assigned          -> record_invoice_number (invoice), with the resolved rates
//   number_refused           -> refuse_invoice_issue (invoice): back to draft, with the reason
//   invoice_issued           -> post_entry by role: customer: debit receivable (gross), credit
//                               revenue per line (or the line's account), credit tax payable;
//                               supplier: debit expense per line, debit tax receivable, credit
//                               payable
//   invoice_voided (issued)  -> reverse_entry of the invoice's entry
//   invoice_credited         -> post_entry: the invoice's entry mirrored for the credit's net
//                               and tax (revenue / expense role, not line accounts)
//   payment_recorded         -> post_entry: received: debit bank, credit customer advances;
//                               sent: debit supplier advances, credit bank
//   allocation_requested     -> apply_allocation (invoice)
//   allocation_applied       -> confirm_allocation (payment)
//   allocation_declined      -> release_allocation (payment): the saga's compensation
//   allocation_confirmed     -> post_entry: received: debit customer advances, credit
//                               receivable; sent: debit payable, credit supplier advances
//   payment_refunded         -> post_entry: the payment's entry mirrored for the refund
//   payment_returned         -> reverse_allocation (each confirmed allocation's invoice) and
//                               post_entry: received: debit receivable (allocated) and customer
//                               advances (unallocated), credit bank; sent mirrored
// Ledger entry ids: inv:<invoice>, inv:<invoice>:void, cn:<invoice>:<credit note>,
// pay:<payment>, alloc:<payment>:<allocation>, ref:<payment>:<refund>, ret:<payment>.

#include <spdlog/logger.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "daybook.pb.h"

namespace daybook::consumers {

// The commands an event asks for (empty for events no process manager follows). Pure.
std::vector<v1::CommandEnvelope> billing_follow_ups(const v1::EventEnvelope& event);
// All follow-ups: the billing ones, and a security_changed copied into each of `partitions`
// partitions (aggregates/security.h), in partition order. Pure.
std::vector<v1::CommandEnvelope> follow_ups(const v1::EventEnvelope& event, int partitions);

// The process managers' consumer group beside a processor group (serve, security apply, the closer).
inline std::string billing_group_of(const std::string& processor_group) { return processor_group + ".billing"; }

struct billing_manager_options {
    // Consumer group of the process managers. Default: "daybook-billing"; serve uses
    // billing_group_of(the processor's group).
    std::string group_id = "daybook-billing";
    // Stable id of this process (part of the transactional id). Default: "billing-1".
    std::string instance = "billing-1";
    // Longest time one transaction stays open. Default: 100.
    int commit_interval_ms = 100;
    // Most events read into one transaction. Default: 1000.
    int batch_events_max = 1000;
};

struct billing_manager_stats {
    std::atomic<std::uint64_t> events{0};
    std::atomic<std::uint64_t> commands{0};
    std::atomic<std::uint64_t> transactions{0};
    std::atomic<std::uint64_t> restarts{0};
};

class billing_manager {
public:
    billing_manager(kafka_settings kafka, topic_names topics, billing_manager_options options,
                    std::shared_ptr<spdlog::logger> log);
    // Runs until `stop`; recreates its clients and resumes from the committed offsets after any
    // failed transaction. Returns an error only when it cannot start.
    result<ok_t, std::string> run(const std::atomic<bool>& stop);
    const billing_manager_stats& stats() const { return stats_; }

private:
    result<ok_t, std::string> session(const std::atomic<bool>& stop);
    kafka_settings kafka_;
    topic_names topics_;
    billing_manager_options options_;
    std::shared_ptr<spdlog::logger> log_;
    billing_manager_stats stats_;
};

}  // namespace daybook::consumers
