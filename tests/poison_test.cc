// Poison and malformed input (issue 7, item 6): a matrix of bad records written straight into
// daybook.commands, and bad input to the CLI. Every case gets its expected answer: unreadable
// records go to the DLQ with provenance headers, readable ones get a rejection outcome with the
// expected code; nothing changes the book, the stream after them is processed and the commands
// lag returns to zero. One summary line.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <thread>

#include "consumers/log_reader.h"
#include "events/codec.h"
#include "events/murmur2.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

const std::string book = "pz";

std::string leg(const std::string& account, const std::string& side, const std::string& amount, const std::string& ccy = "EUR") {
    return R"({"account_id":")" + account + R"(","side":"SIDE_)" + side + R"(","amount_minor":")" + amount + R"(","currency":")" + ccy + R"("})";
}

std::string entry(const std::string& id, const std::string& entry_id, const std::string& legs, const std::string& date = "2026-11-10",
                  const std::string& memo = "", const std::string& b = book) {
    return R"({"command_id":")" + id + R"(","post_entry":{"book_id":")" + b + R"(","entry_id":")" + entry_id +
           R"(","effective_date":")" + date + R"(","memo":")" + memo + R"(","legs":[)" + legs + "]}}";
}

std::string varint(std::uint64_t v) {
    std::string out;
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
    }
    return out + static_cast<char>(v);
}

}  // namespace

TEST_CASE("poison matrix: 44 bad inputs each get their expected answer and change nothing", "[poison]") {
    sandbox box("poison");
    const auto data = box.dir + "/data";
    serve_process serve(box, "a", data);
    client c(box);
    auto setup = c.submit({parse_command(R"({"command_id":"o1","open_account":{"book_id":"pz","account_id":"cash","name":"Cash","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}})"),
                           parse_command(R"({"command_id":"o2","open_account":{"book_id":"pz","account_id":"sales","name":"Sales","type":"ACCOUNT_TYPE_REVENUE","currency":"EUR","scale":2}})"),
                           parse_command(entry("e1", "e1", leg("cash", "DEBIT", "9223372036854775000") + "," + leg("sales", "CREDIT", "9223372036854775000")))});
    for (const auto& [id, o] : setup) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto args = box.common_args(data, "a");
    auto with = [&](std::vector<std::string> a) {
        a.insert(a.end(), args.begin(), args.end());
        return a;
    };
    auto trial_balance = [&] { return run_daybook(with({"query", "trial-balance", "--book", book, "--format", "json"})).second; };
    const auto before = trial_balance();
    const int p = events::partition_for(book, box.partitions);

    // Unreadable records: the DLQ.
    std::string deep;
    for (int i = 0; i < 200; ++i) deep += varint((999u << 3) | 3);  // start group, nested 200 deep
    for (int i = 0; i < 200; ++i) deep += varint((999u << 3) | 4);
    const std::vector<std::pair<std::string, std::string>> unreadable{
        {"garbage", std::string("\xff\xfe not protobuf", 15)},
        {"truncated varint", std::string("\x0a\x80", 2)},
        {"length past the end", std::string("\x0a\x10" "abc", 5)},
        {"huge length", std::string("\x0a\xff\xff\xff\xff\x0f", 6)},
        {"only a tag", std::string("\x0a", 1)},
        {"empty record", std::string()},
        {"wrong wire type for command_id", std::string("\x08\x01", 2)},
        {"command_id not printable", std::string("\x0a\x03" "a\x01" "b", 5)},
        {"command_id invalid UTF-8", std::string("\x0a\x02\xc3\x28", 4)},
        {"deep nesting", std::string("\x0a\x01z", 3) + deep},
        {"no command_id, a payload", [] {
             auto e = parse_command(entry("x", "x1", leg("cash", "DEBIT", "1") + "," + leg("sales", "CREDIT", "1")));
             e.clear_command_id();
             return events::serialize(e);
         }()},
    };
    for (const auto& [name, bytes] : unreadable) c.send_raw(book, p, bytes);

    // Readable records, refused before or by the decision.
    struct refused_case {
        std::string id, json_or_bytes, code;
        bool raw = false;
        std::string key{};   // the record's key: the command's routing key when empty (raw: the book)
        int partition = -1;  // murmur2(key) when negative
    };
    const auto tomorrow = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch()).count() + 86'400'000);
    auto unknown_field = events::serialize(parse_command(entry("r-unknown-field", "u1", leg("cash", "DEBIT", "1") + "," + leg("sales", "CREDIT", "1")))) +
                         std::string("\xb8\x3e\x01", 3);
    auto unknown_enum = [] {
        auto e = parse_command(entry("r-unknown-enum", "u2", leg("cash", "DEBIT", "1") + "," + leg("sales", "CREDIT", "1")));
        e.mutable_post_entry()->mutable_legs(0)->set_side(static_cast<v1::Side>(99));
        return events::serialize(e);
    }();
    auto oversized = events::serialize(parse_command(entry("r-oversized", "big", leg("cash", "DEBIT", "1") + "," + leg("sales", "CREDIT", "1"),
                                                           "2026-11-10", std::string(600 * 1024, 'm'))));
    const std::string ok_legs = leg("cash", "DEBIT", "100") + "," + leg("sales", "CREDIT", "100");
    const std::string other_book = "elsewhere";
    std::vector<refused_case> refused{
        {"r-unknown-field", unknown_field, "envelope_invalid", true},
        {"r-unknown-enum", unknown_enum, "envelope_invalid", true},
        {"r-oversized", oversized, "command_too_large", true},
        {"r-no-payload", R"({"command_id":"r-no-payload"})", "payload_missing"},
        {std::string(200, 'i'), entry(std::string(200, 'i'), "long", ok_legs), "command_id_invalid"},
        {"r-misrouted", entry("r-misrouted", "m1", ok_legs, "2026-11-10", "", other_book), "routing_key_mismatch", false, book},
        {"r-wrong-partition", entry("r-wrong-partition", "w1", ok_legs), "wrong_partition", false, "", (p + 1) % box.partitions},
        {"r-zero", entry("r-zero", "z1", leg("cash", "DEBIT", "0") + "," + leg("sales", "CREDIT", "0")), "amount_must_be_positive"},
        {"r-negative", entry("r-negative", "n1", leg("cash", "DEBIT", "-5") + "," + leg("sales", "CREDIT", "-5")), "amount_must_be_positive"},
        {"r-overflow", entry("r-overflow", "o1", leg("cash", "DEBIT", "9223372036854775000") + "," + leg("sales", "CREDIT", "9223372036854775000")),
         "amount_overflow"},
        {"r-unknown-account", entry("r-unknown-account", "a1", leg("cash", "DEBIT", "1") + "," + leg("nope", "CREDIT", "1")), "account_not_found"},
        {"r-unbalanced", entry("r-unbalanced", "b1", leg("cash", "DEBIT", "2") + "," + leg("sales", "CREDIT", "1")), "entry_unbalanced"},
        {"r-one-leg", entry("r-one-leg", "l1", leg("cash", "DEBIT", "2")), "entry_too_few_legs"},
        {"r-bad-currency", entry("r-bad-currency", "c1", leg("cash", "DEBIT", "1", "eur") + "," + leg("sales", "CREDIT", "1", "eur")), "currency_invalid"},
        {"r-currency-mismatch", entry("r-currency-mismatch", "c2", leg("cash", "DEBIT", "1", "USD") + "," + leg("sales", "CREDIT", "1", "USD")),
         "currency_mismatch"},
        {"r-bad-date", entry("r-bad-date", "d1", ok_legs, "2026-02-30"), "effective_date_invalid"},
        {"r-long-memo", entry("r-long-memo", "mm", ok_legs, "2026-11-10", std::string(1001, 'm')), "memo_too_long"},
        {"r-bad-entry-id", entry("r-bad-entry-id", "has space", ok_legs), "entry_id_invalid"},
        {"r-no-side", entry("r-no-side", "s1", R"({"account_id":"cash","amount_minor":"1","currency":"EUR"},)" + leg("sales", "CREDIT", "1")),
         "leg_side_invalid"},
        {"r-bad-book", entry("r-bad-book", "bb", ok_legs, "2026-11-10", "", "p z"), "book_id_invalid"},
        {"r-duplicate-account", R"({"command_id":"r-duplicate-account","open_account":{"book_id":"pz","account_id":"cash","name":"Cash","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}})",
         "account_already_exists"},
        {"r-no-type", R"({"command_id":"r-no-type","open_account":{"book_id":"pz","account_id":"x1","name":"X","currency":"EUR","scale":2}})",
         "account_type_invalid"},
        {"r-close-with-balance", R"({"command_id":"r-close-with-balance","close_account":{"book_id":"pz","account_id":"cash"}})",
         "account_balance_not_zero"},
        {"r-hold-unknown", R"({"command_id":"r-hold-unknown","place_hold":{"book_id":"pz","hold_id":"h1","debit_account_id":"nope","credit_account_id":"cash","amount_minor":"1","currency":"EUR","expires_at_ms":")" + tomorrow + R"("}})",
         "account_not_found"},
        {"r-capture-unknown", R"({"command_id":"r-capture-unknown","capture_hold":{"book_id":"pz","hold_id":"nope","entry_id":"cap1","amount_minor":"1","effective_date":"2026-11-10"}})",
         "hold_not_found"},
        {"r-reverse-unknown", R"({"command_id":"r-reverse-unknown","reverse_entry":{"book_id":"pz","entry_id":"nope","reversal_entry_id":"rv1"}})",
         "entry_not_found"},
        {"r-same-entry-other-legs", entry("r-same-entry-other-legs", "e1", ok_legs), "entry_exists_with_different_legs"},
        {"o1", R"({"command_id":"o1","open_account":{"book_id":"pz","account_id":"other","name":"Other","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}})",
         "command_id_reused"},
        {"r-run-duplicate-ids", R"({"command_id":"r-run-duplicate-ids","linked_run":{"commands":[)" + entry("dup", "d1", ok_legs) + "," +
                                    entry("dup", "d2", ok_legs) + "]}}",
         "linked_run_invalid"},
        {"r-invoice-currency", R"({"command_id":"r-invoice-currency","create_invoice":{"invoice_id":"i1","book_id":"pz","direction":"INVOICE_DIRECTION_CUSTOMER","counterparty_id":"cp","currency":"e","issue_date":"2026-11-01","payment_terms_days":14,"lines":[{"description":"x","quantity_milli":"1000","unit_price_minor":"100"}]}})",
         "billing_currency_invalid"},
        {"r-payment-zero", R"({"command_id":"r-payment-zero","receive_payment":{"payment_id":"pay1","book_id":"pz","direction":"PAYMENT_DIRECTION_RECEIVED","counterparty_id":"cp","amount_minor":"0","currency":"EUR","date":"2026-11-15"}})",
         "billing_amount_invalid"},
        {"r-tax-rate", R"({"command_id":"r-tax-rate","set_tax_code":{"book_id":"pz","code":"STD","rate_bp":10001,"effective_from":"2026-01-01"}})",
         "tax_rate_invalid"},
    };
    std::set<std::string> ids;
    for (const auto& r : refused) {
        std::string value = r.raw ? r.json_or_bytes : events::serialize(parse_command(r.json_or_bytes));
        std::string key = !r.key.empty() ? r.key : r.raw ? book : events::routing_key_of(parse_command(r.json_or_bytes));
        int partition = r.partition >= 0 ? r.partition : events::partition_for(key, box.partitions);
        c.send_raw(key, partition, value);
        ids.insert(r.id);
    }
    // The stream after the bad records is processed.
    auto after = c.submit({parse_command(entry("good-after", "g1", ok_legs))});
    REQUIRE(after.count("good-after") == 1);
    CHECK(after.at("good-after").status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto outcomes = c.wait(ids, 30s);

    int as_expected = 0, wrong = 0;
    for (const auto& r : refused) {
        auto it = outcomes.find(r.id);
        std::string got = it == outcomes.end() ? "(no outcome)" : it->second.code_name();
        if (r.id == "o1" && it != outcomes.end() && it->second.duplicate()) got = "(the original outcome)";
        bool ok = got == r.code;
        as_expected += ok;
        wrong += !ok;
        INFO(r.id.substr(0, 40) << ": expected " << r.code << ", got " << got);
        CHECK(ok);
    }

    // Bad input at the CLI: nothing is sent.
    std::ofstream(box.dir + "/bad.ndjson") << "{\"command_id\":\"cli-1\",\"post_entry\":{\"book_id\":\"pz\"}}\n{not json\n";
    auto cli = run_daybook(with({"submit", box.dir + "/bad.ndjson"}));
    CHECK(cli.first == 2);
    CHECK(cli.second.find("nothing was submitted") != std::string::npos);

    // The DLQ holds exactly the unreadable records, each with its provenance.
    std::size_t dead = 0, with_headers = 0;
    auto reader = consumers::make_page_reader(box.kafka);
    REQUIRE(reader);
    auto page = consumers::read_page(reader->get(), box.topics.dlq(), 0, 0, 1000, 1000, nullptr, 30000);
    REQUIRE(page);
    for (const auto& rec : page->records) {
        ++dead;
        with_headers += !rec.header("daybook.error").empty() && rec.header("daybook.source_partition") == std::to_string(p);
    }
    CHECK(dead == unreadable.size());
    CHECK(with_headers == unreadable.size());

    // Nothing changed the book except the good command after them; the lag returns to zero.
    auto reversal = c.submit({parse_command(R"({"command_id":"undo-good","reverse_entry":{"book_id":"pz","entry_id":"g1","reversal_entry_id":"g1-r","effective_date":"2026-11-10"}})")});
    REQUIRE(reversal.at("undo-good").status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto token = events::token_of(reversal.at("undo-good"));
    REQUIRE(run_daybook(with({"query", "balance", "--book", book, "--account", "cash", "--token", token})).first == 0);
    auto tb_after = trial_balance();
    // The trial balance's posted totals grew by the good entry and its reversal only.
    CHECK(tb_after != before);
    CHECK(tb_after.find("\"debits_minor\":\"9223372036854775200\"") != std::string::npos);
    std::int64_t lag = -1;
    for (int i = 0; i < 50 && lag != 0; ++i) {
        auto status = run_daybook(with({"status", "--format", "json"}));
        lag = 0;
        for (std::size_t at = status.second.find("\"commands_lag\":"); at != std::string::npos;
             at = status.second.find("\"commands_lag\":", at + 1))
            lag += std::stoll(status.second.substr(at + 15));
        if (lag != 0) std::this_thread::sleep_for(200ms);
    }
    CHECK(lag == 0);
    std::printf("poison matrix: cases=%zu dlq=%zu rejected_as_expected=%d wrong=%d cli_refused=%d lag=%lld valid: %s\n",
                unreadable.size() + refused.size() + 1, dead, as_expected, wrong, cli.first == 2 ? 1 : 0, static_cast<long long>(lag),
                wrong == 0 && dead == unreadable.size() && lag == 0 ? "true" : "false");
    serve.terminate();
}
