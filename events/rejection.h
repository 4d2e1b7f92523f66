#pragma once
// Every rejection code Daybook can return, in one place. Codes are stored in daybook.outcomes and
// in command_rejected events: they are numbered explicitly and never renumbered or reused.
//
// Ranges:   1-  99  envelope and processing (any command)
//        1000-1999  general ledger
//        2000-2999  invoices, bills and payments
//        3000-3999  permissions and approvals
//        4000-4999  payroll

#include <cstdint>
#include <string>
#include <string_view>

namespace daybook {

enum class rejection_code : std::uint16_t {
    // Envelope and processing.
    envelope_invalid = 1,       // the record could not be read as a command, or a field is malformed
    routing_key_mismatch = 2,   // record key differs from the payload's routing key
    wrong_partition = 3,        // record is not in murmur2(key) mod N
    command_id_reused = 4,      // same (routing key, command_id) with a different payload
    command_too_large = 5,      // command record above the limit
    result_too_large = 6,       // an event record would exceed the limit
    payload_missing = 7,        // envelope without a command
    command_id_invalid = 8,     // empty, too long, or not printable ASCII
    linked_run_invalid = 9,     // nested run, mixed routing keys, duplicate or missing inner ids
    linked_run_too_long = 10,   // more than limits::linked_run_commands_max commands
    linked_command_failed = 11, // another command of the same linked run was refused

    // General ledger.
    account_id_invalid = 1000,
    account_name_invalid = 1001,
    account_type_invalid = 1002,
    currency_invalid = 1003,
    scale_too_large = 1004,
    account_already_exists = 1005,
    entry_id_invalid = 1006,
    effective_date_invalid = 1007,
    memo_too_long = 1008,
    entry_too_few_legs = 1009,
    entry_too_many_legs = 1010,
    leg_side_invalid = 1011,
    amount_must_be_positive = 1012,
    account_not_found = 1013,
    currency_mismatch = 1014,
    entry_unbalanced = 1015,
    entry_already_exists = 1016,
    amount_overflow = 1017,
    book_id_invalid = 1018,
    account_closed = 1019,
    parent_not_found = 1020,
    parent_currency_mismatch = 1021,
    constraints_invalid = 1022,
    exceeds_credits = 1023,
    exceeds_debits = 1024,
    account_balance_not_zero = 1025,
    account_has_open_holds = 1026,
    account_not_closed = 1027,
    hold_id_invalid = 1028,
    hold_already_exists = 1029,
    hold_not_found = 1030,
    hold_already_resolved = 1031,
    hold_expired = 1032,
    hold_expiry_invalid = 1033,
    capture_exceeds_hold = 1034,
    hold_accounts_same = 1035,
    entry_not_found = 1036,
    entry_already_reversed = 1037,
    entry_is_reversal = 1038,
    period_closed = 1039,
    period_already_closed = 1040,
    period_not_closed = 1041,
    reopen_requires_other_actor = 1042,
    reopen_date_invalid = 1043,
    entry_exists_with_different_legs = 1044,
    entry_exists_with_different_date = 1045,
    entry_exists_with_different_memo = 1046,
    no_expired_holds = 1047,
    calendar_invalid = 1048,
    account_role_invalid = 1049,        // a role that is not one of AccountRole's
    account_role_duplicate = 1050,      // the same role twice in one mapping
    account_role_type_mismatch = 1051,  // e.g. a receivable that is not an asset account
    account_role_unmapped = 1052,       // a leg's role has no account on the entry's date
    leg_account_and_role = 1053,        // a leg names both an account and a role
    mapping_versions_exhausted = 1054,  // a role was remapped limits::mapping_versions_max times
    period_sealed = 1055,               // a date in a sealed period, or a reopen into one
    period_already_sealed = 1056,       // seal_period at or before the sealed date
    seal_evidence_invalid = 1057,       // trial balance hash not 64 hex, or chain heads not P:SEQ:HEX
    adjustment_date_invalid = 1058,     // a period-13 adjustment not dated the last day of a fiscal year
    adjustment_period_not_closed = 1059,  // a period-13 adjustment before the year's last period is closed
    year_closed = 1060,                 // a posting or reopen into a year close_year closed
    year_already_closed = 1061,         // close_year at or before the last closed fiscal year end
    fiscal_year_end_invalid = 1062,     // close_year's date is not the last day of a fiscal year
    retained_earnings_invalid = 1063,   // the retained earnings account is not an equity account
    // Next free ledger code: 1064.
    // Invoices, bills, payments, numbering series (aggregates/billing.h).
    billing_book_id_invalid = 2000,         // book_id is empty or malformed
    invoice_id_invalid = 2001,              // invoice_id is empty or malformed
    counterparty_invalid = 2002,            // counterparty_id is empty or malformed
    invoice_direction_invalid = 2003,       // direction is neither customer nor supplier
    billing_currency_invalid = 2004,        // currency is not a 3-12 character code
    document_date_invalid = 2005,           // an issue, payment or credit date is not YYYY-MM-DD
    due_date_invalid = 2006,                // due date malformed, before the issue date, or given with terms
    invoice_lines_invalid = 2007,           // no lines, or more than limits::invoice_lines_max
    line_description_invalid = 2008,        // a line's description is empty or too long
    line_quantity_invalid = 2009,           // a line's quantity is not positive
    line_price_invalid = 2010,              // a line's unit price is negative
    line_tax_rate_invalid = 2011,           // a tax rate above 10000 basis points
    line_account_invalid = 2012,            // a line's account override is malformed
    billing_memo_too_long = 2013,           // memo or reason above limits::memo_bytes_max
    series_id_invalid = 2014,               // series_id malformed
    billing_amount_overflow = 2015,         // a total or balance would overflow int64
    invoice_already_exists = 2016,          // create_invoice for an id that exists
    invoice_not_found = 2017,               // the invoice does not exist
    invoice_not_draft = 2018,               // issue_invoice on an invoice that is not a draft
    invoice_not_issuing = 2019,             // record_invoice_number when no number was asked for
    series_mismatch = 2020,                 // a number from another series than the one asked
    invoice_number_pending = 2021,          // void while the number is being assigned
    invoice_has_allocations = 2022,         // void of an invoice with allocations or credit notes
    invoice_void = 2023,                    // the invoice is void
    invoice_not_issued = 2024,              // credit or allocation on an invoice that is not issued
    credit_note_exists = 2025,              // credit_note_id used before on this invoice
    billing_amount_invalid = 2026,          // an amount that must be positive is not
    credit_exceeds_outstanding = 2027,      // a credit note above what is outstanding
    billing_currency_mismatch = 2028,       // payment and invoice currencies differ
    allocation_exceeds_outstanding = 2029,  // an allocation above the invoice's outstanding amount
    allocation_not_found = 2030,            // no such allocation on the invoice or payment
    allocation_not_pending = 2031,          // confirm or release of an allocation that is not pending
    allocation_id_exists = 2032,            // allocation_id used before on this payment
    allocations_invalid = 2033,             // no allocations, or more than limits::allocations_per_command_max
    allocation_exceeds_unallocated = 2034,  // allocations above the payment's unallocated amount
    too_many_allocations = 2035,            // an invoice or payment has limits::allocations_max allocations
    series_key_invalid = 2036,              // series_key is not <book>/<series>
    payment_id_invalid = 2037,              // payment_id is empty or malformed
    payment_direction_invalid = 2038,       // direction is neither received nor sent
    payment_already_exists = 2039,          // receive_payment for an id that exists
    payment_not_found = 2040,               // the payment does not exist
    payment_returned = 2041,                // the payment was returned
    refund_id_exists = 2042,                // refund_id used before on this payment
    refund_exceeds_unallocated = 2043,      // a refund above the unallocated amount
    payment_has_pending_allocations = 2044, // return while allocations await the invoices' answers
    bank_account_invalid = 2045,            // bank_account_id malformed
    allocation_document_mismatch = 2046,    // a payment of another book, direction or party
    counterparty_unknown = 2047,            // issue to a counterparty not registered on the issue date
    counterparty_role_mismatch = 2048,      // invoice to a non-customer, bill from a non-supplier
    counterparty_blocked = 2049,            // the counterparty is blocked on the issue date
    counterparty_name_invalid = 2050,       // name empty or above limits::memo_bytes_max
    counterparty_roles_invalid = 2051,      // neither customer nor supplier
    tax_code_invalid = 2052,                // tax code malformed, or given with tax_rate_bp
    tax_code_unknown = 2053,                // no rate of the code effective on the issue date
    tax_rate_invalid = 2054,                // rate above 10000 basis points
    register_versions_exhausted = 2055,     // a counterparty or tax code changed limits::mapping_versions_max times
    // Next free billing code: 2056.

    // Permissions and approvals (aggregates/security.h).
    not_permitted = 3000,                   // no role of the actor allows this command, book or amount
    approval_not_found = 3001,              // no held command with that id (or it was decided)
    approval_fingerprint_mismatch = 3002,   // the approval names another payload than the one held
    self_approval = 3003,                   // the submitter approving their own command
    approval_expired = 3004,                // the held command's approval window has passed
    approval_rejected = 3005,               // the approver rejected the held command
    approval_required_in_run = 3006,        // a command needing approval inside a linked run
    security_admin_required = 3007,         // a security change by an actor without security_admin
    role_invalid = 3008,                    // role name malformed, or a permission/command name is
    role_not_found = 3009,                  // granting a role that was never defined
    actor_invalid = 3010,                   // actor empty or malformed
    security_realm_invalid = 3011,          // realm is not "security"
    grant_not_found = 3012,                 // revoking a grant that does not exist
    approval_policy_invalid = 3013,         // policy's command, currency, threshold or window malformed
    security_version_invalid = 3014,        // a replicated change out of order
    subject_invalid = 3015,                 // record_erasure without a data subject
    // Command records and their writers (consumers/command_writer.h), when the processor is given
    // a writers file: every command must be signed by a writer it lists.
    writer_unsigned = 3016,                 // no daybook.writer / daybook.writer_signature headers
    writer_unknown = 3017,                  // the writer named is not in the writers file
    writer_signature_invalid = 3018,        // the signature does not verify for this record and writer
    writer_not_allowed = 3019,              // the writer may not stamp this actor or source
    // Next free code: 3020.

    // Payroll (aggregates/payroll.h).
    employee_id_invalid = 4000,           // employee_id empty or malformed
    employee_name_invalid = 4001,         // name empty or above limits::memo_bytes_max
    salary_invalid = 4002,                // an annual salary not in 1..limits::salary_minor_max
    payroll_currency_invalid = 4003,      // currency is not a 3-12 character code
    payroll_date_invalid = 4004,          // a hire, salary, last or pay date is not YYYY-MM-DD, or out of order
    employee_already_exists = 4005,       // hire_employee for an id that exists in the book
    employee_not_found = 4006,            // no such employee in the book
    employee_terminated = 4007,           // a change to an employee who has left
    payroll_period_paid = 4008,           // a change dated in a period a payroll run already paid
    salary_versions_exhausted = 4009,     // an employee's salary changed limits::mapping_versions_max times
    payroll_run_id_invalid = 4010,        // run_id empty or malformed
    payroll_period_invalid = 4011,        // period is not YYYY-MM
    payroll_account_invalid = 4012,       // an account malformed, unknown, closed or in another currency
    payroll_run_exists = 4013,            // run_id used before in the book
    payroll_period_already_run = 4014,    // the book's period was already run for that currency
    payroll_unapproved = 4015,            // run_payroll decided without a second person's approval
    payroll_empty = 4016,                 // nobody to pay in the period and currency
    payroll_total_changed = 4017,         // the run would pay another total than expected_total_minor
    payroll_employees_exhausted = 4018,      // the book has limits::payroll_employees_max employees
    payroll_total_missing = 4019,         // run_payroll without expected_total_minor (the figure approved)
    // Next free payroll code: 4020.
};

// The stable snake_case name of a code, as shown to users and stored beside the number.
std::string_view name_of(rejection_code code);

struct rejection {
    rejection_code code;
    std::string field;   // path of the offending field, e.g. "post_entry.legs[1].amount_minor"
    std::string detail;  // a sentence for a human
    bool operator==(const rejection&) const = default;
};

}  // namespace daybook
