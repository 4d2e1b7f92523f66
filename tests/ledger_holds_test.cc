// The general-ledger decider beyond plain postings, as specifications: constraints, closing and
// reopening accounts, holds (place, increase, capture, release, expire), reversals and period
// locks. Given events, when a command (at a processing clock `now` and an actor), then events or a
// rejection (code and field path). The rule order is the one documented in aggregates/ledger.h.
// Ends with a seeded property test of the ledger's invariants over random command streams.

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "aggregates/ledger.h"
#include "events/int128.h"
#include "events/limits.h"
#include "tests/test_support.h"

namespace {

using namespace daybook;
using namespace daybook::test;
using aggregates::expire_holds_batch_max;
using aggregates::hold_duration_max_ms;
using events::account_constraints_changed;
using events::account_reopened;
using events::close_account;
using events::close_period;
using events::constraints;
using events::entry_repeat_acknowledged;
using events::expire_holds;
using events::hold_captured;
using events::hold_id;
using events::hold_increased;
using events::hold_placed;
using events::hold_released;
using events::increase_hold;
using events::period_reopened;
using events::place_hold;
using events::reopen_account;
using events::reopen_period;
using events::seal_period;
using events::reverse_entry;
using events::set_account_constraints;
using history_t = std::vector<ledger::event>;
using events_t = std::vector<ledger::event>;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// The clock of these specifications: t0 = 2024-03-01T12:00:00Z (test_now_ms).
constexpr std::int64_t t0 = test_now_ms;
constexpr std::int64_t hour = 3'600'000;
// 2024-03-02T00:00:00.000Z, the first millisecond of the next UTC day.
constexpr std::int64_t next_day_ms = t0 + 12 * hour;

// ---- Builders -------------------------------------------------------------------------------

constraints no_constraints() { return constraints{false, false, 0}; }
// debits_posted + debits_pending <= credits_posted + limit (a wallet: spend at most what came in).
constraints debit_cap(std::int64_t limit = 0) { return constraints{true, false, limit}; }
// credits_posted + credits_pending <= debits_posted + limit.
constraints credit_cap(std::int64_t limit = 0) { return constraints{false, true, limit}; }

open_account open_with(std::string account, constraints limits, std::string currency = "USD",
                       account_type type = account_type::liability) {
    auto cmd = open_acct(std::move(account), std::move(currency), type);
    cmd.limits = limits;
    return cmd;
}

account_opened opened_with(std::string account, constraints limits, std::string currency = "USD",
                           account_type type = account_type::liability) {
    return opened_from(open_with(std::move(account), limits, std::move(currency), type));
}

set_account_constraints constraints_cmd(std::string account, constraints limits) {
    return set_account_constraints{book_id{book}, account_id{std::move(account)}, limits};
}
account_constraints_changed constraints_changed(std::string account, constraints limits) {
    return account_constraints_changed{book_id{book}, account_id{std::move(account)}, limits};
}

close_account close_cmd(std::string account) {
    return close_account{book_id{book}, account_id{std::move(account)}};
}
events::account_closed closed_ev(std::string account) {
    return events::account_closed{book_id{book}, account_id{std::move(account)}};
}
reopen_account reopen_cmd(std::string account) {
    return reopen_account{book_id{book}, account_id{std::move(account)}};
}
account_reopened reopened_ev(std::string account) {
    return account_reopened{book_id{book}, account_id{std::move(account)}};
}

place_hold hold_cmd(std::string hold, std::string debit_account, std::string credit_account,
                    std::int64_t amount, std::int64_t expires_at_ms = t0 + hour,
                    std::string currency = "USD", std::string memo = "") {
    return place_hold{book_id{book},
                      hold_id{std::move(hold)},
                      account_id{std::move(debit_account)},
                      account_id{std::move(credit_account)},
                      money{amount, std::move(currency)},
                      expires_at_ms,
                      std::move(memo)};
}
hold_placed placed_from(const place_hold& c) {
    return hold_placed{c.book, c.hold, c.debit, c.credit, c.amount, c.expires_at_ms, c.memo};
}
hold_placed held(std::string hold, std::string debit_account, std::string credit_account,
                 std::int64_t amount, std::int64_t expires_at_ms = t0 + hour,
                 std::string currency = "USD") {
    return placed_from(hold_cmd(std::move(hold), std::move(debit_account),
                                std::move(credit_account), amount, expires_at_ms,
                                std::move(currency)));
}

increase_hold increase_cmd(std::string hold, std::int64_t amount) {
    return increase_hold{book_id{book}, hold_id{std::move(hold)}, amount};
}
hold_increased increased(std::string hold, std::int64_t amount) {
    return hold_increased{book_id{book}, hold_id{std::move(hold)}, amount};
}

events::capture_hold capture_cmd(std::string hold, std::string entry, std::int64_t amount,
                                 bool final_capture = false, std::string date = "2024-03-01",
                                 std::string memo = "") {
    return events::capture_hold{
        book_id{book},  hold_id{std::move(hold)}, entry_id{std::move(entry)},
        amount,         std::move(date),          final_capture,
        std::move(memo)};
}
hold_captured captured(std::string hold, std::string entry, std::int64_t amount,
                       std::int64_t released, std::string debit_account, std::string credit_account,
                       std::string date = "2024-03-01", std::string memo = "",
                       std::string currency = "USD") {
    return hold_captured{book_id{book},
                         hold_id{std::move(hold)},
                         entry_id{std::move(entry)},
                         money{amount, std::move(currency)},
                         std::move(date),
                         released,
                         account_id{std::move(debit_account)},
                         account_id{std::move(credit_account)},
                         std::move(memo)};
}

events::release_hold release_cmd(std::string hold) {
    return events::release_hold{book_id{book}, hold_id{std::move(hold)}};
}
hold_released released(std::string hold, std::int64_t amount, std::string debit_account,
                       std::string credit_account) {
    return hold_released{book_id{book}, hold_id{std::move(hold)}, amount,
                         account_id{std::move(debit_account)},
                         account_id{std::move(credit_account)}};
}
events::hold_expired expired(std::string hold, std::int64_t amount, std::string debit_account,
                             std::string credit_account) {
    return events::hold_expired{book_id{book}, hold_id{std::move(hold)}, amount,
                                account_id{std::move(debit_account)},
                                account_id{std::move(credit_account)}};
}
expire_holds expire_cmd() { return expire_holds{book_id{book}}; }

reverse_entry reverse_cmd(std::string entry, std::string reversal, std::string date = "",
                          std::string memo = "") {
    return reverse_entry{book_id{book}, entry_id{std::move(entry)}, entry_id{std::move(reversal)},
                         std::move(date), std::move(memo)};
}
entry_posted reversal_posted(std::string entry, std::string reversal, std::vector<leg> legs,
                             std::string date = "2024-03-01") {
    return entry_posted{book_id{book},          entry_id{reversal}, std::move(date),
                        "Reversal of " + entry, std::move(legs),    entry_id{entry}};
}
entry_posted posted_on(std::string entry, std::vector<leg> legs, std::string date) {
    return posted_from(post(std::move(entry), std::move(legs), std::move(date)));
}

close_period close_period_cmd(std::string through) {
    return close_period{book_id{book}, std::move(through)};
}
events::period_closed period_closed_ev(std::string through, std::string actor = "alice") {
    return events::period_closed{book_id{book}, std::move(through), std::move(actor)};
}
reopen_period reopen_period_cmd(std::string through = "") {
    return reopen_period{book_id{book}, std::move(through)};
}
period_reopened period_reopened_ev(std::string through = "", std::string actor = "bob") {
    return period_reopened{book_id{book}, std::move(through), std::move(actor)};
}

seal_period seal_period_cmd(std::string through, std::string sha = std::string(64, 'a'),
                            std::string heads = "0:7:" + std::string(64, 'b')) {
    return seal_period{book_id{book}, std::move(through), std::move(sha), std::move(heads)};
}
events::period_sealed period_sealed_ev(std::string through, std::string actor = "alice") {
    return events::period_sealed{book_id{book}, std::move(through), std::string(64, 'a'), "0:7:" + std::string(64, 'b'),
                                 std::move(actor)};
}
// A process manager's command: source billing-manager with a causation event.
aggregates::decide_context as_process_manager() {
    auto c = test_ctx(t0, "daybook-billing");
    c.process_manager = true;
    return c;
}

aggregates::decide_context at(std::int64_t now_ms) { return test_ctx(now_ms); }
aggregates::decide_context as_bob(std::int64_t now_ms = t0) { return test_ctx(now_ms, "bob"); }

history_t plus(history_t h, const std::vector<ledger::event>& more) {
    h.insert(h.end(), more.begin(), more.end());
    return h;
}

// The book of these specifications, all USD except eur_cash:
//   cash (asset), revenue, equity, merchant (liability): unconstrained;
//   wallet (liability): debits must not exceed credits, limit 0; funded with 100.00 by entry
//   "fund"; capped (asset): credits must not exceed debits + 50.00; eur_cash (EUR asset).
history_t books() {
    return {
        opened("cash"),
        opened("revenue", "USD", account_type::revenue),
        opened("equity", "USD", account_type::equity),
        opened("merchant", "USD", account_type::liability),
        opened_with("wallet", debit_cap(0)),
        opened_with("capped", credit_cap(50'00), "USD", account_type::asset),
        opened("eur_cash", "EUR"),
        posted("fund", {debit("cash", 100'00), credit("wallet", 100'00)}),
    };
}
history_t books_plus(const std::vector<ledger::event>& more) { return plus(books(), more); }

// ---- Typed reads of the state a history leaves --------------------------------------------------

v1::AccountState account_in(const events::keyed_state& s, const std::string& account) {
    auto found = ledger::find_account(s, book_id{book}, account_id{account});
    REQUIRE(found.has_value());
    return *found;
}
v1::HoldState hold_in(const events::keyed_state& s, const std::string& hold) {
    auto found = ledger::find_hold(s, book_id{book}, hold_id{hold});
    REQUIRE(found.has_value());
    return *found;
}
v1::EntryState entry_in(const events::keyed_state& s, const std::string& entry) {
    auto found = ledger::find_entry(s, book_id{book}, entry_id{entry});
    REQUIRE(found.has_value());
    return *found;
}
ledger::pending pending_at(const events::keyed_state& s, const std::string& account,
                           std::int64_t now_ms) {
    return ledger::effective_pending(s, book_id{book}, account_in(s, account), now_ms);
}
v1::Leg leg_of(std::string account, v1::Side side_of, std::int64_t amount,
               std::string currency = "USD") {
    v1::Leg l;
    l.set_account_id(std::move(account));
    l.set_side(side_of);
    l.set_amount_minor(amount);
    l.set_currency(std::move(currency));
    return l;
}
bool same_leg(const v1::Leg& a, const v1::Leg& b) {
    return a.SerializeAsString() == b.SerializeAsString();
}

// The single event of an accepted decision, as type E.
template <typename E>
E only_event(const result<std::vector<ledger::event>>& decision) {
    REQUIRE(decision.has_value());
    REQUIRE(decision->size() == 1);
    REQUIRE(std::holds_alternative<E>(decision->front()));
    return std::get<E>(decision->front());
}

}  // namespace

// =================================================================================================
// open_account with a parent and constraints
// =================================================================================================

SCENARIO("an account is opened under a parent and with constraints",
         "[ledger][open_account][constraints]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("a USD account is opened under cash with debits capped at credits + 10.00") {
            auto cmd = open_with("petty", debit_cap(10'00), "USD", account_type::asset);
            cmd.parent = account_id{"cash"};
            auto decision = when(history, cmd);
            THEN("account_opened carries the parent and the constraints") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{opened_from(cmd)});
            }
            THEN("evolve keeps the parent and the constraints, with zero totals") {
                auto state = given(plus(history, {opened_from(cmd)}));
                auto petty = account_in(state, "petty");
                CHECK(petty.parent_account_id() == "cash");
                CHECK(petty.constraints().debits_must_not_exceed_credits());
                CHECK_FALSE(petty.constraints().credits_must_not_exceed_debits());
                CHECK(petty.constraints().limit_minor() == 10'00);
                CHECK(petty.debits_minor() == 0);
                CHECK(petty.credits_minor() == 0);
                CHECK(petty.debits_pending_minor() == 0);
                CHECK(petty.credits_pending_minor() == 0);
                CHECK_FALSE(petty.closed());
            }
        }
        WHEN("an account is opened with credits capped and no limit") {
            auto cmd = open_with("deposits", credit_cap(0));
            THEN("it is accepted") {
                CHECK(when(history, cmd).value() == events_t{opened_from(cmd)});
            }
        }
        WHEN("an account is opened under a parent that does not exist") {
            auto cmd = open_acct("petty");
            cmd.parent = account_id{"ghost"};
            THEN("parent_not_found at open_account.parent_account_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::parent_not_found,
                                 "open_account.parent_account_id");
            }
        }
        WHEN("the parent exists only in another book") {
            auto other = opened_from(open_acct("elsewhere"));
            other.book = book_id{"other"};
            auto cmd = open_acct("petty");
            cmd.parent = account_id{"elsewhere"};
            THEN("parent_not_found: parents are per book") {
                REQUIRE_REJECTED(when(plus(history, {other}), cmd),
                                 rejection_code::parent_not_found,
                                 "open_account.parent_account_id");
            }
        }
        WHEN("a USD account is opened under the EUR account eur_cash") {
            auto cmd = open_acct("petty", "USD");
            cmd.parent = account_id{"eur_cash"};
            THEN("parent_currency_mismatch at open_account.parent_account_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::parent_currency_mismatch,
                                 "open_account.parent_account_id");
            }
        }
        WHEN("both constraint flags are set") {
            auto cmd = open_with("petty", constraints{true, true, 0});
            THEN("constraints_invalid at open_account.constraints") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::constraints_invalid,
                                 "open_account.constraints");
            }
        }
        WHEN("the limit is negative, with or without a flag") {
            auto limits =
                GENERATE(constraints{true, false, -1}, constraints{false, true, -1},
                         constraints{false, false, std::numeric_limits<std::int64_t>::min()});
            auto cmd = open_with("petty", limits);
            THEN("constraints_invalid at open_account.constraints.limit_minor") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::constraints_invalid,
                                 "open_account.constraints.limit_minor");
            }
        }
    }
}

SCENARIO("open_account with parent and constraints reports the first broken rule",
         "[ledger][precedence][constraints]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("the scale is too large and the constraints are invalid") {
            auto cmd = open_with("petty", constraints{true, true, 0});
            cmd.scale = limits::currency_scale_max + 1;
            THEN("scale_too_large") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::scale_too_large,
                                 "open_account.scale");
            }
        }
        WHEN("the constraints are invalid and the account exists") {
            THEN("constraints_invalid") {
                REQUIRE_REJECTED(when(history, open_with("cash", constraints{false, false, -5})),
                                 rejection_code::constraints_invalid,
                                 "open_account.constraints.limit_minor");
            }
        }
        WHEN("the account exists and its parent does not") {
            auto cmd = open_acct("cash");
            cmd.parent = account_id{"ghost"};
            THEN("account_already_exists") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::account_already_exists,
                                 "open_account.account_id");
            }
        }
    }
}

// =================================================================================================
// set_account_constraints and how constraints bind postings
// =================================================================================================

SCENARIO("constraints are changed when the account satisfies them now", "[ledger][constraints]") {
    GIVEN("cash with debits 100.00 and wallet with credits 100.00") {
        auto history = books();
        WHEN("cash gets debits capped at credits + 100.00 (exactly its balance)") {
            auto cmd = constraints_cmd("cash", debit_cap(100'00));
            THEN("account_constraints_changed is decided") {
                CHECK(when(history, cmd).value() ==
                      events_t{constraints_changed("cash", debit_cap(100'00))});
            }
        }
        WHEN("cash gets debits capped at credits + 99.99") {
            THEN("exceeds_credits at set_account_constraints.constraints") {
                REQUIRE_REJECTED(when(history, constraints_cmd("cash", debit_cap(99'99))),
                                 rejection_code::exceeds_credits,
                                 "set_account_constraints.constraints");
            }
        }
        WHEN("wallet gets credits capped at debits + 100.00") {
            THEN("it is accepted") {
                CHECK(when(history, constraints_cmd("wallet", credit_cap(100'00))).has_value());
            }
        }
        WHEN("wallet gets credits capped at debits + 99.99") {
            THEN("exceeds_debits at set_account_constraints.constraints") {
                REQUIRE_REJECTED(when(history, constraints_cmd("wallet", credit_cap(99'99))),
                                 rejection_code::exceeds_debits,
                                 "set_account_constraints.constraints");
            }
        }
        WHEN("wallet's constraints are removed") {
            auto cmd = constraints_cmd("wallet", no_constraints());
            auto decision = when(history, cmd);
            THEN("it is accepted, and evolve clears the constraints and keeps the balances") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{constraints_changed("wallet", no_constraints())});
                auto state = given(plus(history, decision.value()));
                auto wallet = account_in(state, "wallet");
                CHECK_FALSE(wallet.constraints().debits_must_not_exceed_credits());
                CHECK_FALSE(wallet.constraints().credits_must_not_exceed_debits());
                CHECK(wallet.constraints().limit_minor() == 0);
                CHECK(wallet.credits_minor() == 100'00);
                CHECK(wallet.currency() == "USD");
            }
        }
    }
    GIVEN("a hold of 10.00 from cash to merchant, due in an hour") {
        auto history = books_plus({held("h1", "cash", "merchant", 10'00)});
        WHEN("cash gets debits capped at credits + 109.99 (the hold counts)") {
            THEN("exceeds_credits") {
                REQUIRE_REJECTED(when(history, constraints_cmd("cash", debit_cap(109'99))),
                                 rejection_code::exceeds_credits,
                                 "set_account_constraints.constraints");
            }
        }
        WHEN("cash gets debits capped at credits + 110.00") {
            THEN("it is accepted") {
                CHECK(when(history, constraints_cmd("cash", debit_cap(110'00))).has_value());
            }
        }
        WHEN("merchant gets credits capped at debits + 9.99") {
            THEN("exceeds_debits (pending credits count)") {
                REQUIRE_REJECTED(when(history, constraints_cmd("merchant", credit_cap(9'99))),
                                 rejection_code::exceeds_debits,
                                 "set_account_constraints.constraints");
            }
        }
        WHEN(
            "merchant gets credits capped at debits + 0 after the hold's deadline, before any "
            "sweep") {
            THEN("it is accepted: an expired hold no longer counts") {
                CHECK(when(history, constraints_cmd("merchant", credit_cap(0)), at(t0 + hour))
                          .has_value());
            }
        }
    }
}

SCENARIO("set_account_constraints rejections", "[ledger][constraints][rejection]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("the book id is invalid") {
            auto cmd = constraints_cmd("cash", debit_cap(0));
            cmd.book = book_id{"no book"};
            THEN("book_id_invalid at set_account_constraints.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "set_account_constraints.book_id");
            }
        }
        WHEN("the account id is invalid") {
            auto bad = GENERATE(std::string(""), std::string("a b"),
                                std::string(limits::id_bytes_max + 1, 'a'));
            THEN("account_id_invalid at set_account_constraints.account_id") {
                REQUIRE_REJECTED(when(history, constraints_cmd(bad, no_constraints())),
                                 rejection_code::account_id_invalid,
                                 "set_account_constraints.account_id");
            }
        }
        WHEN("both flags are set") {
            THEN("constraints_invalid at set_account_constraints.constraints") {
                REQUIRE_REJECTED(
                    when(history, constraints_cmd("revenue", constraints{true, true, 5})),
                    rejection_code::constraints_invalid, "set_account_constraints.constraints");
            }
        }
        WHEN("the limit is negative") {
            THEN("constraints_invalid at set_account_constraints.constraints.limit_minor") {
                REQUIRE_REJECTED(when(history, constraints_cmd("revenue", credit_cap(-1))),
                                 rejection_code::constraints_invalid,
                                 "set_account_constraints.constraints.limit_minor");
            }
        }
        WHEN("the account does not exist") {
            THEN("account_not_found at set_account_constraints.account_id") {
                REQUIRE_REJECTED(when(history, constraints_cmd("ghost", debit_cap(0))),
                                 rejection_code::account_not_found,
                                 "set_account_constraints.account_id");
            }
        }
    }
}

SCENARIO("set_account_constraints reports the first broken rule",
         "[ledger][constraints][precedence]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("book id and account id are both invalid") {
            auto cmd = constraints_cmd("", debit_cap(0));
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "set_account_constraints.book_id");
            }
        }
        WHEN("account id and constraints are both invalid") {
            THEN("account_id_invalid") {
                REQUIRE_REJECTED(when(history, constraints_cmd("", constraints{true, true, -1})),
                                 rejection_code::account_id_invalid,
                                 "set_account_constraints.account_id");
            }
        }
        WHEN("the constraints are invalid and the account does not exist") {
            THEN("constraints_invalid") {
                REQUIRE_REJECTED(
                    when(history, constraints_cmd("ghost", constraints{true, true, 0})),
                    rejection_code::constraints_invalid, "set_account_constraints.constraints");
            }
        }
        WHEN("the limit is negative and both flags are set") {
            THEN("constraints_invalid names the limit first") {
                REQUIRE_REJECTED(
                    when(history, constraints_cmd("cash", constraints{true, true, -1})),
                    rejection_code::constraints_invalid,
                    "set_account_constraints.constraints.limit_minor");
            }
        }
    }
}

SCENARIO("constraints bind postings, pending holds included", "[ledger][constraints]") {
    GIVEN("wallet (debits <= credits) funded with 100.00 and capped (credits <= debits + 50.00)") {
        auto history = books();
        WHEN("wallet is debited exactly its 100.00") {
            THEN("it is accepted") {
                CHECK(
                    when(history, post("e1", {debit("wallet", 100'00), credit("merchant", 100'00)}))
                        .has_value());
            }
        }
        WHEN("wallet is debited 100.01 in the second leg") {
            auto decision =
                when(history, post("e1", {credit("merchant", 100'01), debit("wallet", 100'01)}));
            THEN("exceeds_credits at post_entry.legs[1].amount_minor") {
                REQUIRE_REJECTED(decision, rejection_code::exceeds_credits,
                                 "post_entry.legs[1].amount_minor");
                CHECK_THAT(decision.error().detail, Catch::Contains("wallet"));
            }
        }
        WHEN("wallet is debited 60.00 and 40.01 in two legs") {
            auto cmd = post(
                "e1", {credit("merchant", 100'01), debit("wallet", 60'00), debit("wallet", 40'01)});
            THEN("exceeds_credits at the first leg of that account") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::exceeds_credits,
                                 "post_entry.legs[1].amount_minor");
            }
        }
        WHEN("wallet is credited any amount") {
            THEN("it is accepted: crediting never breaks debits <= credits") {
                CHECK(when(history, post("e1", {debit("cash", 1'000'000'00),
                                                credit("wallet", 1'000'000'00)}))
                          .has_value());
            }
        }
        WHEN("capped is credited 50.00, then 50.01") {
            THEN(
                "50.00 is accepted and 50.01 is exceeds_debits at "
                "post_entry.legs[1].amount_minor") {
                CHECK(when(history, post("e1", {debit("cash", 50'00), credit("capped", 50'00)}))
                          .has_value());
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("cash", 50'01), credit("capped", 50'01)})),
                    rejection_code::exceeds_debits, "post_entry.legs[1].amount_minor");
            }
        }
        WHEN("capped is debited 10.00 first and then credited 60.00") {
            auto state_history =
                plus(history, {posted("d", {debit("capped", 10'00), credit("cash", 10'00)})});
            THEN("60.00 is accepted and 60.01 is rejected") {
                CHECK(
                    when(state_history, post("e1", {debit("cash", 60'00), credit("capped", 60'00)}))
                        .has_value());
                REQUIRE_REJECTED(when(state_history,
                                      post("e1", {debit("cash", 60'01), credit("capped", 60'01)})),
                                 rejection_code::exceeds_debits, "post_entry.legs[1].amount_minor");
            }
        }
    }
    GIVEN("wallet with an overdraft limit of 25.00") {
        auto history = books_plus({constraints_changed("wallet", debit_cap(25'00))});
        WHEN("wallet is debited 125.00, then 125.01") {
            THEN("125.00 is accepted, 125.01 exceeds_credits") {
                CHECK(
                    when(history, post("e1", {debit("wallet", 125'00), credit("merchant", 125'00)}))
                        .has_value());
                REQUIRE_REJECTED(
                    when(history,
                         post("e1", {debit("wallet", 125'01), credit("merchant", 125'01)})),
                    rejection_code::exceeds_credits, "post_entry.legs[0].amount_minor");
            }
        }
    }
    GIVEN(
        "a hold of 30.00 on wallet (to merchant) and one of 20.00 on capped (from cash), due at t0 "
        "+ 1h") {
        auto history = books_plus(
            {held("h1", "wallet", "merchant", 30'00), held("h2", "cash", "capped", 20'00)});
        WHEN("wallet is debited 70.00 or 70.01 while the hold counts") {
            THEN("70.00 fits, 70.01 is exceeds_credits") {
                CHECK(when(history, post("e1", {debit("wallet", 70'00), credit("merchant", 70'00)}))
                          .has_value());
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("wallet", 70'01), credit("merchant", 70'01)})),
                    rejection_code::exceeds_credits, "post_entry.legs[0].amount_minor");
            }
        }
        WHEN("capped is credited 30.00 or 30.01 while the hold counts") {
            THEN("30.00 fits, 30.01 is exceeds_debits") {
                CHECK(when(history, post("e1", {debit("cash", 30'00), credit("capped", 30'00)}))
                          .has_value());
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("cash", 30'01), credit("capped", 30'01)})),
                    rejection_code::exceeds_debits, "post_entry.legs[1].amount_minor");
            }
        }
    }
}

SCENARIO("a hold past its deadline no longer counts, before any expiry is recorded",
         "[ledger][holds][constraints]") {
    GIVEN("wallet funded with 100.00 and a hold of 30.00 on it due at t0 + 1h, never swept") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00, t0 + hour)});
        auto spend = post(
            "e1", {debit("wallet", 80'00), credit("merchant", 80'00)});  // fits only without h1
        WHEN("80.00 is spent one millisecond before the deadline") {
            THEN("exceeds_credits: the hold still counts") {
                REQUIRE_REJECTED(when(history, spend, at(t0 + hour - 1)),
                                 rejection_code::exceeds_credits,
                                 "post_entry.legs[0].amount_minor");
            }
        }
        WHEN("80.00 is spent at the deadline (now == expires_at)") {
            THEN("it is accepted") { CHECK(when(history, spend, at(t0 + hour)).has_value()); }
        }
        WHEN("80.00 is spent a day later") {
            THEN("it is accepted") { CHECK(when(history, spend, at(t0 + 24 * hour)).has_value()); }
        }
        THEN(
            "effective_pending counts the hold until the deadline, the stored sums until the "
            "sweep") {
            auto state = given(history);
            CHECK(account_in(state, "wallet").debits_pending_minor() == 30'00);
            CHECK(account_in(state, "merchant").credits_pending_minor() == 30'00);
            CHECK(pending_at(state, "wallet", t0 + hour - 1).debits == 30'00);
            CHECK(pending_at(state, "merchant", t0 + hour - 1).credits == 30'00);
            CHECK(pending_at(state, "wallet", t0 + hour).debits == 0);
            CHECK(pending_at(state, "merchant", t0 + hour).credits == 0);
            CHECK(pending_at(state, "wallet", t0 + hour).credits == 0);
            CHECK(pending_at(state, "merchant", t0 + hour).debits == 0);
        }
    }
    GIVEN("three holds on wallet with deadlines t0 + 1h, + 2h, + 3h, one partly captured") {
        auto history = books_plus({held("a", "wallet", "merchant", 10'00, t0 + hour),
                                   held("b", "wallet", "merchant", 20'00, t0 + 2 * hour),
                                   held("c", "wallet", "merchant", 40'00, t0 + 3 * hour),
                                   captured("b", "cb", 5'00, 0, "wallet", "merchant")});
        auto state = given(history);
        THEN("each deadline removes the remainder of its hold, not what was captured") {
            CHECK(pending_at(state, "wallet", t0).debits == 65'00);
            CHECK(pending_at(state, "wallet", t0 + hour).debits == 55'00);
            CHECK(pending_at(state, "wallet", t0 + 2 * hour).debits == 40'00);
            CHECK(pending_at(state, "wallet", t0 + 3 * hour).debits == 0);
            CHECK(pending_at(state, "merchant", t0 + 2 * hour - 1).credits == 55'00);
            CHECK(account_in(state, "wallet").debits_pending_minor() == 65'00);
        }
    }
}

SCENARIO("postings report the first broken rule among constraints, closed accounts and periods",
         "[ledger][precedence][constraints]") {
    GIVEN(
        "the book, revenue closed, the period closed through 2024-02-29, entry e0 on 2024-02-20") {
        auto history =
            books_plus({posted_on("e0", {debit("cash", 5), credit("equity", 5)}, "2024-02-20"),
                        closed_ev("revenue"), period_closed_ev("2024-02-29")});
        WHEN("an identical repeat of e0 is posted into the closed period") {
            THEN("period_closed: the lock is checked before the entry id") {
                REQUIRE_REJECTED(when(history, post("e0", {debit("cash", 5), credit("equity", 5)},
                                                    "2024-02-20")),
                                 rejection_code::period_closed, "post_entry.effective_date");
            }
        }
        WHEN("an entry into the closed period credits the closed account") {
            THEN("period_closed") {
                REQUIRE_REJECTED(when(history, post("e1", {debit("cash", 5), credit("revenue", 5)},
                                                    "2024-02-29")),
                                 rejection_code::period_closed, "post_entry.effective_date");
            }
        }
        WHEN("a leg names the closed account in another currency") {
            THEN("account_closed, before currency_mismatch") {
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("cash", 5), credit("revenue", 5, "EUR"),
                                              debit("eur_cash", 5, "EUR")})),
                    rejection_code::account_closed, "post_entry.legs[1].account_id");
            }
        }
        WHEN("the first leg is on the closed account and the second on a missing one") {
            THEN("account_closed at legs[0]") {
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("revenue", 5), credit("ghost", 5)})),
                    rejection_code::account_closed, "post_entry.legs[0].account_id");
            }
        }
        WHEN("the entry is unbalanced and a leg is on the closed account") {
            THEN("account_closed") {
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("cash", 5), credit("revenue", 4)})),
                    rejection_code::account_closed, "post_entry.legs[1].account_id");
            }
        }
        WHEN("the entry is unbalanced and would break wallet's constraint") {
            THEN("entry_unbalanced") {
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("wallet", 500'00), credit("merchant", 1)})),
                    rejection_code::entry_unbalanced, "post_entry.legs");
            }
        }
    }
    GIVEN("wallet with debits of INT64_MAX - 10 recorded (above its credits)") {
        auto history = books_plus(
            {posted("big", {debit("wallet", int64_max - 10), credit("equity", int64_max - 10)})});
        WHEN("wallet is debited 11 more: overflow and constraint both broken on one account") {
            THEN("amount_overflow") {
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("wallet", 11), credit("merchant", 11)})),
                    rejection_code::amount_overflow, "post_entry.legs[0].amount_minor");
            }
        }
    }
}

// =================================================================================================
// close_account and reopen_account
// =================================================================================================

SCENARIO("an account is closed only with a zero balance and no counting holds",
         "[ledger][close_account]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("revenue, never used, is closed") {
            auto decision = when(history, close_cmd("revenue"));
            THEN("account_closed is decided and evolve marks it closed") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{closed_ev("revenue")});
                auto state = given(plus(history, decision.value()));
                CHECK(account_in(state, "revenue").closed());
                CHECK_FALSE(account_in(state, "cash").closed());
            }
        }
        WHEN("merchant, with equal nonzero debits and credits, is closed") {
            auto h =
                plus(history, {posted("in", {debit("cash", 7'00), credit("merchant", 7'00)}),
                               posted("out", {debit("merchant", 7'00), credit("cash", 7'00)})});
            THEN("it is accepted: the balance is zero") {
                CHECK(when(h, close_cmd("merchant")).has_value());
            }
        }
        WHEN("cash (debit balance 100.00) or wallet (credit balance 100.00) is closed") {
            auto account = GENERATE(std::string("cash"), std::string("wallet"));
            THEN("account_balance_not_zero at close_account.account_id") {
                REQUIRE_REJECTED(when(history, close_cmd(account)),
                                 rejection_code::account_balance_not_zero,
                                 "close_account.account_id");
            }
        }
        WHEN("the account does not exist") {
            THEN("account_not_found at close_account.account_id") {
                REQUIRE_REJECTED(when(history, close_cmd("ghost")),
                                 rejection_code::account_not_found, "close_account.account_id");
            }
        }
        WHEN("the account id is invalid") {
            THEN("account_id_invalid at close_account.account_id") {
                REQUIRE_REJECTED(when(history, close_cmd("re venue")),
                                 rejection_code::account_id_invalid, "close_account.account_id");
            }
        }
        WHEN("the book id is invalid") {
            auto cmd = close_cmd("revenue");
            cmd.book = book_id{""};
            THEN("book_id_invalid at close_account.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "close_account.book_id");
            }
        }
    }
    GIVEN("revenue already closed") {
        auto history = books_plus({closed_ev("revenue")});
        WHEN("it is closed again") {
            THEN("account_closed at close_account.account_id") {
                REQUIRE_REJECTED(when(history, close_cmd("revenue")),
                                 rejection_code::account_closed, "close_account.account_id");
            }
        }
    }
    GIVEN(
        "a hold of 5.00 from revenue (debit side) to equity (credit side), both at zero balance") {
        auto history = books_plus({held("h1", "revenue", "equity", 5'00, t0 + hour)});
        WHEN("either account is closed while the hold counts") {
            auto account = GENERATE(std::string("revenue"), std::string("equity"));
            THEN("account_has_open_holds at close_account.account_id") {
                REQUIRE_REJECTED(when(history, close_cmd(account)),
                                 rejection_code::account_has_open_holds,
                                 "close_account.account_id");
            }
        }
        WHEN("either account is closed at the hold's deadline, before any sweep") {
            auto account = GENERATE(std::string("revenue"), std::string("equity"));
            THEN("it is accepted: an expired hold no longer counts") {
                CHECK(when(history, close_cmd(account), at(t0 + hour)).value() ==
                      events_t{closed_ev(account)});
            }
        }
        WHEN("the hold was released and revenue is closed") {
            THEN("it is accepted") {
                CHECK(when(plus(history, {released("h1", 5'00, "revenue", "equity")}),
                           close_cmd("revenue"))
                          .has_value());
            }
        }
    }
}

SCENARIO("a closed account refuses postings and holds until it is reopened",
         "[ledger][close_account]") {
    GIVEN("revenue closed") {
        auto history = books_plus({closed_ev("revenue")});
        WHEN("an entry credits revenue") {
            THEN("account_closed at post_entry.legs[1].account_id") {
                REQUIRE_REJECTED(
                    when(history, post("e1", {debit("cash", 1), credit("revenue", 1)})),
                    rejection_code::account_closed, "post_entry.legs[1].account_id");
            }
        }
        WHEN("a hold names revenue as its debit or its credit account") {
            THEN("account_closed at place_hold.debit_account_id / credit_account_id") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "revenue", "cash", 1)),
                                 rejection_code::account_closed, "place_hold.debit_account_id");
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "revenue", 1)),
                                 rejection_code::account_closed, "place_hold.credit_account_id");
            }
        }
        WHEN("revenue is reopened") {
            auto decision = when(history, reopen_cmd("revenue"));
            THEN("account_reopened is decided; after it postings are accepted again") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{reopened_ev("revenue")});
                auto reopened_history = plus(history, decision.value());
                CHECK_FALSE(account_in(given(reopened_history), "revenue").closed());
                CHECK(when(reopened_history, post("e1", {debit("cash", 1), credit("revenue", 1)}))
                          .has_value());
            }
        }
    }
    GIVEN("the book") {
        auto history = books();
        WHEN("an open account is reopened") {
            THEN("account_not_closed at reopen_account.account_id") {
                REQUIRE_REJECTED(when(history, reopen_cmd("cash")),
                                 rejection_code::account_not_closed, "reopen_account.account_id");
            }
        }
        WHEN("a missing account is reopened") {
            THEN("account_not_found at reopen_account.account_id") {
                REQUIRE_REJECTED(when(history, reopen_cmd("ghost")),
                                 rejection_code::account_not_found, "reopen_account.account_id");
            }
        }
        WHEN("the account id is invalid") {
            THEN("account_id_invalid at reopen_account.account_id") {
                REQUIRE_REJECTED(when(history, reopen_cmd("")), rejection_code::account_id_invalid,
                                 "reopen_account.account_id");
            }
        }
        WHEN("the book id is invalid") {
            auto cmd = reopen_cmd("cash");
            cmd.book = book_id{"a b"};
            THEN("book_id_invalid at reopen_account.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "reopen_account.book_id");
            }
        }
    }
}

SCENARIO("close_account and reopen_account report the first broken rule",
         "[ledger][close_account][precedence]") {
    GIVEN(
        "wallet (balance 100.00) with an open hold, and revenue closed while a hold on it was "
        "open") {
        auto history = books_plus({held("h1", "wallet", "merchant", 10'00),
                                   held("h2", "revenue", "equity", 1'00), closed_ev("revenue")});
        WHEN("book id and account id are both invalid") {
            auto cmd = close_cmd("");
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "close_account.book_id");
            }
        }
        WHEN("revenue (closed, with a counting hold) is closed") {
            THEN("account_closed") {
                REQUIRE_REJECTED(when(history, close_cmd("revenue")),
                                 rejection_code::account_closed, "close_account.account_id");
            }
        }
        WHEN("wallet (open hold, nonzero balance) is closed") {
            THEN("account_has_open_holds") {
                REQUIRE_REJECTED(when(history, close_cmd("wallet")),
                                 rejection_code::account_has_open_holds,
                                 "close_account.account_id");
            }
        }
        WHEN("wallet is closed after its hold's deadline") {
            THEN("account_balance_not_zero: the hold no longer counts") {
                REQUIRE_REJECTED(when(history, close_cmd("wallet"), at(t0 + hour)),
                                 rejection_code::account_balance_not_zero,
                                 "close_account.account_id");
            }
        }
        WHEN("reopen_account has an invalid book id and an invalid account id") {
            auto cmd = reopen_cmd("");
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "reopen_account.book_id");
            }
        }
    }
}

// =================================================================================================
// place_hold
// =================================================================================================

SCENARIO("a hold is placed and reserves its amount on both accounts", "[ledger][holds]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("a hold of 30.00 from wallet to merchant is placed with a memo") {
            auto cmd = hold_cmd("h1", "wallet", "merchant", 30'00, t0 + hour, "USD", "card auth");
            auto decision = when(history, cmd);
            THEN("hold_placed carries every field of the command") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{placed_from(cmd)});
            }
            THEN("evolve records an open hold and the pending sums, not the posted ones") {
                auto state = given(plus(history, {placed_from(cmd)}));
                auto h = hold_in(state, "h1");
                CHECK(h.hold_id() == "h1");
                CHECK(h.debit_account_id() == "wallet");
                CHECK(h.credit_account_id() == "merchant");
                CHECK(h.currency() == "USD");
                CHECK(h.held_minor() == 30'00);
                CHECK(h.captured_minor() == 0);
                CHECK(h.expires_at_ms() == t0 + hour);
                CHECK(h.status() == v1::HOLD_STATUS_OPEN);
                CHECK(h.memo() == "card auth");
                auto wallet = account_in(state, "wallet");
                auto merchant = account_in(state, "merchant");
                CHECK(wallet.debits_pending_minor() == 30'00);
                CHECK(wallet.credits_pending_minor() == 0);
                CHECK(wallet.debits_minor() == 0);
                CHECK(wallet.credits_minor() == 100'00);
                CHECK(merchant.credits_pending_minor() == 30'00);
                CHECK(merchant.debits_pending_minor() == 0);
                CHECK(merchant.credits_minor() == 0);
                CHECK(pending_at(state, "wallet", t0).debits == 30'00);
                CHECK(pending_at(state, "merchant", t0).credits == 30'00);
                CHECK_FALSE(ledger::find_hold(state, book_id{book}, hold_id{"h2"}));
                CHECK_FALSE(ledger::find_hold(state, book_id{"other"}, hold_id{"h1"}));
            }
        }
        WHEN("the deadline is 1 ms after now or exactly 400 days after now") {
            auto expires = GENERATE(t0 + 1, t0 + hold_duration_max_ms);
            THEN("it is accepted") {
                CHECK(when(history, hold_cmd("h1", "cash", "merchant", 1, expires)).has_value());
            }
        }
        WHEN("the whole available balance of wallet is held") {
            THEN("it is accepted") {
                CHECK(when(history, hold_cmd("h1", "wallet", "merchant", 100'00)).has_value());
            }
        }
        WHEN("a hold in EUR is placed between EUR accounts") {
            auto h = plus(history, {opened("eur_payable", "EUR", account_type::liability)});
            auto cmd = hold_cmd("h1", "eur_cash", "eur_payable", 5'00, t0 + hour, "EUR");
            THEN("it is accepted with its currency") {
                auto e = only_event<hold_placed>(when(h, cmd));
                CHECK(e.amount == money{5'00, "EUR"});
            }
        }
    }
}

SCENARIO("holds count in constraints", "[ledger][holds][constraints]") {
    GIVEN("wallet (debits <= credits) funded with 100.00 and capped (credits <= debits + 50.00)") {
        auto history = books();
        WHEN("101.00 is held on wallet") {
            THEN("exceeds_credits at place_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "wallet", "merchant", 100'01)),
                                 rejection_code::exceeds_credits, "place_hold.amount_minor");
            }
        }
        WHEN("50.01 is held towards capped") {
            THEN("exceeds_debits at place_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "capped", 50'01)),
                                 rejection_code::exceeds_debits, "place_hold.amount_minor");
            }
        }
        WHEN("60.00 is held on wallet, then 40.01 more") {
            auto h = plus(history, {held("h1", "wallet", "merchant", 60'00)});
            THEN("the second hold is exceeds_credits, 40.00 fits") {
                REQUIRE_REJECTED(when(h, hold_cmd("h2", "wallet", "merchant", 40'01)),
                                 rejection_code::exceeds_credits, "place_hold.amount_minor");
                CHECK(when(h, hold_cmd("h2", "wallet", "merchant", 40'00)).has_value());
            }
            THEN("after the first hold's deadline, a second hold of 100.00 fits") {
                CHECK(when(h, hold_cmd("h2", "wallet", "merchant", 100'00, t0 + 2 * hour),
                           at(t0 + hour))
                          .has_value());
            }
        }
        WHEN("a hold takes from capped (its debit side)") {
            THEN("pending debits do not give capped room for credits") {
                auto h = plus(history, {held("h1", "capped", "merchant", 30'00)});
                REQUIRE_REJECTED(
                    when(h, post("e1", {debit("cash", 50'01), credit("capped", 50'01)})),
                    rejection_code::exceeds_debits, "post_entry.legs[1].amount_minor");
            }
        }
    }
}

SCENARIO("place_hold rejections", "[ledger][holds][rejection]") {
    GIVEN("the book") {
        auto history = books();
        WHEN("the book id is invalid") {
            auto cmd = hold_cmd("h1", "cash", "merchant", 1);
            cmd.book = book_id{""};
            THEN("book_id_invalid at place_hold.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "place_hold.book_id");
            }
        }
        WHEN("the hold id is invalid") {
            auto bad = GENERATE(std::string(""), std::string("h 1"),
                                std::string(limits::id_bytes_max + 1, 'h'));
            THEN("hold_id_invalid at place_hold.hold_id") {
                REQUIRE_REJECTED(when(history, hold_cmd(bad, "cash", "merchant", 1)),
                                 rejection_code::hold_id_invalid, "place_hold.hold_id");
            }
        }
        WHEN("the debit account id is invalid") {
            THEN("account_id_invalid at place_hold.debit_account_id") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "", "merchant", 1)),
                                 rejection_code::account_id_invalid, "place_hold.debit_account_id");
            }
        }
        WHEN("the credit account id is invalid") {
            THEN("account_id_invalid at place_hold.credit_account_id") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "mer chant", 1)),
                                 rejection_code::account_id_invalid,
                                 "place_hold.credit_account_id");
            }
        }
        WHEN("debit and credit are the same account") {
            THEN("hold_accounts_same at place_hold.credit_account_id") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "cash", 1)),
                                 rejection_code::hold_accounts_same,
                                 "place_hold.credit_account_id");
            }
        }
        WHEN("the amount is not positive") {
            auto bad = GENERATE(std::int64_t{0}, std::int64_t{-1},
                                std::numeric_limits<std::int64_t>::min());
            THEN("amount_must_be_positive at place_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "merchant", bad)),
                                 rejection_code::amount_must_be_positive,
                                 "place_hold.amount_minor");
            }
        }
        WHEN("the currency is invalid") {
            auto bad = GENERATE(std::string(""), std::string("usd"), std::string("U$"));
            THEN("currency_invalid at place_hold.currency") {
                REQUIRE_REJECTED(
                    when(history, hold_cmd("h1", "cash", "merchant", 1, t0 + hour, bad)),
                    rejection_code::currency_invalid, "place_hold.currency");
            }
        }
        WHEN("the deadline is not after now or more than 400 days ahead") {
            auto expires =
                GENERATE(t0, t0 - 1, std::int64_t{0}, t0 + hold_duration_max_ms + 1, int64_max);
            THEN("hold_expiry_invalid at place_hold.expires_at_ms") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "merchant", 1, expires)),
                                 rejection_code::hold_expiry_invalid, "place_hold.expires_at_ms");
            }
        }
        WHEN("the debit or credit account does not exist") {
            THEN("account_not_found at place_hold.debit_account_id / credit_account_id") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "ghost", "merchant", 1)),
                                 rejection_code::account_not_found, "place_hold.debit_account_id");
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "ghost", 1)),
                                 rejection_code::account_not_found, "place_hold.credit_account_id");
            }
        }
        WHEN("an account is in another currency than the hold") {
            // The path names the side whose account differs; PlaceHold itself has one currency
            // field.
            THEN("currency_mismatch at place_hold.currency / credit_currency") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "eur_cash", "merchant", 1)),
                                 rejection_code::currency_mismatch, "place_hold.currency");
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "eur_cash", 1)),
                                 rejection_code::currency_mismatch, "place_hold.currency");
            }
        }
    }
    GIVEN("hold h1 placed and hold h2 released") {
        auto history =
            books_plus({held("h1", "cash", "merchant", 1'00), held("h2", "cash", "merchant", 1'00),
                        released("h2", 1'00, "cash", "merchant")});
        WHEN("h1 or h2 is placed again, with any content") {
            auto id = GENERATE(std::string("h1"), std::string("h2"));
            THEN("hold_already_exists at place_hold.hold_id: hold ids are never reused") {
                REQUIRE_REJECTED(when(history, hold_cmd(id, "wallet", "merchant", 5)),
                                 rejection_code::hold_already_exists, "place_hold.hold_id");
            }
        }
        WHEN("h1 is placed in another book") {
            auto h = history;
            for (const char* a : {"cash", "merchant"}) {
                auto o = opened_from(open_acct(a));
                o.book = book_id{"other"};
                h.push_back(o);
            }
            auto cmd = hold_cmd("h1", "cash", "merchant", 1);
            cmd.book = book_id{"other"};
            THEN("it is accepted: hold ids are per book") { CHECK(when(h, cmd).has_value()); }
        }
    }
    GIVEN("a hold of INT64_MAX - 10 from cash to merchant") {
        auto history = books_plus({held("big", "cash", "merchant", int64_max - 10)});
        WHEN("11 more is held on cash (debit side) or towards merchant (credit side)") {
            THEN("amount_overflow at place_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "equity", 11)),
                                 rejection_code::amount_overflow, "place_hold.amount_minor");
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "equity", "merchant", 11)),
                                 rejection_code::amount_overflow, "place_hold.amount_minor");
            }
        }
        WHEN("10 more is held (exactly INT64_MAX pending)") {
            THEN("it is accepted") {
                CHECK(when(history, hold_cmd("h1", "cash", "merchant", 10)).has_value());
            }
        }
    }
}

SCENARIO("place_hold reports the first broken rule", "[ledger][holds][precedence]") {
    GIVEN("the book with hold h0 and revenue closed") {
        auto history = books_plus({held("h0", "cash", "merchant", 1'00), closed_ev("revenue")});
        WHEN("book id and hold id are both invalid") {
            auto cmd = hold_cmd("", "cash", "merchant", 1);
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "place_hold.book_id");
            }
        }
        WHEN("hold id and debit account id are both invalid") {
            THEN("hold_id_invalid") {
                REQUIRE_REJECTED(when(history, hold_cmd("", "", "merchant", 1)),
                                 rejection_code::hold_id_invalid, "place_hold.hold_id");
            }
        }
        WHEN("debit and credit account ids are both invalid (and equal)") {
            THEN("account_id_invalid at the debit side") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "x y", "x y", 1)),
                                 rejection_code::account_id_invalid, "place_hold.debit_account_id");
            }
        }
        WHEN("the accounts are the same and the amount is zero") {
            THEN("hold_accounts_same") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "cash", 0)),
                                 rejection_code::hold_accounts_same,
                                 "place_hold.credit_account_id");
            }
        }
        WHEN("the amount and the currency are both invalid") {
            THEN("amount_must_be_positive") {
                REQUIRE_REJECTED(
                    when(history, hold_cmd("h1", "cash", "merchant", -1, t0 + hour, "usd")),
                    rejection_code::amount_must_be_positive, "place_hold.amount_minor");
            }
        }
        WHEN("the currency and the deadline are both invalid") {
            THEN("currency_invalid") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "cash", "merchant", 1, t0, "usd")),
                                 rejection_code::currency_invalid, "place_hold.currency");
            }
        }
        WHEN("the deadline is invalid and the hold id exists") {
            THEN("hold_expiry_invalid") {
                REQUIRE_REJECTED(when(history, hold_cmd("h0", "cash", "merchant", 1, t0)),
                                 rejection_code::hold_expiry_invalid, "place_hold.expires_at_ms");
            }
        }
        WHEN("the hold id exists and the accounts do not") {
            THEN("hold_already_exists") {
                REQUIRE_REJECTED(when(history, hold_cmd("h0", "ghost", "phantom", 1)),
                                 rejection_code::hold_already_exists, "place_hold.hold_id");
            }
        }
        WHEN("the debit account is closed and the credit account does not exist") {
            THEN("account_closed at the debit side") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "revenue", "ghost", 1)),
                                 rejection_code::account_closed, "place_hold.debit_account_id");
            }
        }
        WHEN("the debit account's currency differs and the credit account does not exist") {
            THEN(
                "currency_mismatch at the debit side: the debit account is checked completely "
                "first") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "eur_cash", "ghost", 1)),
                                 rejection_code::currency_mismatch, "place_hold.currency");
            }
        }
        WHEN("the credit account does not exist and the debit account would break its constraint") {
            THEN("account_not_found") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "wallet", "ghost", 500'00)),
                                 rejection_code::account_not_found, "place_hold.credit_account_id");
            }
        }
        WHEN(
            "both accounts would break their constraints (wallet debit side, capped credit side)") {
            auto decision = when(history, hold_cmd("h1", "wallet", "capped", 100'01));
            THEN("exceeds_credits for the debit account, checked first") {
                REQUIRE_REJECTED(decision, rejection_code::exceeds_credits,
                                 "place_hold.amount_minor");
                CHECK_THAT(decision.error().detail, Catch::Contains("wallet"));
            }
        }
    }
    GIVEN("wallet with pending debits of INT64_MAX - 10") {
        auto history = books_plus({held("big", "wallet", "merchant", int64_max - 10)});
        WHEN("11 more is held on wallet: overflow and constraint both broken") {
            THEN("amount_overflow") {
                REQUIRE_REJECTED(when(history, hold_cmd("h1", "wallet", "merchant", 11)),
                                 rejection_code::amount_overflow, "place_hold.amount_minor");
            }
        }
    }
}

// =================================================================================================
// increase_hold
// =================================================================================================

SCENARIO("an open hold is increased", "[ledger][holds]") {
    GIVEN("a hold of 30.00 from wallet (funded with 100.00) to merchant") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00)});
        WHEN("it is increased by 70.00 (the rest of wallet's balance)") {
            auto decision = when(history, increase_cmd("h1", 70'00));
            THEN("hold_increased is decided and evolve raises the hold and both pending sums") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{increased("h1", 70'00)});
                auto state = given(plus(history, decision.value()));
                CHECK(hold_in(state, "h1").held_minor() == 100'00);
                CHECK(hold_in(state, "h1").status() == v1::HOLD_STATUS_OPEN);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 100'00);
                CHECK(account_in(state, "merchant").credits_pending_minor() == 100'00);
                CHECK(pending_at(state, "wallet", t0).debits == 100'00);
                CHECK(pending_at(state, "wallet", t0 + hour).debits == 0);
            }
        }
        WHEN("it is increased by 70.01") {
            THEN("exceeds_credits at increase_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, increase_cmd("h1", 70'01)),
                                 rejection_code::exceeds_credits, "increase_hold.amount_minor");
            }
        }
        WHEN("it was partly captured (10.00) and is increased by 5.00") {
            auto h = plus(history, {captured("h1", "c1", 10'00, 0, "wallet", "merchant"),
                                    increased("h1", 5'00)});
            THEN("the remainder grows by 5.00 and the capture stays") {
                auto state = given(h);
                CHECK(hold_in(state, "h1").held_minor() == 35'00);
                CHECK(hold_in(state, "h1").captured_minor() == 10'00);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 25'00);
                CHECK(pending_at(state, "wallet", t0).debits == 25'00);
                CHECK(pending_at(state, "wallet", t0 + hour).debits == 0);
                CHECK(account_in(state, "wallet").debits_minor() == 10'00);
            }
        }
    }
    GIVEN("a hold of 40.00 from cash to capped (credits <= debits + 50.00)") {
        auto history = books_plus({held("h1", "cash", "capped", 40'00)});
        WHEN("it is increased by 10.00, or by 10.01") {
            THEN("10.00 fits, 10.01 is exceeds_debits") {
                CHECK(when(history, increase_cmd("h1", 10'00)).has_value());
                REQUIRE_REJECTED(when(history, increase_cmd("h1", 10'01)),
                                 rejection_code::exceeds_debits, "increase_hold.amount_minor");
            }
        }
    }
}

SCENARIO("increase_hold rejections", "[ledger][holds][rejection]") {
    GIVEN("open hold h1 (due t0 + 1h), captured h2, released h3, expired h4") {
        auto history = books_plus(
            {held("h1", "cash", "merchant", 10'00), held("h2", "cash", "merchant", 10'00),
             held("h3", "cash", "merchant", 10'00), held("h4", "cash", "merchant", 10'00),
             captured("h2", "c2", 10'00, 0, "cash", "merchant"),
             released("h3", 10'00, "cash", "merchant"), expired("h4", 10'00, "cash", "merchant")});
        WHEN("the book id is invalid") {
            auto cmd = increase_cmd("h1", 1);
            cmd.book = book_id{""};
            THEN("book_id_invalid at increase_hold.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "increase_hold.book_id");
            }
        }
        WHEN("the hold id is invalid") {
            THEN("hold_id_invalid at increase_hold.hold_id") {
                REQUIRE_REJECTED(when(history, increase_cmd("", 1)),
                                 rejection_code::hold_id_invalid, "increase_hold.hold_id");
            }
        }
        WHEN("the amount is not positive") {
            auto bad = GENERATE(std::int64_t{0}, std::int64_t{-5});
            THEN("amount_must_be_positive at increase_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, increase_cmd("h1", bad)),
                                 rejection_code::amount_must_be_positive,
                                 "increase_hold.amount_minor");
            }
        }
        WHEN("the hold does not exist") {
            THEN("hold_not_found at increase_hold.hold_id") {
                REQUIRE_REJECTED(when(history, increase_cmd("ghost", 1)),
                                 rejection_code::hold_not_found, "increase_hold.hold_id");
            }
        }
        WHEN("the hold was captured, released or expired") {
            auto id = GENERATE(std::string("h2"), std::string("h3"), std::string("h4"));
            THEN("hold_already_resolved at increase_hold.hold_id") {
                REQUIRE_REJECTED(when(history, increase_cmd(id, 1)),
                                 rejection_code::hold_already_resolved, "increase_hold.hold_id");
            }
        }
        WHEN("the open hold is increased at or after its deadline, before any sweep") {
            auto now = GENERATE(t0 + hour, t0 + hour + 1, t0 + 100 * hour);
            THEN("hold_expired at increase_hold.hold_id") {
                REQUIRE_REJECTED(when(history, increase_cmd("h1", 1), at(now)),
                                 rejection_code::hold_expired, "increase_hold.hold_id");
            }
        }
        WHEN("the open hold is increased 1 ms before its deadline") {
            THEN("it is accepted") {
                CHECK(when(history, increase_cmd("h1", 1), at(t0 + hour - 1)).has_value());
            }
        }
    }
    GIVEN("a hold of INT64_MAX - 10") {
        auto history = books_plus({held("big", "cash", "merchant", int64_max - 10)});
        WHEN("it is increased by 11") {
            THEN("amount_overflow at increase_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, increase_cmd("big", 11)),
                                 rejection_code::amount_overflow, "increase_hold.amount_minor");
            }
        }
        WHEN("it is increased by 10") {
            THEN("it is accepted") { CHECK(when(history, increase_cmd("big", 10)).has_value()); }
        }
    }
    GIVEN("a small hold on cash next to a hold of INT64_MAX - 10 on cash") {
        auto history = books_plus(
            {held("big", "cash", "merchant", int64_max - 10), held("small", "cash", "equity", 5)});
        WHEN("the small hold is increased by 6: the hold fits, cash's pending sum does not") {
            THEN("amount_overflow at increase_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, increase_cmd("small", 6)),
                                 rejection_code::amount_overflow, "increase_hold.amount_minor");
            }
        }
    }
}

SCENARIO("increase_hold reports the first broken rule", "[ledger][holds][precedence]") {
    GIVEN("open hold h1 due t0 + 1h and hold h3 released") {
        auto history = books_plus({held("h1", "wallet", "merchant", 10'00),
                                   held("h3", "cash", "merchant", 1'00),
                                   released("h3", 1'00, "cash", "merchant")});
        WHEN("hold id and amount are both invalid") {
            THEN("hold_id_invalid") {
                REQUIRE_REJECTED(when(history, increase_cmd("", 0)),
                                 rejection_code::hold_id_invalid, "increase_hold.hold_id");
            }
        }
        WHEN("the amount is invalid and the hold does not exist") {
            THEN("amount_must_be_positive") {
                REQUIRE_REJECTED(when(history, increase_cmd("ghost", 0)),
                                 rejection_code::amount_must_be_positive,
                                 "increase_hold.amount_minor");
            }
        }
        WHEN("the released hold is increased after its deadline") {
            THEN("hold_already_resolved") {
                REQUIRE_REJECTED(when(history, increase_cmd("h3", 1), at(t0 + 2 * hour)),
                                 rejection_code::hold_already_resolved, "increase_hold.hold_id");
            }
        }
        WHEN("the expired hold is increased by an amount that breaks wallet's constraint") {
            THEN("hold_expired") {
                REQUIRE_REJECTED(when(history, increase_cmd("h1", 500'00), at(t0 + hour)),
                                 rejection_code::hold_expired, "increase_hold.hold_id");
            }
        }
    }
    GIVEN("a hold of INT64_MAX - 10 on wallet (debits <= credits)") {
        auto history = books_plus({held("big", "wallet", "merchant", int64_max - 10)});
        WHEN("it is increased by 11: overflow and constraint both broken") {
            THEN("amount_overflow") {
                REQUIRE_REJECTED(when(history, increase_cmd("big", 11)),
                                 rejection_code::amount_overflow, "increase_hold.amount_minor");
            }
        }
    }
}

// =================================================================================================
// capture_hold
// =================================================================================================

SCENARIO("a hold is captured in part, in several parts, or finally", "[ledger][holds][capture]") {
    GIVEN("a hold of 30.00 from wallet (funded with 100.00) to merchant") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00)});
        WHEN("10.00 is captured") {
            auto decision =
                when(history, capture_cmd("h1", "c1", 10'00, false, "2024-03-01", "first part"));
            THEN("hold_captured posts 10.00 and releases nothing") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{captured("h1", "c1", 10'00, 0, "wallet", "merchant", "2024-03-01",
                                        "first part")});
            }
            THEN(
                "evolve posts the entry, moves 10.00 from pending to posted, and the hold stays "
                "open") {
                auto state = given(plus(history, decision.value()));
                auto h = hold_in(state, "h1");
                CHECK(h.status() == v1::HOLD_STATUS_OPEN);
                CHECK(h.held_minor() == 30'00);
                CHECK(h.captured_minor() == 10'00);
                auto wallet = account_in(state, "wallet");
                auto merchant = account_in(state, "merchant");
                CHECK(wallet.debits_minor() == 10'00);
                CHECK(wallet.debits_pending_minor() == 20'00);
                CHECK(merchant.credits_minor() == 10'00);
                CHECK(merchant.credits_pending_minor() == 20'00);
                CHECK(pending_at(state, "wallet", t0).debits == 20'00);
                CHECK(pending_at(state, "wallet", t0 + hour).debits == 0);
                auto entry = entry_in(state, "c1");
                CHECK(entry.effective_date() == "2024-03-01");
                CHECK(entry.memo() == "first part");
                CHECK(entry.reversal_of().empty());
                REQUIRE(entry.legs_size() == 2);
                CHECK(same_leg(entry.legs(0), leg_of("wallet", v1::SIDE_DEBIT, 10'00)));
                CHECK(same_leg(entry.legs(1), leg_of("merchant", v1::SIDE_CREDIT, 10'00)));
            }
        }
        WHEN("10.00, then 5.00, then the remaining 15.00 are captured") {
            auto state = given(history);
            auto step = [&](const events::capture_hold& cmd) {
                auto d = ledger::decide(cmd, state, test_ctx());
                REQUIRE(d.has_value());
                for (const auto& e : *d) ledger::evolve(state, e);
                return d;
            };
            auto first = step(capture_cmd("h1", "c1", 10'00));
            auto second = step(capture_cmd("h1", "c2", 5'00));
            auto pending_after_two = account_in(state, "wallet").debits_pending_minor();
            auto captured_after_two = hold_in(state, "h1").captured_minor();
            auto third = step(capture_cmd("h1", "c3", 15'00));
            THEN("each posts its part; the last one reaches the held amount and closes the hold") {
                CHECK(first.value() ==
                      events_t{captured("h1", "c1", 10'00, 0, "wallet", "merchant")});
                CHECK(second.value() ==
                      events_t{captured("h1", "c2", 5'00, 0, "wallet", "merchant")});
                CHECK(third.value() ==
                      events_t{captured("h1", "c3", 15'00, 0, "wallet", "merchant")});
                CHECK(pending_after_two == 15'00);
                CHECK(captured_after_two == 15'00);
                auto h = hold_in(state, "h1");
                CHECK(h.status() == v1::HOLD_STATUS_CAPTURED);
                CHECK(h.captured_minor() == 30'00);
                CHECK(account_in(state, "wallet").debits_minor() == 30'00);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 0);
                CHECK(account_in(state, "merchant").credits_minor() == 30'00);
                CHECK(account_in(state, "merchant").credits_pending_minor() == 0);
                CHECK(ledger::entry_exists(state, book_id{book}, entry_id{"c1"}));
                CHECK(ledger::entry_exists(state, book_id{book}, entry_id{"c2"}));
                CHECK(ledger::entry_exists(state, book_id{book}, entry_id{"c3"}));
            }
            THEN("nothing is left to capture or expire") {
                REQUIRE_REJECTED(ledger::decide(capture_cmd("h1", "c4", 1), state, test_ctx()),
                                 rejection_code::hold_already_resolved, "capture_hold.hold_id");
                REQUIRE_REJECTED(ledger::decide(expire_cmd(), state, at(t0 + 2 * hour)),
                                 rejection_code::no_expired_holds, "expire_holds.book_id");
            }
        }
        WHEN("10.00 is captured as final") {
            auto decision = when(history, capture_cmd("h1", "c1", 10'00, true));
            THEN("the other 20.00 is released with it") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{captured("h1", "c1", 10'00, 20'00, "wallet", "merchant")});
            }
            THEN("evolve closes the hold as captured and clears both pending sums") {
                auto h2 = plus(history, decision.value());
                auto state = given(h2);
                auto h = hold_in(state, "h1");
                CHECK(h.status() == v1::HOLD_STATUS_CAPTURED);
                CHECK(h.captured_minor() == 10'00);
                CHECK(h.held_minor() == 30'00);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 0);
                CHECK(account_in(state, "merchant").credits_pending_minor() == 0);
                CHECK(pending_at(state, "wallet", t0).debits == 0);
                CHECK(account_in(state, "wallet").debits_minor() == 10'00);
                // The released 20.00 is available again: wallet can spend its other 90.00.
                CHECK(when(h2, post("e1", {debit("wallet", 90'00), credit("merchant", 90'00)}))
                          .has_value());
                REQUIRE_REJECTED(
                    when(h2, post("e1", {debit("wallet", 90'01), credit("merchant", 90'01)})),
                    rejection_code::exceeds_credits, "post_entry.legs[0].amount_minor");
            }
        }
        WHEN("exactly the 30.00 held is captured, not marked final") {
            auto decision = when(history, capture_cmd("h1", "c1", 30'00));
            THEN("it captures everything, releases nothing and closes the hold") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{captured("h1", "c1", 30'00, 0, "wallet", "merchant")});
                auto state = given(plus(history, decision.value()));
                CHECK(hold_in(state, "h1").status() == v1::HOLD_STATUS_CAPTURED);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 0);
                CHECK(account_in(state, "wallet").debits_minor() == 30'00);
            }
        }
        WHEN("the remainder after a partial capture is captured as final") {
            auto h = plus(history, {captured("h1", "c1", 12'00, 0, "wallet", "merchant")});
            THEN("released is zero") {
                CHECK(when(h, capture_cmd("h1", "c2", 18'00, true)).value() ==
                      events_t{captured("h1", "c2", 18'00, 0, "wallet", "merchant")});
            }
        }
        WHEN("a final capture follows a partial one") {
            auto h = plus(history, {captured("h1", "c1", 12'00, 0, "wallet", "merchant")});
            auto decision = when(h, capture_cmd("h1", "c2", 3'00, true));
            THEN("it releases what neither capture took") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{captured("h1", "c2", 3'00, 15'00, "wallet", "merchant")});
                auto state = given(plus(h, decision.value()));
                CHECK(hold_in(state, "h1").captured_minor() == 15'00);
                CHECK(hold_in(state, "h1").status() == v1::HOLD_STATUS_CAPTURED);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 0);
                CHECK(account_in(state, "wallet").debits_minor() == 15'00);
            }
        }
        WHEN("the hold was increased by 20.00 and 50.00 is captured") {
            auto h = plus(history, {increased("h1", 20'00)});
            THEN("it is accepted up to the increased amount") {
                CHECK(when(h, capture_cmd("h1", "c1", 50'00)).has_value());
                REQUIRE_REJECTED(when(h, capture_cmd("h1", "c1", 50'01)),
                                 rejection_code::capture_exceeds_hold, "capture_hold.amount_minor");
            }
        }
        WHEN("the capture is decided 1 ms before the deadline") {
            THEN("it is accepted") {
                CHECK(when(history, capture_cmd("h1", "c1", 1), at(t0 + hour - 1)).has_value());
            }
        }
        WHEN("the captured entry's id is posted again") {
            auto h = plus(
                history, {captured("h1", "c1", 10'00, 0, "wallet", "merchant", "2024-03-01", "m")});
            THEN(
                "the capture is an entry like any other: identical content is acknowledged, other "
                "content refused") {
                auto same = post("c1", {debit("wallet", 10'00), credit("merchant", 10'00)},
                                 "2024-03-01", "m");
                auto ack = only_event<entry_repeat_acknowledged>(when(h, same));
                CHECK(ack.entry == entry_id{"c1"});
                auto other_date = same;
                other_date.effective_date = "2024-03-02";
                REQUIRE_REJECTED(when(h, other_date),
                                 rejection_code::entry_exists_with_different_date,
                                 "post_entry.effective_date");
                auto other_legs = same;
                other_legs.legs = {debit("wallet", 10'01), credit("merchant", 10'01)};
                REQUIRE_REJECTED(when(h, other_legs),
                                 rejection_code::entry_exists_with_different_legs,
                                 "post_entry.legs");
                auto other_memo = same;
                other_memo.memo = "n";
                REQUIRE_REJECTED(when(h, other_memo),
                                 rejection_code::entry_exists_with_different_memo,
                                 "post_entry.memo");
            }
        }
    }
}

SCENARIO("capture_hold rejections", "[ledger][holds][capture][rejection]") {
    GIVEN("open hold h1 of 30.00 (due t0 + 1h), captured h2, released h3, expired h4, entry e0") {
        auto history = books_plus(
            {held("h1", "wallet", "merchant", 30'00), held("h2", "cash", "merchant", 10'00),
             held("h3", "cash", "merchant", 10'00), held("h4", "cash", "merchant", 10'00),
             captured("h2", "c2", 10'00, 0, "cash", "merchant"),
             released("h3", 10'00, "cash", "merchant"), expired("h4", 10'00, "cash", "merchant"),
             posted("e0", {debit("cash", 1), credit("equity", 1)})});
        WHEN("the book id is invalid") {
            auto cmd = capture_cmd("h1", "c1", 1);
            cmd.book = book_id{""};
            THEN("book_id_invalid at capture_hold.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "capture_hold.book_id");
            }
        }
        WHEN("the hold id is invalid") {
            THEN("hold_id_invalid at capture_hold.hold_id") {
                REQUIRE_REJECTED(when(history, capture_cmd("h 1", "c1", 1)),
                                 rejection_code::hold_id_invalid, "capture_hold.hold_id");
            }
        }
        WHEN("the entry id is invalid") {
            auto bad = GENERATE(std::string(""), std::string("c 1"),
                                std::string(limits::id_bytes_max + 1, 'c'));
            THEN("entry_id_invalid at capture_hold.entry_id") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", bad, 1)),
                                 rejection_code::entry_id_invalid, "capture_hold.entry_id");
            }
        }
        WHEN("the amount is not positive") {
            auto bad = GENERATE(std::int64_t{0}, std::int64_t{-1});
            THEN("amount_must_be_positive at capture_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", bad)),
                                 rejection_code::amount_must_be_positive,
                                 "capture_hold.amount_minor");
            }
        }
        WHEN("the effective date is invalid") {
            auto bad =
                GENERATE(std::string(""), std::string("2024-02-30"), std::string("01.03.2024"));
            THEN("effective_date_invalid at capture_hold.effective_date") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 1, false, bad)),
                                 rejection_code::effective_date_invalid,
                                 "capture_hold.effective_date");
            }
        }
        WHEN("the memo is one byte too long") {
            THEN("memo_too_long at capture_hold.memo") {
                REQUIRE_REJECTED(
                    when(history, capture_cmd("h1", "c1", 1, false, "2024-03-01",
                                              std::string(limits::memo_bytes_max + 1, 'm'))),
                    rejection_code::memo_too_long, "capture_hold.memo");
            }
        }
        WHEN("the memo is exactly at the limit") {
            THEN("it is accepted") {
                CHECK(when(history, capture_cmd("h1", "c1", 1, false, "2024-03-01",
                                                std::string(limits::memo_bytes_max, 'm')))
                          .has_value());
            }
        }
        WHEN("the hold does not exist") {
            THEN("hold_not_found at capture_hold.hold_id") {
                REQUIRE_REJECTED(when(history, capture_cmd("ghost", "c1", 1)),
                                 rejection_code::hold_not_found, "capture_hold.hold_id");
            }
        }
        WHEN("the hold was captured, released or expired") {
            auto id = GENERATE(std::string("h2"), std::string("h3"), std::string("h4"));
            THEN("hold_already_resolved at capture_hold.hold_id") {
                REQUIRE_REJECTED(when(history, capture_cmd(id, "c1", 1)),
                                 rejection_code::hold_already_resolved, "capture_hold.hold_id");
            }
        }
        WHEN("the open hold is captured at or after its deadline, before any sweep") {
            auto now = GENERATE(t0 + hour, t0 + 2 * hour);
            THEN("hold_expired at capture_hold.hold_id") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 1), at(now)),
                                 rejection_code::hold_expired, "capture_hold.hold_id");
            }
        }
        WHEN("more than the hold is captured") {
            THEN("capture_exceeds_hold at capture_hold.amount_minor, final or not") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 30'01)),
                                 rejection_code::capture_exceeds_hold, "capture_hold.amount_minor");
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 30'01, true)),
                                 rejection_code::capture_exceeds_hold, "capture_hold.amount_minor");
            }
        }
        WHEN("more than the remainder is captured after a partial capture of 10.00") {
            auto h = plus(history, {captured("h1", "c1", 10'00, 0, "wallet", "merchant")});
            THEN("20.01 is capture_exceeds_hold, 20.00 fits") {
                REQUIRE_REJECTED(when(h, capture_cmd("h1", "c5", 20'01)),
                                 rejection_code::capture_exceeds_hold, "capture_hold.amount_minor");
                CHECK(when(h, capture_cmd("h1", "c5", 20'00)).has_value());
            }
        }
        WHEN("the entry id exists (a posted entry, or an earlier capture)") {
            auto id = GENERATE(std::string("e0"), std::string("c2"), std::string("fund"));
            THEN("entry_already_exists at capture_hold.entry_id") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", id, 1)),
                                 rejection_code::entry_already_exists, "capture_hold.entry_id");
            }
        }
    }
    GIVEN("a hold of 1.00 on cash, and cash debited INT64_MAX - 50") {
        auto history = books_plus({held("h1", "cash", "merchant", 1'00),
                                   posted("big", {debit("cash", int64_max - 50 - 100'00),
                                                  credit("equity", int64_max - 50 - 100'00)})});
        WHEN("1.00 is captured (cash's debits would pass INT64_MAX)") {
            THEN("amount_overflow at capture_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 1'00)),
                                 rejection_code::amount_overflow, "capture_hold.amount_minor");
            }
        }
        WHEN("50 is captured (exactly INT64_MAX)") {
            THEN("it is accepted") {
                CHECK(when(history, capture_cmd("h1", "c1", 50)).has_value());
            }
        }
    }
    // A capture never adds to what counts against a constraint (the hold counted already), so it
    // can only break one when the recorded history already does: e.g. events decided under a
    // later clock than this command's. The rule still applies.
    GIVEN(
        "wallet over its constraint: a hold of 30.00 plus a recorded spend of 90.00 against "
        "100.00") {
        auto history =
            books_plus({held("h1", "wallet", "merchant", 30'00),
                        posted("spend", {debit("wallet", 90'00), credit("merchant", 90'00)})});
        WHEN("10.00 is captured, leaving 20.00 pending (still 120.00 against 100.00)") {
            THEN("exceeds_credits at capture_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 10'00)),
                                 rejection_code::exceeds_credits, "capture_hold.amount_minor");
            }
        }
        WHEN("10.00 is captured as final, releasing 20.00 (100.00 against 100.00)") {
            THEN("it is accepted") {
                CHECK(when(history, capture_cmd("h1", "c1", 10'00, true)).has_value());
            }
        }
    }
    GIVEN(
        "capped over its constraint: a hold of 40.00 towards it plus a recorded credit of 20.00") {
        auto history = books_plus({held("h1", "cash", "capped", 40'00),
                                   posted("in", {debit("cash", 20'00), credit("capped", 20'00)})});
        WHEN("10.00 is captured") {
            THEN("exceeds_debits at capture_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 10'00)),
                                 rejection_code::exceeds_debits, "capture_hold.amount_minor");
            }
        }
    }
}

SCENARIO("capture_hold reports the first broken rule", "[ledger][holds][capture][precedence]") {
    GIVEN(
        "open hold h1 of 30.00 due t0 + 1h, released h3, entry e0, period closed through "
        "2024-02-29") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00),
                                   held("h3", "cash", "merchant", 1'00),
                                   released("h3", 1'00, "cash", "merchant"),
                                   posted("e0", {debit("cash", 1), credit("equity", 1)}),
                                   period_closed_ev("2024-02-29")});
        const std::string long_memo(limits::memo_bytes_max + 1, 'm');
        WHEN("hold id and entry id are both invalid") {
            THEN("hold_id_invalid") {
                REQUIRE_REJECTED(when(history, capture_cmd("", "", 1)),
                                 rejection_code::hold_id_invalid, "capture_hold.hold_id");
            }
        }
        WHEN("entry id and amount are both invalid") {
            THEN("entry_id_invalid") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "", 0)),
                                 rejection_code::entry_id_invalid, "capture_hold.entry_id");
            }
        }
        WHEN("amount and effective date are both invalid") {
            THEN("amount_must_be_positive") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 0, false, "x")),
                                 rejection_code::amount_must_be_positive,
                                 "capture_hold.amount_minor");
            }
        }
        WHEN("effective date and memo are both invalid") {
            THEN("effective_date_invalid") {
                REQUIRE_REJECTED(
                    when(history, capture_cmd("h1", "c1", 1, false, "2023-02-29", long_memo)),
                    rejection_code::effective_date_invalid, "capture_hold.effective_date");
            }
        }
        WHEN("the memo is too long and the hold does not exist") {
            THEN("memo_too_long") {
                REQUIRE_REJECTED(
                    when(history, capture_cmd("ghost", "c1", 1, false, "2024-03-01", long_memo)),
                    rejection_code::memo_too_long, "capture_hold.memo");
            }
        }
        WHEN("the hold does not exist and the entry id does") {
            THEN("hold_not_found") {
                REQUIRE_REJECTED(when(history, capture_cmd("ghost", "e0", 1)),
                                 rejection_code::hold_not_found, "capture_hold.hold_id");
            }
        }
        WHEN("the released hold is captured after its deadline") {
            THEN("hold_already_resolved") {
                REQUIRE_REJECTED(when(history, capture_cmd("h3", "c1", 1), at(t0 + 2 * hour)),
                                 rejection_code::hold_already_resolved, "capture_hold.hold_id");
            }
        }
        WHEN("the hold has expired and the amount exceeds it") {
            THEN("hold_expired") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 30'01), at(t0 + hour)),
                                 rejection_code::hold_expired, "capture_hold.hold_id");
            }
        }
        WHEN("the amount exceeds the hold and the date is in the closed period") {
            THEN("capture_exceeds_hold") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 30'01, false, "2024-02-29")),
                                 rejection_code::capture_exceeds_hold, "capture_hold.amount_minor");
            }
        }
        WHEN("the date is in the closed period and the entry id exists") {
            THEN("period_closed") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "e0", 1, false, "2024-02-29")),
                                 rejection_code::period_closed, "capture_hold.effective_date");
            }
        }
    }
    GIVEN(
        "a hold of 1.00 on wallet (debits <= credits) and wallet debited INT64_MAX - 50, entry "
        "e0") {
        auto history = books_plus(
            {held("h1", "wallet", "merchant", 1'00),
             posted("big", {debit("wallet", int64_max - 50), credit("equity", int64_max - 50)})});
        WHEN("the entry id exists and the capture would overflow") {
            THEN("entry_already_exists") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "big", 1'00)),
                                 rejection_code::entry_already_exists, "capture_hold.entry_id");
            }
        }
        WHEN("the capture overflows wallet's debits and wallet is over its constraint") {
            THEN("amount_overflow") {
                REQUIRE_REJECTED(when(history, capture_cmd("h1", "c1", 1'00)),
                                 rejection_code::amount_overflow, "capture_hold.amount_minor");
            }
        }
    }
}

// =================================================================================================
// release_hold
// =================================================================================================

SCENARIO("an open hold is released", "[ledger][holds]") {
    GIVEN("a hold of 30.00 from wallet to merchant, 10.00 of it captured") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00),
                                   captured("h1", "c1", 10'00, 0, "wallet", "merchant")});
        WHEN("it is released") {
            auto decision = when(history, release_cmd("h1"));
            THEN("hold_released gives back the 20.00 not captured") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{released("h1", 20'00, "wallet", "merchant")});
            }
            THEN("evolve marks it released, clears the pending sums and keeps the capture") {
                auto state = given(plus(history, decision.value()));
                auto h = hold_in(state, "h1");
                CHECK(h.status() == v1::HOLD_STATUS_RELEASED);
                CHECK(h.captured_minor() == 10'00);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 0);
                CHECK(account_in(state, "merchant").credits_pending_minor() == 0);
                CHECK(account_in(state, "wallet").debits_minor() == 10'00);
                CHECK(pending_at(state, "wallet", t0 + 5 * hour).debits == 0);
                REQUIRE_REJECTED(ledger::decide(expire_cmd(), state, at(t0 + 5 * hour)),
                                 rejection_code::no_expired_holds, "expire_holds.book_id");
            }
        }
    }
}

SCENARIO("release_hold rejections and precedence", "[ledger][holds][rejection][precedence]") {
    GIVEN("open hold h1 (due t0 + 1h), captured h2, released h3, expired h4") {
        auto history = books_plus(
            {held("h1", "cash", "merchant", 10'00), held("h2", "cash", "merchant", 10'00),
             held("h3", "cash", "merchant", 10'00), held("h4", "cash", "merchant", 10'00),
             captured("h2", "c2", 4'00, 6'00, "cash", "merchant"),
             released("h3", 10'00, "cash", "merchant"), expired("h4", 10'00, "cash", "merchant")});
        WHEN("the book id is invalid") {
            auto cmd = release_cmd("h1");
            cmd.book = book_id{"bad book"};
            THEN("book_id_invalid at release_hold.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "release_hold.book_id");
            }
        }
        WHEN("book id and hold id are both invalid") {
            auto cmd = release_cmd("");
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "release_hold.book_id");
            }
        }
        WHEN("the hold id is invalid") {
            THEN("hold_id_invalid at release_hold.hold_id") {
                REQUIRE_REJECTED(when(history, release_cmd("")), rejection_code::hold_id_invalid,
                                 "release_hold.hold_id");
            }
        }
        WHEN("the hold does not exist") {
            THEN("hold_not_found at release_hold.hold_id") {
                REQUIRE_REJECTED(when(history, release_cmd("ghost")),
                                 rejection_code::hold_not_found, "release_hold.hold_id");
            }
        }
        WHEN("the hold was captured, released or expired") {
            auto id = GENERATE(std::string("h2"), std::string("h3"), std::string("h4"));
            THEN("hold_already_resolved at release_hold.hold_id") {
                REQUIRE_REJECTED(when(history, release_cmd(id)),
                                 rejection_code::hold_already_resolved, "release_hold.hold_id");
            }
        }
        WHEN("a resolved hold is released after its deadline") {
            THEN("hold_already_resolved, before hold_expired") {
                REQUIRE_REJECTED(when(history, release_cmd("h3"), at(t0 + 3 * hour)),
                                 rejection_code::hold_already_resolved, "release_hold.hold_id");
            }
        }
        WHEN("the open hold is released at its deadline, before any sweep") {
            THEN("hold_expired at release_hold.hold_id: the sweeper records it") {
                REQUIRE_REJECTED(when(history, release_cmd("h1"), at(t0 + hour)),
                                 rejection_code::hold_expired, "release_hold.hold_id");
            }
        }
    }
}

// =================================================================================================
// expire_holds
// =================================================================================================

SCENARIO("expire_holds records the holds whose deadline has passed, in deadline order",
         "[ledger][holds][expire]") {
    GIVEN(
        "holds due at t0 + 1h (partly captured), t0 + 2h, t0 + 3h, placed out of deadline order") {
        auto history = books_plus({held("c", "cash", "equity", 3'00, t0 + 3 * hour),
                                   held("b", "wallet", "merchant", 2'00, t0 + 2 * hour),
                                   held("a", "cash", "merchant", 10'00, t0 + hour),
                                   captured("a", "ca", 4'00, 0, "cash", "merchant")});
        WHEN("expire_holds runs at t0 + 2h") {
            auto decision = when(history, expire_cmd(), at(t0 + 2 * hour));
            THEN(
                "a and b (deadline == now included) expire, with what was not captured; c does "
                "not") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{expired("a", 6'00, "cash", "merchant"),
                                                   expired("b", 2'00, "wallet", "merchant")});
            }
            THEN("evolve marks them expired and takes them off the pending sums; c still counts") {
                auto state = given(plus(history, decision.value()));
                CHECK(hold_in(state, "a").status() == v1::HOLD_STATUS_EXPIRED);
                CHECK(hold_in(state, "a").captured_minor() == 4'00);
                CHECK(hold_in(state, "b").status() == v1::HOLD_STATUS_EXPIRED);
                CHECK(hold_in(state, "c").status() == v1::HOLD_STATUS_OPEN);
                CHECK(account_in(state, "cash").debits_pending_minor() == 3'00);
                CHECK(account_in(state, "merchant").credits_pending_minor() == 0);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 0);
                CHECK(account_in(state, "equity").credits_pending_minor() == 3'00);
                CHECK(account_in(state, "cash").debits_minor() == 100'00 + 4'00);
                CHECK(pending_at(state, "cash", t0 + 2 * hour).debits == 3'00);
                CHECK(pending_at(state, "cash", t0 + 3 * hour).debits == 0);
                AND_THEN("the next run before c's deadline finds nothing") {
                    REQUIRE_REJECTED(ledger::decide(expire_cmd(), state, at(t0 + 3 * hour - 1)),
                                     rejection_code::no_expired_holds, "expire_holds.book_id");
                }
                AND_THEN("the next run at c's deadline expires c alone") {
                    CHECK(ledger::decide(expire_cmd(), state, at(t0 + 3 * hour)).value() ==
                          events_t{expired("c", 3'00, "cash", "equity")});
                }
            }
        }
        WHEN("expire_holds runs 1 ms before the first deadline") {
            THEN("no_expired_holds at expire_holds.book_id") {
                REQUIRE_REJECTED(when(history, expire_cmd(), at(t0 + hour - 1)),
                                 rejection_code::no_expired_holds, "expire_holds.book_id");
            }
        }
        WHEN("expire_holds runs for another book") {
            auto cmd = expire_cmd();
            cmd.book = book_id{"other"};
            THEN("no_expired_holds: holds are per book") {
                REQUIRE_REJECTED(when(history, cmd, at(t0 + 5 * hour)),
                                 rejection_code::no_expired_holds, "expire_holds.book_id");
            }
        }
    }
    GIVEN("holds that were captured or released before their deadline") {
        auto history =
            books_plus({held("a", "cash", "merchant", 1'00), held("b", "cash", "merchant", 1'00),
                        captured("a", "ca", 1'00, 0, "cash", "merchant"),
                        released("b", 1'00, "cash", "merchant")});
        WHEN("expire_holds runs after their deadline") {
            THEN("no_expired_holds: resolved holds do not expire") {
                REQUIRE_REJECTED(when(history, expire_cmd(), at(t0 + 5 * hour)),
                                 rejection_code::no_expired_holds, "expire_holds.book_id");
            }
        }
    }
    GIVEN("a book without holds") {
        WHEN("expire_holds runs") {
            THEN("no_expired_holds") {
                REQUIRE_REJECTED(when(books(), expire_cmd(), at(t0 + 5 * hour)),
                                 rejection_code::no_expired_holds, "expire_holds.book_id");
            }
        }
        WHEN("the book id is invalid") {
            auto cmd = expire_cmd();
            cmd.book = book_id{""};
            THEN("book_id_invalid at expire_holds.book_id") {
                REQUIRE_REJECTED(when(books(), cmd), rejection_code::book_id_invalid,
                                 "expire_holds.book_id");
            }
        }
    }
}

SCENARIO("expire_holds records at most expire_holds_batch_max holds per command",
         "[ledger][holds][expire]") {
    GIVEN("expire_holds_batch_max + 1 holds past their deadline and one that is not") {
        const std::size_t n = expire_holds_batch_max + 1;
        auto history = books();
        for (std::size_t i = 0; i < n; ++i)
            history.push_back(held("h" + std::to_string(i), "cash", "merchant", 1,
                                   t0 + 1 + static_cast<std::int64_t>(i)));
        history.push_back(held("later", "cash", "merchant", 1, t0 + hour));
        auto state = given(history);
        const auto now = test_ctx(t0 + hour - 1);
        WHEN("expire_holds runs three times, evolving each result") {
            auto first = ledger::decide(expire_cmd(), state, now);
            REQUIRE(first.has_value());
            for (const auto& e : *first) ledger::evolve(state, e);
            auto second = ledger::decide(expire_cmd(), state, now);
            REQUIRE(second.has_value());
            for (const auto& e : *second) ledger::evolve(state, e);
            auto third = ledger::decide(expire_cmd(), state, now);
            THEN("the first records the batch maximum, earliest deadlines first") {
                REQUIRE(first->size() == expire_holds_batch_max);
                for (std::size_t i = 0; i < first->size(); ++i) {
                    REQUIRE(std::holds_alternative<events::hold_expired>((*first)[i]));
                    REQUIRE(std::get<events::hold_expired>((*first)[i]) ==
                            expired("h" + std::to_string(i), 1, "cash", "merchant"));
                }
            }
            THEN("the second records the one left, the third finds nothing") {
                CHECK(second.value() ==
                      events_t{expired("h" + std::to_string(n - 1), 1, "cash", "merchant")});
                REQUIRE_REJECTED(third, rejection_code::no_expired_holds, "expire_holds.book_id");
            }
            THEN("only the hold not yet due still counts") {
                CHECK(account_in(state, "cash").debits_pending_minor() == 1);
                CHECK(account_in(state, "merchant").credits_pending_minor() == 1);
                CHECK(hold_in(state, "later").status() == v1::HOLD_STATUS_OPEN);
                CHECK(hold_in(state, "h0").status() == v1::HOLD_STATUS_EXPIRED);
                CHECK(hold_in(state, "h" + std::to_string(n - 1)).status() ==
                      v1::HOLD_STATUS_EXPIRED);
            }
        }
    }
}

// =================================================================================================
// reverse_entry
// =================================================================================================

SCENARIO("an entry is reversed once by a mirrored entry", "[ledger][reversal]") {
    GIVEN(
        "entry e1: cash 40.00 against revenue 30.00 and equity 10.00, memo 'sale', on 2024-02-15") {
        auto e1_legs = std::vector<leg>{debit("cash", 40'00), credit("revenue", 30'00),
                                        credit("equity", 10'00)};
        auto history = books_plus({posted_from(post("e1", e1_legs, "2024-02-15", "sale"))});
        auto mirrored = std::vector<leg>{credit("cash", 40'00), debit("revenue", 30'00),
                                         debit("equity", 10'00)};
        WHEN("it is reversed without date or memo") {
            auto decision = when(history, reverse_cmd("e1", "r1"));
            THEN(
                "entry_posted mirrors every leg, is dated today (UTC), says 'Reversal of e1' and "
                "links e1") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{reversal_posted("e1", "r1", mirrored, "2024-03-01")});
            }
            THEN("evolve links both entries and nets the balances out") {
                auto state = given(plus(history, decision.value()));
                auto r1 = entry_in(state, "r1");
                auto e1 = entry_in(state, "e1");
                CHECK(r1.reversal_of() == "e1");
                CHECK(r1.reversed_by().empty());
                CHECK(e1.reversed_by() == "r1");
                CHECK(e1.reversal_of().empty());
                CHECK(r1.memo() == "Reversal of e1");
                REQUIRE(r1.legs_size() == 3);
                CHECK(same_leg(r1.legs(0), leg_of("cash", v1::SIDE_CREDIT, 40'00)));
                CHECK(same_leg(r1.legs(1), leg_of("revenue", v1::SIDE_DEBIT, 30'00)));
                CHECK(same_leg(r1.legs(2), leg_of("equity", v1::SIDE_DEBIT, 10'00)));
                auto cash = account_in(state, "cash");
                CHECK(cash.debits_minor() == 140'00);
                CHECK(cash.credits_minor() == 40'00);
                auto revenue = account_in(state, "revenue");
                CHECK(revenue.debits_minor() == 30'00);
                CHECK(revenue.credits_minor() == 30'00);
            }
        }
        WHEN("it is reversed with a date and a memo") {
            auto decision = when(history, reverse_cmd("e1", "r1", "2024-03-05", "wrong customer"));
            THEN("they are used") {
                auto e = only_event<entry_posted>(decision);
                CHECK(e.effective_date == "2024-03-05");
                CHECK(e.memo == "wrong customer");
                CHECK(e.reversal_of == entry_id{"e1"});
                CHECK(e.legs == mirrored);
            }
        }
        WHEN("the default date is taken at the last and first millisecond of a UTC day") {
            THEN("it is the UTC date of now") {
                CHECK(only_event<entry_posted>(
                          when(history, reverse_cmd("e1", "r1"), at(next_day_ms - 1)))
                          .effective_date == "2024-03-01");
                CHECK(only_event<entry_posted>(
                          when(history, reverse_cmd("e1", "r1"), at(next_day_ms)))
                          .effective_date == "2024-03-02");
            }
        }
        WHEN("the period of e1 is closed and the reversal is dated after the lock") {
            THEN("it is accepted: only the reversal's own date matters") {
                CHECK(when(plus(history, {period_closed_ev("2024-02-29")}), reverse_cmd("e1", "r1"))
                          .has_value());
            }
        }
        WHEN("e1 was reversed by r1") {
            auto h = plus(history, {reversal_posted("e1", "r1", mirrored)});
            THEN("reversing e1 again is entry_already_reversed at reverse_entry.entry_id") {
                REQUIRE_REJECTED(when(h, reverse_cmd("e1", "r2")),
                                 rejection_code::entry_already_reversed, "reverse_entry.entry_id");
            }
            THEN("reversing r1 is entry_is_reversal at reverse_entry.entry_id") {
                REQUIRE_REJECTED(when(h, reverse_cmd("r1", "r2")),
                                 rejection_code::entry_is_reversal, "reverse_entry.entry_id");
            }
            THEN("r1's id is an entry like any other: other content under it is refused") {
                REQUIRE_REJECTED(when(h, post("r1", {debit("cash", 1), credit("revenue", 1)})),
                                 rejection_code::entry_exists_with_different_legs,
                                 "post_entry.legs");
            }
        }
    }
    GIVEN("a capture c1 of 10.00 from wallet to merchant") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00),
                                   captured("h1", "c1", 10'00, 0, "wallet", "merchant")});
        WHEN("the capture's entry is reversed") {
            auto decision = when(history, reverse_cmd("c1", "r1"));
            THEN("its legs are mirrored; the hold is not touched") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() ==
                      events_t{reversal_posted(
                          "c1", "r1", {credit("wallet", 10'00), debit("merchant", 10'00)})});
                auto state = given(plus(history, decision.value()));
                CHECK(hold_in(state, "h1").captured_minor() == 10'00);
                CHECK(hold_in(state, "h1").status() == v1::HOLD_STATUS_OPEN);
                CHECK(account_in(state, "wallet").debits_pending_minor() == 20'00);
                CHECK(account_in(state, "wallet").credits_minor() == 110'00);
            }
        }
    }
}

SCENARIO("reverse_entry rejections", "[ledger][reversal][rejection]") {
    GIVEN("entries e1 (cash/revenue 1.00) and fund (cash/wallet 100.00)") {
        auto history = books_plus({posted("e1", {debit("cash", 1'00), credit("revenue", 1'00)})});
        WHEN("the book id is invalid") {
            auto cmd = reverse_cmd("e1", "r1");
            cmd.book = book_id{""};
            THEN("book_id_invalid at reverse_entry.book_id") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "reverse_entry.book_id");
            }
        }
        WHEN("the entry id is invalid") {
            THEN("entry_id_invalid at reverse_entry.entry_id") {
                REQUIRE_REJECTED(when(history, reverse_cmd("", "r1")),
                                 rejection_code::entry_id_invalid, "reverse_entry.entry_id");
            }
        }
        WHEN("the reversal's entry id is invalid") {
            auto bad = GENERATE(std::string(""), std::string("r 1"),
                                std::string(limits::id_bytes_max + 1, 'r'));
            THEN("entry_id_invalid at reverse_entry.reversal_entry_id") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e1", bad)),
                                 rejection_code::entry_id_invalid,
                                 "reverse_entry.reversal_entry_id");
            }
        }
        WHEN("the effective date is invalid") {
            auto bad = GENERATE(std::string("2024-02-30"), std::string("tomorrow"));
            THEN("effective_date_invalid at reverse_entry.effective_date") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e1", "r1", bad)),
                                 rejection_code::effective_date_invalid,
                                 "reverse_entry.effective_date");
            }
        }
        WHEN("the memo is one byte too long") {
            THEN("memo_too_long at reverse_entry.memo") {
                REQUIRE_REJECTED(
                    when(history,
                         reverse_cmd("e1", "r1", "", std::string(limits::memo_bytes_max + 1, 'm'))),
                    rejection_code::memo_too_long, "reverse_entry.memo");
            }
        }
        WHEN("the entry does not exist") {
            THEN("entry_not_found at reverse_entry.entry_id") {
                REQUIRE_REJECTED(when(history, reverse_cmd("ghost", "r1")),
                                 rejection_code::entry_not_found, "reverse_entry.entry_id");
            }
        }
        WHEN("the reversal's entry id exists (also the entry's own id)") {
            auto id = GENERATE(std::string("fund"), std::string("e1"));
            THEN("entry_already_exists at reverse_entry.reversal_entry_id") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e1", id)),
                                 rejection_code::entry_already_exists,
                                 "reverse_entry.reversal_entry_id");
            }
        }
        WHEN(
            "an account of the entry was closed since (revenue is back at zero after e1's "
            "counter-entry)") {
            auto h = plus(history, {posted("back", {debit("revenue", 1'00), credit("cash", 1'00)}),
                                    closed_ev("revenue")});
            THEN("account_closed at reverse_entry.legs[1].account_id") {
                REQUIRE_REJECTED(when(h, reverse_cmd("e1", "r1")), rejection_code::account_closed,
                                 "reverse_entry.legs[1].account_id");
            }
        }
        WHEN("the reversal would overflow cash's credits") {
            auto h = plus(
                history,
                {posted("big", {debit("equity", int64_max - 50), credit("cash", int64_max - 50)})});
            THEN("amount_overflow at reverse_entry.legs[0].amount_minor") {
                REQUIRE_REJECTED(when(h, reverse_cmd("e1", "r1")), rejection_code::amount_overflow,
                                 "reverse_entry.legs[0].amount_minor");
            }
        }
    }
    GIVEN("wallet funded with 100.00 by 'fund' and 80.00 of it spent") {
        auto history =
            books_plus({posted("spend", {debit("wallet", 80'00), credit("merchant", 80'00)})});
        WHEN("the funding is reversed (wallet would be debited 180.00 against 100.00)") {
            THEN("exceeds_credits at reverse_entry.legs[1].amount_minor") {
                REQUIRE_REJECTED(when(history, reverse_cmd("fund", "r1")),
                                 rejection_code::exceeds_credits,
                                 "reverse_entry.legs[1].amount_minor");
            }
        }
        WHEN("the spend is reversed") {
            THEN("it is accepted: it credits wallet") {
                CHECK(when(history, reverse_cmd("spend", "r1")).has_value());
            }
        }
        WHEN("the funding is reversed after the spend was reversed") {
            auto h = plus(history,
                          {reversal_posted("spend", "rs",
                                           {credit("wallet", 80'00), debit("merchant", 80'00)})});
            THEN("it is accepted") { CHECK(when(h, reverse_cmd("fund", "r1")).has_value()); }
        }
        WHEN(
            "the funding is reversed while a hold of 1.00 counts on wallet, after the spend's "
            "reversal") {
            auto h =
                plus(history, {reversal_posted("spend", "rs",
                                               {credit("wallet", 80'00), debit("merchant", 80'00)}),
                               held("h1", "wallet", "merchant", 1'00)});
            THEN("exceeds_credits: the hold counts; after its deadline it is accepted") {
                REQUIRE_REJECTED(when(h, reverse_cmd("fund", "r1")),
                                 rejection_code::exceeds_credits,
                                 "reverse_entry.legs[1].amount_minor");
                CHECK(when(h, reverse_cmd("fund", "r1"), at(t0 + hour)).has_value());
            }
        }
    }
    GIVEN("capped (credits <= debits + 50.00) debited 10.00 by d and credited 60.00") {
        auto history = books_plus({posted("d", {debit("capped", 10'00), credit("revenue", 10'00)}),
                                   posted("c", {debit("cash", 60'00), credit("capped", 60'00)})});
        WHEN("d is reversed (capped credited 10.00 more: 70.00 against 10.00 + 50.00)") {
            THEN("exceeds_debits at reverse_entry.legs[0].amount_minor") {
                REQUIRE_REJECTED(when(history, reverse_cmd("d", "r1")),
                                 rejection_code::exceeds_debits,
                                 "reverse_entry.legs[0].amount_minor");
            }
        }
    }
}

SCENARIO("reverse_entry reports the first broken rule", "[ledger][reversal][precedence]") {
    GIVEN(
        "e1 reversed by r1, r1 itself (wrongly) reversed by r2, e2 open, period closed through "
        "2024-02-29") {
        auto history =
            books_plus({posted("e1", {debit("cash", 1'00), credit("revenue", 1'00)}),
                        reversal_posted("e1", "r1", {credit("cash", 1'00), debit("revenue", 1'00)}),
                        reversal_posted("r1", "r2", {debit("cash", 1'00), credit("revenue", 1'00)}),
                        posted("e2", {debit("cash", 2'00), credit("revenue", 2'00)}),
                        period_closed_ev("2024-02-29")});
        const std::string long_memo(limits::memo_bytes_max + 1, 'm');
        WHEN("book id and entry id are both invalid") {
            auto cmd = reverse_cmd("", "r9");
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "reverse_entry.book_id");
            }
        }
        WHEN("entry id and reversal id are both invalid") {
            THEN("entry_id_invalid at the entry id") {
                REQUIRE_REJECTED(when(history, reverse_cmd("", "")),
                                 rejection_code::entry_id_invalid, "reverse_entry.entry_id");
            }
        }
        WHEN("the reversal id and the date are both invalid") {
            THEN("entry_id_invalid at the reversal id") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e2", "", "2024-13-01")),
                                 rejection_code::entry_id_invalid,
                                 "reverse_entry.reversal_entry_id");
            }
        }
        WHEN("date and memo are both invalid") {
            THEN("effective_date_invalid") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e2", "r9", "2024-13-01", long_memo)),
                                 rejection_code::effective_date_invalid,
                                 "reverse_entry.effective_date");
            }
        }
        WHEN("the memo is too long and the entry does not exist") {
            THEN("memo_too_long") {
                REQUIRE_REJECTED(when(history, reverse_cmd("ghost", "r9", "", long_memo)),
                                 rejection_code::memo_too_long, "reverse_entry.memo");
            }
        }
        WHEN("the entry does not exist and the reversal id does") {
            THEN("entry_not_found") {
                REQUIRE_REJECTED(when(history, reverse_cmd("ghost", "e1")),
                                 rejection_code::entry_not_found, "reverse_entry.entry_id");
            }
        }
        WHEN("the entry is a reversal and was itself reversed") {
            THEN("entry_is_reversal") {
                REQUIRE_REJECTED(when(history, reverse_cmd("r1", "r9")),
                                 rejection_code::entry_is_reversal, "reverse_entry.entry_id");
            }
        }
        WHEN("the entry was reversed and the date is in the closed period") {
            THEN("entry_already_reversed") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e1", "r9", "2024-02-01")),
                                 rejection_code::entry_already_reversed, "reverse_entry.entry_id");
            }
        }
        WHEN("the date is in the closed period and the reversal id exists") {
            THEN("period_closed") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e2", "e1", "2024-02-29")),
                                 rejection_code::period_closed, "reverse_entry.effective_date");
            }
        }
    }
    GIVEN("e1 (cash/revenue 1.00), revenue closed, and cash credited INT64_MAX - 50") {
        auto history = books_plus(
            {posted("e1", {debit("cash", 1'00), credit("revenue", 1'00)}),
             posted("big", {debit("equity", int64_max - 50), credit("cash", int64_max - 50)}),
             closed_ev("revenue")});
        WHEN("the reversal id exists and an account is closed") {
            THEN("entry_already_exists") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e1", "big")),
                                 rejection_code::entry_already_exists,
                                 "reverse_entry.reversal_entry_id");
            }
        }
        WHEN("the reversal overflows cash (legs[0]) and revenue (legs[1]) is closed") {
            THEN("account_closed: accounts are loaded before any amount is checked") {
                REQUIRE_REJECTED(when(history, reverse_cmd("e1", "r1")),
                                 rejection_code::account_closed,
                                 "reverse_entry.legs[1].account_id");
            }
        }
    }
}

// =================================================================================================
// close_period and reopen_period
// =================================================================================================

SCENARIO("a closed period locks effective dates up to and including its date", "[ledger][period]") {
    GIVEN("the book with a hold h1 and an entry e1 of 2024-02-10") {
        auto history = books_plus(
            {held("h1", "wallet", "merchant", 30'00),
             posted_on("e1", {debit("cash", 1'00), credit("revenue", 1'00)}, "2024-02-10")});
        WHEN("alice closes the period through 2024-02-29") {
            auto decision = when(history, close_period_cmd("2024-02-29"));
            THEN("period_closed records the date and alice") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{period_closed_ev("2024-02-29", "alice")});
            }
            auto locked = plus(history, decision.value());
            THEN(
                "postings on or before 2024-02-29 are period_closed at post_entry.effective_date") {
                auto date = GENERATE(std::string("2024-02-29"), std::string("2024-02-01"),
                                     std::string("1900-01-01"));
                REQUIRE_REJECTED(
                    when(locked, post("e2", {debit("cash", 1), credit("revenue", 1)}, date)),
                    rejection_code::period_closed, "post_entry.effective_date");
            }
            THEN("postings from 2024-03-01 on are accepted") {
                CHECK(
                    when(locked, post("e2", {debit("cash", 1), credit("revenue", 1)}, "2024-03-01"))
                        .has_value());
            }
            THEN("captures dated in the period are period_closed at capture_hold.effective_date") {
                REQUIRE_REJECTED(when(locked, capture_cmd("h1", "c1", 1, false, "2024-02-29")),
                                 rejection_code::period_closed, "capture_hold.effective_date");
                CHECK(when(locked, capture_cmd("h1", "c1", 1, false, "2024-03-01")).has_value());
            }
            THEN(
                "reversals dated in the period are period_closed at reverse_entry.effective_date") {
                REQUIRE_REJECTED(when(locked, reverse_cmd("e1", "r1", "2024-02-29")),
                                 rejection_code::period_closed, "reverse_entry.effective_date");
            }
            THEN("holds are not dated and are not locked") {
                CHECK(when(locked, hold_cmd("h2", "cash", "merchant", 1)).has_value());
            }
            THEN("other books are not locked") {
                auto h = locked;
                for (const char* a : {"cash", "revenue"}) {
                    auto o = opened_from(open_acct(a));
                    o.book = book_id{"other"};
                    h.push_back(o);
                }
                auto cmd = post("e2", {debit("cash", 1), credit("revenue", 1)}, "2024-02-01");
                cmd.book = book_id{"other"};
                CHECK(when(h, cmd).has_value());
            }
        }
        WHEN("the period is closed through today and a reversal takes the default date") {
            auto locked = plus(history, {period_closed_ev("2024-03-01")});
            THEN("period_closed for today's date, accepted from tomorrow's clock on") {
                REQUIRE_REJECTED(when(locked, reverse_cmd("e1", "r1")),
                                 rejection_code::period_closed, "reverse_entry.effective_date");
                CHECK(when(locked, reverse_cmd("e1", "r1"), at(next_day_ms)).has_value());
            }
        }
    }
}

SCENARIO("a closed period still takes process managers' postings until it is sealed", "[ledger][period][seal]") {
    GIVEN("the book with a hold h1 and an entry e1, closed through 2024-02-29") {
        auto history = books_plus({held("h1", "wallet", "merchant", 30'00),
                                   posted_on("e1", {debit("cash", 1'00), credit("revenue", 1'00)}, "2024-02-10"),
                                   period_closed_ev("2024-02-29")});
        WHEN("a process manager posts, captures or reverses into the period") {
            THEN("it is accepted (its cause, an invoice of the period, came before the close)") {
                CHECK(when(history, post("e2", {debit("cash", 1), credit("revenue", 1)}, "2024-02-20"), as_process_manager())
                          .has_value());
                CHECK(when(history, capture_cmd("h1", "c1", 1, false, "2024-02-29"), as_process_manager()).has_value());
                CHECK(when(history, reverse_cmd("e1", "r1", "2024-02-29"), as_process_manager()).has_value());
            }
        }
        WHEN("the period is sealed through 2024-02-29") {
            auto sealed = plus(history, {period_sealed_ev("2024-02-29")});
            THEN("nobody posts into it: period_sealed, process managers included") {
                for (const auto& ctx : {test_ctx(), as_process_manager()}) {
                    REQUIRE_REJECTED(when(sealed, post("e2", {debit("cash", 1), credit("revenue", 1)}, "2024-02-20"), ctx),
                                     rejection_code::period_sealed, "post_entry.effective_date");
                    REQUIRE_REJECTED(when(sealed, capture_cmd("h1", "c1", 1, false, "2024-02-29"), ctx),
                                     rejection_code::period_sealed, "capture_hold.effective_date");
                    REQUIRE_REJECTED(when(sealed, reverse_cmd("e1", "r1", "2024-02-29"), ctx), rejection_code::period_sealed,
                                     "reverse_entry.effective_date");
                }
            }
            THEN("the next day is open") {
                CHECK(when(sealed, post("e2", {debit("cash", 1), credit("revenue", 1)}, "2024-03-01")).has_value());
            }
            THEN("it cannot be reopened, not even by another person: period_sealed at reopen_period.through_date") {
                auto through = GENERATE(std::string(""), std::string("2024-01-31"));
                REQUIRE_REJECTED(when(sealed, reopen_period_cmd(through), as_bob()), rejection_code::period_sealed,
                                 "reopen_period.through_date");
            }
            THEN("a later lock can still be reopened down to the sealed date") {
                auto h = plus(sealed, {period_closed_ev("2024-03-31")});
                auto decision = when(h, reopen_period_cmd("2024-02-29"), as_bob());
                CHECK(decision.value() == events_t{period_reopened_ev("2024-02-29", "bob")});
                REQUIRE_REJECTED(when(plus(h, decision.value()),
                                      post("e2", {debit("cash", 1), credit("revenue", 1)}, "2024-02-29")),
                                 rejection_code::period_sealed, "post_entry.effective_date");
            }
        }
    }
}

SCENARIO("seal_period records the trial balance's hash and the chain heads of a closed period", "[ledger][period][seal]") {
    GIVEN("the book closed through 2024-02-29 by alice") {
        auto history = books_plus({period_closed_ev("2024-02-29")});
        WHEN("alice seals it through 2024-02-29 or an earlier date") {
            auto through = GENERATE(std::string("2024-02-29"), std::string("2024-01-31"));
            auto decision = when(history, seal_period_cmd(through));
            THEN("period_sealed carries the evidence and the sealer") {
                CHECK(decision.value() == events_t{period_sealed_ev(through, "alice")});
            }
        }
        WHEN("it is sealed past the closed date") {
            THEN("period_not_closed at seal_period.through_date") {
                REQUIRE_REJECTED(when(history, seal_period_cmd("2024-03-01")), rejection_code::period_not_closed,
                                 "seal_period.through_date");
            }
        }
        WHEN("it is sealed again at or before the sealed date") {
            auto h = plus(history, {period_sealed_ev("2024-02-29")});
            auto through = GENERATE(std::string("2024-02-29"), std::string("2024-02-01"));
            THEN("period_already_sealed at seal_period.through_date") {
                REQUIRE_REJECTED(when(h, seal_period_cmd(through)), rejection_code::period_already_sealed,
                                 "seal_period.through_date");
            }
        }
        WHEN("the evidence is malformed") {
            THEN("seal_evidence_invalid at the field") {
                for (const auto& bad : {std::string(""), std::string(63, 'a'), std::string(64, 'A'), std::string(64, 'g')})
                    REQUIRE_REJECTED(when(history, seal_period_cmd("2024-02-29", bad)), rejection_code::seal_evidence_invalid,
                                     "seal_period.trial_balance_sha256");
                const auto h = std::string(64, 'b');
                for (const auto& bad : {std::string(""), std::string("0:7"), "0:7:" + h + ",0:9:" + h, "x:7:" + h, "0::" + h,
                                        "0:7:" + h + ",", "0:7:" + h.substr(1), ":7:" + h})
                    REQUIRE_REJECTED(when(history, seal_period_cmd("2024-02-29", std::string(64, 'a'), bad)),
                                     rejection_code::seal_evidence_invalid, "seal_period.chain_heads");
                CHECK(when(history, seal_period_cmd("2024-02-29", std::string(64, 'a'), "0:7:" + h + ",3:1:" + h)).has_value());
            }
        }
    }
    GIVEN("the book with nothing closed") {
        THEN("period_not_closed at seal_period.through_date") {
            REQUIRE_REJECTED(when(books(), seal_period_cmd("2024-02-29")), rejection_code::period_not_closed,
                             "seal_period.through_date");
        }
    }
    GIVEN("rules in order") {
        auto history = books_plus({period_closed_ev("2024-02-29")});
        THEN("book_id_invalid, effective_date_invalid, seal_evidence_invalid, period_already_sealed, period_not_closed") {
            auto cmd = seal_period_cmd("nope", "x", "y");
            cmd.book = book_id{""};
            REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid, "seal_period.book_id");
            REQUIRE_REJECTED(when(history, seal_period_cmd("2024-02-30", "x", "y")), rejection_code::effective_date_invalid,
                             "seal_period.through_date");
            REQUIRE_REJECTED(when(history, seal_period_cmd("2024-03-31", "x", "y")), rejection_code::seal_evidence_invalid,
                             "seal_period.trial_balance_sha256");
            REQUIRE_REJECTED(when(plus(history, {period_sealed_ev("2024-02-29")}), seal_period_cmd("2024-01-31")),
                             rejection_code::period_already_sealed, "seal_period.through_date");
        }
    }
}

SCENARIO("close_period moves the lock forward only", "[ledger][period]") {
    GIVEN("the period closed through 2024-02-29 by alice") {
        auto history = books_plus({period_closed_ev("2024-02-29")});
        WHEN("it is closed through the same or an earlier date") {
            auto date = GENERATE(std::string("2024-02-29"), std::string("2024-01-31"));
            THEN("period_already_closed at close_period.through_date") {
                REQUIRE_REJECTED(when(history, close_period_cmd(date)),
                                 rejection_code::period_already_closed,
                                 "close_period.through_date");
                REQUIRE_REJECTED(when(history, close_period_cmd(date), as_bob()),
                                 rejection_code::period_already_closed,
                                 "close_period.through_date");
            }
        }
        WHEN("bob closes it through 2024-03-31") {
            auto decision = when(history, close_period_cmd("2024-03-31"), as_bob());
            THEN("the lock moves forward and bob is the closer") {
                CHECK(decision.value() == events_t{period_closed_ev("2024-03-31", "bob")});
                auto h = plus(history, decision.value());
                REQUIRE_REJECTED(
                    when(h, post("e1", {debit("cash", 1), credit("revenue", 1)}, "2024-03-31")),
                    rejection_code::period_closed, "post_entry.effective_date");
                REQUIRE_REJECTED(when(h, reopen_period_cmd(), as_bob()),
                                 rejection_code::reopen_requires_other_actor,
                                 "reopen_period.book_id");
                CHECK(when(h, reopen_period_cmd()).has_value());
            }
        }
    }
    GIVEN("the book") {
        WHEN("the through date is invalid") {
            auto bad =
                GENERATE(std::string(""), std::string("2024-02-30"), std::string("2024-2-1"));
            THEN("effective_date_invalid at close_period.through_date") {
                REQUIRE_REJECTED(when(books(), close_period_cmd(bad)),
                                 rejection_code::effective_date_invalid,
                                 "close_period.through_date");
            }
        }
        WHEN("the book id is invalid") {
            auto cmd = close_period_cmd("2024-02-29");
            cmd.book = book_id{""};
            THEN("book_id_invalid at close_period.book_id") {
                REQUIRE_REJECTED(when(books(), cmd), rejection_code::book_id_invalid,
                                 "close_period.book_id");
            }
        }
    }
}

SCENARIO("a closed period is reopened by another actor", "[ledger][period]") {
    GIVEN("the period closed through 2024-02-29 by alice") {
        auto history = books_plus({period_closed_ev("2024-02-29", "alice")});
        WHEN("alice reopens it") {
            THEN("reopen_requires_other_actor at reopen_period.book_id") {
                REQUIRE_REJECTED(when(history, reopen_period_cmd()),
                                 rejection_code::reopen_requires_other_actor,
                                 "reopen_period.book_id");
            }
        }
        WHEN("bob reopens it completely") {
            auto decision = when(history, reopen_period_cmd(), as_bob());
            THEN(
                "period_reopened names bob; afterwards the period is open and can be closed "
                "again") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{period_reopened_ev("", "bob")});
                auto h = plus(history, decision.value());
                CHECK(when(h, post("e1", {debit("cash", 1), credit("revenue", 1)}, "2024-02-29"))
                          .has_value());
                REQUIRE_REJECTED(when(h, reopen_period_cmd(), as_bob()),
                                 rejection_code::period_not_closed, "reopen_period.book_id");
                CHECK(when(h, close_period_cmd("2024-01-31")).value() ==
                      events_t{period_closed_ev("2024-01-31")});
            }
        }
        WHEN("bob moves the lock back to 2024-01-31") {
            auto decision = when(history, reopen_period_cmd("2024-01-31"), as_bob());
            THEN("dates after it open again, dates up to it stay locked") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == events_t{period_reopened_ev("2024-01-31", "bob")});
                auto h = plus(history, decision.value());
                CHECK(when(h, post("e1", {debit("cash", 1), credit("revenue", 1)}, "2024-02-01"))
                          .has_value());
                REQUIRE_REJECTED(
                    when(h, post("e1", {debit("cash", 1), credit("revenue", 1)}, "2024-01-31")),
                    rejection_code::period_closed, "post_entry.effective_date");
                CHECK(when(h, close_period_cmd("2024-02-01")).has_value());
                REQUIRE_REJECTED(when(h, close_period_cmd("2024-01-31")),
                                 rejection_code::period_already_closed,
                                 "close_period.through_date");
            }
        }
        WHEN("bob reopens to the lock's date, a later date or no calendar date") {
            auto bad = GENERATE(std::string("2024-02-29"), std::string("2024-03-01"),
                                std::string("2024-02-30"), std::string("someday"));
            THEN("reopen_date_invalid at reopen_period.through_date") {
                REQUIRE_REJECTED(when(history, reopen_period_cmd(bad), as_bob()),
                                 rejection_code::reopen_date_invalid, "reopen_period.through_date");
            }
        }
        WHEN("the book id is invalid") {
            auto cmd = reopen_period_cmd();
            cmd.book = book_id{""};
            THEN("book_id_invalid at reopen_period.book_id") {
                REQUIRE_REJECTED(when(history, cmd, as_bob()), rejection_code::book_id_invalid,
                                 "reopen_period.book_id");
            }
        }
    }
    GIVEN("a book whose period was never closed") {
        WHEN("bob reopens it") {
            THEN("period_not_closed at reopen_period.book_id") {
                REQUIRE_REJECTED(when(books(), reopen_period_cmd(), as_bob()),
                                 rejection_code::period_not_closed, "reopen_period.book_id");
            }
        }
        WHEN("another book's period is closed") {
            auto cmd = reopen_period_cmd();
            cmd.book = book_id{"other"};
            THEN("period_not_closed: locks are per book") {
                REQUIRE_REJECTED(when(books_plus({period_closed_ev("2024-02-29")}), cmd, as_bob()),
                                 rejection_code::period_not_closed, "reopen_period.book_id");
            }
        }
    }
}

SCENARIO("close_period and reopen_period report the first broken rule",
         "[ledger][period][precedence]") {
    GIVEN("the period closed through 2024-02-29 by alice") {
        auto history = books_plus({period_closed_ev("2024-02-29", "alice")});
        WHEN("close_period has an invalid book id and an invalid date") {
            auto cmd = close_period_cmd("x");
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "close_period.book_id");
            }
        }
        WHEN("close_period has an invalid date that sorts before the lock") {
            THEN("effective_date_invalid") {
                REQUIRE_REJECTED(when(history, close_period_cmd("2024-02-30x")),
                                 rejection_code::effective_date_invalid,
                                 "close_period.through_date");
                REQUIRE_REJECTED(when(history, close_period_cmd("")),
                                 rejection_code::effective_date_invalid,
                                 "close_period.through_date");
            }
        }
        WHEN("alice reopens to an invalid date") {
            THEN("reopen_requires_other_actor") {
                REQUIRE_REJECTED(when(history, reopen_period_cmd("2024-03-15")),
                                 rejection_code::reopen_requires_other_actor,
                                 "reopen_period.book_id");
            }
        }
    }
    GIVEN("a book whose period was never closed") {
        WHEN("reopen_period has an invalid date") {
            THEN("period_not_closed") {
                REQUIRE_REJECTED(when(books(), reopen_period_cmd("nope"), as_bob()),
                                 rejection_code::period_not_closed, "reopen_period.book_id");
            }
        }
        WHEN("reopen_period has an invalid book id and nothing is closed") {
            auto cmd = reopen_period_cmd();
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(books(), cmd, as_bob()), rejection_code::book_id_invalid,
                                 "reopen_period.book_id");
            }
        }
    }
}

// =================================================================================================
// amount_overflow before exceeds_* across accounts
// =================================================================================================

// Overflow of any account is checked before any account's constraints (aggregates/ledger.h).
SCENARIO("an overflow of a later account beats a broken constraint of an earlier one",
         "[ledger][precedence][constraints]") {
    GIVEN("equity credited and merchant's pending credits at INT64_MAX - 10") {
        auto history = books_plus(
            {posted("big", {debit("revenue", int64_max - 10), credit("equity", int64_max - 10)}),
             held("hbig", "revenue", "merchant", int64_max - 10)});
        WHEN("an entry overdraws wallet (legs[0]) and overflows equity (legs[1])") {
            auto cmd = post("e1", {debit("wallet", 100'01), credit("equity", 100'01)});
            THEN("amount_overflow at post_entry.legs[1].amount_minor") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::amount_overflow,
                                 "post_entry.legs[1].amount_minor");
            }
        }
        WHEN("a hold overdraws wallet (debit) and overflows merchant's pending credits") {
            auto cmd = hold_cmd("h1", "wallet", "merchant", 100'01);
            THEN("amount_overflow at place_hold.amount_minor") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::amount_overflow,
                                 "place_hold.amount_minor");
            }
        }
    }
}

// =================================================================================================
// decide stays pure for the new commands
// =================================================================================================

SCENARIO("decide never changes the state, for holds, reversals, constraints and periods",
         "[ledger][decide][holds]") {
    GIVEN("a book with open, partly captured and expired holds and a closed period") {
        auto state = given(books_plus({held("h1", "wallet", "merchant", 30'00),
                                       held("h2", "cash", "merchant", 10'00, t0 + 10),
                                       captured("h1", "c1", 10'00, 0, "wallet", "merchant"),
                                       period_closed_ev("2024-02-10")}));
        const auto before = state.rows();
        auto cmd =
            GENERATE(as<ledger::command>{}, hold_cmd("h3", "wallet", "merchant", 5'00),
                     increase_cmd("h1", 5'00), capture_cmd("h1", "c2", 20'00, true),
                     release_cmd("h1"), release_cmd("h2"), expire_cmd(), reverse_cmd("c1", "r1"),
                     reverse_cmd("fund", "r1"), constraints_cmd("cash", debit_cap(0)),
                     constraints_cmd("wallet", credit_cap(0)), close_cmd("revenue"),
                     reopen_cmd("revenue"), close_period_cmd("2024-02-20"), reopen_period_cmd());
        WHEN("it is decided twice (accepted or rejected) at a clock past h2's deadline") {
            auto first = ledger::decide(cmd, state, at(t0 + 20));
            auto second = ledger::decide(cmd, state, at(t0 + 20));
            THEN("the rows are unchanged and the answers equal") {
                CHECK(state.rows() == before);
                REQUIRE(first.has_value() == second.has_value());
                if (first.has_value())
                    CHECK(first.value() == second.value());
                else
                    CHECK(first.error() == second.error());
            }
        }
    }
}

// =================================================================================================
// Property: random command streams keep the ledger's invariants
// =================================================================================================

namespace {

struct account_spec {
    std::string id;
    std::string currency;
};

// Every invariant the ledger keeps at `now`; empty when all hold, else what is broken.
std::string broken_invariants(const events::keyed_state& state, std::int64_t now,
                              const std::vector<account_spec>& accounts,
                              const std::vector<std::string>& open_holds) {
    std::ostringstream out;
    const book_id b{book};
    // Expected pending sums from the open holds: stored (all open) and effective (not past
    // deadline).
    struct sums {
        int128 debits = 0, credits = 0, eff_debits = 0, eff_credits = 0;
    };
    std::map<std::string, sums> expected;
    for (const auto& id : open_holds) {
        auto h = ledger::find_hold(state, b, hold_id{id});
        if (!h) {
            out << "hold " << id << " vanished; ";
            continue;
        }
        if (h->captured_minor() < 0 || h->captured_minor() > h->held_minor())
            out << "hold " << id << " captured " << h->captured_minor() << " of " << h->held_minor()
                << "; ";
        if (h->status() != v1::HOLD_STATUS_OPEN) continue;
        if (h->captured_minor() >= h->held_minor())
            out << "open hold " << id << " is fully captured; ";
        const int128 remaining = int128{h->held_minor()} - h->captured_minor();
        expected[h->debit_account_id()].debits += remaining;
        expected[h->credit_account_id()].credits += remaining;
        if (h->expires_at_ms() > now) {
            expected[h->debit_account_id()].eff_debits += remaining;
            expected[h->credit_account_id()].eff_credits += remaining;
        }
    }
    std::map<std::string, int128> net_by_currency;
    for (const auto& spec : accounts) {
        auto a = ledger::find_account(state, b, account_id{spec.id});
        if (!a) {
            out << "account " << spec.id << " vanished; ";
            continue;
        }
        net_by_currency[a->currency()] += int128{a->debits_minor()} - a->credits_minor();
        const auto eff = ledger::effective_pending(state, b, *a, now);
        const auto& e = expected[spec.id];
        if (a->debits_pending_minor() < 0 || a->credits_pending_minor() < 0 || eff.debits < 0 ||
            eff.credits < 0)
            out << spec.id << " has a negative pending sum (" << a->debits_pending_minor() << ", "
                << a->credits_pending_minor() << ", effective " << eff.debits << ", " << eff.credits
                << "); ";
        if (a->debits_pending_minor() != e.debits || a->credits_pending_minor() != e.credits)
            out << spec.id << " pending " << a->debits_pending_minor() << "/"
                << a->credits_pending_minor() << " but its open holds sum to "
                << to_decimal(e.debits) << "/" << to_decimal(e.credits) << "; ";
        if (eff.debits != e.eff_debits || eff.credits != e.eff_credits)
            out << spec.id << " effective pending " << eff.debits << "/" << eff.credits
                << " but its holds not past their deadline sum to " << to_decimal(e.eff_debits)
                << "/" << to_decimal(e.eff_credits) << "; ";
        const auto& c = a->constraints();
        if (c.debits_must_not_exceed_credits() && c.credits_must_not_exceed_debits())
            out << spec.id << " has both constraint flags; ";
        if (c.limit_minor() < 0) out << spec.id << " has a negative limit; ";
        if (c.debits_must_not_exceed_credits() &&
            int128{a->debits_minor()} + eff.debits > int128{a->credits_minor()} + c.limit_minor())
            out << spec.id << " breaks debits <= credits + " << c.limit_minor() << ": "
                << a->debits_minor() << " + " << eff.debits << " pending > " << a->credits_minor()
                << "; ";
        if (c.credits_must_not_exceed_debits() &&
            int128{a->credits_minor()} + eff.credits > int128{a->debits_minor()} + c.limit_minor())
            out << spec.id << " breaks credits <= debits + " << c.limit_minor() << ": "
                << a->credits_minor() << " + " << eff.credits << " pending > " << a->debits_minor()
                << "; ";
    }
    for (const auto& [currency, net] : net_by_currency)
        if (net != 0)
            out << "posted debits and credits in " << currency << " differ by " << to_decimal(net)
                << "; ";
    return out.str();
}

// Entries are balanced per currency and reversal links point both ways.
std::string broken_entries(const events::keyed_state& state,
                           const std::vector<std::string>& entries) {
    std::ostringstream out;
    const book_id b{book};
    for (const auto& id : entries) {
        auto e = ledger::find_entry(state, b, entry_id{id});
        if (!e) {
            out << "entry " << id << " vanished; ";
            continue;
        }
        std::map<std::string, int128> net;
        for (const auto& l : e->legs())
            net[l.currency()] +=
                l.side() == v1::SIDE_DEBIT ? int128{l.amount_minor()} : -int128{l.amount_minor()};
        for (const auto& [currency, n] : net)
            if (n != 0) out << "entry " << id << " is unbalanced in " << currency << "; ";
        if (!e->reversed_by().empty()) {
            auto r = ledger::find_entry(state, b, entry_id{e->reversed_by()});
            if (!r || r->reversal_of() != id)
                out << "entry " << id << " has a dangling reversed_by; ";
        }
        if (!e->reversal_of().empty()) {
            auto o = ledger::find_entry(state, b, entry_id{e->reversal_of()});
            if (!o || o->reversed_by() != id)
                out << "entry " << id << " has a dangling reversal_of; ";
        }
    }
    return out.str();
}

class random_ledger {
public:
    explicit random_ledger(std::uint64_t seed) : rng_(seed) {
        accounts_ = {{"bank", "USD"},     {"equity", "USD"}, {"w1", "USD"},
                     {"w2", "USD"},       {"c1", "USD"},     {"ops", "USD"},
                     {"eur_bank", "EUR"}, {"e1", "EUR"},     {"e2", "EUR"}};
        std::vector<open_account> opens;
        for (const auto& a : accounts_)
            opens.push_back(open_acct(a.id, a.currency, account_type::asset));
        opens[2].limits = debit_cap(0);
        opens[3].limits = debit_cap(5'00);
        opens[4].limits = credit_cap(20'00);
        opens[7].limits = debit_cap(0);
        for (const auto& o : opens) REQUIRE(apply(o));
    }

    std::int64_t now() const { return now_; }
    const events::memory_state& state() const { return state_; }
    const std::vector<account_spec>& accounts() const { return accounts_; }
    const std::vector<std::string>& open_holds() const { return open_holds_; }
    const std::vector<std::string>& entries() const { return entries_; }
    const std::map<std::string, int>& accepted() const { return accepted_; }
    const std::map<rejection_code, int>& rejected() const { return rejected_; }

    // Decides one random command at the current clock; evolves it when accepted. Returns what was
    // decided, for the failure message.
    std::string step() {
        if (chance(40)) now_ += uniform(0, 3'000);
        if (chance(2)) now_ += uniform(10'000, 120'000);
        const auto pick = uniform(0, 99);
        ledger::command cmd = expire_cmd();
        if (pick < 22)
            cmd = random_post();
        else if (pick < 42)
            cmd = random_place();
        else if (pick < 50)
            cmd = increase_cmd(some_hold(), amount());
        else if (pick < 65)
            cmd = random_capture();
        else if (pick < 71)
            cmd = release_cmd(some_hold());
        else if (pick < 77)
            cmd = expire_cmd();
        else if (pick < 86)
            cmd = random_reverse();
        else if (pick < 93)
            cmd = random_constraints();
        else if (pick < 95)
            cmd = close_cmd(some_account().id);
        else if (pick < 97)
            cmd = reopen_cmd(some_account().id);
        else if (pick < 98)
            cmd = close_period_cmd(some_date());
        else
            cmd = reopen_period_cmd();
        const bool as_other = std::holds_alternative<reopen_period>(cmd);
        auto decision = decide_and_apply(cmd, as_other ? "bob" : "alice");
        std::ostringstream out;
        out << name_of(cmd) << " at now " << now_ << ": ";
        if (decision)
            out << "accepted (" << decision->size() << " events)";
        else
            out << "rejected " << daybook::name_of(decision.error().code) << " at "
                << decision.error().field;
        return out.str();
    }

private:
    static std::string name_of(const ledger::command& cmd) {
        static const char* names[] = {"open_account",  "post_entry",     "set_account_constraints",
                                      "close_account", "reopen_account", "place_hold",
                                      "increase_hold", "capture_hold",   "release_hold",
                                      "expire_holds",  "reverse_entry",  "close_period",
                                      "reopen_period", "set_book_calendar", "set_account_mapping",
                                      "seal_period"};
        return names[cmd.index()];
    }

    bool apply(const ledger::command& cmd) { return decide_and_apply(cmd, "alice").has_value(); }

    result<std::vector<ledger::event>> decide_and_apply(const ledger::command& cmd,
                                                        const std::string& actor) {
        auto decision = ledger::decide(cmd, state_, test_ctx(now_, actor));
        if (!decision) {
            ++rejected_[decision.error().code];
            return decision;
        }
        ++accepted_[name_of(cmd)];
        for (const auto& e : *decision) {
            ledger::evolve(state_, e);
            if (const auto* p = std::get_if<entry_posted>(&e)) entries_.push_back(p->entry.value);
            if (const auto* c = std::get_if<hold_captured>(&e)) entries_.push_back(c->entry.value);
            if (const auto* h = std::get_if<hold_placed>(&e)) open_holds_.push_back(h->hold.value);
        }
        // Resolved holds never reopen: keep only the open ones.
        std::erase_if(open_holds_, [&](const std::string& id) {
            auto h = ledger::find_hold(state_, book_id{book}, hold_id{id});
            if (h && h->status() != v1::HOLD_STATUS_OPEN) resolved_holds_.push_back(id);
            return h && h->status() != v1::HOLD_STATUS_OPEN;
        });
        return decision;
    }

    std::int64_t uniform(std::int64_t lo, std::int64_t hi) {
        return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
    }
    bool chance(int percent) { return uniform(0, 99) < percent; }
    std::int64_t amount() { return chance(5) ? uniform(1, 1'000'000) : uniform(1, 2'500); }
    std::string fresh(const char* prefix) { return prefix + std::to_string(next_id_++); }
    std::string some_date() {
        static const char* dates[] = {"2024-02-28", "2024-03-01", "2024-03-02", "2024-03-03"};
        return dates[uniform(0, 3)];
    }
    const account_spec& some_account() {
        return accounts_[static_cast<std::size_t>(uniform(0, 8))];
    }
    // Distinct accounts of one currency (USD mostly).
    std::vector<std::string> some_accounts(std::size_t n, std::string& currency) {
        currency = chance(75) ? "USD" : "EUR";
        std::vector<std::string> pool;
        for (const auto& a : accounts_)
            if (a.currency == currency) pool.push_back(a.id);
        std::shuffle(pool.begin(), pool.end(), rng_);
        pool.resize(std::min(n, pool.size()));
        return pool;
    }
    std::string some_hold() {
        if (!open_holds_.empty() && chance(85))
            return open_holds_[static_cast<std::size_t>(
                uniform(0, static_cast<std::int64_t>(open_holds_.size()) - 1))];
        if (!resolved_holds_.empty() && chance(80))
            return resolved_holds_[static_cast<std::size_t>(
                uniform(0, static_cast<std::int64_t>(resolved_holds_.size()) - 1))];
        return "nohold";
    }
    std::string some_entry() {
        if (entries_.empty() || chance(3)) return "noentry";
        return entries_[static_cast<std::size_t>(
            uniform(0, static_cast<std::int64_t>(entries_.size()) - 1))];
    }

    post_entry random_post() {
        std::string currency;
        auto ids = some_accounts(3, currency);
        const auto x = amount();
        if (chance(20)) {
            const auto y = amount();
            return post(fresh("e"),
                        {debit(ids[0], x + y, currency), credit(ids[1], x, currency),
                         credit(ids[2], y, currency)},
                        some_date());
        }
        if (chance(4) && !entries_.empty())
            return post(some_entry(), {debit(ids[0], x, currency), credit(ids[1], x, currency)});
        return post(fresh("e"), {debit(ids[0], x, currency), credit(ids[1], x, currency)},
                    some_date());
    }
    place_hold random_place() {
        std::string currency;
        auto ids = some_accounts(2, currency);
        const auto expires = chance(4) ? now_ - uniform(0, 1'000) : now_ + uniform(1, 40'000);
        return hold_cmd(fresh("h"), ids[0], ids[1], amount(), expires, currency);
    }
    events::capture_hold random_capture() {
        auto id = some_hold();
        std::int64_t remaining = 1;
        if (auto h = ledger::find_hold(state_, book_id{book}, hold_id{id}))
            remaining = h->held_minor() - h->captured_minor();
        std::int64_t amt = chance(10) ? remaining + uniform(1, 100)
                                      : uniform(1, std::max<std::int64_t>(1, remaining));
        if (chance(25)) amt = std::max<std::int64_t>(1, remaining);
        return capture_cmd(id, chance(3) ? some_entry() : fresh("c"), amt, chance(30), some_date());
    }
    reverse_entry random_reverse() {
        return reverse_cmd(some_entry(), fresh("r"), chance(50) ? "" : some_date());
    }
    set_account_constraints random_constraints() {
        const auto& a = some_account();
        const auto kind = uniform(0, 9);
        if (kind < 4) return constraints_cmd(a.id, debit_cap(uniform(0, 3'000)));
        if (kind < 8) return constraints_cmd(a.id, credit_cap(uniform(0, 3'000)));
        if (kind < 9) return constraints_cmd(a.id, no_constraints());
        return constraints_cmd(a.id, constraints{true, true, 0});
    }

    std::mt19937_64 rng_;
    events::memory_state state_;
    std::int64_t now_ = t0;
    std::vector<account_spec> accounts_;
    std::vector<std::string> open_holds_, resolved_holds_, entries_;
    std::map<std::string, int> accepted_;
    std::map<rejection_code, int> rejected_;
    int next_id_ = 0;
};

}  // namespace

TEST_CASE("random command streams keep the ledger's invariants",
          "[ledger][property][holds][constraints]") {
    const std::uint64_t seed =
        GENERATE(std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{7}, std::uint64_t{42},
                 std::uint64_t{20240301}, std::uint64_t{0x5eed'cafe'f00d});
    constexpr int steps = 3'000;
    INFO("seed " << seed << " (std::mt19937_64; rerun with this seed to reproduce)");
    random_ledger run(seed);
    REQUIRE(broken_invariants(run.state(), run.now(), run.accounts(), run.open_holds()).empty());
    for (int i = 0; i < steps; ++i) {
        const auto what = run.step();
        INFO("step " << i << ": " << what);
        // Invariants at the clock of the command: balanced books, constraints with effective
        // pending, pending sums equal to (and never below) what the open holds still reserve.
        const auto broken =
            broken_invariants(run.state(), run.now(), run.accounts(), run.open_holds());
        REQUIRE(broken == "");
        if (i % 250 == 249) REQUIRE(broken_entries(run.state(), run.entries()) == "");
    }
    REQUIRE(broken_entries(run.state(), run.entries()) == "");

    // The run must have exercised what it claims to test.
    INFO("accepted: " << [&] {
        std::ostringstream out;
        for (const auto& [k, v] : run.accepted()) out << k << "=" << v << " ";
        return out.str();
    }());
    INFO("rejected: " << [&] {
        std::ostringstream out;
        for (const auto& [k, v] : run.rejected()) out << daybook::name_of(k) << "=" << v << " ";
        return out.str();
    }());
    const auto& acc = run.accepted();
    const auto& rej = run.rejected();
    auto accepted_count = [&](const std::string& k) { return acc.count(k) ? acc.at(k) : 0; };
    auto rejected_count = [&](rejection_code c) { return rej.count(c) ? rej.at(c) : 0; };
    CHECK(accepted_count("post_entry") >= 100);
    CHECK(accepted_count("place_hold") >= 100);
    CHECK(accepted_count("increase_hold") >= 20);
    CHECK(accepted_count("capture_hold") >= 50);
    CHECK(accepted_count("release_hold") >= 20);
    CHECK(accepted_count("expire_holds") >= 10);
    CHECK(accepted_count("reverse_entry") >= 50);
    CHECK(accepted_count("set_account_constraints") >= 20);
    CHECK(rejected_count(rejection_code::exceeds_credits) +
              rejected_count(rejection_code::exceeds_debits) >=
          50);
    CHECK(rejected_count(rejection_code::hold_expired) >= 5);
    CHECK(rejected_count(rejection_code::hold_already_resolved) >= 5);
}

// =================================================================================================
// Fiscal years, period 13 and close_year
// =================================================================================================

namespace {

using events::book_calendar_set;
using events::close_year;
using events::year_closed;

// Fiscal years from July to June; sales and rent around the year ending 2025-06-30.
history_t fiscal_books() {
    return books_plus({book_calendar_set{book_id{book}, 0, 0, 7},
                       opened("rent", "USD", account_type::expense),
                       posted_on("e1", {debit("cash", 500), credit("revenue", 500)}, "2024-06-15"),   // the year before
                       posted_on("e2", {debit("cash", 1000), credit("revenue", 1000)}, "2024-07-01"),
                       posted_on("e3", {debit("rent", 300), credit("cash", 300)}, "2025-03-10"),
                       posted_on("e4", {debit("cash", 200), credit("revenue", 200)}, "2025-06-30"),
                       posted_on("e5", {debit("cash", 70), credit("revenue", 70)}, "2025-07-01")});  // the year after
}

close_year close_year_cmd(std::string end = "2025-06-30", std::string entry = "close-fy25", std::string re = "equity") {
    return close_year{book_id{book}, std::move(end), entry_id{std::move(entry)}, account_id{std::move(re)}, ""};
}

post_entry adjustment(std::string entry, std::vector<leg> legs, std::string date = "2025-06-30") {
    auto c = post(std::move(entry), std::move(legs), std::move(date));
    c.adjustment = true;
    return c;
}

}  // namespace

SCENARIO("close_year moves the fiscal year's revenue and expenses to retained earnings, then the year is closed",
         "[ledger][year-end]") {
    GIVEN("fiscal years from July, the year ending 2025-06-30 closed as a period") {
        auto history = plus(fiscal_books(), {period_closed_ev("2025-06-30")});
        WHEN("alice closes the year into equity") {
            auto decision = when(history, close_year_cmd());
            THEN("one closing entry dated the year's last day: only that year's movements, the result to equity") {
                REQUIRE(decision.has_value());
                events_t expected{
                    entry_posted{book_id{book}, entry_id{"close-fy25"}, "2025-06-30", "Closing of the fiscal year ending 2025-06-30",
                                 {credit("rent", 300), debit("revenue", 1200), credit("equity", 900)}, {}, false, true},
                    year_closed{book_id{book}, "2025-06-30", entry_id{"close-fy25"}, "alice"}};
                CHECK(decision.value() == expected);
            }
            auto closed = plus(history, decision.value());
            THEN("revenue keeps only the other years' movements; equity holds the year's result") {
                auto s = given(closed);
                CHECK(account_in(s, "revenue").credits_minor() - account_in(s, "revenue").debits_minor() == 500 + 70);
                CHECK(account_in(s, "rent").debits_minor() - account_in(s, "rent").credits_minor() == 0);
                CHECK(account_in(s, "equity").credits_minor() == 900);
            }
            THEN("nothing more enters the year: year_closed for process managers, adjustments and reopening") {
                REQUIRE_REJECTED(when(closed, post("late", {debit("cash", 1), credit("revenue", 1)}, "2025-05-01"), as_process_manager()),
                                 rejection_code::year_closed, "post_entry.effective_date");
                REQUIRE_REJECTED(when(closed, adjustment("adj", {debit("cash", 1), credit("revenue", 1)})),
                                 rejection_code::year_closed, "post_entry.effective_date");
                REQUIRE_REJECTED(when(closed, reopen_period_cmd(), as_bob()), rejection_code::year_closed,
                                 "reopen_period.through_date");
                REQUIRE_REJECTED(when(closed, close_year_cmd("2025-06-30", "again")), rejection_code::year_already_closed,
                                 "close_year.fiscal_year_end");
                REQUIRE_REJECTED(when(closed, events::set_book_calendar{book_id{book}, 0, 0, 1}), rejection_code::calendar_invalid,
                                 "set_book_calendar.fiscal_year_start_month");
                CHECK(when(closed, events::set_book_calendar{book_id{book}, 60, 0, 7}).has_value());  // the same year, another offset
            }
            THEN("the next year is open and is closed in its turn") {
                CHECK(when(closed, post("next", {debit("cash", 1), credit("revenue", 1)}, "2025-07-02")).has_value());
                auto later = plus(closed, {period_closed_ev("2026-06-30", "alice")});
                auto next = when(later, close_year_cmd("2026-06-30", "close-fy26"));
                REQUIRE(next.has_value());
                CHECK(std::get<entry_posted>(next->front()).legs == std::vector<leg>{debit("revenue", 70), credit("equity", 70)});
            }
        }
        WHEN("nothing moved in the year") {
            auto quiet = plus(books_plus({period_closed_ev("2023-12-31")}), {});
            auto decision = when(quiet, close_year_cmd("2023-12-31"));
            THEN("only year_closed, without a closing entry") {
                CHECK(decision.value() == events_t{year_closed{book_id{book}, "2023-12-31", entry_id{}, "alice"}});
            }
        }
    }
}

SCENARIO("period 13: audit adjustments dated the year's last day, after its close and before close_year", "[ledger][year-end]") {
    GIVEN("fiscal years from July, the year ending 2025-06-30 closed as a period") {
        auto history = plus(fiscal_books(), {period_closed_ev("2025-06-30")});
        WHEN("an auditor's adjustment is dated 2025-06-30") {
            auto decision = when(history, adjustment("adj1", {debit("rent", 50), credit("cash", 50)}));
            THEN("it is accepted and marked as an adjustment") {
                REQUIRE(decision.has_value());
                auto e = std::get<entry_posted>(decision->front());
                CHECK(e.adjustment);
                CHECK_FALSE(e.closing);
            }
            THEN("close_year includes it") {
                auto closing = when(plus(history, decision.value()), close_year_cmd());
                REQUIRE(closing.has_value());
                CHECK(std::get<entry_posted>(closing->front()).legs ==
                      std::vector<leg>{credit("rent", 350), debit("revenue", 1200), credit("equity", 850)});
            }
        }
        WHEN("the same entry is not marked as an adjustment") {
            THEN("period_closed") {
                REQUIRE_REJECTED(when(history, post("adj1", {debit("rent", 50), credit("cash", 50)}, "2025-06-30")),
                                 rejection_code::period_closed, "post_entry.effective_date");
            }
        }
        WHEN("an adjustment is dated another day than a fiscal year's last") {
            auto date = GENERATE(std::string("2025-06-29"), std::string("2024-12-31"), std::string("2025-07-01"));
            THEN("adjustment_date_invalid at post_entry.effective_date") {
                REQUIRE_REJECTED(when(history, adjustment("adj1", {debit("rent", 50), credit("cash", 50)}, date)),
                                 rejection_code::adjustment_date_invalid, "post_entry.effective_date");
            }
        }
        WHEN("an adjustment is dated the end of a year not closed yet") {
            THEN("adjustment_period_not_closed at post_entry.effective_date") {
                REQUIRE_REJECTED(when(history, adjustment("adj1", {debit("rent", 50), credit("cash", 50)}, "2026-06-30")),
                                 rejection_code::adjustment_period_not_closed, "post_entry.effective_date");
            }
        }
        WHEN("the period is sealed") {
            THEN("period_sealed comes first") {
                REQUIRE_REJECTED(when(plus(history, {period_sealed_ev("2025-06-30")}), adjustment("adj1", {debit("rent", 50), credit("cash", 50)})),
                                 rejection_code::period_sealed, "post_entry.effective_date");
            }
        }
    }
}

SCENARIO("close_year and the fiscal calendar report the first broken rule", "[ledger][year-end]") {
    auto history = plus(fiscal_books(), {period_closed_ev("2025-06-30")});
    auto with = [](close_year c, auto change) { change(c); return c; };
    struct rule_case {
        const char* name;
        history_t history;
        close_year command;
        rejection_code code;
        const char* field;
    };
    auto revenue_eur = plus(history, {opened("sales-eur", "EUR", account_type::revenue),
                                      posted_on("x1", {debit("eur_cash", 5, "EUR"), credit("sales-eur", 5, "EUR")}, "2025-01-01")});
    auto closed_re = plus(history, {events::account_closed{book_id{book}, account_id{"equity"}}});
    std::vector<rule_case> cases{
        {"date", history, close_year_cmd("2025-06-31"), rejection_code::effective_date_invalid, "close_year.fiscal_year_end"},
        {"not a year end", history, close_year_cmd("2024-12-31"), rejection_code::fiscal_year_end_invalid, "close_year.fiscal_year_end"},
        {"entry id", history, close_year_cmd("2025-06-30", ""), rejection_code::entry_id_invalid, "close_year.entry_id"},
        {"account id", history, close_year_cmd("2025-06-30", "c", "bad id"), rejection_code::account_id_invalid,
         "close_year.retained_earnings_account_id"},
        {"memo", history, with(close_year_cmd(), [](auto& c) { c.memo = std::string(limits::memo_bytes_max + 1, 'm'); }),
         rejection_code::memo_too_long, "close_year.memo"},
        {"sealed", plus(history, {period_sealed_ev("2025-06-30")}), close_year_cmd(), rejection_code::period_sealed,
         "close_year.fiscal_year_end"},
        {"not closed", fiscal_books(), close_year_cmd(), rejection_code::period_not_closed, "close_year.fiscal_year_end"},
        {"entry exists", history, close_year_cmd("2025-06-30", "e1"), rejection_code::entry_already_exists, "close_year.entry_id"},
        {"no account", history, close_year_cmd("2025-06-30", "c", "nope"), rejection_code::account_not_found,
         "close_year.retained_earnings_account_id"},
        {"closed account", closed_re, close_year_cmd(), rejection_code::account_closed, "close_year.retained_earnings_account_id"},
        {"not equity", history, close_year_cmd("2025-06-30", "c", "cash"), rejection_code::retained_earnings_invalid,
         "close_year.retained_earnings_account_id"},
        {"currency", revenue_eur, close_year_cmd(), rejection_code::currency_mismatch, "close_year.retained_earnings_account_id"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        REQUIRE_REJECTED(when(c.history, c.command), c.code, c.field);
    }
    THEN("more P&L accounts than one closing entry holds: entry_too_many_legs") {
        auto many = history;
        for (std::size_t i = 0; i < limits::entry_legs_max; ++i) {
            auto id = "exp" + std::to_string(i);
            many.push_back(opened(id, "USD", account_type::expense));
            many.push_back(posted_on("m" + std::to_string(i), {debit(id, 1), credit("cash", 1)}, "2025-01-15"));
        }
        REQUIRE_REJECTED(when(many, close_year_cmd()), rejection_code::entry_too_many_legs, "close_year.fiscal_year_end");
    }
    THEN("fiscal_year_start_month above 12: calendar_invalid") {
        REQUIRE_REJECTED(when(books(), events::set_book_calendar{book_id{book}, 0, 0, 13}), rejection_code::calendar_invalid,
                         "set_book_calendar.fiscal_year_start_month");
    }
    THEN("a calendar fiscal year ends on 31 December") {
        auto calendar = books_plus({posted_on("s", {debit("cash", 9), credit("revenue", 9)}, "2024-05-05"), period_closed_ev("2024-12-31")});
        REQUIRE_REJECTED(when(calendar, close_year_cmd("2024-06-30")), rejection_code::fiscal_year_end_invalid,
                         "close_year.fiscal_year_end");
        auto d = when(calendar, close_year_cmd("2024-12-31"));
        REQUIRE(d.has_value());
        CHECK(std::get<entry_posted>(d->front()).legs == std::vector<leg>{debit("revenue", 9), credit("equity", 9)});
    }
}
