#include "aggregates/ledger.h"

#include <limits>
#include <map>

#include "aggregates/validation.h"
#include "events/int128.h"
#include "events/limits.h"
#include "events/overloaded.h"

namespace daybook::aggregates {
namespace {

using events::account_opened;
using events::entry_posted;
using events::open_account;
using events::post_entry;
using events::side;

std::string account_key(const events::book_id& book, const events::account_id& account) {
    std::string k = "ledger/acct/";
    k += book.value;
    k += '\0';
    k += account.value;
    return k;
}

std::string entry_key(const events::book_id& book, const events::entry_id& entry) {
    std::string k = "ledger/entry/";
    k += book.value;
    k += '\0';
    k += entry.value;
    return k;
}

rejection reject(rejection_code code, std::string field, std::string detail) {
    return rejection{code, std::move(field), std::move(detail)};
}

std::optional<rejection> check_open(const open_account& c, const events::keyed_state& state) {
    const std::string f = "open_account.";
    if (!valid_id(c.book.value))
        return reject(rejection_code::book_id_invalid, f + "book_id",
                      "book_id must be 1-128 printable characters without spaces");
    if (!valid_id(c.account.value))
        return reject(rejection_code::account_id_invalid, f + "account_id",
                      "account_id must be 1-128 printable characters without spaces");
    if (c.name.empty() || c.name.size() > limits::account_name_bytes_max)
        return reject(rejection_code::account_name_invalid, f + "name",
                      "name must be 1-" + std::to_string(limits::account_name_bytes_max) + " bytes");
    if (c.type == events::account_type::unspecified || c.type > events::account_type::expense)
        return reject(rejection_code::account_type_invalid, f + "type",
                      "type must be asset, liability, equity, revenue or expense");
    if (!valid_currency(c.currency))
        return reject(rejection_code::currency_invalid, f + "currency",
                      "currency must be 3-12 characters A-Z or 0-9, got '" + c.currency + "'");
    if (c.scale > limits::currency_scale_max)
        return reject(rejection_code::scale_too_large, f + "scale",
                      "scale " + std::to_string(c.scale) + " is above the maximum of " +
                          std::to_string(limits::currency_scale_max) + " decimal places");
    if (ledger::find_account(state, c.book, c.account))
        return reject(rejection_code::account_already_exists, f + "account_id",
                      "account " + c.account.value + " already exists in book " + c.book.value);
    return std::nullopt;
}

std::optional<rejection> check_entry_shape(const post_entry& c) {
    const std::string f = "post_entry.";
    if (!valid_id(c.book.value))
        return reject(rejection_code::book_id_invalid, f + "book_id",
                      "book_id must be 1-128 printable characters without spaces");
    if (!valid_id(c.entry.value))
        return reject(rejection_code::entry_id_invalid, f + "entry_id",
                      "entry_id must be 1-128 printable characters without spaces");
    if (!valid_date(c.effective_date))
        return reject(rejection_code::effective_date_invalid, f + "effective_date",
                      "effective_date must be a calendar date YYYY-MM-DD, got '" +
                          c.effective_date + "'");
    if (c.memo.size() > limits::memo_bytes_max)
        return reject(rejection_code::memo_too_long, f + "memo",
                      "memo is " + std::to_string(c.memo.size()) + " bytes; the limit is " +
                          std::to_string(limits::memo_bytes_max));
    if (c.legs.size() < 2)
        return reject(rejection_code::entry_too_few_legs, f + "legs",
                      "an entry needs at least 2 legs, got " + std::to_string(c.legs.size()));
    if (c.legs.size() > limits::entry_legs_max)
        return reject(rejection_code::entry_too_many_legs, f + "legs",
                      "an entry has at most " + std::to_string(limits::entry_legs_max) +
                          " legs, got " + std::to_string(c.legs.size()));
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        const auto& l = c.legs[i];
        const std::string lf = f + "legs[" + std::to_string(i) + "].";
        if (!valid_id(l.account.value))
            return reject(rejection_code::account_id_invalid, lf + "account_id",
                          "account_id must be 1-128 printable characters without spaces");
        if (l.direction != side::debit && l.direction != side::credit)
            return reject(rejection_code::leg_side_invalid, lf + "side",
                          "side must be debit or credit");
        if (l.amount.minor_units <= 0)
            return reject(rejection_code::amount_must_be_positive, lf + "amount_minor",
                          "amount must be positive, got " + std::to_string(l.amount.minor_units));
        if (!valid_currency(l.amount.currency))
            return reject(rejection_code::currency_invalid, lf + "currency",
                          "currency must be 3-12 characters A-Z or 0-9, got '" +
                              l.amount.currency + "'");
    }
    return std::nullopt;
}

std::optional<rejection> check_post(const post_entry& c, const events::keyed_state& state) {
    if (auto r = check_entry_shape(c)) return r;
    const std::string f = "post_entry.";
    if (ledger::entry_exists(state, c.book, c.entry))
        return reject(rejection_code::entry_already_exists, f + "entry_id",
                      "entry " + c.entry.value + " already exists in book " + c.book.value);

    std::map<std::string, v1::AccountState> accounts;  // by account id, each read once
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        const auto& l = c.legs[i];
        const std::string lf = f + "legs[" + std::to_string(i) + "].";
        auto it = accounts.find(l.account.value);
        if (it == accounts.end()) {
            auto found = ledger::find_account(state, c.book, l.account);
            if (!found)
                return reject(rejection_code::account_not_found, lf + "account_id",
                              "account " + l.account.value + " does not exist in book " +
                                  c.book.value);
            it = accounts.emplace(l.account.value, std::move(*found)).first;
        }
        if (it->second.currency() != l.amount.currency)
            return reject(rejection_code::currency_mismatch, lf + "currency",
                          "account " + l.account.value + " is in " + it->second.currency() +
                              ", the leg is in " + l.amount.currency);
    }

    // Sums in 128 bits: a sum of up to 1024 int64 amounts cannot overflow them.
    std::map<std::string, int128> net_by_currency;
    for (const auto& l : c.legs)
        net_by_currency[l.amount.currency] +=
            l.direction == side::debit ? int128{l.amount.minor_units} : -int128{l.amount.minor_units};
    for (const auto& [currency, net] : net_by_currency)
        if (net != 0)
            return reject(rejection_code::entry_unbalanced, f + "legs",
                          "debits and credits in " + currency + " differ by " +
                              to_decimal(net > 0 ? net : -net) +
                              " minor units");

    struct totals { int128 debits = 0, credits = 0; };
    std::map<std::string, totals> after;
    for (const auto& l : c.legs) {
        auto& t = after[l.account.value];
        if (t.debits == 0 && t.credits == 0) {
            t.debits = accounts[l.account.value].debits_minor();
            t.credits = accounts[l.account.value].credits_minor();
        }
        (l.direction == side::debit ? t.debits : t.credits) += l.amount.minor_units;
    }
    constexpr int128 max = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        const auto& t = after[c.legs[i].account.value];
        if (t.debits > max || t.credits > max)
            return reject(rejection_code::amount_overflow,
                          f + "legs[" + std::to_string(i) + "].amount_minor",
                          "account " + c.legs[i].account.value +
                              " would exceed the largest representable total");
    }
    return std::nullopt;
}

}  // namespace

std::string stream_of(const events::book_id& book) { return "book/" + book.value; }

std::optional<v1::AccountState> ledger::find_account(const events::keyed_state& state,
                                                     const events::book_id& book,
                                                     const events::account_id& account) {
    auto raw = state.get(account_key(book, account));
    if (!raw) return std::nullopt;
    v1::AccountState out;
    if (!out.ParseFromString(*raw)) std::abort();  // our own state: a bug or corruption
    return out;
}

bool ledger::entry_exists(const events::keyed_state& state, const events::book_id& book,
                          const events::entry_id& entry) {
    return state.get(entry_key(book, entry)).has_value();
}

result<std::vector<ledger::event>> ledger::decide(const command& cmd,
                                                  const events::keyed_state& state) {
    return std::visit(
        overloaded{
            [&](const open_account& c) -> result<std::vector<event>> {
                if (auto r = check_open(c, state)) return *r;
                return std::vector<event>{
                    account_opened{c.book, c.account, c.name, c.type, c.currency, c.scale}};
            },
            [&](const post_entry& c) -> result<std::vector<event>> {
                if (auto r = check_post(c, state)) return *r;
                return std::vector<event>{
                    entry_posted{c.book, c.entry, c.effective_date, c.memo, c.legs}};
            },
        },
        cmd);
}

void ledger::evolve(events::keyed_state& state, const event& evt) {
    std::visit(overloaded{
                   [&](const account_opened& e) {
                       v1::AccountState a;
                       a.set_account_id(e.account.value);
                       a.set_type(static_cast<v1::AccountType>(e.type));
                       a.set_currency(e.currency);
                       a.set_scale(e.scale);
                       state.put(account_key(e.book, e.account), a.SerializeAsString());
                   },
                   [&](const entry_posted& e) {
                       state.put(entry_key(e.book, e.entry), "1");
                       // Legs of one account are summed before writing, so each row is read once.
                       std::map<std::string, v1::AccountState> touched;
                       for (const auto& l : e.legs) {
                           auto it = touched.find(l.account.value);
                           if (it == touched.end()) {
                               auto found = find_account(state, e.book, l.account);
                               if (!found) continue;  // decide guarantees it exists
                               it = touched.emplace(l.account.value, std::move(*found)).first;
                           }
                           auto& a = it->second;
                           if (l.direction == side::debit)
                               a.set_debits_minor(a.debits_minor() + l.amount.minor_units);
                           else
                               a.set_credits_minor(a.credits_minor() + l.amount.minor_units);
                       }
                       for (const auto& [id, a] : touched)
                           state.put(account_key(e.book, events::account_id{id}),
                                     a.SerializeAsString());
                   },
               },
               evt);
}

}  // namespace daybook::aggregates
