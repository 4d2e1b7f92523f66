#include "events/int128.h"
#include "projections/ledger_projection.h"

#include "aggregates/billing.h"
#include "aggregates/payroll.h"
#include "aggregates/security.h"
#include "projections/billing_projection.h"

#include <cstdlib>
#include <limits>
#include <map>
#include <set>

#include "events/hashing.h"
#include "events/ledger_codec.h"
#include "events/overloaded.h"

namespace daybook::projections {
namespace {

std::string join(std::string_view prefix, std::string_view a, std::string_view b = {}) {
    std::string k(prefix);
    k += a;
    if (!b.empty()) {
        k += '\0';
        k += b;
    }
    return k;
}

// Rows come from the batch's overlay (keyed_state) or from the store itself.
template <typename M, typename Source>
std::optional<M> read_row(const Source& rows, const std::string& key) {
    return events::parse_row<M>(rows.get(key));
}

std::string account_row(const std::string& book, const std::string& account) { return join("bal/", book, account); }

void apply_opened(events::keyed_state& rows, const events::account_opened& e, std::int64_t recorded_at_ms) {
    v1::ProjectedAccount a;
    a.set_opened_at_ms(recorded_at_ms);
    a.set_book_id(e.book.value);
    a.set_account_id(e.account.value);
    a.set_name(e.name);
    a.set_type(static_cast<v1::AccountType>(e.type));
    a.set_currency(e.currency);
    a.set_scale(e.scale);
    a.set_parent_account_id(e.parent.value);
    a.mutable_constraints()->set_debits_must_not_exceed_credits(e.limits.debits_must_not_exceed_credits);
    a.mutable_constraints()->set_credits_must_not_exceed_debits(e.limits.credits_must_not_exceed_debits);
    a.mutable_constraints()->set_limit_minor(e.limits.limit_minor);
    rows.put(account_row(e.book.value, e.account.value), events::serialize(a));
    auto tb_key = join("tb/", e.book.value, e.currency);
    auto tb = read_row<v1::TrialBalanceRow>(rows, tb_key).value_or(v1::TrialBalanceRow{});
    if (tb.book_id().empty()) {
        tb.set_book_id(e.book.value);
        tb.set_currency(e.currency);
        tb.set_debits_minor("0");
        tb.set_credits_minor("0");
    }
    tb.set_accounts(tb.accounts() + 1);
    rows.put(tb_key, events::serialize(tb));
}

// Changes one account row; the decider guaranteed it exists.
template <typename F>
void update_account(events::keyed_state& rows, const std::string& book, const std::string& account, F&& change) {
    auto key = account_row(book, account);
    auto a = read_row<v1::ProjectedAccount>(rows, key);
    if (!a) std::abort();
    change(*a);
    rows.put(key, events::serialize(*a));
}

void add_pending(events::keyed_state& rows, const std::string& book, const std::string& debit,
                 const std::string& credit, std::int64_t amount) {
    update_account(rows, book, debit, [&](auto& a) { a.set_debits_pending_minor(a.debits_pending_minor() + amount); });
    update_account(rows, book, credit, [&](auto& a) { a.set_credits_pending_minor(a.credits_pending_minor() + amount); });
}

// A posting: entry view, account totals, statement lines, day deltas, trial balance.
struct posting {
    const std::string& book;
    const std::string& entry;
    const std::string& date;
    const std::string& memo;
    const std::vector<events::leg>& legs;
    const std::string& reversal_of;
    bool adjustment = false;
    bool closing = false;
};

void apply_posting(events::keyed_state& rows, const posting& e, const v1::EventEnvelope& envelope,
                   std::uint32_t partition, std::uint64_t seq) {
    v1::EntryView view;
    auto* entry = view.mutable_entry();
    entry->set_book_id(e.book);
    entry->set_entry_id(e.entry);
    entry->set_effective_date(e.date);
    entry->set_memo(e.memo);
    entry->set_reversal_of(e.reversal_of);
    entry->set_adjustment(e.adjustment);
    entry->set_closing(e.closing);
    for (const auto& l : e.legs) {
        auto* pl = entry->add_legs();
        pl->set_account_id(l.account.value);
        pl->set_side(static_cast<v1::Side>(l.direction));
        pl->set_amount_minor(l.amount.minor_units);
        pl->set_currency(l.amount.currency);
        pl->set_account_role(static_cast<v1::AccountRole>(l.role));
    }
    view.set_partition(partition);
    view.set_seq(seq);
    view.set_recorded_at_ms(envelope.recorded_at_ms());
    view.set_actor(envelope.actor());
    view.set_command_id(envelope.command_id());
    view.set_source(envelope.source());
    view.set_correlation_id(envelope.correlation_id());
    *view.mutable_approvers() = envelope.approvers();
    rows.put(join("entry/", e.book, e.entry), events::serialize(view));

    std::map<std::string, v1::ProjectedAccount> touched;
    std::map<std::string, v1::DayDelta> days;
    std::map<std::string, std::pair<int128, int128>> by_currency;
    for (const auto& l : e.legs) {
        auto key = account_row(e.book, l.account.value);
        auto it = touched.find(key);
        if (it == touched.end()) {
            auto a = read_row<v1::ProjectedAccount>(rows, key);
            if (!a) std::abort();  // the decider guaranteed the account exists
            a->set_entry_count(a->entry_count() + 1);
            it = touched.emplace(key, std::move(*a)).first;
        }
        auto& a = it->second;
        bool debit = l.direction == events::side::debit;
        if (debit) a.set_debits_minor(a.debits_minor() + l.amount.minor_units);
        else a.set_credits_minor(a.credits_minor() + l.amount.minor_units);
        a.set_statement_lines(a.statement_lines() + 1);
        v1::StatementLine line;
        line.set_line(a.statement_lines());
        line.set_entry_id(e.entry);
        line.set_effective_date(e.date);
        line.set_memo(e.memo);
        line.set_side(static_cast<v1::Side>(l.direction));
        line.set_amount_minor(l.amount.minor_units);
        line.set_balance_minor(a.debits_minor() - a.credits_minor());
        line.set_partition(partition);
        line.set_seq(seq);
        line.set_recorded_at_ms(envelope.recorded_at_ms());
        rows.put(join("stmt/", e.book, l.account.value) + '\0' + be64(line.line()), events::serialize(line));
        // Month row first (the checkpoint), then the day row: "balance on D" reads the months
        // before D's month and at most one month of days; a backdated entry touches two rows.
        auto month_key = join("mon/", e.book, l.account.value) + '\0' + e.date.substr(0, 7);
        auto& month = days.try_emplace(month_key, read_row<v1::DayDelta>(rows, month_key).value_or(v1::DayDelta{})).first->second;
        if (debit) month.set_debits_minor(month.debits_minor() + l.amount.minor_units);
        else month.set_credits_minor(month.credits_minor() + l.amount.minor_units);
        auto day_key = join("day/", e.book, l.account.value) + '\0' + e.date;
        auto& day = days.try_emplace(day_key, read_row<v1::DayDelta>(rows, day_key).value_or(v1::DayDelta{})).first->second;
        if (debit) day.set_debits_minor(day.debits_minor() + l.amount.minor_units);
        else day.set_credits_minor(day.credits_minor() + l.amount.minor_units);
        if (e.closing) {  // kept apart too: an income statement of the closed year leaves it out
            auto close_key = join("clo/", e.book, l.account.value) + '\0' + e.date;
            auto& c = days.try_emplace(close_key, read_row<v1::DayDelta>(rows, close_key).value_or(v1::DayDelta{})).first->second;
            if (debit) c.set_debits_minor(c.debits_minor() + l.amount.minor_units);
            else c.set_credits_minor(c.credits_minor() + l.amount.minor_units);
        }
        auto& sums = by_currency[l.amount.currency];
        (debit ? sums.first : sums.second) += l.amount.minor_units;
    }
    for (const auto& [key, a] : touched) rows.put(key, events::serialize(a));
    for (const auto& [key, d] : days) rows.put(key, events::serialize(d));
    for (const auto& [currency, sums] : by_currency) {
        auto tb_key = join("tb/", e.book, currency);
        auto tb = read_row<v1::TrialBalanceRow>(rows, tb_key);
        if (!tb) std::abort();
        tb->set_debits_minor(to_decimal(parse_decimal(tb->debits_minor()) + sums.first));
        tb->set_credits_minor(to_decimal(parse_decimal(tb->credits_minor()) + sums.second));
        rows.put(tb_key, events::serialize(*tb));
    }
}

// Open holds by deadline across books: what the scheduler sweeps.
std::string deadline_key(const std::string& book, const v1::HoldState& h) {
    return "hexp/" + be64(static_cast<std::uint64_t>(h.expires_at_ms())) + book + '\0' + h.hold_id();
}

void put_hold(events::keyed_state& rows, const std::string& book, const v1::HoldState& h, std::int64_t released,
              std::uint32_t partition, std::uint64_t seq) {
    if (h.status() == v1::HOLD_STATUS_OPEN) rows.put(deadline_key(book, h), "");
    else rows.erase(deadline_key(book, h));
    v1::ProjectedHold ph;
    ph.set_book_id(book);
    *ph.mutable_hold() = h;
    ph.set_released_minor(released);
    ph.set_partition(partition);
    ph.set_seq(seq);
    rows.put(join("hold/", book, h.hold_id()), events::serialize(ph));
}

std::optional<v1::ProjectedHold> get_hold(const events::keyed_state& rows, const std::string& book,
                                          const std::string& hold) {
    return read_row<v1::ProjectedHold>(rows, join("hold/", book, hold));
}

// Released, expired or finally captured: the rest leaves the pending sums.
void resolve_hold(events::keyed_state& rows, const std::string& book, const std::string& hold, std::int64_t released,
                  v1::HoldStatus status, std::uint32_t partition, std::uint64_t seq) {
    auto ph = get_hold(rows, book, hold);
    if (!ph) std::abort();
    add_pending(rows, book, ph->hold().debit_account_id(), ph->hold().credit_account_id(), -released);
    ph->mutable_hold()->set_status(status);
    put_hold(rows, book, ph->hold(), ph->released_minor() + released, partition, seq);
}

void apply_ledger_event(events::keyed_state& rows, const events::ledger_event& event, const v1::EventEnvelope& envelope,
                        std::uint32_t partition, std::uint64_t seq) {
    using namespace events;
    std::visit(
        overloaded{
            [&](const account_opened& e) { apply_opened(rows, e, envelope.recorded_at_ms()); },
            [&](const entry_posted& e) {
                apply_posting(rows, {e.book.value, e.entry.value, e.effective_date, e.memo, e.legs, e.reversal_of.value, e.adjustment, e.closing},
                              envelope, partition, seq);
            },
            [&](const account_constraints_changed& e) {
                update_account(rows, e.book.value, e.account.value, [&](auto& a) {
                    a.mutable_constraints()->set_debits_must_not_exceed_credits(e.limits.debits_must_not_exceed_credits);
                    a.mutable_constraints()->set_credits_must_not_exceed_debits(e.limits.credits_must_not_exceed_debits);
                    a.mutable_constraints()->set_limit_minor(e.limits.limit_minor);
                });
            },
            [&](const account_closed& e) { update_account(rows, e.book.value, e.account.value, [](auto& a) { a.set_closed(true); }); },
            [&](const account_reopened& e) { update_account(rows, e.book.value, e.account.value, [](auto& a) { a.set_closed(false); }); },
            [&](const hold_placed& e) {
                auto h = events::hold_state_of(e);
                put_hold(rows, e.book.value, h, 0, partition, seq);
                add_pending(rows, e.book.value, e.debit.value, e.credit.value, e.amount.minor_units);
            },
            [&](const hold_increased& e) {
                auto ph = get_hold(rows, e.book.value, e.hold.value);
                if (!ph) std::abort();
                ph->mutable_hold()->set_held_minor(ph->hold().held_minor() + e.amount_minor);
                put_hold(rows, e.book.value, ph->hold(), ph->released_minor(), partition, seq);
                add_pending(rows, e.book.value, ph->hold().debit_account_id(), ph->hold().credit_account_id(), e.amount_minor);
            },
            [&](const hold_captured& e) {
                std::vector<leg> legs{leg{e.debit, side::debit, e.amount}, leg{e.credit, side::credit, e.amount}};
                static const std::string no_reversal;
                apply_posting(rows, {e.book.value, e.entry.value, e.effective_date, e.memo, legs, no_reversal}, envelope,
                              partition, seq);
                add_pending(rows, e.book.value, e.debit.value, e.credit.value, -e.amount.minor_units);
                auto ph = get_hold(rows, e.book.value, e.hold.value);
                if (!ph) std::abort();
                ph->mutable_hold()->set_captured_minor(ph->hold().captured_minor() + e.amount.minor_units);
                put_hold(rows, e.book.value, ph->hold(), ph->released_minor(), partition, seq);
                if (ph->hold().captured_minor() + e.released_minor == ph->hold().held_minor())
                    resolve_hold(rows, e.book.value, e.hold.value, e.released_minor, v1::HOLD_STATUS_CAPTURED, partition, seq);
            },
            [&](const hold_released& e) {
                resolve_hold(rows, e.book.value, e.hold.value, e.released_minor, v1::HOLD_STATUS_RELEASED, partition, seq);
            },
            [&](const hold_expired& e) {
                resolve_hold(rows, e.book.value, e.hold.value, e.released_minor, v1::HOLD_STATUS_EXPIRED, partition, seq);
            },
            [&](const period_closed& e) {
                auto b = read_row<v1::BookState>(rows, "book/" + e.book.value).value_or(v1::BookState{});
                b.set_closed_through(e.through_date);
                b.set_closed_by(e.closed_by);
                rows.put("book/" + e.book.value, events::serialize(b));
            },
            [&](const period_reopened& e) {
                auto b = read_row<v1::BookState>(rows, "book/" + e.book.value).value_or(v1::BookState{});
                b.set_closed_through(e.through_date);
                b.clear_closed_by();
                rows.put("book/" + e.book.value, events::serialize(b));
            },
            [&](const year_closed& e) {
                auto b = read_row<v1::BookState>(rows, "book/" + e.book.value).value_or(v1::BookState{});
                b.set_year_closed_through(e.fiscal_year_end);
                rows.put("book/" + e.book.value, events::serialize(b));
            },
            [&](const period_sealed& e) {
                auto b = read_row<v1::BookState>(rows, "book/" + e.book.value).value_or(v1::BookState{});
                b.set_sealed_through(e.through_date);
                b.set_sealed_by(e.sealed_by);
                b.set_seal_trial_balance_sha256(e.trial_balance_sha256);
                b.set_seal_chain_heads(e.chain_heads);
                rows.put("book/" + e.book.value, events::serialize(b));
            },
            [&](const book_calendar_set&) {},  // decides dates; nothing to show
            [&](const account_mapping_set&) {},  // decides postings; the accounts are in entry_posted
            [&](const entry_repeat_acknowledged&) {},
        },
        event);
}

}  // namespace

std::string position_key(std::uint32_t partition) { return "pos/" + be32(partition); }
std::string stop_key(std::uint32_t partition) { return "stop/" + be32(partition); }

bool apply_event(events::keyed_state& rows, const v1::EventEnvelope& envelope,
                 std::uint32_t partition, std::uint64_t seq) {
    if (envelope.version() == 0) {  // command_rejected: advances seq only
        // ... unless a process manager's command was refused: that is an exception for a person.
        if (envelope.has_command_rejected() && envelope.source() == "billing-manager") {
            const auto& r = envelope.command_rejected();
            rows.put(join("refused/", r.routing_key(), r.command_id()), events::serialize(envelope));
        }
        return true;
    }
    auto ver_key = "ver/" + envelope.stream_id();
    auto last = rows.get(ver_key);
    if (last && read_be64(*last) >= envelope.version()) return false;
    rows.put(ver_key, be64(envelope.version()));
    if (aggregates::billing::is_event(envelope)) {
        apply_billing_event(rows, envelope);
        return true;
    }
    // Permissions: the realm's own changes and held commands. Not the partitions' copies of the
    // realm: identical rows written in an order that depends on partition arrival.
    if (aggregates::security::is_event(envelope)) {
        if (!envelope.has_security_replicated()) aggregates::security::evolve(rows, envelope);
        return true;
    }
    if (aggregates::payroll::is_event(envelope)) {  // one stream per book: arrival order is the stream's
        aggregates::payroll::evolve(rows, envelope);
        return true;
    }
    if (envelope.has_account_mapping_set()) apply_account_mapping(rows, envelope.account_mapping_set());
    auto event = events::ledger_event_of(envelope);
    if (!event) return true;
    apply_ledger_event(rows, *event, envelope, partition, seq);
    return true;
}

std::optional<v1::ProjectedAccount> find_balance(const store& s, const std::string& book,
                                                 const std::string& account) {
    return read_row<v1::ProjectedAccount>(s, join("bal/", book, account));
}

std::vector<v1::ProjectedAccount> list_accounts(const store& s, const std::string& book) {
    std::vector<v1::ProjectedAccount> out;
    s.scan("bal/" + book + '\0', [&](std::string_view, std::string_view v) {
        out.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
        return true;
    });
    return out;
}

std::vector<v1::ProjectedAccount> list_accounts(const store& s, const std::string& book,
                                                const std::string& after_account, std::size_t limit) {
    std::vector<v1::ProjectedAccount> out;
    std::string prefix = "bal/" + book + '\0';
    // The smallest key after prefix+after_account is that key with a NUL byte appended.
    std::string from = after_account.empty() ? prefix : prefix + after_account + '\0';
    s.scan(prefix, [&](std::string_view, std::string_view v) {
        out.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
        return out.size() < limit;
    }, from);
    return out;
}

std::vector<std::string> list_books(const store& s) {
    std::vector<std::string> books;
    std::string from = "bal/";
    for (;;) {
        std::optional<std::string> found;
        s.scan("bal/", [&](std::string_view k, std::string_view) {
            auto rest = k.substr(4);
            found = std::string(rest.substr(0, rest.find('\0')));
            return false;
        }, from);
        if (!found) return books;
        books.push_back(*found);
        from = "bal/" + *found + '\x01';  // past every "bal/<book>\0..." key
    }
}

std::vector<v1::TrialBalanceRow> trial_balance(const store& s, const std::string& book) {
    std::vector<v1::TrialBalanceRow> out;
    s.scan("tb/" + book + '\0', [&](std::string_view, std::string_view v) {
        out.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
        return true;
    });
    return out;
}

std::vector<v1::StatementLine> statement(const store& s, const std::string& book,
                                         const std::string& account, std::uint64_t after_line,
                                         std::size_t limit) {
    std::vector<v1::StatementLine> out;
    if (after_line == std::numeric_limits<std::uint64_t>::max()) return out;  // nothing comes after
    auto prefix = join("stmt/", book, account) + '\0';
    s.scan(
        prefix,
        [&](std::string_view, std::string_view v) {
            if (out.size() >= limit) return false;
            out.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
            return true;
        },
        prefix + be64(after_line + 1));
    return out;
}

std::optional<v1::EntryView> find_entry(const store& s, const std::string& book,
                                        const std::string& entry) {
    return read_row<v1::EntryView>(s, join("entry/", book, entry));
}

std::set<std::string> books_with_expired_holds(const store& s, std::int64_t now_ms, std::size_t limit) {
    std::set<std::string> out;
    auto until = "hexp/" + be64(static_cast<std::uint64_t>(now_ms) + 1);
    s.scan("hexp/", [&](std::string_view k, std::string_view) {
        if (k >= until || out.size() >= limit) return false;
        auto rest = k.substr(5 + 8);
        out.emplace(rest.substr(0, rest.find('\0')));
        return true;
    });
    return out;
}

std::vector<v1::ProjectedHold> list_holds(const store& s, const std::string& book) {
    std::vector<v1::ProjectedHold> out;
    s.scan("hold/" + book + '\0', [&](std::string_view, std::string_view v) {
        out.emplace_back().ParseFromArray(v.data(), static_cast<int>(v.size()));
        return true;
    });
    return out;
}

namespace {

// Posted movements per account with effective date before `date` (or through it when inclusive):
// whole months from the month rows, then the days of date's own month.
std::map<std::string, movement> movements_until(const store& s, const std::string& book, const std::string& date,
                                                bool inclusive) {
    std::map<std::string, movement> out;
    std::string month = date.substr(0, 7);
    auto add = [&](std::string_view prefix, auto&& keep) {
        s.scan(prefix, [&](std::string_view k, std::string_view v) {
            auto rest = k.substr(prefix.size());
            auto nul = rest.find('\0');
            auto when = rest.substr(nul + 1);
            if (!keep(when)) return true;
            v1::DayDelta d;
            d.ParseFromArray(v.data(), static_cast<int>(v.size()));
            auto& m = out[std::string(rest.substr(0, nul))];
            m.debits += d.debits_minor();
            m.credits += d.credits_minor();
            return true;
        });
    };
    add("mon/" + book + '\0', [&](std::string_view m) { return m < month; });
    add("day/" + book + '\0', [&](std::string_view d) {
        return d.substr(0, 7) == month && (inclusive ? d <= date : d < date);
    });
    return out;
}

}  // namespace

std::map<std::string, movement> movements(const store& s, const std::string& book, const std::string& from,
                                          const std::string& to) {
    auto out = movements_until(s, book, to.empty() ? "9999-12-31" : to, true);
    if (!from.empty())
        for (const auto& [account, before] : movements_until(s, book, from, false)) {
            out[account].debits -= before.debits;
            out[account].credits -= before.credits;
        }
    return out;
}

std::vector<v1::ProjectedAccount> accounts_as_of(const store& s, const std::string& book, const std::string& as_of,
                                                std::optional<std::int64_t> known_at_ms) {
    auto accounts = list_accounts(s, book);
    if (!as_of.empty()) {
        auto moves = movements(s, book, "", as_of);
        for (auto& acc : accounts) {
            auto it = moves.find(acc.account_id());
            acc.set_debits_minor(it == moves.end() ? 0 : static_cast<std::int64_t>(it->second.debits));
            acc.set_credits_minor(it == moves.end() ? 0 : static_cast<std::int64_t>(it->second.credits));
            acc.clear_debits_pending_minor();
            acc.clear_credits_pending_minor();
        }
    }
    if (!known_at_ms) return accounts;
    std::vector<v1::ProjectedAccount> known;
    for (auto& acc : accounts) {
        if (acc.opened_at_ms() > *known_at_ms) continue;  // not yet opened at that time
        acc.clear_debits_pending_minor();
        acc.clear_credits_pending_minor();
        // A book lives in one partition, whose recorded_at never decreases: the lines recorded
        // after known_at are a suffix of the statement. Find its first line, then take it back.
        const auto prefix = join("stmt/", book, acc.account_id()) + '\0';
        std::uint64_t lo = 1, hi = acc.statement_lines() + 1;
        while (lo < hi) {
            auto mid = lo + (hi - lo) / 2;
            auto line = read_row<v1::StatementLine>(s, prefix + be64(mid));
            if (line && line->recorded_at_ms() > *known_at_ms) hi = mid;
            else lo = mid + 1;
        }
        std::set<std::string> later_entries;
        s.scan(
            prefix,
            [&](std::string_view, std::string_view v) {
                v1::StatementLine line;
                line.ParseFromArray(v.data(), static_cast<int>(v.size()));
                later_entries.insert(line.entry_id());
                if (!as_of.empty() && line.effective_date() > as_of) return true;
                if (line.side() == v1::SIDE_DEBIT) acc.set_debits_minor(acc.debits_minor() - line.amount_minor());
                else acc.set_credits_minor(acc.credits_minor() - line.amount_minor());
                return true;
            },
            prefix + be64(lo));
        acc.set_statement_lines(lo - 1);
        acc.set_entry_count(acc.entry_count() - std::min<std::uint64_t>(acc.entry_count(), later_entries.size()));
        known.push_back(std::move(acc));
    }
    return known;
}

std::vector<v1::TrialBalanceRow> trial_balance_of(const std::vector<v1::ProjectedAccount>& accounts) {
    std::map<std::string, std::pair<int128, int128>> sums;
    std::map<std::string, std::uint64_t> counts;
    for (const auto& a : accounts) {
        auto& [d, c] = sums[a.currency()];
        d += a.debits_minor();
        c += a.credits_minor();
        ++counts[a.currency()];
    }
    std::vector<v1::TrialBalanceRow> out;
    for (const auto& [currency, dc] : sums) {
        auto& row = out.emplace_back();
        row.set_book_id(accounts.front().book_id());
        row.set_currency(currency);
        row.set_debits_minor(to_decimal(dc.first));
        row.set_credits_minor(to_decimal(dc.second));
        row.set_accounts(counts[currency]);
    }
    return out;
}

int128 normal_balance(const v1::ProjectedAccount& a) {
    int128 dr = int128{a.debits_minor()} - a.credits_minor();
    return a.type() == v1::ACCOUNT_TYPE_ASSET || a.type() == v1::ACCOUNT_TYPE_EXPENSE ? dr : -dr;
}

std::vector<balance_sheet_totals> balance_sheet(const store& s, const std::string& book, const std::string& as_of) {
    std::map<std::string, balance_sheet_totals> by_currency;
    for (const auto& acc : accounts_as_of(s, book, as_of)) {
        auto& t = by_currency[acc.currency()];
        t.currency = acc.currency();
        t.scale = acc.scale();
        int128 v = normal_balance(acc);
        switch (acc.type()) {
            case v1::ACCOUNT_TYPE_ASSET: t.assets += v; break;
            case v1::ACCOUNT_TYPE_LIABILITY: t.liabilities += v; break;
            case v1::ACCOUNT_TYPE_EQUITY: t.equity += v; break;
            case v1::ACCOUNT_TYPE_REVENUE: t.net_income += v; break;
            case v1::ACCOUNT_TYPE_EXPENSE: t.net_income -= v; break;
            default: break;
        }
    }
    std::vector<balance_sheet_totals> out;
    for (auto& [ccy, t] : by_currency) {
        t.balanced = t.assets == t.liabilities + t.equity + t.net_income;
        out.push_back(t);
    }
    return out;
}

std::vector<income_totals> income_statement(const store& s, const std::string& book, const std::string& from,
                                            const std::string& to) {
    auto moves = movements(s, book, from, to);
    // Year-end closing entries in the range are left out: they empty the accounts, they are not
    // the year's income.
    s.scan("clo/" + book + '\0', [&](std::string_view k, std::string_view v) {
        auto rest = k.substr(4 + book.size() + 1);
        auto nul = rest.find('\0');
        auto account = std::string(rest.substr(0, nul));
        auto date = std::string(rest.substr(nul + 1));
        if ((!from.empty() && date < from) || (!to.empty() && date > to)) return true;
        v1::DayDelta d;
        d.ParseFromArray(v.data(), static_cast<int>(v.size()));
        moves[account].debits -= d.debits_minor();
        moves[account].credits -= d.credits_minor();
        return true;
    });
    std::map<std::string, income_totals> by_currency;
    for (const auto& acc : list_accounts(s, book)) {
        if (acc.type() != v1::ACCOUNT_TYPE_REVENUE && acc.type() != v1::ACCOUNT_TYPE_EXPENSE) continue;
        auto it = moves.find(acc.account_id());
        int128 dr = it == moves.end() ? 0 : it->second.debits - it->second.credits;
        int128 value = acc.type() == v1::ACCOUNT_TYPE_REVENUE ? -dr : dr;
        auto& t = by_currency[acc.currency()];
        t.currency = acc.currency();
        t.scale = acc.scale();
        (acc.type() == v1::ACCOUNT_TYPE_REVENUE ? t.revenue : t.expenses) += value;
        t.lines.push_back({acc, value});
    }
    std::vector<income_totals> out;
    for (auto& [ccy, t] : by_currency) out.push_back(std::move(t));
    return out;
}

std::string state_digest(const store& s) {
    events::sha256_hasher hasher;
    for (std::string_view prefix : projection_prefixes) {
        s.scan(prefix, [&](std::string_view k, std::string_view v) {
            hasher.add(be32(static_cast<std::uint32_t>(k.size()))).add(k);
            hasher.add(be32(static_cast<std::uint32_t>(v.size()))).add(v);
            return true;
        });
    }
    return events::to_hex(hasher.finish());
}

}  // namespace daybook::projections
