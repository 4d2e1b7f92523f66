// Invoices and payments through the real broker: the billing process managers run in their own
// `daybook serve --roles billing` and are SIGKILLed mid-saga, again and again. After they are
// back, every invoice is issued with a gapless number (tax codes resolved by the register; one
// invoice to an unregistered customer is refused back to draft and uses up no number), every
// allocation is answered, no command of a process manager is appended twice, and the control
// accounts reconcile.

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "events/codec.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

std::string query(const sandbox& box, const std::string& data, std::vector<std::string> args) {
    args.insert(args.begin(), "query");
    for (auto& a : box.common_args(data, "a")) args.push_back(a);
    return run_daybook(args).second;
}

}  // namespace

TEST_CASE("billing sagas survive SIGKILLs of the process managers: numbers gapless, nothing posted twice, control accounts reconcile",
          "[integration][billing]") {
    sandbox box("billing");
    const std::string book = "shop";
    auto data = box.dir + "/data";
    serve_process core(box, "a", data, {"--roles", "processor,projector"});
    client c(box);
    auto setup = c.submit(billing_chart(book));
    for (const auto& [id, o] : setup) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);

    // 40 invoices and 10 bills in two series, 40 payments; allocations follow once issued.
    std::mt19937 rng(20261123);
    std::vector<v1::CommandEnvelope> documents;
    const int invoices = 40, bills = 10;
    for (int i = 0; i < invoices + bills; ++i) {
        bool customer = i < invoices;
        auto id = std::string(customer ? "inv-" : "bill-") + std::to_string(i);
        auto price = std::to_string(1000 + rng() % 50000);
        documents.push_back(parse_command(R"({"command_id":"create-)" + id + R"(","create_invoice":{"invoice_id":")" + id +
                                  R"(","book_id":")" + book + R"(","direction":"INVOICE_DIRECTION_)" +
                                  (customer ? "CUSTOMER" : "SUPPLIER") + R"(","counterparty_id":"cp-)" + std::to_string(i % 7) +
                                  R"(","currency":"EUR","issue_date":"2026-11-0)" + std::to_string(1 + i % 9) +
                                  R"(","payment_terms_days":14,"series_id":")" + (i % 3 == 0 ? "export" : "default") +
                                  R"(","lines":[{"description":"goods","quantity_milli":")" + std::to_string(1000 + rng() % 5000) +
                                  R"(","unit_price_minor":")" + price + (i % 2 ? R"(","tax_code":"STD"}]}})" : R"(","tax_rate_bp":1900}]}})")));
        documents.push_back(parse_command(R"({"command_id":"issue-)" + id + R"(","issue_invoice":{"invoice_id":")" + id + R"("}})"));
    }
    // One invoice to a customer nobody registered: the register refuses to number it, and it
    // goes back to draft with the reason, using up no number.
    documents.push_back(parse_command(R"({"command_id":"create-stranger","create_invoice":{"invoice_id":"inv-stranger","book_id":")" + book +
                              R"(","direction":"INVOICE_DIRECTION_CUSTOMER","counterparty_id":"cp-unknown","currency":"EUR",)"
                              R"("issue_date":"2026-11-03","payment_terms_days":14,"lines":[{"description":"goods","quantity_milli":"1000",)"
                              R"("unit_price_minor":"5000","tax_code":"STD"}]}})"));
    documents.push_back(parse_command(R"({"command_id":"issue-stranger","issue_invoice":{"invoice_id":"inv-stranger"}})"));
    for (int i = 0; i < invoices; ++i)
        documents.push_back(parse_command(R"({"command_id":"pay-)" + std::to_string(i) + R"(","receive_payment":{"payment_id":"pay-)" +
                                  std::to_string(i) + R"(","book_id":")" + book +
                                  R"(","direction":"PAYMENT_DIRECTION_RECEIVED","counterparty_id":"cp-)" + std::to_string(i % 7) +
                                  R"(","amount_minor":"100000","currency":"EUR","date":"2026-11-15"}})"));
    c.send(documents);

    // The process managers start, and are killed at random moments while the sagas run.
    auto managers = std::make_unique<serve_process>(box, "pm", box.dir + "/pm", std::vector<std::string>{"--roles", "billing"});
    int kills = 0;
    auto kill_and_restart = [&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
        managers->kill();
        ++kills;
        managers = std::make_unique<serve_process>(box, "pm", box.dir + "/pm", std::vector<std::string>{"--roles", "billing"});
    };
    for (int i = 0; i < 3; ++i) kill_and_restart();

    // Allocate each payment to its invoice, except the first, whose allocation names an invoice
    // that does not exist: declined by the invoice, released by the payment (the compensation).
    std::vector<v1::CommandEnvelope> allocations;
    for (int i = 0; i < invoices; ++i)
        allocations.push_back(parse_command(R"({"command_id":"alloc-)" + std::to_string(i) + R"(","allocate_payment":{"payment_id":"pay-)" +
                                    std::to_string(i) + R"(","allocations":[{"allocation_id":"a)" + std::to_string(i) +
                                    R"(","invoice_id":")" + (i == 0 ? std::string("inv-missing") : "inv-" + std::to_string(i)) +
                                    R"(","amount_minor":")" + std::to_string(100 + i) + R"("}]}})"));
    // Allocations wait until the invoices are issued (an allocation to an unissued invoice is
    // declined by design, which this test does not want for the others).
    std::string invoices_text;
    for (int i = 0; i < 600; ++i) {
        invoices_text = query(box, data, {"invoices", "--book", book});
        auto drafts = [&] {
            std::size_t n = 0;
            for (auto at = invoices_text.find("DRAFT"); at != std::string::npos; at = invoices_text.find("DRAFT", at + 1)) ++n;
            return n;
        };
        if (invoices_text.find("ISSUING") == std::string::npos && drafts() == 1 &&
            std::count(invoices_text.begin(), invoices_text.end(), '\n') == invoices + bills + 2)
            break;
        std::this_thread::sleep_for(200ms);
    }
    INFO(invoices_text);
    auto sent = c.submit(allocations);
    for (const auto& [id, o] : sent) CHECK(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
    for (int i = 0; i < 3; ++i) kill_and_restart();

    // Converged: the reconciliation balances with nothing in flight.
    std::string reconciliation;
    bool converged = false;
    for (int i = 0; i < 600 && !converged; ++i) {
        reconciliation = query(box, data, {"reconcile", "--book", book});
        converged = reconciliation.find("agree") != std::string::npos && reconciliation.find("in flight") == std::string::npos;
        if (!converged) std::this_thread::sleep_for(200ms);
    }
    managers->terminate();
    INFO(reconciliation);
    CHECK(converged);

    // Every invoice issued with a number; per series the numbers are exactly 1..n.
    invoices_text = query(box, data, {"invoices", "--book", book, "--format", "json"});
    std::map<std::string, std::set<std::uint64_t>> numbers;
    std::size_t issued = 0;
    std::istringstream lines(invoices_text);
    for (std::string l; std::getline(lines, l);) {
        v1::InvoiceState inv;
        REQUIRE(google::protobuf::util::JsonStringToMessage(l, &inv).ok());
        if (inv.draft().invoice_id() == "inv-stranger") {
            CHECK(inv.status() == v1::INVOICE_STATUS_DRAFT);
            CHECK(inv.number() == 0);
            CHECK(inv.issue_refusal().code_name() == "counterparty_unknown");
            continue;
        }
        CHECK(inv.number() > 0);
        if (!inv.draft().lines(0).tax_code().empty()) CHECK(inv.draft().lines(0).tax_rate_bp() == 1900);  // resolved at issue
        issued += inv.number() > 0;
        CHECK(numbers[inv.draft().series_key()].insert(inv.number()).second);
        if (inv.draft().invoice_id() == "inv-0") CHECK(inv.outstanding_minor() == inv.draft().gross_minor());
        if (inv.draft().invoice_id() == "inv-1") CHECK(inv.outstanding_minor() == inv.draft().gross_minor() - 101);
    }
    CHECK(issued == static_cast<std::size_t>(invoices + bills));
    for (const auto& [series, got] : numbers) {
        INFO(series);
        CHECK(*got.rbegin() == got.size());
    }

    // No command of a process manager was appended twice (counted by command id, not record).
    core.terminate();
    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    std::size_t manager_commands = 0;
    for (const auto& [id, count] : audit.records_per_command)
        if (id.starts_with("pm/")) {
            ++manager_commands;
            INFO(id);
            CHECK(count == 1);
        }
    // Per invoice: number, record, post; per payment: post; per allocation: apply, confirm or
    // release, and a post when confirmed.
    CHECK(manager_commands >= static_cast<std::size_t>(3 * (invoices + bills) + invoices + 2 * invoices));
    std::printf("billing sagas: invoices=%d bills=%d payments=%d manager_kills=%d manager_commands=%zu converged=%s\n",
                invoices, bills, invoices, kills, manager_commands, converged ? "true" : "false");
}
