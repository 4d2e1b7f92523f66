#pragma once
// The general-ledger aggregate: a book of accounts, journal entries, holds and period locks
// (routing key: book id).
//
// The book's state is keyed (events/keyed_state.h), one row per account, entry and hold plus
// two indexes of open holds by deadline, so a book never has to fit in memory; decide reads only
// the rows a command touches.
//
// Balances and constraints. An account has posted debits/credits and pending debits/credits (open
// holds). A hold whose deadline has passed (now >= expires_at) no longer counts, whether or not
// the sweeper has recorded its expiry yet. Constraints, checked after every change:
//   debits_must_not_exceed_credits:  debits_posted + debits_pending  <= credits_posted + limit
//   credits_must_not_exceed_debits:  credits_posted + credits_pending <= debits_posted + limit
// Available balance = posted minus pending on the constrained side.
//
// decide checks rules in this fixed order and returns the first that is broken:
//   every command:  book_id_invalid first.
//   open_account:   account_id_invalid, account_name_invalid, account_type_invalid,
//                   currency_invalid, scale_too_large, constraints_invalid,
//                   account_already_exists, parent_not_found, parent_currency_mismatch.
//   post_entry:     entry_id_invalid, effective_date_invalid, memo_too_long, entry_too_few_legs,
//                   entry_too_many_legs, per leg: account_id_invalid, leg_side_invalid,
//                   amount_must_be_positive, currency_invalid;
//                   period_closed; an existing entry_id: identical -> entry_repeat_acknowledged,
//                   else entry_exists_with_different_date / _legs / _memo;
//                   per leg: account_not_found, account_closed, currency_mismatch;
//                   entry_unbalanced (currencies in code order); amount_overflow for every
//                   account, then exceeds_credits / exceeds_debits (accounts in leg order).
//   set_account_constraints: account_id_invalid, constraints_invalid, account_not_found,
//                   exceeds_credits / exceeds_debits (the account must satisfy them now).
//   close_account:  account_id_invalid, account_not_found, account_closed,
//                   account_has_open_holds, account_balance_not_zero.
//   reopen_account: account_id_invalid, account_not_found, account_not_closed.
//   place_hold:     hold_id_invalid, account_id_invalid (debit, credit), hold_accounts_same,
//                   amount_must_be_positive, currency_invalid, hold_expiry_invalid, memo_too_long,
//                   hold_already_exists, per account (debit, credit): account_not_found,
//                   account_closed, currency_mismatch; amount_overflow, exceeds_credits /
//                   exceeds_debits.
//   increase_hold:  hold_id_invalid, amount_must_be_positive, hold_not_found,
//                   hold_already_resolved, hold_expired, amount_overflow, exceeds_*.
//   capture_hold:   hold_id_invalid, entry_id_invalid, amount_must_be_positive,
//                   effective_date_invalid, memo_too_long, hold_not_found,
//                   hold_already_resolved, hold_expired, capture_exceeds_hold, period_closed,
//                   entry_already_exists, amount_overflow, exceeds_*.
//   release_hold:   hold_id_invalid, hold_not_found, hold_already_resolved, hold_expired.
//   expire_holds:   no_expired_holds.
//   reverse_entry:  entry_id_invalid (entry, reversal), effective_date_invalid, memo_too_long,
//                   entry_not_found, entry_is_reversal, entry_already_reversed, period_closed,
//                   entry_already_exists, per leg: account_closed; amount_overflow, exceeds_*.
//   close_period:   effective_date_invalid, period_already_closed.
//   reopen_period:  period_not_closed, reopen_requires_other_actor, reopen_date_invalid,
//                   period_sealed (a lock before the sealed date, or none, while sealed),
//                   year_closed (likewise before a year close_year closed).
//   seal_period:    effective_date_invalid, seal_evidence_invalid (trial_balance_sha256, then
//                   chain_heads), period_already_sealed, period_not_closed.
//   close_year:     effective_date_invalid, fiscal_year_end_invalid, entry_id_invalid,
//                   account_id_invalid, memo_too_long, period_sealed, year_already_closed,
//                   period_not_closed, entry_already_exists, account_not_found, account_closed,
//                   retained_earnings_invalid, currency_mismatch (a P&L account in another
//                   currency), entry_too_many_legs, amount_overflow, then the posting's checks.
//   set_book_calendar also: calendar_invalid at fiscal_year_start_month (above 12, or moved once
//                   a year is closed).
// Period lock (post_entry, capture_hold, reverse_entry: `period_closed` above), in this order: a
// date in a sealed period is period_sealed for everyone; in a fiscal year close_year closed,
// year_closed; a period-13 adjustment (post_entry.adjustment, after adjustment_date_invalid: dated
// the last day of a fiscal year) needs that day closed (adjustment_period_not_closed) and is then
// accepted; otherwise a date in a closed period is period_closed except for a process manager's
// posting (decide_context::process_manager), accepted until the seal.
// Year end: close_period through the year's last day; period-13 adjustments; close_year (the
// closing entry to retained earnings, then nothing enters the year); close-period/seal_period.
//   set_book_calendar: calendar_invalid (utc_offset_minutes outside -840..840, then
//                   cutoff_minutes above 1439).
//   set_account_mapping: effective_date_invalid (effective_from), account_role_invalid (no roles
//                   or more than 9), per role: account_role_invalid, account_role_duplicate,
//                   account_id_invalid; per role: mapping_versions_exhausted; per role:
//                   account_not_found, account_closed, account_role_type_mismatch (receivable,
//                   tax receivable, supplier advances, bank: asset; payable, tax payable, customer
//                   advances: liability; revenue; expense).
//   post_entry legs by role (account_role instead of account_id): in the shape checks,
//                   leg_account_and_role, account_role_invalid; after period_closed,
//                   account_role_unmapped (no mapping on the entry's effective date); then the
//                   resolved accounts go through the rules above like named ones.
// Wherever amount_overflow and exceeds_* both apply, every affected account is checked for
// overflow before any is checked against its constraints (debit account before credit account).
// decide is pure; evolve never fails and never decides.

#include <optional>
#include <string>
#include <vector>

#include "daybook.pb.h"
#include "events/keyed_state.h"
#include "events/ledger_types.h"
#include "events/result.h"

namespace daybook::aggregates {

// What decide may know besides the command and the state: the processing clock and who asks.
struct decide_context {
    std::int64_t now_ms = 0;
    std::string actor;
    // The command comes from a process manager reacting to an event (source and causation set):
    // its postings may still enter a closed period until it is sealed.
    bool process_manager = false;
    // Who approved the command when it was held for approval (aggregates/security.h rule 3).
    std::string approver = {};
};

// Longest a hold may be placed for: 400 days.
inline constexpr std::int64_t hold_duration_max_ms = 400LL * 24 * 3600 * 1000;
// Most holds one expire_holds command records; the scheduler sends another for the rest.
inline constexpr std::size_t expire_holds_batch_max = 1000;

struct ledger {
    using command = events::ledger_command;
    using event = events::ledger_event;

    static result<std::vector<event>> decide(const command& cmd, const events::keyed_state& state,
                                             const decide_context& ctx);
    static void evolve(events::keyed_state& state, const event& evt);

    // Typed reads of the keyed state.
    static std::optional<v1::AccountState> find_account(const events::keyed_state& state,
                                                        const events::book_id& book,
                                                        const events::account_id& account);
    static std::optional<v1::EntryState> find_entry(const events::keyed_state& state,
                                                    const events::book_id& book,
                                                    const events::entry_id& entry);
    static std::optional<v1::HoldState> find_hold(const events::keyed_state& state,
                                                  const events::book_id& book,
                                                  const events::hold_id& hold);
    static bool entry_exists(const events::keyed_state& state, const events::book_id& book,
                             const events::entry_id& entry);
    // The book's business date at `now`: UTC plus its declared offset, moved to the next day after
    // its cut-off (set_book_calendar). UTC date when nothing is declared.
    static std::string business_date(const events::keyed_state& state, const events::book_id& book,
                                     std::int64_t now_ms);
    // The last date of the book's closed periods (close_period), empty when none is closed.
    static std::string closed_through(const events::keyed_state& state, const events::book_id& book);
    // Pending amounts of an account that still count at `now` (expired, unswept holds excluded).
    struct pending {
        std::int64_t debits = 0, credits = 0;
    };
    static pending effective_pending(const events::keyed_state& state, const events::book_id& book,
                                     const v1::AccountState& account, std::int64_t now_ms);
};

// Stream id of a book's events ("book/<book id>").
std::string stream_of(const events::book_id& book);

}  // namespace daybook::aggregates
