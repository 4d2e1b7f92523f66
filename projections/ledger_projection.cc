#include "events/int128.h"
#include "projections/ledger_projection.h"

#include <cstdlib>
#include <limits>
#include <map>

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

template <typename M>
std::optional<M> read_row(const events::keyed_state& rows, const std::string& key) {
    auto raw = rows.get(key);
    if (!raw) return std::nullopt;
    M m;
    if (!m.ParseFromString(*raw)) std::abort();  // our own row: corruption or a bug
    return m;
}

template <typename M>
std::optional<M> read_row(const store& s, const std::string& key) {
    auto raw = s.get(key);
    if (!raw) return std::nullopt;
    M m;
    if (!m.ParseFromString(*raw)) std::abort();
    return m;
}

void apply_opened(events::keyed_state& rows, const events::account_opened& e) {
    v1::ProjectedAccount a;
    a.set_book_id(e.book.value);
    a.set_account_id(e.account.value);
    a.set_name(e.name);
    a.set_type(static_cast<v1::AccountType>(e.type));
    a.set_currency(e.currency);
    a.set_scale(e.scale);
    rows.put(join("bal/", e.book.value, e.account.value), events::serialize(a));
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

void apply_posted(events::keyed_state& rows, const events::entry_posted& e,
                  const v1::EventEnvelope& envelope, std::uint32_t partition, std::uint64_t seq) {
    v1::EntryView view;
    *view.mutable_entry() = envelope.entry_posted();
    view.set_partition(partition);
    view.set_seq(seq);
    view.set_recorded_at_ms(envelope.recorded_at_ms());
    view.set_actor(envelope.actor());
    view.set_command_id(envelope.command_id());
    rows.put(join("entry/", e.book.value, e.entry.value), events::serialize(view));

    std::map<std::string, v1::ProjectedAccount> touched;
    std::map<std::string, std::pair<int128, int128>> by_currency;
    for (const auto& l : e.legs) {
        auto key = join("bal/", e.book.value, l.account.value);
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
        line.set_entry_id(e.entry.value);
        line.set_effective_date(e.effective_date);
        line.set_memo(e.memo);
        line.set_side(static_cast<v1::Side>(l.direction));
        line.set_amount_minor(l.amount.minor_units);
        line.set_balance_minor(a.debits_minor() - a.credits_minor());
        line.set_partition(partition);
        line.set_seq(seq);
        rows.put(join("stmt/", e.book.value, l.account.value) + '\0' + be64(line.line()),
                 events::serialize(line));
        auto& sums = by_currency[l.amount.currency];
        (debit ? sums.first : sums.second) += l.amount.minor_units;
    }
    for (const auto& [key, a] : touched) rows.put(key, events::serialize(a));
    for (const auto& [currency, sums] : by_currency) {
        auto tb_key = join("tb/", e.book.value, currency);
        auto tb = read_row<v1::TrialBalanceRow>(rows, tb_key);
        if (!tb) std::abort();
        tb->set_debits_minor(to_decimal(parse_decimal(tb->debits_minor()) + sums.first));
        tb->set_credits_minor(to_decimal(parse_decimal(tb->credits_minor()) + sums.second));
        rows.put(tb_key, events::serialize(*tb));
    }
}

}  // namespace

std::string position_key(std::uint32_t partition) { return "pos/" + be32(partition); }
std::string stop_key(std::uint32_t partition) { return "stop/" + be32(partition); }

bool apply_event(events::keyed_state& rows, const v1::EventEnvelope& envelope,
                 std::uint32_t partition, std::uint64_t seq) {
    if (envelope.version() == 0) return true;  // command_rejected: advances seq only
    auto ver_key = "ver/" + envelope.stream_id();
    auto last = rows.get(ver_key);
    if (last && read_be64(*last) >= envelope.version()) return false;
    rows.put(ver_key, be64(envelope.version()));
    auto event = events::ledger_event_of(envelope);
    if (!event) return true;  // not a ledger event: other domains' projections take it
    std::visit(overloaded{
                   [&](const events::account_opened& e) { apply_opened(rows, e); },
                   [&](const events::entry_posted& e) {
                       apply_posted(rows, e, envelope, partition, seq);
                   },
               },
               *event);
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

std::string state_digest(const store& s) {
    events::sha256_hasher hasher;
    for (std::string_view prefix : {"bal/", "entry/", "stmt/", "tb/", "ver/"}) {
        s.scan(prefix, [&](std::string_view k, std::string_view v) {
            hasher.add(be32(static_cast<std::uint32_t>(k.size()))).add(k);
            hasher.add(be32(static_cast<std::uint32_t>(v.size()))).add(v);
            return true;
        });
    }
    return events::to_hex(hasher.finish());
}

}  // namespace daybook::projections
