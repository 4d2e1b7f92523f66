#pragma once
// Limits that hold everywhere (DESIGN.md rule 9). Relationships are checked at compile time.

#include <cstddef>
#include <cstdint>
#include <limits>

namespace daybook::limits {

// Largest command record value accepted from daybook.commands. Larger records are rejected with
// command_too_large (when the command_id can still be read) or sent to the DLQ.
inline constexpr std::size_t command_bytes_max = 512 * 1024;
// Largest sealed event record Daybook produces; checked before produce (result_too_large).
inline constexpr std::size_t event_bytes_max = 900 * 1024;
// Topic max.message.bytes for every Daybook topic.
inline constexpr std::size_t topic_message_bytes_max = 1024 * 1024;
// Identifiers (command, book, account, entry ids): 1..id_bytes_max printable ASCII bytes.
inline constexpr std::size_t id_bytes_max = 128;
inline constexpr std::size_t account_name_bytes_max = 200;
inline constexpr std::size_t memo_bytes_max = 1000;
// Legs of one journal entry: at least 2, at most entry_legs_max.
inline constexpr std::size_t entry_legs_max = 1024;
// Commands in one linked run (TigerBeetle's batch bound), all in one record of at most
// command_bytes_max.
inline constexpr std::size_t linked_run_commands_max = 8189;
// Decimal places of a currency or asset code.
inline constexpr std::uint32_t currency_scale_max = 9;

static_assert(command_bytes_max < event_bytes_max);
// The smallest useful command (a two-leg entry with short ids) is ~60 bytes: a full run fits.
static_assert(linked_run_commands_max * 60 < command_bytes_max);
static_assert(event_bytes_max + 64 * 1024 < topic_message_bytes_max,
              "an event record plus its framing must fit a topic message");
// A posted entry's event holds its legs: the worst case must fit one event record.
static_assert(entry_legs_max * (2 * id_bytes_max + 32) + memo_bytes_max + 4096 < event_bytes_max);

// Lines of one invoice or bill.
inline constexpr std::size_t invoice_lines_max = 200;
// Allocations one allocate_payment asks for, and allocations one invoice or payment keeps.
inline constexpr std::size_t allocations_per_command_max = 100;
inline constexpr std::size_t allocations_max = 1000;
// Credit notes one invoice keeps.
inline constexpr std::size_t credit_notes_max = 1000;
// Longest payment term.
inline constexpr std::uint32_t payment_terms_days_max = 3650;

// Versions of one role's account mapping a book keeps (set_account_mapping). Reference data
// changes rarely; the bound keeps the lookup a bounded scan.
inline constexpr std::size_t mapping_versions_max = 1000;

// Highest annual salary, in minor units (10^13: 100 billion in a two-decimal currency).
inline constexpr std::int64_t salary_minor_max = 10'000'000'000'000;
// Employees one book may hire: a run's event (a line each) stays far inside the record size limit.
inline constexpr std::size_t payroll_employees_max = 5000;
// So no gross pay and no run's total can overflow int64: a month pays at most 31/(12 x 28) of
// the annual salary to each employee.
// Integer arithmetic only (31 x 10^13 fits int64).
static_assert(salary_minor_max * 31 / (12 * 28) + 1 <=
              std::numeric_limits<std::int64_t>::max() / static_cast<std::int64_t>(payroll_employees_max));

}  // namespace daybook::limits
