// The long tier (make test-long, label long): tamper detection over a 100,000-event log that sits
// in Kafka. A genuine log is written into a sandbox's events topic and signed (`daybook audit
// checkpoint`); each tampered copy (a flipped byte, a deleted event, two swapped events, a
// truncated tail, a full rewrite with recomputed hashes) is written into a topic of its own,
// exactly as an operator with write access could. `daybook audit verify` reads each from Kafka
// and must name the partition, sequence and kind of the first break (the last two only against
// the earlier checkpoint), and the independent checker (tools/audit-check) must agree on the
// exported copy.

#include <catch2/catch.hpp>

#include "consumers/kafka.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "tests/harness.h"
#include "tests/test_support.h"

using namespace daybook;
using namespace daybook::testing;

namespace {

constexpr std::uint32_t partitions = 2;
constexpr std::size_t events_count = 100'000;

void produce_log(const sandbox& box, const std::vector<test::sealed_event>& log) {
    auto producer = consumers::make_producer(box.kafka, "");
    REQUIRE(producer);
    for (const auto& e : log) {
        for (;;) {
            auto err = rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(box.topics.events().c_str()),
                                         RD_KAFKA_V_PARTITION(static_cast<int>(e.partition)),
                                         RD_KAFKA_V_VALUE(const_cast<char*>(e.record.data()), e.record.size()),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(producer->get(), 10);
                continue;
            }
            REQUIRE(err == RD_KAFKA_RESP_ERR_NO_ERROR);
            break;
        }
    }
    REQUIRE(rd_kafka_flush(producer->get(), 120000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

std::size_t at(std::uint32_t p, std::uint64_t seq) { return static_cast<std::size_t>((seq - 1) * partitions + p); }

}  // namespace

TEST_CASE("tampering with a 100,000-event log in Kafka is detected at the right place, by both checkers", "[audit-long]") {
    const auto log = test::sealed_log(events_count, partitions);
    sandbox genuine("tamper-genuine", partitions);
    produce_log(genuine, log);
    auto args = [&](const sandbox& box, std::vector<std::string> a) {
        for (auto& x : box.common_args(box.dir + "/data", "a")) a.push_back(x);
        return a;
    };
    const auto priv = genuine.dir + "/k.pem", pub = genuine.dir + "/k.pub", cp = genuine.dir + "/cp";
    REQUIRE(run_daybook({"audit", "keygen", "--private", priv, "--public", pub}).first == 0);
    auto signed_cp = run_daybook(args(genuine, {"audit", "checkpoint", "--key", priv, "--out", cp}));
    INFO(signed_cp.second);
    REQUIRE(signed_cp.first == 0);
    auto clean = run_daybook(args(genuine, {"audit", "verify", "--checkpoint", cp, "--public-key", pub}));
    INFO(clean.second);
    CHECK(clean.first == 0);
    CHECK(clean.second.find("valid: true") != std::string::npos);

    struct tamper {
        std::string name;
        std::vector<test::sealed_event> log;
        std::string expected;  // in `daybook audit verify`'s first break line
    };
    std::vector<tamper> cases;
    {
        auto t = log;
        auto& r = t[at(1, 31'337)].record;
        r[r.size() / 2] ^= 0x01;
        cases.push_back({"flip", t, "break partition=1 seq=31337 kind=altered"});
    }
    {
        auto t = log;
        t.erase(t.begin() + static_cast<long>(at(0, 12'345)));
        cases.push_back({"delete", t, "break partition=0 seq=12345 kind=missing"});
    }
    {
        auto t = log;
        std::swap(t[at(1, 777)], t[at(1, 778)]);
        cases.push_back({"swap", t, "break partition=1 seq=777 kind=reordered"});
    }
    {
        auto t = log;
        t.resize(t.size() - 10);
        cases.push_back({"truncate", t, "kind=truncated"});
    }
    {
        auto t = log;
        std::string head = events::genesis_hash();
        for (std::uint64_t seq = 1; seq <= events_count / partitions; ++seq) {
            auto& e = t[at(0, seq)];
            auto body = seq == 40'000 ? e.body + std::string("\x0a\x01x", 3) : e.body;
            auto sealed = events::seal(0, seq, head, body);
            head = sealed.hash;
            e.record = sealed.value;
        }
        cases.push_back({"rewrite", t, "break partition=0 seq=50000 kind=altered"});
    }
    const std::string checker = test_env::get().source_dir + "/tools/audit-check";
    for (const auto& c : cases) {
        INFO(c.name);
        sandbox box("tamper-" + c.name, partitions);
        produce_log(box, c.log);
        auto found = run_daybook(args(box, {"audit", "verify", "--checkpoint", cp, "--public-key", pub}));
        INFO(found.second);
        CHECK(found.first == 1);
        CHECK(found.second.find(c.expected) != std::string::npos);
        CHECK(found.second.find("valid: false") != std::string::npos);
        // The independent checker reads the same log (exported from Kafka) and agrees.
        const auto exported = box.dir + "/log.bin";
        REQUIRE(run_daybook(args(box, {"audit", "export", "--out", exported})).first == 0);
        auto independent = run_program({checker, "verify-log", exported, "--checkpoint", cp, "--public-key", pub});
        INFO(independent.second);
        CHECK(independent.first != 0);
    }
}
