#include "aggregates/ledger.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "aggregates/validation.h"
#include "events/codec.h"
#include "events/ledger_codec.h"
#include "events/int128.h"
#include "events/limits.h"
#include "events/overloaded.h"

namespace daybook::aggregates {
namespace {

using namespace events;

constexpr int128 int64_max = std::numeric_limits<std::int64_t>::max();

// ---- Keys -------------------------------------------------------------------------------------

std::string key2(std::string_view kind, std::string_view a, std::string_view b) {
    std::string k(kind);
    k += a;
    k += '\0';
    k += b;
    return k;
}
std::string account_key(const book_id& b, const account_id& a) { return key2("ledger/acct/", b.value, a.value); }
std::string entry_key(const book_id& b, const entry_id& e) { return key2("ledger/entry/", b.value, e.value); }
std::string hold_key(const book_id& b, const hold_id& h) { return key2("ledger/hold/", b.value, h.value); }
std::string book_key(const book_id& b) { return "ledger/book/" + b.value; }
// Posted movements of one revenue or expense account in one calendar month (DayDelta), read by
// close_year: ledger/plm/<book>\0<YYYY-MM>\0<account>.
std::string pl_month_prefix(const std::string& book) { return "ledger/plm/" + book + '\0'; }
std::string pl_month_key(const std::string& book, std::string_view month, const std::string& account) {
    return pl_month_prefix(book) + std::string(month) + '\0' + account;
}
// Open holds of an account by side and deadline: value = amount still pending (u64 BE).
std::string account_holds_prefix(const std::string& book, const std::string& account, char side) {
    return key2("ledger/ahold/", book, account) + '\0' + side + '\0';
}
std::string account_hold_key(const std::string& book, const std::string& account, char side,
                             std::int64_t expires, const std::string& hold) {
    return account_holds_prefix(book, account, side) + be64(static_cast<std::uint64_t>(expires)) + hold;
}
// Open holds of a book by deadline (for expire_holds).
std::string book_holds_prefix(const std::string& book) { return "ledger/hexp/" + book + '\0'; }
std::string book_hold_key(const std::string& book, std::int64_t expires, const std::string& hold) {
    return book_holds_prefix(book) + be64(static_cast<std::uint64_t>(expires)) + hold;
}

template <typename M>
std::optional<M> read(const keyed_state& state, const std::string& key) {
    return parse_row<M>(state.get(key));
}

template <typename M>
void write(keyed_state& state, const std::string& key, const M& m) {
    state.put(key, m.SerializeAsString());
}

rejection reject(rejection_code code, std::string field, std::string detail) {
    return rejection{code, std::move(field), std::move(detail)};
}

const std::string id_rule = " must be 1-128 printable characters without spaces";

// The period lock on a posting dated `date`: a sealed period takes nothing; a closed one takes
// only a process manager's postings (their cause was in the period: an invoice issued before the
// close whose entry was still on its way), until it is sealed.
std::optional<rejection> period_lock(const keyed_state& state, const book_id& book, const std::string& field,
                                     const std::string& date, const decide_context& ctx, bool adjustment = false) {
    auto b = read<v1::BookState>(state, book_key(book)).value_or(v1::BookState{});
    if (!b.sealed_through().empty() && date <= b.sealed_through())
        return reject(rejection_code::period_sealed, field,
                      "effective date " + date + " is in a sealed period (sealed through " + b.sealed_through() + " by " +
                          b.sealed_by() + "); post an adjustment in an open period");
    if (!b.year_closed_through().empty() && date <= b.year_closed_through())
        return reject(rejection_code::year_closed, field,
                      "effective date " + date + " is in a fiscal year closed by close_year (through " + b.year_closed_through() + ")");
    if (adjustment) {
        if (b.closed_through().empty() || date > b.closed_through())
            return reject(rejection_code::adjustment_period_not_closed, field,
                          "period 13 opens once the year's last period is closed (closed through " +
                              (b.closed_through().empty() ? std::string("nothing") : b.closed_through()) + "); post it as a normal entry");
        return std::nullopt;
    }
    if (!b.closed_through().empty() && date <= b.closed_through() && !ctx.process_manager)
        return reject(rejection_code::period_closed, field,
                      "effective date " + date + " is in a closed period (closed through " + b.closed_through() + " by " +
                          b.closed_by() + ")");
    return std::nullopt;
}

// The book's fiscal year: it begins on the first of fiscal_year_start_month (January when unset).
unsigned fiscal_start_month(const keyed_state& state, const book_id& book) {
    auto b = read<v1::BookState>(state, book_key(book));
    return b && b->fiscal_year_start_month() != 0 ? b->fiscal_year_start_month() : 1;
}

// Whether `date` (valid) is the last day of one of the book's fiscal years.
bool is_fiscal_year_end(const std::string& date, unsigned start_month) {
    unsigned last_month = start_month == 1 ? 12 : start_month - 1;
    return static_cast<unsigned>(std::stoi(date.substr(5, 2))) == last_month && add_days(date, 1).substr(8, 2) == "01";
}

bool hex_sha256(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// P:SEQ:HEX[,P:SEQ:HEX...] with 64-hex heads and no partition twice.
bool chain_heads_valid(const std::string& text) {
    if (text.empty()) return false;
    std::set<std::string> partitions;
    std::size_t at = 0;
    while (at <= text.size()) {
        auto end = text.find(',', at);
        if (end == std::string::npos) end = text.size();
        auto item = text.substr(at, end - at);
        auto c1 = item.find(':'), c2 = item.find(':', c1 == std::string::npos ? 0 : c1 + 1);
        if (c1 == std::string::npos || c2 == std::string::npos || c1 == 0 || c2 == c1 + 1) return false;
        auto p = item.substr(0, c1), seq = item.substr(c1 + 1, c2 - c1 - 1);
        if (p.size() > 5 || seq.size() > 19 || p.find_first_not_of("0123456789") != std::string::npos ||
            seq.find_first_not_of("0123456789") != std::string::npos || !hex_sha256(item.substr(c2 + 1)) ||
            !partitions.insert(p).second)
            return false;
        at = end + 1;
    }
    return true;
}

// ---- Balances and constraints -----------------------------------------------------------------

// How a command changes one account; pending deltas may be negative (captures, releases).
struct account_change {
    int128 debits = 0, credits = 0, debits_pending = 0, credits_pending = 0;
};

struct account_effect {
    const v1::AccountState& account;
    account_change change;
    std::string field;
};

std::optional<rejection> check_overflow(const account_effect& e) {
    const auto& a = e.account;
    const auto& d = e.change;
    if (int128{a.debits_minor()} + d.debits > int64_max || int128{a.credits_minor()} + d.credits > int64_max ||
        int128{a.debits_pending_minor()} + d.debits_pending > int64_max ||
        int128{a.credits_pending_minor()} + d.credits_pending > int64_max)
        return reject(rejection_code::amount_overflow, e.field,
                      "account " + a.account_id() + " would exceed the largest representable total");
    return std::nullopt;
}

std::optional<rejection> check_constraints(const keyed_state& state, const book_id& book, const account_effect& e,
                                           std::int64_t now) {
    const auto& a = e.account;
    const auto& d = e.change;
    int128 debits = int128{a.debits_minor()} + d.debits, credits = int128{a.credits_minor()} + d.credits;
    auto eff = ledger::effective_pending(state, book, a, now);
    int128 eff_dp = int128{eff.debits} + d.debits_pending, eff_cp = int128{eff.credits} + d.credits_pending;
    const auto& c = a.constraints();
    if (c.debits_must_not_exceed_credits() && debits + eff_dp > credits + c.limit_minor())
        return reject(rejection_code::exceeds_credits, e.field,
                      "account " + a.account_id() + " would have debits " + to_decimal(debits + eff_dp) +
                          " (pending included) above credits " + to_decimal(credits) + " plus limit " +
                          std::to_string(c.limit_minor()));
    if (c.credits_must_not_exceed_debits() && credits + eff_cp > debits + c.limit_minor())
        return reject(rejection_code::exceeds_debits, e.field,
                      "account " + a.account_id() + " would have credits " + to_decimal(credits + eff_cp) +
                          " (pending included) above debits " + to_decimal(debits) + " plus limit " +
                          std::to_string(c.limit_minor()));
    return std::nullopt;
}

// amount_overflow for every affected account first, then the constraints, accounts in order.
std::optional<rejection> check_effects(const keyed_state& state, const book_id& book,
                                       const std::vector<account_effect>& effects, std::int64_t now) {
    for (const auto& e : effects)
        if (auto r = check_overflow(e)) return r;
    for (const auto& e : effects)
        if (auto r = check_constraints(state, book, e, now)) return r;
    return std::nullopt;
}

// Loads the accounts of a set of legs and checks existence, status and currency.
struct leg_accounts {
    std::map<std::string, v1::AccountState> by_id;
};

std::optional<rejection> load_leg_account(const keyed_state& state, const book_id& book, const leg& l,
                                          const std::string& account_field, const std::string& currency_field,
                                          leg_accounts& out) {
    auto mismatch = [&](const std::string& currency) {
        return reject(rejection_code::currency_mismatch, currency_field,
                      "account " + l.account.value + " is in " + currency + ", the leg is in " + l.amount.currency);
    };
    if (auto it = out.by_id.find(l.account.value); it != out.by_id.end()) {
        if (it->second.currency() != l.amount.currency) return mismatch(it->second.currency());
        return std::nullopt;
    }
    auto a = ledger::find_account(state, book, l.account);
    if (!a)
        return reject(rejection_code::account_not_found, account_field,
                      "account " + l.account.value + " does not exist in book " + book.value);
    if (a->closed())
        return reject(rejection_code::account_closed, account_field, "account " + l.account.value + " is closed");
    if (a->currency() != l.amount.currency) return mismatch(a->currency());
    out.by_id.emplace(l.account.value, std::move(*a));
    return std::nullopt;
}

// The field path prefix of leg i of an entry.
std::string leg_field(const std::string& f, std::size_t i) { return f + "legs[" + std::to_string(i) + "]."; }

// Balanced per currency, then overflow and constraints per account in leg order.
std::optional<rejection> check_posting(const keyed_state& state, const book_id& book, const std::vector<leg>& legs,
                                       const leg_accounts& accounts, std::int64_t now, const std::string& f) {
    std::map<std::string, int128> net_by_currency;
    for (const auto& l : legs)
        net_by_currency[l.amount.currency] +=
            l.direction == side::debit ? int128{l.amount.minor_units} : -int128{l.amount.minor_units};
    for (const auto& [currency, net] : net_by_currency)
        if (net != 0)
            return reject(rejection_code::entry_unbalanced, f + "legs",
                          "debits and credits in " + currency + " differ by " + to_decimal(net > 0 ? net : -net) +
                              " minor units");
    std::map<std::string, account_change> changes;
    std::vector<std::pair<std::string, std::size_t>> order;  // account, first leg index
    for (std::size_t i = 0; i < legs.size(); ++i) {
        const auto& l = legs[i];
        if (!changes.count(l.account.value)) order.emplace_back(l.account.value, i);
        auto& c = changes[l.account.value];
        (l.direction == side::debit ? c.debits : c.credits) += l.amount.minor_units;
    }
    std::vector<account_effect> effects;
    for (const auto& [account, i] : order)
        effects.push_back({accounts.by_id.at(account), changes[account], f + "legs[" + std::to_string(i) + "].amount_minor"});
    return check_effects(state, book, effects, now);
}

std::optional<rejection> check_constraints_shape(const constraints& c, const std::string& field) {
    if (c.limit_minor < 0)
        return reject(rejection_code::constraints_invalid, field + ".limit_minor",
                      "limit must not be negative, got " + std::to_string(c.limit_minor));
    if (c.debits_must_not_exceed_credits && c.credits_must_not_exceed_debits)
        return reject(rejection_code::constraints_invalid, field,
                      "debits_must_not_exceed_credits and credits_must_not_exceed_debits exclude each other");
    return std::nullopt;
}

v1::Leg leg_proto(const leg& l) {
    v1::Leg p;
    p.set_account_id(l.account.value);
    p.set_side(static_cast<v1::Side>(l.direction));
    p.set_amount_minor(l.amount.minor_units);
    p.set_currency(l.amount.currency);
    p.set_account_role(static_cast<v1::AccountRole>(l.role));
    return p;
}

// ---- Account mapping (reference data: role -> account, effective-dated) ------------------------
// Rows: ledger/amap/<book>\0<role u8><effective_from> -> account id.

std::string mapping_prefix(const book_id& book, account_role role) {
    std::string k = "ledger/amap/" + book.value;
    k += '\0';
    k += static_cast<char>(role);
    return k;
}

bool valid_role(account_role r) { return r > account_role::unspecified && r <= account_role::bank; }

// The account type a role requires.
account_type type_for(account_role r) {
    switch (r) {
        case account_role::receivable:
        case account_role::tax_receivable:
        case account_role::supplier_advances:
        case account_role::bank: return account_type::asset;
        case account_role::payable:
        case account_role::tax_payable:
        case account_role::customer_advances: return account_type::liability;
        case account_role::revenue: return account_type::revenue;
        case account_role::expense: return account_type::expense;
        case account_role::unspecified: break;
    }
    return account_type::unspecified;
}

std::string role_name(account_role r) {
    return v1::AccountRole_Name(static_cast<v1::AccountRole>(r));
}

// The account mapped to `role` on `date`: the mapping with the latest effective_from <= date.
std::optional<account_id> mapped_account(const keyed_state& state, const book_id& book, account_role role,
                                         const std::string& date) {
    auto prefix = mapping_prefix(book, role);
    std::optional<account_id> found;
    for (const auto& [k, v] : state.scan(prefix, prefix + date + '\x01', limits::mapping_versions_max))
        found = account_id{v};
    return found;
}

// ---- Commands ---------------------------------------------------------------------------------

using decided = result<std::vector<ledger::event>>;

decided decide_open(const open_account& c, const keyed_state& state) {
    const std::string f = "open_account.";
    if (!valid_id(c.account.value)) return reject(rejection_code::account_id_invalid, f + "account_id", "account_id" + id_rule);
    if (c.name.empty() || c.name.size() > limits::account_name_bytes_max)
        return reject(rejection_code::account_name_invalid, f + "name",
                      "name must be 1-" + std::to_string(limits::account_name_bytes_max) + " bytes");
    if (c.type == account_type::unspecified || c.type > account_type::expense)
        return reject(rejection_code::account_type_invalid, f + "type",
                      "type must be asset, liability, equity, revenue or expense");
    if (!valid_currency(c.currency))
        return reject(rejection_code::currency_invalid, f + "currency",
                      "currency must be 3-12 characters A-Z or 0-9, got '" + c.currency + "'");
    if (c.scale > limits::currency_scale_max)
        return reject(rejection_code::scale_too_large, f + "scale",
                      "scale " + std::to_string(c.scale) + " is above the maximum of " +
                          std::to_string(limits::currency_scale_max) + " decimal places");
    if (auto r = check_constraints_shape(c.limits, f + "constraints")) return *r;
    if (ledger::find_account(state, c.book, c.account))
        return reject(rejection_code::account_already_exists, f + "account_id",
                      "account " + c.account.value + " already exists in book " + c.book.value);
    if (!c.parent.value.empty()) {
        auto parent = ledger::find_account(state, c.book, c.parent);
        if (!parent)
            return reject(rejection_code::parent_not_found, f + "parent_account_id",
                          "parent account " + c.parent.value + " does not exist in book " + c.book.value);
        if (parent->currency() != c.currency)
            return reject(rejection_code::parent_currency_mismatch, f + "parent_account_id",
                          "parent account " + c.parent.value + " is in " + parent->currency() + ", not " + c.currency);
    }
    return std::vector<ledger::event>{
        account_opened{c.book, c.account, c.name, c.type, c.currency, c.scale, c.parent, c.limits}};
}

std::optional<rejection> check_entry_shape(const post_entry& c) {
    const std::string f = "post_entry.";
    if (!valid_id(c.entry.value)) return reject(rejection_code::entry_id_invalid, f + "entry_id", "entry_id" + id_rule);
    if (!valid_date(c.effective_date))
        return reject(rejection_code::effective_date_invalid, f + "effective_date",
                      "effective_date must be a calendar date YYYY-MM-DD, got '" + c.effective_date + "'");
    if (c.memo.size() > limits::memo_bytes_max)
        return reject(rejection_code::memo_too_long, f + "memo",
                      "memo is " + std::to_string(c.memo.size()) + " bytes; the limit is " +
                          std::to_string(limits::memo_bytes_max));
    if (c.legs.size() < 2)
        return reject(rejection_code::entry_too_few_legs, f + "legs",
                      "an entry needs at least 2 legs, got " + std::to_string(c.legs.size()));
    if (c.legs.size() > limits::entry_legs_max)
        return reject(rejection_code::entry_too_many_legs, f + "legs",
                      "an entry has at most " + std::to_string(limits::entry_legs_max) + " legs, got " +
                          std::to_string(c.legs.size()));
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        const auto& l = c.legs[i];
        const std::string lf = f + "legs[" + std::to_string(i) + "].";
        if (l.role != account_role::unspecified) {
            if (!l.account.value.empty())
                return reject(rejection_code::leg_account_and_role, lf + "account_role",
                              "a leg names an account_id or an account_role, not both");
            if (!valid_role(l.role))
                return reject(rejection_code::account_role_invalid, lf + "account_role", "unknown account role");
        } else if (!valid_id(l.account.value))
            return reject(rejection_code::account_id_invalid, lf + "account_id", "account_id" + id_rule);
        if (l.direction != side::debit && l.direction != side::credit)
            return reject(rejection_code::leg_side_invalid, lf + "side", "side must be debit or credit");
        if (l.amount.minor_units <= 0)
            return reject(rejection_code::amount_must_be_positive, lf + "amount_minor",
                          "amount must be positive, got " + std::to_string(l.amount.minor_units));
        if (!valid_currency(l.amount.currency))
            return reject(rejection_code::currency_invalid, lf + "currency",
                          "currency must be 3-12 characters A-Z or 0-9, got '" + l.amount.currency + "'");
    }
    return std::nullopt;
}

// An entry_id seen before: the same content is acknowledged, other content says what differs.
decided decide_repeat(const post_entry& c, const v1::EntryState& existing) {
    const std::string f = "post_entry.";
    if (existing.effective_date() != c.effective_date)
        return reject(rejection_code::entry_exists_with_different_date, f + "effective_date",
                      "entry " + c.entry.value + " exists with effective date " + existing.effective_date());
    bool same_legs = static_cast<std::size_t>(existing.legs_size()) == c.legs.size();
    for (std::size_t i = 0; same_legs && i < c.legs.size(); ++i)
        same_legs = serialize(existing.legs(static_cast<int>(i))) == serialize(leg_proto(c.legs[i]));
    if (!same_legs)
        return reject(rejection_code::entry_exists_with_different_legs, f + "legs",
                      "entry " + c.entry.value + " exists with other legs");
    if (existing.memo() != c.memo)
        return reject(rejection_code::entry_exists_with_different_memo, f + "memo",
                      "entry " + c.entry.value + " exists with another memo");
    return std::vector<ledger::event>{entry_repeat_acknowledged{c.book, c.entry}};
}

// Legs given by role get the account the book maps that role to on the entry's date.
result<post_entry> resolve_roles(post_entry c, const keyed_state& state) {
    for (std::size_t i = 0; i < c.legs.size(); ++i) {
        auto& l = c.legs[i];
        if (l.role == account_role::unspecified) continue;
        auto account = mapped_account(state, c.book, l.role, c.effective_date);
        if (!account)
            return reject(rejection_code::account_role_unmapped, "post_entry.legs[" + std::to_string(i) + "].account_role",
                          "book " + c.book.value + " maps no account to " + role_name(l.role) + " on " + c.effective_date +
                              " (set_account_mapping)");
        l.account = *account;
    }
    return c;
}

decided decide_post(const post_entry& given, const keyed_state& state, const decide_context& ctx) {
    if (auto r = check_entry_shape(given)) return *r;
    const std::string f = "post_entry.";
    if (given.adjustment && !is_fiscal_year_end(given.effective_date, fiscal_start_month(state, given.book)))
        return reject(rejection_code::adjustment_date_invalid, f + "effective_date",
                      "a period-13 adjustment is dated the last day of a fiscal year, not " + given.effective_date);
    if (auto r = period_lock(state, given.book, f + "effective_date", given.effective_date, ctx, given.adjustment)) return *r;
    auto resolved = resolve_roles(given, state);
    if (!resolved) return resolved.error();
    const post_entry& c = *resolved;
    if (auto existing = ledger::find_entry(state, c.book, c.entry)) return decide_repeat(c, *existing);
    leg_accounts accounts;
    for (std::size_t i = 0; i < c.legs.size(); ++i)
        if (auto r = load_leg_account(state, c.book, c.legs[i], leg_field(f, i) + "account_id", leg_field(f, i) + "currency", accounts))
            return *r;
    if (auto r = check_posting(state, c.book, c.legs, accounts, ctx.now_ms, f)) return *r;
    return std::vector<ledger::event>{entry_posted{c.book, c.entry, c.effective_date, c.memo, c.legs, {}, c.adjustment}};
}

decided decide_constraints(const set_account_constraints& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "set_account_constraints.";
    if (!valid_id(c.account.value)) return reject(rejection_code::account_id_invalid, f + "account_id", "account_id" + id_rule);
    if (auto r = check_constraints_shape(c.limits, f + "constraints")) return *r;
    auto a = ledger::find_account(state, c.book, c.account);
    if (!a)
        return reject(rejection_code::account_not_found, f + "account_id",
                      "account " + c.account.value + " does not exist in book " + c.book.value);
    v1::AccountState changed = *a;
    changed.mutable_constraints()->set_debits_must_not_exceed_credits(c.limits.debits_must_not_exceed_credits);
    changed.mutable_constraints()->set_credits_must_not_exceed_debits(c.limits.credits_must_not_exceed_debits);
    changed.mutable_constraints()->set_limit_minor(c.limits.limit_minor);
    if (auto r = check_effects(state, c.book, {{changed, {}, f + "constraints"}}, ctx.now_ms)) return *r;
    return std::vector<ledger::event>{account_constraints_changed{c.book, c.account, c.limits}};
}

decided decide_close(const close_account& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "close_account.";
    if (!valid_id(c.account.value)) return reject(rejection_code::account_id_invalid, f + "account_id", "account_id" + id_rule);
    auto a = ledger::find_account(state, c.book, c.account);
    if (!a)
        return reject(rejection_code::account_not_found, f + "account_id",
                      "account " + c.account.value + " does not exist in book " + c.book.value);
    if (a->closed()) return reject(rejection_code::account_closed, f + "account_id", "account " + c.account.value + " is already closed");
    auto eff = ledger::effective_pending(state, c.book, *a, ctx.now_ms);
    if (eff.debits != 0 || eff.credits != 0)
        return reject(rejection_code::account_has_open_holds, f + "account_id",
                      "account " + c.account.value + " has open holds; release or capture them first");
    if (a->debits_minor() != a->credits_minor())
        return reject(rejection_code::account_balance_not_zero, f + "account_id",
                      "account " + c.account.value + " has a balance of " +
                          to_decimal(int128{a->debits_minor()} - a->credits_minor()) + " minor units");
    return std::vector<ledger::event>{account_closed{c.book, c.account}};
}

decided decide_reopen(const reopen_account& c, const keyed_state& state) {
    const std::string f = "reopen_account.";
    if (!valid_id(c.account.value)) return reject(rejection_code::account_id_invalid, f + "account_id", "account_id" + id_rule);
    auto a = ledger::find_account(state, c.book, c.account);
    if (!a)
        return reject(rejection_code::account_not_found, f + "account_id",
                      "account " + c.account.value + " does not exist in book " + c.book.value);
    if (!a->closed()) return reject(rejection_code::account_not_closed, f + "account_id", "account " + c.account.value + " is open");
    return std::vector<ledger::event>{account_reopened{c.book, c.account}};
}

decided decide_place(const place_hold& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "place_hold.";
    if (!valid_id(c.hold.value)) return reject(rejection_code::hold_id_invalid, f + "hold_id", "hold_id" + id_rule);
    if (!valid_id(c.debit.value)) return reject(rejection_code::account_id_invalid, f + "debit_account_id", "account_id" + id_rule);
    if (!valid_id(c.credit.value)) return reject(rejection_code::account_id_invalid, f + "credit_account_id", "account_id" + id_rule);
    if (c.debit == c.credit)
        return reject(rejection_code::hold_accounts_same, f + "credit_account_id", "a hold moves between two different accounts");
    if (c.amount.minor_units <= 0)
        return reject(rejection_code::amount_must_be_positive, f + "amount_minor",
                      "amount must be positive, got " + std::to_string(c.amount.minor_units));
    if (!valid_currency(c.amount.currency))
        return reject(rejection_code::currency_invalid, f + "currency",
                      "currency must be 3-12 characters A-Z or 0-9, got '" + c.amount.currency + "'");
    if (c.expires_at_ms <= ctx.now_ms || c.expires_at_ms - ctx.now_ms > hold_duration_max_ms)
        return reject(rejection_code::hold_expiry_invalid, f + "expires_at_ms",
                      "expires_at_ms must be after now (" + std::to_string(ctx.now_ms) + ") and at most 400 days ahead");
    if (c.memo.size() > limits::memo_bytes_max)
        return reject(rejection_code::memo_too_long, f + "memo", "memo is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    if (ledger::find_hold(state, c.book, c.hold))
        return reject(rejection_code::hold_already_exists, f + "hold_id", "hold " + c.hold.value + " already exists");
    leg_accounts accounts;
    if (auto r = load_leg_account(state, c.book, leg{c.debit, side::debit, c.amount}, f + "debit_account_id", f + "currency", accounts))
        return *r;
    if (auto r = load_leg_account(state, c.book, leg{c.credit, side::credit, c.amount}, f + "credit_account_id", f + "currency", accounts))
        return *r;
    if (auto r = check_effects(state, c.book,
                               {{accounts.by_id[c.debit.value], {0, 0, c.amount.minor_units, 0}, f + "amount_minor"},
                                {accounts.by_id[c.credit.value], {0, 0, 0, c.amount.minor_units}, f + "amount_minor"}},
                               ctx.now_ms))
        return *r;
    return std::vector<ledger::event>{hold_placed{c.book, c.hold, c.debit, c.credit, c.amount, c.expires_at_ms, c.memo}};
}

// The hold a command names, still open and not expired.
result<v1::HoldState> open_hold(const keyed_state& state, const book_id& book, const hold_id& hold,
                                const std::string& f, std::int64_t now) {
    auto h = ledger::find_hold(state, book, hold);
    if (!h) return reject(rejection_code::hold_not_found, f + "hold_id", "hold " + hold.value + " does not exist");
    if (h->status() != v1::HOLD_STATUS_OPEN)
        return reject(rejection_code::hold_already_resolved, f + "hold_id",
                      "hold " + hold.value + " is already " +
                          (h->status() == v1::HOLD_STATUS_CAPTURED   ? "captured"
                           : h->status() == v1::HOLD_STATUS_RELEASED ? "released"
                                                                     : "expired"));
    if (now >= h->expires_at_ms())
        return reject(rejection_code::hold_expired, f + "hold_id",
                      "hold " + hold.value + " expired at " + std::to_string(h->expires_at_ms()));
    return *h;
}

decided decide_increase(const increase_hold& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "increase_hold.";
    if (!valid_id(c.hold.value)) return reject(rejection_code::hold_id_invalid, f + "hold_id", "hold_id" + id_rule);
    if (c.amount_minor <= 0)
        return reject(rejection_code::amount_must_be_positive, f + "amount_minor",
                      "amount must be positive, got " + std::to_string(c.amount_minor));
    auto h = open_hold(state, c.book, c.hold, f, ctx.now_ms);
    if (!h) return h.error();
    if (int128{h->held_minor()} + c.amount_minor > int64_max)
        return reject(rejection_code::amount_overflow, f + "amount_minor", "the hold would exceed the largest amount");
    auto debit = ledger::find_account(state, c.book, account_id{h->debit_account_id()});
    auto credit = ledger::find_account(state, c.book, account_id{h->credit_account_id()});
    if (auto r = check_effects(state, c.book,
                               {{*debit, {0, 0, c.amount_minor, 0}, f + "amount_minor"},
                                {*credit, {0, 0, 0, c.amount_minor}, f + "amount_minor"}},
                               ctx.now_ms))
        return *r;
    return std::vector<ledger::event>{hold_increased{c.book, c.hold, c.amount_minor}};
}

decided decide_capture(const capture_hold& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "capture_hold.";
    if (!valid_id(c.hold.value)) return reject(rejection_code::hold_id_invalid, f + "hold_id", "hold_id" + id_rule);
    if (!valid_id(c.entry.value)) return reject(rejection_code::entry_id_invalid, f + "entry_id", "entry_id" + id_rule);
    if (c.amount_minor <= 0)
        return reject(rejection_code::amount_must_be_positive, f + "amount_minor",
                      "amount must be positive, got " + std::to_string(c.amount_minor));
    if (!valid_date(c.effective_date))
        return reject(rejection_code::effective_date_invalid, f + "effective_date",
                      "effective_date must be a calendar date YYYY-MM-DD, got '" + c.effective_date + "'");
    if (c.memo.size() > limits::memo_bytes_max)
        return reject(rejection_code::memo_too_long, f + "memo", "memo is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    auto h = open_hold(state, c.book, c.hold, f, ctx.now_ms);
    if (!h) return h.error();
    std::int64_t remaining = h->held_minor() - h->captured_minor();
    if (c.amount_minor > remaining)
        return reject(rejection_code::capture_exceeds_hold, f + "amount_minor",
                      "capture of " + std::to_string(c.amount_minor) + " exceeds the " + std::to_string(remaining) +
                          " still held");
    if (auto r = period_lock(state, c.book, f + "effective_date", c.effective_date, ctx)) return *r;
    if (ledger::entry_exists(state, c.book, c.entry))
        return reject(rejection_code::entry_already_exists, f + "entry_id",
                      "entry " + c.entry.value + " already exists in book " + c.book.value);
    std::int64_t released = (c.final || c.amount_minor == remaining) ? remaining - c.amount_minor : 0;
    int128 off_pending = int128{c.amount_minor} + released;
    auto debit = ledger::find_account(state, c.book, account_id{h->debit_account_id()});
    auto credit = ledger::find_account(state, c.book, account_id{h->credit_account_id()});
    if (auto r = check_effects(state, c.book,
                               {{*debit, {c.amount_minor, 0, -off_pending, 0}, f + "amount_minor"},
                                {*credit, {0, c.amount_minor, 0, -off_pending}, f + "amount_minor"}},
                               ctx.now_ms))
        return *r;
    return std::vector<ledger::event>{hold_captured{c.book, c.hold, c.entry, money{c.amount_minor, h->currency()},
                                                    c.effective_date, released, account_id{h->debit_account_id()},
                                                    account_id{h->credit_account_id()}, c.memo}};
}

decided decide_release(const release_hold& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "release_hold.";
    if (!valid_id(c.hold.value)) return reject(rejection_code::hold_id_invalid, f + "hold_id", "hold_id" + id_rule);
    auto h = open_hold(state, c.book, c.hold, f, ctx.now_ms);
    if (!h) return h.error();
    return std::vector<ledger::event>{hold_released{c.book, c.hold, h->held_minor() - h->captured_minor(),
                                                    account_id{h->debit_account_id()}, account_id{h->credit_account_id()}}};
}

decided decide_expire(const expire_holds& c, const keyed_state& state, const decide_context& ctx) {
    auto prefix = book_holds_prefix(c.book.value);
    auto rows = state.scan(prefix, prefix + be64(static_cast<std::uint64_t>(ctx.now_ms) + 1), expire_holds_batch_max);
    std::vector<ledger::event> out;
    for (const auto& [key, value] : rows) {
        hold_id hold{key.substr(prefix.size() + 8)};
        auto h = ledger::find_hold(state, c.book, hold);
        if (!h) std::abort();  // the index only names open holds
        out.push_back(hold_expired{c.book, hold, h->held_minor() - h->captured_minor(),
                                   account_id{h->debit_account_id()}, account_id{h->credit_account_id()}});
    }
    if (out.empty())
        return reject(rejection_code::no_expired_holds, "expire_holds.book_id",
                      "book " + c.book.value + " has no open hold past its deadline");
    return out;
}

decided decide_reverse(const reverse_entry& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "reverse_entry.";
    if (!valid_id(c.entry.value)) return reject(rejection_code::entry_id_invalid, f + "entry_id", "entry_id" + id_rule);
    if (!valid_id(c.reversal.value))
        return reject(rejection_code::entry_id_invalid, f + "reversal_entry_id", "reversal_entry_id" + id_rule);
    std::string date = c.effective_date.empty() ? ledger::business_date(state, c.book, ctx.now_ms) : c.effective_date;
    if (!valid_date(date))
        return reject(rejection_code::effective_date_invalid, f + "effective_date",
                      "effective_date must be a calendar date YYYY-MM-DD, got '" + date + "'");
    if (c.memo.size() > limits::memo_bytes_max)
        return reject(rejection_code::memo_too_long, f + "memo", "memo is longer than " + std::to_string(limits::memo_bytes_max) + " bytes");
    auto original = ledger::find_entry(state, c.book, c.entry);
    if (!original)
        return reject(rejection_code::entry_not_found, f + "entry_id", "entry " + c.entry.value + " does not exist in book " + c.book.value);
    if (!original->reversal_of().empty())
        return reject(rejection_code::entry_is_reversal, f + "entry_id",
                      "entry " + c.entry.value + " reverses " + original->reversal_of() + "; post a new entry instead");
    if (!original->reversed_by().empty())
        return reject(rejection_code::entry_already_reversed, f + "entry_id",
                      "entry " + c.entry.value + " was already reversed by " + original->reversed_by());
    if (auto r = period_lock(state, c.book, f + "effective_date", date, ctx)) return *r;
    if (ledger::entry_exists(state, c.book, c.reversal))
        return reject(rejection_code::entry_already_exists, f + "reversal_entry_id",
                      "entry " + c.reversal.value + " already exists in book " + c.book.value);
    std::vector<leg> mirrored;
    leg_accounts accounts;
    for (int i = 0; i < original->legs_size(); ++i) {
        const auto& l = original->legs(i);
        mirrored.push_back(leg{account_id{l.account_id()}, l.side() == v1::SIDE_DEBIT ? side::credit : side::debit,
                               money{l.amount_minor(), l.currency()}});
        auto li = static_cast<std::size_t>(i);
        if (auto r = load_leg_account(state, c.book, mirrored.back(), leg_field(f, li) + "account_id", leg_field(f, li) + "currency", accounts))
            return *r;
    }
    if (auto r = check_posting(state, c.book, mirrored, accounts, ctx.now_ms, f)) return *r;
    std::string memo = c.memo.empty() ? "Reversal of " + c.entry.value : c.memo;
    return std::vector<ledger::event>{entry_posted{c.book, c.reversal, date, memo, mirrored, c.entry}};
}

decided decide_close_period(const close_period& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "close_period.";
    if (!valid_date(c.through_date))
        return reject(rejection_code::effective_date_invalid, f + "through_date",
                      "through_date must be a calendar date YYYY-MM-DD, got '" + c.through_date + "'");
    auto b = read<v1::BookState>(state, book_key(c.book));
    if (b && !b->closed_through().empty() && c.through_date <= b->closed_through())
        return reject(rejection_code::period_already_closed, f + "through_date",
                      "book " + c.book.value + " is already closed through " + b->closed_through());
    return std::vector<ledger::event>{period_closed{c.book, c.through_date, ctx.actor}};
}

decided decide_reopen_period(const reopen_period& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "reopen_period.";
    auto b = read<v1::BookState>(state, book_key(c.book));
    if (!b || b->closed_through().empty())
        return reject(rejection_code::period_not_closed, f + "book_id", "book " + c.book.value + " has no closed period");
    if (ctx.actor == b->closed_by())
        return reject(rejection_code::reopen_requires_other_actor, f + "book_id",
                      "the period was closed by " + b->closed_by() + "; another person must reopen it");
    if (!c.through_date.empty() && (!valid_date(c.through_date) || c.through_date >= b->closed_through()))
        return reject(rejection_code::reopen_date_invalid, f + "through_date",
                      "through_date must be empty or a date before " + b->closed_through());
    if (!b->sealed_through().empty() && (c.through_date.empty() || c.through_date < b->sealed_through()))
        return reject(rejection_code::period_sealed, f + "through_date",
                      "the book is sealed through " + b->sealed_through() + "; a sealed period cannot be reopened");
    if (!b->year_closed_through().empty() && (c.through_date.empty() || c.through_date < b->year_closed_through()))
        return reject(rejection_code::year_closed, f + "through_date",
                      "the fiscal year ending " + b->year_closed_through() + " is closed (close_year); it cannot be reopened");
    return std::vector<ledger::event>{period_reopened{c.book, c.through_date, ctx.actor}};
}

// The closing entry: every revenue and expense account's net movement over the fiscal year
// (period-13 adjustments included) is reversed into the retained earnings account.
decided decide_close_year(const close_year& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "close_year.";
    if (!valid_date(c.fiscal_year_end))
        return reject(rejection_code::effective_date_invalid, f + "fiscal_year_end",
                      "fiscal_year_end must be a calendar date YYYY-MM-DD, got '" + c.fiscal_year_end + "'");
    const unsigned start_month = fiscal_start_month(state, c.book);
    if (!is_fiscal_year_end(c.fiscal_year_end, start_month))
        return reject(rejection_code::fiscal_year_end_invalid, f + "fiscal_year_end",
                      c.fiscal_year_end + " is not the last day of a fiscal year of book " + c.book.value +
                          " (fiscal years begin in month " + std::to_string(start_month) + ")");
    if (!valid_id(c.entry.value)) return reject(rejection_code::entry_id_invalid, f + "entry_id", "entry_id" + id_rule);
    if (!valid_id(c.retained_earnings.value))
        return reject(rejection_code::account_id_invalid, f + "retained_earnings_account_id", "retained_earnings_account_id" + id_rule);
    if (c.memo.size() > limits::memo_bytes_max)
        return reject(rejection_code::memo_too_long, f + "memo",
                      "memo is " + std::to_string(c.memo.size()) + " bytes; the limit is " + std::to_string(limits::memo_bytes_max));
    auto b = read<v1::BookState>(state, book_key(c.book)).value_or(v1::BookState{});
    if (!b.sealed_through().empty() && c.fiscal_year_end <= b.sealed_through())
        return reject(rejection_code::period_sealed, f + "fiscal_year_end",
                      "the book is sealed through " + b.sealed_through() + "; close the year before sealing it");
    if (!b.year_closed_through().empty() && c.fiscal_year_end <= b.year_closed_through())
        return reject(rejection_code::year_already_closed, f + "fiscal_year_end",
                      "the fiscal years through " + b.year_closed_through() + " are closed");
    if (b.closed_through().empty() || c.fiscal_year_end > b.closed_through())
        return reject(rejection_code::period_not_closed, f + "fiscal_year_end",
                      "close the period through " + c.fiscal_year_end + " first (close_period), so nothing more is posted into the year");
    if (ledger::entry_exists(state, c.book, c.entry))
        return reject(rejection_code::entry_already_exists, f + "entry_id",
                      "entry " + c.entry.value + " already exists in book " + c.book.value);
    auto re = ledger::find_account(state, c.book, c.retained_earnings);
    if (!re)
        return reject(rejection_code::account_not_found, f + "retained_earnings_account_id",
                      "account " + c.retained_earnings.value + " does not exist in book " + c.book.value);
    if (re->closed())
        return reject(rejection_code::account_closed, f + "retained_earnings_account_id", "account " + c.retained_earnings.value + " is closed");
    if (re->type() != v1::ACCOUNT_TYPE_EQUITY)
        return reject(rejection_code::retained_earnings_invalid, f + "retained_earnings_account_id",
                      "account " + c.retained_earnings.value + " is not an equity account");

    // The year's months: from the first of start_month one year before the day after the end.
    const std::string next = add_days(c.fiscal_year_end, 1);
    const std::string first_month = std::to_string(std::stoi(next.substr(0, 4)) - 1) + next.substr(4, 3);
    const std::string last_month = c.fiscal_year_end.substr(0, 7);
    std::map<std::string, int128> net;  // account -> debits - credits over the year
    const auto prefix = pl_month_prefix(c.book.value);
    const std::size_t scan_max = 12 * limits::entry_legs_max + 1;
    std::vector<std::string> years{first_month.substr(0, 4)};
    if (last_month.substr(0, 4) != years.front()) years.push_back(last_month.substr(0, 4));
    for (const auto& year : years) {
        auto rows = state.scan(prefix + year + "-", "", scan_max);
        if (rows.size() == scan_max)
            return reject(rejection_code::entry_too_many_legs, f + "fiscal_year_end",
                          "more revenue and expense accounts moved in the year than one closing entry can hold (" +
                              std::to_string(limits::entry_legs_max - 1) + ")");
        for (const auto& [key, value] : rows) {
            auto rest = std::string_view(key).substr(prefix.size());
            auto month = rest.substr(0, 7);
            if (month < first_month || month > last_month) continue;
            v1::DayDelta d;
            d.ParseFromString(value);
            net[std::string(rest.substr(8))] += int128{d.debits_minor()} - d.credits_minor();
        }
    }
    std::vector<leg> legs;
    int128 to_equity = 0;  // debits - credits the closing legs put on P&L accounts, taken from equity
    for (const auto& [account, n] : net) {
        if (n == 0) continue;
        auto a = ledger::find_account(state, c.book, account_id{account});
        if (!a) continue;
        if (a->currency() != re->currency())
            return reject(rejection_code::currency_mismatch, f + "retained_earnings_account_id",
                          "account " + account + " is in " + a->currency() + ", retained earnings " + c.retained_earnings.value +
                              " in " + re->currency() + " (one closing per currency is not supported)");
        if (n > int64_max || -n > int64_max)
            return reject(rejection_code::amount_overflow, f + "fiscal_year_end", "account " + account + "'s net movement exceeds int64");
        legs.push_back(leg{account_id{account}, n > 0 ? side::credit : side::debit,
                           money{static_cast<std::int64_t>(n > 0 ? n : -n), a->currency()}});
        to_equity += n;
    }
    if (legs.size() >= limits::entry_legs_max)
        return reject(rejection_code::entry_too_many_legs, f + "fiscal_year_end",
                      std::to_string(legs.size()) + " revenue and expense accounts to close; one closing entry holds " +
                          std::to_string(limits::entry_legs_max - 1));
    std::vector<ledger::event> out;
    if (!legs.empty()) {
        if (to_equity > int64_max || -to_equity > int64_max)
            return reject(rejection_code::amount_overflow, f + "retained_earnings_account_id", "the year's result exceeds int64");
        if (to_equity != 0)
            legs.push_back(leg{c.retained_earnings, to_equity > 0 ? side::debit : side::credit,
                               money{static_cast<std::int64_t>(to_equity > 0 ? to_equity : -to_equity), re->currency()}});
        leg_accounts accounts;
        for (std::size_t i = 0; i < legs.size(); ++i)
            if (auto r = load_leg_account(state, c.book, legs[i], f + "fiscal_year_end", f + "fiscal_year_end", accounts)) return *r;
        if (auto r = check_posting(state, c.book, legs, accounts, ctx.now_ms, f)) return *r;
        std::string memo = c.memo.empty() ? "Closing of the fiscal year ending " + c.fiscal_year_end : c.memo;
        out.push_back(entry_posted{c.book, c.entry, c.fiscal_year_end, memo, legs, {}, false, true});
    }
    out.push_back(year_closed{c.book, c.fiscal_year_end, legs.empty() ? entry_id{} : c.entry, ctx.actor});
    return out;
}

decided decide_seal_period(const seal_period& c, const keyed_state& state, const decide_context& ctx) {
    const std::string f = "seal_period.";
    if (!valid_date(c.through_date))
        return reject(rejection_code::effective_date_invalid, f + "through_date",
                      "through_date must be a calendar date YYYY-MM-DD, got '" + c.through_date + "'");
    if (!hex_sha256(c.trial_balance_sha256))
        return reject(rejection_code::seal_evidence_invalid, f + "trial_balance_sha256",
                      "trial_balance_sha256 must be 64 lowercase hex characters (the SHA-256 of the trial balance export)");
    if (!chain_heads_valid(c.chain_heads))
        return reject(rejection_code::seal_evidence_invalid, f + "chain_heads",
                      "chain_heads must be P:SEQ:HEAD_HEX[,P:SEQ:HEAD_HEX...] with 64-hex heads, each partition once");
    auto b = read<v1::BookState>(state, book_key(c.book));
    if (b && !b->sealed_through().empty() && c.through_date <= b->sealed_through())
        return reject(rejection_code::period_already_sealed, f + "through_date",
                      "book " + c.book.value + " is already sealed through " + b->sealed_through());
    if (!b || b->closed_through().empty() || c.through_date > b->closed_through())
        return reject(rejection_code::period_not_closed, f + "through_date",
                      "close the period through " + c.through_date + " before sealing it (closed through " +
                          (b && !b->closed_through().empty() ? b->closed_through() : std::string("nothing")) + ")");
    return std::vector<ledger::event>{period_sealed{c.book, c.through_date, c.trial_balance_sha256, c.chain_heads, ctx.actor}};
}

decided decide_mapping(const set_account_mapping& c, const keyed_state& state) {
    const std::string f = "set_account_mapping.";
    if (!valid_date(c.effective_from))
        return reject(rejection_code::effective_date_invalid, f + "effective_from",
                      "effective_from must be a calendar date YYYY-MM-DD, got '" + c.effective_from + "'");
    if (c.accounts.empty() || c.accounts.size() > static_cast<std::size_t>(account_role::bank))
        return reject(rejection_code::account_role_invalid, f + "accounts", "map 1 to 9 roles");
    std::set<account_role> seen;
    for (std::size_t i = 0; i < c.accounts.size(); ++i) {
        const auto& r = c.accounts[i];
        const std::string rf = f + "accounts[" + std::to_string(i) + "].";
        if (!valid_role(r.role)) return reject(rejection_code::account_role_invalid, rf + "role", "unknown account role");
        if (!seen.insert(r.role).second)
            return reject(rejection_code::account_role_duplicate, rf + "role", role_name(r.role) + " is mapped twice");
        if (!valid_id(r.account.value)) return reject(rejection_code::account_id_invalid, rf + "account_id", "account_id" + id_rule);
    }
    for (std::size_t i = 0; i < c.accounts.size(); ++i) {
        auto prefix = mapping_prefix(c.book, c.accounts[i].role);
        auto versions = state.scan(prefix, "", limits::mapping_versions_max + 1);
        bool replaces = std::any_of(versions.begin(), versions.end(),
                                    [&](const auto& row) { return row.first == prefix + c.effective_from; });
        if (versions.size() >= limits::mapping_versions_max && !replaces)
            return reject(rejection_code::mapping_versions_exhausted, f + "accounts[" + std::to_string(i) + "].role",
                          role_name(c.accounts[i].role) + " has been mapped " + std::to_string(versions.size()) +
                              " times; the limit is " + std::to_string(limits::mapping_versions_max));
    }
    for (std::size_t i = 0; i < c.accounts.size(); ++i) {
        const auto& r = c.accounts[i];
        const std::string rf = f + "accounts[" + std::to_string(i) + "].account_id";
        auto account = ledger::find_account(state, c.book, r.account);
        if (!account)
            return reject(rejection_code::account_not_found, rf, "account " + r.account.value + " does not exist in book " + c.book.value);
        if (account->closed()) return reject(rejection_code::account_closed, rf, "account " + r.account.value + " is closed");
        if (static_cast<account_type>(account->type()) != type_for(r.role))
            return reject(rejection_code::account_role_type_mismatch, rf,
                          role_name(r.role) + " needs an account of type " +
                              v1::AccountType_Name(static_cast<v1::AccountType>(type_for(r.role))) + "; " + r.account.value +
                              " is " + v1::AccountType_Name(account->type()));
    }
    return std::vector<ledger::event>{account_mapping_set{c.book, c.effective_from, c.accounts}};
}

decided decide_calendar(const set_book_calendar& c, const keyed_state& state) {
    const std::string f = "set_book_calendar.";
    if (c.utc_offset_minutes < -840 || c.utc_offset_minutes > 840)
        return reject(rejection_code::calendar_invalid, f + "utc_offset_minutes",
                      "utc_offset_minutes must be -840..840, got " + std::to_string(c.utc_offset_minutes));
    if (c.cutoff_minutes > 1439)
        return reject(rejection_code::calendar_invalid, f + "cutoff_minutes",
                      "cutoff_minutes must be 0..1439 (minutes after local midnight), got " + std::to_string(c.cutoff_minutes));
    if (c.fiscal_year_start_month > 12)
        return reject(rejection_code::calendar_invalid, f + "fiscal_year_start_month",
                      "fiscal_year_start_month must be 1..12 (0: January), got " + std::to_string(c.fiscal_year_start_month));
    auto b = read<v1::BookState>(state, book_key(c.book)).value_or(v1::BookState{});
    auto month = [](std::uint32_t m) { return m == 0 ? 1u : m; };
    if (!b.year_closed_through().empty() && month(c.fiscal_year_start_month) != month(b.fiscal_year_start_month()))
        return reject(rejection_code::calendar_invalid, f + "fiscal_year_start_month",
                      "the fiscal year cannot move once a year is closed (closed through " + b.year_closed_through() + ")");
    return std::vector<ledger::event>{book_calendar_set{c.book, c.utc_offset_minutes, c.cutoff_minutes, c.fiscal_year_start_month}};
}

// The payload name of a command, as in daybook.proto (the prefix of rejection field paths).
std::string_view command_name(const ledger::command& cmd) {
    return std::visit(overloaded{
                          [](const open_account&) { return "open_account"; },
                          [](const post_entry&) { return "post_entry"; },
                          [](const set_account_constraints&) { return "set_account_constraints"; },
                          [](const close_account&) { return "close_account"; },
                          [](const reopen_account&) { return "reopen_account"; },
                          [](const place_hold&) { return "place_hold"; },
                          [](const increase_hold&) { return "increase_hold"; },
                          [](const capture_hold&) { return "capture_hold"; },
                          [](const release_hold&) { return "release_hold"; },
                          [](const expire_holds&) { return "expire_holds"; },
                          [](const reverse_entry&) { return "reverse_entry"; },
                          [](const close_period&) { return "close_period"; },
                          [](const reopen_period&) { return "reopen_period"; },
                          [](const set_book_calendar&) { return "set_book_calendar"; },
                          [](const set_account_mapping&) { return "set_account_mapping"; },
                          [](const seal_period&) { return "seal_period"; },
                          [](const close_year&) { return "close_year"; },
                      },
                      cmd);
}

// ---- Evolve -----------------------------------------------------------------------------------

void add_to_account(keyed_state& state, const book_id& book, const std::string& account, const account_change& d) {
    auto a = ledger::find_account(state, book, account_id{account});
    if (!a) return;  // decide guarantees it exists
    a->set_debits_minor(a->debits_minor() + static_cast<std::int64_t>(d.debits));
    a->set_credits_minor(a->credits_minor() + static_cast<std::int64_t>(d.credits));
    a->set_debits_pending_minor(a->debits_pending_minor() + static_cast<std::int64_t>(d.debits_pending));
    a->set_credits_pending_minor(a->credits_pending_minor() + static_cast<std::int64_t>(d.credits_pending));
    write(state, account_key(book, account_id{account}), *a);
}

void index_hold(keyed_state& state, const book_id& book, const v1::HoldState& h) {
    std::string remaining = be64(static_cast<std::uint64_t>(h.held_minor() - h.captured_minor()));
    state.put(account_hold_key(book.value, h.debit_account_id(), 'd', h.expires_at_ms(), h.hold_id()), remaining);
    state.put(account_hold_key(book.value, h.credit_account_id(), 'c', h.expires_at_ms(), h.hold_id()), remaining);
    state.put(book_hold_key(book.value, h.expires_at_ms(), h.hold_id()), "");
}

void unindex_hold(keyed_state& state, const book_id& book, const v1::HoldState& h) {
    state.erase(account_hold_key(book.value, h.debit_account_id(), 'd', h.expires_at_ms(), h.hold_id()));
    state.erase(account_hold_key(book.value, h.credit_account_id(), 'c', h.expires_at_ms(), h.hold_id()));
    state.erase(book_hold_key(book.value, h.expires_at_ms(), h.hold_id()));
}

void post_legs(keyed_state& state, const book_id& book, const std::vector<leg>& legs, const std::string& date) {
    std::map<std::string, account_change> changes;
    for (const auto& l : legs) (l.direction == side::debit ? changes[l.account.value].debits : changes[l.account.value].credits) += l.amount.minor_units;
    for (const auto& [account, change] : changes) {
        add_to_account(state, book, account, change);
        auto a = ledger::find_account(state, book, account_id{account});
        if (!a || (a->type() != v1::ACCOUNT_TYPE_REVENUE && a->type() != v1::ACCOUNT_TYPE_EXPENSE)) continue;
        auto key = pl_month_key(book.value, date.substr(0, 7), account);  // close_year reads the year's months
        auto m = read<v1::DayDelta>(state, key).value_or(v1::DayDelta{});
        m.set_debits_minor(m.debits_minor() + static_cast<std::int64_t>(change.debits));
        m.set_credits_minor(m.credits_minor() + static_cast<std::int64_t>(change.credits));
        write(state, key, m);
    }
}

void record_entry(keyed_state& state, const book_id& book, const entry_id& entry, const std::string& date,
                  const std::string& memo, const std::vector<leg>& legs, const entry_id& reversal_of) {
    v1::EntryState e;
    e.set_effective_date(date);
    e.set_memo(memo);
    for (const auto& l : legs) *e.add_legs() = leg_proto(l);
    e.set_reversal_of(reversal_of.value);
    write(state, entry_key(book, entry), e);
    if (!reversal_of.value.empty()) {
        if (auto original = ledger::find_entry(state, book, reversal_of)) {
            original->set_reversed_by(entry.value);
            write(state, entry_key(book, reversal_of), *original);
        }
    }
}

// A hold leaves the pending sums: released (or expired) amounts come off both accounts.
void resolve_hold(keyed_state& state, const book_id& book, const hold_id& hold, std::int64_t released,
                  v1::HoldStatus status) {
    auto h = ledger::find_hold(state, book, hold);
    if (!h) return;
    unindex_hold(state, book, *h);
    add_to_account(state, book, h->debit_account_id(), {0, 0, -released, 0});
    add_to_account(state, book, h->credit_account_id(), {0, 0, 0, -released});
    h->set_status(status);
    write(state, hold_key(book, hold), *h);
}

}  // namespace

std::string ledger::closed_through(const keyed_state& state, const book_id& book) {
    auto b = read<v1::BookState>(state, book_key(book));
    return b ? b->closed_through() : std::string();
}

std::string stream_of(const events::book_id& book) { return "book/" + book.value; }

std::optional<v1::AccountState> ledger::find_account(const keyed_state& state, const book_id& book, const account_id& account) {
    return read<v1::AccountState>(state, account_key(book, account));
}

std::optional<v1::EntryState> ledger::find_entry(const keyed_state& state, const book_id& book, const entry_id& entry) {
    return read<v1::EntryState>(state, entry_key(book, entry));
}

std::optional<v1::HoldState> ledger::find_hold(const keyed_state& state, const book_id& book, const hold_id& hold) {
    return read<v1::HoldState>(state, hold_key(book, hold));
}

bool ledger::entry_exists(const keyed_state& state, const book_id& book, const entry_id& entry) {
    return state.get(entry_key(book, entry)).has_value();
}

std::string ledger::business_date(const keyed_state& state, const book_id& book, std::int64_t now_ms) {
    auto b = read<v1::BookState>(state, book_key(book));
    if (!b) return utc_date(now_ms);
    constexpr std::int64_t minute = 60'000, day = 1440 * minute;
    std::int64_t local = now_ms + b->utc_offset_minutes() * minute;
    std::int64_t minutes_into_day = ((local % day) + day) % day / minute;
    if (b->cutoff_minutes() > 0 && minutes_into_day >= b->cutoff_minutes()) local += day;
    return utc_date(local);
}

ledger::pending ledger::effective_pending(const keyed_state& state, const book_id& book, const v1::AccountState& a,
                                          std::int64_t now_ms) {
    // Holds past their deadline no longer count, swept or not: subtract what the deadline index
    // still lists up to now. The sweeper keeps that list short.
    constexpr std::size_t expired_unswept_max = 10000;
    pending out{a.debits_pending_minor(), a.credits_pending_minor()};
    auto until = be64(static_cast<std::uint64_t>(now_ms) + 1);
    for (char side_tag : {'d', 'c'}) {
        if ((side_tag == 'd' ? out.debits : out.credits) == 0) continue;
        auto prefix = account_holds_prefix(book.value, a.account_id(), side_tag);
        for (const auto& [key, value] : state.scan(prefix, prefix + until, expired_unswept_max))
            (side_tag == 'd' ? out.debits : out.credits) -= static_cast<std::int64_t>(read_be64(value));
    }
    return out;
}

result<std::vector<ledger::event>> ledger::decide(const command& cmd, const keyed_state& state,
                                                  const decide_context& ctx) {
    const book_id& book = std::visit([](const auto& c) -> const book_id& { return c.book; }, cmd);
    if (!valid_id(book.value))
        return reject(rejection_code::book_id_invalid, std::string(command_name(cmd)) + ".book_id", "book_id" + id_rule);
    return std::visit(overloaded{
                          [&](const open_account& c) { return decide_open(c, state); },
                          [&](const post_entry& c) { return decide_post(c, state, ctx); },
                          [&](const set_account_constraints& c) { return decide_constraints(c, state, ctx); },
                          [&](const close_account& c) { return decide_close(c, state, ctx); },
                          [&](const reopen_account& c) { return decide_reopen(c, state); },
                          [&](const place_hold& c) { return decide_place(c, state, ctx); },
                          [&](const increase_hold& c) { return decide_increase(c, state, ctx); },
                          [&](const capture_hold& c) { return decide_capture(c, state, ctx); },
                          [&](const release_hold& c) { return decide_release(c, state, ctx); },
                          [&](const expire_holds& c) { return decide_expire(c, state, ctx); },
                          [&](const reverse_entry& c) { return decide_reverse(c, state, ctx); },
                          [&](const close_period& c) { return decide_close_period(c, state, ctx); },
                          [&](const reopen_period& c) { return decide_reopen_period(c, state, ctx); },
                          [&](const set_book_calendar& c) { return decide_calendar(c, state); },
                          [&](const close_year& c) { return decide_close_year(c, state, ctx); },
                          [&](const set_account_mapping& c) { return decide_mapping(c, state); },
                          [&](const seal_period& c) { return decide_seal_period(c, state, ctx); },
                      },
                      cmd);
}

void ledger::evolve(keyed_state& state, const event& evt) {
    std::visit(
        overloaded{
            [&](const account_opened& e) {
                v1::AccountState a;
                a.set_account_id(e.account.value);
                a.set_type(static_cast<v1::AccountType>(e.type));
                a.set_currency(e.currency);
                a.set_scale(e.scale);
                a.set_parent_account_id(e.parent.value);
                a.mutable_constraints()->set_debits_must_not_exceed_credits(e.limits.debits_must_not_exceed_credits);
                a.mutable_constraints()->set_credits_must_not_exceed_debits(e.limits.credits_must_not_exceed_debits);
                a.mutable_constraints()->set_limit_minor(e.limits.limit_minor);
                write(state, account_key(e.book, e.account), a);
            },
            [&](const entry_posted& e) {
                record_entry(state, e.book, e.entry, e.effective_date, e.memo, e.legs, e.reversal_of);
                post_legs(state, e.book, e.legs, e.effective_date);
            },
            [&](const account_constraints_changed& e) {
                auto a = find_account(state, e.book, e.account);
                if (!a) return;
                a->mutable_constraints()->set_debits_must_not_exceed_credits(e.limits.debits_must_not_exceed_credits);
                a->mutable_constraints()->set_credits_must_not_exceed_debits(e.limits.credits_must_not_exceed_debits);
                a->mutable_constraints()->set_limit_minor(e.limits.limit_minor);
                write(state, account_key(e.book, e.account), *a);
            },
            [&](const account_closed& e) {
                if (auto a = find_account(state, e.book, e.account)) {
                    a->set_closed(true);
                    write(state, account_key(e.book, e.account), *a);
                }
            },
            [&](const account_reopened& e) {
                if (auto a = find_account(state, e.book, e.account)) {
                    a->set_closed(false);
                    write(state, account_key(e.book, e.account), *a);
                }
            },
            [&](const hold_placed& e) {
                auto h = hold_state_of(e);
                write(state, hold_key(e.book, e.hold), h);
                index_hold(state, e.book, h);
                add_to_account(state, e.book, e.debit.value, {0, 0, e.amount.minor_units, 0});
                add_to_account(state, e.book, e.credit.value, {0, 0, 0, e.amount.minor_units});
            },
            [&](const hold_increased& e) {
                auto h = find_hold(state, e.book, e.hold);
                if (!h) return;
                h->set_held_minor(h->held_minor() + e.amount_minor);
                write(state, hold_key(e.book, e.hold), *h);
                index_hold(state, e.book, *h);
                add_to_account(state, e.book, h->debit_account_id(), {0, 0, e.amount_minor, 0});
                add_to_account(state, e.book, h->credit_account_id(), {0, 0, 0, e.amount_minor});
            },
            [&](const hold_captured& e) {
                auto h = find_hold(state, e.book, e.hold);
                if (!h) return;
                std::vector<leg> legs{leg{e.debit, side::debit, e.amount}, leg{e.credit, side::credit, e.amount}};
                record_entry(state, e.book, e.entry, e.effective_date, e.memo, legs, {});
                post_legs(state, e.book, legs, e.effective_date);
                add_to_account(state, e.book, e.debit.value, {0, 0, -e.amount.minor_units, 0});
                add_to_account(state, e.book, e.credit.value, {0, 0, 0, -e.amount.minor_units});
                h->set_captured_minor(h->captured_minor() + e.amount.minor_units);
                write(state, hold_key(e.book, e.hold), *h);
                if (h->captured_minor() + e.released_minor == h->held_minor())
                    resolve_hold(state, e.book, e.hold, e.released_minor, v1::HOLD_STATUS_CAPTURED);
                else
                    index_hold(state, e.book, *h);
            },
            [&](const hold_released& e) {
                resolve_hold(state, e.book, e.hold, e.released_minor, v1::HOLD_STATUS_RELEASED);
            },
            [&](const hold_expired& e) {
                resolve_hold(state, e.book, e.hold, e.released_minor, v1::HOLD_STATUS_EXPIRED);
            },
            [&](const period_closed& e) {
                v1::BookState b = read<v1::BookState>(state, book_key(e.book)).value_or(v1::BookState{});
                b.set_closed_through(e.through_date);
                b.set_closed_by(e.closed_by);
                write(state, book_key(e.book), b);
            },
            [&](const period_reopened& e) {
                v1::BookState b = read<v1::BookState>(state, book_key(e.book)).value_or(v1::BookState{});
                b.set_closed_through(e.through_date);
                if (e.through_date.empty()) b.clear_closed_by();
                write(state, book_key(e.book), b);
            },
            [&](const year_closed& e) {
                v1::BookState b = read<v1::BookState>(state, book_key(e.book)).value_or(v1::BookState{});
                b.set_year_closed_through(e.fiscal_year_end);
                write(state, book_key(e.book), b);
            },
            [&](const period_sealed& e) {
                v1::BookState b = read<v1::BookState>(state, book_key(e.book)).value_or(v1::BookState{});
                b.set_sealed_through(e.through_date);
                b.set_sealed_by(e.sealed_by);
                b.set_seal_trial_balance_sha256(e.trial_balance_sha256);
                b.set_seal_chain_heads(e.chain_heads);
                write(state, book_key(e.book), b);
            },
            [&](const book_calendar_set& e) {
                v1::BookState b = read<v1::BookState>(state, book_key(e.book)).value_or(v1::BookState{});
                b.set_utc_offset_minutes(e.utc_offset_minutes);
                b.set_cutoff_minutes(e.cutoff_minutes);
                b.set_fiscal_year_start_month(e.fiscal_year_start_month);
                write(state, book_key(e.book), b);
            },
            [&](const entry_repeat_acknowledged&) {},
            [&](const account_mapping_set& e) {
                for (const auto& r : e.accounts) state.put(mapping_prefix(e.book, r.role) + e.effective_from, r.account.value);
            },
        },
        evt);
}

}  // namespace daybook::aggregates
