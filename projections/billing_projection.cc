#include "projections/billing_projection.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <set>

#include "aggregates/billing.h"
#include "aggregates/validation.h"
#include "events/codec.h"
#include "projections/ledger_projection.h"

namespace daybook::projections {
namespace {

std::string index_key(std::string_view kind, const std::string& book, const std::string& id) {
    std::string k(kind);
    k += book;
    k += '\0';
    return k + id;
}

template <typename M>
std::optional<M> row(const store& s, const std::string& key) {
    auto raw = s.get(key);
    if (!raw) return std::nullopt;
    M m;
    if (!m.ParseFromString(*raw)) return std::nullopt;
    return m;
}

// Ids listed under an index prefix, in order.
std::vector<std::string> indexed(const store& s, std::string_view kind, const std::string& book) {
    std::vector<std::string> ids;
    auto prefix = index_key(kind, book, "");
    s.scan(prefix, [&](std::string_view k, std::string_view) {
        ids.emplace_back(k.substr(prefix.size()));
        return true;
    });
    return ids;
}

bool issued(const v1::InvoiceState& inv) { return inv.number() > 0; }

// Register rows billing/<table>/<book>\0<id>\0<effective_from>, all versions or those of `as_of`.
template <typename M>
std::vector<M> register_rows(const store& s, std::string_view table, const std::string& book, const std::string& as_of) {
    std::vector<std::pair<std::string, M>> versions;  // (id, version), in key order
    std::string prefix = "billing/" + std::string(table) + "/" + book;
    prefix += '\0';
    s.scan(prefix, [&](std::string_view k, std::string_view v) {
        auto rest = k.substr(prefix.size());
        auto cut = rest.find('\0');
        if (cut == std::string_view::npos) return true;
        M m;
        if (!m.ParseFromString(std::string(v))) return true;
        std::string id(rest.substr(0, cut)), date(rest.substr(cut + 1));
        if (!as_of.empty() && date > as_of) return true;
        if (!as_of.empty() && !versions.empty() && versions.back().first == id) versions.pop_back();  // a later version
        versions.emplace_back(std::move(id), std::move(m));
        return true;
    });
    std::vector<M> out;
    for (auto& [id, m] : versions) out.push_back(std::move(m));
    return out;
}

}  // namespace

std::vector<v1::CounterpartyRegistered> counterparties(const store& s, const std::string& book, const std::string& as_of) {
    return register_rows<v1::CounterpartyRegistered>(s, "cp", book, as_of);
}

std::vector<v1::TaxCodeSet> tax_codes(const store& s, const std::string& book, const std::string& as_of) {
    return register_rows<v1::TaxCodeSet>(s, "tax", book, as_of);
}

void apply_billing_event(events::keyed_state& rows, const v1::EventEnvelope& e) {
    aggregates::billing::evolve(rows, e);
    if (e.has_invoice_drafted())
        rows.put(index_key("binv/", e.invoice_drafted().book_id(), e.invoice_drafted().invoice_id()), "");
    if (e.has_payment_recorded())
        rows.put(index_key("bpay/", e.payment_recorded().book_id(), e.payment_recorded().payment_id()), "");
}

void apply_account_mapping(events::keyed_state& rows, const v1::AccountMappingSet& m) {
    for (const auto& r : m.accounts()) {
        std::string k = index_key("map/", m.book_id(), std::string(1, static_cast<char>(r.role())));
        k += '\0';
        rows.put(k + m.effective_from(), r.account_id());
    }
}

std::vector<v1::InvoiceState> list_invoices(const store& s, const std::string& book, v1::InvoiceDirection direction) {
    std::vector<v1::InvoiceState> out;
    for (const auto& id : indexed(s, "binv/", book))
        if (auto inv = find_invoice(s, id); inv && (direction == v1::INVOICE_DIRECTION_UNSPECIFIED || inv->draft().direction() == direction))
            out.push_back(std::move(*inv));
    return out;
}

std::optional<v1::InvoiceState> find_invoice(const store& s, const std::string& invoice_id) {
    return row<v1::InvoiceState>(s, "billing/inv/" + invoice_id);
}

std::vector<v1::PaymentState> list_payments(const store& s, const std::string& book) {
    std::vector<v1::PaymentState> out;
    for (const auto& id : indexed(s, "bpay/", book))
        if (auto p = find_payment(s, id)) out.push_back(std::move(*p));
    return out;
}

std::optional<v1::PaymentState> find_payment(const store& s, const std::string& payment_id) {
    return row<v1::PaymentState>(s, "billing/pay/" + payment_id);
}

std::int64_t outstanding_as_of(const v1::InvoiceState& inv, const std::string& date) {
    if (!issued(inv) || inv.draft().issue_date() > date) return 0;
    if (inv.status() == v1::INVOICE_STATUS_VOID && inv.voided_date() <= date) return 0;
    std::int64_t out = inv.draft().gross_minor();
    for (const auto& c : inv.credits())
        if (c.date() <= date) out -= c.gross_minor();
    for (const auto& a : inv.allocations())
        if (a.date() <= date && !(a.reversed() && a.reversed_date() <= date)) out -= a.amount_minor();
    return out;
}

std::vector<aging_row> aging(const store& s, const std::string& book, v1::InvoiceDirection direction, const std::string& as_of) {
    std::map<std::pair<std::string, std::string>, aging_row> rows;
    const auto today = aggregates::day_number(as_of);
    for (const auto& inv : list_invoices(s, book, direction)) {
        auto open = outstanding_as_of(inv, as_of);
        if (open == 0) continue;
        auto& r = rows[{inv.draft().counterparty_id(), inv.draft().currency()}];
        auto late = today - aggregates::day_number(inv.draft().due_date());
        (late <= 0 ? r.current : late <= 30 ? r.days_1_30 : late <= 60 ? r.days_31_60 : late <= 90 ? r.days_61_90 : r.over_90) += open;
        r.total += open;
    }
    const auto payments = direction == v1::INVOICE_DIRECTION_CUSTOMER ? v1::PAYMENT_DIRECTION_RECEIVED : v1::PAYMENT_DIRECTION_SENT;
    for (const auto& p : list_payments(s, book)) {
        if (p.payment().direction() != payments || p.returned() || p.payment().date() > as_of || p.unallocated_minor() == 0) continue;
        rows[{p.payment().counterparty_id(), p.payment().currency()}].unallocated += p.unallocated_minor();
    }
    std::vector<aging_row> out;
    for (auto& [key, r] : rows) {
        r.counterparty = key.first;
        r.currency = key.second;
        out.push_back(r);
    }
    return out;
}

counterparty_statement statement_of(const store& s, const std::string& book, v1::InvoiceDirection direction,
                                    const std::string& counterparty, const std::string& from, const std::string& to) {
    std::vector<statement_line> all;
    auto add = [&](std::string date, std::string kind, std::string document, std::string currency, int128 amount) {
        if (amount != 0) all.push_back({std::move(date), std::move(kind), std::move(document), std::move(currency), amount, 0});
    };
    const bool customer = direction == v1::INVOICE_DIRECTION_CUSTOMER;
    for (const auto& inv : list_invoices(s, book, direction)) {
        const auto& d = inv.draft();
        if (d.counterparty_id() != counterparty || !issued(inv)) continue;
        add(d.issue_date(), customer ? "invoice" : "bill", d.invoice_id(), d.currency(), d.gross_minor());
        for (const auto& c : inv.credits()) add(c.date(), "credit_note", c.credit_note_id(), d.currency(), -c.gross_minor());
        if (inv.status() == v1::INVOICE_STATUS_VOID) add(inv.voided_date(), "void", d.invoice_id(), d.currency(), -d.gross_minor());
    }
    const auto payments = customer ? v1::PAYMENT_DIRECTION_RECEIVED : v1::PAYMENT_DIRECTION_SENT;
    for (const auto& p : list_payments(s, book)) {
        const auto& pay = p.payment();
        if (pay.direction() != payments || pay.counterparty_id() != counterparty) continue;
        add(pay.date(), "payment", pay.payment_id(), pay.currency(), -pay.amount_minor());
        for (const auto& r : p.refunds()) add(r.date(), "refund", r.refund_id(), pay.currency(), r.amount_minor());
        if (p.returned()) add(p.returned_date(), "returned", pay.payment_id(), pay.currency(), pay.amount_minor() - p.refunded_minor());
    }
    // Within a day: documents first, then what reduces or restores them.
    auto rank = [](const std::string& kind) {
        static const std::vector<std::string> order{"invoice", "bill", "credit_note", "void", "payment", "refund", "returned"};
        return std::find(order.begin(), order.end(), kind) - order.begin();
    };
    std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
        return std::tuple(a.date, rank(a.kind), a.document) < std::tuple(b.date, rank(b.kind), b.document);
    });
    counterparty_statement out;
    for (auto& l : all) {
        if (!to.empty() && l.date > to) continue;
        if (!from.empty() && l.date < from) {
            out.opening[l.currency] += l.amount;
            continue;
        }
        if (!out.closing.count(l.currency)) out.closing[l.currency] = out.opening[l.currency];
        l.balance = out.closing[l.currency] += l.amount;
        out.lines.push_back(l);
    }
    for (const auto& [currency, amount] : out.opening)
        if (!out.closing.count(currency)) out.closing[currency] = amount;
    return out;
}

std::vector<v1::EventEnvelope> refused_postings(const store& s, std::size_t limit) {
    std::vector<v1::EventEnvelope> out;
    s.scan("refused/", [&](std::string_view, std::string_view v) {
        out.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
        return out.size() < limit;
    });
    return out;
}

bool reconciliation::balanced() const {
    for (const auto& l : lines)
        if (l.difference() != 0) return false;
    return true;
}

reconciliation reconcile(const store& s, const std::string& book) {
    reconciliation out;
    // Accounts ever mapped to a role (a remapped role keeps its old account's balance).
    auto accounts_of = [&](v1::AccountRole role) {
        std::set<std::string> ids;
        s.scan(index_key("map/", book, std::string(1, static_cast<char>(role))) + '\0', [&](std::string_view, std::string_view v) {
            ids.emplace(v);
            return true;
        });
        return ids;
    };
    std::map<std::pair<std::string, std::string>, reconciliation_line> lines;
    auto ledger_side = [&](const std::string& what, v1::AccountRole role) {
        for (const auto& id : accounts_of(role))
            if (auto a = find_balance(s, book, id)) {
                auto& l = lines[{what, a->currency()}];
                l.ledger += normal_balance(*a);
            }
    };
    ledger_side("receivable", v1::ACCOUNT_ROLE_RECEIVABLE);
    ledger_side("payable", v1::ACCOUNT_ROLE_PAYABLE);
    ledger_side("customer_advances", v1::ACCOUNT_ROLE_CUSTOMER_ADVANCES);
    ledger_side("supplier_advances", v1::ACCOUNT_ROLE_SUPPLIER_ADVANCES);
    auto entry_missing = [&](const std::string& entry) { return !find_entry(s, book, entry); };
    for (const auto& inv : list_invoices(s, book, v1::INVOICE_DIRECTION_UNSPECIFIED)) {
        const auto& d = inv.draft();
        if (inv.status() == v1::INVOICE_STATUS_ISSUING) out.in_flight.push_back("invoice " + d.invoice_id() + ": number pending");
        if (!issued(inv)) continue;
        bool customer = d.direction() == v1::INVOICE_DIRECTION_CUSTOMER;
        if (inv.status() != v1::INVOICE_STATUS_VOID) lines[{customer ? "receivable" : "payable", d.currency()}].documents += inv.outstanding_minor();
        if (d.gross_minor() > 0 && entry_missing(aggregates::billing::posting_id("inv", d.invoice_id()))) out.in_flight.push_back("invoice " + d.invoice_id() + ": not posted");
        if (inv.status() == v1::INVOICE_STATUS_VOID && d.gross_minor() > 0 && entry_missing(aggregates::billing::posting_id("inv", d.invoice_id(), "void")))
            out.in_flight.push_back("invoice " + d.invoice_id() + ": void not posted");
        for (const auto& c : inv.credits())
            if (entry_missing(aggregates::billing::posting_id("cn", d.invoice_id(), c.credit_note_id())))
                out.in_flight.push_back("credit note " + c.credit_note_id() + ": not posted");
    }
    for (const auto& p : list_payments(s, book)) {
        const auto& pay = p.payment();
        bool received = pay.direction() == v1::PAYMENT_DIRECTION_RECEIVED;
        std::int64_t pending = 0;
        for (const auto& a : p.allocations()) {
            if (a.state() == v1::ALLOCATION_STATE_PENDING) {
                pending += a.amount_minor();
                out.in_flight.push_back("allocation " + a.allocation_id() + " of payment " + pay.payment_id() + ": pending");
            }
            if (a.state() == v1::ALLOCATION_STATE_CONFIRMED && entry_missing(aggregates::billing::posting_id("alloc", pay.payment_id(), a.allocation_id())))
                out.in_flight.push_back("allocation " + a.allocation_id() + " of payment " + pay.payment_id() + ": not posted");
        }
        if (entry_missing(aggregates::billing::posting_id("pay", pay.payment_id()))) out.in_flight.push_back("payment " + pay.payment_id() + ": not posted");
        for (const auto& r : p.refunds())
            if (entry_missing(aggregates::billing::posting_id("ref", pay.payment_id(), r.refund_id())))
                out.in_flight.push_back("refund " + r.refund_id() + " of payment " + pay.payment_id() + ": not posted");
        if (p.returned()) {
            // Nothing is posted for a return when everything had been refunded.
            if (pay.amount_minor() > p.refunded_minor() && entry_missing(aggregates::billing::posting_id("ret", pay.payment_id())))
                out.in_flight.push_back("payment " + pay.payment_id() + ": return not posted");
            for (const auto& a : p.allocations()) {
                if (a.state() != v1::ALLOCATION_STATE_RETURNED) continue;
                auto inv = find_invoice(s, a.invoice_id());
                bool undone = inv && std::any_of(inv->allocations().begin(), inv->allocations().end(), [&](const auto& x) {
                                  return x.allocation_id() == a.allocation_id() && x.payment_id() == pay.payment_id() && x.reversed();
                              });
                if (!undone)
                    out.in_flight.push_back("allocation " + a.allocation_id() + " of returned payment " + pay.payment_id() +
                                            ": not yet undone on " + a.invoice_id());
            }
            continue;
        }
        lines[{received ? "customer_advances" : "supplier_advances", pay.currency()}].documents += p.unallocated_minor() + pending;
    }
    for (auto& [key, l] : lines) {
        l.what = key.first;
        l.currency = key.second;
        out.lines.push_back(l);
    }
    return out;
}

}  // namespace daybook::projections
