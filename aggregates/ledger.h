#pragma once
// The general-ledger aggregate: a book of accounts and journal entries (routing key: book id).
//
// The book's state is keyed (events/keyed_state.h): one row per account and one per entry id, so
// a book never has to fit in memory; decide reads only the rows a command touches.
//
// decide checks rules in this fixed order and returns the first that is broken:
//   open_account: book_id_invalid, account_id_invalid, account_name_invalid,
//                 account_type_invalid, currency_invalid, scale_too_large,
//                 account_already_exists.
//   post_entry:   book_id_invalid, entry_id_invalid, effective_date_invalid, memo_too_long,
//                 entry_too_few_legs, entry_too_many_legs,
//                 then for each leg in order: account_id_invalid, leg_side_invalid,
//                 amount_must_be_positive, currency_invalid;
//                 entry_already_exists,
//                 then for each leg in order: account_not_found, currency_mismatch;
//                 entry_unbalanced (currencies in code order), amount_overflow (accounts in leg
//                 order).
// decide is pure; evolve never fails and never decides.

#include <optional>
#include <vector>

#include "daybook.pb.h"
#include "events/keyed_state.h"
#include "events/ledger_types.h"
#include "events/result.h"

namespace daybook::aggregates {

struct ledger {
    using command = events::ledger_command;
    using event = events::ledger_event;

    static result<std::vector<event>> decide(const command& cmd, const events::keyed_state& state);
    static void evolve(events::keyed_state& state, const event& evt);

    // Typed reads of the keyed state (also used by the projector's tests and tools).
    static std::optional<v1::AccountState> find_account(const events::keyed_state& state,
                                                        const events::book_id& book,
                                                        const events::account_id& account);
    static bool entry_exists(const events::keyed_state& state, const events::book_id& book,
                             const events::entry_id& entry);
};

// Stream id of a book's events ("book/<book id>").
std::string stream_of(const events::book_id& book);

}  // namespace daybook::aggregates
