// Payroll as specifications (aggregates/payroll.h), through the processor's record path: hires,
// salary changes and leavers; runs held for a second person and posted when approved; pay by the
// day; paid periods final; every rejection code; confidential reads of pay data.

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <tuple>

#include "aggregates/ledger.h"
#include "aggregates/payroll.h"
#include "aggregates/security.h"
#include "events/limits.h"
#include "tests/partition_harness.h"

namespace {

using namespace daybook;
using namespace daybook::testing;
namespace payroll = aggregates::payroll;

v1::CommandEnvelope hire(const std::string& id, std::int64_t salary, const std::string& date, const std::string& currency = "EUR",
                         const std::string& book = "acme", const std::string& name = "Jane Doe") {
    return parse(R"({"hire_employee":{"book_id":")" + book + R"(","employee_id":")" + id + R"(","name":")" + name +
                 R"(","annual_salary_minor":")" + std::to_string(salary) + R"(","currency":")" + currency + R"(","hire_date":")" + date + R"("}})");
}
v1::CommandEnvelope raise(const std::string& id, std::int64_t salary, const std::string& from) {
    return parse(R"({"change_salary":{"book_id":"acme","employee_id":")" + id + R"(","annual_salary_minor":")" + std::to_string(salary) +
                 R"(","effective_from":")" + from + R"(","reason":"review"}})");
}
v1::CommandEnvelope leave(const std::string& id, const std::string& last_day) {
    return parse(R"({"terminate_employee":{"book_id":"acme","employee_id":")" + id + R"(","last_day":")" + last_day + R"("}})");
}
v1::CommandEnvelope run(const std::string& run_id, const std::string& period, const std::string& currency = "EUR",
                        const std::string& expense = "salaries", const std::string& payable = "wages-payable") {
    static int submitted = 0;  // approvals name the held command by its id
    return parse(R"({"run_payroll":{"book_id":"acme","run_id":")" + run_id + R"(","period":")" + period + R"(","currency":")" + currency +
                     R"(","pay_date":")" + period + R"(-28","expense_account_id":")" + expense + R"(","payable_account_id":")" + payable +
                     R"(","expected_total_minor":"1"}})",
                 "submit-run-" + std::to_string(++submitted));
}
v1::CommandEnvelope approve(const v1::CommandEnvelope& held, bool reject = false) {
    auto a = parse(R"({"approve_command":{"routing_key":")" + events::routing_key_of(held) + R"(","command_id":")" + held.command_id() + R"("}})");
    a.mutable_approve_command()->set_fingerprint(events::fingerprint_of(held));
    a.mutable_approve_command()->set_reject(reject);
    return a;
}

// Book acme: salaries (expense) and wages-payable (liability) in EUR, a USD account; alice is the
// security admin; pat (payroll clerk) submits runs, carla (payroll approver) approves them.
partition company() {
    partition p;
    for (const auto& [id, type, ccy] : {std::tuple{"salaries", "ACCOUNT_TYPE_EXPENSE", "EUR"}, {"wages-payable", "ACCOUNT_TYPE_LIABILITY", "EUR"},
                                        {"usd-salaries", "ACCOUNT_TYPE_EXPENSE", "USD"}, {"old", "ACCOUNT_TYPE_EXPENSE", "EUR"}})
        REQUIRE(code_of(p.submit(parse(std::string(R"({"open_account":{"book_id":"acme","account_id":")") + id + R"(","name":"x","type":")" + type +
                                       R"(","currency":")" + ccy + R"(","scale":2}})"),
                                 "setup")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"close_account":{"book_id":"acme","account_id":"old"}})"), "setup")) == "accepted");
    REQUIRE(code_of(p.submit(grant("alice", aggregates::security::admin_role), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"payroll-approver","may_approve":["run_payroll"]}})"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"pay-reader","permissions":[{"command":"read_pay_data"}]}})"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("carla", "payroll-approver", "acme"), "alice")) == "accepted");
    return p;
}

// Submits a run as pat and has carla approve it: the approval's records.
std::vector<v1::EventEnvelope> run_approved(partition& p, v1::CommandEnvelope r) {
    auto held = p.submit(r, "pat");
    REQUIRE(held.size() == 1);
    REQUIRE(held[0].has_approval_requested());
    return p.submit(approve(r), "carla");
}

const v1::PayrollRunRecorded* recorded(const std::vector<v1::EventEnvelope>& records) {
    for (const auto& r : records)
        if (r.has_payroll_run_recorded()) return &r.payroll_run_recorded();
    return nullptr;
}

std::string rejected(const std::vector<v1::EventEnvelope>& records) {
    for (const auto& r : records)
        if (r.has_command_rejected()) return r.command_rejected().code_name();
    return "accepted";
}

}  // namespace

SCENARIO("hiring, salary changes and leavers", "[payroll]") {
    GIVEN("book acme") {
        auto p = company();
        WHEN("jane is hired") {
            auto records = p.submit(hire("jane", 6'000'000, "2026-01-15"), "hr");
            THEN("employee_hired in stream payroll/acme, dated her first day") {
                REQUIRE(records[0].has_employee_hired());
                CHECK(records[0].stream_id() == "payroll/acme");
                CHECK(records[0].effective_date() == "2026-01-15");
                auto emp = payroll::find_employee(p.state, "acme", "jane");
                REQUIRE(emp);
                CHECK(payroll::salary_on(*emp, "2026-01-14") == 0);
                CHECK(payroll::salary_on(*emp, "2026-01-15") == 6'000'000);
            }
            AND_WHEN("her salary changes twice, and the later date is changed again") {
                REQUIRE(code_of(p.submit(raise("jane", 7'200'000, "2026-07-01"), "hr")) == "accepted");
                REQUIRE(code_of(p.submit(raise("jane", 6'600'000, "2026-04-01"), "hr")) == "accepted");
                REQUIRE(code_of(p.submit(raise("jane", 7'800'000, "2026-07-01"), "hr")) == "accepted");  // the same date replaces
                THEN("each date has its salary") {
                    auto emp = *payroll::find_employee(p.state, "acme", "jane");
                    CHECK(emp.salaries_size() == 3);
                    CHECK(payroll::salary_on(emp, "2026-03-31") == 6'000'000);
                    CHECK(payroll::salary_on(emp, "2026-04-01") == 6'600'000);
                    CHECK(payroll::salary_on(emp, "2026-07-01") == 7'800'000);
                }
            }
            AND_WHEN("she leaves") {
                REQUIRE(code_of(p.submit(leave("jane", "2026-09-30"), "hr")) == "accepted");
                THEN("nothing more can change for her") {
                    CHECK(code_of(p.submit(raise("jane", 1, "2026-10-01"), "hr")) == "employee_terminated");
                    CHECK(code_of(p.submit(leave("jane", "2026-10-30"), "hr")) == "employee_terminated");
                }
            }
        }
        THEN("each hiring rule refuses with its code, in the documented order") {
            CHECK(code_of(p.submit(hire("jane", 1, "2026-01-01", "EUR", "a b"), "hr")) == "book_id_invalid");
            CHECK(code_of(p.submit(hire("", 1, "2026-01-01"), "hr")) == "employee_id_invalid");
            CHECK(code_of(p.submit(hire("jane", 1, "2026-01-01", "EUR", "acme", ""), "hr")) == "employee_name_invalid");
            CHECK(code_of(p.submit(hire("jane", 1, "2026-01-01", "EUR", "acme", std::string(limits::memo_bytes_max + 1, 'x')), "hr")) ==
                  "employee_name_invalid");
            CHECK(code_of(p.submit(hire("jane", 0, "2026-01-01"), "hr")) == "salary_invalid");
            CHECK(code_of(p.submit(hire("jane", -5, "2026-01-01"), "hr")) == "salary_invalid");
            CHECK(code_of(p.submit(hire("jane", limits::salary_minor_max + 1, "2026-01-01"), "hr")) == "salary_invalid");
            CHECK(code_of(p.submit(hire("jane", 1, "2026-01-01", "euro"), "hr")) == "payroll_currency_invalid");
            CHECK(code_of(p.submit(hire("jane", 1, "2026-02-30"), "hr")) == "payroll_date_invalid");
            REQUIRE(code_of(p.submit(hire("jane", limits::salary_minor_max, "2026-01-01"), "hr")) == "accepted");
            CHECK(code_of(p.submit(hire("jane", 1, "2026-01-01"), "hr")) == "employee_already_exists");
        }
        THEN("each salary rule refuses with its code, in the documented order") {
            REQUIRE(code_of(p.submit(hire("jane", 6'000'000, "2026-01-15"), "hr")) == "accepted");
            auto bad_book = raise("jane", 1, "2026-02-01");
            bad_book.mutable_change_salary()->set_book_id("");
            CHECK(code_of(p.submit(bad_book, "hr")) == "book_id_invalid");
            CHECK(code_of(p.submit(raise("a b", 1, "2026-02-01"), "hr")) == "employee_id_invalid");
            CHECK(code_of(p.submit(raise("jane", 0, "2026-02-01"), "hr")) == "salary_invalid");
            CHECK(code_of(p.submit(raise("jane", 1, "2026-13-01"), "hr")) == "payroll_date_invalid");
            auto long_reason = raise("jane", 1, "2026-02-01");
            long_reason.mutable_change_salary()->set_reason(std::string(limits::memo_bytes_max + 1, 'r'));
            CHECK(code_of(p.submit(long_reason, "hr")) == "memo_too_long");
            CHECK(code_of(p.submit(raise("john", 1, "2026-02-01"), "hr")) == "employee_not_found");
            CHECK(code_of(p.submit(raise("jane", 1, "2026-01-14"), "hr")) == "payroll_date_invalid");  // before the hire
        }
        THEN("each leaving rule refuses with its code, in the documented order") {
            REQUIRE(code_of(p.submit(hire("jane", 6'000'000, "2026-01-15"), "hr")) == "accepted");
            auto bad_book = leave("jane", "2026-02-01");
            bad_book.mutable_terminate_employee()->set_book_id("");
            CHECK(code_of(p.submit(bad_book, "hr")) == "book_id_invalid");
            CHECK(code_of(p.submit(leave("", "2026-02-01"), "hr")) == "employee_id_invalid");
            CHECK(code_of(p.submit(leave("jane", "tomorrow"), "hr")) == "payroll_date_invalid");
            auto long_reason = leave("jane", "2026-02-01");
            long_reason.mutable_terminate_employee()->set_reason(std::string(limits::memo_bytes_max + 1, 'r'));
            CHECK(code_of(p.submit(long_reason, "hr")) == "memo_too_long");
            CHECK(code_of(p.submit(leave("john", "2026-02-01"), "hr")) == "employee_not_found");
            CHECK(code_of(p.submit(leave("jane", "2026-01-14"), "hr")) == "payroll_date_invalid");
        }
    }
}

SCENARIO("limits: employees per book and salary versions per employee", "[payroll][limits]") {
    GIVEN("a book with the most employees it keeps") {
        partition p;
        for (std::size_t i = 0; i < limits::payroll_employees_max; ++i)
            REQUIRE(code_of(p.submit(hire("e" + std::to_string(i), 1'200'000, "2026-01-01"), "hr")) == "accepted");
        THEN("one more hire is payroll_employees_exhausted") {
            CHECK(code_of(p.submit(hire("one-more", 1'200'000, "2026-01-01"), "hr")) == "payroll_employees_exhausted");
        }
    }
    GIVEN("an employee whose salary has the most versions kept") {
        partition p;
        REQUIRE(code_of(p.submit(hire("jane", 1'200'000, "2020-01-01"), "hr")) == "accepted");
        for (std::size_t i = 1; i < limits::mapping_versions_max; ++i)
            REQUIRE(code_of(p.submit(raise("jane", 1'200'000 + static_cast<std::int64_t>(i), aggregates::add_days("2020-01-01", static_cast<int>(i))), "hr")) ==
                    "accepted");
        THEN("a new date is salary_versions_exhausted, an existing date still replaces") {
            CHECK(code_of(p.submit(raise("jane", 5, "2030-01-01"), "hr")) == "salary_versions_exhausted");
            CHECK(code_of(p.submit(raise("jane", 5, "2020-01-02"), "hr")) == "accepted");
        }
    }
}

SCENARIO("a payroll run is held for a second person, then recorded and posted", "[payroll][four-eyes]") {
    GIVEN("jane (60,000.00 a year) and joe (48,000.00) in EUR, sam in USD") {
        auto p = company();
        REQUIRE(code_of(p.submit(hire("jane", 6'000'000, "2025-01-01"), "hr")) == "accepted");
        REQUIRE(code_of(p.submit(hire("joe", 4'800'000, "2025-06-01"), "hr")) == "accepted");
        REQUIRE(code_of(p.submit(hire("sam", 9'000'000, "2025-01-01", "USD"), "hr")) == "accepted");
        auto r = run("run-2026-11", "2026-11");
        r.mutable_run_payroll()->set_expected_total_minor(900'000);
        WHEN("pat submits the November run") {
            auto held = p.submit(r, "pat");
            THEN("it is held for approval, nothing is paid") {
                REQUIRE(held[0].has_approval_requested());
                CHECK(held[0].approval_requested().command_name() == "run_payroll");
                CHECK(p.outcome(r).status() == v1::OUTCOME_STATUS_PENDING_APPROVAL);
                CHECK(payroll::runs(p.state, "acme").empty());
            }
            AND_WHEN("pat approves it himself") {
                THEN("self_approval") { CHECK(code_of(p.submit(approve(r), "pat")) == "self_approval"); }
            }
            AND_WHEN("someone without a role that may approve run_payroll approves it") {
                THEN("not_permitted") { CHECK(code_of(p.submit(approve(r), "mallory")) == "not_permitted"); }
            }
            AND_WHEN("the approval names another payload") {
                auto other = approve(r);
                other.mutable_approve_command()->set_fingerprint(std::string(32, 'x'));
                THEN("approval_fingerprint_mismatch") { CHECK(code_of(p.submit(other, "carla")) == "approval_fingerprint_mismatch"); }
            }
            AND_WHEN("carla approves after the approval window") {
                p.now_ms += payroll::approval_window_ms + 1;
                THEN("approval_expired") { CHECK(code_of(p.submit(approve(r), "carla")) == "approval_expired"); }
            }
            AND_WHEN("carla rejects it") {
                p.submit(approve(r, true), "carla");
                THEN("the run is approval_rejected and nothing is paid") {
                    CHECK(p.outcome(r).code_name() == "approval_rejected");
                    CHECK(payroll::runs(p.state, "acme").empty());
                }
            }
            AND_WHEN("carla approves it") {
                auto records = p.submit(approve(r), "carla");
                THEN("the run's own outcome is now accepted (a retry of it answers so)") {
                    CHECK(p.outcome(r).status() == v1::OUTCOME_STATUS_ACCEPTED);
                }
                THEN("the run is recorded with carla as approver: a month each, in employee order, EUR only") {
                    const auto* rec = recorded(records);
                    REQUIRE(rec);
                    REQUIRE(rec->lines_size() == 2);
                    CHECK(rec->lines(0).employee_id() == "jane");
                    CHECK(rec->lines(0).gross_minor() == 500'000);
                    CHECK(rec->lines(0).days_paid() == 30);
                    CHECK(rec->lines(1).employee_id() == "joe");
                    CHECK(rec->lines(1).gross_minor() == 400'000);
                    CHECK(rec->total_minor() == 900'000);
                    for (const auto& e : records)
                        if (e.has_payroll_run_recorded()) {
                            REQUIRE(e.approvers_size() == 1);
                            CHECK(e.approvers(0) == "carla");
                            CHECK(e.actor() == "pat");
                        }
                }
                AND_THEN("the process managers post it: salaries debited, wages-payable credited, entry payroll:run-2026-11") {
                    auto entry = aggregates::ledger::find_entry(p.state, events::book_id{"acme"}, events::entry_id{payroll::posting_id("run-2026-11")});
                    REQUIRE(entry);
                    auto salaries = aggregates::ledger::find_account(p.state, events::book_id{"acme"}, events::account_id{"salaries"});
                    auto payable = aggregates::ledger::find_account(p.state, events::book_id{"acme"}, events::account_id{"wages-payable"});
                    CHECK(salaries->debits_minor() == 900'000);
                    CHECK(payable->credits_minor() == 900'000);
                }
                AND_THEN("November is paid: once per currency, and final") {
                    CHECK(rejected(run_approved(p, run("again", "2026-11"))) == "payroll_period_already_run");
                    CHECK(rejected(run_approved(p, run("run-2026-11", "2026-12"))) == "payroll_run_exists");
                    CHECK(code_of(p.submit(raise("jane", 7'000'000, "2026-11-30"), "hr")) == "payroll_period_paid");
                    CHECK(code_of(p.submit(leave("joe", "2026-11-29"), "hr")) == "payroll_period_paid");
                    CHECK(code_of(p.submit(raise("jane", 7'000'000, "2026-12-01"), "hr")) == "accepted");
                    CHECK(code_of(p.submit(leave("joe", "2026-11-30"), "hr")) == "accepted");
                    auto usd = run("usd-2026-11", "2026-11", "USD", "usd-salaries", "usd-salaries");
                    CHECK(rejected(run_approved(p, usd)) == "payroll_account_invalid");  // expense and payable the same
                }
            }
        }
    }
}

SCENARIO("pay by the day: hires, leavers and raises inside the month", "[payroll][proration]") {
    GIVEN("February 2026 (28 days)") {
        auto p = company();
        REQUIRE(code_of(p.submit(hire("full", 1'000'000, "2025-01-01"), "hr")) == "accepted");    // 10,000.00 a year
        REQUIRE(code_of(p.submit(hire("joiner", 1'200'000, "2026-02-15"), "hr")) == "accepted");  // 14 of 28 days
        REQUIRE(code_of(p.submit(hire("leaver", 1'200'000, "2025-01-01"), "hr")) == "accepted");
        REQUIRE(code_of(p.submit(leave("leaver", "2026-02-07"), "hr")) == "accepted");  // 7 days
        REQUIRE(code_of(p.submit(hire("raised", 1'200'000, "2025-01-01"), "hr")) == "accepted");
        REQUIRE(code_of(p.submit(raise("raised", 2'400'000, "2026-02-22"), "hr")) == "accepted");  // 21 days at 12k, 7 at 24k
        REQUIRE(code_of(p.submit(hire("later", 1'200'000, "2026-03-01"), "hr")) == "accepted");
        auto preview = payroll::preview(p.state, "acme", "2026-02", "EUR");
        THEN("each is paid the sum of the days' salaries over 12 x 28, rounded half away from zero") {
            REQUIRE(preview.lines_size() == 4);  // not "later"
            std::map<std::string, std::pair<std::int64_t, std::uint32_t>> by_id;
            for (const auto& l : preview.lines()) by_id[l.employee_id()] = {l.gross_minor(), l.days_paid()};
            CHECK(by_id["full"] == std::pair<std::int64_t, std::uint32_t>{83'333, 28});  // 1,000,000 / 12 = 83,333.33
            CHECK(by_id["joiner"] == std::pair<std::int64_t, std::uint32_t>{50'000, 14});
            CHECK(by_id["leaver"] == std::pair<std::int64_t, std::uint32_t>{25'000, 7});
            CHECK(by_id["raised"] == std::pair<std::int64_t, std::uint32_t>{125'000, 28});  // (21 x 1.2M + 7 x 2.4M) / 336
            CHECK(preview.total_minor() == 283'333);
        }
        THEN("a run stating the previewed total is recorded; one stating another total is payroll_total_changed") {
            auto r = run("feb", "2026-02");
            r.mutable_run_payroll()->set_expected_total_minor(283'334);
            CHECK(rejected(run_approved(p, r)) == "payroll_total_changed");
            auto ok = run("feb-2", "2026-02");
            ok.mutable_run_payroll()->set_expected_total_minor(preview.total_minor());
            const auto* rec = recorded(run_approved(p, ok));
            REQUIRE(rec);
            CHECK(rec->total_minor() == 283'333);
        }
    }
}

SCENARIO("each run rule refuses with its code, in the documented order", "[payroll][rejections]") {
    auto p = company();
    REQUIRE(code_of(p.submit(hire("jane", 6'000'000, "2025-01-01"), "hr")) == "accepted");
    auto with = [](auto change) {
        auto r = run("r1", "2026-11");
        change(*r.mutable_run_payroll());
        return r;
    };
    // A malformed book has no approver (grants are per book): decided directly, as approved.
    CHECK(payroll::decide(with([](auto& r) { r.set_book_id("a b"); }), p.state, aggregates::decide_context{start_ms, "pat", false, "carla"})
              .error()
              .code == rejection_code::book_id_invalid);
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_run_id(""); }))) == "payroll_run_id_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_period("2026-13"); }))) == "payroll_period_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_period("2026-11-01"); }))) == "payroll_period_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_currency("eur"); }))) == "payroll_currency_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_pay_date("2026-11-31"); }))) == "payroll_date_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_expense_account_id(""); }))) == "payroll_account_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_expense_account_id("rent"); }))) == "payroll_account_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_expense_account_id("old"); }))) == "payroll_account_invalid");  // closed
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_expense_account_id("usd-salaries"); }))) == "payroll_account_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_payable_account_id("nowhere"); }))) == "payroll_account_invalid");
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_period("2024-11"); }))) == "payroll_empty");  // before jane
    CHECK(rejected(run_approved(p, with([](auto& r) { r.set_currency("CHF"); r.set_expense_account_id("usd-salaries"); r.set_payable_account_id("usd-salaries"); }))) ==
          "payroll_account_invalid");
    REQUIRE(code_of(p.submit(parse(R"({"close_period":{"book_id":"acme","through_date":"2026-11-30"}})"), "setup")) == "accepted");
    CHECK(rejected(run_approved(p, with([](auto&) {}))) == "period_closed");
    SECTION("a run decided without an approver (never through the processor's path) is payroll_unapproved") {
        auto decided = payroll::decide(run("r9", "2026-12"), p.state, aggregates::decide_context{start_ms, "pat"});
        REQUIRE(!decided);
        CHECK(decided.error().code == rejection_code::payroll_unapproved);
        auto self = payroll::decide(run("r9", "2026-12"), p.state, aggregates::decide_context{start_ms, "pat", false, "pat"});
        CHECK(self.error().code == rejection_code::payroll_unapproved);
    }
}

TEST_CASE("reads of pay data need read_pay_data whether or not permissions are enforced, and every one is in the log", "[payroll][privacy]") {
    auto p = company();
    auto read = [](const std::string& reader) {
        return parse(R"({"record_access":{"reader":")" + reader + R"(","what":"payroll of book acme","book_id":"acme","pay_data":true}})");
    };
    auto refused = p.submit(read("rita"), "rita");  // permissions not enforced
    REQUIRE(refused[0].has_command_rejected());
    CHECK(refused[0].command_rejected().code_name() == "not_permitted");
    CHECK(refused[0].actor() == "rita");  // the refusal is a record with its reader: logged
    // A role that may record reads in general does not open pay data.
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"privacy-reader","permissions":[{"command":"record_access"}]}})"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("rita", "privacy-reader", "acme"), "alice")) == "accepted");
    CHECK(code_of(p.submit(read("rita"), "rita")) == "not_permitted");
    REQUIRE(code_of(p.submit(grant("paul", "pay-reader", "acme"), "alice")) == "accepted");
    auto allowed = p.submit(read("paul"), "paul");
    REQUIRE(allowed[0].has_access_recorded());
    CHECK(allowed[0].access_recorded().pay_data());
    auto other_book = read("paul");
    other_book.mutable_record_access()->set_book_id("other");
    CHECK(code_of(p.submit(other_book, "paul")) == "not_permitted");  // the grant is for acme only
}

TEST_CASE("a limit on run_payroll covers the total a run states, and a run that states none exceeds it", "[payroll][limits]") {
    auto p = company();
    REQUIRE(code_of(p.submit(hire("jane", 6'000'000, "2025-01-01"), "hr")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"payroll-clerk","permissions":[{"command":"run_payroll","limits":[{"currency":"EUR","max_minor":"1000000"}]}]}})"), "alice")) ==
            "accepted");
    REQUIRE(code_of(p.submit(grant("pat", "payroll-clerk", "acme"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"set_permissions_enforced":{"realm":"security","enforced":true}})"), "alice")) == "accepted");
    auto stating = [](std::int64_t total) {
        auto r = run("r", "2026-11");
        r.mutable_run_payroll()->set_expected_total_minor(total);
        return r;
    };
    CHECK(code_of(p.submit(stating(500'000), "pat")) == "accepted");  // held for approval: inside pat's limit
    CHECK(code_of(p.submit(stating(1'000'001), "pat")) == "not_permitted");
    CHECK(code_of(p.submit(stating(0), "pat")) == "not_permitted");  // no stated total: above every limit
}

SCENARIO("a run states its total; nobody is hired into a paid period", "[payroll][rejections]") {
    GIVEN("jane, paid through November 2026") {
        auto p = company();
        REQUIRE(code_of(p.submit(hire("jane", 6'000'000, "2025-01-01"), "hr")) == "accepted");
        auto r = run("nov", "2026-11");
        r.mutable_run_payroll()->set_expected_total_minor(500'000);
        REQUIRE(recorded(run_approved(p, r)));
        THEN("a run without a stated total is payroll_total_missing") {
            auto none = run("dec", "2026-12");
            none.mutable_run_payroll()->set_expected_total_minor(0);
            CHECK(rejected(run_approved(p, none)) == "payroll_total_missing");
        }
        THEN("a hire dated in November (EUR) is payroll_period_paid; in December, or paid in USD, it is not") {
            CHECK(code_of(p.submit(hire("late", 1'200'000, "2026-11-30"), "hr")) == "payroll_period_paid");
            CHECK(code_of(p.submit(hire("dec", 1'200'000, "2026-12-01"), "hr")) == "accepted");
            CHECK(code_of(p.submit(hire("usd", 1'200'000, "2026-11-01", "USD"), "hr")) == "accepted");
        }
        THEN("a period past 9998-12 is payroll_period_invalid") {
            CHECK(rejected(run_approved(p, run("far", "9999-12"))) == "payroll_period_invalid");
        }
    }
}

TEST_CASE("pay data and personal data: a * permission does not open pay data; commands with personal data are never held", "[payroll][privacy]") {
    auto p = company();
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"everything","permissions":[{"command":"*"}]}})"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("max", "everything", "acme"), "alice")) == "accepted");
    auto read = parse(R"({"record_access":{"reader":"max","what":"payroll of book acme","book_id":"acme","pay_data":true}})");
    CHECK(code_of(p.submit(read, "max")) == "not_permitted");
    for (const auto* command : {"hire_employee", "register_counterparty"})
        CHECK(code_of(p.submit(parse(std::string(R"({"set_approval_policy":{"realm":"security","command":")") + command +
                                     R"(","book_id":"*","expires_after_s":60}})"),
                               "alice")) == "approval_policy_invalid");
    CHECK(payroll::subject_of("acme", "bob") == "employee acme/bob");  // no counterparty id has a space
}
