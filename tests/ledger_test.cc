// The general-ledger decider as specifications: given events, when a command, then events or a
// rejection (code and field path). The rule order is the one documented in aggregates/ledger.h.

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "aggregates/ledger.h"
#include "events/limits.h"
#include "tests/test_support.h"

namespace {

using namespace daybook;
using namespace daybook::test;
using history_t = std::vector<ledger::event>;

constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// A small chart of accounts in two currencies.
history_t chart() {
    return {
        opened("cash"),
        opened("revenue", "USD", account_type::revenue),
        opened("equity", "USD", account_type::equity),
        opened("eur_cash", "EUR"),
        opened("eur_revenue", "EUR", account_type::revenue),
    };
}

history_t chart_plus(std::vector<ledger::event> more) {
    auto h = chart();
    h.insert(h.end(), more.begin(), more.end());
    return h;
}

// n legs of 1 USD, alternating debit cash / credit revenue (balanced when n is even).
std::vector<leg> alternating_legs(std::size_t n) {
    std::vector<leg> legs;
    for (std::size_t i = 0; i < n; ++i)
        legs.push_back(i % 2 == 0 ? debit("cash", 1) : credit("revenue", 1));
    return legs;
}

// Two balanced legs cash/revenue in USD.
std::vector<leg> sale(std::int64_t amount = 100'00) {
    return {debit("cash", amount), credit("revenue", amount)};
}

// cash has debits and equity has credits of int64_max - 10: 11 more of either overflows.
history_t near_max() {
    return chart_plus({posted("capital", {debit("cash", int64_max - 10),
                                          credit("equity", int64_max - 10)})});
}

}  // namespace

// ---- Accepted commands --------------------------------------------------------------------------

SCENARIO("an account is opened in an empty book", "[ledger][open_account]") {
    GIVEN("no history") {
        WHEN("a valid account is opened") {
            auto cmd = open_acct("cash", "USD", account_type::asset, 2);
            auto decision = when({}, cmd);
            THEN("exactly one account_opened carrying every field of the command is decided") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == std::vector<ledger::event>{opened_from(cmd)});
            }
        }
        WHEN("the identifiers, name, currency and scale are at their limits") {
            auto cmd = open_acct(std::string(limits::id_bytes_max, 'a'), "ABCDEFGHIJ12",
                                 account_type::expense, limits::currency_scale_max);
            cmd.book = book_id{std::string(limits::id_bytes_max, 'b')};
            cmd.name = std::string(limits::account_name_bytes_max, 'n');
            auto decision = when({}, cmd);
            THEN("it is accepted") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == std::vector<ledger::event>{opened_from(cmd)});
            }
        }
    }
    GIVEN("an account cash in book acme") {
        auto history = history_t{opened("cash")};
        WHEN("an account with the same id is opened in another book") {
            auto cmd = open_acct("cash");
            cmd.book = book_id{"other"};
            auto decision = when(history, cmd);
            THEN("it is accepted: accounts are per book") { CHECK(decision.has_value()); }
        }
    }
}

SCENARIO("every account type and currency or asset code shape is accepted", "[ledger][open_account]") {
    GIVEN("no history") {
        auto type = GENERATE(account_type::asset, account_type::liability, account_type::equity,
                             account_type::revenue, account_type::expense);
        auto currency = GENERATE(std::string("USD"), std::string("XAU"), std::string("USDC"),
                                 std::string("000"));
        WHEN("an account of that type and currency is opened") {
            auto cmd = open_acct("a1", currency, type, 0);
            auto decision = when({}, cmd);
            THEN("it is accepted") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == std::vector<ledger::event>{opened_from(cmd)});
            }
        }
    }
}

SCENARIO("balanced entries are posted", "[ledger][post_entry]") {
    GIVEN("a chart of accounts") {
        auto history = chart();
        WHEN("a two-leg entry is posted") {
            auto cmd = post("e1", sale(), "2024-03-01", "first sale");
            auto decision = when(history, cmd);
            THEN("exactly one entry_posted carrying the legs as given is decided") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == std::vector<ledger::event>{posted_from(cmd)});
            }
        }
        WHEN("a multi-leg entry is posted (one debit, two credits)") {
            auto cmd = post("e2", {debit("cash", 100), credit("revenue", 60), credit("equity", 40)});
            auto decision = when(history, cmd);
            THEN("it is accepted") {
                REQUIRE(decision.has_value());
                REQUIRE(decision->size() == 1);
                CHECK(std::get<entry_posted>(decision->front()).legs.size() == 3);
                CHECK(decision.value() == std::vector<ledger::event>{posted_from(cmd)});
            }
        }
        WHEN("a multi-currency entry balances in each currency") {
            auto cmd = post("fx", {debit("cash", 100), debit("eur_cash", 50, "EUR"),
                                   credit("revenue", 100), credit("eur_revenue", 50, "EUR")});
            auto decision = when(history, cmd);
            THEN("it is accepted") {
                REQUIRE(decision.has_value());
                CHECK(decision.value() == std::vector<ledger::event>{posted_from(cmd)});
            }
        }
        WHEN("the same account appears in several legs") {
            auto cmd = post("e3", {debit("cash", 30), debit("cash", 70), credit("revenue", 100)});
            THEN("it is accepted") { CHECK(when(history, cmd).has_value()); }
        }
        WHEN("the memo and the number of legs are at their limits") {
            auto cmd = post("e4", alternating_legs(limits::entry_legs_max), "2024-03-01",
                            std::string(limits::memo_bytes_max, 'm'));
            auto decision = when(history, cmd);
            THEN("it is accepted") {
                REQUIRE(decision.has_value());
                CHECK(std::get<entry_posted>(decision->front()).legs.size() ==
                      limits::entry_legs_max);
            }
        }
    }
}

// ---- Rejections of open_account -------------------------------------------------------------

SCENARIO("open_account with an invalid book id is rejected", "[ledger][rejection]") {
    GIVEN("no history") {
        auto bad = GENERATE(std::string(""), std::string("has space"), std::string("tab\there"),
                            std::string(limits::id_bytes_max + 1, 'b'), std::string("caf\xc3\xa9"));
        WHEN("the book id is '" + bad + "'") {
            auto cmd = open_acct("cash");
            cmd.book = book_id{bad};
            auto decision = when({}, cmd);
            THEN("book_id_invalid at open_account.book_id") {
                REQUIRE_REJECTED(decision, rejection_code::book_id_invalid, "open_account.book_id");
            }
        }
    }
}

SCENARIO("open_account with an invalid account id is rejected", "[ledger][rejection]") {
    GIVEN("no history") {
        auto bad = GENERATE(std::string(""), std::string("two words"),
                            std::string(limits::id_bytes_max + 1, 'a'), std::string("nul\0x", 5));
        WHEN("the account id is invalid") {
            auto decision = when({}, open_acct(bad));
            THEN("account_id_invalid at open_account.account_id") {
                REQUIRE_REJECTED(decision, rejection_code::account_id_invalid,
                                 "open_account.account_id");
            }
        }
    }
}

SCENARIO("open_account with an invalid name is rejected", "[ledger][rejection]") {
    GIVEN("no history") {
        auto bad = GENERATE(std::string(""), std::string(limits::account_name_bytes_max + 1, 'n'));
        WHEN("the name is empty or too long") {
            auto cmd = open_acct("cash");
            cmd.name = bad;
            auto decision = when({}, cmd);
            THEN("account_name_invalid at open_account.name") {
                REQUIRE_REJECTED(decision, rejection_code::account_name_invalid,
                                 "open_account.name");
            }
        }
    }
}

SCENARIO("open_account with an invalid type is rejected", "[ledger][rejection]") {
    GIVEN("no history") {
        auto bad = GENERATE(account_type::unspecified, static_cast<account_type>(6),
                            static_cast<account_type>(255));
        WHEN("the type is unspecified or out of range") {
            auto decision = when({}, open_acct("cash", "USD", bad));
            THEN("account_type_invalid at open_account.type") {
                REQUIRE_REJECTED(decision, rejection_code::account_type_invalid,
                                 "open_account.type");
            }
        }
    }
}

SCENARIO("open_account with an invalid currency is rejected", "[ledger][rejection]") {
    GIVEN("no history") {
        auto bad = GENERATE(std::string(""), std::string("US"), std::string("usd"),
                            std::string("US D"), std::string("EU-R"), std::string("ABCDEFGHIJKLM"));
        WHEN("the currency is '" + bad + "'") {
            auto decision = when({}, open_acct("cash", bad));
            THEN("currency_invalid at open_account.currency") {
                REQUIRE_REJECTED(decision, rejection_code::currency_invalid,
                                 "open_account.currency");
            }
        }
    }
}

SCENARIO("open_account with a scale above the maximum is rejected", "[ledger][rejection]") {
    GIVEN("no history") {
        WHEN("the scale is one above the maximum") {
            auto decision =
                when({}, open_acct("cash", "USD", account_type::asset, limits::currency_scale_max + 1));
            THEN("scale_too_large at open_account.scale") {
                REQUIRE_REJECTED(decision, rejection_code::scale_too_large, "open_account.scale");
            }
        }
    }
}

SCENARIO("opening an account that exists is rejected", "[ledger][rejection]") {
    GIVEN("an account cash") {
        auto history = history_t{opened("cash")};
        WHEN("cash is opened again, even with other attributes") {
            auto decision = when(history, open_acct("cash", "EUR", account_type::liability));
            THEN("account_already_exists at open_account.account_id") {
                REQUIRE_REJECTED(decision, rejection_code::account_already_exists,
                                 "open_account.account_id");
            }
        }
    }
}

// ---- Rejections of post_entry ---------------------------------------------------------------

SCENARIO("post_entry with an invalid book id is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        WHEN("the book id is empty") {
            auto cmd = post("e1", sale());
            cmd.book = book_id{""};
            auto decision = when(chart(), cmd);
            THEN("book_id_invalid at post_entry.book_id") {
                REQUIRE_REJECTED(decision, rejection_code::book_id_invalid, "post_entry.book_id");
            }
        }
    }
}

SCENARIO("post_entry with an invalid entry id is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto bad = GENERATE(std::string(""), std::string("e 1"),
                            std::string(limits::id_bytes_max + 1, 'e'));
        WHEN("the entry id is invalid") {
            auto decision = when(chart(), post(bad, sale()));
            THEN("entry_id_invalid at post_entry.entry_id") {
                REQUIRE_REJECTED(decision, rejection_code::entry_id_invalid, "post_entry.entry_id");
            }
        }
    }
}

SCENARIO("post_entry with an invalid effective date is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto bad = GENERATE(std::string(""), std::string("2024-3-01"), std::string("2024/03/01"),
                            std::string("20240301"), std::string("2024-03-01T00:00"),
                            std::string("2024-02-30"),   // February never has 30 days
                            std::string("2023-02-29"),   // not a leap year
                            std::string("1900-02-29"),   // century, not divisible by 400
                            std::string("2024-04-31"), std::string("2024-13-01"),
                            std::string("2024-00-10"), std::string("2024-01-00"),
                            std::string("1899-12-31"), std::string("2024-0a-01"),
                            std::string("+024-01-01"));
        WHEN("the effective date is '" + bad + "'") {
            auto decision = when(chart(), post("e1", sale(), bad));
            THEN("effective_date_invalid at post_entry.effective_date") {
                REQUIRE_REJECTED(decision, rejection_code::effective_date_invalid,
                                 "post_entry.effective_date");
            }
        }
    }
}

SCENARIO("real calendar dates, leap days included, are accepted", "[ledger][post_entry]") {
    GIVEN("a chart of accounts") {
        auto good = GENERATE(std::string("2024-02-29"), std::string("2000-02-29"),
                             std::string("1900-01-01"), std::string("9999-12-31"),
                             std::string("2023-02-28"), std::string("2024-04-30"));
        WHEN("the effective date is '" + good + "'") {
            auto decision = when(chart(), post("e1", sale(), good));
            THEN("the entry is accepted with that date") {
                REQUIRE(decision.has_value());
                CHECK(std::get<entry_posted>(decision->front()).effective_date == good);
            }
        }
    }
}

SCENARIO("post_entry with a memo above the limit is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        WHEN("the memo is one byte too long") {
            auto decision = when(chart(), post("e1", sale(), "2024-03-01",
                                               std::string(limits::memo_bytes_max + 1, 'm')));
            THEN("memo_too_long at post_entry.memo") {
                REQUIRE_REJECTED(decision, rejection_code::memo_too_long, "post_entry.memo");
            }
        }
    }
}

SCENARIO("post_entry with fewer than two legs is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto n = GENERATE(std::size_t{0}, std::size_t{1});
        WHEN("the entry has " + std::to_string(n) + " legs") {
            auto decision = when(chart(), post("e1", alternating_legs(n)));
            THEN("entry_too_few_legs at post_entry.legs") {
                REQUIRE_REJECTED(decision, rejection_code::entry_too_few_legs, "post_entry.legs");
            }
        }
    }
}

SCENARIO("post_entry with more legs than the limit is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        WHEN("the entry has entry_legs_max + 1 legs") {
            auto legs = alternating_legs(limits::entry_legs_max + 1);  // every leg valid alone
            auto decision = when(chart(), post("e1", legs));
            THEN("entry_too_many_legs at post_entry.legs") {
                REQUIRE(legs.size() == limits::entry_legs_max + 1);
                REQUIRE_REJECTED(decision, rejection_code::entry_too_many_legs, "post_entry.legs");
            }
        }
    }
}

SCENARIO("a leg with an invalid account id is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto bad = GENERATE(std::string(""), std::string("petty cash"),
                            std::string(limits::id_bytes_max + 1, 'a'));
        WHEN("the second leg's account id is invalid") {
            auto decision = when(chart(), post("e1", {debit("cash", 100), credit(bad, 100)}));
            THEN("account_id_invalid at post_entry.legs[1].account_id") {
                REQUIRE_REJECTED(decision, rejection_code::account_id_invalid,
                                 "post_entry.legs[1].account_id");
            }
        }
    }
}

SCENARIO("a leg without a valid side is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto bad = GENERATE(side::unspecified, static_cast<side>(3));
        WHEN("the second leg's side is neither debit nor credit") {
            auto legs = sale();
            legs[1].direction = bad;
            auto decision = when(chart(), post("e1", legs));
            THEN("leg_side_invalid at post_entry.legs[1].side") {
                REQUIRE_REJECTED(decision, rejection_code::leg_side_invalid,
                                 "post_entry.legs[1].side");
            }
        }
    }
}

SCENARIO("a leg with an amount that is not positive is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto bad = GENERATE(std::int64_t{0}, std::int64_t{-1}, std::int64_t{-100'00},
                            std::numeric_limits<std::int64_t>::min());
        WHEN("the second leg's amount is " + std::to_string(bad)) {
            auto decision = when(chart(), post("e1", {debit("cash", 100), credit("revenue", bad)}));
            THEN("amount_must_be_positive at post_entry.legs[1].amount_minor") {
                REQUIRE_REJECTED(decision, rejection_code::amount_must_be_positive,
                                 "post_entry.legs[1].amount_minor");
            }
        }
    }
}

SCENARIO("a leg with an invalid currency is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        auto bad = GENERATE(std::string(""), std::string("usd"), std::string("U$D"));
        WHEN("the second leg's currency is '" + bad + "'") {
            auto decision =
                when(chart(), post("e1", {debit("cash", 100), credit("revenue", 100, bad)}));
            THEN("currency_invalid at post_entry.legs[1].currency") {
                REQUIRE_REJECTED(decision, rejection_code::currency_invalid,
                                 "post_entry.legs[1].currency");
            }
        }
    }
}

SCENARIO("a leg on an account that does not exist is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        WHEN("the second leg names an unknown account") {
            auto decision = when(chart(), post("e1", {debit("cash", 100), credit("ghost", 100)}));
            THEN("account_not_found at post_entry.legs[1].account_id") {
                REQUIRE_REJECTED(decision, rejection_code::account_not_found,
                                 "post_entry.legs[1].account_id");
            }
        }
        WHEN("the leg names an account of another book") {
            auto other = opened_from(open_acct("other_cash"));
            other.book = book_id{"other"};
            auto decision = when(chart_plus({other}),
                                 post("e1", {debit("other_cash", 100), credit("revenue", 100)}));
            THEN("account_not_found at post_entry.legs[0].account_id") {
                REQUIRE_REJECTED(decision, rejection_code::account_not_found,
                                 "post_entry.legs[0].account_id");
            }
        }
    }
}

SCENARIO("a leg in another currency than its account is rejected", "[ledger][rejection]") {
    GIVEN("cash in USD and eur_revenue in EUR") {
        WHEN("a USD leg credits the EUR account (the entry balances in USD)") {
            auto decision =
                when(chart(), post("e1", {debit("cash", 100), credit("eur_revenue", 100, "USD")}));
            THEN("currency_mismatch at post_entry.legs[1].currency") {
                REQUIRE_REJECTED(decision, rejection_code::currency_mismatch,
                                 "post_entry.legs[1].currency");
            }
        }
    }
}

SCENARIO("an entry whose debits and credits differ is rejected", "[ledger][rejection]") {
    GIVEN("a chart of accounts") {
        WHEN("credits are one minor unit short") {
            auto decision = when(chart(), post("e1", {debit("cash", 100), credit("revenue", 99)}));
            THEN("entry_unbalanced at post_entry.legs") {
                REQUIRE_REJECTED(decision, rejection_code::entry_unbalanced, "post_entry.legs");
                CHECK_THAT(decision.error().detail, Catch::Contains("differ by 1 "));
            }
        }
        WHEN("all legs are debits") {
            auto decision = when(chart(), post("e1", {debit("cash", 100), debit("equity", 100)}));
            THEN("entry_unbalanced at post_entry.legs") {
                REQUIRE_REJECTED(decision, rejection_code::entry_unbalanced, "post_entry.legs");
            }
        }
        WHEN("the difference is above INT64_MAX (two debits of INT64_MAX)") {
            auto decision =
                when(chart(), post("e1", {debit("cash", int64_max), debit("equity", int64_max)}));
            THEN("entry_unbalanced: the sums do not wrap around") {
                REQUIRE_REJECTED(decision, rejection_code::entry_unbalanced, "post_entry.legs");
                CHECK_THAT(decision.error().detail,
                           Catch::Contains("differ by 18446744073709551614 "));
            }
        }
        WHEN("the totals match but not per currency (100 USD against 100 EUR)") {
            auto decision =
                when(chart(), post("e1", {debit("cash", 100), credit("eur_revenue", 100, "EUR")}));
            THEN("entry_unbalanced at post_entry.legs") {
                REQUIRE_REJECTED(decision, rejection_code::entry_unbalanced, "post_entry.legs");
            }
        }
    }
}

SCENARIO("an entry id that was already posted: the same entry is acknowledged, another is refused",
         "[ledger][rejection]") {
    GIVEN("entry e1 posted") {
        auto history = chart_plus({posted("e1", sale())});
        WHEN("e1 is posted again with the same content") {
            auto decision = when(history, post("e1", sale()));
            THEN("it is acknowledged and nothing is posted twice") {
                REQUIRE(decision.has_value());
                REQUIRE(decision->size() == 1);
                CHECK(std::holds_alternative<events::entry_repeat_acknowledged>(decision->front()));
            }
        }
        WHEN("e1 is posted again with another date") {
            THEN("entry_exists_with_different_date") {
                REQUIRE_REJECTED(when(history, post("e1", sale(), "2024-03-02")),
                                 rejection_code::entry_exists_with_different_date, "post_entry.effective_date");
            }
        }
        WHEN("e1 is posted again with another memo") {
            THEN("entry_exists_with_different_memo") {
                REQUIRE_REJECTED(when(history, post("e1", sale(), "2024-03-01", "other")),
                                 rejection_code::entry_exists_with_different_memo, "post_entry.memo");
            }
        }
        WHEN("e1 is posted again with other legs") {
            auto decision = when(history, post("e1", sale(5)));
            THEN("entry_exists_with_different_legs at post_entry.legs") {
                REQUIRE_REJECTED(decision, rejection_code::entry_exists_with_different_legs,
                                 "post_entry.legs");
            }
        }
        WHEN("e1 is posted in another book") {
            auto other_history = history;
            for (const char* a : {"cash", "revenue"}) {
                auto o = opened_from(open_acct(a));
                o.book = book_id{"other"};
                other_history.push_back(o);
            }
            auto cmd = post("e1", sale());
            cmd.book = book_id{"other"};
            THEN("it is accepted: entry ids are per book") {
                CHECK(when(other_history, cmd).has_value());
            }
        }
    }
}

SCENARIO("an entry that would overflow an account's totals is rejected", "[ledger][rejection]") {
    GIVEN("cash debited and equity credited with INT64_MAX - 10") {
        auto history = near_max();
        WHEN("cash is debited 10 more (exactly INT64_MAX)") {
            auto decision = when(history, post("e1", {debit("cash", 10), credit("revenue", 10)}));
            THEN("it is accepted") { CHECK(decision.has_value()); }
        }
        WHEN("cash is debited 11 more in the first leg") {
            auto decision = when(history, post("e1", {debit("cash", 11), credit("revenue", 11)}));
            THEN("amount_overflow at post_entry.legs[0].amount_minor") {
                REQUIRE_REJECTED(decision, rejection_code::amount_overflow,
                                 "post_entry.legs[0].amount_minor");
            }
        }
        WHEN("equity is credited 11 more in the second leg") {
            auto decision = when(history, post("e1", {debit("revenue", 11), credit("equity", 11)}));
            THEN("amount_overflow at post_entry.legs[1].amount_minor") {
                REQUIRE_REJECTED(decision, rejection_code::amount_overflow,
                                 "post_entry.legs[1].amount_minor");
                CHECK_THAT(decision.error().detail, Catch::Contains("equity"));
            }
        }
    }
    GIVEN("fresh accounts") {
        WHEN("one entry debits the same account INT64_MAX and then 1") {
            auto decision = when(chart(), post("e1", {debit("cash", int64_max), debit("cash", 1),
                                                      credit("revenue", int64_max),
                                                      credit("equity", 1)}));
            THEN("amount_overflow at the first leg of that account") {
                REQUIRE_REJECTED(decision, rejection_code::amount_overflow,
                                 "post_entry.legs[0].amount_minor");
                CHECK_THAT(decision.error().detail, Catch::Contains("cash"));
            }
        }
    }
}

// ---- Precedence between broken rules ------------------------------------------------------------

SCENARIO("open_account reports the first broken rule in the documented order", "[ledger][precedence]") {
    GIVEN("an account cash") {
        auto history = history_t{opened("cash")};
        WHEN("book id and account id are both invalid") {
            auto cmd = open_acct("");
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "open_account.book_id");
            }
        }
        WHEN("account id and name are both invalid") {
            auto cmd = open_acct("");
            cmd.name = "";
            THEN("account_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::account_id_invalid,
                                 "open_account.account_id");
            }
        }
        WHEN("name and type are both invalid") {
            auto cmd = open_acct("a1", "USD", account_type::unspecified);
            cmd.name = "";
            THEN("account_name_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::account_name_invalid,
                                 "open_account.name");
            }
        }
        WHEN("type and currency are both invalid") {
            auto cmd = open_acct("a1", "usd", account_type::unspecified);
            THEN("account_type_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::account_type_invalid,
                                 "open_account.type");
            }
        }
        WHEN("currency and scale are both invalid") {
            auto cmd = open_acct("a1", "usd", account_type::asset, 10);
            THEN("currency_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::currency_invalid,
                                 "open_account.currency");
            }
        }
        WHEN("the scale is too large and the account already exists") {
            auto cmd = open_acct("cash", "USD", account_type::asset, 10);
            THEN("scale_too_large") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::scale_too_large,
                                 "open_account.scale");
            }
        }
        WHEN("every rule is broken") {
            auto cmd = open_account{book_id{""}, account_id{""}, "", account_type::unspecified,
                                    "", 99, {}, {}};
            THEN("book_id_invalid, the first rule") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "open_account.book_id");
            }
        }
    }
}

SCENARIO("post_entry reports the first broken rule in the documented order", "[ledger][precedence]") {
    GIVEN("a chart of accounts and entry e0") {
        auto history = chart_plus({posted("e0", sale())});
        WHEN("book id and entry id are both invalid") {
            auto cmd = post("", sale());
            cmd.book = book_id{""};
            THEN("book_id_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::book_id_invalid,
                                 "post_entry.book_id");
            }
        }
        WHEN("entry id and effective date are both invalid") {
            THEN("entry_id_invalid") {
                REQUIRE_REJECTED(when(history, post("", sale(), "2024-02-30")),
                                 rejection_code::entry_id_invalid, "post_entry.entry_id");
            }
        }
        WHEN("effective date and memo are both invalid") {
            auto cmd = post("e1", sale(), "2023-02-29", std::string(limits::memo_bytes_max + 1, 'm'));
            THEN("effective_date_invalid") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::effective_date_invalid,
                                 "post_entry.effective_date");
            }
        }
        WHEN("the memo is too long and there is one leg") {
            auto cmd = post("e1", {debit("cash", 1)}, "2024-03-01",
                            std::string(limits::memo_bytes_max + 1, 'm'));
            THEN("memo_too_long") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::memo_too_long,
                                 "post_entry.memo");
            }
        }
        WHEN("there is one leg and that leg is invalid") {
            auto cmd = post("e1", {debit("", -1, "x")});
            THEN("entry_too_few_legs") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::entry_too_few_legs,
                                 "post_entry.legs");
            }
        }
        WHEN("there are too many legs and the first leg is invalid") {
            auto legs = alternating_legs(limits::entry_legs_max + 1);
            legs[0].amount.minor_units = 0;
            THEN("entry_too_many_legs") {
                REQUIRE_REJECTED(when(history, post("e1", legs)),
                                 rejection_code::entry_too_many_legs, "post_entry.legs");
            }
        }
        WHEN("a leg's account id and side are both invalid") {
            auto legs = sale();
            legs[1].account = account_id{""};
            legs[1].direction = side::unspecified;
            THEN("account_id_invalid") {
                REQUIRE_REJECTED(when(history, post("e1", legs)),
                                 rejection_code::account_id_invalid, "post_entry.legs[1].account_id");
            }
        }
        WHEN("a leg's side and amount are both invalid") {
            auto legs = sale();
            legs[1].direction = side::unspecified;
            legs[1].amount.minor_units = 0;
            THEN("leg_side_invalid") {
                REQUIRE_REJECTED(when(history, post("e1", legs)), rejection_code::leg_side_invalid,
                                 "post_entry.legs[1].side");
            }
        }
        WHEN("a leg's amount and currency are both invalid") {
            auto legs = sale();
            legs[1].amount = money{-5, "us"};
            THEN("amount_must_be_positive") {
                REQUIRE_REJECTED(when(history, post("e1", legs)),
                                 rejection_code::amount_must_be_positive,
                                 "post_entry.legs[1].amount_minor");
            }
        }
        WHEN("the first leg breaks a late leg rule and the second leg an early one") {
            auto legs = sale();
            legs[0].amount.currency = "us";  // currency_invalid, last of the leg rules
            legs[1].account = account_id{""};  // account_id_invalid, first of the leg rules
            THEN("legs are checked in order: currency_invalid at legs[0]") {
                REQUIRE_REJECTED(when(history, post("e1", legs)), rejection_code::currency_invalid,
                                 "post_entry.legs[0].currency");
            }
        }
        WHEN("a leg's currency is invalid and the entry id exists") {
            auto legs = sale();
            legs[1].amount.currency = "usd";
            THEN("currency_invalid") {
                REQUIRE_REJECTED(when(history, post("e0", legs)), rejection_code::currency_invalid,
                                 "post_entry.legs[1].currency");
            }
        }
        WHEN("the entry id exists and a leg's account does not") {
            THEN("the existing entry is compared first: entry_exists_with_different_legs") {
                REQUIRE_REJECTED(when(history, post("e0", {debit("cash", 1), credit("ghost", 1)})),
                                 rejection_code::entry_exists_with_different_legs, "post_entry.legs");
            }
        }
        WHEN("the first leg's currency mismatches and the second leg's account is missing") {
            auto cmd = post("e1", {debit("eur_cash", 1, "USD"), credit("ghost", 1)});
            THEN("legs are checked in order: currency_mismatch at legs[0]") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::currency_mismatch,
                                 "post_entry.legs[0].currency");
            }
        }
        WHEN("a leg's account is missing and the entry is unbalanced") {
            auto cmd = post("e1", {debit("cash", 100), credit("ghost", 1)});
            THEN("account_not_found") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::account_not_found,
                                 "post_entry.legs[1].account_id");
            }
        }
        WHEN("a leg's currency mismatches and the entry is unbalanced") {
            auto cmd = post("e1", {debit("cash", 100), credit("eur_revenue", 1, "EUR"),
                                   credit("revenue", 7, "EUR")});
            THEN("currency_mismatch") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::currency_mismatch,
                                 "post_entry.legs[2].currency");
            }
        }
        WHEN("the entry is unbalanced in USD (first legs) and in EUR") {
            auto cmd = post("e1", {debit("cash", 100), credit("revenue", 90),
                                   debit("eur_cash", 5, "EUR"), credit("eur_revenue", 3, "EUR")});
            THEN("entry_unbalanced names EUR: currencies are checked in code order") {
                auto decision = when(history, cmd);
                REQUIRE_REJECTED(decision, rejection_code::entry_unbalanced, "post_entry.legs");
                CHECK_THAT(decision.error().detail, Catch::Contains("EUR"));
                CHECK_THAT(decision.error().detail, !Catch::Contains("USD"));
            }
        }
    }
    GIVEN("cash and equity near INT64_MAX") {
        auto history = near_max();
        WHEN("the entry is unbalanced and would overflow cash") {
            auto cmd = post("e1", {debit("cash", 100), credit("revenue", 99)});
            THEN("entry_unbalanced") {
                REQUIRE_REJECTED(when(history, cmd), rejection_code::entry_unbalanced,
                                 "post_entry.legs");
            }
        }
        WHEN("two accounts would overflow: equity in the first leg, cash in the second") {
            auto decision = when(history, post("e1", {credit("equity", 11), debit("cash", 11)}));
            THEN("amount_overflow names equity: accounts are checked in leg order") {
                REQUIRE_REJECTED(decision, rejection_code::amount_overflow,
                                 "post_entry.legs[0].amount_minor");
                CHECK_THAT(decision.error().detail, Catch::Contains("equity"));
            }
        }
        WHEN("two accounts would overflow: cash in the first leg, equity in the second") {
            auto decision = when(history, post("e1", {debit("cash", 11), credit("equity", 11)}));
            THEN("amount_overflow names cash") {
                REQUIRE_REJECTED(decision, rejection_code::amount_overflow,
                                 "post_entry.legs[0].amount_minor");
                CHECK_THAT(decision.error().detail, Catch::Contains("cash"));
            }
        }
    }
}

// ---- One batch: each command sees the ones decided before it ---------------------------------

SCENARIO("two conflicting commands in one batch: the second sees the first", "[ledger][batch]") {
    GIVEN("a state shared by the commands of a batch") {
        auto state = given(chart());
        auto decide_and_evolve = [&](const ledger::command& cmd) {
            auto decision = ledger::decide(cmd, state, test_ctx());
            if (decision)
                for (const auto& e : *decision) ledger::evolve(state, e);
            return decision;
        };
        WHEN("the same account is opened twice") {
            auto first = decide_and_evolve(open_acct("petty"));
            auto second = decide_and_evolve(open_acct("petty"));
            THEN("the first is accepted and the second rejected") {
                REQUIRE(first.has_value());
                REQUIRE_REJECTED(second, rejection_code::account_already_exists,
                                 "open_account.account_id");
            }
        }
        WHEN("two entries carry the same entry id") {
            auto first = decide_and_evolve(post("dup", sale(1)));
            auto second = decide_and_evolve(post("dup", sale(2)));
            THEN("the first is accepted and the second rejected") {
                REQUIRE(first.has_value());
                REQUIRE_REJECTED(second, rejection_code::entry_exists_with_different_legs,
                                 "post_entry.legs");
            }
        }
        WHEN("an account is opened and then posted to") {
            auto first = decide_and_evolve(open_acct("petty"));
            auto second = decide_and_evolve(post("e1", {debit("petty", 5), credit("cash", 5)}));
            THEN("both are accepted") {
                CHECK(first.has_value());
                CHECK(second.has_value());
            }
        }
        WHEN("two entries together would overflow an account") {
            auto first = decide_and_evolve(
                post("e1", {debit("cash", int64_max - 5), credit("equity", int64_max - 5)}));
            auto second = decide_and_evolve(post("e2", {debit("cash", 6), credit("revenue", 6)}));
            THEN("the second is rejected with amount_overflow") {
                REQUIRE(first.has_value());
                REQUIRE_REJECTED(second, rejection_code::amount_overflow,
                                 "post_entry.legs[0].amount_minor");
            }
        }
    }
}

// ---- evolve and decide's purity -----------------------------------------------------------------

SCENARIO("evolve keeps each account's debits and credits", "[ledger][evolve]") {
    GIVEN("a chart of accounts") {
        auto state = given(chart());
        THEN("a fresh account has its attributes and zero totals") {
            auto cash = ledger::find_account(state, book_id{book}, account_id{"cash"});
            REQUIRE(cash.has_value());
            CHECK(cash->account_id() == "cash");
            CHECK(cash->type() == v1::ACCOUNT_TYPE_ASSET);
            CHECK(cash->currency() == "USD");
            CHECK(cash->scale() == 2);
            CHECK(cash->debits_minor() == 0);
            CHECK(cash->credits_minor() == 0);
            auto revenue = ledger::find_account(state, book_id{book}, account_id{"revenue"});
            REQUIRE(revenue.has_value());
            CHECK(revenue->type() == v1::ACCOUNT_TYPE_REVENUE);
        }
        THEN("unknown accounts and accounts of other books are not found") {
            CHECK_FALSE(ledger::find_account(state, book_id{book}, account_id{"ghost"}));
            CHECK_FALSE(ledger::find_account(state, book_id{"other"}, account_id{"cash"}));
        }
        WHEN("entries are evolved, one touching cash twice") {
            ledger::evolve(state, posted("e1", {debit("cash", 100), credit("revenue", 100)}));
            ledger::evolve(state, posted("e2", {debit("cash", 30), debit("cash", 20),
                                                credit("revenue", 45), credit("equity", 5)}));
            ledger::evolve(state, posted("e3", {debit("revenue", 7), credit("cash", 7)}));
            THEN("each account holds the sums of its legs by side") {
                auto cash = ledger::find_account(state, book_id{book}, account_id{"cash"});
                auto revenue = ledger::find_account(state, book_id{book}, account_id{"revenue"});
                auto equity = ledger::find_account(state, book_id{book}, account_id{"equity"});
                REQUIRE(cash.has_value());
                REQUIRE(revenue.has_value());
                REQUIRE(equity.has_value());
                CHECK(cash->debits_minor() == 150);
                CHECK(cash->credits_minor() == 7);
                CHECK(revenue->debits_minor() == 7);
                CHECK(revenue->credits_minor() == 145);
                CHECK(equity->debits_minor() == 0);
                CHECK(equity->credits_minor() == 5);
                CHECK(cash->currency() == "USD");  // attributes survive the update
            }
            THEN("the entries exist, others do not") {
                CHECK(ledger::entry_exists(state, book_id{book}, entry_id{"e1"}));
                CHECK(ledger::entry_exists(state, book_id{book}, entry_id{"e3"}));
                CHECK_FALSE(ledger::entry_exists(state, book_id{book}, entry_id{"e4"}));
                CHECK_FALSE(ledger::entry_exists(state, book_id{"other"}, entry_id{"e1"}));
            }
        }
    }
}

SCENARIO("decide never changes the state", "[ledger][decide]") {
    GIVEN("a chart of accounts with one entry") {
        auto state = given(chart_plus({posted("e0", sale())}));
        const auto before = state.rows();
        REQUIRE_FALSE(before.empty());
        auto cmd = GENERATE(as<ledger::command>{}, open_acct("petty"), open_acct("cash"),
                            post("e1", sale()), post("e0", sale()),
                            post("e2", {debit("cash", 1), credit("ghost", 1)}));
        WHEN("a command is decided (accepted or rejected)") {
            auto first = ledger::decide(cmd, state, test_ctx());
            auto second = ledger::decide(cmd, state, test_ctx());
            THEN("the state rows are unchanged and deciding again gives the same answer") {
                CHECK(state.rows() == before);
                REQUIRE(first.has_value() == second.has_value());
                if (first.has_value()) CHECK(first.value() == second.value());
                else CHECK(first.error() == second.error());
            }
        }
    }
}

SCENARIO("a book's calendar decides the dates Daybook picks itself", "[ledger][calendar]") {
    using events::set_book_calendar;
    using events::book_calendar_set;
    GIVEN("a book without a declared calendar") {
        WHEN("a calendar with an offset beyond 14 hours is declared") {
            THEN("calendar_invalid at set_book_calendar.utc_offset_minutes") {
                REQUIRE_REJECTED(when({}, set_book_calendar{book_id{book}, 841, 0}), rejection_code::calendar_invalid,
                                 "set_book_calendar.utc_offset_minutes");
            }
        }
        WHEN("the cut-off is past the end of the day (and the offset is broken too)") {
            THEN("the offset is checked first, then the cut-off") {
                REQUIRE_REJECTED(when({}, set_book_calendar{book_id{book}, -841, 1440}), rejection_code::calendar_invalid,
                                 "set_book_calendar.utc_offset_minutes");
                REQUIRE_REJECTED(when({}, set_book_calendar{book_id{book}, 60, 1440}), rejection_code::calendar_invalid,
                                 "set_book_calendar.cutoff_minutes");
            }
        }
        WHEN("UTC+2 with a 17:00 cut-off is declared") {
            auto decision = when({}, set_book_calendar{book_id{book}, 120, 1020});
            THEN("book_calendar_set") {
                REQUIRE(decision.has_value());
                CHECK(decision->front() == ledger::event{book_calendar_set{book_id{book}, 120, 1020}});
            }
        }
        THEN("its business date is the UTC date") {
            auto state = given({});
            CHECK(ledger::business_date(state, book_id{book}, test_now_ms) == "2024-03-01");
        }
    }
    GIVEN("a book in UTC+2 with a 17:00 cut-off") {
        auto state = given({book_calendar_set{book_id{book}, 120, 1020}});
        constexpr std::int64_t hour = 3'600'000;
        const std::int64_t midnight = test_now_ms - 12 * hour;  // 2024-03-01T00:00Z
        THEN("14:00 local is still the same business day") {
            CHECK(ledger::business_date(state, book_id{book}, midnight + 12 * hour) == "2024-03-01");
        }
        THEN("18:00 local is after the cut-off: the next business day") {
            CHECK(ledger::business_date(state, book_id{book}, midnight + 16 * hour) == "2024-03-02");
        }
        THEN("23:30 UTC is already the next local day") {
            CHECK(ledger::business_date(state, book_id{book}, midnight + 23 * hour + hour / 2) == "2024-03-02");
        }
    }
    GIVEN("a book in UTC-5 without a cut-off") {
        auto history = std::vector<ledger::event>{book_calendar_set{book_id{book}, -300, 0}, opened("cash"),
                                                  opened("equity", "USD", account_type::equity),
                                                  posted("e1", {debit("cash", 100), credit("equity", 100)})};
        WHEN("an entry is reversed without a date at 02:00 UTC on 1 March 2024") {
            auto decision = when(history, events::reverse_entry{book_id{book}, entry_id{"e1"}, entry_id{"r1"}, "", ""},
                                 test_ctx(test_now_ms - 10 * 3'600'000));
            THEN("the reversal is dated 29 February, the book's business date") {
                REQUIRE(decision.has_value());
                CHECK(std::get<entry_posted>(decision->front()).effective_date == "2024-02-29");
            }
        }
    }
}

// ---- Account mapping (reference data) and legs by role ------------------------------------------

namespace {

using events::account_role;
using events::role_account;
using events::set_account_mapping;
using events::account_mapping_set;

leg by_role(account_role role, side direction, std::int64_t amount, std::string currency = "USD") {
    return leg{account_id{}, direction, money{amount, std::move(currency)}, role};
}

history_t billing_chart() {
    return chart_plus({opened("ar"), opened("vat", "USD", account_type::liability), opened("ar2"),
                       opened("fees", "USD", account_type::revenue)});
}

set_account_mapping mapping(std::string from, std::vector<role_account> accounts) {
    return set_account_mapping{book_id{book}, std::move(from), std::move(accounts)};
}

role_account map(account_role role, std::string account) { return role_account{role, account_id{std::move(account)}}; }

}  // namespace

SCENARIO("a book maps account roles to accounts, effective-dated", "[ledger][mapping]") {
    GIVEN("a chart with a receivable, a tax liability and revenue accounts") {
        auto cmd = mapping("2024-01-01", {map(account_role::receivable, "ar"), map(account_role::revenue, "revenue"),
                                          map(account_role::tax_payable, "vat")});
        WHEN("a valid mapping is set") {
            auto decision = when(billing_chart(), cmd);
            THEN("account_mapping_set with every role") {
                REQUIRE(decision.has_value());
                CHECK(decision->front() == ledger::event{account_mapping_set{cmd.book, cmd.effective_from, cmd.accounts}});
            }
        }
        WHEN("the date is not a date") {
            THEN("effective_date_invalid at set_account_mapping.effective_from") {
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-02-30", cmd.accounts)), rejection_code::effective_date_invalid,
                                 "set_account_mapping.effective_from");
            }
        }
        WHEN("no role is given") {
            THEN("account_role_invalid at set_account_mapping.accounts") {
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-01-01", {})), rejection_code::account_role_invalid,
                                 "set_account_mapping.accounts");
            }
        }
        WHEN("a role is unknown, duplicated, or its account id is malformed") {
            THEN("account_role_invalid, account_role_duplicate, account_id_invalid at that entry") {
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-01-01", {map(static_cast<account_role>(42), "ar")})),
                                 rejection_code::account_role_invalid, "set_account_mapping.accounts[0].role");
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-01-01", {map(account_role::receivable, "ar"),
                                                                              map(account_role::receivable, "ar2")})),
                                 rejection_code::account_role_duplicate, "set_account_mapping.accounts[1].role");
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-01-01", {map(account_role::receivable, "bad id")})),
                                 rejection_code::account_id_invalid, "set_account_mapping.accounts[0].account_id");
            }
        }
        WHEN("an account is missing, closed, or of the wrong type") {
            THEN("account_not_found, account_closed, account_role_type_mismatch") {
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-01-01", {map(account_role::receivable, "nope")})),
                                 rejection_code::account_not_found, "set_account_mapping.accounts[0].account_id");
                auto closed = billing_chart();
                closed.push_back(events::account_closed{book_id{book}, account_id{"ar2"}});
                REQUIRE_REJECTED(when(closed, mapping("2024-01-01", {map(account_role::receivable, "ar2")})),
                                 rejection_code::account_closed, "set_account_mapping.accounts[0].account_id");
                REQUIRE_REJECTED(when(billing_chart(), mapping("2024-01-01", {map(account_role::receivable, "ar"),
                                                                              map(account_role::tax_payable, "revenue")})),
                                 rejection_code::account_role_type_mismatch, "set_account_mapping.accounts[1].account_id");
            }
        }
        WHEN("a role has been remapped as often as the limit allows") {
            auto history = billing_chart();
            for (std::size_t i = 0; i < limits::mapping_versions_max; ++i) {
                char date[11];
                std::snprintf(date, sizeof date, "%04zu-01-01", 2000 + i);
                history.push_back(account_mapping_set{book_id{book}, date, {map(account_role::receivable, "ar")}});
            }
            THEN("a new date is refused with mapping_versions_exhausted, an existing date may still be corrected") {
                REQUIRE_REJECTED(when(history, mapping("3500-01-01", {map(account_role::receivable, "ar2")})),
                                 rejection_code::mapping_versions_exhausted, "set_account_mapping.accounts[0].role");
                CHECK(when(history, mapping("2000-01-01", {map(account_role::receivable, "ar2")})).has_value());
            }
        }
    }
}

SCENARIO("legs given by role post to the account mapped on the entry's date", "[ledger][mapping]") {
    GIVEN("receivable mapped to ar from January and to ar2 from March; revenue mapped from January") {
        auto history = billing_chart();
        history.push_back(account_mapping_set{book_id{book}, "2024-01-01",
                                               {map(account_role::receivable, "ar"), map(account_role::revenue, "revenue")}});
        history.push_back(account_mapping_set{book_id{book}, "2024-03-01", {map(account_role::receivable, "ar2")}});
        auto legs = std::vector<leg>{by_role(account_role::receivable, side::debit, 500),
                                     by_role(account_role::revenue, side::credit, 500)};
        WHEN("an entry dated in February uses roles") {
            auto decision = when(history, post("inv-1", legs, "2024-02-15"));
            THEN("it posts to ar and revenue, and the event keeps the roles") {
                REQUIRE(decision.has_value());
                const auto& e = std::get<events::entry_posted>(decision->front());
                CHECK(e.legs[0].account.value == "ar");
                CHECK(e.legs[0].role == account_role::receivable);
                CHECK(e.legs[1].account.value == "revenue");
            }
        }
        WHEN("an entry dated in March uses the same roles") {
            auto decision = when(history, post("inv-2", legs, "2024-03-01"));
            THEN("the receivable is ar2 from that day on") {
                REQUIRE(decision.has_value());
                CHECK(std::get<events::entry_posted>(decision->front()).legs[0].account.value == "ar2");
            }
        }
        WHEN("an entry is dated before any mapping") {
            THEN("account_role_unmapped at the first role leg") {
                REQUIRE_REJECTED(when(history, post("inv-3", legs, "2023-12-31")), rejection_code::account_role_unmapped,
                                 "post_entry.legs[0].account_role");
            }
        }
        WHEN("a role has never been mapped") {
            THEN("account_role_unmapped") {
                auto unmapped = legs;
                unmapped[1].role = account_role::tax_payable;
                REQUIRE_REJECTED(when(history, post("inv-4", unmapped, "2024-02-15")), rejection_code::account_role_unmapped,
                                 "post_entry.legs[1].account_role");
            }
        }
        WHEN("a leg names both an account and a role, or an unknown role") {
            THEN("leg_account_and_role, account_role_invalid (shape checks, before any state is read)") {
                auto both = legs;
                both[0].account = account_id{"ar"};
                REQUIRE_REJECTED(when(history, post("inv-5", both, "2024-02-15")), rejection_code::leg_account_and_role,
                                 "post_entry.legs[0].account_role");
                auto unknown = legs;
                unknown[1].role = static_cast<account_role>(99);
                REQUIRE_REJECTED(when(history, post("inv-6", unknown, "2024-02-15")), rejection_code::account_role_invalid,
                                 "post_entry.legs[1].account_role");
            }
        }
        WHEN("the same entry is posted again by role (a process manager's redelivery)") {
            auto first = post("inv-7", legs, "2024-02-15");
            auto h = history;
            h.push_back(std::get<events::entry_posted>(when(history, first)->front()));
            auto decision = when(h, first);
            THEN("it is acknowledged as a repeat, not refused as different legs") {
                REQUIRE(decision.has_value());
                CHECK(std::holds_alternative<events::entry_repeat_acknowledged>(decision->front()));
            }
        }
    }
}
