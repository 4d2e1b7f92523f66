#include "aggregates/billing.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include "aggregates/validation.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/int128.h"
#include "events/limits.h"

namespace daybook::aggregates::billing {
namespace {

using events::keyed_state;
using decided = result<std::vector<v1::EventEnvelope>>;
using C = v1::CommandEnvelope;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();
const std::string id_rule = " must be 1-128 printable ASCII characters without spaces";

std::string invoice_key(const std::string& id) { return "billing/inv/" + id; }
std::string payment_key(const std::string& id) { return "billing/pay/" + id; }
std::string series_key_row(const std::string& key) { return "billing/ser/" + key; }
std::string series_number_key(const std::string& key, const std::string& invoice) {
    std::string k = "billing/sernum/" + key;
    k += '\0';
    return k + invoice;
}

template <typename M>
void write(keyed_state& state, const std::string& key, const M& m) {
    state.put(key, events::serialize(m));
}

rejection reject(rejection_code code, std::string field, std::string detail) {
    return rejection{code, std::move(field), std::move(detail)};
}

// Series and tax codes are ids without '/' (a series key is "<book>/<series>").
bool valid_code(const std::string& code) { return valid_id(code) && code.find('/') == std::string::npos; }


bool fits(int128 v) { return v >= 0 && v <= int64_max; }

// One event of a command: payload set by `fill`, in `stream`, dated `date`.
template <typename Fill>
v1::EventEnvelope event(const std::string& stream, const std::string& date, Fill&& fill) {
    v1::EventEnvelope e;
    e.set_stream_id(stream);
    e.set_effective_date(date);
    fill(e);
    return e;
}

// Allocation ids are unique per payment: an invoice knows an allocation by (payment, id).
bool has_allocation(const v1::InvoiceState& inv, const std::string& payment_id, const std::string& allocation_id) {
    return std::any_of(inv.allocations().begin(), inv.allocations().end(), [&](const auto& a) {
        return a.payment_id() == payment_id && a.allocation_id() == allocation_id;
    });
}

// ---- Invoices ----------------------------------------------------------------------------------

decided decide_create(const v1::CreateInvoice& c, const keyed_state& state) {
    const std::string f = "create_invoice.";
    if (!valid_id(c.invoice_id())) return reject(rejection_code::invoice_id_invalid, f + "invoice_id", "invoice_id" + id_rule);
    if (!valid_id(c.book_id())) return reject(rejection_code::billing_book_id_invalid, f + "book_id", "book_id" + id_rule);
    if (c.direction() != v1::INVOICE_DIRECTION_CUSTOMER && c.direction() != v1::INVOICE_DIRECTION_SUPPLIER)
        return reject(rejection_code::invoice_direction_invalid, f + "direction", "direction must be customer or supplier");
    if (!valid_id(c.counterparty_id()))
        return reject(rejection_code::counterparty_invalid, f + "counterparty_id", "counterparty_id" + id_rule);
    if (!valid_currency(c.currency()))
        return reject(rejection_code::billing_currency_invalid, f + "currency",
                      "currency must be 3-12 characters A-Z or 0-9, got '" + c.currency() + "'");
    if (!valid_date(c.issue_date()))
        return reject(rejection_code::document_date_invalid, f + "issue_date", "issue_date must be a calendar date YYYY-MM-DD");
    std::string due = c.due_date();
    if (!due.empty()) {
        if (c.payment_terms_days() != 0)
            return reject(rejection_code::due_date_invalid, f + "payment_terms_days", "give due_date or payment_terms_days, not both");
        if (!valid_date(due) || due < c.issue_date())
            return reject(rejection_code::due_date_invalid, f + "due_date", "due_date must be a date on or after the issue date");
    } else {
        if (c.payment_terms_days() > limits::payment_terms_days_max)
            return reject(rejection_code::due_date_invalid, f + "payment_terms_days",
                          "payment terms are at most " + std::to_string(limits::payment_terms_days_max) + " days");
        due = add_days(c.issue_date(), static_cast<int>(c.payment_terms_days()));
    }
    // Bills are numbered apart from the invoices we send, so customer numbering stays gapless.
    const std::string series = !c.series_id().empty()                               ? c.series_id()
                               : c.direction() == v1::INVOICE_DIRECTION_SUPPLIER ? "bills"
                                                                                    : "default";
    if (!valid_code(series))
        return reject(rejection_code::series_id_invalid, f + "series_id", "series_id" + id_rule + " and without '/'");
    if (c.memo().size() > limits::memo_bytes_max)
        return reject(rejection_code::billing_memo_too_long, f + "memo", "memo is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    if (c.lines().empty() || static_cast<std::size_t>(c.lines_size()) > limits::invoice_lines_max)
        return reject(rejection_code::invoice_lines_invalid, f + "lines",
                      "an invoice has 1 to " + std::to_string(limits::invoice_lines_max) + " lines");
    v1::InvoiceDrafted d;
    int128 net = 0, tax = 0, gross = 0;
    for (int i = 0; i < c.lines_size(); ++i) {
        const auto& l = c.lines(i);
        const std::string lf = f + "lines[" + std::to_string(i) + "].";
        if (l.description().empty() || l.description().size() > limits::memo_bytes_max)
            return reject(rejection_code::line_description_invalid, lf + "description", "a line needs a description of at most " + std::to_string(limits::memo_bytes_max) + " bytes");
        if (l.quantity_milli() <= 0)
            return reject(rejection_code::line_quantity_invalid, lf + "quantity_milli", "quantity must be positive");
        if (l.unit_price_minor() < 0)
            return reject(rejection_code::line_price_invalid, lf + "unit_price_minor", "unit price must not be negative");
        if (l.tax_rate_bp() > 10000)
            return reject(rejection_code::line_tax_rate_invalid, lf + "tax_rate_bp", "tax rate is at most 10000 basis points");
        if (!l.tax_code().empty() && !valid_code(l.tax_code()))
            return reject(rejection_code::tax_code_invalid, lf + "tax_code", "tax_code" + id_rule + " and without '/'");
        if (!l.tax_code().empty() && l.tax_rate_bp() != 0)
            return reject(rejection_code::tax_code_invalid, lf + "tax_code", "give tax_rate_bp or tax_code, not both");
        if (!l.account_id().empty() && !valid_id(l.account_id()))
            return reject(rejection_code::line_account_invalid, lf + "account_id", "account_id" + id_rule);
        // A coded line's rate is known at issue; the overflow check assumes the highest (100 %),
        // so the totals computed then always fit.
        v1::InvoiceLine worst = l;
        if (!l.tax_code().empty()) worst.set_tax_rate_bp(10000);
        auto amounts = line_totals(worst, c.prices_include_tax());
        if (!amounts) return reject(rejection_code::billing_amount_overflow, lf + "unit_price_minor", "the line's amount does not fit in 64 bits");
        auto* out = d.add_lines();
        *out = l;
        out->clear_net_minor();
        out->clear_tax_minor();
        out->clear_gross_minor();
        if (!l.tax_code().empty()) d.set_totals_at_issue(true);
        gross += amounts->gross;
    }
    if (!fits(gross)) return reject(rejection_code::billing_amount_overflow, f + "lines", "the invoice total does not fit in 64 bits");
    if (!d.totals_at_issue()) {
        for (auto& l : *d.mutable_lines()) {
            auto amounts = line_totals(l, c.prices_include_tax()).value();
            l.set_net_minor(amounts.net);
            l.set_tax_minor(amounts.tax);
            l.set_gross_minor(amounts.gross);
            net += amounts.net;
            tax += amounts.tax;
        }
    } else {
        gross = 0;
    }
    if (find_invoice(state, c.invoice_id()))
        return reject(rejection_code::invoice_already_exists, f + "invoice_id", "invoice " + c.invoice_id() + " already exists");
    d.set_invoice_id(c.invoice_id());
    d.set_book_id(c.book_id());
    d.set_direction(c.direction());
    d.set_counterparty_id(c.counterparty_id());
    d.set_currency(c.currency());
    d.set_issue_date(c.issue_date());
    d.set_due_date(due);
    d.set_prices_include_tax(c.prices_include_tax());
    d.set_series_key(c.book_id() + "/" + series);
    d.set_memo(c.memo());
    d.set_net_minor(static_cast<std::int64_t>(net));
    d.set_tax_minor(static_cast<std::int64_t>(tax));
    d.set_gross_minor(static_cast<std::int64_t>(gross));
    return std::vector{event(invoice_stream(c.invoice_id()), c.issue_date(), [&](auto& e) { *e.mutable_invoice_drafted() = d; })};
}

result<v1::InvoiceState> existing_invoice(const keyed_state& state, const std::string& id, const std::string& f) {
    if (!valid_id(id)) return reject(rejection_code::invoice_id_invalid, f + "invoice_id", "invoice_id" + id_rule);
    auto inv = find_invoice(state, id);
    if (!inv) return reject(rejection_code::invoice_not_found, f + "invoice_id", "invoice " + id + " does not exist");
    return *inv;
}

decided decide_issue(const v1::IssueInvoice& c, const keyed_state& state) {
    const std::string f = "issue_invoice.";
    auto inv = existing_invoice(state, c.invoice_id(), f);
    if (!inv) return inv.error();
    if (inv->status() == v1::INVOICE_STATUS_VOID) return reject(rejection_code::invoice_void, f + "invoice_id", "the invoice is void");
    if (inv->status() != v1::INVOICE_STATUS_DRAFT)
        return reject(rejection_code::invoice_not_draft, f + "invoice_id", "only a draft can be issued");
    const auto& d = inv->draft();
    return std::vector{event(invoice_stream(c.invoice_id()), d.issue_date(), [&](auto& e) {
        auto* p = e.mutable_invoice_issue_requested();
        p->set_invoice_id(d.invoice_id());
        p->set_book_id(d.book_id());
        p->set_series_key(d.series_key());
        p->set_direction(d.direction());
        p->set_counterparty_id(d.counterparty_id());
        p->set_issue_date(d.issue_date());
        std::set<std::string> seen;
        for (const auto& l : d.lines())
            if (!l.tax_code().empty() && seen.insert(l.tax_code()).second) p->add_tax_codes(l.tax_code());
    })};
}

decided decide_record_number(const v1::RecordInvoiceNumber& c, const keyed_state& state) {
    const std::string f = "record_invoice_number.";
    auto inv = existing_invoice(state, c.invoice_id(), f);
    if (!inv) return inv.error();
    if (inv->status() != v1::INVOICE_STATUS_ISSUING)
        return reject(rejection_code::invoice_not_issuing, f + "invoice_id", "the invoice did not ask for a number");
    const auto& d = inv->draft();
    if (c.series_key() != d.series_key())
        return reject(rejection_code::series_mismatch, f + "series_key", "the invoice asked series " + d.series_key());
    // Totals with the rates the register resolved for the issue date (coded lines only).
    google::protobuf::RepeatedPtrField<v1::InvoiceLine> lines = d.lines();
    int128 net = 0, tax = 0, gross = 0;
    for (auto& l : lines) {
        if (!l.tax_code().empty()) {
            auto rate = std::find_if(c.rates().begin(), c.rates().end(), [&](const auto& r) { return r.code() == l.tax_code(); });
            if (rate == c.rates().end())
                return reject(rejection_code::tax_code_unknown, f + "rates", "no rate was given for tax code " + l.tax_code());
            l.set_tax_rate_bp(rate->rate_bp());
        }
        auto amounts = line_totals(l, d.prices_include_tax());
        if (!amounts) return reject(rejection_code::billing_amount_overflow, f + "rates", "a line's amount does not fit in 64 bits");
        l.set_net_minor(amounts->net);
        l.set_tax_minor(amounts->tax);
        l.set_gross_minor(amounts->gross);
        net += amounts->net;
        tax += amounts->tax;
        gross += amounts->gross;
    }
    if (!fits(gross)) return reject(rejection_code::billing_amount_overflow, f + "rates", "the invoice total does not fit in 64 bits");
    return std::vector{event(invoice_stream(c.invoice_id()), d.issue_date(), [&](auto& e) {
        auto* p = e.mutable_invoice_issued();
        p->set_invoice_id(d.invoice_id());
        p->set_book_id(d.book_id());
        p->set_series_key(d.series_key());
        p->set_number(c.number());
        p->set_direction(d.direction());
        p->set_counterparty_id(d.counterparty_id());
        p->set_currency(d.currency());
        p->set_issue_date(d.issue_date());
        p->set_due_date(d.due_date());
        *p->mutable_lines() = lines;
        p->set_net_minor(static_cast<std::int64_t>(net));
        p->set_tax_minor(static_cast<std::int64_t>(tax));
        p->set_gross_minor(static_cast<std::int64_t>(gross));
    })};
}

decided decide_refuse_issue(const v1::RefuseInvoiceIssue& c, const keyed_state& state) {
    const std::string f = "refuse_invoice_issue.";
    auto inv = existing_invoice(state, c.invoice_id(), f);
    if (!inv) return inv.error();
    if (inv->status() != v1::INVOICE_STATUS_ISSUING)
        return reject(rejection_code::invoice_not_issuing, f + "invoice_id", "the invoice did not ask for a number");
    return std::vector{event(invoice_stream(c.invoice_id()), inv->draft().issue_date(), [&](auto& e) {
        auto* p = e.mutable_invoice_issue_refused();
        p->set_invoice_id(c.invoice_id());
        p->set_book_id(inv->draft().book_id());
        p->set_code(c.code());
        p->set_code_name(c.code_name());
        p->set_detail(c.detail().substr(0, limits::memo_bytes_max));
    })};
}

decided decide_void(const v1::VoidInvoice& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "void_invoice.";
    if (!valid_id(c.invoice_id())) return reject(rejection_code::invoice_id_invalid, f + "invoice_id", "invoice_id" + id_rule);
    if (c.reason().size() > limits::memo_bytes_max)
        return reject(rejection_code::billing_memo_too_long, f + "reason", "reason is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    if (!c.date().empty() && !valid_date(c.date()))
        return reject(rejection_code::document_date_invalid, f + "date", "date must be a calendar date YYYY-MM-DD");
    auto inv = existing_invoice(state, c.invoice_id(), f);
    if (!inv) return inv.error();
    if (!c.date().empty() && c.date() < inv->draft().issue_date())
        return reject(rejection_code::document_date_invalid, f + "date", "a void is dated on or after the issue date " + inv->draft().issue_date());
    if (inv->status() == v1::INVOICE_STATUS_VOID) return reject(rejection_code::invoice_void, f + "invoice_id", "the invoice is already void");
    if (inv->status() == v1::INVOICE_STATUS_ISSUING)
        return reject(rejection_code::invoice_number_pending, f + "invoice_id", "the invoice's number is being assigned; void it once issued");
    bool allocated = std::any_of(inv->allocations().begin(), inv->allocations().end(), [](const auto& a) { return !a.reversed(); });
    if (allocated || inv->credits_size() > 0)
        return reject(rejection_code::invoice_has_allocations, f + "invoice_id",
                      "payments or credit notes are applied to the invoice; credit it instead");
    const auto& d = inv->draft();
    std::string date = c.date().empty() ? std::max(d.issue_date(), utc_date(ctx.now_ms)) : c.date();
    return std::vector{event(invoice_stream(c.invoice_id()), date, [&](auto& e) {
        auto* p = e.mutable_invoice_voided();
        p->set_invoice_id(d.invoice_id());
        p->set_book_id(d.book_id());
        p->set_was_issued(inv->status() != v1::INVOICE_STATUS_DRAFT);
        p->set_was_posted(inv->status() != v1::INVOICE_STATUS_DRAFT && d.gross_minor() > 0);
        p->set_reason(c.reason());
        p->set_date(date);
    })};
}

decided decide_credit(const v1::CreditInvoice& c, const keyed_state& state) {
    const std::string f = "credit_invoice.";
    if (!valid_id(c.invoice_id())) return reject(rejection_code::invoice_id_invalid, f + "invoice_id", "invoice_id" + id_rule);
    if (!valid_id(c.credit_note_id()))
        return reject(rejection_code::invoice_id_invalid, f + "credit_note_id", "credit_note_id" + id_rule);
    if (c.gross_minor() <= 0) return reject(rejection_code::billing_amount_invalid, f + "gross_minor", "a credit note's amount must be positive");
    if (!valid_date(c.date())) return reject(rejection_code::document_date_invalid, f + "date", "date must be a calendar date YYYY-MM-DD");
    if (c.memo().size() > limits::memo_bytes_max)
        return reject(rejection_code::billing_memo_too_long, f + "memo", "memo is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    auto inv = existing_invoice(state, c.invoice_id(), f);
    if (!inv) return inv.error();
    if (inv->status() == v1::INVOICE_STATUS_VOID) return reject(rejection_code::invoice_void, f + "invoice_id", "the invoice is void");
    if (inv->status() == v1::INVOICE_STATUS_DRAFT || inv->status() == v1::INVOICE_STATUS_ISSUING)
        return reject(rejection_code::invoice_not_issued, f + "invoice_id", "only an issued invoice can be credited");
    if (c.date() < inv->draft().issue_date())
        return reject(rejection_code::document_date_invalid, f + "date", "a credit note is dated on or after the issue date " + inv->draft().issue_date());
    for (const auto& cn : inv->credits())
        if (cn.credit_note_id() == c.credit_note_id())
            return reject(rejection_code::credit_note_exists, f + "credit_note_id", "credit note " + c.credit_note_id() + " exists");
    if (static_cast<std::size_t>(inv->credits_size()) >= limits::credit_notes_max)
        return reject(rejection_code::too_many_allocations, f + "credit_note_id", "the invoice has the most credit notes it may have");
    if (c.gross_minor() > inv->outstanding_minor())
        return reject(rejection_code::credit_exceeds_outstanding, f + "gross_minor",
                      "the credit note is " + std::to_string(c.gross_minor()) + " but only " +
                          std::to_string(inv->outstanding_minor()) + " is outstanding");
    const auto& d = inv->draft();
    // Tax is split cumulatively, so the credit notes of a fully credited invoice add up to its tax.
    int128 credited_gross = 0, credited_tax = 0;
    for (const auto& cn : inv->credits()) {
        credited_gross += cn.gross_minor();
        credited_tax += cn.tax_minor();
    }
    auto tax = d.gross_minor() == 0
                   ? int128(0)
                   : divide_rounded((credited_gross + c.gross_minor()) * d.tax_minor(), d.gross_minor()) - credited_tax;
    return std::vector{event(invoice_stream(c.invoice_id()), c.date(), [&](auto& e) {
        auto* p = e.mutable_invoice_credited();
        p->set_invoice_id(d.invoice_id());
        p->set_book_id(d.book_id());
        p->set_credit_note_id(c.credit_note_id());
        p->set_direction(d.direction());
        p->set_currency(d.currency());
        p->set_date(c.date());
        p->set_tax_minor(static_cast<std::int64_t>(tax));
        p->set_net_minor(c.gross_minor() - static_cast<std::int64_t>(tax));
        p->set_gross_minor(c.gross_minor());
        p->set_outstanding_minor(inv->outstanding_minor() - c.gross_minor());
        p->set_memo(c.memo());
    })};
}

decided decide_apply(const v1::ApplyAllocation& c, const keyed_state& state) {
    const std::string f = "apply_allocation.";
    if (!valid_id(c.invoice_id())) return reject(rejection_code::invoice_id_invalid, f + "invoice_id", "invoice_id" + id_rule);
    auto decline = [&](rejection_code code, const std::string& detail) {
        return std::vector{event(invoice_stream(c.invoice_id()), c.date(), [&](auto& e) {
            auto* p = e.mutable_allocation_declined();
            p->set_invoice_id(c.invoice_id());
            p->set_payment_id(c.payment_id());
            p->set_allocation_id(c.allocation_id());
            p->set_amount_minor(c.amount_minor());
            p->set_code(static_cast<std::uint32_t>(code));
            p->set_code_name(std::string(name_of(code)));
            p->set_detail(detail);
        })};
    };
    auto inv = find_invoice(state, c.invoice_id());
    if (!inv) return decline(rejection_code::invoice_not_found, "invoice " + c.invoice_id() + " does not exist");
    if (inv->status() == v1::INVOICE_STATUS_VOID) return decline(rejection_code::invoice_void, "the invoice is void");
    if (inv->status() == v1::INVOICE_STATUS_DRAFT || inv->status() == v1::INVOICE_STATUS_ISSUING)
        return decline(rejection_code::invoice_not_issued, "the invoice is not issued yet");
    const auto& d = inv->draft();
    const bool pays_invoices = c.direction() == v1::PAYMENT_DIRECTION_RECEIVED;
    if (c.book_id() != d.book_id() || pays_invoices != (d.direction() == v1::INVOICE_DIRECTION_CUSTOMER) ||
        c.counterparty_id() != d.counterparty_id())
        return decline(rejection_code::allocation_document_mismatch,
                       "the payment (book " + c.book_id() + ", " + (pays_invoices ? "received from " : "sent to ") +
                           c.counterparty_id() + ") cannot settle " +
                           (d.direction() == v1::INVOICE_DIRECTION_CUSTOMER ? "customer invoice" : "bill") + " of book " +
                           d.book_id() + " for " + d.counterparty_id());
    if (c.currency() != inv->draft().currency())
        return decline(rejection_code::billing_currency_mismatch,
                       "the payment is in " + c.currency() + ", the invoice in " + inv->draft().currency());
    if (c.amount_minor() <= 0) return decline(rejection_code::billing_amount_invalid, "an allocation must be positive");
    if (has_allocation(*inv, c.payment_id(), c.allocation_id()))
        return decline(rejection_code::allocation_id_exists, "allocation " + c.allocation_id() + " was answered before");
    if (static_cast<std::size_t>(inv->allocations_size()) >= limits::allocations_max)
        return decline(rejection_code::too_many_allocations, "the invoice has the most allocations it may have");
    if (c.amount_minor() > inv->outstanding_minor())
        return decline(rejection_code::allocation_exceeds_outstanding,
                       std::to_string(c.amount_minor()) + " is more than the " + std::to_string(inv->outstanding_minor()) +
                           " outstanding");
    // Effective when both documents exist: never before the invoice's issue date.
    const std::string date = std::max(c.date(), d.issue_date());
    return std::vector{event(invoice_stream(c.invoice_id()), date, [&](auto& e) {
        auto* p = e.mutable_allocation_applied();
        p->set_invoice_id(c.invoice_id());
        p->set_book_id(inv->draft().book_id());
        p->set_payment_id(c.payment_id());
        p->set_allocation_id(c.allocation_id());
        p->set_amount_minor(c.amount_minor());
        p->set_outstanding_minor(inv->outstanding_minor() - c.amount_minor());
        p->set_date(date);
    })};
}

decided decide_reverse(const v1::ReverseAllocation& c, const keyed_state& state) {
    const std::string f = "reverse_allocation.";
    auto inv = existing_invoice(state, c.invoice_id(), f);
    if (!inv) return inv.error();
    for (const auto& a : inv->allocations()) {
        if (a.allocation_id() != c.allocation_id() || a.payment_id() != c.payment_id() || a.reversed()) continue;
        return std::vector{event(invoice_stream(c.invoice_id()), c.date(), [&](auto& e) {
            auto* p = e.mutable_allocation_reversed();
            p->set_invoice_id(c.invoice_id());
            p->set_book_id(inv->draft().book_id());
            p->set_payment_id(a.payment_id());
            p->set_allocation_id(a.allocation_id());
            p->set_amount_minor(a.amount_minor());
            p->set_outstanding_minor(inv->outstanding_minor() + a.amount_minor());
            p->set_date(c.date());
        })};
    }
    return reject(rejection_code::allocation_not_found, f + "allocation_id", "no applied allocation " + c.allocation_id());
}

// ---- Billing register: counterparties, tax codes, numbering series (routing key book_id) -------
// Rows: billing/cp/<book>\0<counterparty>\0<effective_from> -> CounterpartyRegistered,
//       billing/tax/<book>\0<code>\0<effective_from> -> TaxCodeSet. The state on a date is the
// latest row dated on or before it.

std::string register_prefix(std::string_view table, const std::string& book, const std::string& id) {
    std::string k = "billing/" + std::string(table) + "/" + book;
    k += '\0';
    k += id;
    k += '\0';
    return k;
}

// The version of a register entry effective on `date`, if any.
template <typename M>
std::optional<M> effective_on(const keyed_state& state, const std::string& prefix, const std::string& date) {
    std::optional<M> found;
    for (const auto& [k, v] : state.scan(prefix, prefix + date + '\x01', limits::mapping_versions_max)) found = events::parse_row<M>(v);
    return found;
}

// Refused when the entry has all the versions it may have (a change on a day it already has
// replaces that day's and is always allowed).
std::optional<rejection> versions_left(const keyed_state& state, const std::string& prefix, const std::string& date,
                                       const std::string& field) {
    auto versions = state.scan(prefix, "", limits::mapping_versions_max + 1);
    bool replaces = std::any_of(versions.begin(), versions.end(), [&](const auto& row) { return row.first == prefix + date; });
    if (versions.size() < limits::mapping_versions_max || replaces) return std::nullopt;
    return reject(rejection_code::register_versions_exhausted, field,
                  "changed " + std::to_string(versions.size()) + " times; the limit is " + std::to_string(limits::mapping_versions_max));
}

std::string register_stream(const std::string& book) { return "register/" + book; }

decided decide_register_counterparty(const v1::RegisterCounterparty& c, const keyed_state& state) {
    const std::string f = "register_counterparty.";
    if (!valid_id(c.book_id())) return reject(rejection_code::billing_book_id_invalid, f + "book_id", "book_id" + id_rule);
    if (!valid_id(c.counterparty_id()))
        return reject(rejection_code::counterparty_invalid, f + "counterparty_id", "counterparty_id" + id_rule);
    if (c.name().empty() || c.name().size() > limits::memo_bytes_max)
        return reject(rejection_code::counterparty_name_invalid, f + "name",
                      "a counterparty needs a name of at most " + std::to_string(limits::memo_bytes_max) + " bytes");
    if (!c.customer() && !c.supplier())
        return reject(rejection_code::counterparty_roles_invalid, f + "customer", "a counterparty is a customer, a supplier or both");
    if (!valid_date(c.effective_from()))
        return reject(rejection_code::document_date_invalid, f + "effective_from", "effective_from must be a calendar date YYYY-MM-DD");
    if (auto r = versions_left(state, register_prefix("cp", c.book_id(), c.counterparty_id()), c.effective_from(), f + "counterparty_id"))
        return *r;
    return std::vector{event(register_stream(c.book_id()), c.effective_from(), [&](auto& e) {
        auto* p = e.mutable_counterparty_registered();
        p->set_book_id(c.book_id());
        p->set_counterparty_id(c.counterparty_id());
        p->set_name(c.name());
        p->set_customer(c.customer());
        p->set_supplier(c.supplier());
        p->set_effective_from(c.effective_from());
        p->set_blocked(c.blocked());
    })};
}

decided decide_set_tax_code(const v1::SetTaxCode& c, const keyed_state& state) {
    const std::string f = "set_tax_code.";
    if (!valid_id(c.book_id())) return reject(rejection_code::billing_book_id_invalid, f + "book_id", "book_id" + id_rule);
    if (!valid_code(c.code())) return reject(rejection_code::tax_code_invalid, f + "code", "code" + id_rule + " and without '/'");
    if (c.rate_bp() > 10000) return reject(rejection_code::tax_rate_invalid, f + "rate_bp", "a tax rate is at most 10000 basis points");
    if (!valid_date(c.effective_from()))
        return reject(rejection_code::document_date_invalid, f + "effective_from", "effective_from must be a calendar date YYYY-MM-DD");
    if (c.description().size() > limits::memo_bytes_max)
        return reject(rejection_code::billing_memo_too_long, f + "description",
                      "description is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    // The register shares the book's partition with the ledger, so it sees the book's lock: a
    // rate may not change under documents of a closed period.
    if (auto locked = ledger::closed_through(state, events::book_id{c.book_id()}); !locked.empty() && c.effective_from() <= locked)
        return reject(rejection_code::period_closed, f + "effective_from",
                      "the book is closed through " + locked + "; a rate cannot change in a closed period");
    if (auto r = versions_left(state, register_prefix("tax", c.book_id(), c.code()), c.effective_from(), f + "code")) return *r;
    return std::vector{event(register_stream(c.book_id()), c.effective_from(), [&](auto& e) {
        auto* p = e.mutable_tax_code_set();
        p->set_book_id(c.book_id());
        p->set_code(c.code());
        p->set_rate_bp(c.rate_bp());
        p->set_effective_from(c.effective_from());
        p->set_description(c.description());
    })};
}

// The rates of the invoice's tax codes on its issue date, or why one has none.
std::optional<rejection> resolve_rates(const v1::NumberInvoice& c, const keyed_state& state, std::vector<v1::TaxRate>& rates) {
    for (const auto& code : c.tax_codes()) {
        auto rate = effective_on<v1::TaxCodeSet>(state, register_prefix("tax", c.book_id(), code), c.issue_date());
        if (!rate)
            return reject(rejection_code::tax_code_unknown, "number_invoice.tax_codes",
                          "tax code " + code + " has no rate in book " + c.book_id() + " on " + c.issue_date());
        auto& r = rates.emplace_back();
        r.set_code(code);
        r.set_rate_bp(rate->rate_bp());
    }
    return std::nullopt;
}

// Why the register will not number an invoice, or nullopt when it will.
std::optional<rejection> issue_check(const v1::NumberInvoice& c, const keyed_state& state, std::vector<v1::TaxRate>& rates) {
    const std::string f = "number_invoice.";
    auto party = effective_on<v1::CounterpartyRegistered>(state, register_prefix("cp", c.book_id(), c.counterparty_id()), c.issue_date());
    const bool customer = c.direction() == v1::INVOICE_DIRECTION_CUSTOMER;
    if (!party)
        return reject(rejection_code::counterparty_unknown, f + "counterparty_id",
                      std::string(customer ? "customer " : "supplier ") + c.counterparty_id() + " is not registered in book " +
                          c.book_id() + " on " + c.issue_date());
    if (customer ? !party->customer() : !party->supplier())
        return reject(rejection_code::counterparty_role_mismatch, f + "counterparty_id",
                      c.counterparty_id() + (customer ? " is not a customer" : " is not a supplier") + " on " + c.issue_date());
    if (party->blocked())
        return reject(rejection_code::counterparty_blocked, f + "counterparty_id",
                      c.counterparty_id() + " is blocked from " + party->effective_from());
    return resolve_rates(c, state, rates);
}

// Numbering: gapless, strictly increasing per series, and only for an invoice the register
// accepts. An invoice that already has a number of the series gets it again.
decided decide_assign(const v1::NumberInvoice& c, const keyed_state& state) {
    const std::string f = "number_invoice.";
    if (!valid_id(c.book_id())) return reject(rejection_code::billing_book_id_invalid, f + "book_id", "book_id" + id_rule);
    const std::string book_prefix = c.book_id() + "/";
    if (!c.series_key().starts_with(book_prefix) || !valid_code(c.series_key().substr(book_prefix.size())))
        return reject(rejection_code::series_key_invalid, f + "series_key", "series_key is <book>/<series> of book " + c.book_id());
    if (!valid_id(c.invoice_id())) return reject(rejection_code::invoice_id_invalid, f + "invoice_id", "invoice_id" + id_rule);
    std::vector<v1::TaxRate> rates;
    // An invoice numbered before gets its number again, with its rates, and no new check (a
    // party blocked since does not take back an issued number).
    const bool numbered = state.get(series_number_key(c.series_key(), c.invoice_id())).has_value();
    auto refused = numbered ? resolve_rates(c, state, rates) : issue_check(c, state, rates);
    if (refused && !numbered)
        return std::vector{event(series_stream(c.series_key()), c.issue_date(), [&](auto& e) {
            auto* p = e.mutable_number_refused();
            p->set_book_id(c.book_id());
            p->set_invoice_id(c.invoice_id());
            p->set_series_key(c.series_key());
            p->set_code(static_cast<std::uint32_t>(refused->code));
            p->set_code_name(std::string(name_of(refused->code)));
            p->set_field(refused->field);
            p->set_detail(refused->detail);
        })};
    std::uint64_t number = 0;
    if (auto given = state.get(series_number_key(c.series_key(), c.invoice_id()))) {
        number = events::read_be64(*given);
    } else {
        v1::SeriesState s = events::parse_row<v1::SeriesState>(state.get(series_key_row(c.series_key()))).value_or(v1::SeriesState{});
        number = s.last_number() + 1;
    }
    return std::vector{event(series_stream(c.series_key()), c.issue_date(), [&](auto& e) {
        auto* p = e.mutable_number_assigned();
        p->set_series_key(c.series_key());
        p->set_invoice_id(c.invoice_id());
        p->set_number(number);
        p->set_book_id(c.book_id());
        for (auto& r : rates) *p->add_rates() = r;
    })};
}

// ---- Payments ----------------------------------------------------------------------------------

decided decide_receive(const v1::ReceivePayment& c, const keyed_state& state) {
    const std::string f = "receive_payment.";
    if (!valid_id(c.payment_id())) return reject(rejection_code::payment_id_invalid, f + "payment_id", "payment_id" + id_rule);
    if (!valid_id(c.book_id())) return reject(rejection_code::billing_book_id_invalid, f + "book_id", "book_id" + id_rule);
    if (c.direction() != v1::PAYMENT_DIRECTION_RECEIVED && c.direction() != v1::PAYMENT_DIRECTION_SENT)
        return reject(rejection_code::payment_direction_invalid, f + "direction", "direction must be received or sent");
    if (!valid_id(c.counterparty_id()))
        return reject(rejection_code::counterparty_invalid, f + "counterparty_id", "counterparty_id" + id_rule);
    if (c.amount_minor() <= 0) return reject(rejection_code::billing_amount_invalid, f + "amount_minor", "a payment must be positive");
    if (!valid_currency(c.currency()))
        return reject(rejection_code::billing_currency_invalid, f + "currency", "currency must be 3-12 characters A-Z or 0-9");
    if (!valid_date(c.date())) return reject(rejection_code::document_date_invalid, f + "date", "date must be a calendar date YYYY-MM-DD");
    if (!c.bank_account_id().empty() && !valid_id(c.bank_account_id()))
        return reject(rejection_code::bank_account_invalid, f + "bank_account_id", "bank_account_id" + id_rule);
    if (c.method().size() > limits::memo_bytes_max)
        return reject(rejection_code::billing_memo_too_long, f + "method", "method is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    if (find_payment(state, c.payment_id()))
        return reject(rejection_code::payment_already_exists, f + "payment_id", "payment " + c.payment_id() + " already exists");
    return std::vector{event(payment_stream(c.payment_id()), c.date(), [&](auto& e) {
        auto* p = e.mutable_payment_recorded();
        p->set_payment_id(c.payment_id());
        p->set_book_id(c.book_id());
        p->set_direction(c.direction());
        p->set_counterparty_id(c.counterparty_id());
        p->set_amount_minor(c.amount_minor());
        p->set_currency(c.currency());
        p->set_date(c.date());
        p->set_method(c.method());
        p->set_bank_account_id(c.bank_account_id());
    })};
}

result<v1::PaymentState> existing_payment(const keyed_state& state, const std::string& id, const std::string& f) {
    if (!valid_id(id)) return reject(rejection_code::payment_id_invalid, f + "payment_id", "payment_id" + id_rule);
    auto pay = find_payment(state, id);
    if (!pay) return reject(rejection_code::payment_not_found, f + "payment_id", "payment " + id + " does not exist");
    return *pay;
}

decided decide_allocate(const v1::AllocatePayment& c, const keyed_state& state) {
    const std::string f = "allocate_payment.";
    if (!valid_id(c.payment_id())) return reject(rejection_code::payment_id_invalid, f + "payment_id", "payment_id" + id_rule);
    if (c.allocations().empty() || static_cast<std::size_t>(c.allocations_size()) > limits::allocations_per_command_max)
        return reject(rejection_code::allocations_invalid, f + "allocations",
                      "allocate 1 to " + std::to_string(limits::allocations_per_command_max) + " amounts at once");
    for (int i = 0; i < c.allocations_size(); ++i) {
        const auto& a = c.allocations(i);
        const std::string af = f + "allocations[" + std::to_string(i) + "].";
        if (!valid_id(a.allocation_id())) return reject(rejection_code::invoice_id_invalid, af + "allocation_id", "allocation_id" + id_rule);
        if (!valid_id(a.invoice_id())) return reject(rejection_code::invoice_id_invalid, af + "invoice_id", "invoice_id" + id_rule);
        if (a.amount_minor() <= 0) return reject(rejection_code::billing_amount_invalid, af + "amount_minor", "an allocation must be positive");
    }
    if (!c.date().empty() && !valid_date(c.date()))
        return reject(rejection_code::document_date_invalid, f + "date", "date must be a calendar date YYYY-MM-DD");
    auto pay = existing_payment(state, c.payment_id(), f);
    if (!pay) return pay.error();
    if (pay->returned()) return reject(rejection_code::payment_returned, f + "payment_id", "the payment was returned");
    if (!c.date().empty() && c.date() < pay->payment().date())
        return reject(rejection_code::document_date_invalid, f + "date", "an allocation is dated on or after the payment's date " + pay->payment().date());
    const std::string date = c.date().empty() ? pay->payment().date() : c.date();
    std::set<std::string> ids;
    for (const auto& a : pay->allocations()) ids.insert(a.allocation_id());
    int128 total = 0;
    for (int i = 0; i < c.allocations_size(); ++i) {
        const auto& a = c.allocations(i);
        if (!ids.insert(a.allocation_id()).second)
            return reject(rejection_code::allocation_id_exists, f + "allocations[" + std::to_string(i) + "].allocation_id",
                          "allocation " + a.allocation_id() + " exists on this payment");
        total += a.amount_minor();
    }
    if (static_cast<std::size_t>(pay->allocations_size() + c.allocations_size()) > limits::allocations_max)
        return reject(rejection_code::too_many_allocations, f + "allocations", "the payment has the most allocations it may have");
    if (total > pay->unallocated_minor())
        return reject(rejection_code::allocation_exceeds_unallocated, f + "allocations",
                      "allocations of " + to_decimal(total) + " exceed the unallocated " + std::to_string(pay->unallocated_minor()));
    std::vector<v1::EventEnvelope> out;
    const auto& p = pay->payment();
    for (const auto& a : c.allocations())
        out.push_back(event(payment_stream(c.payment_id()), date, [&](auto& e) {
            auto* r = e.mutable_allocation_requested();
            r->set_payment_id(p.payment_id());
            r->set_book_id(p.book_id());
            r->set_allocation_id(a.allocation_id());
            r->set_invoice_id(a.invoice_id());
            r->set_amount_minor(a.amount_minor());
            r->set_currency(p.currency());
            r->set_date(date);
            r->set_direction(p.direction());
            r->set_counterparty_id(p.counterparty_id());
        }));
    return out;
}

result<v1::PaymentAllocation> pending_allocation(const v1::PaymentState& pay, const std::string& id, const std::string& f) {
    for (const auto& a : pay.allocations()) {
        if (a.allocation_id() != id) continue;
        if (a.state() != v1::ALLOCATION_STATE_PENDING)
            return reject(rejection_code::allocation_not_pending, f + "allocation_id", "allocation " + id + " was answered before");
        return a;
    }
    return reject(rejection_code::allocation_not_found, f + "allocation_id", "no allocation " + id + " on this payment");
}

decided decide_confirm(const v1::ConfirmAllocation& c, const keyed_state& state) {
    const std::string f = "confirm_allocation.";
    auto pay = existing_payment(state, c.payment_id(), f);
    if (!pay) return pay.error();
    auto a = pending_allocation(*pay, c.allocation_id(), f);
    if (!a) return a.error();
    const auto& p = pay->payment();
    const std::string date = c.date().empty() ? p.date() : std::max(c.date(), p.date());
    return std::vector{event(payment_stream(c.payment_id()), date, [&](auto& e) {
        auto* r = e.mutable_allocation_confirmed();
        r->set_payment_id(p.payment_id());
        r->set_book_id(p.book_id());
        r->set_allocation_id(a->allocation_id());
        r->set_invoice_id(a->invoice_id());
        r->set_amount_minor(a->amount_minor());
        r->set_currency(p.currency());
        r->set_direction(p.direction());
        r->set_date(date);
    })};
}

decided decide_release(const v1::ReleaseAllocation& c, const keyed_state& state) {
    const std::string f = "release_allocation.";
    auto pay = existing_payment(state, c.payment_id(), f);
    if (!pay) return pay.error();
    auto a = pending_allocation(*pay, c.allocation_id(), f);
    if (!a) return a.error();
    return std::vector{event(payment_stream(c.payment_id()), pay->payment().date(), [&](auto& e) {
        auto* r = e.mutable_allocation_released();
        r->set_payment_id(c.payment_id());
        r->set_allocation_id(a->allocation_id());
        r->set_amount_minor(a->amount_minor());
        r->set_reason(c.reason().substr(0, limits::memo_bytes_max));
    })};
}

decided decide_refund(const v1::RefundPayment& c, const keyed_state& state) {
    const std::string f = "refund_payment.";
    if (!valid_id(c.payment_id())) return reject(rejection_code::payment_id_invalid, f + "payment_id", "payment_id" + id_rule);
    if (!valid_id(c.refund_id())) return reject(rejection_code::invoice_id_invalid, f + "refund_id", "refund_id" + id_rule);
    if (c.amount_minor() <= 0) return reject(rejection_code::billing_amount_invalid, f + "amount_minor", "a refund must be positive");
    if (!valid_date(c.date())) return reject(rejection_code::document_date_invalid, f + "date", "date must be a calendar date YYYY-MM-DD");
    auto pay = existing_payment(state, c.payment_id(), f);
    if (!pay) return pay.error();
    if (pay->returned()) return reject(rejection_code::payment_returned, f + "payment_id", "the payment was returned");
    if (c.date() < pay->payment().date())
        return reject(rejection_code::document_date_invalid, f + "date", "a refund is dated on or after the payment's date " + pay->payment().date());
    if (std::find(pay->refund_ids().begin(), pay->refund_ids().end(), c.refund_id()) != pay->refund_ids().end())
        return reject(rejection_code::refund_id_exists, f + "refund_id", "refund " + c.refund_id() + " exists");
    if (c.amount_minor() > pay->unallocated_minor())
        return reject(rejection_code::refund_exceeds_unallocated, f + "amount_minor",
                      "only " + std::to_string(pay->unallocated_minor()) + " is unallocated");
    const auto& p = pay->payment();
    return std::vector{event(payment_stream(c.payment_id()), c.date(), [&](auto& e) {
        auto* r = e.mutable_payment_refunded();
        r->set_payment_id(p.payment_id());
        r->set_book_id(p.book_id());
        r->set_refund_id(c.refund_id());
        r->set_amount_minor(c.amount_minor());
        r->set_currency(p.currency());
        r->set_direction(p.direction());
        r->set_date(c.date());
        r->set_bank_account_id(p.bank_account_id());
    })};
}

decided decide_return(const v1::ReturnPayment& c, const keyed_state& state) {
    const std::string f = "return_payment.";
    if (!valid_id(c.payment_id())) return reject(rejection_code::payment_id_invalid, f + "payment_id", "payment_id" + id_rule);
    if (c.reason().size() > limits::memo_bytes_max)
        return reject(rejection_code::billing_memo_too_long, f + "reason", "reason is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    if (!valid_date(c.date())) return reject(rejection_code::document_date_invalid, f + "date", "date must be a calendar date YYYY-MM-DD");
    auto pay = existing_payment(state, c.payment_id(), f);
    if (!pay) return pay.error();
    if (pay->returned()) return reject(rejection_code::payment_returned, f + "payment_id", "the payment was returned already");
    if (c.date() < pay->payment().date())
        return reject(rejection_code::document_date_invalid, f + "date", "a return is dated on or after the payment's date " + pay->payment().date());
    for (const auto& a : pay->allocations())
        if (a.state() == v1::ALLOCATION_STATE_PENDING)
            return reject(rejection_code::payment_has_pending_allocations, f + "payment_id",
                          "allocation " + a.allocation_id() + " awaits the invoice's answer; return the payment after it");
    const auto& p = pay->payment();
    return std::vector{event(payment_stream(c.payment_id()), c.date(), [&](auto& e) {
        auto* r = e.mutable_payment_returned();
        r->set_payment_id(p.payment_id());
        r->set_book_id(p.book_id());
        r->set_direction(p.direction());
        r->set_currency(p.currency());
        r->set_date(c.date());
        for (const auto& a : pay->allocations()) {
            if (a.state() != v1::ALLOCATION_STATE_CONFIRMED) continue;
            auto* ra = r->add_allocations();
            ra->set_allocation_id(a.allocation_id());
            ra->set_invoice_id(a.invoice_id());
            ra->set_amount_minor(a.amount_minor());
        }
        r->set_unallocated_minor(pay->unallocated_minor());
        r->set_reason(c.reason());
        r->set_bank_account_id(p.bank_account_id());
    })};
}

// ---- evolve helpers ----------------------------------------------------------------------------

void update_invoice(keyed_state& state, const std::string& id, const std::function<void(v1::InvoiceState&)>& change) {
    auto inv = find_invoice(state, id);
    if (!inv) return;  // decide never lets this happen
    change(*inv);
    write(state, invoice_key(id), *inv);
}

void update_payment(keyed_state& state, const std::string& id, const std::function<void(v1::PaymentState&)>& change) {
    auto pay = find_payment(state, id);
    if (!pay) return;
    change(*pay);
    write(state, payment_key(id), *pay);
}

v1::PaymentAllocation* allocation_of(v1::PaymentState& pay, const std::string& id) {
    for (auto& a : *pay.mutable_allocations())
        if (a.allocation_id() == id) return &a;
    return nullptr;
}

}  // namespace

bool is_process_manager_command(const v1::CommandEnvelope& c) {
    if (c.has_linked_run()) {
        for (const auto& inner : c.linked_run().commands())
            if (is_process_manager_command(inner)) return true;
        return false;
    }
    return c.has_record_invoice_number() || c.has_refuse_invoice_issue() || c.has_apply_allocation() || c.has_reverse_allocation() || c.has_number_invoice() ||
           c.has_confirm_allocation() || c.has_release_allocation() || c.has_replicate_security();
}

bool is_command(const v1::CommandEnvelope& command) {
    auto n = static_cast<int>(command.payload_case());
    return n >= 200 && n < 240;
}

bool is_event(const v1::EventEnvelope& event) {
    auto n = static_cast<int>(event.payload_case());
    return n >= 200 && n < 240;
}

std::optional<line_amounts> line_totals(const v1::InvoiceLine& line, bool prices_include_tax) {
    int128 amount = divide_rounded(int128(line.quantity_milli()) * line.unit_price_minor(), 1000);
    int128 net, tax, gross;
    if (prices_include_tax) {
        gross = amount;
        net = divide_rounded(gross * 10000, 10000 + line.tax_rate_bp());
        tax = gross - net;
    } else {
        net = amount;
        tax = divide_rounded(net * line.tax_rate_bp(), 10000);
        gross = net + tax;
    }
    if (!fits(net) || !fits(tax) || !fits(gross)) return std::nullopt;
    return line_amounts{static_cast<std::int64_t>(net), static_cast<std::int64_t>(tax), static_cast<std::int64_t>(gross)};
}

std::optional<v1::InvoiceState> find_invoice(const keyed_state& state, const std::string& invoice_id) {
    return events::parse_row<v1::InvoiceState>(state.get(invoice_key(invoice_id)));
}

std::optional<v1::PaymentState> find_payment(const keyed_state& state, const std::string& payment_id) {
    return events::parse_row<v1::PaymentState>(state.get(payment_key(payment_id)));
}

std::string posting_id(std::string_view kind, const std::string& id, const std::string& sub) {
    std::string out = std::string(kind) + ":" + id + (sub.empty() ? "" : ":" + sub);
    if (out.size() <= limits::id_bytes_max) return out;
    return std::string(kind) + ":h" + events::to_hex(events::sha256(out)).substr(0, 40);
}

std::string invoice_stream(const std::string& invoice_id) { return "invoice/" + invoice_id; }
std::string series_stream(const std::string& series_key) { return "series/" + series_key; }
std::string payment_stream(const std::string& payment_id) { return "payment/" + payment_id; }

v1::InvoiceStatus status_of(const v1::InvoiceState& inv) {
    if (inv.outstanding_minor() == 0) return v1::INVOICE_STATUS_PAID;
    bool paid_in_part = std::any_of(inv.allocations().begin(), inv.allocations().end(), [](const auto& a) { return !a.reversed(); });
    return paid_in_part ? v1::INVOICE_STATUS_PARTIALLY_PAID : v1::INVOICE_STATUS_ISSUED;
}

decided decide(const v1::CommandEnvelope& cmd, const keyed_state& state, const decide_context& ctx) {
    switch (cmd.payload_case()) {
        case C::kCreateInvoice: return decide_create(cmd.create_invoice(), state);
        case C::kIssueInvoice: return decide_issue(cmd.issue_invoice(), state);
        case C::kRecordInvoiceNumber: return decide_record_number(cmd.record_invoice_number(), state);
        case C::kVoidInvoice: return decide_void(cmd.void_invoice(), state, ctx);
        case C::kCreditInvoice: return decide_credit(cmd.credit_invoice(), state);
        case C::kApplyAllocation: return decide_apply(cmd.apply_allocation(), state);
        case C::kReverseAllocation: return decide_reverse(cmd.reverse_allocation(), state);
        case C::kRefuseInvoiceIssue: return decide_refuse_issue(cmd.refuse_invoice_issue(), state);
        case C::kNumberInvoice: return decide_assign(cmd.number_invoice(), state);
        case C::kAssignNumber:
            return reject(rejection_code::payload_missing, "assign_number",
                          "assign_number is retired: invoices are numbered by the book's register (number_invoice)");
        case C::kRegisterCounterparty: return decide_register_counterparty(cmd.register_counterparty(), state);
        case C::kSetTaxCode: return decide_set_tax_code(cmd.set_tax_code(), state);
        case C::kReceivePayment: return decide_receive(cmd.receive_payment(), state);
        case C::kAllocatePayment: return decide_allocate(cmd.allocate_payment(), state);
        case C::kConfirmAllocation: return decide_confirm(cmd.confirm_allocation(), state);
        case C::kReleaseAllocation: return decide_release(cmd.release_allocation(), state);
        case C::kRefundPayment: return decide_refund(cmd.refund_payment(), state);
        case C::kReturnPayment: return decide_return(cmd.return_payment(), state);
        default: return reject(rejection_code::payload_missing, "payload", "not an invoice, register or payment command");
    }
}

void evolve(keyed_state& state, const v1::EventEnvelope& e) {
    using E = v1::EventEnvelope;
    switch (e.payload_case()) {
        case E::kInvoiceDrafted: {
            v1::InvoiceState inv;
            *inv.mutable_draft() = e.invoice_drafted();
            inv.set_status(v1::INVOICE_STATUS_DRAFT);
            inv.set_outstanding_minor(e.invoice_drafted().gross_minor());
            write(state, invoice_key(e.invoice_drafted().invoice_id()), inv);
            break;
        }
        case E::kInvoiceIssueRequested:
            update_invoice(state, e.invoice_issue_requested().invoice_id(),
                           [](auto& inv) { inv.set_status(v1::INVOICE_STATUS_ISSUING); });
            break;
        case E::kInvoiceIssueRefused:
            update_invoice(state, e.invoice_issue_refused().invoice_id(), [&](auto& inv) {
                inv.set_status(v1::INVOICE_STATUS_DRAFT);
                *inv.mutable_issue_refusal() = e.invoice_issue_refused();
            });
            break;
        case E::kInvoiceIssued:
            update_invoice(state, e.invoice_issued().invoice_id(), [&](auto& inv) {
                const auto& i = e.invoice_issued();
                // The totals of the issue are the invoice's from now on (coded lines got their rates).
                auto* d = inv.mutable_draft();
                *d->mutable_lines() = i.lines();
                d->set_net_minor(i.net_minor());
                d->set_tax_minor(i.tax_minor());
                d->set_gross_minor(i.gross_minor());
                inv.set_outstanding_minor(i.gross_minor());
                inv.clear_issue_refusal();
                inv.set_number(i.number());
                inv.set_status(status_of(inv));
            });
            break;
        case E::kInvoiceVoided:
            update_invoice(state, e.invoice_voided().invoice_id(), [&](auto& inv) {
                inv.set_status(v1::INVOICE_STATUS_VOID);
                inv.set_outstanding_minor(0);
                inv.set_voided_date(e.invoice_voided().date());
            });
            break;
        case E::kInvoiceCredited:
            update_invoice(state, e.invoice_credited().invoice_id(), [&](auto& inv) {
                const auto& c = e.invoice_credited();
                auto* cn = inv.add_credits();
                cn->set_credit_note_id(c.credit_note_id());
                cn->set_gross_minor(c.gross_minor());
                cn->set_date(c.date());
                cn->set_tax_minor(c.tax_minor());
                inv.set_outstanding_minor(c.outstanding_minor());
                inv.set_status(status_of(inv));
            });
            break;
        case E::kAllocationApplied:
            update_invoice(state, e.allocation_applied().invoice_id(), [&](auto& inv) {
                const auto& a = e.allocation_applied();
                auto* al = inv.add_allocations();
                al->set_allocation_id(a.allocation_id());
                al->set_payment_id(a.payment_id());
                al->set_amount_minor(a.amount_minor());
                al->set_date(a.date());
                inv.set_outstanding_minor(a.outstanding_minor());
                inv.set_status(status_of(inv));
            });
            break;
        case E::kAllocationDeclined: break;  // the invoice is unchanged; the payment's saga compensates
        case E::kAllocationReversed:
            update_invoice(state, e.allocation_reversed().invoice_id(), [&](auto& inv) {
                const auto& r = e.allocation_reversed();
                for (auto& a : *inv.mutable_allocations())
                    if (a.allocation_id() == r.allocation_id() && a.payment_id() == r.payment_id()) {
                        a.set_reversed(true);
                        a.set_reversed_date(r.date());
                    }
                inv.set_outstanding_minor(r.outstanding_minor());
                inv.set_status(status_of(inv));
            });
            break;
        case E::kNumberAssigned: {
            const auto& n = e.number_assigned();
            auto row = series_key_row(n.series_key());
            v1::SeriesState s = events::parse_row<v1::SeriesState>(state.get(row)).value_or(v1::SeriesState{});
            if (n.number() > s.last_number()) s.set_last_number(n.number());
            write(state, row, s);
            state.put(series_number_key(n.series_key(), n.invoice_id()), events::be64(n.number()));
            break;
        }
        case E::kNumberRefused: break;  // the invoice goes back to draft; the register is unchanged
        case E::kCounterpartyRegistered: {
            const auto& r = e.counterparty_registered();
            write(state, register_prefix("cp", r.book_id(), r.counterparty_id()) + r.effective_from(), r);
            break;
        }
        case E::kTaxCodeSet: {
            const auto& t = e.tax_code_set();
            write(state, register_prefix("tax", t.book_id(), t.code()) + t.effective_from(), t);
            break;
        }
        case E::kPaymentRecorded: {
            v1::PaymentState pay;
            *pay.mutable_payment() = e.payment_recorded();
            pay.set_unallocated_minor(e.payment_recorded().amount_minor());
            write(state, payment_key(e.payment_recorded().payment_id()), pay);
            break;
        }
        case E::kAllocationRequested:
            update_payment(state, e.allocation_requested().payment_id(), [&](auto& pay) {
                const auto& r = e.allocation_requested();
                auto* a = pay.add_allocations();
                a->set_allocation_id(r.allocation_id());
                a->set_invoice_id(r.invoice_id());
                a->set_amount_minor(r.amount_minor());
                a->set_state(v1::ALLOCATION_STATE_PENDING);
                pay.set_unallocated_minor(pay.unallocated_minor() - r.amount_minor());
            });
            break;
        case E::kAllocationConfirmed:
            update_payment(state, e.allocation_confirmed().payment_id(), [&](auto& pay) {
                if (auto* a = allocation_of(pay, e.allocation_confirmed().allocation_id())) a->set_state(v1::ALLOCATION_STATE_CONFIRMED);
            });
            break;
        case E::kAllocationReleased:
            update_payment(state, e.allocation_released().payment_id(), [&](auto& pay) {
                if (auto* a = allocation_of(pay, e.allocation_released().allocation_id())) {
                    a->set_state(v1::ALLOCATION_STATE_RELEASED);
                    a->set_reason(e.allocation_released().reason());
                    pay.set_unallocated_minor(pay.unallocated_minor() + a->amount_minor());
                }
            });
            break;
        case E::kPaymentRefunded:
            update_payment(state, e.payment_refunded().payment_id(), [&](auto& pay) {
                pay.add_refund_ids(e.payment_refunded().refund_id());
                auto* r = pay.add_refunds();
                r->set_refund_id(e.payment_refunded().refund_id());
                r->set_amount_minor(e.payment_refunded().amount_minor());
                r->set_date(e.payment_refunded().date());
                pay.set_refunded_minor(pay.refunded_minor() + e.payment_refunded().amount_minor());
                pay.set_unallocated_minor(pay.unallocated_minor() - e.payment_refunded().amount_minor());
            });
            break;
        case E::kPaymentReturned:
            update_payment(state, e.payment_returned().payment_id(), [&](auto& pay) {
                pay.set_returned(true);
                pay.set_returned_date(e.payment_returned().date());
                for (auto& a : *pay.mutable_allocations())
                    if (a.state() == v1::ALLOCATION_STATE_CONFIRMED) a.set_state(v1::ALLOCATION_STATE_RETURNED);
                pay.set_unallocated_minor(0);
            });
            break;
        default: break;
    }
}

}  // namespace daybook::aggregates::billing
