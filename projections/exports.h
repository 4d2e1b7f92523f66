#pragma once
// Exports for auditors: the journal, a journal-entry-testing (JET) extract, the trial balance and
// account statements as CSV or JSON Lines, each with a certificate that says what it was computed
// from (positions per partition, state digest, software version, parameters), its row count,
// control totals, and the SHA-256 of the exported bytes. Nothing in an export depends on the
// clock: the same projection state gives byte-identical files, so an export can be regenerated
// later (by a replay to the certificate's positions) and compared.
//
//   journal        one row per leg, entries in (effective date, partition, seq) order
//   jet            one row per entry and currency: entry id, effective date, period, recorded at,
//                  created by, approved by, manual or system, source, correlation, command,
//                  reversal link, legs, debits, credits; control totals tie to the trial balance
//   trial-balance  one row per account (balances as of --as-of when given)
//   statement      one row per statement line of one account

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/result.h"
#include "projections/store.h"

namespace daybook::projections {

struct export_request {
    std::string report;  // journal, jet, trial-balance, statement
    std::string book;
    std::string account;  // statement only
    std::string as_of;    // YYYY-MM-DD or empty: journal, jet and trial-balance up to that date
    std::string format = "csv";  // csv or jsonl
    std::string software_version;
    std::optional<std::int64_t> known_at_ms;  // journal, jet, trial-balance: only what was recorded by then
};

struct export_result {
    std::string data;         // the file's bytes
    std::string certificate;  // JSON, one object
};

result<export_result, std::string> export_report(const store& s, const export_request& request);

}  // namespace daybook::projections
