#include "events/ledger_codec.h"

#include "events/overloaded.h"

namespace daybook::events {
namespace {

leg leg_of(const v1::Leg& l) {
    return leg{account_id{l.account_id()}, static_cast<side>(l.side()),
               money{l.amount_minor(), l.currency()}, static_cast<account_role>(l.account_role())};
}

std::vector<role_account> role_accounts_of(const google::protobuf::RepeatedPtrField<v1::RoleAccount>& list) {
    std::vector<role_account> out;
    for (const auto& r : list) out.push_back(role_account{static_cast<account_role>(r.role()), account_id{r.account_id()}});
    return out;
}

void put_role_accounts(const std::vector<role_account>& list, google::protobuf::RepeatedPtrField<v1::RoleAccount>* out) {
    for (const auto& r : list) {
        auto* p = out->Add();
        p->set_role(static_cast<v1::AccountRole>(r.role));
        p->set_account_id(r.account.value);
    }
}

std::vector<leg> legs_of(const google::protobuf::RepeatedPtrField<v1::Leg>& legs) {
    std::vector<leg> out;
    out.reserve(static_cast<std::size_t>(legs.size()));
    for (const auto& l : legs) out.push_back(leg_of(l));
    return out;
}

void put_legs(const std::vector<leg>& legs, google::protobuf::RepeatedPtrField<v1::Leg>* out) {
    out->Reserve(static_cast<int>(legs.size()));
    for (const auto& l : legs) {
        auto* p = out->Add();
        p->set_account_id(l.account.value);
        p->set_side(static_cast<v1::Side>(l.direction));
        p->set_amount_minor(l.amount.minor_units);
        p->set_currency(l.amount.currency);
        p->set_account_role(static_cast<v1::AccountRole>(l.role));
    }
}

constraints constraints_of(const v1::AccountConstraints& c) {
    return constraints{c.debits_must_not_exceed_credits(), c.credits_must_not_exceed_debits(),
                       c.limit_minor()};
}

void put_constraints(const constraints& c, v1::AccountConstraints* out) {
    out->set_debits_must_not_exceed_credits(c.debits_must_not_exceed_credits);
    out->set_credits_must_not_exceed_debits(c.credits_must_not_exceed_debits);
    out->set_limit_minor(c.limit_minor);
}

// One message shape serves both a command and its event where the fields are the same.
template <typename M>
void put_account_fields(M* p, const book_id& book, const account_id& account, const std::string& name,
                        account_type type, const std::string& currency, std::uint32_t scale,
                        const account_id& parent, const constraints& limits) {
    p->set_book_id(book.value);
    p->set_account_id(account.value);
    p->set_name(name);
    p->set_type(static_cast<v1::AccountType>(type));
    p->set_currency(currency);
    p->set_scale(scale);
    p->set_parent_account_id(parent.value);
    put_constraints(limits, p->mutable_constraints());
}

}  // namespace

v1::HoldState hold_state_of(const hold_placed& e) {
    v1::HoldState h;
    h.set_hold_id(e.hold.value);
    h.set_debit_account_id(e.debit.value);
    h.set_credit_account_id(e.credit.value);
    h.set_currency(e.amount.currency);
    h.set_held_minor(e.amount.minor_units);
    h.set_expires_at_ms(e.expires_at_ms);
    h.set_status(v1::HOLD_STATUS_OPEN);
    h.set_memo(e.memo);
    return h;
}

std::optional<ledger_command> ledger_command_of(const v1::CommandEnvelope& envelope) {
    using E = v1::CommandEnvelope;
    switch (envelope.payload_case()) {
        case E::kOpenAccount: {
            const auto& c = envelope.open_account();
            return open_account{book_id{c.book_id()}, account_id{c.account_id()}, c.name(),
                                static_cast<account_type>(c.type()), c.currency(), c.scale(),
                                account_id{c.parent_account_id()}, constraints_of(c.constraints())};
        }
        case E::kPostEntry: {
            const auto& c = envelope.post_entry();
            return post_entry{book_id{c.book_id()}, entry_id{c.entry_id()}, c.effective_date(),
                              c.memo(), legs_of(c.legs()), c.adjustment()};
        }
        case E::kSetAccountConstraints: {
            const auto& c = envelope.set_account_constraints();
            return set_account_constraints{book_id{c.book_id()}, account_id{c.account_id()},
                                           constraints_of(c.constraints())};
        }
        case E::kCloseAccount:
            return close_account{book_id{envelope.close_account().book_id()},
                                 account_id{envelope.close_account().account_id()}};
        case E::kReopenAccount:
            return reopen_account{book_id{envelope.reopen_account().book_id()},
                                  account_id{envelope.reopen_account().account_id()}};
        case E::kPlaceHold: {
            const auto& c = envelope.place_hold();
            return place_hold{book_id{c.book_id()}, hold_id{c.hold_id()}, account_id{c.debit_account_id()},
                              account_id{c.credit_account_id()}, money{c.amount_minor(), c.currency()},
                              c.expires_at_ms(), c.memo()};
        }
        case E::kIncreaseHold: {
            const auto& c = envelope.increase_hold();
            return increase_hold{book_id{c.book_id()}, hold_id{c.hold_id()}, c.amount_minor()};
        }
        case E::kCaptureHold: {
            const auto& c = envelope.capture_hold();
            return capture_hold{book_id{c.book_id()}, hold_id{c.hold_id()}, entry_id{c.entry_id()},
                                c.amount_minor(), c.effective_date(), c.final(), c.memo()};
        }
        case E::kReleaseHold:
            return release_hold{book_id{envelope.release_hold().book_id()},
                                hold_id{envelope.release_hold().hold_id()}};
        case E::kExpireHolds: return expire_holds{book_id{envelope.expire_holds().book_id()}};
        case E::kReverseEntry: {
            const auto& c = envelope.reverse_entry();
            return reverse_entry{book_id{c.book_id()}, entry_id{c.entry_id()}, entry_id{c.reversal_entry_id()},
                                 c.effective_date(), c.memo()};
        }
        case E::kClosePeriod:
            return close_period{book_id{envelope.close_period().book_id()}, envelope.close_period().through_date()};
        case E::kReopenPeriod:
            return reopen_period{book_id{envelope.reopen_period().book_id()}, envelope.reopen_period().through_date()};
        case E::kCloseYear: {
            const auto& c = envelope.close_year();
            return close_year{book_id{c.book_id()}, c.fiscal_year_end(), entry_id{c.entry_id()},
                              account_id{c.retained_earnings_account_id()}, c.memo()};
        }
        case E::kSealPeriod: {
            const auto& c = envelope.seal_period();
            return seal_period{book_id{c.book_id()}, c.through_date(), c.trial_balance_sha256(), c.chain_heads()};
        }
        case E::kSetBookCalendar: {
            const auto& c = envelope.set_book_calendar();
            return set_book_calendar{book_id{c.book_id()}, c.utc_offset_minutes(), c.cutoff_minutes(), c.fiscal_year_start_month()};
        }
        case E::kSetAccountMapping: {
            const auto& c = envelope.set_account_mapping();
            return set_account_mapping{book_id{c.book_id()}, c.effective_from(), role_accounts_of(c.accounts())};
        }
        case E::kLinkedRun:  // a run of commands, not one: consumers/command_state.h decides it
        // Invoices, series and payments: aggregates/billing.h.
        case E::kCreateInvoice:
        case E::kIssueInvoice:
        case E::kRecordInvoiceNumber:
        case E::kVoidInvoice:
        case E::kCreditInvoice:
        case E::kApplyAllocation:
        case E::kReverseAllocation:
        case E::kNumberInvoice:
        case E::kAssignNumber:
        case E::kRefuseInvoiceIssue:
        case E::kRegisterCounterparty:
        case E::kSetTaxCode:
        // Permissions and approvals: aggregates/security.h.
        case E::kDefineRole:
        case E::kGrantRole:
        case E::kRevokeRole:
        case E::kSetApprovalPolicy:
        case E::kSetPermissionsEnforced:
        case E::kReplicateSecurity:
        case E::kApproveCommand:
        case E::kRecordErasure:
        case E::kRecordAccess:
        case E::kHireEmployee:
        case E::kChangeSalary:
        case E::kTerminateEmployee:
        case E::kRunPayroll:
        case E::kReceivePayment:
        case E::kAllocatePayment:
        case E::kConfirmAllocation:
        case E::kReleaseAllocation:
        case E::kRefundPayment:
        case E::kReturnPayment:
        case E::PAYLOAD_NOT_SET: return std::nullopt;
    }
    return std::nullopt;
}

std::optional<ledger_event> ledger_event_of(const v1::EventEnvelope& envelope) {
    using E = v1::EventEnvelope;
    switch (envelope.payload_case()) {
        case E::kAccountOpened: {
            const auto& e = envelope.account_opened();
            return account_opened{book_id{e.book_id()}, account_id{e.account_id()}, e.name(),
                                  static_cast<account_type>(e.type()), e.currency(), e.scale(),
                                  account_id{e.parent_account_id()}, constraints_of(e.constraints())};
        }
        case E::kEntryPosted: {
            const auto& e = envelope.entry_posted();
            return entry_posted{book_id{e.book_id()}, entry_id{e.entry_id()}, e.effective_date(),
                                e.memo(), legs_of(e.legs()), entry_id{e.reversal_of()}, e.adjustment(), e.closing()};
        }
        case E::kAccountConstraintsChanged: {
            const auto& e = envelope.account_constraints_changed();
            return account_constraints_changed{book_id{e.book_id()}, account_id{e.account_id()},
                                               constraints_of(e.constraints())};
        }
        case E::kAccountClosed:
            return account_closed{book_id{envelope.account_closed().book_id()},
                                  account_id{envelope.account_closed().account_id()}};
        case E::kAccountReopened:
            return account_reopened{book_id{envelope.account_reopened().book_id()},
                                    account_id{envelope.account_reopened().account_id()}};
        case E::kHoldPlaced: {
            const auto& e = envelope.hold_placed();
            return hold_placed{book_id{e.book_id()}, hold_id{e.hold_id()}, account_id{e.debit_account_id()},
                               account_id{e.credit_account_id()}, money{e.amount_minor(), e.currency()},
                               e.expires_at_ms(), e.memo()};
        }
        case E::kHoldIncreased: {
            const auto& e = envelope.hold_increased();
            return hold_increased{book_id{e.book_id()}, hold_id{e.hold_id()}, e.amount_minor()};
        }
        case E::kHoldCaptured: {
            const auto& e = envelope.hold_captured();
            return hold_captured{book_id{e.book_id()}, hold_id{e.hold_id()}, entry_id{e.entry_id()},
                                 money{e.amount_minor(), e.currency()}, e.effective_date(), e.released_minor(),
                                 account_id{e.debit_account_id()}, account_id{e.credit_account_id()}, e.memo()};
        }
        case E::kHoldReleased: {
            const auto& e = envelope.hold_released();
            return hold_released{book_id{e.book_id()}, hold_id{e.hold_id()}, e.released_minor(),
                                 account_id{e.debit_account_id()}, account_id{e.credit_account_id()}};
        }
        case E::kHoldExpired: {
            const auto& e = envelope.hold_expired();
            return hold_expired{book_id{e.book_id()}, hold_id{e.hold_id()}, e.released_minor(),
                                account_id{e.debit_account_id()}, account_id{e.credit_account_id()}};
        }
        case E::kPeriodClosed: {
            const auto& e = envelope.period_closed();
            return period_closed{book_id{e.book_id()}, e.through_date(), e.closed_by()};
        }
        case E::kPeriodReopened: {
            const auto& e = envelope.period_reopened();
            return period_reopened{book_id{e.book_id()}, e.through_date(), e.reopened_by()};
        }
        case E::kYearClosed: {
            const auto& e = envelope.year_closed();
            return year_closed{book_id{e.book_id()}, e.fiscal_year_end(), entry_id{e.entry_id()}, e.closed_by()};
        }
        case E::kPeriodSealed: {
            const auto& e = envelope.period_sealed();
            return period_sealed{book_id{e.book_id()}, e.through_date(), e.trial_balance_sha256(), e.chain_heads(), e.sealed_by()};
        }
        case E::kEntryRepeatAcknowledged: {
            const auto& e = envelope.entry_repeat_acknowledged();
            return entry_repeat_acknowledged{book_id{e.book_id()}, entry_id{e.entry_id()}};
        }
        case E::kBookCalendarSet: {
            const auto& e = envelope.book_calendar_set();
            return book_calendar_set{book_id{e.book_id()}, e.utc_offset_minutes(), e.cutoff_minutes(), e.fiscal_year_start_month()};
        }
        case E::kAccountMappingSet: {
            const auto& e = envelope.account_mapping_set();
            return account_mapping_set{book_id{e.book_id()}, e.effective_from(), role_accounts_of(e.accounts())};
        }
        case E::kCommandRejected:
        // Invoices, series and payments: aggregates/billing.h.
        case E::kInvoiceDrafted:
        case E::kInvoiceIssueRequested:
        case E::kInvoiceIssued:
        case E::kInvoiceVoided:
        case E::kInvoiceCredited:
        case E::kAllocationApplied:
        case E::kAllocationDeclined:
        case E::kAllocationReversed:
        case E::kNumberAssigned:
        case E::kNumberRefused:
        case E::kInvoiceIssueRefused:
        case E::kCounterpartyRegistered:
        case E::kTaxCodeSet:
        // Permissions and approvals: aggregates/security.h.
        case E::kSecurityChanged:
        case E::kSecurityReplicated:
        case E::kApprovalRequested:
        case E::kApprovalResolved:
        case E::kSubjectErased:
        case E::kAccessRecorded:
        case E::kEmployeeHired:
        case E::kSalaryChanged:
        case E::kEmployeeTerminated:
        case E::kPayrollRunRecorded:
        case E::kPaymentRecorded:
        case E::kAllocationRequested:
        case E::kAllocationConfirmed:
        case E::kAllocationReleased:
        case E::kPaymentRefunded:
        case E::kPaymentReturned:
        case E::PAYLOAD_NOT_SET: return std::nullopt;
    }
    return std::nullopt;
}

void set_payload(v1::CommandEnvelope& envelope, const ledger_command& command) {
    std::visit(
        overloaded{
            [&](const open_account& c) {
                put_account_fields(envelope.mutable_open_account(), c.book, c.account, c.name, c.type,
                                   c.currency, c.scale, c.parent, c.limits);
            },
            [&](const post_entry& c) {
                auto* p = envelope.mutable_post_entry();
                p->set_book_id(c.book.value);
                p->set_entry_id(c.entry.value);
                p->set_effective_date(c.effective_date);
                p->set_memo(c.memo);
                put_legs(c.legs, p->mutable_legs());
                p->set_adjustment(c.adjustment);
            },
            [&](const set_account_constraints& c) {
                auto* p = envelope.mutable_set_account_constraints();
                p->set_book_id(c.book.value);
                p->set_account_id(c.account.value);
                put_constraints(c.limits, p->mutable_constraints());
            },
            [&](const close_account& c) {
                envelope.mutable_close_account()->set_book_id(c.book.value);
                envelope.mutable_close_account()->set_account_id(c.account.value);
            },
            [&](const reopen_account& c) {
                envelope.mutable_reopen_account()->set_book_id(c.book.value);
                envelope.mutable_reopen_account()->set_account_id(c.account.value);
            },
            [&](const place_hold& c) {
                auto* p = envelope.mutable_place_hold();
                p->set_book_id(c.book.value);
                p->set_hold_id(c.hold.value);
                p->set_debit_account_id(c.debit.value);
                p->set_credit_account_id(c.credit.value);
                p->set_amount_minor(c.amount.minor_units);
                p->set_currency(c.amount.currency);
                p->set_expires_at_ms(c.expires_at_ms);
                p->set_memo(c.memo);
            },
            [&](const increase_hold& c) {
                auto* p = envelope.mutable_increase_hold();
                p->set_book_id(c.book.value);
                p->set_hold_id(c.hold.value);
                p->set_amount_minor(c.amount_minor);
            },
            [&](const capture_hold& c) {
                auto* p = envelope.mutable_capture_hold();
                p->set_book_id(c.book.value);
                p->set_hold_id(c.hold.value);
                p->set_entry_id(c.entry.value);
                p->set_amount_minor(c.amount_minor);
                p->set_effective_date(c.effective_date);
                p->set_final(c.final);
                p->set_memo(c.memo);
            },
            [&](const release_hold& c) {
                envelope.mutable_release_hold()->set_book_id(c.book.value);
                envelope.mutable_release_hold()->set_hold_id(c.hold.value);
            },
            [&](const expire_holds& c) { envelope.mutable_expire_holds()->set_book_id(c.book.value); },
            [&](const reverse_entry& c) {
                auto* p = envelope.mutable_reverse_entry();
                p->set_book_id(c.book.value);
                p->set_entry_id(c.entry.value);
                p->set_reversal_entry_id(c.reversal.value);
                p->set_effective_date(c.effective_date);
                p->set_memo(c.memo);
            },
            [&](const close_period& c) {
                envelope.mutable_close_period()->set_book_id(c.book.value);
                envelope.mutable_close_period()->set_through_date(c.through_date);
            },
            [&](const reopen_period& c) {
                envelope.mutable_reopen_period()->set_book_id(c.book.value);
                envelope.mutable_reopen_period()->set_through_date(c.through_date);
            },
            [&](const close_year& c) {
                auto* p = envelope.mutable_close_year();
                p->set_book_id(c.book.value);
                p->set_fiscal_year_end(c.fiscal_year_end);
                p->set_entry_id(c.entry.value);
                p->set_retained_earnings_account_id(c.retained_earnings.value);
                p->set_memo(c.memo);
            },
            [&](const seal_period& c) {
                auto* p = envelope.mutable_seal_period();
                p->set_book_id(c.book.value);
                p->set_through_date(c.through_date);
                p->set_trial_balance_sha256(c.trial_balance_sha256);
                p->set_chain_heads(c.chain_heads);
            },
            [&](const set_book_calendar& c) {
                auto* p = envelope.mutable_set_book_calendar();
                p->set_book_id(c.book.value);
                p->set_utc_offset_minutes(c.utc_offset_minutes);
                p->set_cutoff_minutes(c.cutoff_minutes);
                p->set_fiscal_year_start_month(c.fiscal_year_start_month);
            },
            [&](const set_account_mapping& c) {
                auto* p = envelope.mutable_set_account_mapping();
                p->set_book_id(c.book.value);
                p->set_effective_from(c.effective_from);
                put_role_accounts(c.accounts, p->mutable_accounts());
            },
        },
        command);
}

void set_payload(v1::EventEnvelope& envelope, const ledger_event& event) {
    std::visit(
        overloaded{
            [&](const account_opened& e) {
                put_account_fields(envelope.mutable_account_opened(), e.book, e.account, e.name, e.type,
                                   e.currency, e.scale, e.parent, e.limits);
            },
            [&](const entry_posted& e) {
                auto* p = envelope.mutable_entry_posted();
                p->set_book_id(e.book.value);
                p->set_entry_id(e.entry.value);
                p->set_effective_date(e.effective_date);
                p->set_memo(e.memo);
                put_legs(e.legs, p->mutable_legs());
                p->set_reversal_of(e.reversal_of.value);
                p->set_adjustment(e.adjustment);
                p->set_closing(e.closing);
            },
            [&](const account_constraints_changed& e) {
                auto* p = envelope.mutable_account_constraints_changed();
                p->set_book_id(e.book.value);
                p->set_account_id(e.account.value);
                put_constraints(e.limits, p->mutable_constraints());
            },
            [&](const account_closed& e) {
                envelope.mutable_account_closed()->set_book_id(e.book.value);
                envelope.mutable_account_closed()->set_account_id(e.account.value);
            },
            [&](const account_reopened& e) {
                envelope.mutable_account_reopened()->set_book_id(e.book.value);
                envelope.mutable_account_reopened()->set_account_id(e.account.value);
            },
            [&](const hold_placed& e) {
                auto* p = envelope.mutable_hold_placed();
                p->set_book_id(e.book.value);
                p->set_hold_id(e.hold.value);
                p->set_debit_account_id(e.debit.value);
                p->set_credit_account_id(e.credit.value);
                p->set_amount_minor(e.amount.minor_units);
                p->set_currency(e.amount.currency);
                p->set_expires_at_ms(e.expires_at_ms);
                p->set_memo(e.memo);
            },
            [&](const hold_increased& e) {
                auto* p = envelope.mutable_hold_increased();
                p->set_book_id(e.book.value);
                p->set_hold_id(e.hold.value);
                p->set_amount_minor(e.amount_minor);
            },
            [&](const hold_captured& e) {
                auto* p = envelope.mutable_hold_captured();
                p->set_book_id(e.book.value);
                p->set_hold_id(e.hold.value);
                p->set_entry_id(e.entry.value);
                p->set_amount_minor(e.amount.minor_units);
                p->set_currency(e.amount.currency);
                p->set_effective_date(e.effective_date);
                p->set_released_minor(e.released_minor);
                p->set_debit_account_id(e.debit.value);
                p->set_credit_account_id(e.credit.value);
                p->set_memo(e.memo);
            },
            [&](const hold_released& e) {
                auto* p = envelope.mutable_hold_released();
                p->set_book_id(e.book.value);
                p->set_hold_id(e.hold.value);
                p->set_released_minor(e.released_minor);
                p->set_debit_account_id(e.debit.value);
                p->set_credit_account_id(e.credit.value);
            },
            [&](const hold_expired& e) {
                auto* p = envelope.mutable_hold_expired();
                p->set_book_id(e.book.value);
                p->set_hold_id(e.hold.value);
                p->set_released_minor(e.released_minor);
                p->set_debit_account_id(e.debit.value);
                p->set_credit_account_id(e.credit.value);
            },
            [&](const period_closed& e) {
                auto* p = envelope.mutable_period_closed();
                p->set_book_id(e.book.value);
                p->set_through_date(e.through_date);
                p->set_closed_by(e.closed_by);
            },
            [&](const period_reopened& e) {
                auto* p = envelope.mutable_period_reopened();
                p->set_book_id(e.book.value);
                p->set_through_date(e.through_date);
                p->set_reopened_by(e.reopened_by);
            },
            [&](const year_closed& e) {
                auto* p = envelope.mutable_year_closed();
                p->set_book_id(e.book.value);
                p->set_fiscal_year_end(e.fiscal_year_end);
                p->set_entry_id(e.entry.value);
                p->set_closed_by(e.closed_by);
            },
            [&](const period_sealed& e) {
                auto* p = envelope.mutable_period_sealed();
                p->set_book_id(e.book.value);
                p->set_through_date(e.through_date);
                p->set_trial_balance_sha256(e.trial_balance_sha256);
                p->set_chain_heads(e.chain_heads);
                p->set_sealed_by(e.sealed_by);
            },
            [&](const book_calendar_set& e) {
                auto* p = envelope.mutable_book_calendar_set();
                p->set_book_id(e.book.value);
                p->set_utc_offset_minutes(e.utc_offset_minutes);
                p->set_cutoff_minutes(e.cutoff_minutes);
                p->set_fiscal_year_start_month(e.fiscal_year_start_month);
            },
            [&](const account_mapping_set& e) {
                auto* p = envelope.mutable_account_mapping_set();
                p->set_book_id(e.book.value);
                p->set_effective_from(e.effective_from);
                put_role_accounts(e.accounts, p->mutable_accounts());
            },
            [&](const entry_repeat_acknowledged& e) {
                envelope.mutable_entry_repeat_acknowledged()->set_book_id(e.book.value);
                envelope.mutable_entry_repeat_acknowledged()->set_entry_id(e.entry.value);
            },
        },
        event);
}

}  // namespace daybook::events
