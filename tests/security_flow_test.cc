// Permissions and four eyes through the real broker and `daybook serve`: a security change
// reaches every partition through the process managers, an unpermitted command is refused in
// any partition, a held posting survives a SIGKILL of the processor and is decided only by a
// second person, and its entry records the approver and the permissions version.

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <thread>

#include "events/codec.h"
#include "events/murmur2.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

v1::CommandEnvelope by(const std::string& actor, v1::CommandEnvelope c) {
    c.set_actor(actor);
    return c;
}

}  // namespace

TEST_CASE("permissions reach every partition; a held posting survives a processor crash and waits for a second person",
          "[integration][security]") {
    sandbox box("security", 3);
    auto data = box.dir + "/data";
    auto serve = std::make_unique<serve_process>(box, "a", data, std::vector<std::string>{"--roles", "processor,projector,billing"});
    client c(box);

    // Two books in two different partitions.
    std::vector<std::string> books;
    for (int i = 0; books.size() < 2; ++i) {
        auto book = "sec-" + std::to_string(i);
        if (books.empty() || events::partition_for(book, 3) != events::partition_for(books[0], 3)) books.push_back(book);
    }
    std::vector<v1::CommandEnvelope> setup;
    for (const auto& b : books) {
        setup.push_back(open_account("open-cash-" + b, b, "cash", v1::ACCOUNT_TYPE_ASSET));
        setup.push_back(open_account("open-sales-" + b, b, "sales", v1::ACCOUNT_TYPE_REVENUE));
    }
    for (const auto& [id, o] : c.submit(setup)) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);

    const std::vector<v1::CommandEnvelope> realm{
        command_as("alice", "s1", R"({"grant_role":{"realm":"security","actor":"alice","role":"security_admin","book_id":"*"}})"),
        command_as("alice", "s2", R"({"define_role":{"realm":"security","role":"clerk","permissions":[{"command":"post_entry","limits":[{"currency":"EUR","max_minor":"1000000"}]}]}})"),
        command_as("alice", "s3", R"({"define_role":{"realm":"security","role":"approver","may_approve":["post_entry"]}})"),
        command_as("alice", "s4", R"({"grant_role":{"realm":"security","actor":"clara","role":"clerk","book_id":"*"}})"),
        command_as("alice", "s5", R"({"grant_role":{"realm":"security","actor":"anna","role":"approver","book_id":"*"}})"),
        command_as("alice", "s6", R"({"set_approval_policy":{"realm":"security","command":"post_entry","book_id":"*","currency":"EUR","above_minor":"50000","expires_after_s":600}})"),
        command_as("alice", "s7", R"({"set_permissions_enforced":{"realm":"security","enforced":true}})")};
    for (const auto& cmd : realm) {  // in order: each change is the realm's next version
        auto out = c.submit({cmd});
        REQUIRE(out.count(cmd.command_id()));
        INFO(out[cmd.command_id()].detail());
        REQUIRE(out[cmd.command_id()].status() == v1::OUTCOME_STATUS_ACCEPTED);
    }

    // The copies arrive through the process managers: wait until both books' partitions refuse
    // a stranger (enforcement is the last change, so every earlier one is there too).
    int probes = 0;
    for (const auto& b : books) {
        bool refused = false;
        for (int i = 0; i < 300 && !refused; ++i) {
            const auto n = std::to_string(++probes);
            auto probe = by("mallory", post_entry("probe-" + n, b, "p" + n, "cash", "sales", 1));
            auto out = c.submit({probe});
            refused = out.count(probe.command_id()) && out[probe.command_id()].code_name() == "not_permitted";
            if (!refused) std::this_thread::sleep_for(100ms);
        }
        INFO(b);
        REQUIRE(refused);
    }

    // clara may post small amounts at once, in both partitions.
    for (const auto& b : books) {
        auto small = by("clara", post_entry("small-" + b, b, "small-" + b, "cash", "sales", 20000));
        CHECK(c.submit({small})[small.command_id()].status() == v1::OUTCOME_STATUS_ACCEPTED);
    }
    // Above 500.00 EUR her posting is held; the processor is then killed and restarted.
    auto big = by("clara", post_entry("big", books[1], "big", "cash", "sales", 90000));
    auto held = c.submit({big});
    REQUIRE(held.count("big"));
    CHECK(held["big"].status() == v1::OUTCOME_STATUS_PENDING_APPROVAL);
    serve->kill();
    serve = std::make_unique<serve_process>(box, "a", data, std::vector<std::string>{"--roles", "processor,projector,billing"});

    auto approval = [&](const std::string& id, const std::string& actor) {
        auto a = command_as(actor, id, R"({"approve_command":{"routing_key":")" + books[1] + R"(","command_id":"big"}})");
        a.mutable_approve_command()->set_fingerprint(events::fingerprint_of(big));
        return a;
    };
    auto self = c.submit({approval("self", "clara")});
    CHECK(self["self"].code_name() == "self_approval");
    auto other = c.submit({approval("ok", "anna")});
    CHECK(other["ok"].status() == v1::OUTCOME_STATUS_ACCEPTED);
    // The held command's own outcome now: a retry of it answers with what was decided.
    auto retry = c.submit({big});
    CHECK(retry["big"].status() == v1::OUTCOME_STATUS_ACCEPTED);
    serve->terminate();

    auto audit = audit_events(box);
    CHECK(audit.problems.empty());
    int copies = 0;
    bool entry_found = false;
    for (const auto& e : audit.envelopes) {
        copies += e.has_security_replicated();
        if (e.has_entry_posted() && e.entry_posted().entry_id() == "big") {
            entry_found = true;
            CHECK(e.actor() == "clara");
            REQUIRE(e.approvers_size() == 1);
            CHECK(e.approvers(0) == "anna");
            CHECK(e.permissions_version() == 7);
        }
    }
    CHECK(entry_found);
    CHECK(copies == 7 * 3);  // every change, once in every partition
    std::printf("security flow: partitions=3 realm_changes=7 copies=%d probes=%d held=1 approved_by=anna\n", copies, probes);
}

TEST_CASE("personal data is sealed in the log, readable until its subject is erased, and the chain still verifies",
          "[integration][privacy]") {
    sandbox box("privacy", 3);
    auto data = box.dir + "/data";
    serve_process serve(box, "a", data, {"--roles", "processor,projector"});
    client c(box);
    auto reg = command_as("alice", "reg-1",
                  R"({"register_counterparty":{"book_id":"pv","counterparty_id":"jane","name":"Jane Doe Consulting","customer":true,"effective_from":"2026-01-01"}})");
    auto out = c.submit({reg});
    REQUIRE(out.count("reg-1"));
    REQUIRE(out["reg-1"].status() == v1::OUTCOME_STATUS_ACCEPTED);
    auto with = [&](std::vector<std::string> args) {
        for (auto& a : box.common_args(data, "a")) args.push_back(a);
        return run_daybook(args);
    };
    auto names = [&](const std::string& token) {
        return with({"query", "counterparties", "--book", "pv", "--format", "json", "--token", token}).second;
    };
    auto before = names(events::token_of(out["reg-1"]));
    INFO(before);
    CHECK(before.find("\"name\":\"Jane Doe Consulting\"") != std::string::npos);

    auto [erased, erase_out] = with({"privacy", "erase", "--subject", "pv/jane", "--reason", "art. 17 request 2026-114"});
    INFO(erase_out);
    CHECK(erased == 0);
    auto after = names(events::token_of(out["reg-1"]));
    INFO(after);
    CHECK(after.find("\"name\":\"[erased]\"") != std::string::npos);
    CHECK(after.find("Jane") == std::string::npos);
    serve.terminate();

    auto audit = audit_events(box);
    CHECK(audit.problems.empty());  // the chain still verifies: the sealed bytes never changed
    bool sealed = false, recorded = false, clear = false;
    for (const auto& e : audit.envelopes) {
        clear |= e.SerializeAsString().find("Jane Doe") != std::string::npos;
        sealed |= e.has_counterparty_registered() && !e.counterparty_registered().name_sealed().empty();
        recorded |= e.has_subject_erased() && e.subject_erased().subject() == "pv/jane";
    }
    CHECK(sealed);
    CHECK(recorded);
    CHECK_FALSE(clear);  // the name never entered the log in clear
    // Each CLI read of the names was recorded first, with its reader.
    int cli_reads = 0;
    for (const auto& e : audit.envelopes)
        cli_reads += e.has_access_recorded() && e.access_recorded().reader().starts_with("cli:") &&
                     e.access_recorded().what() == "counterparties of book pv";
    CHECK(cli_reads == 2);
    std::printf("privacy: sealed=%s erased=%s plaintext_in_log=%s chain_problems=%zu\n", sealed ? "true" : "false",
                recorded ? "true" : "false", clear ? "true" : "false", audit.problems.size());
}
