package daybook.bench;

/**
 * A refusal: Daybook's rejection code (events/rejection.h: the number and its snake_case name),
 * the offending field's path and a sentence for a human.
 */
record Rejection(Code code, String field, String detail) {

    /** The codes this peer can return, numbered as events/rejection.h numbers them. */
    enum Code {
        envelope_invalid(1),
        routing_key_mismatch(2),
        wrong_partition(3),
        command_id_reused(4),
        command_too_large(5),
        payload_missing(7),
        command_id_invalid(8),
        account_id_invalid(1000),
        account_name_invalid(1001),
        account_type_invalid(1002),
        currency_invalid(1003),
        scale_too_large(1004),
        account_already_exists(1005),
        entry_id_invalid(1006),
        effective_date_invalid(1007),
        memo_too_long(1008),
        entry_too_few_legs(1009),
        entry_too_many_legs(1010),
        leg_side_invalid(1011),
        amount_must_be_positive(1012),
        account_not_found(1013),
        currency_mismatch(1014),
        entry_unbalanced(1015),
        amount_overflow(1017),
        book_id_invalid(1018),
        parent_not_found(1020),
        parent_currency_mismatch(1021),
        constraints_invalid(1022),
        exceeds_credits(1023),
        exceeds_debits(1024),
        entry_exists_with_different_legs(1044),
        entry_exists_with_different_date(1045),
        entry_exists_with_different_memo(1046),
        account_role_unmapped(1052),
        leg_account_and_role(1053),
        adjustment_date_invalid(1058),
        adjustment_period_not_closed(1059);

        final int number;

        Code(int number) {
            this.number = number;
        }
    }

    static Rejection of(Code code, String field, String detail) {
        return new Rejection(code, field, detail);
    }
}
