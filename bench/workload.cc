#include "bench/workload.h"

#include <charconv>
#include <cmath>

namespace daybook::bench {

std::string ledger_shape::describe() const {
    std::string s = std::to_string(accounts) + " accounts in " + std::to_string(books) + (books == 1 ? " book, " : " books, ");
    switch (chooser) {
        case choice::uniform: s += "uniform"; break;
        case choice::zipf: s += "Zipf theta " + std::to_string(zipf_theta).substr(0, 4); break;
        case choice::hot:
            s += std::to_string(static_cast<int>(std::lround(hot_share * 100))) + " % of debits on " + std::to_string(hot_accounts) +
                 (hot_accounts == 1 ? " hot account" : " hot accounts");
            break;
    }
    return s;
}

zipf_chooser::zipf_chooser(std::int64_t n, double theta) : n_(n), theta_(theta) {
    zetan_ = 0;
    for (std::int64_t i = 1; i <= n; ++i) zetan_ += 1.0 / std::pow(static_cast<double>(i), theta);
    double zeta2 = 1.0 + std::pow(0.5, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
    half_pow_theta_ = std::pow(0.5, theta);
}

std::int64_t zipf_chooser::next(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + half_pow_theta_) return n_ > 1 ? 1 : 0;
    auto k = static_cast<std::int64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return std::clamp<std::int64_t>(k, 0, n_ - 1);
}

ledger_workload::ledger_workload(ledger_shape shape)
    : shape_(shape), zipf_(shape.chooser == choice::zipf ? shape.accounts : 2, shape.zipf_theta) {}

std::string ledger_workload::book_of(std::int64_t account) const { return "b" + std::to_string(account % shape_.books); }

v1::CommandEnvelope ledger_workload::open_account(const std::string& tag, std::int64_t account) const {
    v1::CommandEnvelope c;
    c.set_command_id(tag + "-" + std::to_string(account));
    c.set_actor("bench");
    auto* p = c.mutable_open_account();
    p->set_book_id(book_of(account));
    p->set_account_id("a" + std::to_string(account / shape_.books));
    p->set_name("Account " + std::to_string(account));
    p->set_type(v1::ACCOUNT_TYPE_ASSET);
    p->set_currency("EUR");
    p->set_scale(2);
    if (account % 4 == 1) {
        p->mutable_constraints()->set_debits_must_not_exceed_credits(true);
        p->mutable_constraints()->set_limit_minor(shape_.limit_minor);
    }
    return c;
}

std::int64_t ledger_workload::debit_account(std::mt19937_64& rng) const {
    switch (shape_.chooser) {
        case choice::uniform: break;
        case choice::zipf: return zipf_.next(rng);
        case choice::hot:
            if (std::uniform_real_distribution<double>(0.0, 1.0)(rng) < shape_.hot_share)
                return static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(shape_.hot_accounts));
            break;
    }
    return static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(shape_.accounts));
}

v1::CommandEnvelope ledger_workload::entry(const std::string& tag, std::uint64_t seed, std::uint64_t i, int force_book) const {
    std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + i);
    auto debit = debit_account(rng);
    if (force_book >= 0) {  // the same account number in the given book
        debit = (debit / shape_.books) * shape_.books + force_book;
        if (debit >= shape_.accounts) debit = force_book;
    }
    const std::int64_t book = debit % shape_.books;
    const std::int64_t in_book = (shape_.accounts - book + shape_.books - 1) / shape_.books;  // accounts in this book
    auto other = [&](std::int64_t avoid) {
        auto local = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(in_book));
        auto g = local * shape_.books + book;
        return g == avoid ? ((local + 1) % in_book) * shape_.books + book : g;
    };
    v1::CommandEnvelope c;
    auto id = tag + "-" + std::to_string(i);
    c.set_command_id(id);
    c.set_actor("bench");
    auto* p = c.mutable_post_entry();
    p->set_book_id(book_of(debit));
    p->set_entry_id(id);
    p->set_effective_date("2026-11-23");
    auto amount = 100 + static_cast<std::int64_t>(rng() % 1000);
    auto leg = [&](std::int64_t account, v1::Side side, std::int64_t minor) {
        auto* l = p->add_legs();
        l->set_account_id("a" + std::to_string(account / shape_.books));
        l->set_side(side);
        l->set_amount_minor(minor);
        l->set_currency("EUR");
    };
    bool multi = shape_.multi_leg_every > 0 && i % static_cast<std::uint64_t>(shape_.multi_leg_every) == 0 && in_book >= 4;
    if (!multi) {
        leg(debit, v1::SIDE_DEBIT, amount);
        leg(other(debit), v1::SIDE_CREDIT, amount);
    } else {
        auto debit2 = other(debit);
        leg(debit, v1::SIDE_DEBIT, amount);
        leg(debit2, v1::SIDE_DEBIT, amount / 2);
        auto c1 = other(debit);
        leg(c1, v1::SIDE_CREDIT, amount);
        leg(other(c1), v1::SIDE_CREDIT, amount / 2);
    }
    return c;
}

v1::CommandEnvelope ledger_workload::batch(const std::string& tag, std::uint64_t seed, std::uint64_t i, int size) const {
    v1::CommandEnvelope run;
    run.set_command_id(tag + "-" + std::to_string(i));
    run.set_actor("bench");
    const int book = static_cast<int>(i % static_cast<std::uint64_t>(shape_.books));
    for (int k = 0; k < size; ++k) {
        auto e = entry(tag + "r" + std::to_string(i) + "." + std::to_string(k), seed, i * 100000 + static_cast<std::uint64_t>(k), book);
        // entry() names the command "<prefix>-<n>"; inner ids must not look like a run's id.
        auto id = tag + "r" + std::to_string(i) + "." + std::to_string(k);
        e.set_command_id(id);
        e.mutable_post_entry()->set_entry_id(id);
        *run.mutable_linked_run()->add_commands() = std::move(e);
    }
    return run;
}

std::int64_t index_of_id(std::string_view id) {
    auto dash = id.rfind('-');
    if (dash == std::string_view::npos) return -1;
    std::int64_t v = -1;
    auto [ptr, ec] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), v);
    return ec == std::errc() && ptr == id.data() + id.size() ? v : -1;
}

}  // namespace daybook::bench
