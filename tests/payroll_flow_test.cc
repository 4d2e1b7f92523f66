// Payroll through the real broker and `daybook serve` (processor, projector, process managers):
// an employee's name is sealed in the log; a run is held until a second person with the right
// role approves it, then recorded with the approver and posted to the ledger; reads of pay data
// are refused without read_pay_data (and the refusal is in the log), allowed with it (and
// recorded); erasing the employee leaves the name unreadable and the chain valid.

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "aggregates/payroll.h"
#include "events/codec.h"
#include "tests/harness.h"
#include "tests/http_support.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

void accepted(client& c, const v1::CommandEnvelope& cmd) {
    auto out = c.submit({cmd});
    REQUIRE(out.count(cmd.command_id()));
    INFO(cmd.command_id() << ": " << out[cmd.command_id()].code_name() << " " << out[cmd.command_id()].detail());
    REQUIRE(out[cmd.command_id()].status() == v1::OUTCOME_STATUS_ACCEPTED);
}

}  // namespace

TEST_CASE("payroll: sealed names, a run approved by a second person and posted, confidential pay reads, erasure",
          "[integration][payroll]") {
    sandbox box("payroll", 3);
    auto data = box.dir + "/data";
    auto tokens = box.dir + "/tokens";
    auto paula = bearer(token_for(tokens, "paula", "reader"));  // may read pay data (granted below)
    auto dora = bearer(token_for(tokens, "dora", "reader"));    // may not
    const int port = 25000 + static_cast<int>(::getpid() % 1000);
    serve_process serve(box, "a", data, {"--roles", "processor,projector,billing", "--http", "127.0.0.1:" + std::to_string(port), "--tokens-file", tokens});
    client c(box);
    // The CLI's actor (app/submit.cc): cli:<the operating-system user>.
    const char* user = std::getenv("USER");
    const passwd* pw = ::getpwuid(::getuid());
    const std::string cli = std::string("cli:") + (user && *user ? user : pw && pw->pw_name ? pw->pw_name : "uid-" + std::to_string(::getuid()));

    accepted(c, open_account("open-exp", "pay", "salaries", v1::ACCOUNT_TYPE_EXPENSE));
    accepted(c, open_account("open-liab", "pay", "wages-payable", v1::ACCOUNT_TYPE_LIABILITY));
    for (const auto& cmd : {command_as("alice", "s1", R"({"grant_role":{"realm":"security","actor":"alice","role":"security_admin","book_id":"*"}})"),
                            command_as("alice", "s2", R"({"define_role":{"realm":"security","role":"payroll-approver","may_approve":["run_payroll"]}})"),
                            command_as("alice", "s3", R"({"define_role":{"realm":"security","role":"pay-reader","permissions":[{"command":"read_pay_data"}]}})"),
                            command_as("alice", "s4", R"({"grant_role":{"realm":"security","actor":"carla","role":"payroll-approver","book_id":"pay"}})")})
        accepted(c, cmd);  // in order: each change is the realm's next version
    accepted(c, command_as("hr", "hire-jane",
                   R"({"hire_employee":{"book_id":"pay","employee_id":"jane","name":"Jane Payroll-Doe","annual_salary_minor":"6000000","currency":"EUR","hire_date":"2026-01-01"}})"));
    accepted(c, command_as("hr", "hire-joe",
                   R"({"hire_employee":{"book_id":"pay","employee_id":"joe","name":"Joe Example","annual_salary_minor":"4800000","currency":"EUR","hire_date":"2026-11-16"}})"));

    // The run is held, whoever submits it.
    auto run = command_as("pat", "run-nov",
                  R"({"run_payroll":{"book_id":"pay","run_id":"2026-11","period":"2026-11","currency":"EUR","pay_date":"2026-11-28","expense_account_id":"salaries","payable_account_id":"wages-payable","expected_total_minor":"700000"}})");
    auto held = c.submit({run});
    REQUIRE(held.count("run-nov"));
    REQUIRE(held["run-nov"].status() == v1::OUTCOME_STATUS_PENDING_APPROVAL);
    auto approval = [&](const std::string& approver, const std::string& id) {
        auto a = command_as(approver, id, R"({"approve_command":{"routing_key":"pay","command_id":"run-nov"}})");
        a.mutable_approve_command()->set_fingerprint(events::fingerprint_of(run));
        auto out = c.submit({a});
        REQUIRE(out.count(id));
        return out[id];
    };
    CHECK(approval("pat", "self").code_name() == "self_approval");
    // carla's role reaches the book's partition through the process managers' copy.
    v1::Outcome approved;
    for (int i = 0; i < 100; ++i) {
        approved = approval("carla", "approve-" + std::to_string(i));
        if (approved.code_name() != "not_permitted") break;
        std::this_thread::sleep_for(100ms);
    }
    INFO(approved.code_name() << " " << approved.detail());
    REQUIRE(approved.status() == v1::OUTCOME_STATUS_ACCEPTED);

    auto with = [&](std::vector<std::string> args) {
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        return run_daybook(args);
    };
    // Posted by the process managers: jane a full month (5,000.00), joe 15 of 30 days (2,000.00).
    bool posted = false;
    for (int i = 0; i < 200 && !posted; ++i) {
        auto [rc, out] = with({"query", "balance", "--book", "pay", "--account", "salaries", "--format", "json"});
        posted = rc == 0 && out.find("\"debits_minor\":\"700000\"") != std::string::npos;
        if (!posted) std::this_thread::sleep_for(100ms);
    }
    CHECK(posted);

    // Pay data: refused without read_pay_data (permissions are not even enforced), then allowed.
    auto refused = with({"query", "payroll", "--book", "pay", "--format", "json"});
    INFO(refused.second);
    CHECK(refused.first == 3);
    CHECK(refused.second.find("6000000") == std::string::npos);
    accepted(c, command_as("alice", "s5", R"({"grant_role":{"realm":"security","actor":")" + cli + R"(","role":"pay-reader","book_id":"pay"}})"));
    std::pair<int, std::string> read{1, ""};
    for (int i = 0; i < 100 && read.first != 0; ++i) {  // the grant reaches the reader's partition
        read = with({"query", "payroll", "--book", "pay", "--format", "json"});
        if (read.first != 0) std::this_thread::sleep_for(100ms);
    }
    INFO(read.second);
    REQUIRE(read.first == 0);
    CHECK(read.second.find("\"name\":\"Jane Payroll-Doe\"") != std::string::npos);
    CHECK(read.second.find("\"total_minor\":\"700000\"") != std::string::npos);

    // Over HTTP: 403 without the role (and the refusal in the log), the names and runs with it.
    accepted(c, command_as("alice", "s6", R"({"grant_role":{"realm":"security","actor":"paula","role":"pay-reader","book_id":"pay"}})"));
    httplib::Client http("127.0.0.1", port);
    http.set_read_timeout(40, 0);
    REQUIRE(wait_for_health(http));
    auto refused_http = http.Get("/v1/books/pay/payroll", dora);
    REQUIRE(refused_http);
    CHECK(refused_http->status == 403);
    CHECK(refused_http->body.find("6000000") == std::string::npos);
    int status = 0;
    std::string body;
    for (int i = 0; i < 100 && status != 200; ++i) {  // the grant reaches paula's partition
        if (auto r = http.Get("/v1/books/pay/payroll?period=2026-12&currency=EUR", paula)) status = r->status, body = r->body;
        if (status != 200) std::this_thread::sleep_for(100ms);
    }
    INFO(body);
    REQUIRE(status == 200);
    CHECK(body.find("\"name\":\"Jane Payroll-Doe\"") != std::string::npos);
    CHECK(body.find("\"preview\":{") != std::string::npos);
    CHECK(http.Get("/v1/books/pay/payroll?period=2026-13&currency=EUR", paula)->status == 400);
    // The event browser shows payroll events without their pay data.
    int redacted = 0;
    for (int p = 0; p < 3; ++p) {
        auto events = http.Get("/v1/events?limit=200&partition=" + std::to_string(p), paula);
        REQUIRE(events);
        REQUIRE(events->status == 200);
        CHECK(events->body.find("6000000") == std::string::npos);
        for (auto at = events->body.find("\"redacted\""); at != std::string::npos; at = events->body.find("\"redacted\"", at + 1)) ++redacted;
    }
    CHECK(redacted >= 3);  // two hires and the run

    auto [erased, erase_out] = with({"privacy", "erase", "--subject", aggregates::payroll::subject_of("pay", "jane"), "--reason", "art. 17"});
    INFO(erase_out);
    CHECK(erased == 0);
    auto after = with({"query", "payroll", "--book", "pay", "--format", "json"});
    INFO(after.second);
    CHECK(after.second.find("\"name\":\"[erased]\"") != std::string::npos);
    CHECK(after.second.find("Jane") == std::string::npos);
    CHECK(after.second.find("\"name\":\"Joe Example\"") != std::string::npos);
    serve.terminate();

    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    bool clear = false, run_recorded = false;
    int pay_reads = 0, pay_refusals = 0, http_refusals = 0;
    for (const auto& e : audit.envelopes) {
        clear |= e.SerializeAsString().find("Payroll-Doe") != std::string::npos;
        if (e.has_payroll_run_recorded()) {
            run_recorded = true;
            CHECK(e.actor() == "pat");
            REQUIRE(e.approvers_size() == 1);
            CHECK(e.approvers(0) == "carla");
            CHECK(e.payroll_run_recorded().total_minor() == 700000);
        }
        pay_reads += e.has_access_recorded() && e.access_recorded().pay_data() && e.access_recorded().reader() == cli;
        pay_refusals += e.has_command_rejected() && (e.actor() == cli || e.actor() == "dora") && e.command_rejected().code_name() == "not_permitted";
        http_refusals += e.has_command_rejected() && e.actor() == "dora";
    }
    CHECK_FALSE(clear);  // the name never entered the log in clear
    CHECK(run_recorded);
    CHECK(pay_reads == 2);
    CHECK(pay_refusals >= 2);  // every refused read is a record with its reader
    CHECK(http_refusals == 1);
    std::printf("payroll: run_recorded=%s approver=carla plaintext_in_log=%s pay_reads=%d refused_reads=%d chain_problems=%zu\n",
                run_recorded ? "true" : "false", clear ? "true" : "false", pay_reads, pay_refusals, audit.problems.size());
}
