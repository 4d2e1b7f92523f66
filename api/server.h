#pragma once
// The HTTP/JSON API (a `daybook serve --http` role): commands in, outcomes and projections out.
//
//   POST /v1/commands                 one CommandEnvelope or {"commands":[...]} (protobuf JSON);
//                                     waits for the outcomes up to ?wait_ms= (default 5000, at
//                                     most 30000); 200 with outcomes, 202 with what is pending
//   GET  /v1/books                    books that have accounts
//   GET  /v1/books/{b}/accounts[/{a}] balances (?as_of=YYYY-MM-DD; the list pages: ?after=&limit=)
//   GET  /v1/books/{b}/accounts/{a}/statement?after=&limit=
//   GET  /v1/books/{b}/trial-balance, /balance-sheet?as_of=, /income-statement?from=&to=,
//        /entries/{e}, /holds
//   GET  /v1/events?partition=&after=&limit=&type=&actor=&command_id=&aggregate=  the log, decoded
//   GET  /v1/dlq, /v1/exceptions, /v1/status (operations: DLQ items, stopped partitions, lag)
//   GET  /v1/openapi.json, / (the dashboard: index.html, app.js, style.css)
//   GET  /healthz, /readyz, /metrics  (no token needed)
// The route table and api/openapi.json are checked against each other by a test.
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
#include <vector>

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
    // Commands written and not yet decided, over all partitions, above which POST /v1/commands
    // answers 429 with Retry-After (measured every second). Default: 100000 (about ten seconds
    // of work on two cores).
    std::int64_t commands_backlog_max = 100000;
    // The processor's consumer group (its committed offsets give the backlog).
    std::string processor_group = "daybook.processor";
    // TLS: certificate chain and private key (PEM). Both empty: plain HTTP. Default: empty.
    std::string tls_cert_file, tls_key_file;
    // TLS client certificates (mTLS): CA bundle (PEM) that client certificates must chain to;
    // empty: no client certificate asked. Default: empty.
    std::string tls_client_ca_file;
    // Development only: serve the dashboard files from this directory instead of the copies
    // built into the binary (DAYBOOK_DASHBOARD_DIR). Default: empty.
    std::string dashboard_dir;
    // The key store of personal data (consumers/keystore.h), to show sealed names.
    std::string keystore_dir, master_key_file;
};

// A route the server registers (method, OpenAPI path): what api/openapi.json must describe.
struct route_spec {
    std::string method, path;
};

class server {
public:
    server(consumers::kafka_settings kafka, consumers::topic_names topics, api_options options,
           const projections::store& projection, const consumers::processor_stats* processor,
           const consumers::projector_stats* projector, std::shared_ptr<spdlog::logger> log);
    ~server();
    [[nodiscard]] result<ok_t, std::string> run(const std::atomic<bool>& stop);
    // Every route, in registration order (tests check api/openapi.json against it).
    static std::vector<route_spec> routes();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace daybook::api
