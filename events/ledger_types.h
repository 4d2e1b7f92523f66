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

// Numbers match daybook.v1.AccountType and daybook.v1.Side; 0 means "not given".
enum class account_type : std::uint8_t { unspecified = 0, asset, liability, equity, revenue, expense };
enum class side : std::uint8_t { unspecified = 0, debit, credit };

// Integer minor units of an explicit currency or asset code. Never floating point.
struct money {
    std::int64_t minor_units = 0;
    std::string currency;
    bool operator==(const money&) const = default;
};

struct leg {
    account_id account;
    side direction = side::unspecified;
    money amount;
    bool operator==(const leg&) const = default;
};

// Commands.
struct open_account {
    book_id book;
    account_id account;
    std::string name;
    account_type type = account_type::unspecified;
    std::string currency;
    std::uint32_t scale = 0;
    bool operator==(const open_account&) const = default;
};

struct post_entry {
    book_id book;
    entry_id entry;
    std::string effective_date;  // YYYY-MM-DD
    std::string memo;
    std::vector<leg> legs;
    bool operator==(const post_entry&) const = default;
};

// Events.
struct account_opened {
    book_id book;
    account_id account;
    std::string name;
    account_type type = account_type::unspecified;
    std::string currency;
    std::uint32_t scale = 0;
    bool operator==(const account_opened&) const = default;
};

struct entry_posted {
    book_id book;
    entry_id entry;
    std::string effective_date;
    std::string memo;
    std::vector<leg> legs;
    bool operator==(const entry_posted&) const = default;
};

using ledger_command = std::variant<open_account, post_entry>;
using ledger_event = std::variant<account_opened, entry_posted>;

}  // namespace daybook::events
