// Signed command records through the real broker (consumers/command_writer.h): a processor given
// a writers file decides only what a listed writer signed, as an actor and source that writer may
// stamp. Forged, unsigned and tampered records are refused, each with a sealed record; the CLI
// (as the gateway) and the process managers (as themselves) sign, and an invoice's whole saga
// runs through.

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "consumers/command_writer.h"
#include "consumers/outcome_waiter.h"
#include "events/codec.h"
#include "events/murmur2.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;
using namespace std::chrono_literals;

namespace {

// Produces each command signed by `signer` (or as given by `raw`) and waits for the outcomes.
std::map<std::string, v1::Outcome> submit_signed(const sandbox& box, const consumers::command_signer* signer,
                                                 const std::vector<v1::CommandEnvelope>& commands) {
    auto waiter = consumers::outcome_waiter::open(box.kafka, box.topics);
    REQUIRE(waiter);
    auto producer = consumers::make_producer(box.kafka, "");
    REQUIRE(producer);
    std::set<std::string> ids;
    for (const auto& c : commands) {
        REQUIRE(consumers::produce_command(producer->get(), box.topics, box.partitions, c, signer) == RD_KAFKA_RESP_ERR_NO_ERROR);
        ids.insert(c.command_id());
    }
    REQUIRE(rd_kafka_flush(producer->get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
    return (*waiter)->wait(ids, std::chrono::steady_clock::now() + 60s);
}

// A record whose headers claim `writer` with a signature over other bytes.
void send_with_headers(const sandbox& box, const v1::CommandEnvelope& c, const std::string& writer, const std::string& signature) {
    auto producer = consumers::make_producer(box.kafka, "");
    REQUIRE(producer);
    auto key = events::routing_key_of(c);
    auto value = events::serialize(c);
    auto* h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, consumers::writer_header, -1, writer.data(), static_cast<ssize_t>(writer.size()));
    rd_kafka_header_add(h, consumers::writer_signature_header, -1, signature.data(), static_cast<ssize_t>(signature.size()));
    REQUIRE(rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(box.topics.commands().c_str()),
                              RD_KAFKA_V_PARTITION(events::partition_for(key, box.partitions)), RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_HEADERS(h),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    REQUIRE(rd_kafka_flush(producer->get(), 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

v1::CommandEnvelope open_account(const std::string& id, const std::string& actor, const std::string& source) {
    auto c = parse_command(R"({"command_id":")" + id + R"(","open_account":{"book_id":"w","account_id":")" + id +
                           R"(","name":"Cash","type":"ACCOUNT_TYPE_ASSET","currency":"EUR","scale":2}})");
    c.set_actor(actor);
    c.set_source(source);
    return c;
}

void expect_refused(const v1::Outcome& o, rejection_code code, const std::string& field) {
    INFO(o.command_id() << ": " << o.code_name() << " " << o.detail());
    CHECK(o.status() == v1::OUTCOME_STATUS_REJECTED);
    CHECK(o.code() == static_cast<std::uint32_t>(code));
    CHECK(o.field() == field);
    CHECK(o.events_size() == 1);  // the refusal is a sealed record in the log
}

}  // namespace

TEST_CASE("signed commands: only what a listed writer signed is decided, as an actor and source it may stamp", "[integration][writers]") {
    sandbox box("writers");
    for (const auto& name : {"gateway", "managers", "rogue"}) {
        auto [rc, out] = run_daybook({"audit", "keygen", "--private", box.dir + "/" + name + ".key", "--public", box.dir + "/" + name + ".pub"});
        REQUIRE(rc == 0);
    }
    {
        std::ofstream f(box.dir + "/writers");
        f << "# name  public key  what it may stamp\n"
             "gateway  gateway.pub  actors=*  sources=api,client,dlq-resubmit\n"
             "managers managers.pub actors=daybook-billing,daybook-security sources=billing-manager,security-replication\n";
    }
    auto data = box.dir + "/data";
    serve_process core(box, "a", data, {"--roles", "processor,projector", "--writers", box.dir + "/writers"});
    auto gateway = consumers::command_signer::load("gateway", box.dir + "/gateway.key");
    auto rogue = consumers::command_signer::load("rogue", box.dir + "/rogue.key");
    auto rogue_as_gateway = consumers::command_signer::load("gateway", box.dir + "/rogue.key");
    REQUIRE(gateway);
    REQUIRE(rogue);
    REQUIRE(rogue_as_gateway);

    // GIVEN the gateway's signature over each record WHEN a client's command is sent THEN decided.
    auto ok = submit_signed(box, gateway->get(), {open_account("cash", "alice", "client")});
    REQUIRE(ok.at("cash").status() == v1::OUTCOME_STATUS_ACCEPTED);

    // Refused, each with its code: unsigned; an unknown writer; another key under the gateway's
    // name; the gateway claiming a process manager's actor or source; a signature over other bytes.
    client plain(box);
    auto unsigned_out = plain.submit({open_account("unsigned", "alice", "client")});
    expect_refused(unsigned_out.at("unsigned"), rejection_code::writer_unsigned, "headers");
    expect_refused(submit_signed(box, rogue->get(), {open_account("rogue", "alice", "client")}).at("rogue"),
                   rejection_code::writer_unknown, "headers");
    expect_refused(submit_signed(box, rogue_as_gateway->get(), {open_account("stolen-name", "alice", "client")}).at("stolen-name"),
                   rejection_code::writer_signature_invalid, "headers");
    auto forged = submit_signed(box, gateway->get(),
                                {open_account("as-billing", "daybook-billing", "client"), open_account("as-manager", "mallory", "billing-manager")});
    expect_refused(forged.at("as-billing"), rejection_code::writer_not_allowed, "actor");
    expect_refused(forged.at("as-manager"), rejection_code::writer_not_allowed, "source");
    {
        auto waiter = consumers::outcome_waiter::open(box.kafka, box.topics);
        REQUIRE(waiter);
        auto other = open_account("tampered", "alice", "client");
        send_with_headers(box, other, "gateway", (*gateway)->sign("w", events::serialize(open_account("original", "alice", "client"))));
        auto got = (*waiter)->wait({"tampered"}, std::chrono::steady_clock::now() + 60s);
        REQUIRE(got.count("tampered"));
        expect_refused(got.at("tampered"), rejection_code::writer_signature_invalid, "headers");
    }

    // The CLI signs as the gateway; the process managers sign as themselves: a whole invoice saga
    // (issue -> number -> issued -> posting) runs through, every hop checked.
    auto setup = submit_signed(box, gateway->get(), billing_chart("shop"));
    for (const auto& [id, o] : setup) REQUIRE(o.status() == v1::OUTCOME_STATUS_ACCEPTED);
    serve_process managers(box, "pm", box.dir + "/pm",
                           {"--roles", "billing", "--writer-name", "managers", "--writer-key", box.dir + "/managers.key"});
    {
        std::ofstream f(box.dir + "/invoice.ndjson");
        f << R"({"command_id":"create-1","create_invoice":{"invoice_id":"inv-1","book_id":"shop","direction":"INVOICE_DIRECTION_CUSTOMER",)"
             R"("counterparty_id":"cp-1","currency":"EUR","issue_date":"2026-11-02","payment_terms_days":14,)"
             R"("lines":[{"description":"goods","quantity_milli":"1000","unit_price_minor":"10000","tax_code":"STD"}]}})"
          << "\n"
          << R"({"command_id":"issue-1","issue_invoice":{"invoice_id":"inv-1"}})" << "\n";
    }
    auto common = box.common_args(data, "a");
    std::vector<std::string> submit{"submit", box.dir + "/invoice.ndjson", "--writer-name", "gateway", "--writer-key",
                                    box.dir + "/gateway.key"};
    submit.insert(submit.end(), common.begin(), common.end());
    auto [rc, out] = run_daybook(submit);
    INFO(out);
    REQUIRE(rc == 0);
    std::string balance;
    for (int i = 0; i < 300; ++i) {
        std::vector<std::string> q{"query", "balance", "--book", "shop", "--account", "1200"};
        q.insert(q.end(), common.begin(), common.end());
        balance = run_daybook(q).second;
        if (balance.find("119.00") != std::string::npos) break;
        std::this_thread::sleep_for(200ms);
    }
    INFO(balance);
    CHECK(balance.find("119.00") != std::string::npos);  // net 100.00 + 19 % tax, posted by the process managers' signed commands
}
