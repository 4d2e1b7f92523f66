#include "aggregates/payroll.h"

#include <algorithm>

#include "aggregates/billing.h"
#include "aggregates/validation.h"
#include "events/codec.h"
#include "events/int128.h"
#include "events/limits.h"

namespace daybook::aggregates::payroll {
namespace {

using events::keyed_state;
using decided = result<std::vector<v1::EventEnvelope>>;
using C = v1::CommandEnvelope;

const std::string id_rule = " must be 1-128 printable ASCII characters without spaces";

std::string row_key(const char* table, const std::string& book, const std::string& id) {
    std::string k = std::string("pay/") + table + "/" + book;
    k += '\0';
    return k + id;
}
std::string employee_key(const std::string& book, const std::string& employee) { return row_key("emp", book, employee); }
std::string run_key(const std::string& book, const std::string& run) { return row_key("run", book, run); }
std::string period_key(const std::string& book, const std::string& currency, const std::string& period) {
    return row_key("per", book, currency + '\0' + period);
}
std::string count_key(const std::string& book) { return "pay/count/" + book; }
// The latest period a run paid in the book and currency.
std::string paid_key(const std::string& book, const std::string& currency) { return row_key("paid", book, currency); }

rejection reject(rejection_code code, std::string field, std::string detail) {
    return rejection{code, std::move(field), std::move(detail)};
}

template <typename Fill>
v1::EventEnvelope event(const std::string& book, const std::string& date, Fill&& fill) {
    v1::EventEnvelope e;
    e.set_stream_id(stream_of(book));
    e.set_effective_date(date);
    fill(e);
    return e;
}

// YYYY-MM up to 9998-12 (a period's end is computed from the next month's first day).
bool valid_period(const std::string& p) { return p.size() == 7 && valid_date(p + "-01") && p < "9999"; }
std::string first_day(const std::string& period) { return period + "-01"; }
// The last day of a month: the day before the first of the next.
std::string last_day_of(const std::string& period) { return add_days(add_days(first_day(period), 31).substr(0, 7) + "-01", -1); }

bool salary_ok(std::int64_t s) { return s > 0 && s <= limits::salary_minor_max; }

std::optional<rejection> check_common(const std::string& book, const std::string& employee, const std::string& command) {
    if (!valid_id(book)) return reject(rejection_code::book_id_invalid, command + ".book_id", "book_id" + id_rule);
    if (!valid_id(employee)) return reject(rejection_code::employee_id_invalid, command + ".employee_id", "employee_id" + id_rule);
    return std::nullopt;
}

// A change dated `date` to an employee already paid through a period ending on or after it.
std::optional<rejection> check_paid(const v1::EmployeeState& emp, const std::string& date, const std::string& field) {
    if (emp.paid_through().empty() || date > last_day_of(emp.paid_through())) return std::nullopt;
    return reject(rejection_code::payroll_period_paid, field,
                  emp.hired().employee_id() + " was paid through " + emp.paid_through() + ": a change dated " + date +
                      " would alter a paid period (date it after " + last_day_of(emp.paid_through()) + ")");
}

// The employee a change dated `date` applies to: employee_not_found, employee_terminated, or
// payroll_date_invalid when the date is before the hire date.
result<v1::EmployeeState> employed(const keyed_state& state, const std::string& book, const std::string& employee, const std::string& date,
                                   const std::string& f, const std::string& date_field) {
    auto emp = find_employee(state, book, employee);
    if (!emp) return reject(rejection_code::employee_not_found, f + "employee_id", "no employee " + employee + " in " + book);
    if (!emp->last_day().empty()) return reject(rejection_code::employee_terminated, f + "employee_id", employee + " left on " + emp->last_day());
    if (date < emp->hired().hire_date())
        return reject(rejection_code::payroll_date_invalid, f + date_field,
                      date_field + " " + date + " is before the hire date " + emp->hired().hire_date());
    return *emp;
}

decided hire(const v1::HireEmployee& c, const keyed_state& state) {
    const std::string f = "hire_employee.";
    if (auto bad = check_common(c.book_id(), c.employee_id(), "hire_employee")) return *bad;
    if (c.name().empty() || c.name().size() > limits::memo_bytes_max)
        return reject(rejection_code::employee_name_invalid, f + "name", "name must be 1-" + std::to_string(limits::memo_bytes_max) + " bytes");
    if (!salary_ok(c.annual_salary_minor()))
        return reject(rejection_code::salary_invalid, f + "annual_salary_minor",
                      "annual salary must be 1.." + std::to_string(limits::salary_minor_max) + " minor units");
    if (!valid_currency(c.currency())) return reject(rejection_code::payroll_currency_invalid, f + "currency", "currency must be 3-12 of A-Z, 0-9");
    if (!valid_date(c.hire_date())) return reject(rejection_code::payroll_date_invalid, f + "hire_date", "hire_date must be YYYY-MM-DD");
    if (find_employee(state, c.book_id(), c.employee_id()))
        return reject(rejection_code::employee_already_exists, f + "employee_id", c.employee_id() + " is already an employee of " + c.book_id());
    if (auto paid = state.get(paid_key(c.book_id(), c.currency())); paid && c.hire_date() <= last_day_of(*paid))
        return reject(rejection_code::payroll_period_paid, f + "hire_date",
                      c.book_id() + " paid " + c.currency() + " salaries through " + *paid + ": a hire dated " + c.hire_date() +
                          " would never be paid for those days (date it after " + last_day_of(*paid) + ")");
    auto count = state.get(count_key(c.book_id()));
    if (count && events::read_be64(*count) >= limits::payroll_employees_max)
        return reject(rejection_code::payroll_employees_exhausted, f + "employee_id",
                      c.book_id() + " has " + std::to_string(limits::payroll_employees_max) + " employees, the most a book keeps");
    return std::vector{event(c.book_id(), c.hire_date(), [&](auto& e) {
        auto* h = e.mutable_employee_hired();
        h->set_book_id(c.book_id());
        h->set_employee_id(c.employee_id());
        h->set_name(c.name());  // sealed by the processor before it is appended
        h->set_annual_salary_minor(c.annual_salary_minor());
        h->set_currency(c.currency());
        h->set_hire_date(c.hire_date());
    })};
}

decided change_salary(const v1::ChangeSalary& c, const keyed_state& state) {
    const std::string f = "change_salary.";
    if (auto bad = check_common(c.book_id(), c.employee_id(), "change_salary")) return *bad;
    if (!salary_ok(c.annual_salary_minor()))
        return reject(rejection_code::salary_invalid, f + "annual_salary_minor",
                      "annual salary must be 1.." + std::to_string(limits::salary_minor_max) + " minor units");
    if (!valid_date(c.effective_from())) return reject(rejection_code::payroll_date_invalid, f + "effective_from", "effective_from must be YYYY-MM-DD");
    if (c.reason().size() > limits::memo_bytes_max) return reject(rejection_code::memo_too_long, f + "reason", "reason is longer than the memo limit");
    auto emp = employed(state, c.book_id(), c.employee_id(), c.effective_from(), f, "effective_from");
    if (!emp) return emp.error();
    if (auto paid = check_paid(*emp, c.effective_from(), f + "effective_from")) return *paid;
    const bool replaces = std::any_of(emp->salaries().begin(), emp->salaries().end(),
                                      [&](const auto& s) { return s.effective_from() == c.effective_from(); });
    if (!replaces && static_cast<std::size_t>(emp->salaries_size()) >= limits::mapping_versions_max)
        return reject(rejection_code::salary_versions_exhausted, f + "effective_from",
                      c.employee_id() + "'s salary has " + std::to_string(limits::mapping_versions_max) + " versions, the most kept");
    return std::vector{event(c.book_id(), c.effective_from(), [&](auto& e) {
        auto* s = e.mutable_salary_changed();
        s->set_book_id(c.book_id());
        s->set_employee_id(c.employee_id());
        s->set_annual_salary_minor(c.annual_salary_minor());
        s->set_effective_from(c.effective_from());
        s->set_reason(c.reason());
    })};
}

decided terminate(const v1::TerminateEmployee& c, const keyed_state& state) {
    const std::string f = "terminate_employee.";
    if (auto bad = check_common(c.book_id(), c.employee_id(), "terminate_employee")) return *bad;
    if (!valid_date(c.last_day())) return reject(rejection_code::payroll_date_invalid, f + "last_day", "last_day must be YYYY-MM-DD");
    if (c.reason().size() > limits::memo_bytes_max) return reject(rejection_code::memo_too_long, f + "reason", "reason is longer than the memo limit");
    auto emp = employed(state, c.book_id(), c.employee_id(), c.last_day(), f, "last_day");
    if (!emp) return emp.error();
    // Leaving on the last day of a paid month (or later) changes nothing paid.
    if (!emp->paid_through().empty() && c.last_day() < last_day_of(emp->paid_through()))
        return reject(rejection_code::payroll_period_paid, f + "last_day",
                      c.employee_id() + " was paid through " + emp->paid_through() + ": the last day cannot be before " +
                          last_day_of(emp->paid_through()));
    return std::vector{event(c.book_id(), c.last_day(), [&](auto& e) {
        auto* t = e.mutable_employee_terminated();
        t->set_book_id(c.book_id());
        t->set_employee_id(c.employee_id());
        t->set_last_day(c.last_day());
        t->set_reason(c.reason());
    })};
}

std::optional<rejection> check_account(const keyed_state& state, const v1::RunPayroll& c, const std::string& account,
                                       const std::string& field) {
    if (!valid_id(account)) return reject(rejection_code::payroll_account_invalid, field, "account id" + id_rule);
    auto a = ledger::find_account(state, events::book_id{c.book_id()}, events::account_id{account});
    if (!a) return reject(rejection_code::payroll_account_invalid, field, "no account " + account + " in book " + c.book_id());
    if (a->closed()) return reject(rejection_code::payroll_account_invalid, field, "account " + account + " is closed");
    if (a->currency() != c.currency())
        return reject(rejection_code::payroll_account_invalid, field,
                      "account " + account + " is in " + a->currency() + ", the run pays " + c.currency());
    return std::nullopt;
}

decided run(const v1::RunPayroll& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "run_payroll.";
    if (!valid_id(c.book_id())) return reject(rejection_code::book_id_invalid, f + "book_id", "book_id" + id_rule);
    if (!valid_id(c.run_id())) return reject(rejection_code::payroll_run_id_invalid, f + "run_id", "run_id" + id_rule);
    if (!valid_period(c.period())) return reject(rejection_code::payroll_period_invalid, f + "period", "period must be YYYY-MM");
    if (!valid_currency(c.currency())) return reject(rejection_code::payroll_currency_invalid, f + "currency", "currency must be 3-12 of A-Z, 0-9");
    if (!valid_date(c.pay_date())) return reject(rejection_code::payroll_date_invalid, f + "pay_date", "pay_date must be YYYY-MM-DD");
    if (c.expected_total_minor() <= 0)
        return reject(rejection_code::payroll_total_missing, f + "expected_total_minor",
                      "state the gross total the run pays (a preview shows it): the approver approves that figure");
    if (auto bad = check_account(state, c, c.expense_account_id(), f + "expense_account_id")) return *bad;
    if (auto bad = check_account(state, c, c.payable_account_id(), f + "payable_account_id")) return *bad;
    if (c.expense_account_id() == c.payable_account_id())
        return reject(rejection_code::payroll_account_invalid, f + "payable_account_id", "expense and payable must be different accounts");
    if (ctx.approver.empty() || ctx.approver == ctx.actor)
        return reject(rejection_code::payroll_unapproved, "actor", "a payroll run is decided only when another person approves it");
    if (state.get(run_key(c.book_id(), c.run_id())))
        return reject(rejection_code::payroll_run_exists, f + "run_id", "run " + c.run_id() + " exists in " + c.book_id());
    if (auto other = state.get(period_key(c.book_id(), c.currency(), c.period())))
        return reject(rejection_code::payroll_period_already_run, f + "period",
                      c.book_id() + " paid " + c.period() + " in " + c.currency() + " with run " + *other);
    if (auto locked = ledger::closed_through(state, events::book_id{c.book_id()}); !locked.empty() && c.pay_date() <= locked)
        return reject(rejection_code::period_closed, f + "pay_date", c.book_id() + " is closed through " + locked);
    auto r = preview(state, c.book_id(), c.period(), c.currency());
    const auto total = r.total_minor();
    if (total == 0)
        return reject(rejection_code::payroll_empty, f + "period", "nobody in " + c.book_id() + " is paid in " + c.currency() + " for " + c.period());
    if (c.expected_total_minor() != total)
        return reject(rejection_code::payroll_total_changed, f + "expected_total_minor",
                      "the run pays " + std::to_string(total) + ", not the " + std::to_string(c.expected_total_minor()) +
                          " expected: pay data changed since the preview; submit the run again");
    r.set_run_id(c.run_id());
    r.set_pay_date(c.pay_date());
    r.set_expense_account_id(c.expense_account_id());
    r.set_payable_account_id(c.payable_account_id());
    return std::vector{event(c.book_id(), c.pay_date(), [&](auto& e) { *e.mutable_payroll_run_recorded() = std::move(r); })};
}

template <typename M>
void write(keyed_state& state, const std::string& key, const M& m) {
    state.put(key, events::serialize(m));
}

}  // namespace

bool is_command(const v1::CommandEnvelope& command) {
    auto n = static_cast<int>(command.payload_case());
    return n >= 400 && n < 440;
}

bool is_event(const v1::EventEnvelope& event) {
    auto n = static_cast<int>(event.payload_case());
    return n >= 400 && n < 440;
}

std::string stream_of(const std::string& book) { return "payroll/" + book; }
// With a space, which no id has: never the subject of a counterparty ("<book>/<id>").
std::string subject_of(const std::string& book, const std::string& employee) { return "employee " + book + "/" + employee; }
std::string posting_id(const std::string& run_id) { return billing::posting_id("payroll", run_id); }

decided decide(const v1::CommandEnvelope& cmd, const keyed_state& state, const decide_context& ctx) {
    switch (cmd.payload_case()) {
        case C::kHireEmployee: return hire(cmd.hire_employee(), state);
        case C::kChangeSalary: return change_salary(cmd.change_salary(), state);
        case C::kTerminateEmployee: return terminate(cmd.terminate_employee(), state);
        case C::kRunPayroll: return run(cmd.run_payroll(), state, ctx);
        default: return reject(rejection_code::payload_missing, "payload", "not a payroll command");
    }
}

void evolve(keyed_state& state, const v1::EventEnvelope& e) {
    switch (e.payload_case()) {
        case v1::EventEnvelope::kEmployeeHired: {
            const auto& h = e.employee_hired();
            v1::EmployeeState emp;
            *emp.mutable_hired() = h;
            auto* s = emp.add_salaries();
            s->set_book_id(h.book_id());
            s->set_employee_id(h.employee_id());
            s->set_annual_salary_minor(h.annual_salary_minor());
            s->set_effective_from(h.hire_date());
            s->set_reason("hired");
            write(state, employee_key(h.book_id(), h.employee_id()), emp);
            auto count = state.get(count_key(h.book_id()));
            state.put(count_key(h.book_id()), events::be64((count ? events::read_be64(*count) : 0) + 1));
            break;
        }
        case v1::EventEnvelope::kSalaryChanged: {
            const auto& c = e.salary_changed();
            auto emp = find_employee(state, c.book_id(), c.employee_id());
            if (!emp) return;
            auto* list = emp->mutable_salaries();
            int at = 0;  // the first version dated on or after the change
            while (at < list->size() && list->Get(at).effective_from() < c.effective_from()) ++at;
            if (at < list->size() && list->Get(at).effective_from() == c.effective_from()) {
                *list->Mutable(at) = c;  // the same date replaces
            } else {
                *list->Add() = c;
                for (int i = list->size() - 1; i > at; --i) list->SwapElements(i, i - 1);
            }
            write(state, employee_key(c.book_id(), c.employee_id()), *emp);
            break;
        }
        case v1::EventEnvelope::kEmployeeTerminated: {
            const auto& t = e.employee_terminated();
            auto emp = find_employee(state, t.book_id(), t.employee_id());
            if (!emp) return;
            emp->set_last_day(t.last_day());
            write(state, employee_key(t.book_id(), t.employee_id()), *emp);
            break;
        }
        case v1::EventEnvelope::kPayrollRunRecorded: {
            const auto& r = e.payroll_run_recorded();
            write(state, run_key(r.book_id(), r.run_id()), r);
            state.put(period_key(r.book_id(), r.currency(), r.period()), r.run_id());
            if (auto paid = state.get(paid_key(r.book_id(), r.currency())); !paid || *paid < r.period())
                state.put(paid_key(r.book_id(), r.currency()), r.period());
            for (const auto& line : r.lines()) {
                auto emp = find_employee(state, r.book_id(), line.employee_id());
                if (!emp || emp->paid_through() >= r.period()) continue;
                emp->set_paid_through(r.period());
                write(state, employee_key(r.book_id(), line.employee_id()), *emp);
            }
            break;
        }
        default: break;
    }
}

std::optional<v1::EmployeeState> find_employee(const keyed_state& state, const std::string& book, const std::string& employee) {
    return events::parse_row<v1::EmployeeState>(state.get(employee_key(book, employee)));
}

std::vector<v1::EmployeeState> employees(const keyed_state& state, const std::string& book) {
    std::vector<v1::EmployeeState> out;
    for (const auto& [k, v] : state.scan(row_key("emp", book, ""), "", limits::payroll_employees_max))
        out.push_back(*events::parse_row<v1::EmployeeState>(v));
    return out;
}

std::vector<v1::PayrollRunRecorded> runs(const keyed_state& state, const std::string& book) {
    std::vector<v1::PayrollRunRecorded> out;
    for (const auto& [k, v] : state.scan(row_key("run", book, ""), "", 100000)) out.push_back(*events::parse_row<v1::PayrollRunRecorded>(v));
    return out;
}

std::int64_t salary_on(const v1::EmployeeState& emp, const std::string& date) {
    std::int64_t salary = 0;
    for (const auto& s : emp.salaries())  // in effective_from order
        if (s.effective_from() <= date) salary = s.annual_salary_minor();
    return salary;
}

v1::PayrollRunRecorded preview(const keyed_state& state, const std::string& book, const std::string& period, const std::string& currency) {
    v1::PayrollRunRecorded r;
    r.set_book_id(book);
    r.set_period(period);
    r.set_currency(currency);
    std::int64_t total = 0;  // cannot overflow: limits::salary_minor_max and payroll_employees_max
    for (const auto& emp : employees(state, book)) {
        if (emp.hired().currency() != currency) continue;
        auto line = pay_for(emp, period);
        if (!line) continue;
        total += line->gross_minor();
        *r.add_lines() = *line;
    }
    r.set_total_minor(total);
    return r;
}

std::optional<v1::PayrollLine> pay_for(const v1::EmployeeState& emp, const std::string& period) {
    const auto start = first_day(period), end = last_day_of(period);
    const auto from = std::max(start, emp.hired().hire_date());
    const auto to = emp.last_day().empty() ? end : std::min(end, emp.last_day());
    if (from > to) return std::nullopt;
    // The sum of each day's salary: each version covers the days from its date to the next one's.
    int128 sum = 0;
    const auto first = day_number(from), last = day_number(to);
    const auto& versions = emp.salaries();  // in effective_from order
    for (int i = 0; i < versions.size(); ++i) {
        const auto from_day = std::max(first, day_number(versions[i].effective_from()));
        const auto to_day = i + 1 < versions.size() ? std::min(last, day_number(versions[i + 1].effective_from()) - 1) : last;
        if (from_day <= to_day) sum += int128(versions[i].annual_salary_minor()) * (to_day - from_day + 1);
    }
    const auto days_in_month = day_number(end) - day_number(start) + 1;
    const int128 gross = divide_rounded(sum, int128(12) * days_in_month);
    v1::PayrollLine line;
    line.set_employee_id(emp.hired().employee_id());
    line.set_gross_minor(static_cast<std::int64_t>(gross));  // inside int64: limits::salary_minor_max
    line.set_days_paid(static_cast<std::uint32_t>(last - first + 1));
    return line;
}

}  // namespace daybook::aggregates::payroll
