#include "events/ledger_codec.h"

#include "events/overloaded.h"

namespace daybook::events {
namespace {

leg leg_of(const v1::Leg& l) {
    return leg{account_id{l.account_id()}, static_cast<side>(l.side()),
               money{l.amount_minor(), l.currency()}};
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
    }
}

}  // namespace

std::optional<ledger_command> ledger_command_of(const v1::CommandEnvelope& envelope) {
    switch (envelope.payload_case()) {
        case v1::CommandEnvelope::kOpenAccount: {
            const auto& c = envelope.open_account();
            return open_account{book_id{c.book_id()}, account_id{c.account_id()}, c.name(),
                                static_cast<account_type>(c.type()), c.currency(), c.scale()};
        }
        case v1::CommandEnvelope::kPostEntry: {
            const auto& c = envelope.post_entry();
            return post_entry{book_id{c.book_id()}, entry_id{c.entry_id()}, c.effective_date(),
                              c.memo(), legs_of(c.legs())};
        }
        default: return std::nullopt;
    }
}

std::optional<ledger_event> ledger_event_of(const v1::EventEnvelope& envelope) {
    switch (envelope.payload_case()) {
        case v1::EventEnvelope::kAccountOpened: {
            const auto& e = envelope.account_opened();
            return account_opened{book_id{e.book_id()}, account_id{e.account_id()}, e.name(),
                                  static_cast<account_type>(e.type()), e.currency(), e.scale()};
        }
        case v1::EventEnvelope::kEntryPosted: {
            const auto& e = envelope.entry_posted();
            return entry_posted{book_id{e.book_id()}, entry_id{e.entry_id()}, e.effective_date(),
                                e.memo(), legs_of(e.legs())};
        }
        default: return std::nullopt;
    }
}

void set_payload(v1::CommandEnvelope& envelope, const ledger_command& command) {
    std::visit(overloaded{
                   [&](const open_account& c) {
                       auto* p = envelope.mutable_open_account();
                       p->set_book_id(c.book.value);
                       p->set_account_id(c.account.value);
                       p->set_name(c.name);
                       p->set_type(static_cast<v1::AccountType>(c.type));
                       p->set_currency(c.currency);
                       p->set_scale(c.scale);
                   },
                   [&](const post_entry& c) {
                       auto* p = envelope.mutable_post_entry();
                       p->set_book_id(c.book.value);
                       p->set_entry_id(c.entry.value);
                       p->set_effective_date(c.effective_date);
                       p->set_memo(c.memo);
                       put_legs(c.legs, p->mutable_legs());
                   },
               },
               command);
}

void set_payload(v1::EventEnvelope& envelope, const ledger_event& event) {
    std::visit(overloaded{
                   [&](const account_opened& e) {
                       auto* p = envelope.mutable_account_opened();
                       p->set_book_id(e.book.value);
                       p->set_account_id(e.account.value);
                       p->set_name(e.name);
                       p->set_type(static_cast<v1::AccountType>(e.type));
                       p->set_currency(e.currency);
                       p->set_scale(e.scale);
                   },
                   [&](const entry_posted& e) {
                       auto* p = envelope.mutable_entry_posted();
                       p->set_book_id(e.book.value);
                       p->set_entry_id(e.entry.value);
                       p->set_effective_date(e.effective_date);
                       p->set_memo(e.memo);
                       put_legs(e.legs, p->mutable_legs());
                   },
               },
               event);
}

}  // namespace daybook::events
