// Permissions and four-eyes approval as specifications, through the processor's own record path
// (consumers/command_state.h: records_for + apply_record on one partition's state), so what is
// tested is what the processor appends: the realm's rules, the partition's copy, the
// authorisation matrix, held commands, approvals and their refusals. Rules: aggregates/security.h.

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aggregates/security.h"
#include "events/codec.h"
#include "events/murmur2.h"
#include "tests/partition_harness.h"

namespace {

using namespace daybook;
using namespace daybook::testing;
namespace security = aggregates::security;

v1::CommandEnvelope post(std::int64_t amount, const std::string& book = "acme", const std::string& currency = "EUR") {
    static int entries = 0;
    auto a = std::to_string(amount);
    return parse(R"({"post_entry":{"book_id":")" + book + R"(","entry_id":"e)" + std::to_string(++entries) +
                 R"(","effective_date":"2026-11-23","legs":[{"account_id":"cash","side":"SIDE_DEBIT","amount_minor":")" + a +
                 R"(","currency":")" + currency + R"("},{"account_id":"sales","side":"SIDE_CREDIT","amount_minor":")" + a +
                 R"(","currency":")" + currency + R"("}]}})");
}

// A book acme with cash and sales in EUR; alice is the security admin; roles clerk (post_entry up
// to 1,000.00 EUR, place_hold), manager (every command), approver (may approve post_entry),
// auditor (nothing); system for the operators' own set-up.
partition company() {
    partition p;
    for (const auto& id : {"cash", "sales"})
        REQUIRE(code_of(p.submit(parse(std::string(R"({"open_account":{"book_id":"acme","account_id":")") + id +
                                       R"(","name":"x","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}})"),
                                 "setup")) == "accepted");
    REQUIRE(code_of(p.submit(grant("alice", security::admin_role), "alice")) == "accepted");  // the bootstrap
    for (const auto& role : {
             R"({"define_role":{"realm":"security","role":"clerk","permissions":[{"command":"post_entry","limits":[{"currency":"EUR","max_minor":"100000"}]},{"command":"place_hold"}]}})",
             R"({"define_role":{"realm":"security","role":"manager","permissions":[{"command":"*"}]}})",
             R"({"define_role":{"realm":"security","role":"approver","may_approve":["post_entry"]}})",
             R"({"define_role":{"realm":"security","role":"auditor"}})"})
        REQUIRE(code_of(p.submit(parse(role), "alice")) == "accepted");
    return p;
}

}  // namespace

SCENARIO("the security realm: a recorded bootstrap, then only security admins change permissions", "[security][realm]") {
    GIVEN("no security admin yet") {
        partition p;
        WHEN("someone who is not an admin defines a role") {
            THEN("security_admin_required") {
                CHECK(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"clerk"}})"), "mallory")) == "security_admin_required");
            }
        }
        WHEN("anyone grants security_admin (the bootstrap)") {
            auto records = p.submit(grant("alice", security::admin_role), "bob");
            THEN("security_changed, version 1, by the actor who did it, and copied into the partition") {
                REQUIRE(records[0].has_security_changed());
                CHECK(records[0].security_changed().change().version() == 1);
                CHECK(records[0].security_changed().change().by() == "bob");
                CHECK(security::version(p.state) == 1);
                AND_THEN("the bootstrap is over: bob, not an admin, can do nothing more") {
                    CHECK(code_of(p.submit(grant("bob", security::admin_role), "bob")) == "security_admin_required");
                }
            }
        }
    }
    GIVEN("alice is the only security admin") {
        auto p = company();
        THEN("each realm rule refuses with its code, in the documented order") {
            auto realm = grant("bob", "clerk");
            realm.mutable_grant_role()->set_realm("elsewhere");
            CHECK(code_of(p.submit(realm, "alice")) == "security_realm_invalid");
            CHECK(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"a/b"}})"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"security_admin"}})"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"x","permissions":[{"command":"post_entri"}]}})"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"x","permissions":[{"command":"post_entry","limits":[{"currency":"EUR","max_minor":"-1"}]}]}})"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"x","may_approve":["linked_run"]}})"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(grant("", "clerk"), "alice")) == "actor_invalid");
            CHECK(code_of(p.submit(grant("bob", "clerk", "a b"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(grant("bob", security::admin_role, "acme"), "alice")) == "role_invalid");
            CHECK(code_of(p.submit(grant("bob", "cashier"), "alice")) == "role_not_found");
            CHECK(code_of(p.submit(parse(R"({"revoke_role":{"realm":"security","actor":"bob","role":"clerk","book_id":"*"}})"), "alice")) == "grant_not_found");
            CHECK(code_of(p.submit(parse(R"({"revoke_role":{"realm":"security","actor":"alice","role":"security_admin","book_id":"*"}})"), "alice")) == "security_admin_required");
            for (const auto& bad : {R"({"set_approval_policy":{"realm":"security","command":"*","book_id":"*","expires_after_s":60}})",
                                    R"({"set_approval_policy":{"realm":"security","command":"approve_command","book_id":"*","expires_after_s":60}})",
                                    R"({"set_approval_policy":{"realm":"security","command":"post_entry","book_id":"*","currency":"euro","expires_after_s":60}})",
                                    R"({"set_approval_policy":{"realm":"security","command":"post_entry","book_id":"*","above_minor":"-5","expires_after_s":60}})",
                                    R"({"set_approval_policy":{"realm":"security","command":"post_entry","book_id":"*"}})",
                                    R"({"set_approval_policy":{"realm":"security","command":"post_entry","book_id":"*","expires_after_s":2592001}})"})
                CHECK(code_of(p.submit(parse(bad), "alice")) == "approval_policy_invalid");
            auto copy = parse(R"({"replicate_security":{"partition_key":"security/0","change":{"version":"99"}}})");
            CHECK(code_of(p.submit(copy, "daybook-security")) == "security_version_invalid");
            copy.mutable_replicate_security()->set_partition_key("books/0");
            CHECK(code_of(p.submit(copy, "daybook-security")) == "security_realm_invalid");
        }
        THEN("a second admin can be added, and then the first revoked") {
            REQUIRE(code_of(p.submit(grant("carol", security::admin_role), "alice")) == "accepted");
            CHECK(code_of(p.submit(parse(R"({"revoke_role":{"realm":"security","actor":"alice","role":"security_admin","book_id":"*"}})"), "carol")) == "accepted");
            CHECK(code_of(p.submit(grant("dave", "clerk"), "alice")) == "security_admin_required");
        }
    }
}

TEST_CASE("authorisation matrix: every role x command x amount, with one refusal record per denial", "[security][matrix]") {
    auto p = company();
    REQUIRE(code_of(p.submit(grant("clara", "clerk", "acme"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("max", "manager"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("anna", "approver", "acme"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("otto", "clerk", "other"), "alice")) == "accepted");  // a clerk of another book
    // Before enforcement, anyone may submit anything.
    CHECK(code_of(p.submit(post(5), "nobody")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"set_permissions_enforced":{"realm":"security","enforced":true}})"), "alice")) == "accepted");
    REQUIRE(security::enforced(p.state));

    // The expected answer, written independently of aggregates/security.cc.
    auto expected = [](const std::string& actor, const std::string& command, std::int64_t amount, const std::string& currency) {
        if (actor == "max") return true;
        if (actor == "clara") return (command == "post_entry" && currency == "EUR" && amount <= 100000) || command == "place_hold";
        return false;  // anna may only approve, otto's clerk role is for another book, nobody has nothing
    };
    int cases = 0, mismatches = 0, denials = 0, denial_records = 0;
    int holds = 0;
    for (const std::string actor : {"clara", "max", "anna", "otto", "nobody"})
        for (const std::string command : {"post_entry", "place_hold", "close_account", "set_account_constraints"})
            for (std::int64_t amount : {1, 100000, 100001})
                for (const std::string currency : {"EUR", "USD"}) {
                    v1::CommandEnvelope cmd;
                    if (command == "post_entry") cmd = post(amount, "acme", currency);
                    else if (command == "place_hold")
                        cmd = parse(R"({"place_hold":{"book_id":"acme","hold_id":"h)" + std::to_string(++holds) +
                                    R"(","debit_account_id":"cash","credit_account_id":"sales","amount_minor":")" + std::to_string(amount) +
                                    R"(","currency":")" + currency + R"(","expires_at_ms":")" + std::to_string(start_ms + 3'600'000) + R"("}})");
                    else if (command == "close_account") cmd = parse(R"({"close_account":{"book_id":"acme","account_id":"nope"}})");
                    else cmd = parse(R"({"set_account_constraints":{"book_id":"acme","account_id":"nope"}})");
                    auto records = p.submit(cmd, actor);
                    bool permitted = code_of(records) != "not_permitted";
                    ++cases;
                    if (permitted != expected(actor, command, amount, currency)) {
                        ++mismatches;
                        UNSCOPED_INFO(actor << " " << command << " " << amount << " " << currency << " -> " << code_of(records));
                    }
                    if (!permitted) {
                        ++denials;
                        denial_records += static_cast<int>(records.size() == 1 && records[0].has_command_rejected() &&
                                                           records[0].actor() == actor && records[0].permissions_version() == security::version(p.state));
                    }
                }
    std::printf("authorisation matrix: cases=%d mismatches=%d denials=%d denial_records=%d\n", cases, mismatches, denials, denial_records);
    CHECK(cases == 5 * 4 * 3 * 2);
    CHECK(mismatches == 0);
    CHECK(denials > 0);
    CHECK(denial_records == denials);  // every denial is one sealed record naming the actor and the version

    // A revocation applies from the next command on.
    REQUIRE(code_of(p.submit(parse(R"({"revoke_role":{"realm":"security","actor":"clara","role":"clerk","book_id":"acme"}})"), "alice")) == "accepted");
    CHECK(code_of(p.submit(post(10), "clara")) == "not_permitted");
}

SCENARIO("four eyes: a held command is decided only when another person with the right role approves it", "[security][approval]") {
    auto p = company();
    for (const auto& g : {grant("clara", "clerk", "acme"), grant("max", "manager"), grant("anna", "approver", "acme"), grant("max", "approver"),
                          grant("alice", "manager")})
        REQUIRE(code_of(p.submit(g, "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"set_permissions_enforced":{"realm":"security","enforced":true}})"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"set_approval_policy":{"realm":"security","command":"post_entry","book_id":"acme","currency":"EUR","above_minor":"50000","expires_after_s":3600}})"), "alice")) == "accepted");

    GIVEN("a posting under the threshold") {
        THEN("it is decided at once") { CHECK(code_of(p.submit(post(50000), "clara")) == "accepted"); }
    }
    GIVEN("clara's posting of 900.00 EUR, above the threshold") {
        auto held = post(90000);
        held.set_command_id("big-1");
        auto records = p.submit(held, "clara");
        const auto fingerprint = events::fingerprint_of(held);
        auto approve = [&](bool reject = false, const std::string& fp = "") {
            auto a = parse(R"({"approve_command":{"routing_key":"acme","command_id":"big-1"}})");
            a.mutable_approve_command()->set_fingerprint(fp.empty() ? fingerprint : fp);
            a.mutable_approve_command()->set_reject(reject);
            return a;
        };
        THEN("it is held: approval_requested, outcome PENDING_APPROVAL, nothing posted; a retry answers the same") {
            REQUIRE(records.size() == 1);
            REQUIRE(records[0].has_approval_requested());
            CHECK(records[0].approval_requested().requested_by() == "clara");
            CHECK(records[0].approval_requested().expires_at_ms() == start_ms + 3'600'000);
            CHECK(p.outcome(held).status() == v1::OUTCOME_STATUS_PENDING_APPROVAL);
            CHECK(security::find_held(p.state, "acme", "big-1")->command_name() == "post_entry");
        }
        WHEN("clara tries to approve it herself, 100 times") {
            int refused = 0;
            for (int i = 0; i < 100; ++i) refused += code_of(p.submit(approve(), "clara")) == "self_approval";
            THEN("all 100 are refused and it still waits") {
                CHECK(refused == 100);
                CHECK(p.outcome(held).status() == v1::OUTCOME_STATUS_PENDING_APPROVAL);
            }
        }
        WHEN("an approval names a different payload") {
            THEN("approval_fingerprint_mismatch") { CHECK(code_of(p.submit(approve(false, events::fingerprint_of(post(1))), "anna")) == "approval_fingerprint_mismatch"); }
        }
        WHEN("someone without a role that may approve it tries") {
            THEN("not_permitted") { CHECK(code_of(p.submit(approve(), "alice")) == "not_permitted"); }  // an admin and manager, but no approver
        }
        WHEN("the window has passed") {
            p.now_ms += 3'600'001;
            THEN("approval_expired, and it stays unapproved") {
                CHECK(code_of(p.submit(approve(), "anna")) == "approval_expired");
                CHECK(p.outcome(held).status() == v1::OUTCOME_STATUS_PENDING_APPROVAL);
            }
        }
        WHEN("anna approves it") {
            auto approved = p.submit(approve(), "anna");
            THEN("approval_resolved, then the posting, as clara's, with anna as approver") {
                REQUIRE(approved.size() == 2);
                CHECK(approved[0].approval_resolved().approved());
                REQUIRE(approved[1].has_entry_posted());
                CHECK(approved[1].actor() == "clara");
                CHECK(approved[1].command_id() == "big-1");
                REQUIRE(approved[1].approvers_size() == 1);
                CHECK(approved[1].approvers(0) == "anna");
                CHECK(p.outcome(held).status() == v1::OUTCOME_STATUS_ACCEPTED);
                CHECK(code_of(p.submit(approve(), "max")) == "approval_not_found");  // decided once
            }
        }
        WHEN("anna rejects it") {
            auto rejected = p.submit(approve(true), "anna");
            THEN("its outcome is approval_rejected, naming her") {
                CHECK_FALSE(rejected[0].approval_resolved().approved());
                auto o = p.outcome(held);
                CHECK(o.status() == v1::OUTCOME_STATUS_REJECTED);
                CHECK(o.code_name() == "approval_rejected");
                CHECK(o.detail().find("anna") != std::string::npos);
            }
        }
        WHEN("clara loses her role before it is approved") {
            REQUIRE(code_of(p.submit(parse(R"({"revoke_role":{"realm":"security","actor":"clara","role":"clerk","book_id":"acme"}})"), "alice")) == "accepted");
            auto approved = p.submit(approve(), "anna");
            THEN("the approval is recorded, and the posting is refused as not_permitted for clara") {
                REQUIRE(approved.size() == 2);
                CHECK(approved[1].command_rejected().code_name() == "not_permitted");
                CHECK(p.outcome(held).code_name() == "not_permitted");
            }
        }
    }
    GIVEN("max, a manager and an approver, submitting above the threshold") {
        auto held = post(70000);
        held.set_command_id("big-2");
        REQUIRE(p.submit(held, "max").front().has_approval_requested());
        THEN("he cannot approve his own command either; anna can") {
            auto a = parse(R"({"approve_command":{"routing_key":"acme","command_id":"big-2"}})");
            a.mutable_approve_command()->set_fingerprint(events::fingerprint_of(held));
            CHECK(code_of(p.submit(a, "max")) == "self_approval");
            CHECK(p.submit(a, "anna").size() == 2);
        }
    }
    GIVEN("a linked run with a posting that needs approval") {
        auto run = parse(R"({"linked_run":{"commands":[]}})", "run-1");
        auto small = post(100);
        small.set_command_id("r1");
        auto big = post(90000);
        big.set_command_id("r2");
        *run.mutable_linked_run()->add_commands() = small;
        *run.mutable_linked_run()->add_commands() = big;
        auto key = events::routing_key_of(run);
        run.set_actor("clara");
        consumers::record_context ctx{key, events::fingerprint_of(run), p.now_ms, "test"};
        auto records = consumers::records_for_run(run, ctx, p.state, 0, p.seq + 1);
        THEN("the run is refused: approval_required_in_run") {
            REQUIRE(records.size() == 2);
            CHECK(records[1].command_rejected().code_name() == "approval_required_in_run");
            CHECK(records[0].command_rejected().code_name() == "linked_command_failed");
        }
    }

    THEN("the segregation-of-duties report lists max: he may both submit and approve post_entry") {
        auto conflicts = security::duty_conflicts(p.state);
        bool max_found = false, anna_found = false;
        for (const auto& c : conflicts) {
            max_found |= c.actor == "max" && c.command == "post_entry";
            anna_found |= c.actor == "anna";
        }
        CHECK(max_found);
        CHECK_FALSE(anna_found);
    }
}

TEST_CASE("a security change is copied into every partition under a key that lands there", "[security][manager]") {
    for (int partitions : {1, 3, 12}) {
        v1::EventEnvelope e;
        e.set_stream_id("security");
        e.set_version(4);
        e.mutable_security_changed()->mutable_change()->set_version(4);
        auto copies = consumers::follow_ups(e, partitions);
        REQUIRE(copies.size() == static_cast<std::size_t>(partitions));
        for (int i = 0; i < partitions; ++i) {
            CHECK(events::partition_for(events::routing_key_of(copies[i]), partitions) == i);
            CHECK(copies[i].command_id() == "pm/security@4/replicate/" + std::to_string(i));
            CHECK(copies[i].replicate_security().change().version() == 4);
        }
    }
}

TEST_CASE("authorisation matrix over every command type: roles x commands x books, exempt commands named", "[security][matrix]") {
    auto p = company();
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"billing-clerk","permissions":[{"command":"create_invoice"},{"command":"issue_invoice"},{"command":"receive_payment","limits":[{"currency":"EUR","max_minor":"1000"}]}]}})"), "alice")) == "accepted");
    for (const auto& g : {grant("clara", "clerk", "acme"), grant("max", "manager"), grant("bill", "billing-clerk", "acme"), grant("anna", "approver", "acme")})
        REQUIRE(code_of(p.submit(g, "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"set_permissions_enforced":{"realm":"security","enforced":true}})"), "alice")) == "accepted");

    // Every command the envelope can carry, with book acme, currency EUR and no amount.
    const auto* oneof = v1::CommandEnvelope::descriptor()->FindOneofByName("payload");
    REQUIRE(oneof);
    const std::map<std::string, std::set<std::string>> allowed{
        {"clara", {"post_entry", "place_hold"}},
        {"max", {"*"}},
        {"bill", {"create_invoice", "issue_invoice", "receive_payment"}},
        {"anna", {}},
        {"nobody", {}}};
    const std::set<std::string> exempt{"define_role", "grant_role", "revoke_role", "set_approval_policy", "set_permissions_enforced",
                                       "replicate_security", "approve_command"};
    int cases = 0, mismatches = 0;
    for (int i = 0; i < oneof->field_count(); ++i) {
        const auto* field = oneof->field(i);
        if (field->name() == "linked_run") continue;
        v1::CommandEnvelope cmd;
        auto* payload = cmd.GetReflection()->MutableMessage(&cmd, field);
        if (const auto* book = payload->GetDescriptor()->FindFieldByName("book_id"); book && book->type() == google::protobuf::FieldDescriptor::TYPE_STRING)
            payload->GetReflection()->SetString(payload, book, "acme");
        // A currency the limits know (a command moving an unnamed currency fails any limit).
        if (const auto* ccy = payload->GetDescriptor()->FindFieldByName("currency"); ccy && ccy->type() == google::protobuf::FieldDescriptor::TYPE_STRING)
            payload->GetReflection()->SetString(payload, ccy, "EUR");
        for (const auto& [actor, commands] : allowed) {
            cmd.set_actor(actor);
            auto facts = security::facts_of(cmd, p.state);
            bool permitted = !security::authorize(p.state, cmd, facts);
            // A grant for one book covers a command only when the command's book is known (from the
            // payload, or the invoice or payment it names): unknown, it is refused (fail closed).
            bool expected = exempt.count(field->name()) || commands.count("*") || (!facts.book.empty() && commands.count(field->name()));
            ++cases;
            if (permitted != expected) {
                ++mismatches;
                UNSCOPED_INFO(actor << " " << field->name() << (permitted ? " permitted" : " refused"));
            }
        }
    }
    std::printf("authorisation matrix (every command type): command_types=%d cases=%d mismatches=%d\n", oneof->field_count() - 1, cases, mismatches);
    CHECK(cases >= 5 * 40);
    CHECK(mismatches == 0);
}

TEST_CASE("reads of personal data are recorded as their reader, and need a role when permissions are enforced", "[security][privacy]") {
    auto p = company();
    auto read = [](const std::string& reader) {
        return parse(R"({"record_access":{"reader":")" + reader + R"(","what":"counterparties of book acme","book_id":"acme"}})");
    };
    auto open = p.submit(read("rita"), "rita");
    REQUIRE(open[0].has_access_recorded());  // not enforced: recorded, and allowed
    CHECK(open[0].stream_id() == "access/rita");
    CHECK(code_of(p.submit(read("someone-else"), "rita")) == "actor_invalid");  // a read is recorded for its own reader
    REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"privacy-reader","permissions":[{"command":"record_access"}]}})"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(grant("paula", "privacy-reader", "acme"), "alice")) == "accepted");
    REQUIRE(code_of(p.submit(parse(R"({"set_permissions_enforced":{"realm":"security","enforced":true}})"), "alice")) == "accepted");
    CHECK(code_of(p.submit(read("rita"), "rita")) == "not_permitted");  // the gateway then answers 403
    CHECK(p.submit(read("paula"), "paula")[0].has_access_recorded());
}

TEST_CASE("an erasure is recorded for its subject; one without a subject is refused", "[security][privacy]") {
    auto p = company();
    auto erased = p.submit(parse(R"({"record_erasure":{"subject":"acme/jane","reason":"art. 17"}})"), "alice");
    REQUIRE(erased[0].has_subject_erased());
    CHECK(erased[0].stream_id() == "privacy/acme/jane");
    CHECK(code_of(p.submit(parse(R"({"record_erasure":{"subject":""}})"), "alice")) == "subject_invalid");
}

SCENARIO("reopening a period goes through the general four-eyes mechanism when a policy names it", "[security][four-eyes]") {
    GIVEN("acme closed through 2026-10-31 by carl, and a policy holding every reopen_period") {
        auto p = company();
        REQUIRE(code_of(p.submit(parse(R"({"close_period":{"book_id":"acme","through_date":"2026-10-31"}})"), "carl")) == "accepted");
        REQUIRE(code_of(p.submit(parse(R"({"define_role":{"realm":"security","role":"controller","may_approve":["reopen_period"]}})"), "alice")) == "accepted");
        REQUIRE(code_of(p.submit(grant("vera", "controller", "acme"), "alice")) == "accepted");
        REQUIRE(code_of(p.submit(parse(R"({"set_approval_policy":{"realm":"security","command":"reopen_period","book_id":"acme","expires_after_s":3600}})"), "alice")) ==
                "accepted");
        auto reopen = parse(R"({"reopen_period":{"book_id":"acme","through_date":"2026-09-30"}})", "reopen-1");
        WHEN("bob asks to reopen October") {
            auto held = p.submit(reopen, "bob");
            THEN("it is held; bob cannot approve it, an approver without the role cannot, vera can") {
                REQUIRE(held[0].has_approval_requested());
                auto approval = [&](const std::string& id) {
                    auto a = parse(R"({"approve_command":{"routing_key":"acme","command_id":"reopen-1"}})", id);
                    a.mutable_approve_command()->set_fingerprint(events::fingerprint_of(reopen));
                    return a;
                };
                CHECK(code_of(p.submit(approval("a1"), "bob")) == "self_approval");
                CHECK(code_of(p.submit(approval("a2"), "anna")) == "not_permitted");  // may approve post_entry only
                auto approved = p.submit(approval("a3"), "vera");
                const v1::EventEnvelope* reopened = nullptr;
                for (const auto& r : approved)
                    if (r.has_period_reopened()) reopened = &r;
                REQUIRE(reopened);
                CHECK(reopened->actor() == "bob");
                REQUIRE(reopened->approvers_size() == 1);
                CHECK(reopened->approvers(0) == "vera");
            }
        }
        WHEN("carl, who closed it, asks and vera approves") {
            p.submit(reopen, "carl");
            auto a = parse(R"({"approve_command":{"routing_key":"acme","command_id":"reopen-1"}})", "a4");
            a.mutable_approve_command()->set_fingerprint(events::fingerprint_of(reopen));
            THEN("the ledger's own rule still holds: reopen_requires_other_actor") {
                auto out = p.submit(a, "vera");
                CHECK(out.back().has_command_rejected());
                CHECK(out.back().command_rejected().code_name() == "reopen_requires_other_actor");
            }
        }
    }
}
