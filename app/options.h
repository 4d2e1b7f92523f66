#pragma once
// The one configuration of the `daybook` binary: parsed and validated once in main (config file,
// then DAYBOOK_* environment variables, then flags), passed down by const&.

#include <spdlog/logger.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/server.h"
#include "consumers/kafka.h"
#include "consumers/processor.h"
#include "consumers/projector.h"
#include "consumers/scheduler.h"
#include "consumers/topics.h"
#include "projections/store.h"

namespace daybook::app {

struct options {
    consumers::kafka_settings kafka;
    consumers::topic_names topics;
    consumers::topic_layout layout;
    consumers::processor_options processor;
    consumers::projector_options projector;
    consumers::scheduler_options scheduler;
    api::api_options http;
    // Serve the HTTP API (with the projector). Default: off.
    bool http_enabled = false;
    projections::store_options store;
    // Where the RocksDB stores live. Default: ./daybook-data.
    std::string data_dir = "daybook-data";
    // Log level: trace, debug, info, warn, error. Default: info.
    std::string log_level = "info";
    // Kafka pass-through properties as given (name=value).
    std::vector<std::string> kafka_properties;
    // The key store of personal data and its master key (consumers/keystore.h). Default:
    // <data dir>/keystore and <data dir>/master.key (keep the master key elsewhere, or in a KMS,
    // in production).
    std::string keystore_dir, master_key_file;
    // Development: let `serve` talk to Kafka without authentication (a PLAINTEXT local broker).
    // Off: serve refuses unless security.protocol is SASL_SSL, or SSL with a client certificate.
    bool development = false;
    // Signed command records (consumers/command_writer.h): this process's writer name and
    // Ed25519 private key (PEM), and, for the processor, the writers file it trusts. Default:
    // none (development: commands unsigned, and accepted unsigned).
    std::string writer_name, writer_key_file, writers_file;

    std::string processor_store() const { return data_dir + "/processor-" + processor.instance; }
    std::string projector_store() const { return data_dir + "/projector-" + processor.instance; }
};

// Checks what CLI11 cannot: pass-through properties, relationships between values.
[[nodiscard]] result<ok_t, std::string> validate(options& o);

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const options& o);

// Opens the projector's store read-only (it may be written by a running `serve`).
result<std::unique_ptr<projections::store>, std::string> open_projection_reader(const options& o);
result<std::unique_ptr<projections::store>, std::string> open_processor_reader(const options& o);

// Subcommands. Each returns the process exit status.
int run_topics_create(const options& o);
int run_serve(const options& o, const std::string& roles);
struct submit_args {
    std::string file = "-";
    int wait_ms = 30000;
    bool quiet = false;
    // Send each command only after the previous one's outcome arrived (order across aggregates).
    bool one_by_one = false;
};
int run_submit(const options& o, const submit_args& a);
// Sends commands (actor and source already set) and prints their outcomes like `submit`.
int submit_envelopes(const options& o, const std::vector<v1::CommandEnvelope>& envelopes, const submit_args& a);
// The actor of commands sent from this machine's CLI ("cli:<user>") until authentication exists.
std::string cli_actor();
// Sends one command and waits for its outcome.
result<v1::Outcome, std::string> submit_one(const options& o, const v1::CommandEnvelope& envelope, int wait_ms);
struct close_period_args {
    std::string book, through;
    int wait_ms = 120000;            // longest wait for each step
    bool without_process_managers = false;  // no billing process manager runs: do not wait for it
};
// `daybook close-period`: close, wait for the process managers and the projector, seal.
int run_close_period(const options& o, const close_period_args& a);
struct dlq_args {
    std::string what;  // list, show, resubmit
    std::int64_t offset = -1;
    std::int64_t after = -1;
    std::size_t limit = 50;
    std::string file;  // resubmit: a corrected command (protobuf JSON); empty: the original bytes
    std::string format = "table";
};
int run_dlq(const options& o, const dlq_args& a);
struct export_args {
    std::string report;  // journal, jet, trial-balance, statement
    std::string book, account, as_of, format = "csv";
    std::string known_at;  // only what had been recorded by then (aggregates::parse_instant)
    std::string out;     // the file; its certificate goes to <out>.certificate.json
};
int run_export(const options& o, const export_args& a);
// replay_digest: also replay the log to the projector's latest recorded state digest and compare.
int run_verify(const options& o, const std::string& book, bool replay_digest);
struct query_args {
    std::string what;  // balance, accounts, trial-balance, statement, entry, digest
    std::string book, account, entry;
    std::uint64_t after = 0;
    std::size_t limit = 100;
    std::string format = "table";
    std::string token;
    int wait_ms = 10000;
    std::string as_of;       // YYYY-MM-DD: balances as of that effective date
    std::string known_at;    // balances as known at that time (aggregates::parse_instant)
    std::string from, to;    // income statement range
    std::string direction = "customer";  // aging: customer (AR) or supplier (AP)
    std::string currency;    // payroll: with the period, what a run would pay now (a preview)
};
int run_query(const options& o, const query_args& a);
int run_status(const options& o, const std::string& format);
struct audit_args {
    std::string what;  // verify, checkpoint, keygen, export, prove, prove-consistency, check-proof
    std::string log_file;      // --log: an exported log instead of Kafka
    int partitions = 0;        // --partitions with --log: count partitions that have no record
    std::string checkpoint;    // verify --checkpoint
    std::string public_key, private_key, out, event, proof, old_checkpoint, new_checkpoint;
    std::size_t tree_size = 0;
    std::string state_dir, to_seqs, known_at;              // replay
    std::string book;                                      // seals
    std::string command_id, correlation_id, actor, stream;  // trail
};
int run_audit(const options& o, const audit_args& a);
// Rebuilds every projection from offset 0 into `store` (app/audit.cc): each partition up to its
// seq in `to` when given (a partition missing from `to` contributes nothing), only events recorded
// by known_at_ms when given. Verifies the chain on the way. Returns the events applied.
result<std::size_t, std::string> replay_into(const options& o, const std::string& log_file, projections::store& store,
                                             const std::map<std::uint32_t, std::uint64_t>& to,
                                             std::optional<std::int64_t> known_at_ms);
struct tokens_args {
    std::string what;  // create, revoke
    std::string file, actor, role = "reader";
};
int run_tokens(const tokens_args& a);
// Kafka principals of the roles, for `daybook security apply` (app/security.cc).
struct security_args {
    std::string gateway = "User:daybook-gateway";
    std::string processor = "User:daybook-processor";
    std::string managers = "User:daybook-managers";
    std::string projector = "User:daybook-projector";
    std::string auditor = "User:daybook-auditor";
};
int run_security(const options& o, const security_args& a);
// `daybook privacy erase`: deletes the subject's key, then records the erasure (record_erasure).
int run_privacy_erase(const options& o, const std::string& subject, const std::string& reason);
// Why these Kafka settings leave the log open to anyone who can reach the broker, or "".
std::string kafka_openness(const consumers::kafka_settings& kafka);

}  // namespace daybook::app
