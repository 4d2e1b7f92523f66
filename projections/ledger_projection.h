#pragma once
// Ledger read models in the projector's store, and the queries over them.
//
// Rows (all keyed by book first, so nothing depends on the order partitions arrive in):
//   bal/<book>\0<account>                 ProjectedAccount: debits, credits, counts
//   tb/<book>\0<currency>                 TrialBalanceRow: 128-bit sums per currency
//   stmt/<book>\0<account>\0<line u64 BE> StatementLine with running balance
//   entry/<book>\0<entry>                 EntryView
//   day/<book>\0<account>\0<date>         DayDelta: posted movements on one effective date
//   mon/<book>\0<account>\0<YYYY-MM>      DayDelta: posted movements of one month (checkpoints)
//   clo/<book>\0<account>\0<date>         DayDelta: year-end closing entries (left out of income)
//   hold/<book>\0<hold>                   ProjectedHold
//   book/<book>                           BookState: the period lock
//   hexp/<deadline u64 BE><book>\0<hold>  open holds by deadline (the scheduler's sweep list)
//   ver/<stream id>                       last applied aggregate version (deduplication)
//   refused/<routing key>\0<command id>    a process manager's command the target refused (the
//                                         command_rejected event): the exceptions list
//   billing/..., binv/, bpay/, map/       invoices, payments, account mappings
//                                         (projections/billing_projection.h)
//   secauth/..., approval/...             the security realm and held commands (aggregates/security.h)
// Bookkeeping rows, excluded from the state digest:
//   pos/<partition u32 BE>                PartitionPosition (seq, head, next offset)
//   stop/<partition u32 BE>               why the partition stopped
//   digest/<recorded_at_ms u64 BE>        RecordedDigest: the state digest at recorded positions
//   meta/...                              cluster id and topic the store was built from

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <string>
#include <vector>

#include "events/int128.h"
#include "daybook.pb.h"
#include "events/codec.h"
#include "events/keyed_state.h"
#include "projections/store.h"

namespace daybook::projections {

// Applies one verified event of an events partition to the rows. Domain events whose aggregate
// version was already applied are skipped (returns false): librdkafka 2.0.2 can redeliver.
bool apply_event(events::keyed_state& rows, const v1::EventEnvelope& envelope,
                 std::uint32_t partition, std::uint64_t seq);

std::string position_key(std::uint32_t partition);
std::string stop_key(std::uint32_t partition);

std::optional<v1::ProjectedAccount> find_balance(const store& s, const std::string& book,
                                                 const std::string& account);
std::vector<v1::ProjectedAccount> list_accounts(const store& s, const std::string& book);
// One page of a book's accounts in id order: those after `after_account` (empty: from the
// first), at most `limit`.
std::vector<v1::ProjectedAccount> list_accounts(const store& s, const std::string& book,
                                                const std::string& after_account, std::size_t limit);
// Books that have at least one account, in id order (one seek per book, not a scan of accounts).
std::vector<std::string> list_books(const store& s);
std::vector<v1::TrialBalanceRow> trial_balance(const store& s, const std::string& book);
// Statement lines after `after_line` (0 = from the start), at most `limit` of them.
std::vector<v1::StatementLine> statement(const store& s, const std::string& book,
                                         const std::string& account, std::uint64_t after_line,
                                         std::size_t limit);
std::optional<v1::EntryView> find_entry(const store& s, const std::string& book,
                                        const std::string& entry);

std::vector<v1::ProjectedHold> list_holds(const store& s, const std::string& book);
// Books that have open holds whose deadline is at or before now_ms (at most `limit` books).
std::set<std::string> books_with_expired_holds(const store& s, std::int64_t now_ms, std::size_t limit);

// Key prefixes of projection rows (in the digest) and of bookkeeping rows (not in it).
inline constexpr std::string_view projection_prefixes[] = {"approval/", "bal/", "billing/", "binv/",    "book/",
                                                           "bpay/",     "clo/", "day/", "entry/",   "hexp/",    "hold/",
                                                           "map/",      "mon/", "refused/", "secauth/", "stmt/",
                                                           "tb/",       "ver/"};
inline constexpr std::string_view bookkeeping_prefixes[] = {"digest/", "pos/", "stop/"};

// Posted movements per account with effective dates in [from, to] (empty: unbounded), summed in
// 128 bits. Balance on date D = movements(book, "", D); an income statement = movements(from, to)
// of revenue and expense accounts. Read from month rows plus at most a month of day rows per
// bound, never from entries.
struct movement {
    int128 debits = 0, credits = 0;
};
std::map<std::string, movement> movements(const store& s, const std::string& book, const std::string& from,
                                          const std::string& to);

// Accounts with posted debits and credits as of the end of `as_of` (everything when empty);
// pending amounts are cleared when a date is given (holds are not dated). With known_at_ms: only
// what had been recorded by then ("30 June as we knew it on 2 July"): later-opened accounts are
// left out and postings recorded after it are taken back (from the statement's suffix, found by
// binary search, so recent known-at times are cheap).
std::vector<v1::ProjectedAccount> accounts_as_of(const store& s, const std::string& book, const std::string& as_of,
                                                std::optional<std::int64_t> known_at_ms = std::nullopt);
// Trial balance rows (posted debits and credits per currency) summed from such accounts.
std::vector<v1::TrialBalanceRow> trial_balance_of(const std::vector<v1::ProjectedAccount>& accounts);

// Balance in the account type's normal direction: assets and expenses debit-normal, liabilities,
// equity and revenue credit-normal.
int128 normal_balance(const v1::ProjectedAccount& a);

// Balance sheet per currency: assets = liabilities + equity + net income (revenue - expenses not
// yet closed to equity). `balanced` says whether the identity holds.
struct balance_sheet_totals {
    std::string currency;
    std::uint32_t scale = 0;
    int128 assets = 0, liabilities = 0, equity = 0, net_income = 0;
    bool balanced = false;
};
std::vector<balance_sheet_totals> balance_sheet(const store& s, const std::string& book, const std::string& as_of);

// Income statement per currency over [from, to]: one line per revenue and expense account.
struct income_line {
    v1::ProjectedAccount account;
    int128 amount = 0;  // in the account's normal direction
};
struct income_totals {
    std::string currency;
    std::uint32_t scale = 0;
    int128 revenue = 0, expenses = 0;
    std::vector<income_line> lines;
};
std::vector<income_totals> income_statement(const store& s, const std::string& book, const std::string& from,
                                            const std::string& to);

// SHA-256 over every projection key and value in key order, bookkeeping rows excluded. Two
// stores built from the same log have the same digest (deterministic replay).
std::string state_digest(const store& s);


}  // namespace daybook::projections
