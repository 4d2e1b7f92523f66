// events/: partitioning, hashing and framing of event records, strict reading of command records,
// fingerprints, read-your-writes tokens, restore metadata and the ledger codec.

#include <catch2/catch.hpp>
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <random>
#include <set>
#include <string_view>
#include <string>
#include <vector>

#include "consumers/processor.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/ledger_codec.h"
#include "events/limits.h"
#include "events/murmur2.h"
#include "events/rejection.h"
#include "tests/test_support.h"

namespace {

using namespace daybook;
using namespace daybook::test;
using events::from_hex;
using events::to_hex;

// A valid command record: open_account in book acme under command id cmd-1.
v1::CommandEnvelope valid_envelope() {
    auto env = command_envelope(open_acct("cash"), "cmd-1");
    env.set_correlation_id("corr-1");
    env.set_source("test");
    return env;
}

// An event body as the processor writes it.
std::string event_body(std::uint64_t version = 1) {
    return events::serialize(event_envelope(opened("cash"), version));
}

// A valid post_entry record of exactly `size` bytes, padded with its memo.
std::string post_record_of_size(std::size_t size) {
    auto env = command_envelope(post("e1", {debit("cash", 1), credit("revenue", 1)}));
    std::size_t memo = size - events::serialize(env).size();
    // Length prefixes grow with the memo: adjust until the record has the size asked for.
    for (int attempt = 0; attempt < 8; ++attempt) {
        env.mutable_post_entry()->set_memo(std::string(memo, 'm'));
        auto bytes = events::serialize(env);
        if (bytes.size() == size) return bytes;
        memo = memo + size - bytes.size();
    }
    FAIL("cannot build a record of " << size << " bytes");
    return {};
}

// Appends a varint field with the given number to serialised bytes (an unknown field).
std::string with_unknown_varint(std::string bytes, std::uint32_t field, std::uint64_t value) {
    auto varint = [&](std::uint64_t v) {
        while (v >= 0x80) {
            bytes.push_back(static_cast<char>((v & 0x7f) | 0x80));
            v >>= 7;
        }
        bytes.push_back(static_cast<char>(v));
    };
    varint(std::uint64_t{field} << 3);  // wire type 0: varint
    varint(value);
    return bytes;
}

}  // namespace

// ---- murmur2 and partitioning ------------------------------------------------------------------

TEST_CASE("murmur2 matches the Java client's Utils.murmur2", "[events][murmur2]") {
    // Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils).
    struct vector_t { const char* key; std::int32_t java; };
    auto v = GENERATE(vector_t{"21", -973932308}, vector_t{"foobar", -790332482},
                      vector_t{"a-little-bit-long-string", -985981536},
                      vector_t{"a-little-bit-longer-string", -1486304829},
                      vector_t{"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971},
                      vector_t{"abc", 479470107}, vector_t{"", 275646681});
    INFO("key '" << v.key << "'");
    CHECK(static_cast<std::int32_t>(events::murmur2(v.key)) == v.java);
}

TEST_CASE("partition_for is toPositive(murmur2(key)) mod N, as the Java partitioner", "[events][murmur2]") {
    // Expected values computed from the Java murmur2 values above: (h & 0x7fffffff) % N.
    CHECK(events::partition_for("foobar", 12) == 6);  // -790332482 & 0x7fffffff = 1357151166
    CHECK(events::partition_for("21", 7) == 3);       // 1173551340 % 7
    CHECK(events::partition_for("abc", 3) == 0);      // 479470107 % 3
    CHECK(events::partition_for("abc", 1) == 0);
    CHECK(events::partition_for("foobar", 1'000'000'007) == 357'151'159);
    SECTION("every key lands in range, and the same key always in the same partition") {
        for (int i = 0; i < 1000; ++i) {
            auto key = "book-" + std::to_string(i);
            auto p = events::partition_for(key, 16);
            REQUIRE(p >= 0);
            REQUIRE(p < 16);
            REQUIRE(events::partition_for(key, 16) == p);
        }
    }
}

// ---- SHA-256 and the event hash chain ----------------------------------------------------------

TEST_CASE("sha256 matches the FIPS 180-2 vectors", "[events][hashing]") {
    CHECK(to_hex(events::sha256("abc")) ==
          "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(to_hex(events::sha256("")) ==
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    SECTION("incremental hashing equals one-shot hashing") {
        events::sha256_hasher h;
        h.add("a").add("").add("bc");
        CHECK(h.finish() == events::sha256("abc"));
    }
}

TEST_CASE("event_hash is pinned to the documented framing", "[events][hashing]") {
    // Precomputed independently with Python's hashlib:
    //   sha256(b"daybook.v1" + b"daybook.events" + (2).to_bytes(4, "big") + (7).to_bytes(8, "big")
    //          + b"\x11" * 32 + b"hello")
    CHECK(to_hex(events::event_hash(2, 7, std::string(32, '\x11'), "hello")) ==
          "cd63d662cb53b949b6546ebd4bf4d3a470950bcb00518d323bf4841000c91f10");
    // Every byte of partition and seq in place: partition 0x01020304, seq 0x0102030405060708,
    // genesis prev_hash, empty body.
    CHECK(to_hex(events::event_hash(0x01020304u, 0x0102030405060708ull, events::genesis_hash(), "")) ==
          "d2bb93b20c6d78584a294f3c47cbc4b089f28baaac54c1129a6787b4b0986c76");
}

TEST_CASE("the genesis hash is 32 zero bytes", "[events][hashing]") {
    CHECK(events::genesis_hash() == std::string(32, '\0'));
    CHECK(events::hash_bytes == 32);
}

TEST_CASE("to_hex and from_hex", "[events][hashing]") {
    CHECK(to_hex(std::string("\x00\x01\x7f\x80\xff", 5)) == "00017f80ff");
    CHECK(to_hex("") == "");
    CHECK(from_hex("00017f80ff") == std::string("\x00\x01\x7f\x80\xff", 5));
    CHECK(from_hex("ABCDEF") == "\xab\xcd\xef");
    SECTION("every byte value round-trips") {
        std::string all;
        for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
        CHECK(to_hex(all).size() == 512);
        CHECK(from_hex(to_hex(all)) == all);
    }
    SECTION("malformed hex gives an empty string") {
        CHECK(from_hex("abc").empty());  // odd length
        CHECK(from_hex("zz").empty());
        CHECK(from_hex("0g").empty());
        CHECK(from_hex("00 1").empty());
        CHECK(from_hex("0x00").empty());
    }
}

// ---- Sealing and reading event records ------------------------------------------------------

TEST_CASE("seal and read_sealed round-trip and chain", "[events][framing]") {
    auto body1 = event_body(1);
    auto body2 = event_body(2);
    auto first = events::seal(5, 1, events::genesis_hash(), body1);
    auto second = events::seal(5, 2, first.hash, body2);

    CHECK(first.seq == 1);
    CHECK(first.hash == events::event_hash(5, 1, events::genesis_hash(), body1));
    CHECK(second.hash == events::event_hash(5, 2, first.hash, body2));
    CHECK(first.hash != second.hash);

    auto read = events::read_sealed(5, second.value);
    REQUIRE(read.has_value());
    CHECK(read->sealed.seq() == 2);
    CHECK(read->sealed.prev_hash() == first.hash);
    CHECK(read->sealed.hash() == second.hash);
    CHECK(read->sealed.body() == body2);  // the bytes hashed are the bytes stored
    CHECK(events::serialize(read->envelope) == body2);
    CHECK(read->envelope.version() == 2);
    CHECK(read->envelope.has_account_opened());
}

TEST_CASE("read_sealed refuses records that do not verify", "[events][framing]") {
    auto body = event_body();
    auto good = events::seal(3, 9, events::genesis_hash(), body);
    REQUIRE(events::read_sealed(3, good.value).has_value());

    auto reseal = [&](auto change) {
        v1::SealedEvent s;
        REQUIRE(s.ParseFromString(good.value));
        change(s);
        return events::serialize(s);
    };

    SECTION("an altered body (hash left as it was)") {
        auto altered = reseal([](v1::SealedEvent& s) { (*s.mutable_body())[5] ^= 0x01; });
        auto read = events::read_sealed(3, altered);
        REQUIRE_FALSE(read.has_value());
        CHECK_THAT(read.error(), Catch::Contains("altered"));
    }
    SECTION("an altered seq or prev_hash") {
        CHECK_FALSE(events::read_sealed(3, reseal([](v1::SealedEvent& s) { s.set_seq(10); })));
        CHECK_FALSE(events::read_sealed(
            3, reseal([](v1::SealedEvent& s) { s.set_prev_hash(std::string(32, '\x01')); })));
    }
    SECTION("the record read as if it were in another partition") {
        CHECK_FALSE(events::read_sealed(4, good.value).has_value());
    }
    SECTION("every truncation") {
        for (std::size_t n = 0; n < good.value.size(); ++n) {
            INFO("truncated to " << n << " of " << good.value.size() << " bytes");
            CHECK_FALSE(events::read_sealed(3, good.value.substr(0, n)).has_value());
        }
    }
    SECTION("any single flipped byte") {
        for (std::size_t i = 0; i < good.value.size(); ++i) {
            auto flipped = good.value;
            flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
            INFO("byte " << i << " flipped");
            CHECK_FALSE(events::read_sealed(3, flipped).has_value());
        }
    }
    SECTION("garbage bytes") {
        CHECK_FALSE(events::read_sealed(3, "").has_value());
        CHECK_FALSE(events::read_sealed(3, "not a record at all").has_value());
        CHECK_FALSE(events::read_sealed(3, std::string(64, '\xff')).has_value());
    }
    SECTION("hash fields of the wrong length") {
        auto short_hash = reseal([](v1::SealedEvent& s) { s.mutable_hash()->pop_back(); });
        auto read = events::read_sealed(3, short_hash);
        REQUIRE_FALSE(read.has_value());
        CHECK_THAT(read.error(), Catch::Contains("32 bytes"));
        // A chain that starts from a 31-byte prev_hash, correctly hashed, is still refused.
        auto sealed = events::seal(3, 9, std::string(31, '\0'), body);
        CHECK_FALSE(events::read_sealed(3, sealed.value).has_value());
    }
    SECTION("seq 0, even correctly hashed") {
        auto zero = events::seal(3, 0, events::genesis_hash(), body);
        auto read = events::read_sealed(3, zero.value);
        REQUIRE_FALSE(read.has_value());
        CHECK_THAT(read.error(), Catch::Contains("seq is 0"));
    }
    SECTION("a verified body that is not an event envelope, or has no known payload") {
        auto not_envelope = events::seal(3, 9, events::genesis_hash(), "\xff\xff\xff");
        CHECK_FALSE(events::read_sealed(3, not_envelope.value).has_value());
        v1::EventEnvelope empty;
        empty.set_version(1);
        auto no_payload = events::seal(3, 9, events::genesis_hash(), events::serialize(empty));
        auto read = events::read_sealed(3, no_payload.value);
        REQUIRE_FALSE(read.has_value());
        CHECK_THAT(read.error(), Catch::Contains("unknown type"));
    }
    SECTION("a record above the topic limit") {
        auto big = events::seal(3, 9, events::genesis_hash(),
                                std::string(limits::topic_message_bytes_max, 'x'));
        CHECK_FALSE(events::read_sealed(3, big.value).has_value());
    }
}

// ---- Reading command records ------------------------------------------------------------------

TEST_CASE("read_command accepts a valid command", "[events][commands]") {
    auto env = valid_envelope();
    auto read = events::read_command(events::serialize(env));
    REQUIRE(read.readable);
    CHECK_FALSE(read.invalid.has_value());
    CHECK(read.error.empty());
    CHECK(events::serialize(read.envelope) == events::serialize(env));
    CHECK(read.envelope.command_id() == "cmd-1");
    CHECK(read.envelope.correlation_id() == "corr-1");
    REQUIRE(read.envelope.has_open_account());
    CHECK(read.envelope.open_account().account_id() == "cash");
}

TEST_CASE("read_command refuses unknown fields and enum values", "[events][commands]") {
    SECTION("an unknown field at the top level") {
        auto bytes = with_unknown_varint(events::serialize(valid_envelope()), 999, 1);
        auto read = events::read_command(bytes);
        REQUIRE(read.readable);
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::envelope_invalid);
        CHECK(read.invalid->field == "<root>");
    }
    SECTION("an unknown field inside the payload") {
        auto env = valid_envelope();
        auto* payload = env.mutable_open_account();
        payload->GetReflection()->MutableUnknownFields(payload)->AddVarint(999, 1);
        auto read = events::read_command(events::serialize(env));
        REQUIRE(read.readable);
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::envelope_invalid);
        CHECK(read.invalid->field == "open_account");
    }
    SECTION("an unknown account type") {
        auto env = valid_envelope();
        env.mutable_open_account()->set_type(static_cast<v1::AccountType>(77));
        auto read = events::read_command(events::serialize(env));
        REQUIRE(read.readable);
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::envelope_invalid);
        CHECK(read.invalid->field == "open_account.type");
    }
    SECTION("an unknown side in the second leg") {
        auto env = command_envelope(post("e1", {debit("cash", 1), credit("revenue", 1)}));
        env.mutable_post_entry()->mutable_legs(1)->set_side(static_cast<v1::Side>(9));
        auto read = events::read_command(events::serialize(env));
        REQUIRE(read.readable);
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::envelope_invalid);
        CHECK(read.invalid->field == "post_entry.legs[1].side");
    }
}

TEST_CASE("read_command: payload, command id and size", "[events][commands]") {
    SECTION("no payload") {
        v1::CommandEnvelope env;
        env.set_command_id("cmd-1");
        auto read = events::read_command(events::serialize(env));
        REQUIRE(read.readable);
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::payload_missing);
        CHECK(read.invalid->field == "payload");
    }
    SECTION("an empty command id: not readable") {
        auto env = valid_envelope();
        env.clear_command_id();
        auto read = events::read_command(events::serialize(env));
        CHECK_FALSE(read.readable);
        CHECK_FALSE(read.error.empty());
    }
    SECTION("a command id that is not printable ASCII: not readable") {
        for (std::string id : {std::string("has space"), std::string("tab\t"),
                               std::string("caf\xc3\xa9"), std::string("nul\0", 4)}) {
            auto env = valid_envelope();
            env.set_command_id(id);
            auto read = events::read_command(events::serialize(env));
            CHECK_FALSE(read.readable);
            CHECK_FALSE(read.error.empty());
        }
    }
    SECTION("command ids at and above the length limit") {
        auto env = valid_envelope();
        env.set_command_id(std::string(limits::id_bytes_max, 'c'));
        auto at = events::read_command(events::serialize(env));
        REQUIRE(at.readable);
        CHECK_FALSE(at.invalid.has_value());

        env.set_command_id(std::string(limits::id_bytes_max + 1, 'c'));
        auto above = events::read_command(events::serialize(env));
        REQUIRE(above.readable);
        REQUIRE(above.invalid.has_value());
        CHECK(above.invalid->code == rejection_code::command_id_invalid);
        CHECK(above.invalid->field == "command_id");
    }
    SECTION("a record above command_bytes_max") {
        auto env = command_envelope(
            post("e1", {debit("cash", 1), credit("revenue", 1)}, "2024-03-01",
                 std::string(600 * 1024, 'm')));
        auto bytes = events::serialize(env);
        REQUIRE(bytes.size() > limits::command_bytes_max);
        auto read = events::read_command(bytes);
        REQUIRE(read.readable);
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::command_too_large);
    }
    SECTION("records at and one byte above command_bytes_max") {
        auto at = events::read_command(post_record_of_size(limits::command_bytes_max));
        REQUIRE(at.readable);
        CHECK_FALSE(at.invalid.has_value());
        auto above = events::read_command(post_record_of_size(limits::command_bytes_max + 1));
        REQUIRE(above.readable);
        REQUIRE(above.invalid.has_value());
        CHECK(above.invalid->code == rejection_code::command_too_large);
        CHECK(above.invalid->field.empty());
    }
    SECTION("an over-long command id is reported before the size") {
        auto env = command_envelope(
            post("e1", {debit("cash", 1), credit("revenue", 1)}, "2024-03-01",
                 std::string(600 * 1024, 'm')),
            std::string(limits::id_bytes_max + 1, 'c'));
        auto read = events::read_command(events::serialize(env));
        REQUIRE(read.invalid.has_value());
        CHECK(read.invalid->code == rejection_code::command_id_invalid);
    }
}

TEST_CASE("read_command never crashes on garbage or truncated bytes", "[events][commands]") {
    // Invalid UTF-8 in string fields is refused by the parser, which also logs it: keep quiet.
    google::protobuf::LogSilencer quiet;
    SECTION("every proper prefix of a valid record is refused") {
        auto bytes = events::serialize(valid_envelope());
        for (std::size_t n = 0; n < bytes.size(); ++n) {
            auto read = events::read_command(bytes.substr(0, n));
            INFO("truncated to " << n << " of " << bytes.size() << " bytes");
            CHECK_FALSE((read.readable && !read.invalid.has_value()));
        }
    }
    SECTION("random byte strings (fixed seed)") {
        std::mt19937 rng(20240301);
        std::uniform_int_distribution<int> byte(0, 255), length(0, 96);
        int unreadable = 0;
        for (int i = 0; i < 20000; ++i) {
            std::string bytes(static_cast<std::size_t>(length(rng)), '\0');
            for (auto& c : bytes) c = static_cast<char>(byte(rng));
            auto read = events::read_command(bytes);
            if (read.readable) {
                REQUIRE_FALSE(read.envelope.command_id().empty());
            } else {
                REQUIRE_FALSE(read.error.empty());
                ++unreadable;
            }
        }
        CHECK(unreadable > 10000);
    }
    SECTION("random mutations of a valid record (fixed seed)") {
        auto valid = events::serialize(valid_envelope());
        std::mt19937 rng(7);
        std::uniform_int_distribution<std::size_t> at(0, valid.size() - 1);
        std::uniform_int_distribution<int> byte(0, 255), edits(1, 4);
        int unreadable = 0, readable = 0;
        for (int i = 0; i < 20000; ++i) {
            auto bytes = valid;
            for (int e = edits(rng); e > 0; --e) bytes[at(rng)] = static_cast<char>(byte(rng));
            auto read = events::read_command(bytes);
            if (read.readable) {
                ++readable;
                REQUIRE_FALSE(read.envelope.command_id().empty());
                events::fingerprint_of(read.envelope);  // must not crash either
                events::routing_key_of(read.envelope);
            } else {
                ++unreadable;
                REQUIRE_FALSE(read.error.empty());
            }
        }
        CHECK(readable > 0);
        CHECK(unreadable > 0);
    }
}

// ---- Fingerprints and routing keys -----------------------------------------------------------

TEST_CASE("fingerprint_of covers the payload only", "[events][commands]") {
    auto a = valid_envelope();
    auto b = valid_envelope();
    b.set_command_id("cmd-2");
    b.set_correlation_id("corr-2");
    b.set_actor("someone");
    b.set_source("elsewhere");
    b.set_causation_event_id("e/1");

    CHECK(events::fingerprint_of(a).size() == 32);
    CHECK(events::fingerprint_of(a) == events::fingerprint_of(a));
    CHECK(events::fingerprint_of(a) == events::fingerprint_of(b));

    SECTION("a different payload has a different fingerprint") {
        auto c = valid_envelope();
        c.mutable_open_account()->set_scale(3);
        CHECK(events::fingerprint_of(c) != events::fingerprint_of(a));
        auto d = command_envelope(post("e1", {debit("cash", 1), credit("revenue", 1)}));
        auto e = command_envelope(post("e1", {debit("cash", 2), credit("revenue", 2)}));
        CHECK(events::fingerprint_of(d) != events::fingerprint_of(e));
        CHECK(events::fingerprint_of(d) != events::fingerprint_of(a));
    }
    SECTION("pinned: SHA-256 of the payload field with its field number") {
        // Bytes hand-encoded and hashed with Python's hashlib: field 100 (0xa2 0x06), length 27,
        // then OpenAccount{book_id "acme", account_id "cash", name "Cash", type 1, currency "USD",
        // scale 2}.
        v1::CommandEnvelope env;
        env.set_command_id("whatever");
        auto* p = env.mutable_open_account();
        p->set_book_id("acme");
        p->set_account_id("cash");
        p->set_name("Cash");
        p->set_type(v1::ACCOUNT_TYPE_ASSET);
        p->set_currency("USD");
        p->set_scale(2);
        CHECK(to_hex(events::fingerprint_of(env)) ==
              "843d947e88cd7d74f763b1431395b853b95343a407fd0409a7eaabecabec54f9");
    }
}

TEST_CASE("routing_key_of is the book id", "[events][commands]") {
    CHECK(events::routing_key_of(command_envelope(open_acct("cash"))) == "acme");
    auto cmd = post("e1", {debit("cash", 1), credit("revenue", 1)});
    cmd.book = book_id{"globex"};
    CHECK(events::routing_key_of(command_envelope(cmd)) == "globex");
    v1::CommandEnvelope empty;
    empty.set_command_id("x");
    CHECK(events::routing_key_of(empty).empty());
}

// ---- Read-your-writes tokens ------------------------------------------------------------------

TEST_CASE("token_of and parse_token", "[events][token]") {
    v1::Outcome outcome;
    auto ref = [&](std::uint32_t p, std::uint64_t s) {
        auto* r = outcome.add_events();
        r->set_partition(p);
        r->set_seq(s);
    };
    CHECK(events::token_of(outcome).empty());
    ref(2, 1);
    ref(0, 5);
    ref(0, 3);
    ref(2, 4);
    auto token = events::token_of(outcome);
    CHECK(token == "0:5,2:4");  // highest seq per partition, partitions in order

    auto parsed = events::parse_token(token);
    REQUIRE(parsed.has_value());
    using pairs = std::vector<std::pair<std::uint32_t, std::uint64_t>>;
    CHECK(*parsed == pairs{{0, 5}, {2, 4}});

    auto empty = events::parse_token("");
    REQUIRE(empty.has_value());
    CHECK(empty->empty());

    auto big = events::parse_token("4294967295:18446744073709551615");
    REQUIRE(big.has_value());
    CHECK(*big == pairs{{4294967295u, 18446744073709551615ull}});

    SECTION("malformed tokens") {
        auto bad = GENERATE(as<std::string>{}, "x", "1", "1:", ":1", "1:2:3", "1;2", ",1:2",
                            "1:2,,3:4", "1x:2", "12 :3", "1:-2", "-1:2", "+1:2", "1:2 ", " 1:2", "1:0x2",
                            "4294967296:1", "1:18446744073709551616", "a:b");
        INFO("token '" << bad << "'");
        CHECK_FALSE(events::parse_token(bad).has_value());
    }
    SECTION("a trailing comma is malformed") { CHECK_FALSE(events::parse_token("1:2,")); }
}

// ---- Restore metadata ---------------------------------------------------------------------------

TEST_CASE("format_metadata and parse_metadata", "[events][metadata]") {
    consumers::restore_metadata m;
    m.events_end = 123456789012;
    m.seq = 98765;
    m.head = events::sha256("head");
    auto text = consumers::format_metadata(m);
    CHECK(text == "v1;events_end=123456789012;seq=98765;head=" + to_hex(m.head));

    auto parsed = consumers::parse_metadata(text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->events_end == m.events_end);
    CHECK(parsed->seq == m.seq);
    CHECK(parsed->head == m.head);

    SECTION("fields in another order") {
        auto reordered =
            consumers::parse_metadata("v1;head=" + to_hex(m.head) + ";seq=1;events_end=2");
        REQUIRE(reordered.has_value());
        CHECK(reordered->seq == 1);
        CHECK(reordered->events_end == 2);
    }
    SECTION("malformed metadata") {
        const auto head = to_hex(m.head);
        auto bad = GENERATE_COPY(
            std::string(""), std::string("v1;"), std::string("v2;events_end=1;seq=1;head=") + head,
            std::string("events_end=1;seq=1;head=") + head,
            std::string("v1;events_end=1;seq=1"),                       // no head
            std::string("v1;seq=1;head=") + head,                        // no events_end
            std::string("v1;events_end=1;head=") + head,                 // no seq
            std::string("v1;events_end=1;seq=1;head=") + head.substr(2),  // 31-byte head
            std::string("v1;events_end=1;seq=1;head=") + head + "00",     // 33-byte head
            std::string("v1;events_end=1;seq=1;head=zz") + head.substr(2),
            std::string("v1;events_end=x;seq=1;head=") + head,
            std::string("v1;events_end=1;seq=;head=") + head,
            std::string("v1;events_end=1;seq=99999999999999999999999;head=") + head,
            std::string("v1;events_end=1;;seq=1;head=") + head,
            std::string("v1;events_end=1;seq1;head=") + head);
        INFO("metadata '" << bad << "'");
        CHECK_FALSE(consumers::parse_metadata(bad).has_value());
    }
    SECTION("lenient metadata is refused: repeated fields, signs, trailing junk") {
        const auto head = to_hex(m.head);
        CHECK_FALSE(consumers::parse_metadata("v1;seq=1;seq=2;head=" + head));
        CHECK_FALSE(consumers::parse_metadata("v1;events_end=1;seq=-1;head=" + head));
        CHECK_FALSE(consumers::parse_metadata("v1;events_end=5x;seq=1;head=" + head));
        CHECK_FALSE(consumers::parse_metadata("v1;events_end=-5;seq=1;head=" + head));
    }
}

// ---- The ledger codec ---------------------------------------------------------------------------

TEST_CASE("ledger commands round-trip through envelopes", "[events][codec]") {
    auto open_cmd = open_acct("cash", "XAU", account_type::liability, 9);
    open_cmd.name = "Gold held for clients";
    auto post_cmd = post("e1", {debit("cash", 100), credit("revenue", 60), credit("equity", 40, "EUR")},
                         "2024-02-29", "memo \xe2\x82\xac");
    auto cmd = GENERATE_COPY(as<events::ledger_command>{}, open_cmd, post_cmd);

    auto env = command_envelope(cmd);
    auto back = events::ledger_command_of(env);
    REQUIRE(back.has_value());
    CHECK(*back == cmd);

    SECTION("also through the wire bytes") {
        v1::CommandEnvelope parsed;
        REQUIRE(parsed.ParseFromString(events::serialize(env)));
        auto again = events::ledger_command_of(parsed);
        REQUIRE(again.has_value());
        CHECK(*again == cmd);
    }
}

TEST_CASE("ledger events round-trip through envelopes", "[events][codec]") {
    auto evt = GENERATE(as<events::ledger_event>{}, opened("cash", "EUR", account_type::expense),
                        posted("e1", {debit("cash", 7), debit("cash", 3), credit("revenue", 10)}));
    auto env = event_envelope(evt, 1);
    auto back = events::ledger_event_of(env);
    REQUIRE(back.has_value());
    CHECK(*back == evt);

    v1::EventEnvelope parsed;
    REQUIRE(parsed.ParseFromString(events::serialize(env)));
    auto again = events::ledger_event_of(parsed);
    REQUIRE(again.has_value());
    CHECK(*again == evt);
}

TEST_CASE("envelopes without a ledger payload give no ledger command or event", "[events][codec]") {
    CHECK_FALSE(events::ledger_command_of(v1::CommandEnvelope{}).has_value());
    CHECK_FALSE(events::ledger_event_of(v1::EventEnvelope{}).has_value());
    v1::EventEnvelope rejected;
    rejected.mutable_command_rejected()->set_command_id("c");
    CHECK_FALSE(events::ledger_event_of(rejected).has_value());
}

TEST_CASE("every rejection code has its own stable name", "[events][rejection]") {
    std::set<std::string_view> names;
    int known = 0;
    for (int code = 0; code < 5000; ++code) {
        auto name = name_of(static_cast<rejection_code>(code));
        bool expected_known = (code >= 1 && code <= 11) || (code >= 1000 && code <= 1063) || (code >= 2000 && code <= 2055) || (code >= 3000 && code <= 3019) || (code >= 4000 && code <= 4019);
        INFO("code " << code << " name " << name);
        REQUIRE((name != "unknown_code") == expected_known);
        if (expected_known) {
            ++known;
            names.insert(name);
        }
    }
    CHECK(known == 171);
    CHECK(names.size() == 171);  // no two codes share a name
}

TEST_CASE("rejection names match the enumerator names", "[events][rejection]") {
    CHECK(name_of(rejection_code::envelope_invalid) == "envelope_invalid");
    CHECK(name_of(rejection_code::command_id_invalid) == "command_id_invalid");
    CHECK(name_of(rejection_code::account_id_invalid) == "account_id_invalid");
    CHECK(name_of(rejection_code::entry_unbalanced) == "entry_unbalanced");
    CHECK(name_of(rejection_code::book_id_invalid) == "book_id_invalid");
    CHECK(static_cast<int>(rejection_code::entry_unbalanced) == 1015);
    CHECK(static_cast<int>(rejection_code::book_id_invalid) == 1018);
}
