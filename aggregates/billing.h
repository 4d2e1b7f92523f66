#pragma once
// Invoices and bills, payments, and each book's billing register: three aggregates (routing keys
// invoice_id, payment_id and book_id), joined by process managers
// (consumers/billing_manager.h) that turn events into commands. Saga state lives here: a payment
// knows its pending allocations, an invoice answers every allocation with an event (applied or
// declined), so a failure is something the saga sees, never something it has to remember.
//
// Totals (one rounding rule, recorded in the events so no report recomputes them): per line,
//   amount = quantity_milli * unit_price_minor / 1000, rounded half away from zero;
//   prices without tax: net = amount, tax = net * rate_bp / 10000 (rounded), gross = net + tax;
//   prices with tax:    gross = amount, net = gross * 10000 / (10000 + rate_bp) (rounded),
//                       tax = gross - net.
// Invoice totals are the sums of the lines. Credit notes split their gross in the invoice's
// proportion, cumulatively: a note's tax = round(all credited gross * invoice tax / invoice
// gross) - the tax of earlier notes, net = gross - tax; fully credited, the notes carry exactly
// the invoice's tax.
// Outstanding = gross - credit notes - applied allocations (+ reversed allocations).
//
// A line's tax is its own rate (tax_rate_bp) or a tax code of the book; a coded line's rate is the
// code's rate effective on the issue date, resolved by the register at issue, so a draft with a
// coded line has no totals yet (totals_at_issue) and the issued invoice records them.
//
// Lifecycle: draft -> issuing (number asked for) -> issued -> partially paid -> paid; issuing ->
// draft again when the register refuses (invoice_issue_refused, with the reason); void from
// draft, or from issued while nothing is allocated or credited.
//
// The register (stream "register/<book>", routing key book_id, so it shares the book's partition
// with the ledger and sees its period lock) holds the book's counterparties and tax codes, both
// effective-dated (the version of a date is the latest dated on or before it; the same date
// replaces), and its numbering series. It numbers an invoice only when, on the issue date, the
// counterparty is registered, has the role (customer for invoices, supplier for bills) and is not
// blocked, and every tax code of the lines has a rate; otherwise number_refused (the code it
// would have had) and no number is used. Numbers are gapless and strictly increasing per series;
// the invoice id stays the idempotency key. Series default to "default" for customer invoices and
// "bills" for supplier bills. Payments are not checked against the register: money from a party
// not (yet) registered is still money received, and stays unallocated until matched.
// Allocation ids are unique per payment; an invoice knows an allocation by (payment, id).
//
// decide checks rules in this fixed order and returns the first that is broken:
//   create_invoice:  invoice_id_invalid, billing_book_id_invalid, invoice_direction_invalid,
//                    counterparty_invalid, billing_currency_invalid, document_date_invalid
//                    (issue_date), due_date_invalid (given with terms, then malformed or before
//                    the issue date, then terms above the limit), series_id_invalid,
//                    billing_memo_too_long, invoice_lines_invalid, per line:
//                    line_description_invalid, line_quantity_invalid, line_price_invalid,
//                    line_tax_rate_invalid, tax_code_invalid (malformed, or given with a
//                    rate), line_account_invalid; billing_amount_overflow (coded lines counted
//                    at 100 %); invoice_already_exists.
//   issue_invoice:   invoice_id_invalid, invoice_not_found, invoice_void, invoice_not_draft.
//   record_invoice_number: invoice_id_invalid, invoice_not_found, invoice_not_issuing,
//                    series_mismatch, tax_code_unknown (no rate given for a coded line).
//   refuse_invoice_issue: invoice_id_invalid, invoice_not_found, invoice_not_issuing.
//   void_invoice:    invoice_id_invalid, billing_memo_too_long, document_date_invalid (malformed),
//                    invoice_not_found, document_date_invalid (before the issue date),
//                    invoice_void, invoice_number_pending, invoice_has_allocations.
//   credit_invoice:  invoice_id_invalid, credit note id: invoice_id_invalid (at
//                    credit_note_id), billing_amount_invalid, document_date_invalid,
//                    billing_memo_too_long, invoice_not_found, invoice_void, invoice_not_issued,
//                    document_date_invalid (before the issue date), credit_note_exists,
//                    too_many_allocations (credit notes), credit_exceeds_outstanding.
//   apply_allocation (from the payment's saga): invoice_id_invalid; every other failure is an
//                    allocation_declined event carrying the code it would have had:
//                    invoice_not_found, invoice_void, invoice_not_issued,
//                    allocation_document_mismatch (the payment's book, direction -- received
//                    pays customer invoices, sent pays bills -- or counterparty differs),
//                    billing_currency_mismatch, billing_amount_invalid, allocation_id_exists
//                    (the same payment's allocation id again), too_many_allocations,
//                    allocation_exceeds_outstanding. An applied allocation is dated the later of
//                    the allocation's date and the invoice's issue date.
//   reverse_allocation: invoice_id_invalid, invoice_not_found, allocation_not_found.
//   register_counterparty: billing_book_id_invalid, counterparty_invalid,
//                    counterparty_name_invalid, counterparty_roles_invalid, document_date_invalid
//                    (effective_from), register_versions_exhausted.
//   set_tax_code:    billing_book_id_invalid, tax_code_invalid, tax_rate_invalid,
//                    document_date_invalid (effective_from), billing_memo_too_long
//                    (description), period_closed (effective_from in the book's closed
//                    period), register_versions_exhausted.
//   number_invoice:   billing_book_id_invalid, series_key_invalid (not "<book>/<series>" of this
//                    book), invoice_id_invalid; an invoice that already has a number of this
//                    series gets the same number again (no new number, no new check); else
//                    number_refused carrying counterparty_unknown, counterparty_role_mismatch,
//                    counterparty_blocked or tax_code_unknown, in that order; else the next
//                    number with the resolved rates.
//   receive_payment: payment_id_invalid, billing_book_id_invalid, payment_direction_invalid,
//                    counterparty_invalid, billing_amount_invalid, billing_currency_invalid,
//                    document_date_invalid, bank_account_invalid, billing_memo_too_long
//                    (method), payment_already_exists.
//   allocate_payment: payment_id_invalid, allocations_invalid, per allocation:
//                    invoice_id_invalid (allocation_id, invoice_id), billing_amount_invalid;
//                    document_date_invalid (date malformed); payment_not_found,
//                    payment_returned, document_date_invalid (before the payment's date), per
//                    allocation: allocation_id_exists
//                    (also twice in one command); too_many_allocations,
//                    allocation_exceeds_unallocated (the sum).
//   confirm_allocation / release_allocation: payment_id_invalid, payment_not_found,
//                    allocation_not_found, allocation_not_pending.
//   refund_payment:  payment_id_invalid, invoice_id_invalid (refund_id), billing_amount_invalid,
//                    document_date_invalid, payment_not_found, payment_returned,
//                    document_date_invalid (before the payment's date), refund_id_exists,
//                    refund_exceeds_unallocated.
//   return_payment:  payment_id_invalid, billing_memo_too_long, document_date_invalid,
//                    payment_not_found, payment_returned, document_date_invalid (before the
//                    payment's date), payment_has_pending_allocations.
// decide is pure; evolve never fails and never decides.

#include <optional>
#include <string>
#include <vector>

#include "aggregates/ledger.h"
#include "daybook.pb.h"
#include "events/keyed_state.h"
#include "events/result.h"

namespace daybook::aggregates::billing {

// Commands only the process managers send (saga steps): number_assigned answers, allocation
// answers and reversals. Gateways (HTTP, `daybook submit`) refuse them from clients, so a client
// cannot confirm an allocation the invoice has not applied or burn a number of a series.
bool is_process_manager_command(const v1::CommandEnvelope& command);

// True when the envelope carries an invoice, register or payment command (event).
bool is_command(const v1::CommandEnvelope& command);
bool is_event(const v1::EventEnvelope& event);

// The events a command decides: payload, stream_id and effective_date set (the effective date is
// the document's date; empty -- only number_assigned -- means the UTC date of `now`).
result<std::vector<v1::EventEnvelope>> decide(const v1::CommandEnvelope& command, const events::keyed_state& state,
                                              const decide_context& ctx);
void evolve(events::keyed_state& state, const v1::EventEnvelope& event);

// Line totals under the rule above; nullopt when a figure would not fit in int64.
struct line_amounts {
    std::int64_t net = 0, tax = 0, gross = 0;
};
std::optional<line_amounts> line_totals(const v1::InvoiceLine& line, bool prices_include_tax);

std::optional<v1::InvoiceState> find_invoice(const events::keyed_state& state, const std::string& invoice_id);
std::optional<v1::PaymentState> find_payment(const events::keyed_state& state, const std::string& payment_id);

// The ledger entry id of a document's posting: "<kind>:<id>[:<sub id>]" (kinds: inv, cn, pay,
// alloc, ref, ret; a void is "inv:<id>:void"). When that would be longer than an entry id may be,
// "<kind>:h" and 40 hex characters of its SHA-256. The process managers post under it and the
// reconciliation looks for it, so both always agree.
std::string posting_id(std::string_view kind, const std::string& id, const std::string& sub = "");

// Stream ids: "invoice/<id>", "series/<key>" (numbers), "register/<book>" (counterparties and
// tax codes), "payment/<id>".
std::string invoice_stream(const std::string& invoice_id);
std::string series_stream(const std::string& series_key);
std::string payment_stream(const std::string& payment_id);

// An issued invoice's status: paid when nothing is outstanding (by payments or credit notes),
// partially paid when a payment is allocated to it, else issued (a credit note alone does not
// make an invoice partially paid).
v1::InvoiceStatus status_of(const v1::InvoiceState& invoice);

}  // namespace daybook::aggregates::billing
