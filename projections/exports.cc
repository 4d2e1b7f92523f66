#include "projections/exports.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "events/codec.h"
#include "events/hashing.h"
#include "events/int128.h"
#include "projections/ledger_projection.h"

namespace daybook::projections {
namespace {

using events::json_string;

// One output row: named columns, written as CSV (RFC 4180 quoting) or as a JSON object whose
// values are all strings (amounts are decimal text of integer minor units).
struct table {
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
};

std::string csv_field(const std::string& v) {
    if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
    std::string out = "\"";
    for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string render(const table& t, const std::string& format) {
    std::string out;
    if (format == "csv") {
        for (std::size_t i = 0; i < t.columns.size(); ++i) out += (i ? "," : "") + csv_field(t.columns[i]);
        out += "\r\n";
        for (const auto& r : t.rows) {
            for (std::size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + csv_field(r[i]);
            out += "\r\n";
        }
        return out;
    }
    for (const auto& r : t.rows) {
        out += "{";
        for (std::size_t i = 0; i < r.size(); ++i) out += (i ? "," : "") + json_string(t.columns[i]) + ":" + json_string(r[i]);
        out += "}\n";
    }
    return out;
}

std::string side_name(v1::Side s) { return s == v1::SIDE_DEBIT ? "debit" : s == v1::SIDE_CREDIT ? "credit" : "?"; }

// UTC time of a millisecond timestamp, ISO 8601 with milliseconds.
std::string utc_time(std::int64_t ms) {
    std::int64_t days = ms / 86400000, rest = ms % 86400000;
    if (rest < 0) rest += 86400000, --days;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    std::int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    std::int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    std::int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y),
                  static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(rest / 3600000),
                  static_cast<long long>(rest / 60000 % 60), static_cast<long long>(rest / 1000 % 60),
                  static_cast<long long>(rest % 1000));
    return buf;
}

// Who entered an entry: people through the gateway or CLI, or Daybook's own roles.
std::string entry_kind(const std::string& source) {
    return source == "client" || source == "api" || source == "dlq-resubmit" || source.empty() ? "manual" : "system";
}

struct totals {
    int128 debits = 0, credits = 0;
};

std::vector<v1::EntryView> entries_in_order(const store& s, const std::string& book, const std::string& as_of,
                                            std::optional<std::int64_t> known_at_ms) {
    std::vector<v1::EntryView> out;
    std::string prefix = "entry/" + book + '\0';
    s.scan(prefix, [&](std::string_view, std::string_view v) {
        v1::EntryView e;
        e.ParseFromArray(v.data(), static_cast<int>(v.size()));
        if ((as_of.empty() || e.entry().effective_date() <= as_of) && (!known_at_ms || e.recorded_at_ms() <= *known_at_ms))
            out.push_back(std::move(e));
        return true;
    });
    std::sort(out.begin(), out.end(), [](const v1::EntryView& a, const v1::EntryView& b) {
        return std::tuple(a.entry().effective_date(), a.partition(), a.seq()) <
               std::tuple(b.entry().effective_date(), b.partition(), b.seq());
    });
    return out;
}

table journal(const std::vector<v1::EntryView>& entries, std::map<std::string, totals>& control) {
    table t{{"entry_id", "effective_date", "line", "account_id", "side", "amount_minor", "currency", "memo", "reversal_of",
             "recorded_at", "actor", "command_id"},
            {}};
    for (const auto& e : entries) {
        int line = 0;
        for (const auto& l : e.entry().legs()) {
            auto& c = control[l.currency()];
            (l.side() == v1::SIDE_DEBIT ? c.debits : c.credits) += l.amount_minor();
            t.rows.push_back({e.entry().entry_id(), e.entry().effective_date(), std::to_string(++line), l.account_id(),
                              side_name(l.side()), std::to_string(l.amount_minor()), l.currency(), e.entry().memo(),
                              e.entry().reversal_of(), utc_time(e.recorded_at_ms()), e.actor(), e.command_id()});
        }
    }
    return t;
}

table jet(const std::vector<v1::EntryView>& entries, std::map<std::string, totals>& control) {
    table t{{"entry_id", "effective_date", "period", "recorded_at", "created_by", "approved_by", "entry_kind", "source",
             "correlation_id", "command_id", "reversal_of", "currency", "legs", "debits_minor", "credits_minor"},
            {}};
    for (const auto& e : entries) {
        std::map<std::string, std::pair<totals, int>> per_currency;
        for (const auto& l : e.entry().legs()) {
            auto& [sum, legs] = per_currency[l.currency()];
            (l.side() == v1::SIDE_DEBIT ? sum.debits : sum.credits) += l.amount_minor();
            ++legs;
        }
        for (const auto& [currency, item] : per_currency) {
            auto& c = control[currency];
            c.debits += item.first.debits;
            c.credits += item.first.credits;
            std::string approvers;
            for (const auto& a : e.approvers()) approvers += (approvers.empty() ? "" : ";") + a;
            // Period: the month, or the year's period 13 for audit adjustments and the closing entry.
            const auto& d = e.entry().effective_date();
            auto period = e.entry().adjustment() || e.entry().closing() ? d.substr(0, 4) + "-13" : d.substr(0, 7);
            t.rows.push_back({e.entry().entry_id(), d, period, utc_time(e.recorded_at_ms()), e.actor(), approvers,
                              e.entry().closing() ? "closing" : entry_kind(e.source()), e.source(),
                              e.correlation_id(), e.command_id(), e.entry().reversal_of(), currency,
                              std::to_string(item.second), to_decimal(item.first.debits), to_decimal(item.first.credits)});
        }
    }
    return t;
}

table trial_balance_table(const store& s, const std::string& book, const std::string& as_of,
                          std::optional<std::int64_t> known_at_ms, std::map<std::string, totals>& control) {
    table t{{"account_id", "name", "type", "parent_account_id", "currency", "scale", "debits_minor", "credits_minor",
             "balance_minor"},
            {}};
    for (const auto& a : accounts_as_of(s, book, as_of, known_at_ms)) {
        auto& c = control[a.currency()];
        c.debits += a.debits_minor();
        c.credits += a.credits_minor();
        t.rows.push_back({a.account_id(), a.name(), v1::AccountType_Name(a.type()), a.parent_account_id(), a.currency(),
                          std::to_string(a.scale()), std::to_string(a.debits_minor()), std::to_string(a.credits_minor()),
                          to_decimal(int128(a.debits_minor()) - a.credits_minor())});
    }
    return t;
}

table statement_table(const store& s, const std::string& book, const std::string& account,
                      std::map<std::string, totals>& control, const std::string& currency) {
    table t{{"line", "entry_id", "effective_date", "memo", "side", "amount_minor", "balance_minor", "partition", "seq"}, {}};
    std::uint64_t after = 0;
    for (;;) {
        auto lines = statement(s, book, account, after, 1000);
        for (const auto& l : lines) {
            auto& c = control[currency];
            (l.side() == v1::SIDE_DEBIT ? c.debits : c.credits) += l.amount_minor();
            t.rows.push_back({std::to_string(l.line()), l.entry_id(), l.effective_date(), l.memo(), side_name(l.side()),
                              std::to_string(l.amount_minor()), std::to_string(l.balance_minor()),
                              std::to_string(l.partition()), std::to_string(l.seq())});
        }
        if (lines.size() < 1000) return t;
        after = lines.back().line();
    }
}

}  // namespace

result<export_result, std::string> export_report(const store& s, const export_request& r) {
    if (r.format != "csv" && r.format != "jsonl") return std::string("format is csv or jsonl");
    std::map<std::string, totals> control;
    table t;
    if (r.report == "journal" || r.report == "jet") {
        auto entries = entries_in_order(s, r.book, r.as_of, r.known_at_ms);
        t = r.report == "journal" ? journal(entries, control) : jet(entries, control);
    } else if (r.report == "trial-balance") {
        t = trial_balance_table(s, r.book, r.as_of, r.known_at_ms, control);
    } else if (r.report == "statement") {
        auto account = find_balance(s, r.book, r.account);
        if (!account) return "account " + r.account + " is not in book " + r.book;
        t = statement_table(s, r.book, r.account, control, account->currency());
    } else {
        return "unknown report " + r.report + " (journal, jet, trial-balance, statement)";
    }
    export_result out;
    out.data = render(t, r.format);

    // What the export was computed from: enough to regenerate it by a replay to these positions.
    std::string positions;
    s.scan("pos/", [&](std::string_view k, std::string_view v) {
        v1::PartitionPosition pos;
        pos.ParseFromArray(v.data(), static_cast<int>(v.size()));
        auto p = events::read_be64(std::string(4, '\0') + std::string(k.substr(4)));
        positions += (positions.empty() ? "" : ",") + std::string("{\"partition\":") + std::to_string(p) +
                     ",\"seq\":" + std::to_string(pos.seq()) + ",\"head_hex\":" + json_string(events::to_hex(pos.head())) + "}";
        return true;
    });
    std::string totals_json;
    bool ties = true;
    for (const auto& [currency, c] : control) {
        totals_json += (totals_json.empty() ? "" : ",") + std::string("{\"currency\":") + json_string(currency) +
                       ",\"debits_minor\":\"" + to_decimal(c.debits) + "\",\"credits_minor\":\"" + to_decimal(c.credits) + "\"}";
    }
    // Journal and JET control totals tie to the trial balance of the same state, as of the same
    // date and as known at the same time.
    std::string tie;
    if (r.report == "journal" || r.report == "jet") {
        std::map<std::string, totals> tb;
        auto accounts = accounts_as_of(s, r.book, r.as_of, r.known_at_ms);
        for (const auto& row : accounts.empty() ? std::vector<v1::TrialBalanceRow>{} : trial_balance_of(accounts)) {
            tb[row.currency()].debits += parse_decimal(row.debits_minor());
            tb[row.currency()].credits += parse_decimal(row.credits_minor());
        }
        for (const auto& [currency, c] : control)
            ties &= tb.count(currency) && tb[currency].debits == c.debits && tb[currency].credits == c.credits;
        ties &= tb.size() == control.size();
        tie = std::string(",\"ties_to_trial_balance\":") + (ties ? "true" : "false");
    }
    events::sha256_hasher h;
    h.add(out.data);
    out.certificate = "{\"report\":" + json_string(r.report) + ",\"parameters\":{\"book\":" + json_string(r.book) +
                      ",\"account\":" + json_string(r.account) + ",\"as_of\":" + json_string(r.as_of) +
                      ",\"known_at_ms\":" + (r.known_at_ms ? std::to_string(*r.known_at_ms) : std::string("null")) +
                      ",\"format\":" + json_string(r.format) + "},\"software_version\":" + json_string(r.software_version) +
                      ",\"computed_from\":{\"positions\":[" + positions + "],\"state_digest\":" +
                      json_string(state_digest(s)) + "},\"rows\":" + std::to_string(t.rows.size()) +
                      ",\"control_totals\":[" + totals_json + "]" + tie + ",\"sha256\":" +
                      json_string(events::to_hex(h.finish())) + "}\n";
    return out;
}

}  // namespace daybook::projections
