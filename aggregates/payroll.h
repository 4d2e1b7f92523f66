#pragma once
// Payroll: a book's employees (hire, salary changes, termination) and its payroll runs, one
// aggregate per book (stream "payroll/<book>", routing key book_id, so it shares the book's
// partition and sees its accounts and period lock).
//
// Pay is an annual salary in minor units of one currency per employee, effective-dated (a change
// applies from its effective_from; the same date replaces). A run pays one month (period
// YYYY-MM) in one currency, to every employee paid in it who was employed on a day of the month:
//   gross = round(sum over the days employed in the month of the annual salary that day
//                 / (12 x days in the month)),  half away from zero,
// so a full month is exactly annual/12 (rounded) and a hire, leave or raise mid-month is paid by
// the day. The run is recorded with one line per employee (gross, days paid); the process
// managers post it as one entry (debit expense, credit payable, dated pay_date, entry id
// "payroll:<run>", like the billing postings' ids).
//
// Permissions: a role's limit on run_payroll applies to the run's expected_total_minor
// (aggregates/security.h, facts_of). Reading pay data needs a role naming read_pay_data
// ("*" does not cover it); GET /v1/events shows payroll events' payloads redacted.
//
// Four eyes: run_payroll is always held for approval (aggregates/security.h rule 2, built in;
// a configured policy for run_payroll sets its window) and decided only when another person with
// a role that may approve run_payroll approves it -- the approver is in the run's event. A paid
// period is final: no salary change or termination may be dated inside it (payroll_period_paid),
// so what a run paid can always be recomputed from the log; nor may anyone be hired into a paid
// period (they would never be paid for it).
//
// Personal data: the employee's name is sealed like a counterparty's (consumers/keystore.h,
// subject "employee <book>/<id>": with a space, which no id has, so never a counterparty's
// subject). Pay amounts stay readable in the log: runs must be
// recomputable and kept for the statutory retention period (GDPR art. 17(3)(b)); reads of them go
// through record_access with pay_data (aggregates/security.h), which always needs a role with
// read_pay_data, and every such read, refused or not, is in the log.
//
// decide checks rules in this fixed order and returns the first that is broken:
//   hire_employee:      book_id_invalid, employee_id_invalid, employee_name_invalid,
//                       salary_invalid, payroll_currency_invalid, payroll_date_invalid
//                       (hire_date), employee_already_exists, payroll_period_paid (hired on or
//                       before the end of the latest period paid in that currency),
//                       payroll_employees_exhausted.
//   change_salary:      book_id_invalid, employee_id_invalid, salary_invalid,
//                       payroll_date_invalid (effective_from), memo_too_long (reason),
//                       employee_not_found, employee_terminated, payroll_date_invalid (before
//                       the hire date), payroll_period_paid, salary_versions_exhausted.
//   terminate_employee: book_id_invalid, employee_id_invalid, payroll_date_invalid (last_day),
//                       memo_too_long, employee_not_found, employee_terminated,
//                       payroll_date_invalid (before the hire date), payroll_period_paid (a
//                       last day before the end of a paid period).
//   run_payroll:        book_id_invalid, payroll_run_id_invalid, payroll_period_invalid,
//                       payroll_currency_invalid, payroll_date_invalid (pay_date),
//                       payroll_total_missing (expected_total_minor not positive: the maker
//                       states the figure the checker approves), payroll_account_invalid
//                       (expense, then payable: malformed, unknown, closed, another currency;
//                       then the two the same), payroll_unapproved, payroll_run_exists,
//                       payroll_period_already_run (the book's period in this currency),
//                       period_closed (pay_date in the book's closed period), payroll_empty,
//                       payroll_total_changed (not what the run pays: pay data changed since the
//                       preview).

#include <optional>
#include <string>
#include <vector>

#include "aggregates/ledger.h"
#include "daybook.pb.h"
#include "events/keyed_state.h"
#include "events/result.h"

namespace daybook::aggregates::payroll {

// How long a held payroll run waits for approval when no policy for run_payroll says otherwise.
inline constexpr std::int64_t approval_window_ms = 3LL * 24 * 3600 * 1000;

bool is_command(const v1::CommandEnvelope& command);
bool is_event(const v1::EventEnvelope& event);
// ctx.approver: who approved the command (empty when it was not held).
result<std::vector<v1::EventEnvelope>> decide(const v1::CommandEnvelope& command, const events::keyed_state& state,
                                              const decide_context& ctx);
void evolve(events::keyed_state& state, const v1::EventEnvelope& event);

std::optional<v1::EmployeeState> find_employee(const events::keyed_state& state, const std::string& book,
                                               const std::string& employee);
// The book's employees in id order; its runs in run id order.
std::vector<v1::EmployeeState> employees(const events::keyed_state& state, const std::string& book);
std::vector<v1::PayrollRunRecorded> runs(const events::keyed_state& state, const std::string& book);
// The annual salary in effect on `date` (0 before the hire date).
std::int64_t salary_on(const v1::EmployeeState& employee, const std::string& date);
// The employee's line of a run for `period` (YYYY-MM): nullopt when not employed in it.
std::optional<v1::PayrollLine> pay_for(const v1::EmployeeState& employee, const std::string& period);
// What a run of `period` in `currency` would pay now (book, period, currency, lines, total; no
// run id or accounts): the figure a submitter states as expected_total_minor.
v1::PayrollRunRecorded preview(const events::keyed_state& state, const std::string& book, const std::string& period,
                               const std::string& currency);

std::string stream_of(const std::string& book);
std::string subject_of(const std::string& book, const std::string& employee);
// The ledger entry a run is posted as: "payroll:<run id>" (billing::posting_id).
std::string posting_id(const std::string& run_id);

}  // namespace daybook::aggregates::payroll
