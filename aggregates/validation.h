#pragma once
// Shape checks shared by every decider: identifiers, currency codes, calendar dates.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace daybook::aggregates {

// 1..limits::id_bytes_max bytes of printable ASCII without spaces.
bool valid_id(std::string_view id);
// 3..12 characters of [A-Z0-9] (ISO 4217 codes and asset codes such as "XAU" or "USDC").
bool valid_currency(std::string_view code);
// A real calendar date written YYYY-MM-DD, years 1900..9999.
bool valid_date(std::string_view date);
// UTC calendar date YYYY-MM-DD of a time in milliseconds since the epoch.
std::string utc_date(std::int64_t ms);
// Days since 1970-01-01 of a valid date, and back; add_days(d, n) is the date n days after d.
std::int64_t day_number(std::string_view date);
std::string date_of_day(std::int64_t day);
std::string add_days(std::string_view date, int days);
// A moment given as YYYY-MM-DD (the last millisecond of that UTC day), YYYY-MM-DDTHH:MM:SS[.mmm]Z,
// or milliseconds since the epoch; nullopt for anything else (known-at queries).
std::optional<std::int64_t> parse_instant(std::string_view text);

}  // namespace daybook::aggregates
