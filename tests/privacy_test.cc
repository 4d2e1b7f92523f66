// Crypto-shredding of personal data (consumers/keystore.h): sealed with the subject's key,
// readable while the key exists, unreadable after erasure, and the sealed bytes never change.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "consumers/keystore.h"

using namespace daybook;

namespace {

std::string temp_dir(const std::string& name) {
    auto dir = (std::filesystem::temp_directory_path() / ("daybook-privacy-" + name + "-" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir);
    return dir;
}

}  // namespace

TEST_CASE("a subject's personal data is sealed with its own key and unreadable once the key is erased", "[privacy]") {
    auto dir = temp_dir("keys");
    auto keys = consumers::keystore::open(dir + "/keystore", dir + "/master.key");
    REQUIRE(keys);
    struct stat st {};
    REQUIRE(::stat((dir + "/master.key").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);  // the master key is made private

    auto sealed = keys->seal("acme/jane", "Jane Doe Consulting");
    CHECK(sealed.find("Jane") == std::string::npos);
    CHECK(keys->open_sealed("acme/jane", sealed) == std::optional<std::string>("Jane Doe Consulting"));
    CHECK_FALSE(keys->open_sealed("acme/john", sealed));  // bound to its subject
    CHECK(keys->seal("acme/jane", "Jane Doe Consulting") != sealed);  // a fresh nonce every time

    auto other = consumers::keystore::open(dir + "/keystore", dir + "/master.key");  // another process
    REQUIRE(other);
    CHECK(other->open_sealed("acme/jane", sealed) == std::optional<std::string>("Jane Doe Consulting"));

    std::ofstream(dir + "/wrong.key") << std::string(64, 'a') << "\n";
    auto wrong_master = consumers::keystore::open(dir + "/keystore", dir + "/wrong.key");
    REQUIRE(wrong_master);
    CHECK_FALSE(wrong_master->open_sealed("acme/jane", sealed));  // a stolen key file is useless without the master key

    v1::EventEnvelope e;
    auto* c = e.mutable_counterparty_registered();
    c->set_book_id("acme");
    c->set_counterparty_id("jane");
    c->set_name("Jane Doe Consulting");
    REQUIRE(consumers::seal_personal_data(e, *keys));
    CHECK(c->name().empty());
    CHECK(c->subject() == "acme/jane");
    CHECK(e.SerializeAsString().find("Jane") == std::string::npos);
    CHECK(consumers::readable_name(*c, &*keys) == "Jane Doe Consulting");

    CHECK(keys->erase("acme/jane"));
    CHECK_FALSE(keys->erase("acme/jane"));
    CHECK(consumers::readable_name(*c, &*keys) == "[erased]");
    CHECK(consumers::readable_name(*c, &*other) == "[erased]");
    CHECK_FALSE(keys->open_sealed("acme/jane", sealed));
    std::filesystem::remove_all(dir);
}
