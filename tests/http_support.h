#pragma once
// Shared by the HTTP tests: waiting for a `daybook serve --http` to answer.

#include <chrono>
#include <thread>

namespace daybook::testing {

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
