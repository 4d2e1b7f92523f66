#pragma once
// The HTTP/JSON API (a `daybook serve --http` role): commands in, outcomes and projections out.
//
//   POST /v1/commands                 one CommandEnvelope or {"commands":[...]} (protobuf JSON);
//                                     waits for the outcomes up to ?wait_ms= (default 5000, at
//                                     most 30000); 200 with outcomes, 202 with what is pending
//   GET  /v1/books/{b}/accounts[/{a}] balances (?as_of=YYYY-MM-DD)
//   GET  /v1/books/{b}/accounts/{a}/statement?after=&limit=
//   GET  /v1/books/{b}/trial-balance, /balance-sheet?as_of=, /income-statement?from=&to=,
//        /entries/{e}, /holds
//   GET  /healthz, /readyz, /metrics  (no token needed)
// Every query takes ?min_token= (read-your-writes: waits, bounded, for the projection).
// Bearer tokens (api/tokens.h) give the actor and role; a client-supplied actor is refused.
// Errors are RFC 9457 problem+json with the offending field.
//
// Lifecycle: construct, run() until the stop flag is set. Thread-safety: httplib's worker threads
// share the outcome hub and read the projection store (RocksDB reads are thread-safe).

#include <spdlog/logger.h>

#include <atomic>
#include <memory>
#include <string>

#include "consumers/kafka.h"
#include "consumers/processor.h"
#include "consumers/projector.h"
#include "consumers/topics.h"
#include "projections/store.h"

namespace daybook::api {

struct api_options {
    // host:port to listen on. Default: 127.0.0.1:8080 (loopback only).
    std::string listen = "127.0.0.1:8080";
    // Bearer tokens file (`daybook tokens create`). Required.
    std::string tokens_file;
    // Requests waiting for outcomes at once; beyond it 429 with Retry-After, so health checks
    // always find a free worker. Default: 32 (the worker pool has 48 threads).
    int concurrent_waits_max = 32;
    // Largest request body. Default: 1 MiB.
    std::size_t body_bytes_max = 1 << 20;
};

class server {
public:
    server(consumers::kafka_settings kafka, consumers::topic_names topics, api_options options,
           const projections::store& projection, const consumers::processor_stats* processor,
           const consumers::projector_stats* projector, std::shared_ptr<spdlog::logger> log);
    ~server();
    [[nodiscard]] result<ok_t, std::string> run(const std::atomic<bool>& stop);

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace daybook::api
