// Signed command records (consumers/command_writer.h), without a broker: a writers file's rules,
// and every refusal code with its field.

#include <catch2/catch.hpp>

#include "consumers/command_writer.h"
#include "events/codec.h"
#include "events/ed25519.h"
#include "events/hashing.h"

using namespace daybook;
using namespace daybook::consumers;

namespace {

struct writer_keys {
    events::ed25519_private_key key;
    std::string public_hex;
};

writer_keys make_key() {
    auto pair = events::generate_ed25519();
    REQUIRE(pair);
    auto key = events::ed25519_private_key::from_pem(pair->private_pem);
    REQUIRE(key);
    auto hex = key->public_hex();
    return {std::move(*key), hex};
}

v1::CommandEnvelope command(const std::string& actor, const std::string& source) {
    v1::CommandEnvelope c;
    c.set_command_id("c1");
    c.set_actor(actor);
    c.set_source(source);
    c.mutable_open_account()->set_book_id("b1");
    return c;
}

}  // namespace

TEST_CASE("writers: a listed writer's signature over key and value admits the command; every refusal has its code", "[writers-unit]") {
    auto gateway = make_key(), managers = make_key(), rogue = make_key();
    auto trust = writer_trust::parse("# who may write daybook.commands\n"
                                     "gateway " + gateway.public_hex + " actors=* sources=api,client,dlq-resubmit\n"
                                     "managers " + managers.public_hex + " actors=daybook-billing,daybook-security sources=billing-manager,security-replication\n"
                                     "scheduler " + managers.public_hex + " actors=daybook-scheduler sources=scheduler:*\n",
                                     ".");
    REQUIRE(trust);
    REQUIRE((*trust)->size() == 3);
    auto sig = [](const writer_keys& k, const std::string& name, const std::string& key, const std::string& value) {
        return k.key.sign(writer_payload(name, key, value));
    };
    auto check = [&](const std::string& writer, const std::string& signature, const std::string& key, const v1::CommandEnvelope& c,
                     std::string value = "") {
        if (value.empty()) value = events::serialize(c);
        return (*trust)->check(writer, signature, key, value, c);
    };

    auto alice = command("alice", "client");
    auto value = events::serialize(alice);
    // GIVEN the gateway's signature over exactly this record THEN admitted.
    CHECK_FALSE(check("gateway", sig(gateway, "gateway", "b1", value), "b1", alice));
    // Unsigned, unknown writer, another key, changed value, changed key, another writer's name.
    CHECK(check("", "", "b1", alice)->code == rejection_code::writer_unsigned);
    CHECK(check("gateway", "", "b1", alice)->code == rejection_code::writer_unsigned);
    CHECK(check("rogue", sig(rogue, "rogue", "b1", value), "b1", alice)->code == rejection_code::writer_unknown);
    CHECK(check("gateway", sig(rogue, "gateway", "b1", value), "b1", alice)->code == rejection_code::writer_signature_invalid);
    auto changed = alice;
    changed.set_command_id("c2");
    CHECK(check("gateway", sig(gateway, "gateway", "b1", value), "b1", changed)->code == rejection_code::writer_signature_invalid);
    CHECK(check("gateway", sig(gateway, "gateway", "b1", value), "b2", alice)->code == rejection_code::writer_signature_invalid);
    CHECK(check("scheduler", sig(managers, "managers", "b1", value), "b1", alice)->code == rejection_code::writer_signature_invalid);

    // The gateway may stamp any actor but not a reserved "daybook-" one, and only its sources.
    for (const auto& [actor, source, field] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {"daybook-billing", "client", "actor"}, {"daybook-scheduler", "api", "actor"}, {"bob", "billing-manager", "source"},
             {"bob", "scheduler:expire-holds", "source"}}) {
        auto c = command(actor, source);
        auto v = events::serialize(c);
        auto refused = check("gateway", sig(gateway, "gateway", "b1", v), "b1", c);
        INFO(actor << " " << source);
        REQUIRE(refused);
        CHECK(refused->code == rejection_code::writer_not_allowed);
        CHECK(refused->field == field);
    }
    // The process managers: exactly their actors and sources.
    auto pm = command("daybook-billing", "billing-manager");
    auto pm_value = events::serialize(pm);
    CHECK_FALSE(check("managers", sig(managers, "managers", "b1", pm_value), "b1", pm));
    auto pm_as_alice = command("alice", "billing-manager");
    CHECK(check("managers", sig(managers, "managers", "b1", events::serialize(pm_as_alice)), "b1", pm_as_alice)->code ==
          rejection_code::writer_not_allowed);
    // Prefix sources: scheduler:<rule>.
    auto sweep = command("daybook-scheduler", "scheduler:expire-holds");
    CHECK_FALSE(check("scheduler", sig(managers, "scheduler", "b1", events::serialize(sweep)), "b1", sweep));
}

TEST_CASE("writers: a malformed writers file is refused with its line", "[writers-unit]") {
    auto k = make_key();
    CHECK(writer_trust::parse("", ".").error().find("no writer") != std::string::npos);
    CHECK(writer_trust::parse("gateway\n", ".").error().find("line 1") != std::string::npos);
    CHECK(writer_trust::parse("gateway " + k.public_hex + " actors=*\n", ".").error().find("sources=") != std::string::npos);
    CHECK(writer_trust::parse("gateway " + k.public_hex + " actors=* sources=api roles=x\n", ".").error().find("unknown field") !=
          std::string::npos);
    CHECK(writer_trust::parse("gateway 00" + k.public_hex.substr(2) + "zz actors=* sources=api\n", ".").error().find("public key") !=
          std::string::npos);
    CHECK(writer_trust::parse("gateway missing.pub actors=* sources=api\n", "/nonexistent").error().find("cannot read") !=
          std::string::npos);
    auto twice = "a " + k.public_hex + " actors=* sources=api\na " + k.public_hex + " actors=* sources=api\n";
    CHECK(writer_trust::parse(twice, ".").error().find("line 2") != std::string::npos);
    // Reserved actors: a wildcard never matches them, an exact entry does.
    CHECK_FALSE(writer_list_allows({"*"}, "daybook-billing", true));
    CHECK_FALSE(writer_list_allows({"daybook-*"}, "daybook-billing", true));
    CHECK(writer_list_allows({"daybook-billing"}, "daybook-billing", true));
    CHECK(writer_list_allows({"*"}, "cli:root", true));
    CHECK(writer_list_allows({"scheduler:*"}, "scheduler:expire-holds", false));
    CHECK_FALSE(writer_list_allows({"api"}, "", false));
}
