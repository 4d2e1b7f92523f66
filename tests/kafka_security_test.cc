// A locked-down broker (scripts/kafka-local with KAFKA_SECURITY_DIR: SASL over TLS, the
// StandardAuthorizer, nothing allowed without an ACL) with certificates made here by OpenSSL and
// the ACLs of `daybook security apply`: Daybook runs end to end with one principal per role; the
// gateway's principal cannot write daybook.events; nobody, not even the processor, may delete
// records from it; a wrong password and an untrusted certificate are refused; and `serve`
// refuses a PLAINTEXT connection outside development mode.

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "consumers/command_writer.h"
#include "events/codec.h"
#include "tests/harness.h"

using namespace daybook;
using namespace daybook::testing;

namespace {

constexpr int secure_port = 29292;

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto [code, out] = run_program(argv);
    INFO(out);
    REQUIRE(code == 0);
}

// A CA, and a certificate it signs (CN, key and certificate in one PEM file as Kafka reads it).
void make_ca(const std::string& dir, const std::string& name) {
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem",
             "-days", "2", "-subj", "/CN=" + name});
}
void make_signed(const std::string& dir, const std::string& ca, const std::string& cn) {
    const auto base = dir + "/" + cn;
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", base + ".key", "-out", base + ".csr", "-subj", "/CN=" + cn});
    std::ofstream(base + ".ext") << "subjectAltName=IP:127.0.0.1\n";
    openssl({"x509", "-req", "-in", base + ".csr", "-CA", dir + "/" + ca + ".pem", "-CAkey", dir + "/" + ca + ".key", "-CAcreateserial",
             "-out", base + ".crt", "-days", "2", "-extfile", base + ".ext"});
    std::ofstream out(base + ".pem");
    out << std::ifstream(base + ".key").rdbuf() << std::ifstream(base + ".crt").rdbuf();
}

std::map<std::string, std::string> credentials(const std::string& user, const std::string& password, const std::string& ca) {
    return {{"security.protocol", "SASL_SSL"},
            {"sasl.mechanisms", "PLAIN"},
            {"sasl.username", user},
            {"sasl.password", password},
            {"ssl.ca.location", ca}};
}

// The error a client meets first: authentication, TLS, or the delivery of one record.
struct probe_result {
    rd_kafka_resp_err_t client_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_resp_err_t delivery = RD_KAFKA_RESP_ERR_NO_ERROR;
    bool delivered = false;
};

probe_result produce_one(const consumers::kafka_settings& kafka, const std::string& topic) {
    static probe_result* current = nullptr;
    probe_result result;
    current = &result;
    rd_kafka_conf_t* conf = consumers::base_conf(kafka);
    rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int err, const char*, void*) {
        if (current->client_error == RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
            current->client_error = static_cast<rd_kafka_resp_err_t>(err);
    });
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
        current->delivered = true;
        current->delivery = m->err;
    });
    consumers::set(conf, "message.timeout.ms", "8000");
    char err[256];
    consumers::rk_ptr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err));
    REQUIRE(rk);
    std::string value = "not an event";
    rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(value.data(), value.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_flush(rk.get(), 12000);
    current = nullptr;
    return result;
}

// DeleteRecords on partition 0 of the topic, up to its end; the partition's error.
rd_kafka_resp_err_t delete_records(const consumers::kafka_settings& kafka, const std::string& topic) {
    auto rk = consumers::make_producer(kafka, "");
    REQUIRE(rk);
    consumers::tpl_ptr offsets(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(offsets.get(), topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_END;
    auto* del = rd_kafka_DeleteRecords_new(offsets.get());
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk->get());
    rd_kafka_DeleteRecords(rk->get(), &del, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    REQUIRE(ev);
    rd_kafka_resp_err_t out = rd_kafka_event_error(ev);
    if (!out) {
        const auto* parts = rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        out = parts && parts->cnt > 0 ? parts->elems[0].err : RD_KAFKA_RESP_ERR__FAIL;
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteRecords_destroy(del);
    return out;
}

std::string random_password() {
    std::random_device rd;
    std::string out;
    for (int i = 0; i < 24; ++i) out += "abcdefghijklmnopqrstuvwxyz0123456789"[rd() % 36];
    return out;
}

}  // namespace

TEST_CASE("a locked-down broker: one principal per role, the events topic written only by the processor and deleted by nobody",
          "[integration][kafka-security]") {
    const auto dir = (std::filesystem::temp_directory_path() / ("daybook-kafka-security-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir + "/tls");
    const auto tls = dir + "/tls";
    make_ca(tls, "ca");
    make_signed(tls, "ca", "broker");
    make_ca(tls, "rogue-ca");  // a CA the clients must not be fooled by
    std::map<std::string, std::string> passwords;
    for (const auto* user : {"admin", "daybook-gateway", "daybook-processor", "daybook-managers", "daybook-projector", "daybook-auditor"})
        passwords[user] = random_password();
    {
        std::ofstream users(tls + "/users");
        for (const auto& [u, p] : passwords) users << u << " " << p << "\n";
    }
    own_broker broker(secure_port, dir + "/broker", tls);
    const auto brokers = "127.0.0.1:" + std::to_string(secure_port);
    const auto ca = tls + "/ca.pem";

    // The sandbox creates its topics as admin (a super user); the ACLs come from Daybook.
    sandbox box("kafkasec", 3, brokers, credentials("admin", passwords["admin"], ca));
    std::vector<std::string> apply{"security", "apply"};
    for (auto& a : box.common_args(box.dir + "/unused", "admin")) apply.push_back(a);
    auto [applied, acl_text] = run_daybook(apply);
    INFO(acl_text);
    REQUIRE(applied == 0);
    CHECK(acl_text.find("deny  User:* DELETE TOPIC " + box.topics.events()) != std::string::npos);
    // The transactional-id grants librdkafka 2.0.2 cannot create, through Kafka's own AclCommand.
    int transactional = 0;
    std::istringstream lines(acl_text);
    for (std::string line; std::getline(lines, line);) {
        if (!line.starts_with("kafka-acls: ")) continue;
        std::vector<std::string> argv{"/usr/bin/env", "KAFKA_PORT=" + std::to_string(secure_port),
                                      "KAFKA_CONTROLLER_PORT=" + std::to_string(secure_port + 1), "KAFKA_DATA_DIR=" + dir + "/broker",
                                      "KAFKA_SECURITY_DIR=" + tls, test_env::get().source_dir + "/scripts/kafka-local", "acl"};
        std::istringstream words(line.substr(12));
        for (std::string w; words >> w;) argv.push_back(w);
        auto [code, out] = run_program(argv);
        INFO(out);
        REQUIRE(code == 0);
        ++transactional;
    }
    CHECK(transactional == 2);

    auto as = [&](const std::string& user) {
        auto k = box.kafka;
        k.passthrough = credentials(user, passwords[user], ca);
        return k;
    };

    {  // Daybook runs end to end, each role as its own principal, the gateway signing its commands.
        struct restore_admin {
            sandbox& b;
            consumers::kafka_settings admin;
            ~restore_admin() { b.kafka = admin; }
        } restore{box, box.kafka};
        REQUIRE(run_daybook({"audit", "keygen", "--private", box.dir + "/gateway.key", "--public", box.dir + "/gateway.pub"}).first == 0);
        std::ofstream(box.dir + "/writers") << "gateway gateway.pub actors=* sources=api,client\n";
        // Not in development mode, a processor without a writers file refuses to start.
        auto [unsigned_code, unsigned_out] = run_program(
            {"/usr/bin/env", "-u", "DAYBOOK_DEVELOPMENT", test_env::get().bin, "serve", "--roles", "processor", "--brokers",
             box.kafka.brokers, "--data-dir", box.dir + "/unsigned", "--kafka", "security.protocol=SASL_SSL", "--kafka",
             "sasl.mechanisms=PLAIN", "--kafka", "sasl.username=daybook-processor", "--kafka",
             "sasl.password=" + passwords["daybook-processor"], "--kafka", "ssl.ca.location=" + ca});
        CHECK(unsigned_code == 2);
        CHECK(unsigned_out.find("refusing to decide unsigned commands") != std::string::npos);
        serve_process serve(box, "p", box.dir + "/data",
                            {"--roles", "processor", "--writers", box.dir + "/writers", "--kafka", "sasl.username=daybook-processor",
                             "--kafka", "sasl.password=" + passwords["daybook-processor"]},
                            {"DAYBOOK_DEVELOPMENT=false"});
        box.kafka = as("daybook-gateway");
        auto signer = consumers::command_signer::load("gateway", box.dir + "/gateway.key");
        REQUIRE(signer);
        box.kafka.signer = *signer;
        client gateway(box);
        auto out = gateway.submit({open_account("acl-1", "secure", "cash", v1::ACCOUNT_TYPE_ASSET)}, std::chrono::seconds(90));
        INFO(serve.log());
        REQUIRE(out.count("acl-1"));
        CHECK(out["acl-1"].status() == v1::OUTCOME_STATUS_ACCEPTED);
        serve.terminate();
    }
    {  // The gateway's principal cannot write the events topic; the processor's cannot delete from it.
        auto forged = produce_one(as("daybook-gateway"), box.topics.events());
        CHECK(forged.delivered);
        CHECK(forged.delivery == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        auto auditor = produce_one(as("daybook-auditor"), box.topics.commands());
        CHECK(auditor.delivery == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);  // an auditor only reads
        CHECK(delete_records(as("daybook-processor"), box.topics.events()) == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        CHECK(delete_records(as("daybook-gateway"), box.topics.events()) == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
        auto allowed = produce_one(as("daybook-gateway"), box.topics.commands());  // what it may do, it can
        CHECK(allowed.delivery == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    {  // A wrong password and an untrusted certificate are refused.
        auto wrong = box.kafka;
        wrong.passthrough = credentials("daybook-gateway", "not-the-password", ca);
        auto refused = produce_one(wrong, box.topics.commands());
        CHECK(refused.client_error == RD_KAFKA_RESP_ERR__AUTHENTICATION);
        CHECK_FALSE(refused.delivery == RD_KAFKA_RESP_ERR_NO_ERROR);
        auto fooled = box.kafka;
        fooled.passthrough = credentials("daybook-gateway", passwords["daybook-gateway"], tls + "/rogue-ca.pem");
        auto untrusted = produce_one(fooled, box.topics.commands());
        CHECK(untrusted.client_error == RD_KAFKA_RESP_ERR__SSL);
        CHECK_FALSE(untrusted.delivery == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    {  // serve refuses a connection without authentication unless in development mode.
        auto [code, out] = run_program({"/usr/bin/env", "-u", "DAYBOOK_DEVELOPMENT", test_env::get().bin, "serve", "--brokers",
                                        test_env::get().brokers, "--data-dir", box.dir + "/plain"});
        CHECK(code == 2);
        CHECK(out.find("refusing to run wide open") != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}
