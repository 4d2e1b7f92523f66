#pragma once
// General-ledger commands and events as plain structs. Protobuf (events/daybook.proto) is the wire
// format; events/ledger_codec.h converts. Deciders and projections only see these structs.

#include <compare>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace daybook::events {

// A distinct identifier type per kind of id, so a book id cannot be passed as an account id.
template <typename Tag>
struct id {
    std::string value;
    auto operator<=>(const id&) const = default;
};
using book_id = id<struct book_tag>;
using account_id = id<struct account_tag>;
using entry_id = id<struct entry_tag>;
using hold_id = id<struct hold_tag>;

// Numbers match daybook.v1.AccountType and daybook.v1.Side; 0 means "not given".
enum class account_type : std::uint8_t { unspecified = 0, asset, liability, equity, revenue, expense };
enum class side : std::uint8_t { unspecified = 0, debit, credit };

// Integer minor units of an explicit currency or asset code. Never floating point.
struct money {
    std::int64_t minor_units = 0;
    std::string currency;
    bool operator==(const money&) const = default;
};

// Numbers match daybook.v1.AccountRole.
enum class account_role : std::uint8_t {
    unspecified = 0, receivable, payable, revenue, expense, tax_payable, tax_receivable,
    customer_advances, supplier_advances, bank
};

struct leg {
    account_id account;
    side direction = side::unspecified;
    money amount;
    // Set by process managers instead of the account; the ledger resolves it (see SetAccountMapping).
    account_role role = account_role::unspecified;
    bool operator==(const leg&) const = default;
};

struct role_account {
    account_role role = account_role::unspecified;
    account_id account;
    bool operator==(const role_account&) const = default;
};

// Balance constraints of an account (see daybook.proto AccountConstraints).
struct constraints {
    bool debits_must_not_exceed_credits = false;
    bool credits_must_not_exceed_debits = false;
    std::int64_t limit_minor = 0;
    bool operator==(const constraints&) const = default;
};

// Commands.
struct open_account {
    book_id book;
    account_id account;
    std::string name;
    account_type type = account_type::unspecified;
    std::string currency;
    std::uint32_t scale = 0;
    account_id parent;  // empty: a root account
    constraints limits;
    bool operator==(const open_account&) const = default;
};

struct set_account_constraints {
    book_id book;
    account_id account;
    constraints limits;
    bool operator==(const set_account_constraints&) const = default;
};

struct close_account {
    book_id book;
    account_id account;
    bool operator==(const close_account&) const = default;
};

struct reopen_account {
    book_id book;
    account_id account;
    bool operator==(const reopen_account&) const = default;
};

struct place_hold {
    book_id book;
    hold_id hold;
    account_id debit;
    account_id credit;
    money amount;
    std::int64_t expires_at_ms = 0;
    std::string memo;
    bool operator==(const place_hold&) const = default;
};

struct increase_hold {
    book_id book;
    hold_id hold;
    std::int64_t amount_minor = 0;
    bool operator==(const increase_hold&) const = default;
};

struct capture_hold {
    book_id book;
    hold_id hold;
    entry_id entry;
    std::int64_t amount_minor = 0;
    std::string effective_date;
    bool final = false;
    std::string memo;
    bool operator==(const capture_hold&) const = default;
};

struct release_hold {
    book_id book;
    hold_id hold;
    bool operator==(const release_hold&) const = default;
};

struct expire_holds {
    book_id book;
    bool operator==(const expire_holds&) const = default;
};

struct reverse_entry {
    book_id book;
    entry_id entry;
    entry_id reversal;
    std::string effective_date;
    std::string memo;
    bool operator==(const reverse_entry&) const = default;
};

struct close_period {
    book_id book;
    std::string through_date;
    bool operator==(const close_period&) const = default;
};

struct reopen_period {
    book_id book;
    std::string through_date;
    bool operator==(const reopen_period&) const = default;
};

struct seal_period {
    book_id book;
    std::string through_date;
    std::string trial_balance_sha256;
    std::string chain_heads;
    bool operator==(const seal_period&) const = default;
};

struct set_book_calendar {
    book_id book;
    std::int32_t utc_offset_minutes = 0;
    std::uint32_t cutoff_minutes = 0;
    std::uint32_t fiscal_year_start_month = 0;
    bool operator==(const set_book_calendar&) const = default;
};

struct set_account_mapping {
    book_id book;
    std::string effective_from;  // YYYY-MM-DD
    std::vector<role_account> accounts;
    bool operator==(const set_account_mapping&) const = default;
};

struct post_entry {
    book_id book;
    entry_id entry;
    std::string effective_date;  // YYYY-MM-DD
    std::string memo;
    std::vector<leg> legs;
    bool adjustment = false;  // period 13
    bool operator==(const post_entry&) const = default;
};

struct close_year {
    book_id book;
    std::string fiscal_year_end;
    entry_id entry;
    account_id retained_earnings;
    std::string memo;
    bool operator==(const close_year&) const = default;
};

// Events.
struct account_opened {
    book_id book;
    account_id account;
    std::string name;
    account_type type = account_type::unspecified;
    std::string currency;
    std::uint32_t scale = 0;
    account_id parent;
    constraints limits;
    bool operator==(const account_opened&) const = default;
};

struct entry_posted {
    book_id book;
    entry_id entry;
    std::string effective_date;
    std::string memo;
    std::vector<leg> legs;
    entry_id reversal_of;  // empty unless this entry reverses another
    bool adjustment = false;  // period 13
    bool closing = false;     // the year-end closing entry
    bool operator==(const entry_posted&) const = default;
};

struct year_closed {
    book_id book;
    std::string fiscal_year_end;
    entry_id entry;
    std::string closed_by;
    bool operator==(const year_closed&) const = default;
};

struct account_constraints_changed {
    book_id book;
    account_id account;
    constraints limits;
    bool operator==(const account_constraints_changed&) const = default;
};

struct account_closed {
    book_id book;
    account_id account;
    bool operator==(const account_closed&) const = default;
};

struct account_reopened {
    book_id book;
    account_id account;
    bool operator==(const account_reopened&) const = default;
};

struct hold_placed {
    book_id book;
    hold_id hold;
    account_id debit;
    account_id credit;
    money amount;
    std::int64_t expires_at_ms = 0;
    std::string memo;
    bool operator==(const hold_placed&) const = default;
};

struct hold_increased {
    book_id book;
    hold_id hold;
    std::int64_t amount_minor = 0;
    bool operator==(const hold_increased&) const = default;
};

// A capture posts `amount` from debit to credit and takes amount + released off the pending sums.
struct hold_captured {
    book_id book;
    hold_id hold;
    entry_id entry;
    money amount;
    std::string effective_date;
    std::int64_t released_minor = 0;
    account_id debit;
    account_id credit;
    std::string memo;
    bool operator==(const hold_captured&) const = default;
};

struct hold_released {
    book_id book;
    hold_id hold;
    std::int64_t released_minor = 0;
    account_id debit;
    account_id credit;
    bool operator==(const hold_released&) const = default;
};

struct hold_expired {
    book_id book;
    hold_id hold;
    std::int64_t released_minor = 0;
    account_id debit;
    account_id credit;
    bool operator==(const hold_expired&) const = default;
};

struct period_closed {
    book_id book;
    std::string through_date;
    std::string closed_by;
    bool operator==(const period_closed&) const = default;
};

struct period_reopened {
    book_id book;
    std::string through_date;
    std::string reopened_by;
    bool operator==(const period_reopened&) const = default;
};

struct period_sealed {
    book_id book;
    std::string through_date;
    std::string trial_balance_sha256;
    std::string chain_heads;
    std::string sealed_by;
    bool operator==(const period_sealed&) const = default;
};

struct book_calendar_set {
    book_id book;
    std::int32_t utc_offset_minutes = 0;
    std::uint32_t cutoff_minutes = 0;
    std::uint32_t fiscal_year_start_month = 0;
    bool operator==(const book_calendar_set&) const = default;
};

struct account_mapping_set {
    book_id book;
    std::string effective_from;
    std::vector<role_account> accounts;
    bool operator==(const account_mapping_set&) const = default;
};

struct entry_repeat_acknowledged {
    book_id book;
    entry_id entry;
    bool operator==(const entry_repeat_acknowledged&) const = default;
};

using ledger_command =
    std::variant<open_account, post_entry, set_account_constraints, close_account, reopen_account,
                 place_hold, increase_hold, capture_hold, release_hold, expire_holds, reverse_entry,
                 close_period, reopen_period, set_book_calendar, set_account_mapping, seal_period, close_year>;
using ledger_event =
    std::variant<account_opened, entry_posted, account_constraints_changed, account_closed,
                 account_reopened, hold_placed, hold_increased, hold_captured, hold_released,
                 hold_expired, period_closed, period_reopened, entry_repeat_acknowledged,
                 book_calendar_set, account_mapping_set, period_sealed, year_closed>;

}  // namespace daybook::events
