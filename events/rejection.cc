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
#undef DAYBOOK_CODE
    }
    return "unknown_code";
}

}  // namespace daybook
