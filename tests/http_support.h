#pragma once
// Shared by the HTTP tests: bearer tokens, and waiting for a `daybook serve --http` to answer.

#include <catch2/catch.hpp>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/harness.h"

namespace daybook::testing {

// The Authorization header of a token `daybook tokens create` printed (its first line).
inline httplib::Headers bearer(const std::string& create_output) {
    return {{"Authorization", "Bearer " + create_output.substr(0, create_output.find('\n'))}};
}

// Creates a bearer token for `actor` with `role` in the tokens file; what the command printed.
inline std::string token_for(const std::string& tokens, const std::string& actor, const std::string& role) {
    auto [code, out] = run_daybook({"tokens", "create", "--file", tokens, "--actor", actor, "--role", role});
    REQUIRE(code == 0);
    return out;
}

// True once GET /healthz answers 200 (plain or TLS client), false after 30 s.
template <typename Client>
bool wait_for_health(Client& http) {
    for (int i = 0; i < 300; ++i) {
        if (auto r = http.Get("/healthz"); r && r->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

}  // namespace daybook::testing
