#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <unistd.h>
#include <cstdio>
#include <map>
#include <thread>

#include "events/int128.h"
#include "app/options.h"
#include "events/codec.h"
#include "aggregates/payroll.h"
#include "aggregates/security.h"
#include "consumers/keystore.h"
#include "aggregates/validation.h"
#include "projections/billing_projection.h"
#include "projections/ledger_projection.h"

namespace daybook::app {
namespace {

// Minor units as a decimal amount with `scale` places, e.g. 123456 at scale 2 -> "1234.56".
std::string amount(int128 minor, std::uint32_t scale) {
    bool negative = minor < 0;
    std::string digits = to_decimal(negative ? -minor : minor);
    std::string out = negative ? "-" : "";
    if (scale == 0) return out + digits;
    if (digits.size() <= scale) digits = std::string(scale - digits.size() + 1, '0') + digits;
    out.append(digits, 0, digits.size() - scale);
    out.push_back('.');
    out.append(digits, digits.size() - scale, scale);
    return out;
}

std::string json_of(const google::protobuf::Message& m) { return events::to_json(m); }

const char* type_name(v1::AccountType t) {
    switch (t) {
        case v1::ACCOUNT_TYPE_ASSET: return "asset";
        case v1::ACCOUNT_TYPE_LIABILITY: return "liability";
        case v1::ACCOUNT_TYPE_EQUITY: return "equity";
        case v1::ACCOUNT_TYPE_REVENUE: return "revenue";
        case v1::ACCOUNT_TYPE_EXPENSE: return "expense";
        default: return "?";
    }
}

// Waits until the projection has applied every (partition, seq) of the token.
bool wait_for_token(projections::store& s, const std::string& token, int wait_ms) {
    auto wanted = events::parse_token(token);
    if (!wanted) return false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    for (;;) {
        s.catch_up();
        bool caught_up = true;
        for (const auto& [p, seq] : *wanted) {
            v1::PartitionPosition pos;
            if (auto raw = s.get(projections::position_key(p))) pos.ParseFromString(*raw);
            if (pos.seq() < seq) caught_up = false;
        }
        if (caught_up) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Available balance: what the account's constraint still lets through, pending holds counted;
// empty for an unconstrained account.
std::string available(const v1::ProjectedAccount& a) {
    const auto& c = a.constraints();
    int128 room;
    if (c.debits_must_not_exceed_credits())
        room = int128{a.credits_minor()} + c.limit_minor() - a.debits_minor() - a.debits_pending_minor();
    else if (c.credits_must_not_exceed_debits())
        room = int128{a.debits_minor()} + c.limit_minor() - a.credits_minor() - a.credits_pending_minor();
    else
        return "";
    return amount(room, a.scale());
}

void print_accounts(const std::vector<v1::ProjectedAccount>& accounts, bool json) {
    if (json) {
        for (const auto& a : accounts) std::printf("%s\n", json_of(a).c_str());
        return;
    }
    std::printf("%-12s %-24s %-9s %-4s %16s %16s %18s %14s %14s %14s %5s %s\n", "account", "name", "type", "ccy",
                "debits", "credits", "balance", "pending_dr", "pending_cr", "available", "lines", "status");
    for (const auto& a : accounts) {
        int128 balance = int128{a.debits_minor()} - a.credits_minor();
        std::printf("%-12s %-24.24s %-9s %-4s %16s %16s %18s %14s %14s %14s %5llu %s\n", a.account_id().c_str(),
                    a.name().c_str(), type_name(a.type()), a.currency().c_str(),
                    amount(a.debits_minor(), a.scale()).c_str(), amount(a.credits_minor(), a.scale()).c_str(),
                    (amount(balance < 0 ? -balance : balance, a.scale()) + (balance < 0 ? " Cr" : " Dr")).c_str(),
                    amount(a.debits_pending_minor(), a.scale()).c_str(),
                    amount(a.credits_pending_minor(), a.scale()).c_str(), available(a).c_str(),
                    static_cast<unsigned long long>(a.entry_count()), a.closed() ? "closed" : "open");
    }
}

// Sum of an account and all its descendants in the chart-of-accounts tree (same currency).
int128 rolled_up(const std::vector<v1::ProjectedAccount>& accounts, const std::string& id) {
    int128 sum = 0;
    for (const auto& a : accounts) {
        if (a.account_id() == id) sum += int128{a.debits_minor()} - a.credits_minor();
        else if (a.parent_account_id() == id) sum += rolled_up(accounts, a.account_id());
    }
    return sum;
}

// Currency scales of a book's accounts (billing documents carry a currency, not a scale).
std::uint32_t scale_of(const projections::store& s, const std::string& book, const std::string& currency) {
    for (const auto& acc : projections::list_accounts(s, book, "", 1000))
        if (acc.currency() == currency) return acc.scale();
    return 2;
}

int invoices(const projections::store& s, const query_args& a, bool json) {
    auto list = projections::list_invoices(s, a.book, v1::INVOICE_DIRECTION_UNSPECIFIED);
    if (json) {
        for (const auto& inv : list) std::printf("%s\n", json_of(inv).c_str());
        return 0;
    }
    std::printf("%-20s %-9s %-14s %6s %-12s %-10s %-10s %-4s %14s %14s  %s\n", "invoice", "direction", "counterparty", "number",
                "series", "issued", "due", "ccy", "gross", "outstanding", "status");
    for (const auto& inv : list) {
        const auto& d = inv.draft();
        auto scale = scale_of(s, a.book, d.currency());
        std::printf("%-20.20s %-9s %-14.14s %6llu %-12.12s %-10s %-10s %-4s %14s %14s  %s\n", d.invoice_id().c_str(),
                    d.direction() == v1::INVOICE_DIRECTION_CUSTOMER ? "customer" : "supplier", d.counterparty_id().c_str(),
                    static_cast<unsigned long long>(inv.number()), d.series_key().substr(d.series_key().find('/') + 1).c_str(),
                    d.issue_date().c_str(), d.due_date().c_str(), d.currency().c_str(), amount(d.gross_minor(), scale).c_str(),
                    amount(inv.outstanding_minor(), scale).c_str(),
                    (v1::InvoiceStatus_Name(inv.status()).substr(15) +
                     (inv.has_issue_refusal() ? " (issue refused: " + inv.issue_refusal().code_name() + ")" : ""))
                        .c_str());
    }
    return 0;
}

int approvals(const projections::store& s, bool json) {
    projections::overlay view(s, "");
    auto held = aggregates::security::held_commands(view, 100000);
    if (!json) std::printf("%-16s %-24s %-12s %-16s %-10s %s\n", "routing key", "command", "submitted by", "type", "expires", "why");
    for (const auto& [key, h] : held) {
        if (json) {
            auto body = json_of(h);
            body.pop_back();
            std::printf("%s,\"routing_key\":%s}\n", body.c_str(), events::json_string(key).c_str());
        } else {
            std::printf("%-16.16s %-24.24s %-12.12s %-16.16s %-10s %s\n", key.c_str(), h.command_id().c_str(), h.requested_by().c_str(),
                        h.command_name().c_str(), aggregates::utc_date(h.expires_at_ms()).c_str(), h.policy().c_str());
        }
    }
    return 0;
}

// Grants and segregation-of-duties conflicts; exit 1 when an actor may approve what they submit.
int security_report(const projections::store& s, bool json) {
    projections::overlay view(s, "");
    auto conflicts = aggregates::security::duty_conflicts(view);
    if (json) {
        for (const auto& g : aggregates::security::grants(view)) std::printf("%s\n", json_of(g).c_str());
        for (const auto& c : conflicts)
            std::printf("{\"conflict\":{\"actor\":%s,\"book_id\":%s,\"command\":%s,\"submit_role\":%s,\"approve_role\":%s}}\n",
                        events::json_string(c.actor).c_str(), events::json_string(c.book).c_str(), events::json_string(c.command).c_str(),
                        events::json_string(c.submit_role).c_str(), events::json_string(c.approve_role).c_str());
        return conflicts.empty() ? 0 : 1;
    }
    std::printf("permissions %s\n", view.get("secauth/enforced") ? "enforced" : "NOT enforced (any actor may submit any command)");
    std::printf("%-20s %-20s %s\n", "actor", "role", "book");
    for (const auto& g : aggregates::security::grants(view))
        std::printf("%-20.20s %-20.20s %s\n", g.actor().c_str(), g.role().c_str(), g.book_id().c_str());
    for (const auto& c : conflicts)
        std::printf("CONFLICT: %s may submit %s in %s (%s) and approve it (%s)\n", c.actor.c_str(), c.command.c_str(), c.book.c_str(),
                    c.submit_role.c_str(), c.approve_role.c_str());
    if (conflicts.empty()) std::printf("no actor may approve what they may submit\n");
    return conflicts.empty() ? 0 : 1;
}

// A read of personal data is first recorded in the log with its reader (record_access, as the
// HTTP API does): refused (no role for it, when permissions are enforced) or not recorded in
// time, nothing personal is shown.
bool record_read(const options& o, const std::string& what, const std::string& book, bool pay_data = false) {
    v1::CommandEnvelope c;
    c.set_command_id("read/cli/" + std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                                       std::chrono::system_clock::now().time_since_epoch()).count()) +
                     "/" + std::to_string(::getpid()));
    c.set_actor(cli_actor());
    c.set_source("client");
    auto* r = c.mutable_record_access();
    r->set_reader(cli_actor());
    r->set_what(what);
    r->set_book_id(book);
    r->set_pay_data(pay_data);
    auto outcome = submit_one(o, c, 10000);
    if (!outcome) return std::fprintf(stderr, "daybook query: the read could not be recorded: %s\n", outcome.error().c_str()), false;
    if (outcome->status() != v1::OUTCOME_STATUS_ACCEPTED)
        return std::fprintf(stderr, "daybook query: not permitted: %s: %s\n", outcome->code_name().c_str(), outcome->detail().c_str()), false;
    return true;
}

int register_list(const options& o, const projections::store& s, const query_args& a, bool json) {
    if (a.what == "counterparties") {
        if (!record_read(o, "counterparties of book " + a.book, a.book)) return 3;
        auto list = projections::counterparties(s, a.book, a.as_of);
        consumers::open_names(list, o.keystore_dir, o.master_key_file);  // names are sealed personal data
        if (!json) std::printf("%-20s %-32s %-8s %-8s %-7s %s\n", "counterparty", "name", "customer", "supplier", "blocked", "from");
        for (const auto& c : list) {
            if (json) std::printf("%s\n", json_of(c).c_str());
            else
                std::printf("%-20.20s %-32.32s %-8s %-8s %-7s %s\n", c.counterparty_id().c_str(), c.name().c_str(), c.customer() ? "yes" : "no",
                            c.supplier() ? "yes" : "no", c.blocked() ? "yes" : "no", c.effective_from().c_str());
        }
        return 0;
    }
    auto list = projections::tax_codes(s, a.book, a.as_of);
    if (!json) std::printf("%-20s %8s %-10s %s\n", "code", "rate", "from", "description");
    for (const auto& t : list) {
        if (json) std::printf("%s\n", json_of(t).c_str());
        else
            std::printf("%-20.20s %7s%% %-10s %s\n", t.code().c_str(), amount(t.rate_bp(), 2).c_str(), t.effective_from().c_str(),
                        t.description().c_str());
    }
    return 0;
}

// Employees and payroll runs: pay data, so the read is recorded first and needs a role with
// read_pay_data (aggregates/security.h), whether or not permissions are enforced.
int payroll(const options& o, const projections::store& s, const query_args& a, bool json) {
    if (!a.from.empty() && (a.from.size() != 7 || !aggregates::valid_date(a.from + "-01")))
        return std::fprintf(stderr, "daybook query: --period is YYYY-MM\n"), 2;
    if (!a.currency.empty() && a.from.empty()) return std::fprintf(stderr, "daybook query: --currency goes with --period (a preview)\n"), 2;
    if (!record_read(o, "payroll of book " + a.book + (a.from.empty() ? "" : " period " + a.from), a.book, true)) return 3;
    projections::overlay view(s, "");
    auto staff = aggregates::payroll::employees(view, a.book);
    consumers::open_names(staff, o.keystore_dir, o.master_key_file);  // names are sealed personal data
    auto runs = aggregates::payroll::runs(view, a.book);
    std::optional<v1::PayrollRunRecorded> preview;
    if (!a.from.empty() && !a.currency.empty()) preview = aggregates::payroll::preview(view, a.book, a.from, a.currency);
    if (json) {
        for (const auto& e : staff) std::printf("%s\n", json_of(e).c_str());
        for (const auto& r : runs)
            if (a.from.empty() || r.period() == a.from) std::printf("%s\n", json_of(r).c_str());
        if (preview) std::printf("{\"preview\":%s}\n", json_of(*preview).c_str());
        return 0;
    }
    std::printf("Employees of %s\n%-16s %-28s %-4s %16s %-10s %-10s %s\n", a.book.c_str(), "employee", "name", "ccy", "annual salary",
                "hired", "left", "paid through");
    for (const auto& e : staff) {
        const auto& h = e.hired();
        auto current = e.salaries().empty() ? 0 : e.salaries(e.salaries_size() - 1).annual_salary_minor();
        std::printf("%-16.16s %-28.28s %-4s %16s %-10s %-10s %s\n", h.employee_id().c_str(), h.name().c_str(), h.currency().c_str(),
                    amount(current, scale_of(s, a.book, h.currency())).c_str(), h.hire_date().c_str(), e.last_day().c_str(),
                    e.paid_through().c_str());
    }
    std::printf("\nPayroll runs\n%-20s %-7s %-4s %-10s %9s %16s\n", "run", "period", "ccy", "pay date", "employees", "gross");
    for (const auto& r : runs) {
        if (!a.from.empty() && r.period() != a.from) continue;
        const auto scale = scale_of(s, a.book, r.currency());
        std::printf("%-20.20s %-7s %-4s %-10s %9d %16s\n", r.run_id().c_str(), r.period().c_str(), r.currency().c_str(),
                    r.pay_date().c_str(), r.lines_size(), amount(r.total_minor(), scale).c_str());
        if (!a.from.empty())
            for (const auto& l : r.lines())
                std::printf("    %-16.16s %3u days %16s\n", l.employee_id().c_str(), l.days_paid(), amount(l.gross_minor(), scale).c_str());
    }
    if (preview) {
        const auto scale = scale_of(s, a.book, a.currency);
        std::printf("\nPreview: a run of %s in %s would pay %d employees %s (expected_total_minor %lld)\n", a.from.c_str(), a.currency.c_str(),
                    preview->lines_size(), amount(preview->total_minor(), scale).c_str(), static_cast<long long>(preview->total_minor()));
        for (const auto& l : preview->lines())
            std::printf("    %-16.16s %3u days %16s\n", l.employee_id().c_str(), l.days_paid(), amount(l.gross_minor(), scale).c_str());
    }
    return 0;
}

int aging(const projections::store& s, const query_args& a, bool json) {
    auto direction = a.direction == "supplier" ? v1::INVOICE_DIRECTION_SUPPLIER : v1::INVOICE_DIRECTION_CUSTOMER;
    auto rows = projections::aging(s, a.book, direction, a.as_of);
    if (!json)
        std::printf("%s aging of %s as of %s\n%-16s %-4s %12s %12s %12s %12s %12s %14s %14s\n",
                    direction == v1::INVOICE_DIRECTION_CUSTOMER ? "AR" : "AP", a.book.c_str(), a.as_of.c_str(), "counterparty",
                    "ccy", "current", "1-30", "31-60", "61-90", "over 90", "total", "unallocated");
    for (const auto& r : rows) {
        if (json) {
            std::printf("{\"counterparty\":\"%s\",\"currency\":\"%s\",\"current\":\"%s\",\"days_1_30\":\"%s\",\"days_31_60\":\"%s\","
                        "\"days_61_90\":\"%s\",\"over_90\":\"%s\",\"total\":\"%s\",\"unallocated\":\"%s\"}\n",
                        r.counterparty.c_str(), r.currency.c_str(), to_decimal(r.current).c_str(), to_decimal(r.days_1_30).c_str(),
                        to_decimal(r.days_31_60).c_str(), to_decimal(r.days_61_90).c_str(), to_decimal(r.over_90).c_str(),
                        to_decimal(r.total).c_str(), to_decimal(r.unallocated).c_str());
            continue;
        }
        auto scale = scale_of(s, a.book, r.currency);
        std::printf("%-16.16s %-4s %12s %12s %12s %12s %12s %14s %14s\n", r.counterparty.c_str(), r.currency.c_str(),
                    amount(r.current, scale).c_str(), amount(r.days_1_30, scale).c_str(), amount(r.days_31_60, scale).c_str(),
                    amount(r.days_61_90, scale).c_str(), amount(r.over_90, scale).c_str(), amount(r.total, scale).c_str(),
                    amount(r.unallocated, scale).c_str());
    }
    return 0;
}

int counterparty_statement(const projections::store& s, const query_args& a, bool json) {
    auto direction = a.direction == "supplier" ? v1::INVOICE_DIRECTION_SUPPLIER : v1::INVOICE_DIRECTION_CUSTOMER;
    auto st = projections::statement_of(s, a.book, direction, a.account, a.from, a.to);
    if (json) {
        for (const auto& l : st.lines)
            std::printf("{\"date\":\"%s\",\"kind\":\"%s\",\"document\":\"%s\",\"currency\":\"%s\",\"amount\":\"%s\",\"balance\":\"%s\"}\n",
                        l.date.c_str(), l.kind.c_str(), l.document.c_str(), l.currency.c_str(), to_decimal(l.amount).c_str(),
                        to_decimal(l.balance).c_str());
        return 0;
    }
    std::printf("Statement of %s %s in book %s, %s to %s\n", a.direction.c_str(), a.account.c_str(), a.book.c_str(),
                a.from.empty() ? "the start" : a.from.c_str(), a.to.empty() ? "now" : a.to.c_str());
    for (const auto& [currency, v] : st.opening)
        std::printf("%-10s %-12s %-20s %-4s %14s %14s\n", "", "opening", "", currency.c_str(), "",
                    amount(v, scale_of(s, a.book, currency)).c_str());
    for (const auto& l : st.lines) {
        auto scale = scale_of(s, a.book, l.currency);
        std::printf("%-10s %-12s %-20.20s %-4s %14s %14s\n", l.date.c_str(), l.kind.c_str(), l.document.c_str(),
                    l.currency.c_str(), amount(l.amount, scale).c_str(), amount(l.balance, scale).c_str());
    }
    for (const auto& [currency, v] : st.closing)
        std::printf("%-10s %-12s %-20s %-4s %14s %14s\n", "", "closing", "", currency.c_str(), "",
                    amount(v, scale_of(s, a.book, currency)).c_str());
    return 0;
}

// Exit 1 when a control account differs from its documents.
int reconcile(const projections::store& s, const query_args& a, bool json) {
    auto r = projections::reconcile(s, a.book);
    for (const auto& l : r.lines) {
        if (json)
            std::printf("{\"what\":\"%s\",\"currency\":\"%s\",\"ledger\":\"%s\",\"documents\":\"%s\",\"difference\":\"%s\"}\n",
                        l.what.c_str(), l.currency.c_str(), to_decimal(l.ledger).c_str(), to_decimal(l.documents).c_str(),
                        to_decimal(l.difference()).c_str());
        else
            std::printf("%-18s %-4s ledger %16s  documents %16s  difference %14s\n", l.what.c_str(), l.currency.c_str(),
                        to_decimal(l.ledger).c_str(), to_decimal(l.documents).c_str(), to_decimal(l.difference()).c_str());
    }
    for (const auto& f : r.in_flight) std::printf("in flight: %s\n", f.c_str());
    if (!json) std::printf("%s\n", r.balanced() ? "control accounts agree with the documents" : "DIFFERENCE: see above");
    return r.balanced() ? 0 : 1;
}

int holds(const projections::store& s, const query_args& a, bool json) {
    auto list = projections::list_holds(s, a.book);
    if (json) {
        for (const auto& h : list) std::printf("%s\n", json_of(h).c_str());
        return 0;
    }
    static const char* status[] = {"?", "open", "captured", "released", "expired"};
    std::printf("%-14s %-10s %-10s %-5s %14s %14s %14s %-9s %s\n", "hold", "debit", "credit", "ccy", "held",
                "captured", "released", "status", "expires_at_ms");
    for (const auto& ph : list) {
        const auto& h = ph.hold();
        std::printf("%-14s %-10s %-10s %-5s %14lld %14lld %14lld %-9s %lld\n", h.hold_id().c_str(),
                    h.debit_account_id().c_str(), h.credit_account_id().c_str(), h.currency().c_str(),
                    (long long)h.held_minor(), (long long)h.captured_minor(), (long long)ph.released_minor(),
                    status[std::min<int>(h.status(), 4)], (long long)h.expires_at_ms());
    }
    return 0;
}

int balance_sheet(const projections::store& s, const query_args& a, bool json) {
    auto sheets = projections::balance_sheet(s, a.book, a.as_of);
    if (sheets.empty()) return std::fprintf(stderr, "no accounts in book %s\n", a.book.c_str()), 1;
    for (const auto& t : sheets) {
        if (json) {
            std::printf("{\"book_id\":\"%s\",\"currency\":\"%s\",\"as_of\":\"%s\",\"assets\":\"%s\",\"liabilities\":\"%s\","
                        "\"equity\":\"%s\",\"net_income\":\"%s\",\"balanced\":%s}\n",
                        a.book.c_str(), t.currency.c_str(), a.as_of.c_str(), to_decimal(t.assets).c_str(),
                        to_decimal(t.liabilities).c_str(), to_decimal(t.equity).c_str(), to_decimal(t.net_income).c_str(),
                        t.balanced ? "true" : "false");
            continue;
        }
        std::printf("Balance sheet of book %s in %s as of %s\n", a.book.c_str(), t.currency.c_str(),
                    a.as_of.empty() ? "now" : a.as_of.c_str());
        std::printf("  %-24s %18s\n", "assets", amount(t.assets, t.scale).c_str());
        std::printf("  %-24s %18s\n", "liabilities", amount(t.liabilities, t.scale).c_str());
        std::printf("  %-24s %18s\n", "equity", amount(t.equity, t.scale).c_str());
        std::printf("  %-24s %18s\n", "net income (unclosed)", amount(t.net_income, t.scale).c_str());
        std::printf("  %-24s %18s  %s\n", "liabilities+equity+NI", amount(t.liabilities + t.equity + t.net_income, t.scale).c_str(),
                    t.balanced ? "balanced" : "NOT BALANCED");
    }
    return 0;
}

int income_statement(const projections::store& s, const query_args& a, bool json) {
    if (!json)
        std::printf("Income statement of book %s from %s to %s\n", a.book.c_str(),
                    a.from.empty() ? "the beginning" : a.from.c_str(), a.to.empty() ? "now" : a.to.c_str());
    for (const auto& t : projections::income_statement(s, a.book, a.from, a.to)) {
        if (json) {
            std::printf("{\"book_id\":\"%s\",\"currency\":\"%s\",\"from\":\"%s\",\"to\":\"%s\",\"revenue\":\"%s\","
                        "\"expenses\":\"%s\",\"net_income\":\"%s\"}\n",
                        a.book.c_str(), t.currency.c_str(), a.from.c_str(), a.to.c_str(), to_decimal(t.revenue).c_str(),
                        to_decimal(t.expenses).c_str(), to_decimal(t.revenue - t.expenses).c_str());
            continue;
        }
        for (const auto& l : t.lines)
            std::printf("  %-8s %-12s %-28.28s %18s\n", l.account.type() == v1::ACCOUNT_TYPE_REVENUE ? "revenue" : "expense",
                        l.account.account_id().c_str(), l.account.name().c_str(), amount(l.amount, t.scale).c_str());
        std::printf("  %s: revenue %s - expenses %s = net income %s\n", t.currency.c_str(), amount(t.revenue, t.scale).c_str(),
                    amount(t.expenses, t.scale).c_str(), amount(t.revenue - t.expenses, t.scale).c_str());
    }
    return 0;
}

int trial_balance(const projections::store& s, const query_args& a, std::optional<std::int64_t> known_at, bool json) {
    auto rows = projections::trial_balance(s, a.book);
    auto accounts = projections::accounts_as_of(s, a.book, a.as_of, known_at);
    if (rows.empty()) {
        std::fprintf(stderr, "no accounts in book %s\n", a.book.c_str());
        return 1;
    }
    // Dated or known-at: the totals are those of the accounts shown, not today's.
    if (!a.as_of.empty() || known_at) rows = accounts.empty() ? decltype(rows){} : projections::trial_balance_of(accounts);
    if (json) {
        for (const auto& r : rows) std::printf("%s\n", json_of(r).c_str());
        return 0;
    }
    std::printf("Trial balance of book %s%s%s%s%s\n", a.book.c_str(), a.as_of.empty() ? "" : " as of ", a.as_of.c_str(),
                known_at ? " as known at " : "", known_at ? a.known_at.c_str() : "");
    std::printf("%-12s %-28s %-5s %18s %18s %20s\n", "account", "name", "ccy", "debit", "credit", "with sub-accounts");
    for (const auto& acc : accounts) {
        int128 balance = int128{acc.debits_minor()} - acc.credits_minor();
        std::string dr = balance > 0 ? amount(balance, acc.scale()) : "";
        std::string cr = balance < 0 ? amount(-balance, acc.scale()) : "";
        bool has_children = false;
        for (const auto& other : accounts) has_children |= other.parent_account_id() == acc.account_id();
        int128 tree = rolled_up(accounts, acc.account_id());
        std::string rollup = has_children ? amount(tree < 0 ? -tree : tree, acc.scale()) + (tree < 0 ? " Cr" : " Dr") : "";
        std::string label = (acc.parent_account_id().empty() ? "" : "  ") + acc.account_id();
        std::printf("%-12s %-28.28s %-5s %18s %18s %20s\n", label.c_str(), acc.name().c_str(),
                    acc.currency().c_str(), dr.c_str(), cr.c_str(), rollup.c_str());
    }
    for (const auto& r : rows) {
        std::uint32_t scale = 0;
        for (const auto& acc : accounts)
            if (acc.currency() == r.currency()) scale = acc.scale();
        int128 d = parse_decimal(r.debits_minor()), c = parse_decimal(r.credits_minor());
        std::printf("%-12s %-28s %-5s %18s %18s  %s\n", "total", "(posted debits / credits)", r.currency().c_str(),
                    amount(d, scale).c_str(), amount(c, scale).c_str(), d == c ? "balanced" : "NOT BALANCED");
    }
    return 0;
}

}  // namespace

// One report from one store; known_at only for the reports that answer it online.
int answer(const options& o, const query_args& a, const projections::store& store, std::optional<std::int64_t> known_at) {
    bool json = a.format == "json";
    if (a.what == "balance") {
        auto b = projections::find_balance(store, a.book, a.account);
        if (!b) return std::fprintf(stderr, "no account %s in book %s\n", a.account.c_str(), a.book.c_str()), 1;
        if (!a.as_of.empty() || known_at) {
            auto dated = projections::accounts_as_of(store, a.book, a.as_of, known_at);
            auto it = std::find_if(dated.begin(), dated.end(), [&](const auto& acc) { return acc.account_id() == a.account; });
            if (it == dated.end())
                return std::fprintf(stderr, "account %s of book %s was not open at %s\n", a.account.c_str(), a.book.c_str(), a.known_at.c_str()), 1;
            b = *it;
        }
        print_accounts({*b}, json);
    } else if (a.what == "invoices") {
        return invoices(store, a, json);
    } else if (a.what == "aging") {
        return aging(store, a, json);
    } else if (a.what == "counterparty") {
        return counterparty_statement(store, a, json);
    } else if (a.what == "approvals") {
        return approvals(store, json);
    } else if (a.what == "security") {
        return security_report(store, json);
    } else if (a.what == "payroll") {
        return payroll(o, store, a, json);
    } else if (a.what == "counterparties" || a.what == "tax-codes") {
        return register_list(o, store, a, json);
    } else if (a.what == "reconcile") {
        return reconcile(store, a, json);
    } else if (a.what == "holds") {
        return holds(store, a, json);
    } else if (a.what == "balance-sheet") {
        return balance_sheet(store, a, json);
    } else if (a.what == "income-statement") {
        return income_statement(store, a, json);
    } else if (a.what == "accounts") {
        print_accounts(projections::list_accounts(store, a.book), json);
    } else if (a.what == "trial-balance") {
        return trial_balance(store, a, known_at, json);
    } else if (a.what == "statement") {
        auto acc = projections::find_balance(store, a.book, a.account);
        if (!acc) return std::fprintf(stderr, "no account %s in book %s\n", a.account.c_str(), a.book.c_str()), 1;
        auto lines = projections::statement(store, a.book, a.account, a.after, a.limit);
        if (json) {
            for (const auto& l : lines) std::printf("%s\n", json_of(l).c_str());
        } else {
            std::printf("Statement of %s %s (%s)\n", a.book.c_str(), a.account.c_str(), acc->name().c_str());
            std::printf("%6s %-10s %-16s %-30s %16s %16s %18s\n", "line", "date", "entry", "memo", "debit", "credit",
                        "balance");
            for (const auto& l : lines) {
                auto amt = amount(l.amount_minor(), acc->scale());
                std::printf("%6llu %-10s %-16.16s %-30.30s %16s %16s %18s\n", static_cast<unsigned long long>(l.line()),
                            l.effective_date().c_str(), l.entry_id().c_str(), l.memo().c_str(),
                            l.side() == v1::SIDE_DEBIT ? amt.c_str() : "", l.side() == v1::SIDE_CREDIT ? amt.c_str() : "",
                            amount(l.balance_minor(), acc->scale()).c_str());
            }
        }
        if (lines.size() == a.limit)
            std::fprintf(stderr, "more lines: --after %llu\n", static_cast<unsigned long long>(lines.back().line()));
    } else if (a.what == "entry") {
        auto e = projections::find_entry(store, a.book, a.entry);
        if (!e) return std::fprintf(stderr, "no entry %s in book %s\n", a.entry.c_str(), a.book.c_str()), 1;
        std::printf("%s\n", json_of(*e).c_str());
    } else if (a.what == "state-digest") {
        std::string positions;
        store.scan("pos/", [&](std::string_view k, std::string_view v) {
            v1::PartitionPosition pos;
            pos.ParseFromArray(v.data(), static_cast<int>(v.size()));
            positions += (positions.empty() ? "" : ",") +
                         std::to_string(events::read_be64(std::string(4, '\0') + std::string(k.substr(4)))) + ":" +
                         std::to_string(pos.seq());
            return true;
        });
        std::printf("state digest %s (%s) at %s\n", projections::state_digest(store).c_str(), o.processor.software_version.c_str(),
                    positions.c_str());
    } else if (a.what == "digest") {
        std::printf("%s\n", projections::state_digest(store).c_str());
    }
    return 0;
}

int run_query(const options& o, const query_args& a) {
    auto s = open_projection_reader(o);
    if (!s) return std::fprintf(stderr, "daybook query: %s\n", s.error().c_str()), 2;
    auto& store = **s;
    store.catch_up();
    if (!a.token.empty() && !wait_for_token(store, a.token, a.wait_ms)) {
        std::fprintf(stderr, "daybook query: the projection has not reached token %s within %d ms\n", a.token.c_str(),
                     a.wait_ms);
        return 2;
    }
    std::optional<std::int64_t> known_at;
    if (!a.known_at.empty() && !(known_at = aggregates::parse_instant(a.known_at)))
        return std::fprintf(stderr, "daybook query: --known-at is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm]Z or epoch ms\n"), 2;
    if (!known_at || a.what == "balance" || a.what == "trial-balance") return answer(o, a, store, known_at);
    // Every other report as known then: from a replay of the log up to that time, in a
    // temporary store (recorded_at never decreases within a partition, so it is a prefix).
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / ("daybook-known-at-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    int status = 2;
    {
        auto then = projections::store::open(dir.string(), o.store);
        if (!then) return std::fprintf(stderr, "daybook query: %s\n", then.error().c_str()), 2;
        if (auto applied = replay_into(o, "", **then, {}, known_at); !applied)
            std::fprintf(stderr, "daybook query: the replay to %s failed: %s\n", a.known_at.c_str(), applied.error().c_str());
        else
            status = answer(o, a, **then, std::nullopt);
    }
    fs::remove_all(dir);
    return status;
}

}  // namespace daybook::app
