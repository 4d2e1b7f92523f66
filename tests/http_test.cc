// HTTP API through real HTTP against `daybook serve` and the local broker: the event browser,
// the DLQ (list, show, resubmit), status and exceptions, the dashboard and OpenAPI files,
// limits and errors, 429 (wait cap and commands backlog) and TLS.

#include <catch2/catch.hpp>
#include <httplib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

#include "events/murmur2.h"
#include "tests/harness.h"
#include "tests/http_support.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

// The value of a JSON field in a flat body: "name":<value> up to the next , or }.
std::string field(const std::string& body, const std::string& name) {
    auto at = body.find("\"" + name + "\":");
    if (at == std::string::npos) return "";
    at += name.size() + 3;
    auto end = body.find_first_of(",}", at);
    auto v = body.substr(at, end - at);
    if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
    return v;
}

const std::string chart_body =
    R"({"commands":[{"command_id":"o-1","open_account":{"book_id":"ops","account_id":"cash","name":"Cash","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}},)"
    R"({"command_id":"o-2","open_account":{"book_id":"ops","account_id":"sales","name":"Sales","type":"ACCOUNT_TYPE_REVENUE","currency":"EUR","scale":2}}]})";

std::string entry_body(const std::string& id, const std::string& entry) {
    return R"({"command_id":")" + id + R"(","post_entry":{"book_id":"ops","entry_id":")" + entry +
           R"(","effective_date":"2026-11-23","legs":[{"account_id":"cash","side":"SIDE_DEBIT","amount_minor":"700","currency":"EUR"},{"account_id":"sales","side":"SIDE_CREDIT","amount_minor":"700","currency":"EUR"}]}})";
}

}  // namespace

TEST_CASE("HTTP API: event browser, DLQ list/show/resubmit, status, exceptions, dashboard, OpenAPI, errors",
          "[integration][http-ops]") {
    sandbox box("httpops");
    auto data = box.dir + "/data";
    auto tokens = box.dir + "/tokens";
    auto submitter = bearer(token_for(tokens, "alice", "submitter"));
    auto reader = bearer(token_for(tokens, "rita", "reader"));
    auto revoked = bearer(token_for(tokens, "bob", "reader"));
    REQUIRE(run_daybook({"tokens", "revoke", "--file", tokens, "--actor", "bob"}).first == 0);
    int port = 27000 + static_cast<int>(::getpid() % 1000);
    serve_process serve(box, "a", data, {"--http", "127.0.0.1:" + std::to_string(port), "--tokens-file", tokens});
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(40, 0);
    REQUIRE(wait_for_health(http));

    auto opened = http.Post("/v1/commands?wait_ms=20000", submitter, chart_body, "application/json");
    REQUIRE(opened);
    REQUIRE(opened->status == 200);
    auto posted = http.Post("/v1/commands?wait_ms=20000", submitter, entry_body("o-3", "E1"), "application/json");
    REQUIRE(posted);
    REQUIRE(posted->status == 200);
    auto token = field(posted->body, "token");

    SECTION("queries, the event browser and the drill-down from an entry to its command") {
        auto books = http.Get("/v1/books?min_token=" + token, reader);
        REQUIRE(books);
        CHECK(books->body == R"({"books":[{"book_id":"ops"}]})");
        auto first = http.Get("/v1/books/ops/accounts?limit=1", reader);
        REQUIRE(first);
        CHECK(field(first->body, "next_after") == "cash");
        auto second = http.Get("/v1/books/ops/accounts?limit=1&after=cash", reader);
        REQUIRE(second);
        CHECK(field(second->body, "account_id") == "sales");
        auto entry = http.Get("/v1/books/ops/entries/E1", reader);
        REQUIRE(entry);
        INFO(entry->body);
        CHECK(field(entry->body, "actor") == "alice");
        CHECK(field(entry->body, "command_id") == "o-3");
        const auto partition = field(entry->body, "partition");
        CHECK(partition == std::to_string(events::partition_for("ops", 3)));

        auto events = http.Get("/v1/events?partition=" + partition + "&command_id=o-3", reader);
        REQUIRE(events);
        INFO(events->body);
        CHECK(field(events->body, "type") == "entry_posted");
        CHECK(field(events->body, "event_id") == "book/ops@3");
        CHECK(field(events->body, "actor") == "alice");
        CHECK(events->body.find("\"entry_id\":\"E1\"") != std::string::npos);
        auto page1 = http.Get("/v1/events?partition=" + partition + "&limit=1", reader);
        REQUIRE(page1);
        CHECK(field(page1->body, "offset") == "0");
        CHECK(field(page1->body, "next_after") == "0");
        auto page2 = http.Get("/v1/events?partition=" + partition + "&limit=1&after=0", reader);
        REQUIRE(page2);
        CHECK(field(page2->body, "offset") == "1");
        auto by_type = http.Get("/v1/events?partition=" + partition + "&type=account_opened", reader);
        REQUIRE(by_type);
        CHECK(field(by_type->body, "next_after").empty());

        auto status = http.Get("/v1/status", reader);
        REQUIRE(status);
        INFO(status->body);
        CHECK(status->body.find("\"chain_verified\":true") != std::string::npos);
        auto metrics = http.Get("/metrics");
        REQUIRE(metrics);
        CHECK(metrics->body.find("daybook_transaction_commit_seconds_bucket{le=\"+Inf\"}") != std::string::npos);
        CHECK(metrics->body.find("daybook_commands_lag{partition=\"0\"}") != std::string::npos);
        CHECK(metrics->body.find("daybook_store_block_cache_usage_bytes") != std::string::npos);
    }

    SECTION("four eyes over HTTP: a held posting is listed, refused to its submitter, approved by another person") {
        auto ivan = bearer(token_for(tokens, "ivan", "submitter"));
        const std::string realm =
            R"({"commands":[{"command_id":"s-1","grant_role":{"realm":"security","actor":"alice","role":"security_admin","book_id":"*"}},)"
            R"({"command_id":"s-2","define_role":{"realm":"security","role":"approver","may_approve":["post_entry"]}},)"
            R"({"command_id":"s-3","grant_role":{"realm":"security","actor":"ivan","role":"approver","book_id":"ops"}},)"
            R"({"command_id":"s-4","set_approval_policy":{"realm":"security","command":"post_entry","book_id":"ops","currency":"EUR","above_minor":"500","expires_after_s":600}}]})";
        auto set = http.Post("/v1/commands?wait_ms=20000", submitter, realm, "application/json");
        REQUIRE(set);
        INFO(set->body);
        REQUIRE(set->body.find("REJECTED") == std::string::npos);
        // Until the policy's copy reaches the book's partition, postings of 7.00 EUR go through.
        std::string held_id;
        for (int i = 0; i < 100 && held_id.empty(); ++i) {
            auto id = "h-" + std::to_string(i);
            auto r = http.Post("/v1/commands?wait_ms=20000", submitter, entry_body(id, "H" + std::to_string(i)), "application/json");
            REQUIRE(r);
            if (r->body.find("OUTCOME_STATUS_PENDING_APPROVAL") != std::string::npos) held_id = id;
            else std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        REQUIRE(!held_id.empty());
        std::string approvals;
        for (int i = 0; i < 100 && approvals.find(held_id) == std::string::npos; ++i) {
            approvals = http.Get("/v1/approvals", reader)->body;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        INFO(approvals);
        CHECK(field(approvals, "requested_by") == "alice");
        CHECK(field(approvals, "command_name") == "post_entry");
        const auto fingerprint = field(approvals, "fingerprint");
        auto approve = [&](const std::string& id) {
            return R"({"command_id":")" + id + R"(","approve_command":{"routing_key":"ops","command_id":")" + held_id +
                   R"(","fingerprint":")" + fingerprint + R"("}})";
        };
        auto self = http.Post("/v1/commands?wait_ms=20000", submitter, approve("ap-1"), "application/json");
        REQUIRE(self);
        CHECK(field(self->body, "code_name") == "self_approval");
        auto approved = http.Post("/v1/commands?wait_ms=20000", ivan, approve("ap-2"), "application/json");
        REQUIRE(approved);
        INFO(approved->body);
        CHECK(field(approved->body, "status") == "OUTCOME_STATUS_ACCEPTED");
        auto entry_id = "H" + held_id.substr(2);
        std::string entry;
        for (int i = 0; i < 100; ++i) {
            auto r = http.Get("/v1/books/ops/entries/" + entry_id + "?min_token=" + field(approved->body, "token"), reader);
            if (r && r->status == 200) {
                entry = r->body;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        INFO(entry);
        CHECK(entry.find("\"ivan\"") != std::string::npos);  // the approver, on the entry's event
        auto security = http.Get("/v1/security", reader);
        REQUIRE(security);
        CHECK(security->body.find("\"actor\":\"ivan\"") != std::string::npos);
        CHECK(security->body.find("\"duty_conflicts\":[]") != std::string::npos);
    }

    SECTION("the dashboard and the OpenAPI document are served without a token") {
        auto index = http.Get("/");
        REQUIRE(index);
        CHECK(index->status == 200);
        CHECK(index->get_header_value("Content-Type").starts_with("text/html"));
        CHECK(index->body.find("app.js") != std::string::npos);
        auto script = http.Get("/app.js");
        REQUIRE(script);
        CHECK(script->status == 200);
        CHECK(!script->body.empty());
        auto doc = http.Get("/v1/openapi.json");
        REQUIRE(doc);
        CHECK(doc->status == 200);
        CHECK(doc->body.find("\"/v1/events\"") != std::string::npos);
    }

    SECTION("errors: bad cursors and ranges, unknown routes, oversized bodies, revoked tokens") {
        auto bad_after = http.Get("/v1/books/ops/accounts/cash/statement?after=x", reader);
        REQUIRE(bad_after);
        CHECK(bad_after->status == 400);
        CHECK(field(bad_after->body, "field") == "after");
        auto bad_date = http.Get("/v1/books/ops/balance-sheet?as_of=garbage", reader);
        REQUIRE(bad_date);
        CHECK(bad_date->status == 400);
        CHECK(field(bad_date->body, "field") == "as_of");
        auto bad_range = http.Get("/v1/books/ops/income-statement?from=2026-11-01&to=2026-13-01", reader);
        REQUIRE(bad_range);
        CHECK(field(bad_range->body, "field") == "to");
        auto bad_partition = http.Get("/v1/events?partition=99", reader);
        REQUIRE(bad_partition);
        CHECK(bad_partition->status == 400);
        CHECK(field(bad_partition->body, "field") == "partition");
        auto bad_limit = http.Get("/v1/events?limit=100000", reader);
        REQUIRE(bad_limit);
        CHECK(bad_limit->status == 400);
        auto bad_wait = http.Post("/v1/commands?wait_ms=forever", submitter, entry_body("o-9", "E9"), "application/json");
        REQUIRE(bad_wait);
        CHECK(bad_wait->status == 400);
        auto statement_of_nothing = http.Get("/v1/books/ops/accounts/nope/statement", reader);
        REQUIRE(statement_of_nothing);
        CHECK(statement_of_nothing->status == 404);
        auto nowhere = http.Get("/v1/nowhere", reader);
        REQUIRE(nowhere);
        CHECK(nowhere->status == 404);
        CHECK(nowhere->get_header_value("Content-Type") == "application/problem+json");
        auto huge = http.Post("/v1/commands", submitter, std::string(2 << 20, ' '), "application/json");
        CHECK((!huge || huge->status == 413));
        auto malformed = http.Post("/v1/commands", submitter, "{\"command_id\":", "application/json");
        REQUIRE(malformed);
        CHECK(malformed->status == 400);
        auto gone = http.Get("/v1/books", revoked);
        REQUIRE(gone);
        CHECK(gone->status == 401);
    }

    SECTION("invoices, payments, aging, statements and the reconciliation over HTTP") {
        const std::string setup =
            R"({"commands":[{"command_id":"b-1","open_account":{"book_id":"ops","account_id":"ar","name":"Receivable","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}},)"
            R"({"command_id":"b-2","open_account":{"book_id":"ops","account_id":"vat","name":"VAT","type":"ACCOUNT_TYPE_LIABILITY","currency":"EUR","scale":2}},)"
            R"({"command_id":"b-3","open_account":{"book_id":"ops","account_id":"adv","name":"Advances","type":"ACCOUNT_TYPE_LIABILITY","currency":"EUR","scale":2}},)"
            R"({"command_id":"b-4","set_account_mapping":{"book_id":"ops","effective_from":"2026-01-01","accounts":[)"
            R"({"role":"ACCOUNT_ROLE_RECEIVABLE","account_id":"ar"},{"role":"ACCOUNT_ROLE_TAX_PAYABLE","account_id":"vat"},)"
            R"({"role":"ACCOUNT_ROLE_CUSTOMER_ADVANCES","account_id":"adv"},{"role":"ACCOUNT_ROLE_REVENUE","account_id":"sales"},)"
            R"({"role":"ACCOUNT_ROLE_BANK","account_id":"cash"}]}},)"
            R"({"command_id":"b-4r","register_counterparty":{"book_id":"ops","counterparty_id":"c1","name":"Client One","customer":true,"effective_from":"2026-01-01"}},)"
            R"({"command_id":"b-5","create_invoice":{"invoice_id":"ops-inv-1","book_id":"ops","direction":"INVOICE_DIRECTION_CUSTOMER","counterparty_id":"c1","currency":"EUR","issue_date":"2026-11-02","payment_terms_days":10,"lines":[{"description":"work","quantity_milli":"2000","unit_price_minor":"5000","tax_rate_bp":2000}]}},)"
            R"({"command_id":"b-6","issue_invoice":{"invoice_id":"ops-inv-1"}},)"
            R"({"command_id":"b-7","receive_payment":{"payment_id":"ops-pay-1","book_id":"ops","direction":"PAYMENT_DIRECTION_RECEIVED","counterparty_id":"c1","amount_minor":"15000","currency":"EUR","date":"2026-11-05"}}]})";
        auto r = http.Post("/v1/commands?wait_ms=20000", submitter, setup, "application/json");
        REQUIRE(r);
        INFO(r->body);
        REQUIRE(r->status == 200);
        CHECK(r->body.find("REJECTED") == std::string::npos);
        // The projection first reaches every outcome's events (min_token), then the sagas settle.
        auto settled = [&](const std::string& outcomes) {
            std::map<std::string, std::uint64_t> seqs;
            for (auto at = outcomes.find("\"token\":\""); at != std::string::npos; at = outcomes.find("\"token\":\"", at + 1)) {
                auto t = outcomes.substr(at + 9, outcomes.find('"', at + 9) - at - 9);
                auto colon = t.find(':');
                auto& seq = seqs[t.substr(0, colon)];
                seq = std::max<std::uint64_t>(seq, std::stoull(t.substr(colon + 1)));
            }
            std::string min_token;
            for (const auto& [p, seq] : seqs) min_token += (min_token.empty() ? "" : ",") + p + ":" + std::to_string(seq);
            std::string body;
            for (int i = 0; i < 300; ++i) {
                auto rec = http.Get("/v1/books/ops/reconciliation?min_token=" + min_token, reader);
                REQUIRE(rec);
                body = rec->body;
                if (body.find("\"in_flight\":[]") != std::string::npos && field(body, "balanced") == "true") return body;
                std::this_thread::sleep_for(100ms);
            }
            return body;
        };
        INFO(settled(r->body));
        auto alloc = http.Post("/v1/commands?wait_ms=20000", submitter,
                               R"({"command_id":"b-8","allocate_payment":{"payment_id":"ops-pay-1","allocations":[{"allocation_id":"x1","invoice_id":"ops-inv-1","amount_minor":"4000"}]}})",
                               "application/json");
        REQUIRE(alloc);
        CHECK(alloc->status == 200);
        auto reconciliation = settled(alloc->body);
        INFO(reconciliation);
        CHECK(field(reconciliation, "balanced") == "true");

        auto invoice = http.Get("/v1/invoices/ops-inv-1", reader);
        REQUIRE(invoice);
        CHECK(invoice->status == 200);
        CHECK(field(invoice->body, "status") == "INVOICE_STATUS_PARTIALLY_PAID");
        CHECK(field(invoice->body, "outstanding_minor") == "8000");  // 120.00 gross - 40.00
        CHECK(field(invoice->body, "number") == "1");
        auto list = http.Get("/v1/books/ops/invoices?direction=customer", reader);
        REQUIRE(list);
        CHECK(list->body.find("ops-inv-1") != std::string::npos);
        auto payment = http.Get("/v1/payments/ops-pay-1", reader);
        REQUIRE(payment);
        CHECK(field(payment->body, "unallocated_minor") == "11000");
        CHECK(http.Get("/v1/books/ops/payments", reader)->body.find("ops-pay-1") != std::string::npos);
        auto aging = http.Get("/v1/books/ops/aging?direction=customer&as_of=2026-11-20", reader);
        REQUIRE(aging);
        INFO(aging->body);
        CHECK(field(aging->body, "days_1_30") == "8000");  // due 2026-11-12, 8 days late
        CHECK(field(aging->body, "unallocated") == "11000");
        auto statement = http.Get("/v1/books/ops/counterparties/c1/statement?direction=customer&from=2026-11-01&to=2026-11-30", reader);
        REQUIRE(statement);
        INFO(statement->body);
        CHECK(statement->body.find("\"kind\":\"invoice\"") != std::string::npos);
        CHECK(statement->body.find("\"closing\":[{\"currency\":\"EUR\",\"amount\":\"-3000\"}]") != std::string::npos);
        auto entry = http.Get("/v1/books/ops/entries/inv:ops-inv-1", reader);
        REQUIRE(entry);
        CHECK(entry->status == 200);
        CHECK(entry->body.find("ACCOUNT_ROLE_RECEIVABLE") != std::string::npos);  // posted by role, resolved to ar
        CHECK(http.Get("/v1/invoices/nope", reader)->status == 404);
        auto saga_step = http.Post("/v1/commands", submitter,
                                   R"({"command_id":"b-9","confirm_allocation":{"payment_id":"ops-pay-1","allocation_id":"x1"}})",
                                   "application/json");
        REQUIRE(saga_step);
        CHECK(saga_step->status == 403);  // only the process managers take saga steps
        CHECK(http.Get("/v1/books/ops/aging?direction=sideways&as_of=2026-11-20", reader)->status == 400);
        CHECK(http.Get("/v1/books/ops/aging?direction=customer", reader)->status == 400);
        auto parties = http.Get("/v1/books/ops/counterparties?as_of=2026-11-30", reader);
        REQUIRE(parties);
        INFO(parties->body);
        CHECK(parties->body.find("\"name\":\"Client One\"") != std::string::npos);
        CHECK(http.Get("/v1/books/ops/counterparties?as_of=2025-12-31", reader)->body == "{\"counterparties\":[]}");  // not yet registered
        CHECK(http.Get("/v1/books/ops/counterparties?as_of=someday", reader)->status == 400);
        CHECK(http.Get("/v1/books/ops/tax-codes", reader)->body == "{\"tax_codes\":[]}");
        // Every read of personal data is in the log, as its reader.
        auto reads = http.Get("/v1/events?partition=" + std::to_string(events::partition_for("rita", 3)) + "&type=access_recorded", reader);
        REQUIRE(reads);
        INFO(reads->body);
        CHECK(reads->body.find("counterparties of book ops") != std::string::npos);
        CHECK(reads->body.find("\"reader\":\"rita\"") != std::string::npos);
    }

    SECTION("an unreadable command lands in the DLQ, is listed, and is resubmitted corrected by an operator") {
        client c(box);
        c.send_raw("ops", events::partition_for("ops", 3), "\x0a\x03o-4\xff\xff garbage");
        std::string exceptions;
        for (int i = 0; i < 300; ++i) {
            auto r = http.Get("/v1/exceptions", reader);
            REQUIRE(r);
            exceptions = r->body;
            if (field(exceptions, "dlq_size") == "1") break;
            std::this_thread::sleep_for(100ms);
        }
        INFO(exceptions);
        REQUIRE(field(exceptions, "dlq_size") == "1");
        auto dlq = http.Get("/v1/dlq", reader);
        REQUIRE(dlq);
        CHECK(field(dlq->body, "offset") == "0");
        CHECK(!field(dlq->body, "error").empty());

        auto args = [&](std::vector<std::string> a) {
            for (auto& x : box.common_args(data, "a")) a.push_back(x);
            return a;
        };
        auto [list_code, list] = run_daybook(args({"dlq", "list", "--format", "json"}));
        CHECK(list_code == 0);
        CHECK(list.find("\"offset\":0") != std::string::npos);
        auto [show_code, show] = run_daybook(args({"dlq", "show", "0"}));
        CHECK(show_code == 0);
        CHECK(show.find("readable now: no") != std::string::npos);
        CHECK(run_daybook(args({"dlq", "resubmit", "0"})).first == 2);  // still unreadable as it is
        auto fixed = box.dir + "/fixed.json";
        std::ofstream(fixed) << entry_body("o-4", "E4");
        auto [resubmit_code, resubmitted] = run_daybook(args({"dlq", "resubmit", "0", "--file", fixed}));
        INFO(resubmitted);
        CHECK(resubmit_code == 0);
        CHECK(resubmitted.find("OUTCOME_STATUS_ACCEPTED") != std::string::npos);
        auto events = http.Get("/v1/events?partition=" + std::to_string(events::partition_for("ops", 3)) + "&command_id=o-4",
                               reader);
        REQUIRE(events);
        INFO(events->body);
        CHECK(field(events->body, "source") == "dlq-resubmit");
        CHECK(field(events->body, "correlation_id") == "dlq/0");
    }
    serve.terminate();
}

TEST_CASE("HTTP API: 429 when too many requests wait or the commands backlog is over its bound; TLS",
          "[integration][http-ops]") {
    sandbox box("httplimits");
    auto tokens = box.dir + "/tokens";
    auto submitter = bearer(token_for(tokens, "alice", "submitter"));
    int port = 26000 + static_cast<int>(::getpid() % 1000);

    SECTION("nothing decides the commands (projector only), so waits last and the backlog grows") {
        serve_process idle(box, "b", box.dir + "/b",
                           {"--roles", "projector", "--http", "127.0.0.1:" + std::to_string(port), "--tokens-file", tokens,
                            "--http-backlog-max", "2", "--http-waits-max", "1"});
        httplib::Client http("127.0.0.1", port);
        http.set_read_timeout(40, 0);
        REQUIRE(wait_for_health(http));
        int slow_status = 0;
        std::thread slow([&] {
            httplib::Client other("127.0.0.1", port);
            other.set_read_timeout(40, 0);
            auto r = other.Post("/v1/commands?wait_ms=4000", submitter, entry_body("l-1", "L1"), "application/json");
            slow_status = r ? r->status : -1;
        });
        std::this_thread::sleep_for(1500ms);
        auto refused = http.Post("/v1/commands?wait_ms=0", submitter, entry_body("l-2", "L2"), "application/json");
        REQUIRE(refused);
        CHECK(refused->status == 429);
        CHECK(refused->get_header_value("Retry-After") == "1");
        slow.join();
        CHECK(slow_status == 202);  // its outcome never came: pending, not lost

        for (int i = 3; i <= 4; ++i) {
            auto r = http.Post("/v1/commands?wait_ms=0", submitter, entry_body("l-" + std::to_string(i), "L"), "application/json");
            REQUIRE(r);
            CHECK(r->status == 202);
        }
        std::string body;
        for (int i = 0; i < 100; ++i) {  // the backlog is measured every second
            auto r = http.Post("/v1/commands?wait_ms=0", submitter, entry_body("l-5", "L5"), "application/json");
            REQUIRE(r);
            body = r->body;
            if (r->status == 429) break;
            std::this_thread::sleep_for(200ms);
        }
        INFO(body);
        CHECK(field(body, "title") == "commands backlog over its bound");
        idle.terminate();
    }

    SECTION("HTTPS with the configured certificate; plain HTTP is refused on that port") {
        auto cert = box.dir + "/cert.pem", key = box.dir + "/key.pem";
        auto [gen_code, gen] = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
        INFO(gen);
        REQUIRE(gen_code == 0);
        serve_process tls(box, "c", box.dir + "/c",
                          {"--roles", "projector", "--http", "127.0.0.1:" + std::to_string(port + 1), "--tokens-file", tokens,
                           "--tls-cert", cert, "--tls-key", key});
        httplib::SSLClient https("127.0.0.1", port + 1);
        https.set_ca_cert_path(cert.c_str());
        https.enable_server_certificate_verification(true);
        REQUIRE(wait_for_health(https));
        auto books = https.Get("/v1/books", submitter);
        REQUIRE(books);
        CHECK(books->status == 200);
        httplib::Client plain("127.0.0.1", port + 1);
        plain.set_read_timeout(5, 0);
        auto refused = plain.Get("/healthz");
        CHECK((!refused || refused->status != 200));
        tls.terminate();
    }
}
