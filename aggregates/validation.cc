#include "aggregates/validation.h"

#include <chrono>
#include <cstdio>

#include "events/limits.h"

namespace daybook::aggregates {

bool valid_id(std::string_view id) {
    if (id.empty() || id.size() > limits::id_bytes_max) return false;
    for (unsigned char c : id)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

bool valid_currency(std::string_view code) {
    if (code.size() < 3 || code.size() > 12) return false;
    for (char c : code)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

bool valid_date(std::string_view d) {
    if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
        if (d[i] < '0' || d[i] > '9') return false;
    auto num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v * 10 + (d[at + i] - '0');
        return v;
    };
    int year = num(0, 4), month = num(5, 2), day = num(8, 2);
    if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int max_day = days[month - 1] + (month == 2 && leap ? 1 : 0);
    return day <= max_day;
}

std::int64_t day_number(std::string_view d) {
    using namespace std::chrono;
    auto num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v * 10 + (d[at + i] - '0');
        return v;
    };
    year_month_day ymd{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))}, day{static_cast<unsigned>(num(8, 2))}};
    return sys_days{ymd}.time_since_epoch().count();
}

std::string date_of_day(std::int64_t day) { return utc_date(day * 86'400'000); }

std::string add_days(std::string_view date, int days) { return date_of_day(day_number(date) + days); }

std::string utc_date(std::int64_t ms) {
    using namespace std::chrono;
    year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(ms)))};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    return buf;
}

std::optional<std::int64_t> parse_instant(std::string_view t) {
    constexpr std::int64_t day_ms = 86'400'000;
    auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        if (at + n > t.size()) return std::nullopt;
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (t[at + i] < '0' || t[at + i] > '9') return std::nullopt;
            v = v * 10 + (t[at + i] - '0');
        }
        return v;
    };
    if (!t.empty() && t.size() <= 15 && t.find_first_not_of("0123456789") == std::string_view::npos)
        return std::stoll(std::string(t));
    if (t.size() < 10 || !valid_date(t.substr(0, 10))) return std::nullopt;
    auto day = day_number(t.substr(0, 10));
    if (t.size() == 10) return (day + 1) * day_ms - 1;
    auto h = digits(11, 2), m = digits(14, 2), sec = digits(17, 2);
    if (t[10] != 'T' || t.size() < 20 || t[13] != ':' || t[16] != ':' || !h || !m || !sec || *h > 23 || *m > 59 || *sec > 59)
        return std::nullopt;
    std::int64_t ms = 0;
    std::size_t at = 19;
    if (t[at] == '.') {
        auto frac = digits(20, 3);
        if (!frac) return std::nullopt;
        ms = *frac;
        at = 23;
    }
    if (at + 1 != t.size() || t[at] != 'Z') return std::nullopt;
    return day * day_ms + ((*h * 60 + *m) * 60 + *sec) * 1000LL + ms;
}

}  // namespace daybook::aggregates
