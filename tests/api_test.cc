// The OpenAPI document (api/openapi.json, built into the binary) describes exactly the routes the
// server registers, and the dashboard's files are built in.

#include <catch2/catch.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <set>

#include "api/assets.h"
#include "api/server.h"

using namespace daybook;

TEST_CASE("the OpenAPI document lists every route the server registers, and no other", "[api]") {
    auto doc = api::asset("openapi.json");
    REQUIRE(doc);
    google::protobuf::Struct parsed;
    REQUIRE(google::protobuf::util::JsonStringToMessage(std::string(*doc), &parsed).ok());
    CHECK(parsed.fields().at("openapi").string_value().starts_with("3."));
    std::set<std::pair<std::string, std::string>> documented, registered;
    for (const auto& [path, item] : parsed.fields().at("paths").struct_value().fields())
        for (const auto& [method, operation] : item.struct_value().fields()) {
            std::string upper = method;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
            documented.insert({upper, path});
            CHECK(operation.struct_value().fields().contains("responses"));
        }
    for (const auto& r : api::server::routes()) registered.insert({r.method, r.path});
    CHECK(documented == registered);
}

TEST_CASE("the dashboard's files are built into the binary", "[api]") {
    for (const char* name : {"index.html", "app.js", "style.css"}) {
        INFO(name);
        auto bytes = api::asset(name);
        REQUIRE(bytes);
        CHECK(!bytes->empty());
    }
    CHECK(!api::asset("no-such-file"));
}
