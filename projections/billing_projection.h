#pragma once
// Invoice, bill and payment read models in the projector's store, and AR/AP queries.
//
// Rows: billing/inv/<invoice>, billing/pay/<payment>, billing/ser/..., billing/cp/...,
// billing/tax/... (the aggregates' own state messages, evolved by aggregates/billing.h), and the
// indexes
//   binv/<book>\0<invoice>   bpay/<book>\0<payment>   map/<book>\0<role u8>\0<effective_from>
// Each invoice and payment is one stream in one partition, so nothing depends on the order in
// which partitions arrive.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daybook.pb.h"
#include "events/int128.h"
#include "events/keyed_state.h"
#include "projections/store.h"

namespace daybook::projections {

// Applies one billing event (aggregates::billing::is_event) to the rows.
void apply_billing_event(events::keyed_state& rows, const v1::EventEnvelope& envelope);
// Records a book's account mapping (account_mapping_set) for the reconciliation.
void apply_account_mapping(events::keyed_state& rows, const v1::AccountMappingSet& mapping);

// Invoices (direction UNSPECIFIED: both) and payments of a book, in id order.
std::vector<v1::InvoiceState> list_invoices(const store& s, const std::string& book, v1::InvoiceDirection direction);
std::optional<v1::InvoiceState> find_invoice(const store& s, const std::string& invoice_id);
std::vector<v1::PaymentState> list_payments(const store& s, const std::string& book);
std::optional<v1::PaymentState> find_payment(const store& s, const std::string& payment_id);

// The book's register, in id order: with `as_of` empty every version (then in date order), else
// the version of each counterparty (tax code) effective on that date, leaving out those not yet
// registered then.
std::vector<v1::CounterpartyRegistered> counterparties(const store& s, const std::string& book, const std::string& as_of);
std::vector<v1::TaxCodeSet> tax_codes(const store& s, const std::string& book, const std::string& as_of);

// What an issued invoice still owed at the end of `date` (credit notes and allocations dated on
// or before it, reversals too); 0 for drafts, invoices issued later and invoices void by then.
std::int64_t outstanding_as_of(const v1::InvoiceState& invoice, const std::string& date);

// AR (customer) or AP (supplier) aging as of a date, per counterparty: outstanding amounts by
// days past due (current: not yet due; then 1-30, 31-60, 61-90, over 90), and the
// counterparty's unallocated payments (credits not yet offered to an invoice).
struct aging_row {
    std::string counterparty;
    std::string currency;
    int128 current = 0, days_1_30 = 0, days_31_60 = 0, days_61_90 = 0, over_90 = 0;
    int128 total = 0;
    int128 unallocated = 0;
};
std::vector<aging_row> aging(const store& s, const std::string& book, v1::InvoiceDirection direction,
                             const std::string& as_of);

// Control-account reconciliation: the ledger balances of the accounts mapped to receivable
// (payable) and to customer (supplier) advances, against the open items and unallocated
// payments in these projections. In a consistent cut (the process managers and the projector
// caught up) each difference is 0; `in_flight` lists the documents whose follow-ups have not all
// arrived yet (issuing invoices, pending allocations).
struct reconciliation_line {
    std::string what;      // receivable, payable, customer_advances, supplier_advances
    std::string currency;
    int128 ledger = 0;     // in the account's normal direction
    int128 documents = 0;  // open items or unallocated payments
    int128 difference() const { return ledger - documents; }
};
struct reconciliation {
    std::vector<reconciliation_line> lines;
    std::vector<std::string> in_flight;
    bool balanced() const;
};
reconciliation reconcile(const store& s, const std::string& book);

// A customer's (supplier's) account with us over effective dates [from, to]: the balance owed
// before `from`, then every document in date order with the running balance. Owed rises with an
// invoice (bill) and a refund or returned payment, and falls with a credit note, a void and a
// payment. Allocations move nothing here: they say which invoice a payment settled.
struct statement_line {
    std::string date, kind, document;  // kind: invoice, bill, credit_note, void, payment, refund, returned
    std::string currency;
    int128 amount = 0;   // signed: + owed more, - owed less
    int128 balance = 0;  // after this line, per currency
};
struct counterparty_statement {
    std::map<std::string, int128> opening;  // per currency
    std::vector<statement_line> lines;
    std::map<std::string, int128> closing;
};
counterparty_statement statement_of(const store& s, const std::string& book, v1::InvoiceDirection direction,
                                    const std::string& counterparty, const std::string& from, const std::string& to);

// Commands of process managers that their target refused (command_rejected events), oldest key
// first, at most `limit`.
std::vector<v1::EventEnvelope> refused_postings(const store& s, std::size_t limit);

}  // namespace daybook::projections
