// Invoices, numbering series and payments as specifications: given events, when a command, then
// events or a rejection (code and field). The rule order is the one in aggregates/billing.h.
// Also: the process managers' follow-up commands for each event (consumers/billing_manager.h).

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "aggregates/billing.h"
#include "consumers/billing_manager.h"
#include "events/keyed_state.h"
#include "events/limits.h"
#include "aggregates/validation.h"

namespace {

using namespace daybook;
namespace billing = aggregates::billing;
using history_t = std::vector<v1::EventEnvelope>;

constexpr std::int64_t now_ms = 1'795'400'000'000;  // 2026-11-23

events::memory_state given(const history_t& history) {
    events::memory_state state;
    for (const auto& e : history) billing::evolve(state, e);
    return state;
}

result<history_t> when(const history_t& history, const v1::CommandEnvelope& cmd) {
    auto state = given(history);
    return billing::decide(cmd, state, aggregates::decide_context{now_ms, "alice"});
}

template <typename Fill>
v1::CommandEnvelope command(Fill&& fill) {
    v1::CommandEnvelope c;
    c.set_command_id("c");
    fill(c);
    return c;
}

v1::InvoiceLine line(std::int64_t quantity_milli, std::int64_t price, std::uint32_t rate_bp, std::string account = "") {
    v1::InvoiceLine l;
    l.set_description("item");
    l.set_quantity_milli(quantity_milli);
    l.set_unit_price_minor(price);
    l.set_tax_rate_bp(rate_bp);
    l.set_account_id(std::move(account));
    return l;
}

v1::CommandEnvelope create(std::function<void(v1::CreateInvoice&)> change = {}) {
    return command([&](auto& c) {
        auto* i = c.mutable_create_invoice();
        i->set_invoice_id("inv-1");
        i->set_book_id("acme");
        i->set_direction(v1::INVOICE_DIRECTION_CUSTOMER);
        i->set_counterparty_id("cust-1");
        i->set_currency("EUR");
        i->set_issue_date("2026-11-02");
        i->set_payment_terms_days(30);
        *i->add_lines() = line(3000, 1999, 1900);   // 59.97 net, 11.39 tax
        *i->add_lines() = line(1500, 8000, 1900);   // 120.00 net, 22.80 tax
        if (change) change(*i);
    });
}

// The events of a command that must be accepted.
history_t accepted(const history_t& history, const v1::CommandEnvelope& cmd) {
    auto r = when(history, cmd);
    INFO((r ? std::string("accepted") : std::string(name_of(r.error().code)) + " " + r.error().detail));
    REQUIRE(r.has_value());
    return *r;
}

history_t plus(history_t a, const history_t& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

v1::CommandEnvelope issue(const std::string& id = "inv-1") {
    return command([&](auto& c) { c.mutable_issue_invoice()->set_invoice_id(id); });
}
v1::CommandEnvelope record_number(std::uint64_t n, const std::string& series = "acme/default") {
    return command([&](auto& c) {
        c.mutable_record_invoice_number()->set_invoice_id("inv-1");
        c.mutable_record_invoice_number()->set_series_key(series);
        c.mutable_record_invoice_number()->set_number(n);
    });
}
v1::CommandEnvelope apply(std::int64_t amount, const std::string& allocation = "a1", const std::string& currency = "EUR",
                          const std::string& invoice = "inv-1") {
    return command([&](auto& c) {
        auto* a = c.mutable_apply_allocation();
        a->set_invoice_id(invoice);
        a->set_payment_id("pay-1");
        a->set_allocation_id(allocation);
        a->set_amount_minor(amount);
        a->set_currency(currency);
        a->set_date("2026-11-10");
        a->set_book_id("acme");
        a->set_direction(v1::PAYMENT_DIRECTION_RECEIVED);
        a->set_counterparty_id("cust-1");
    });
}
v1::CommandEnvelope credit(std::int64_t gross, const std::string& id = "cn-1") {
    return command([&](auto& c) {
        auto* r = c.mutable_credit_invoice();
        r->set_invoice_id("inv-1");
        r->set_credit_note_id(id);
        r->set_gross_minor(gross);
        r->set_date("2026-11-12");
    });
}
v1::CommandEnvelope void_invoice() {
    return command([&](auto& c) { c.mutable_void_invoice()->set_invoice_id("inv-1"); });
}

history_t drafted() { return accepted({}, create()); }
history_t issuing() { return plus(drafted(), accepted(drafted(), issue())); }
history_t issued() { return plus(issuing(), accepted(issuing(), record_number(1))); }

v1::CommandEnvelope receive(std::int64_t amount = 20000, std::function<void(v1::ReceivePayment&)> change = {}) {
    return command([&](auto& c) {
        auto* p = c.mutable_receive_payment();
        p->set_payment_id("pay-1");
        p->set_book_id("acme");
        p->set_direction(v1::PAYMENT_DIRECTION_RECEIVED);
        p->set_counterparty_id("cust-1");
        p->set_amount_minor(amount);
        p->set_currency("EUR");
        p->set_date("2026-11-10");
        if (change) change(*p);
    });
}
v1::CommandEnvelope allocate(std::vector<std::pair<std::string, std::int64_t>> amounts) {
    return command([&](auto& c) {
        auto* a = c.mutable_allocate_payment();
        a->set_payment_id("pay-1");
        for (const auto& [id, amount] : amounts) {
            auto* r = a->add_allocations();
            r->set_allocation_id(id);
            r->set_invoice_id("inv-1");
            r->set_amount_minor(amount);
        }
    });
}
v1::CommandEnvelope confirm(const std::string& id) {
    return command([&](auto& c) {
        c.mutable_confirm_allocation()->set_payment_id("pay-1");
        c.mutable_confirm_allocation()->set_allocation_id(id);
    });
}
v1::CommandEnvelope release(const std::string& id) {
    return command([&](auto& c) {
        c.mutable_release_allocation()->set_payment_id("pay-1");
        c.mutable_release_allocation()->set_allocation_id(id);
    });
}
v1::CommandEnvelope refund(std::int64_t amount, const std::string& id = "r1") {
    return command([&](auto& c) {
        auto* r = c.mutable_refund_payment();
        r->set_payment_id("pay-1");
        r->set_refund_id(id);
        r->set_amount_minor(amount);
        r->set_date("2026-11-20");
    });
}
v1::CommandEnvelope return_payment() {
    return command([&](auto& c) {
        c.mutable_return_payment()->set_payment_id("pay-1");
        c.mutable_return_payment()->set_date("2026-11-21");
    });
}

history_t received() { return accepted({}, receive()); }

#define REQUIRE_REJECTED(decision, expected_code, expected_field)                   \
    do {                                                                             \
        auto d_ = (decision);                                                        \
        REQUIRE_FALSE(d_.has_value());                                               \
        CHECK(name_of(d_.error().code) == name_of(rejection_code::expected_code));   \
        CHECK(d_.error().field == (expected_field));                                 \
    } while (0)

}  // namespace

// ---- Totals ------------------------------------------------------------------------------------

TEST_CASE("line totals: one rounding rule, half away from zero, with and without tax in the price", "[billing]") {
    auto t = billing::line_totals(line(3000, 1999, 1900), false);
    REQUIRE(t);
    CHECK(t->net == 5997);
    CHECK(t->tax == 1139);  // 1139.43
    CHECK(t->gross == 7136);
    auto half = billing::line_totals(line(1000, 50, 1000), false);  // tax 5.0 exactly
    CHECK(half->tax == 5);
    auto up = billing::line_totals(line(1500, 1, 0), false);  // 1.5 -> 2 (half away from zero)
    CHECK(up->net == 2);
    auto inclusive = billing::line_totals(line(1000, 11900, 1900), true);  // 119.00 gross at 19%
    CHECK(inclusive->gross == 11900);
    CHECK(inclusive->net == 10000);
    CHECK(inclusive->tax == 1900);
    auto inclusive_odd = billing::line_totals(line(1000, 1000, 700), true);  // 10.00 at 7%: net 9.3458
    CHECK(inclusive_odd->net == 935);
    CHECK(inclusive_odd->tax == 65);
    CHECK_FALSE(billing::line_totals(line(std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max(), 0), false));
}

// ---- Invoices ----------------------------------------------------------------------------------

SCENARIO("an invoice is drafted, issued with the next number of its series, and answered by allocations",
         "[billing][invoice]") {
    GIVEN("no history") {
        WHEN("a customer invoice with two lines at 19% is created") {
            auto events = accepted({}, create());
            THEN("invoice_drafted carries the per-line and total figures and the due date from the terms") {
                REQUIRE(events.size() == 1);
                const auto& d = events[0].invoice_drafted();
                CHECK(events[0].stream_id() == "invoice/inv-1");
                CHECK(events[0].effective_date() == "2026-11-02");
                CHECK(d.net_minor() == 17997);
                CHECK(d.tax_minor() == 3419);
                CHECK(d.gross_minor() == 21416);
                CHECK(d.due_date() == "2026-12-02");
                CHECK(d.series_key() == "acme/default");
                auto bill = accepted({}, create([](auto& i) { i.set_direction(v1::INVOICE_DIRECTION_SUPPLIER); }));
                CHECK(bill[0].invoice_drafted().series_key() == "acme/bills");  // bills are numbered apart
                CHECK(d.lines(1).gross_minor() == 14280);
            }
        }
    }
    GIVEN("a draft") {
        WHEN("it is issued") {
            auto events = accepted(drafted(), issue());
            THEN("invoice_issue_requested names the series; the process manager asks the series for a number") {
                REQUIRE(events[0].has_invoice_issue_requested());
                CHECK(events[0].invoice_issue_requested().series_key() == "acme/default");
                events[0].set_stream_id("invoice/inv-1");
                events[0].set_version(2);
                auto follow = consumers::billing_follow_ups(events[0]);
                REQUIRE(follow.size() == 1);
                CHECK(follow[0].number_invoice().series_key() == "acme/default");
                CHECK(follow[0].command_id() == "pm/invoice/inv-1@2/number");
                CHECK(follow[0].causation_event_id() == "invoice/inv-1@2");
            }
        }
    }
    GIVEN("an invoice waiting for its number") {
        WHEN("the number arrives") {
            auto events = accepted(issuing(), record_number(7));
            THEN("invoice_issued carries the number and everything the posting needs") {
                CHECK(events[0].invoice_issued().number() == 7);
                CHECK(events[0].invoice_issued().gross_minor() == 21416);
                auto state = given(plus(issuing(), events));
                CHECK(billing::find_invoice(state, "inv-1")->status() == v1::INVOICE_STATUS_ISSUED);
            }
        }
        WHEN("a number of another series arrives") {
            THEN("series_mismatch") { REQUIRE_REJECTED(when(issuing(), record_number(1, "acme/export")), series_mismatch, "record_invoice_number.series_key"); }
        }
        WHEN("it is voided") {
            THEN("invoice_number_pending") { REQUIRE_REJECTED(when(issuing(), void_invoice()), invoice_number_pending, "void_invoice.invoice_id"); }
        }
    }
    GIVEN("an issued invoice of 214.16") {
        WHEN("allocations of 150.00 then 64.16 are applied") {
            auto first = accepted(issued(), apply(15000));
            auto h = plus(issued(), first);
            auto second = accepted(h, apply(6416, "a2"));
            THEN("partially paid, then paid") {
                CHECK(first[0].allocation_applied().outstanding_minor() == 6416);
                CHECK(billing::find_invoice(given(h), "inv-1")->status() == v1::INVOICE_STATUS_PARTIALLY_PAID);
                CHECK(billing::find_invoice(given(plus(h, second)), "inv-1")->status() == v1::INVOICE_STATUS_PAID);
            }
        }
        WHEN("an allocation above the outstanding amount, in another currency, or repeated arrives") {
            THEN("the invoice declines it with an event (the payment's saga compensates), never a rejection") {
                auto over = accepted(issued(), apply(30000));
                REQUIRE(over[0].has_allocation_declined());
                CHECK(over[0].allocation_declined().code_name() == "allocation_exceeds_outstanding");
                CHECK(accepted(issued(), apply(100, "a1", "USD"))[0].allocation_declined().code_name() == "billing_currency_mismatch");
                CHECK(accepted(issued(), apply(0))[0].allocation_declined().code_name() == "billing_amount_invalid");
                auto h = plus(issued(), accepted(issued(), apply(100)));
                CHECK(accepted(h, apply(100))[0].allocation_declined().code_name() == "allocation_id_exists");
                auto follow = consumers::billing_follow_ups(over[0]);
                REQUIRE(follow.size() == 1);
                CHECK(follow[0].has_release_allocation());
            }
        }
        WHEN("an allocation arrives for an invoice that does not exist, a draft, or a void invoice") {
            THEN("declined: invoice_not_found, invoice_not_issued, invoice_void, and a payment that cannot settle it") {
                auto other_book = apply(100);
                other_book.mutable_apply_allocation()->set_book_id("globex");
                CHECK(accepted(issued(), other_book)[0].allocation_declined().code_name() == "allocation_document_mismatch");
                auto sent = apply(100);
                sent.mutable_apply_allocation()->set_direction(v1::PAYMENT_DIRECTION_SENT);  // a supplier payment
                CHECK(accepted(issued(), sent)[0].allocation_declined().code_name() == "allocation_document_mismatch");
                auto other_party = apply(100);
                other_party.mutable_apply_allocation()->set_counterparty_id("cust-2");
                CHECK(accepted(issued(), other_party)[0].allocation_declined().code_name() == "allocation_document_mismatch");
                auto early = apply(100);
                early.mutable_apply_allocation()->set_date("2026-10-01");  // a payment older than the invoice
                CHECK(accepted(issued(), early)[0].allocation_applied().date() == "2026-11-02");
                CHECK(accepted({}, apply(100, "a1", "EUR", "ghost"))[0].allocation_declined().code_name() == "invoice_not_found");
                CHECK(accepted(drafted(), apply(100))[0].allocation_declined().code_name() == "invoice_not_issued");
                auto voided = plus(issued(), accepted(issued(), void_invoice()));
                CHECK(accepted(voided, apply(100))[0].allocation_declined().code_name() == "invoice_void");
            }
        }
        WHEN("a credit note of 50.00 is issued") {
            auto events = accepted(issued(), credit(5000));
            THEN("net and tax split in the invoice's proportion, outstanding reduced, still issued (nothing paid)") {
                // Cumulative split: three notes crediting the whole invoice carry exactly its tax.
                auto h = issued();
                std::int64_t tax = 0;
                for (auto [id, gross] : std::vector<std::pair<std::string, std::int64_t>>{{"n1", 7138}, {"n2", 7139}, {"n3", 7139}}) {
                    auto e = accepted(h, credit(gross, id));
                    tax += e[0].invoice_credited().tax_minor();
                    h = plus(h, e);
                }
                CHECK(tax == 3419);
                auto early = credit(100, "n0");
                early.mutable_credit_invoice()->set_date("2026-11-01");
                REQUIRE_REJECTED(when(issued(), early), document_date_invalid, "credit_invoice.date");
                CHECK(billing::find_invoice(given(plus(issued(), events)), "inv-1")->status() == v1::INVOICE_STATUS_ISSUED);
                const auto& c = events[0].invoice_credited();
                CHECK(c.tax_minor() == 798);  // 5000 * 3419 / 21416 = 798.2
                CHECK(c.net_minor() == 4202);
                CHECK(c.outstanding_minor() == 16416);
            }
        }
        WHEN("a credit note above the outstanding amount, repeated, zero or undated is issued") {
            THEN("credit_exceeds_outstanding, credit_note_exists, billing_amount_invalid, document_date_invalid") {
                REQUIRE_REJECTED(when(issued(), credit(21417)), credit_exceeds_outstanding, "credit_invoice.gross_minor");
                auto h = plus(issued(), accepted(issued(), credit(100)));
                REQUIRE_REJECTED(when(h, credit(100)), credit_note_exists, "credit_invoice.credit_note_id");
                REQUIRE_REJECTED(when(issued(), credit(0)), billing_amount_invalid, "credit_invoice.gross_minor");
                auto undated = credit(100);
                undated.mutable_credit_invoice()->set_date("soon");
                REQUIRE_REJECTED(when(issued(), undated), document_date_invalid, "credit_invoice.date");
                auto bad_id = credit(100, "bad id");
                REQUIRE_REJECTED(when(issued(), bad_id), invoice_id_invalid, "credit_invoice.credit_note_id");
            }
        }
        WHEN("it is voided with nothing allocated") {
            auto events = accepted(issued(), void_invoice());
            THEN("invoice_voided was_issued and was_posted, and the process manager reverses its entry") {
                CHECK(events[0].invoice_voided().was_issued());
                CHECK(events[0].invoice_voided().was_posted());
                events[0].set_stream_id("invoice/inv-1");
                events[0].set_version(4);
                auto follow = consumers::billing_follow_ups(events[0]);
                REQUIRE(follow.size() == 1);
                CHECK(follow[0].reverse_entry().entry_id() == "inv:inv-1");
                CHECK(follow[0].reverse_entry().reversal_entry_id() == "inv:inv-1:void");
            }
        }
        WHEN("it is voided after an allocation or credit note, or twice") {
            THEN("invoice_has_allocations, invoice_void") {
                auto paid = plus(issued(), accepted(issued(), apply(100)));
                REQUIRE_REJECTED(when(paid, void_invoice()), invoice_has_allocations, "void_invoice.invoice_id");
                auto credited = plus(issued(), accepted(issued(), credit(100)));
                REQUIRE_REJECTED(when(credited, void_invoice()), invoice_has_allocations, "void_invoice.invoice_id");
                auto voided = plus(issued(), accepted(issued(), void_invoice()));
                REQUIRE_REJECTED(when(voided, void_invoice()), invoice_void, "void_invoice.invoice_id");
                REQUIRE_REJECTED(when(voided, issue()), invoice_void, "issue_invoice.invoice_id");
                REQUIRE_REJECTED(when(voided, credit(100)), invoice_void, "credit_invoice.invoice_id");
            }
        }
        WHEN("its allocation is reversed (the payment was returned)") {
            auto h = plus(issued(), accepted(issued(), apply(15000)));
            auto reverse = [](const std::string& payment) {
                return command([&](auto& c) {
                    c.mutable_reverse_allocation()->set_invoice_id("inv-1");
                    c.mutable_reverse_allocation()->set_payment_id(payment);
                    c.mutable_reverse_allocation()->set_allocation_id("a1");
                    c.mutable_reverse_allocation()->set_date("2026-11-21");
                });
            };
            // Allocation ids are per payment: another payment's a1 is not this one.
            REQUIRE_REJECTED(when(h, reverse("pay-2")), allocation_not_found, "reverse_allocation.allocation_id");
            auto events = accepted(h, reverse("pay-1"));
            THEN("the outstanding amount is back") {
                CHECK(events[0].allocation_reversed().outstanding_minor() == 21416);
                auto again = plus(h, events);
                REQUIRE_REJECTED(when(again, reverse("pay-1")), allocation_not_found, "reverse_allocation.allocation_id");
            }
        }
    }
}

TEST_CASE("create_invoice refuses bad input in the documented order, and changes nothing", "[billing][invoice]") {
    struct row {
        const char* what;
        std::function<void(v1::CreateInvoice&)> change;
        rejection_code code;
        const char* field;
    };
    const std::vector<row> rows{
        {"invoice id", [](auto& i) { i.set_invoice_id("bad id"); }, rejection_code::invoice_id_invalid, "create_invoice.invoice_id"},
        {"book", [](auto& i) { i.set_book_id(""); }, rejection_code::billing_book_id_invalid, "create_invoice.book_id"},
        {"direction", [](auto& i) { i.set_direction(v1::INVOICE_DIRECTION_UNSPECIFIED); }, rejection_code::invoice_direction_invalid, "create_invoice.direction"},
        {"counterparty", [](auto& i) { i.set_counterparty_id(""); }, rejection_code::counterparty_invalid, "create_invoice.counterparty_id"},
        {"currency", [](auto& i) { i.set_currency("eu"); }, rejection_code::billing_currency_invalid, "create_invoice.currency"},
        {"issue date", [](auto& i) { i.set_issue_date("2026-02-30"); }, rejection_code::document_date_invalid, "create_invoice.issue_date"},
        {"due date and terms", [](auto& i) { i.set_due_date("2026-12-01"); }, rejection_code::due_date_invalid, "create_invoice.payment_terms_days"},
        {"due before issue", [](auto& i) { i.set_payment_terms_days(0); i.set_due_date("2026-11-01"); }, rejection_code::due_date_invalid, "create_invoice.due_date"},
        {"terms too long", [](auto& i) { i.set_payment_terms_days(3651); }, rejection_code::due_date_invalid, "create_invoice.payment_terms_days"},
        {"series", [](auto& i) { i.set_series_id("a/b"); }, rejection_code::series_id_invalid, "create_invoice.series_id"},
        {"memo", [](auto& i) { i.set_memo(std::string(limits::memo_bytes_max + 1, 'm')); }, rejection_code::billing_memo_too_long, "create_invoice.memo"},
        {"no lines", [](auto& i) { i.clear_lines(); }, rejection_code::invoice_lines_invalid, "create_invoice.lines"},
        {"description", [](auto& i) { i.mutable_lines(1)->set_description(""); }, rejection_code::line_description_invalid, "create_invoice.lines[1].description"},
        {"quantity", [](auto& i) { i.mutable_lines(0)->set_quantity_milli(0); }, rejection_code::line_quantity_invalid, "create_invoice.lines[0].quantity_milli"},
        {"price", [](auto& i) { i.mutable_lines(0)->set_unit_price_minor(-1); }, rejection_code::line_price_invalid, "create_invoice.lines[0].unit_price_minor"},
        {"tax rate", [](auto& i) { i.mutable_lines(0)->set_tax_rate_bp(10001); }, rejection_code::line_tax_rate_invalid, "create_invoice.lines[0].tax_rate_bp"},
        {"line account", [](auto& i) { i.mutable_lines(0)->set_account_id("bad id"); }, rejection_code::line_account_invalid, "create_invoice.lines[0].account_id"},
        {"line overflow", [](auto& i) { i.mutable_lines(0)->set_quantity_milli(std::numeric_limits<std::int64_t>::max()); i.mutable_lines(0)->set_unit_price_minor(1'000'000); }, rejection_code::billing_amount_overflow, "create_invoice.lines[0].unit_price_minor"},
        {"total overflow", [](auto& i) { for (int k = 0; k < 2; ++k) { i.mutable_lines(k)->set_quantity_milli(1000); i.mutable_lines(k)->set_unit_price_minor(std::numeric_limits<std::int64_t>::max() / 2 + 1); i.mutable_lines(k)->set_tax_rate_bp(0); } }, rejection_code::billing_amount_overflow, "create_invoice.lines"},
        {"two rules broken: the invoice id is checked first", [](auto& i) { i.set_invoice_id(""); i.set_currency("x"); }, rejection_code::invoice_id_invalid, "create_invoice.invoice_id"},
    };
    for (const auto& r : rows) {
        INFO(r.what);
        auto cmd = create(r.change);
        auto state = given({});
        auto before = state.rows();
        auto d = billing::decide(cmd, state, aggregates::decide_context{now_ms, "alice"});
        REQUIRE_FALSE(d.has_value());
        CHECK(name_of(d.error().code) == name_of(r.code));
        CHECK(d.error().field == r.field);
        CHECK(state.rows() == before);
    }
    REQUIRE_REJECTED(when(drafted(), create()), invoice_already_exists, "create_invoice.invoice_id");
    REQUIRE_REJECTED(when({}, issue()), invoice_not_found, "issue_invoice.invoice_id");
    REQUIRE_REJECTED(when({}, issue("bad id")), invoice_id_invalid, "issue_invoice.invoice_id");
    REQUIRE_REJECTED(when(issuing(), issue()), invoice_not_draft, "issue_invoice.invoice_id");
    REQUIRE_REJECTED(when(drafted(), record_number(1)), invoice_not_issuing, "record_invoice_number.invoice_id");
    REQUIRE_REJECTED(when(drafted(), credit(100)), invoice_not_issued, "credit_invoice.invoice_id");
    auto long_reason = void_invoice();
    long_reason.mutable_void_invoice()->set_reason(std::string(limits::memo_bytes_max + 1, 'r'));
    REQUIRE_REJECTED(when(drafted(), long_reason), billing_memo_too_long, "void_invoice.reason");
    auto early = void_invoice();
    early.mutable_void_invoice()->set_date("2026-11-01");  // before the issue date
    REQUIRE_REJECTED(when(drafted(), early), document_date_invalid, "void_invoice.date");
    early.mutable_void_invoice()->set_date("someday");
    REQUIRE_REJECTED(when(drafted(), early), document_date_invalid, "void_invoice.date");
    auto dated = void_invoice();
    dated.mutable_void_invoice()->set_date("2026-11-05");
    CHECK(accepted(drafted(), dated)[0].invoice_voided().date() == "2026-11-05");
    auto draft_void = accepted(drafted(), void_invoice());
    CHECK_FALSE(draft_void[0].invoice_voided().was_issued());
    CHECK(consumers::billing_follow_ups(draft_void[0]).empty());  // a draft was never posted
}

// ---- Billing register: counterparties, tax codes, numbering --------------------------------------

v1::CommandEnvelope register_party(const std::string& id, const std::string& from, std::function<void(v1::RegisterCounterparty&)> change = {}) {
    return command([&](auto& c) {
        auto* r = c.mutable_register_counterparty();
        r->set_book_id("acme");
        r->set_counterparty_id(id);
        r->set_name("Customer " + id);
        r->set_customer(true);
        r->set_effective_from(from);
        if (change) change(*r);
    });
}
v1::CommandEnvelope tax_code(const std::string& code, std::uint32_t rate, const std::string& from) {
    return command([&](auto& c) {
        auto* t = c.mutable_set_tax_code();
        t->set_book_id("acme");
        t->set_code(code);
        t->set_rate_bp(rate);
        t->set_effective_from(from);
        t->set_description("VAT");
    });
}
v1::CommandEnvelope assign(const std::string& invoice, std::function<void(v1::NumberInvoice&)> change = {}) {
    return command([&](auto& c) {
        auto* a = c.mutable_number_invoice();
        a->set_book_id("acme");
        a->set_invoice_id(invoice);
        a->set_series_key("acme/default");
        a->set_direction(v1::INVOICE_DIRECTION_CUSTOMER);
        a->set_counterparty_id("cust-1");
        a->set_issue_date("2026-11-02");
        if (change) change(*a);
    });
}
// A register with customer cust-1 from 2026-01-01 and VAT at 19 % from then, 21 % from 2026-07-01.
history_t registered() {
    history_t h = accepted({}, register_party("cust-1", "2026-01-01"));
    h = plus(h, accepted(h, tax_code("VAT", 1900, "2026-01-01")));
    return plus(h, accepted(h, tax_code("VAT", 2100, "2026-07-01")));
}

SCENARIO("the billing register: counterparties and tax codes are effective-dated reference data", "[billing][register]") {
    GIVEN("an empty register") {
        WHEN("a counterparty is registered") {
            auto events = accepted({}, register_party("cust-1", "2026-01-01"));
            THEN("counterparty_registered, in the book's register stream, dated its effective date") {
                REQUIRE(events[0].has_counterparty_registered());
                CHECK(events[0].stream_id() == "register/acme");
                CHECK(events[0].effective_date() == "2026-01-01");
                CHECK(events[0].counterparty_registered().name() == "Customer cust-1");
            }
        }
        WHEN("a tax code is set") {
            auto events = accepted({}, tax_code("VAT", 1900, "2026-01-01"));
            THEN("tax_code_set") {
                CHECK(events[0].tax_code_set().rate_bp() == 1900);
                CHECK(events[0].stream_id() == "register/acme");
            }
        }
        WHEN("the commands are malformed") {
            THEN("each names its rule and field, in the documented order") {
                auto bad_party = [](std::function<void(v1::RegisterCounterparty&)> change) { return register_party("cust-1", "2026-01-01", change); };
                REQUIRE_REJECTED(when({}, bad_party([](auto& r) { r.set_book_id(""); })), billing_book_id_invalid, "register_counterparty.book_id");
                REQUIRE_REJECTED(when({}, bad_party([](auto& r) { r.set_counterparty_id("a b"); })), counterparty_invalid, "register_counterparty.counterparty_id");
                REQUIRE_REJECTED(when({}, bad_party([](auto& r) { r.set_name(""); })), counterparty_name_invalid, "register_counterparty.name");
                REQUIRE_REJECTED(when({}, bad_party([](auto& r) { r.set_name(std::string(limits::memo_bytes_max + 1, 'n')); })), counterparty_name_invalid, "register_counterparty.name");
                REQUIRE_REJECTED(when({}, bad_party([](auto& r) { r.set_customer(false); })), counterparty_roles_invalid, "register_counterparty.customer");
                REQUIRE_REJECTED(when({}, bad_party([](auto& r) { r.set_effective_from("2026-02-30"); })), document_date_invalid, "register_counterparty.effective_from");
                auto bad_tax = [](std::function<void(v1::SetTaxCode&)> change) {
                    auto c = tax_code("VAT", 1900, "2026-01-01");
                    change(*c.mutable_set_tax_code());
                    return c;
                };
                REQUIRE_REJECTED(when({}, bad_tax([](auto& t) { t.set_book_id(""); })), billing_book_id_invalid, "set_tax_code.book_id");
                REQUIRE_REJECTED(when({}, bad_tax([](auto& t) { t.set_code("EU/VAT"); })), tax_code_invalid, "set_tax_code.code");
                REQUIRE_REJECTED(when({}, bad_tax([](auto& t) { t.set_rate_bp(10001); })), tax_rate_invalid, "set_tax_code.rate_bp");
                REQUIRE_REJECTED(when({}, bad_tax([](auto& t) { t.set_effective_from("01/01/2026"); })), document_date_invalid, "set_tax_code.effective_from");
                REQUIRE_REJECTED(when({}, bad_tax([](auto& t) { t.set_description(std::string(limits::memo_bytes_max + 1, 'd')); })), billing_memo_too_long, "set_tax_code.description");
            }
        }
    }
    GIVEN("a book closed through 2026-06-30 (the register shares the book's partition and sees the lock)") {
        events::memory_state state;
        aggregates::ledger::evolve(state, events::period_closed{events::book_id{"acme"}, "2026-06-30", "carol"});
        WHEN("a rate is set inside the closed period") {
            THEN("period_closed; on the first open day it is accepted") {
                auto r = billing::decide(tax_code("VAT", 2000, "2026-06-30"), state, aggregates::decide_context{now_ms, "alice"});
                REQUIRE_FALSE(r.has_value());
                CHECK(r.error().code == rejection_code::period_closed);
                CHECK(r.error().field == "set_tax_code.effective_from");
                CHECK(billing::decide(tax_code("VAT", 2000, "2026-07-01"), state, aggregates::decide_context{now_ms, "alice"}).has_value());
            }
        }
    }
    GIVEN("a counterparty changed as often as it may be") {
        events::memory_state state;
        for (std::size_t i = 0; i < limits::mapping_versions_max; ++i)
            billing::evolve(state, accepted({}, register_party("cust-1", aggregates::add_days("2000-01-01", static_cast<int>(i))))[0]);
        THEN("another change on a new day is register_versions_exhausted; one on a day it has replaces it") {
            auto r = billing::decide(register_party("cust-1", "2030-01-01"), state, aggregates::decide_context{now_ms, "alice"});
            REQUIRE_FALSE(r.has_value());
            CHECK(r.error().code == rejection_code::register_versions_exhausted);
            CHECK(billing::decide(register_party("cust-1", "2000-01-01"), state, aggregates::decide_context{now_ms, "alice"}).has_value());
        }
    }
}

SCENARIO("the register numbers an invoice only when its counterparty and tax codes hold on the issue date",
         "[billing][register][series]") {
    GIVEN("a registered customer and VAT at 19 %, then 21 % from July") {
        WHEN("five invoices ask for numbers") {
            history_t h = registered();
            for (int i = 1; i <= 5; ++i) {
                auto events = accepted(h, assign("inv-" + std::to_string(i)));
                CHECK(events[0].number_assigned().number() == static_cast<std::uint64_t>(i));
                CHECK(events[0].stream_id() == "series/acme/default");
                h = plus(h, events);
            }
            THEN("numbers are gapless and strictly increasing, once per invoice, per series") {
                CHECK(accepted(h, assign("inv-3"))[0].number_assigned().number() == 3);  // asked again: the same number
                CHECK(accepted(h, assign("inv-1", [](auto& a) { a.set_series_key("acme/export"); }))[0].number_assigned().number() == 1);
            }
        }
        WHEN("the invoice's lines use VAT") {
            auto before = accepted(registered(), assign("inv-1", [](auto& a) { a.add_tax_codes("VAT"); a.set_issue_date("2026-06-30"); }));
            auto after = accepted(registered(), assign("inv-1", [](auto& a) { a.add_tax_codes("VAT"); a.set_issue_date("2026-07-01"); }));
            THEN("the rate effective on the issue date comes with the number") {
                REQUIRE(before[0].number_assigned().rates_size() == 1);
                CHECK(before[0].number_assigned().rates(0).rate_bp() == 1900);
                CHECK(after[0].number_assigned().rates(0).rate_bp() == 2100);
            }
        }
        WHEN("the invoice cannot be numbered") {
            auto refused = [](std::function<void(v1::NumberInvoice&)> change) {
                auto events = accepted(registered(), assign("inv-9", change));
                REQUIRE(events.size() == 1);
                REQUIRE(events[0].has_number_refused());
                return events[0].number_refused();
            };
            THEN("number_refused names the rule, and no number is used up") {
                CHECK(refused([](auto& a) { a.set_counterparty_id("cust-2"); }).code_name() == "counterparty_unknown");
                CHECK(refused([](auto& a) { a.set_issue_date("2025-12-31"); }).code_name() == "counterparty_unknown");  // before it was registered
                CHECK(refused([](auto& a) { a.set_direction(v1::INVOICE_DIRECTION_SUPPLIER); }).code_name() == "counterparty_role_mismatch");
                CHECK(refused([](auto& a) { a.add_tax_codes("VAT"); a.add_tax_codes("REDUCED"); }).code_name() == "tax_code_unknown");
                auto h = plus(registered(), accepted(registered(), register_party("cust-1", "2026-11-01", [](auto& r) { r.set_blocked(true); })));
                auto blocked = accepted(h, assign("inv-9"));
                CHECK(blocked[0].number_refused().code_name() == "counterparty_blocked");
                CHECK(accepted(h, assign("inv-9", [](auto& a) { a.set_issue_date("2026-10-31"); }))[0].has_number_assigned());  // before the block
                auto next = accepted(plus(registered(), accepted(registered(), assign("inv-9", [](auto& a) { a.set_counterparty_id("cust-2"); }))), assign("inv-1"));
                CHECK(next[0].number_assigned().number() == 1);
            }
        }
        WHEN("an invoice that has its number asks again after its customer was blocked") {
            auto h = plus(registered(), accepted(registered(), assign("inv-1")));
            h = plus(h, accepted(h, register_party("cust-1", "2026-01-01", [](auto& r) { r.set_blocked(true); })));
            THEN("it gets the same number again (a redelivered request is not a new decision)") {
                CHECK(accepted(h, assign("inv-1"))[0].number_assigned().number() == 1);
                auto coded = accepted(h, assign("inv-1", [](auto& a) { a.add_tax_codes("VAT"); }))[0].number_assigned();
                CHECK(coded.number() == 1);
                REQUIRE(coded.rates_size() == 1);  // with its rates, so the invoice can still record it
                CHECK(coded.rates(0).rate_bp() == 2100);
            }
        }
        WHEN("the request is malformed") {
            THEN("a rejection, in the documented order") {
                REQUIRE_REJECTED(when({}, assign("inv-1", [](auto& a) { a.set_book_id(""); })), billing_book_id_invalid, "number_invoice.book_id");
                REQUIRE_REJECTED(when({}, assign("inv-1", [](auto& a) { a.set_series_key("acme"); })), series_key_invalid, "number_invoice.series_key");
                REQUIRE_REJECTED(when({}, assign("inv-1", [](auto& a) { a.set_series_key("other/default"); })), series_key_invalid, "number_invoice.series_key");
                REQUIRE_REJECTED(when({}, assign("bad id")), invoice_id_invalid, "number_invoice.invoice_id");
                auto retired = command([](auto& c) {
                    c.mutable_assign_number()->set_series_key("acme/default");
                    c.mutable_assign_number()->set_invoice_id("inv-1");
                });
                REQUIRE_REJECTED(when({}, retired), payload_missing, "assign_number");  // the step before the register
            }
        }
    }
}

SCENARIO("an invoice with tax codes gets its totals at issue; a refused issue sends it back to draft", "[billing][register][invoice]") {
    auto coded = [] {
        return create([](auto& i) {
            i.clear_lines();
            auto l = line(3000, 1999, 0);
            l.set_tax_code("VAT");
            *i.add_lines() = l;
            *i.add_lines() = line(1000, 1000, 700);
        });
    };
    GIVEN("no history") {
        WHEN("an invoice with a VAT line is created") {
            auto d = accepted({}, coded())[0].invoice_drafted();
            THEN("its totals wait for the issue") {
                CHECK(d.totals_at_issue());
                CHECK(d.gross_minor() == 0);
                CHECK(d.lines(0).tax_code() == "VAT");
            }
        }
        WHEN("a line is coded badly") {
            THEN("tax_code_invalid") {
                auto both = coded();
                both.mutable_create_invoice()->mutable_lines(0)->set_tax_rate_bp(1900);
                REQUIRE_REJECTED(when({}, both), tax_code_invalid, "create_invoice.lines[0].tax_code");
                auto slash = coded();
                slash.mutable_create_invoice()->mutable_lines(0)->set_tax_code("EU/VAT");
                REQUIRE_REJECTED(when({}, slash), tax_code_invalid, "create_invoice.lines[0].tax_code");
            }
        }
    }
    GIVEN("a coded invoice waiting for its number") {
        auto h = accepted({}, coded());
        h = plus(h, accepted(h, issue()));
        WHEN("it is issued") {
            auto requested = h.back().invoice_issue_requested();
            THEN("the request carries what the register checks: party, direction, date, codes") {
                CHECK(requested.counterparty_id() == "cust-1");
                CHECK(requested.issue_date() == "2026-11-02");
                REQUIRE(requested.tax_codes_size() == 1);
                CHECK(requested.tax_codes(0) == "VAT");
            }
        }
        WHEN("the number arrives with VAT at 21 %") {
            auto record = record_number(4);
            auto* rate = record.mutable_record_invoice_number()->add_rates();
            rate->set_code("VAT");
            rate->set_rate_bp(2100);
            auto events = accepted(h, record);
            THEN("the totals are computed with that rate and recorded in invoice_issued") {
                const auto& i = events[0].invoice_issued();
                CHECK(i.lines(0).tax_rate_bp() == 2100);
                CHECK(i.lines(0).net_minor() == 5997);
                CHECK(i.lines(0).tax_minor() == 1259);  // 12.5937 rounded
                CHECK(i.gross_minor() == 5997 + 1259 + 1070);
                auto state = given(plus(h, events));
                CHECK(billing::find_invoice(state, "inv-1")->outstanding_minor() == i.gross_minor());
                CHECK(billing::find_invoice(state, "inv-1")->draft().gross_minor() == i.gross_minor());
            }
        }
        WHEN("the number arrives without the rate") {
            THEN("tax_code_unknown") { REQUIRE_REJECTED(when(h, record_number(4)), tax_code_unknown, "record_invoice_number.rates"); }
        }
        WHEN("the register refuses it") {
            auto refuse = command([](auto& c) {
                auto* r = c.mutable_refuse_invoice_issue();
                r->set_invoice_id("inv-1");
                r->set_code(static_cast<std::uint32_t>(rejection_code::counterparty_unknown));
                r->set_code_name("counterparty_unknown");
                r->set_detail("customer cust-1 is not registered");
            });
            auto events = accepted(h, refuse);
            auto after = plus(h, events);
            THEN("invoice_issue_refused: a draft again, with the reason shown, and it can be issued again") {
                auto inv = billing::find_invoice(given(after), "inv-1");
                CHECK(inv->status() == v1::INVOICE_STATUS_DRAFT);
                CHECK(inv->issue_refusal().code_name() == "counterparty_unknown");
                CHECK(accepted(after, issue())[0].has_invoice_issue_requested());
                REQUIRE_REJECTED(when(after, refuse), invoice_not_issuing, "refuse_invoice_issue.invoice_id");
                REQUIRE_REJECTED(when({}, refuse), invoice_not_found, "refuse_invoice_issue.invoice_id");
            }
        }
    }
}

TEST_CASE("the process manager carries an issue through the register", "[billing][register][manager]") {
    v1::EventEnvelope requested;
    requested.set_stream_id("invoice/inv-1");
    requested.set_version(2);
    auto* r = requested.mutable_invoice_issue_requested();
    r->set_invoice_id("inv-1");
    r->set_book_id("acme");
    r->set_series_key("acme/default");
    r->set_direction(v1::INVOICE_DIRECTION_CUSTOMER);
    r->set_counterparty_id("cust-1");
    r->set_issue_date("2026-11-02");
    r->add_tax_codes("VAT");
    auto ask = consumers::billing_follow_ups(requested);
    REQUIRE(ask.size() == 1);
    CHECK(ask[0].number_invoice().book_id() == "acme");  // routed to the book's register
    CHECK(ask[0].number_invoice().tax_codes(0) == "VAT");
    CHECK(ask[0].number_invoice().counterparty_id() == "cust-1");
    CHECK(billing::is_process_manager_command(ask[0]));

    auto assigned = accepted(registered(), ask[0]);
    assigned[0].set_version(1);
    auto record = consumers::billing_follow_ups(assigned[0]);
    REQUIRE(record.size() == 1);
    CHECK(record[0].record_invoice_number().rates(0).rate_bp() == 2100);  // November: the July rate

    auto refused = accepted({}, ask[0]);  // nobody is registered
    refused[0].set_version(1);
    auto back = consumers::billing_follow_ups(refused[0]);
    REQUIRE(back.size() == 1);
    CHECK(back[0].refuse_invoice_issue().code_name() == "counterparty_unknown");
    CHECK(back[0].command_id() == "pm/series/acme/default@1/refuse");
    CHECK(billing::is_process_manager_command(back[0]));
}

// ---- Payments ----------------------------------------------------------------------------------

SCENARIO("a payment is allocated through a saga: requested, then confirmed or released", "[billing][payment]") {
    GIVEN("a payment of 200.00 received") {
        WHEN("150.00 and 30.00 are allocated") {
            auto events = accepted(received(), allocate({{"a1", 15000}, {"a2", 3000}}));
            THEN("one allocation_requested each; the unallocated amount drops at once (no over-allocation race)") {
                REQUIRE(events.size() == 2);
                auto state = given(plus(received(), events));
                CHECK(billing::find_payment(state, "pay-1")->unallocated_minor() == 2000);
                REQUIRE_REJECTED(when(plus(received(), events), allocate({{"a3", 2001}})), allocation_exceeds_unallocated,
                                 "allocate_payment.allocations");
                events[0].set_stream_id("payment/pay-1");
                events[0].set_version(2);
                auto follow = consumers::billing_follow_ups(events[0]);
                REQUIRE(follow.size() == 1);
                CHECK(follow[0].apply_allocation().amount_minor() == 15000);
                CHECK(follow[0].apply_allocation().invoice_id() == "inv-1");
            }
        }
        WHEN("an allocation is confirmed, another released") {
            auto h = plus(received(), accepted(received(), allocate({{"a1", 15000}, {"a2", 3000}})));
            auto confirmed = accepted(h, confirm("a1"));
            h = plus(h, confirmed);
            h = plus(h, accepted(h, release("a2")));
            THEN("the released amount is unallocated again; answering twice is refused") {
                CHECK(billing::find_payment(given(h), "pay-1")->unallocated_minor() == 5000);
                REQUIRE_REJECTED(when(h, confirm("a1")), allocation_not_pending, "confirm_allocation.allocation_id");
                REQUIRE_REJECTED(when(h, release("a2")), allocation_not_pending, "release_allocation.allocation_id");
                REQUIRE_REJECTED(when(h, confirm("zz")), allocation_not_found, "confirm_allocation.allocation_id");
                auto follow = consumers::billing_follow_ups(confirmed[0]);
                REQUIRE(follow.size() == 1);
                const auto& legs = follow[0].post_entry().legs();
                CHECK(legs[0].account_role() == v1::ACCOUNT_ROLE_CUSTOMER_ADVANCES);
                CHECK(legs[0].side() == v1::SIDE_DEBIT);
                CHECK(legs[1].account_role() == v1::ACCOUNT_ROLE_RECEIVABLE);
            }
        }
        WHEN("unallocated money is refunded") {
            auto events = accepted(received(), refund(5000));
            THEN("it leaves the unallocated amount; a second refund of the same id or above it is refused") {
                auto h = plus(received(), events);
                CHECK(billing::find_payment(given(h), "pay-1")->unallocated_minor() == 15000);
                REQUIRE_REJECTED(when(h, refund(100)), refund_id_exists, "refund_payment.refund_id");
                REQUIRE_REJECTED(when(h, refund(15001, "r2")), refund_exceeds_unallocated, "refund_payment.amount_minor");
                REQUIRE_REJECTED(when(h, refund(0, "r2")), billing_amount_invalid, "refund_payment.amount_minor");
                auto early = refund(100, "r3");
                early.mutable_refund_payment()->set_date("2026-11-09");  // before the payment
                REQUIRE_REJECTED(when(h, early), document_date_invalid, "refund_payment.date");
            }
        }
        WHEN("the payment is returned with a confirmed allocation") {
            auto h = plus(received(), accepted(received(), allocate({{"a1", 15000}})));
            REQUIRE_REJECTED(when(h, return_payment()), payment_has_pending_allocations, "return_payment.payment_id");
            h = plus(h, accepted(h, confirm("a1")));
            auto events = accepted(h, return_payment());
            THEN("payment_returned lists the allocation; follow-ups reverse it on the invoice and post the return") {
                CHECK(events[0].payment_returned().allocations_size() == 1);
                CHECK(events[0].payment_returned().unallocated_minor() == 5000);
                events[0].set_stream_id("payment/pay-1");
                events[0].set_version(4);
                auto follow = consumers::billing_follow_ups(events[0]);
                REQUIRE(follow.size() == 2);
                CHECK(follow[0].reverse_allocation().allocation_id() == "a1");
                CHECK(follow[1].post_entry().entry_id() == "ret:pay-1");
                auto returned = plus(h, events);
                REQUIRE_REJECTED(when(returned, return_payment()), payment_returned, "return_payment.payment_id");
                REQUIRE_REJECTED(when(returned, allocate({{"a9", 1}})), payment_returned, "allocate_payment.payment_id");
                REQUIRE_REJECTED(when(returned, refund(1, "r9")), payment_returned, "refund_payment.payment_id");
            }
        }
    }
    GIVEN("no payment") {
        THEN("receive_payment refuses bad input in order; payment commands need the payment") {
            REQUIRE_REJECTED(when({}, receive(0)), billing_amount_invalid, "receive_payment.amount_minor");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_payment_id(""); })), payment_id_invalid, "receive_payment.payment_id");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_book_id(""); })), billing_book_id_invalid, "receive_payment.book_id");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_direction(v1::PAYMENT_DIRECTION_UNSPECIFIED); })),
                             payment_direction_invalid, "receive_payment.direction");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_counterparty_id(" "); })), counterparty_invalid, "receive_payment.counterparty_id");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_currency("e"); })), billing_currency_invalid, "receive_payment.currency");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_date("2026-13-01"); })), document_date_invalid, "receive_payment.date");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_bank_account_id("bad id"); })), bank_account_invalid, "receive_payment.bank_account_id");
            REQUIRE_REJECTED(when({}, receive(1, [](auto& p) { p.set_method(std::string(limits::memo_bytes_max + 1, 'm')); })),
                             billing_memo_too_long, "receive_payment.method");
            REQUIRE_REJECTED(when(received(), receive()), payment_already_exists, "receive_payment.payment_id");
            REQUIRE_REJECTED(when({}, allocate({{"a1", 1}})), payment_not_found, "allocate_payment.payment_id");
            REQUIRE_REJECTED(when(received(), allocate({})), allocations_invalid, "allocate_payment.allocations");
            REQUIRE_REJECTED(when(received(), allocate({{"a1", 1}, {"a1", 1}})), allocation_id_exists, "allocate_payment.allocations[1].allocation_id");
            REQUIRE_REJECTED(when(received(), allocate({{"a1", -5}})), billing_amount_invalid, "allocate_payment.allocations[0].amount_minor");
            REQUIRE_REJECTED(when({}, confirm("a1")), payment_not_found, "confirm_allocation.payment_id");
            REQUIRE_REJECTED(when({}, return_payment()), payment_not_found, "return_payment.payment_id");
            history_t many = received();
            std::vector<std::pair<std::string, std::int64_t>> hundred;
            for (std::size_t i = 0; i < limits::allocations_per_command_max; ++i) hundred.push_back({"x" + std::to_string(i), 1});
            for (int round = 0; round < 10; ++round) {
                for (auto& a : hundred) a.first = "r" + std::to_string(round) + "-" + a.first;
                many = plus(many, accepted(many, allocate(hundred)));
            }
            REQUIRE_REJECTED(when(many, allocate({{"last", 1}})), too_many_allocations, "allocate_payment.allocations");
        }
    }
}

TEST_CASE("the process managers post invoices, bills and payments by account role", "[billing][manager]") {
    auto issued_event = [](v1::InvoiceDirection direction) {
        v1::EventEnvelope e;
        e.set_stream_id("invoice/inv-1");
        e.set_version(3);
        auto* i = e.mutable_invoice_issued();
        i->set_invoice_id("inv-1");
        i->set_book_id("acme");
        i->set_series_key("acme/default");
        i->set_number(7);
        i->set_direction(direction);
        i->set_currency("EUR");
        i->set_issue_date("2026-11-02");
        *i->add_lines() = line(1000, 10000, 1900);
        i->mutable_lines(0)->set_net_minor(10000);
        *i->add_lines() = line(1000, 5000, 0, "4100");
        i->mutable_lines(1)->set_net_minor(5000);
        i->set_net_minor(15000);
        i->set_tax_minor(1900);
        i->set_gross_minor(16900);
        return e;
    };
    auto customer = consumers::billing_follow_ups(issued_event(v1::INVOICE_DIRECTION_CUSTOMER));
    REQUIRE(customer.size() == 1);
    const auto& p = customer[0].post_entry();
    CHECK(p.entry_id() == "inv:inv-1");
    CHECK(p.effective_date() == "2026-11-02");
    REQUIRE(p.legs_size() == 4);
    CHECK(p.legs(0).account_role() == v1::ACCOUNT_ROLE_RECEIVABLE);
    CHECK(p.legs(0).amount_minor() == 16900);
    CHECK(p.legs(1).account_role() == v1::ACCOUNT_ROLE_REVENUE);
    CHECK(p.legs(1).amount_minor() == 10000);
    CHECK(p.legs(2).account_id() == "4100");  // the line's own account
    CHECK(p.legs(3).account_role() == v1::ACCOUNT_ROLE_TAX_PAYABLE);
    CHECK(customer[0].source() == "billing-manager");
    // The same event twice gives the same commands (the processor then appends nothing twice).
    CHECK(consumers::billing_follow_ups(issued_event(v1::INVOICE_DIRECTION_CUSTOMER))[0].SerializeAsString() ==
          customer[0].SerializeAsString());
    auto supplier = consumers::billing_follow_ups(issued_event(v1::INVOICE_DIRECTION_SUPPLIER));
    const auto& s = supplier[0].post_entry();
    CHECK(s.legs(0).account_role() == v1::ACCOUNT_ROLE_PAYABLE);
    CHECK(s.legs(0).side() == v1::SIDE_CREDIT);
    CHECK(s.legs(1).account_role() == v1::ACCOUNT_ROLE_EXPENSE);
    CHECK(s.legs(3).account_role() == v1::ACCOUNT_ROLE_TAX_RECEIVABLE);
    // Entry ids stay within the id limit: long document ids are hashed, the same way every time.
    CHECK(aggregates::billing::posting_id("alloc", "p", "a") == "alloc:p:a");
    auto long_id = aggregates::billing::posting_id("alloc", std::string(100, 'p'), std::string(100, 'a'));
    CHECK(long_id.size() <= limits::id_bytes_max);
    CHECK(long_id.starts_with("alloc:h"));
    CHECK(long_id == aggregates::billing::posting_id("alloc", std::string(100, 'p'), std::string(100, 'a')));
    v1::EventEnvelope ledger_event;
    ledger_event.mutable_entry_posted()->set_book_id("acme");
    CHECK(consumers::billing_follow_ups(ledger_event).empty());
}
