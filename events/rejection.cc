#include "events/rejection.h"

namespace daybook {

std::string_view name_of(rejection_code code) {
    switch (code) {
#define DAYBOOK_CODE(name) \
    case rejection_code::name: return #name;
        DAYBOOK_CODE(envelope_invalid)
        DAYBOOK_CODE(routing_key_mismatch)
        DAYBOOK_CODE(wrong_partition)
        DAYBOOK_CODE(command_id_reused)
        DAYBOOK_CODE(command_too_large)
        DAYBOOK_CODE(result_too_large)
        DAYBOOK_CODE(payload_missing)
        DAYBOOK_CODE(command_id_invalid)
        DAYBOOK_CODE(linked_run_invalid)
        DAYBOOK_CODE(linked_run_too_long)
        DAYBOOK_CODE(linked_command_failed)
        DAYBOOK_CODE(account_id_invalid)
        DAYBOOK_CODE(account_name_invalid)
        DAYBOOK_CODE(account_type_invalid)
        DAYBOOK_CODE(currency_invalid)
        DAYBOOK_CODE(scale_too_large)
        DAYBOOK_CODE(account_already_exists)
        DAYBOOK_CODE(entry_id_invalid)
        DAYBOOK_CODE(effective_date_invalid)
        DAYBOOK_CODE(memo_too_long)
        DAYBOOK_CODE(entry_too_few_legs)
        DAYBOOK_CODE(entry_too_many_legs)
        DAYBOOK_CODE(leg_side_invalid)
        DAYBOOK_CODE(amount_must_be_positive)
        DAYBOOK_CODE(account_not_found)
        DAYBOOK_CODE(currency_mismatch)
        DAYBOOK_CODE(entry_unbalanced)
        DAYBOOK_CODE(entry_already_exists)
        DAYBOOK_CODE(amount_overflow)
        DAYBOOK_CODE(book_id_invalid)
        DAYBOOK_CODE(account_closed)
        DAYBOOK_CODE(parent_not_found)
        DAYBOOK_CODE(parent_currency_mismatch)
        DAYBOOK_CODE(constraints_invalid)
        DAYBOOK_CODE(exceeds_credits)
        DAYBOOK_CODE(exceeds_debits)
        DAYBOOK_CODE(account_balance_not_zero)
        DAYBOOK_CODE(account_has_open_holds)
        DAYBOOK_CODE(account_not_closed)
        DAYBOOK_CODE(hold_id_invalid)
        DAYBOOK_CODE(hold_already_exists)
        DAYBOOK_CODE(hold_not_found)
        DAYBOOK_CODE(hold_already_resolved)
        DAYBOOK_CODE(hold_expired)
        DAYBOOK_CODE(hold_expiry_invalid)
        DAYBOOK_CODE(capture_exceeds_hold)
        DAYBOOK_CODE(hold_accounts_same)
        DAYBOOK_CODE(entry_not_found)
        DAYBOOK_CODE(entry_already_reversed)
        DAYBOOK_CODE(entry_is_reversal)
        DAYBOOK_CODE(period_closed)
        DAYBOOK_CODE(period_already_closed)
        DAYBOOK_CODE(period_not_closed)
        DAYBOOK_CODE(reopen_requires_other_actor)
        DAYBOOK_CODE(reopen_date_invalid)
        DAYBOOK_CODE(entry_exists_with_different_legs)
        DAYBOOK_CODE(entry_exists_with_different_date)
        DAYBOOK_CODE(entry_exists_with_different_memo)
        DAYBOOK_CODE(no_expired_holds)
        DAYBOOK_CODE(calendar_invalid)
#undef DAYBOOK_CODE
    }
    return "unknown_code";
}

}  // namespace daybook
