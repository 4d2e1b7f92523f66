#pragma once
// Integration-test harness: a real local broker (started by the ctest fixture), `daybook serve`
// processes started and stopped by PID, a client that submits commands and waits for outcomes,
// and an auditor that reads the whole events log and checks sequence and hash chain.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "consumers/kafka.h"
#include "consumers/outcome_waiter.h"
#include "consumers/topics.h"
#include "daybook.pb.h"
#include "events/ledger_types.h"

namespace daybook::testing {

// Environment given by ctest: DAYBOOK_TEST_BROKERS and DAYBOOK_BIN are required; a missing one
// fails the test (never skips it).
struct test_env {
    std::string brokers;
    std::string bin;
    std::string source_dir;  // DAYBOOK_SOURCE_DIR: scripts/kafka-local lives there
    static const test_env& get();
};

// A broker of the test's own (for tests that stop and restart it), on its own ports and data
// directory, controlled through scripts/kafka-local by PID. Stopped and wiped at the end.
class own_broker {
public:
    // security_dir: a locked-down broker (scripts/kafka-local, KAFKA_SECURITY_DIR).
    own_broker(int port, const std::string& data_dir, const std::string& security_dir = "");
    ~own_broker();
    void start();
    void stop(bool sigkill = false);
    std::string brokers() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int run(const std::string& command, bool sigkill = false);
    int port_;
    std::string data_dir_;
    std::string security_dir_;
};

// A test's own topics, group, instance ids and temporary directory, removed at the end.
class sandbox {
public:
    // passthrough: Kafka client properties (a locked-down broker's credentials); topics are
    // created with them.
    explicit sandbox(const std::string& name, int partitions = 3, const std::string& brokers = "",
                     const std::map<std::string, std::string>& passthrough = {});
    ~sandbox();
    consumers::kafka_settings kafka;
    consumers::topic_names topics;
    std::string dir;
    std::string group;
    int partitions;
    // Deletes and recreates the topics under the same names: a new, empty log.
    void recreate_topics();
    // The flags every `daybook` invocation of this sandbox needs.
    std::vector<std::string> common_args(const std::string& data_dir, const std::string& instance) const;
};

// A child process (argv[0] is its path; stdout and stderr appended to log_path), stopped by its
// PID only; killed when destroyed.
class child_process {
public:
    child_process(const std::vector<std::string>& argv, const std::string& log_path,
                  const std::vector<std::string>& extra_env = {});
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    void terminate();  // SIGTERM and wait (SIGKILL after 30 s)
    void kill();       // SIGKILL and wait
    // Waits for the process to exit by itself; returns its exit status, or -1 on timeout.
    int wait_exit(std::chrono::milliseconds timeout);
    bool running();
    std::string log() const;
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::string log_path_;
    int status_ = -1;
};

// One `daybook serve` child process.
class serve_process : public child_process {
public:
    serve_process(const sandbox& box, const std::string& instance, const std::string& data_dir,
                  std::vector<std::string> extra_args = {}, std::vector<std::string> extra_env = {});
};

// Runs a program (argv[0] is its path) to completion; returns (exit status, stdout, plus stderr
// when it failed).
std::pair<int, std::string> run_program(const std::vector<std::string>& argv);
// Runs `daybook <args>`.
std::pair<int, std::string> run_daybook(const std::vector<std::string>& args);

class client {
public:
    explicit client(const sandbox& box);
    // Produces the commands (key = routing key, partition = murmur2) and waits for their
    // outcomes. Missing outcomes are absent from the map.
    std::map<std::string, v1::Outcome> submit(const std::vector<v1::CommandEnvelope>& commands,
                                              std::chrono::milliseconds wait = std::chrono::seconds(60));
    // Produces without waiting (for crash tests).
    void send(const std::vector<v1::CommandEnvelope>& commands);
    // Produces raw bytes to a commands partition.
    void send_raw(const std::string& key, int partition, const std::string& value);
    std::map<std::string, v1::Outcome> wait(const std::set<std::string>& ids, std::chrono::milliseconds wait);

private:
    const sandbox& box_;
    consumers::rk_ptr producer_;
    std::unique_ptr<consumers::outcome_waiter> waiter_;
};

// What the events log holds, checked record by record.
struct log_audit {
    std::vector<std::uint64_t> last_seq;                 // per partition
    std::map<std::string, int> records_per_command;      // domain commands count once per command
    std::map<std::string, std::uint32_t> rejected_code;  // command_rejected records
    std::vector<std::string> problems;                   // gaps, chain breaks, bad records
    std::uint64_t records = 0;
    std::vector<v1::EventEnvelope> envelopes;            // every readable record, partition by partition
};
log_audit audit_events(const sandbox& box);

// Writes a record straight into an events partition in a transaction of a producer that is not
// Daybook's, then commits or aborts it (for tests of what readers do with foreign records).
void forge_events_record(const sandbox& box, int partition, const std::string& value, bool commit);

// Counts every outcome record (duplicates included) in the outcomes topic.
std::map<std::string, int> count_outcomes(const sandbox& box, bool include_duplicates);

// Command builders.
// A command from its JSON form (the protobuf JSON mapping), with its id and actor.
v1::CommandEnvelope command_as(const std::string& actor, const std::string& id, const std::string& json);
v1::CommandEnvelope open_account(const std::string& id, const std::string& book, const std::string& account,
                                 v1::AccountType type, const std::string& currency = "EUR", std::uint32_t scale = 2);
v1::CommandEnvelope post_entry(const std::string& id, const std::string& book, const std::string& entry,
                               const std::string& debit, const std::string& credit, std::int64_t amount,
                               const std::string& currency = "EUR");

// The text between the first `before` and the next `after` in `text` ("" when `before` is absent).
std::string text_between(const std::string& text, const std::string& before, const std::string& after);

// A command from its JSON form (throws on bad JSON).
v1::CommandEnvelope parse_command(const std::string& json);
// A billing book's chart: bank, receivable, payable, VAT, advances, sales and purchases (EUR), the
// role mapping from 2026-01-01, seven parties cp-0..cp-6 that buy and sell, and tax code STD 19 %.
std::vector<v1::CommandEnvelope> billing_chart(const std::string& book);

// Waits until `daybook query digest` over the given store answers and every partition's
// projected seq has reached the log's last seq; returns the digest.
std::string projected_digest(const sandbox& box, const std::string& data_dir, const std::string& instance,
                             const std::vector<std::uint64_t>& last_seq, std::chrono::seconds timeout);

}  // namespace daybook::testing
