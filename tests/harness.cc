#include "tests/harness.h"

#include "consumers/command_writer.h"

#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "events/codec.h"
#include "events/hashing.h"
#include "events/ledger_codec.h"
#include "events/murmur2.h"
#include "projections/ledger_projection.h"
#include "projections/store.h"

namespace daybook::testing {
namespace {

std::string required_env(const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v) throw std::runtime_error(std::string(name) + " is not set: run integration tests through ctest");
    return v;
}

std::string random_suffix() {
    std::random_device rd;
    std::mt19937_64 gen(rd() ^ static_cast<std::uint64_t>(::getpid()));
    return std::to_string(gen() % 1'000'000'000ULL);
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
            const std::string& out_path, int stdout_fd = -1) {
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            ::dup2(stdout_fd >= 0 ? stdout_fd : fd, 1);
            ::dup2(fd, 2);
        }
        ::setpgid(0, 0);
        for (const auto& e : extra_env) ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

}  // namespace

const test_env& test_env::get() {
    static const test_env env{required_env("DAYBOOK_TEST_BROKERS"), required_env("DAYBOOK_BIN"),
                              required_env("DAYBOOK_SOURCE_DIR")};
    return env;
}

own_broker::own_broker(int port, const std::string& data_dir, const std::string& security_dir)
    : port_(port), data_dir_(data_dir), security_dir_(security_dir) {
    start();
}

own_broker::~own_broker() { run("reset"); }

void own_broker::start() {
    if (run("start") != 0) throw std::runtime_error("the test's own broker did not start");
}

void own_broker::stop(bool sigkill) { run("stop", sigkill); }

int own_broker::run(const std::string& command, bool sigkill) {
    std::vector<std::string> env{"KAFKA_PORT=" + std::to_string(port_), "KAFKA_CONTROLLER_PORT=" + std::to_string(port_ + 1),
                                 "KAFKA_DATA_DIR=" + data_dir_};
    if (sigkill) env.push_back("KAFKA_SIGKILL=1");
    if (!security_dir_.empty()) env.push_back("KAFKA_SECURITY_DIR=" + security_dir_);
    pid_t pid = spawn({test_env::get().source_dir + "/scripts/kafka-local", command}, env, data_dir_ + ".control.log");
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

sandbox::sandbox(const std::string& name, int partitions_, const std::string& brokers,
                 const std::map<std::string, std::string>& passthrough)
    : partitions(partitions_) {
    const auto& env = test_env::get();
    auto suffix = random_suffix();
    kafka.brokers = brokers.empty() ? env.brokers : brokers;
    kafka.passthrough = passthrough;
    kafka.session_timeout_ms = 6000;
    kafka.transaction_timeout_ms = 10000;
    kafka.reconnect_backoff_max_ms = 500;
    topics.prefix = "t" + suffix + "-" + name + ".";
    group = "g" + suffix + "-" + name;
    dir = (std::filesystem::temp_directory_path() / ("daybook-test-" + name + "-" + suffix)).string();
    std::filesystem::create_directories(dir);
    consumers::topic_layout layout;
    layout.partitions = partitions;
    layout.outcome_partitions = 2;
    auto created = consumers::create_topics(kafka, topics, layout);
    if (!created) throw std::runtime_error("cannot create topics: " + created.error());
}

void sandbox::recreate_topics() {
    auto rk = consumers::make_producer(kafka, "");
    if (!rk) throw std::runtime_error(rk.error());
    std::vector<std::string> names{topics.commands(), topics.events(), topics.outcomes(), topics.dlq()};
    std::vector<rd_kafka_DeleteTopic_t*> del;
    for (const auto& n : names) del.push_back(rd_kafka_DeleteTopic_new(n.c_str()));
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk->get());
    rd_kafka_DeleteTopics(rk->get(), del.data(), del.size(), nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(del.data(), del.size());
    consumers::topic_layout layout;
    layout.partitions = partitions;
    layout.outcome_partitions = 2;
    // Deletion completes asynchronously: retry creation until the names are free again.
    for (int attempt = 0;; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        auto created = consumers::create_topics(kafka, topics, layout);
        if (created) {
            auto w = consumers::watermarks(rk->get(), topics.events(), 0, 30000);
            if (w && w->second == 0) return;
        }
        if (attempt > 60) throw std::runtime_error("cannot recreate topics");
    }
}

sandbox::~sandbox() {
    if (!std::getenv("DAYBOOK_TEST_KEEP")) std::filesystem::remove_all(dir);
}

std::vector<std::string> sandbox::common_args(const std::string& data_dir, const std::string& instance) const {
    std::vector<std::string> out{"--brokers", kafka.brokers, "--topic-prefix", topics.prefix, "--data-dir", data_dir,
                                 "--instance", instance, "--group", group, "--session-timeout-ms", "6000",
                                 "--transaction-timeout-ms", "10000"};
    for (const auto& [k, v] : kafka.passthrough) {
        out.push_back("--kafka");
        out.push_back(k + "=" + v);
    }
    return out;
}

namespace {
std::vector<std::string> serve_args(const sandbox& box, const std::string& instance, const std::string& data_dir,
                                    const std::vector<std::string>& extra_args) {
    std::vector<std::string> args{test_env::get().bin, "serve"};
    for (auto& a : box.common_args(data_dir, instance)) args.push_back(a);
    for (auto& a : extra_args) args.push_back(a);
    return args;
}
}  // namespace

serve_process::serve_process(const sandbox& box, const std::string& instance, const std::string& data_dir,
                             std::vector<std::string> extra_args, std::vector<std::string> extra_env)
    : child_process(serve_args(box, instance, data_dir, extra_args), box.dir + "/serve-" + instance + ".log", extra_env) {}

child_process::child_process(const std::vector<std::string>& argv, const std::string& log_path,
                             const std::vector<std::string>& extra_env)
    : log_path_(log_path) {
    pid_ = spawn(argv, extra_env, log_path_);
}

child_process::~child_process() {
    if (pid_ > 0 && running()) kill();
}

bool child_process::running() {
    if (pid_ <= 0) return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        return false;
    }
    return true;
}

int child_process::wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return status_;
}

void child_process::terminate() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (wait_exit(std::chrono::seconds(30)) == -1) kill();
}

void child_process::kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(30));
}

std::string child_process::log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::pair<int, std::string> run_daybook(const std::vector<std::string>& args) {
    std::vector<std::string> full{test_env::get().bin};
    full.insert(full.end(), args.begin(), args.end());
    return run_program(full);
}

std::pair<int, std::string> run_program(const std::vector<std::string>& full) {
    auto dir = std::filesystem::temp_directory_path();
    auto out_path = (dir / ("daybook-run-" + random_suffix() + ".out")).string();
    auto err_path = out_path + ".err";
    int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = spawn(full, {}, err_path, out_fd);
    ::close(out_fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream in(out_path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::ifstream err(err_path);
    std::stringstream es;
    es << err.rdbuf();
    std::filesystem::remove(out_path);
    std::filesystem::remove(err_path);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, ss.str() + (code != 0 ? es.str() : "")};
}

client::client(const sandbox& box) : box_(box) {
    auto p = consumers::make_producer(box.kafka, "");
    if (!p) throw std::runtime_error(p.error());
    producer_ = std::move(*p);
    auto w = consumers::outcome_waiter::open(box.kafka, box.topics);
    if (!w) throw std::runtime_error(w.error());
    waiter_ = std::move(*w);
}

void client::send_raw(const std::string& key, int partition, const std::string& value) {
    for (;;) {
        auto err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(box_.topics.commands().c_str()),
                                     RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key.data(), key.size()),
                                     RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(producer_.get(), 10);
            continue;
        }
        if (err) throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
        return;
    }
}

void client::send(const std::vector<v1::CommandEnvelope>& commands) {
    // Signed when the sandbox's Kafka settings carry a writer key (a processor with --writers).
    for (const auto& c : commands)
        if (auto err = consumers::produce_command(producer_.get(), box_.topics, box_.partitions, c, box_.kafka.signer.get()))
            throw std::runtime_error("produce: " + consumers::error_text(err));
    if (rd_kafka_flush(producer_.get(), 30000)) throw std::runtime_error("flush timed out");
}

std::map<std::string, v1::Outcome> client::wait(const std::set<std::string>& ids, std::chrono::milliseconds wait) {
    return waiter_->wait(ids, std::chrono::steady_clock::now() + wait);
}

std::map<std::string, v1::Outcome> client::submit(const std::vector<v1::CommandEnvelope>& commands,
                                                  std::chrono::milliseconds wait_time) {
    send(commands);
    std::set<std::string> ids;
    for (const auto& c : commands) ids.insert(c.command_id());
    return wait(ids, wait_time);
}

namespace {

// Reads every record of a topic partition from the start up to its end (read_committed).
template <typename F>
void read_partition(const sandbox& box, const std::string& topic, int p, F&& fn) {
    rd_kafka_conf_t* conf = consumers::base_conf(box.kafka);
    consumers::set(conf, "enable.partition.eof", "true");
    auto c = consumers::make_consumer(box.kafka, "", "", conf);
    if (!c) throw std::runtime_error(c.error());
    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c->get(), list.get());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        consumers::message_ptr m(rd_kafka_consumer_poll(c->get(), 200));
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
        if (m->err) continue;
        fn(m.get());
    }
    throw std::runtime_error("timed out reading " + topic);
}

}  // namespace

log_audit audit_events(const sandbox& box) {
    log_audit out;
    out.last_seq.assign(static_cast<std::size_t>(box.partitions), 0);
    for (int p = 0; p < box.partitions; ++p) {
        std::string head = events::genesis_hash();
        std::uint64_t seq = 0;
        read_partition(box, box.topics.events(), p, [&](const rd_kafka_message_t* m) {
            auto rec = events::read_sealed(static_cast<std::uint32_t>(p),
                                           std::string_view(static_cast<const char*>(m->payload), m->len));
            ++out.records;
            if (!rec) {
                out.problems.push_back("partition " + std::to_string(p) + ": " + rec.error());
                return;
            }
            if (rec->sealed.seq() != seq + 1)
                out.problems.push_back("partition " + std::to_string(p) + ": seq " + std::to_string(rec->sealed.seq()) +
                                       " after " + std::to_string(seq));
            if (rec->sealed.prev_hash() != head)
                out.problems.push_back("partition " + std::to_string(p) + ": chain broken at seq " +
                                       std::to_string(rec->sealed.seq()));
            seq = rec->sealed.seq();
            head = rec->sealed.hash();
            const auto& env = out.envelopes.emplace_back(rec->envelope);
            if (env.has_command_rejected()) {
                out.records_per_command[env.command_id()]++;
                out.rejected_code[env.command_id()] = env.command_rejected().code();
            } else if (env.index_in_command() == 0) {
                out.records_per_command[env.command_id()]++;
            }
        });
        out.last_seq[static_cast<std::size_t>(p)] = seq;
    }
    return out;
}

void forge_events_record(const sandbox& box, int partition, const std::string& value, bool commit) {
    auto producer = consumers::make_producer(box.kafka, "forger-" + box.group);
    if (!producer) throw std::runtime_error(producer.error());
    consumers::error_ptr e(rd_kafka_init_transactions(producer->get(), 30000));
    if (!e) e.reset(rd_kafka_begin_transaction(producer->get()));
    if (e) throw std::runtime_error(rd_kafka_error_string(e.get()));
    auto err = rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(box.topics.events().c_str()),
                                 RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err) throw std::runtime_error(rd_kafka_err2str(err));
    if (rd_kafka_flush(producer->get(), 10000)) throw std::runtime_error("forged record not delivered");
    e.reset(commit ? rd_kafka_commit_transaction(producer->get(), -1) : rd_kafka_abort_transaction(producer->get(), -1));
    if (e) throw std::runtime_error(rd_kafka_error_string(e.get()));
}

std::map<std::string, int> count_outcomes(const sandbox& box, bool include_duplicates) {
    std::map<std::string, int> out;
    auto c = consumers::make_producer(box.kafka, "");
    auto n = consumers::partition_count(c->get(), box.topics.outcomes(), 30000);
    for (int p = 0; p < *n; ++p) {
        read_partition(box, box.topics.outcomes(), p, [&](const rd_kafka_message_t* m) {
            v1::Outcome o;
            if (!o.ParseFromArray(m->payload, static_cast<int>(m->len))) return;
            if (include_duplicates || !o.duplicate()) out[o.command_id()]++;
        });
    }
    return out;
}

v1::CommandEnvelope command_as(const std::string& actor, const std::string& id, const std::string& json) {
    v1::CommandEnvelope c;
    if (!google::protobuf::util::JsonStringToMessage(json, &c).ok()) throw std::runtime_error("not a command: " + json);
    c.set_command_id(id);
    c.set_actor(actor);
    return c;
}

v1::CommandEnvelope open_account(const std::string& id, const std::string& book, const std::string& account,
                                 v1::AccountType type, const std::string& currency, std::uint32_t scale) {
    v1::CommandEnvelope c;
    c.set_command_id(id);
    auto* p = c.mutable_open_account();
    p->set_book_id(book);
    p->set_account_id(account);
    p->set_name("Account " + account);
    p->set_type(type);
    p->set_currency(currency);
    p->set_scale(scale);
    return c;
}

v1::CommandEnvelope post_entry(const std::string& id, const std::string& book, const std::string& entry,
                               const std::string& debit, const std::string& credit, std::int64_t amount,
                               const std::string& currency) {
    v1::CommandEnvelope c;
    c.set_command_id(id);
    auto* p = c.mutable_post_entry();
    p->set_book_id(book);
    p->set_entry_id(entry);
    p->set_effective_date("2026-03-01");
    p->set_memo("test entry " + entry);
    auto* d = p->add_legs();
    d->set_account_id(debit);
    d->set_side(v1::SIDE_DEBIT);
    d->set_amount_minor(amount);
    d->set_currency(currency);
    auto* k = p->add_legs();
    k->set_account_id(credit);
    k->set_side(v1::SIDE_CREDIT);
    k->set_amount_minor(amount);
    k->set_currency(currency);
    return c;
}

std::string projected_digest(const sandbox& box, const std::string& data_dir, const std::string& instance,
                             const std::vector<std::uint64_t>& last_seq, std::chrono::seconds timeout) {
    auto path = data_dir + "/projector-" + instance;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_ptr<projections::store> s;
    auto scratch = box.dir + "/secondary-" + random_suffix();
    while (!s) {
        if (std::filesystem::exists(path + "/CURRENT")) {
            auto opened = projections::store::open_secondary(path, scratch);
            if (opened) s = std::move(*opened);
        }
        if (!s) {
            if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no projection store at " + path);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
    for (;;) {
        s->catch_up();
        bool done = true;
        for (std::size_t p = 0; p < last_seq.size(); ++p) {
            v1::PartitionPosition pos;
            if (auto raw = s->get(projections::position_key(static_cast<std::uint32_t>(p)))) pos.ParseFromString(*raw);
            if (pos.seq() < last_seq[p]) done = false;
        }
        if (done) return projections::state_digest(*s);
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("projection did not catch up");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

v1::CommandEnvelope parse_command(const std::string& json) {
    v1::CommandEnvelope c;
    if (!google::protobuf::util::JsonStringToMessage(json, &c).ok()) throw std::runtime_error("bad command JSON: " + json);
    return c;
}

std::vector<v1::CommandEnvelope> billing_chart(const std::string& book) {
    std::vector<v1::CommandEnvelope> out;
    const std::vector<std::tuple<std::string, std::string, std::string>> accounts{
        {"1000", "Bank", "ASSET"},          {"1200", "Receivable", "ASSET"},      {"1300", "Supplier advances", "ASSET"},
        {"1400", "Input VAT", "ASSET"},     {"2000", "Payable", "LIABILITY"},     {"2100", "Output VAT", "LIABILITY"},
        {"2300", "Customer advances", "LIABILITY"}, {"4000", "Sales", "REVENUE"}, {"5000", "Purchases", "EXPENSE"}};
    for (const auto& [id, name, type] : accounts)
        out.push_back(parse_command(R"({"command_id":"open-)" + id + R"(","open_account":{"book_id":")" + book + R"(","account_id":")" + id +
                            R"(","name":")" + name + R"(","type":"ACCOUNT_TYPE_)" + type + R"(","currency":"EUR","scale":2}})"));
    out.push_back(parse_command(R"({"command_id":"map","set_account_mapping":{"book_id":")" + book +
                        R"(","effective_from":"2026-01-01","accounts":[{"role":"ACCOUNT_ROLE_BANK","account_id":"1000"},)"
                        R"({"role":"ACCOUNT_ROLE_RECEIVABLE","account_id":"1200"},{"role":"ACCOUNT_ROLE_SUPPLIER_ADVANCES","account_id":"1300"},)"
                        R"({"role":"ACCOUNT_ROLE_TAX_RECEIVABLE","account_id":"1400"},{"role":"ACCOUNT_ROLE_PAYABLE","account_id":"2000"},)"
                        R"({"role":"ACCOUNT_ROLE_TAX_PAYABLE","account_id":"2100"},{"role":"ACCOUNT_ROLE_CUSTOMER_ADVANCES","account_id":"2300"},)"
                        R"({"role":"ACCOUNT_ROLE_REVENUE","account_id":"4000"},{"role":"ACCOUNT_ROLE_EXPENSE","account_id":"5000"}]}})"));
    // The register: seven parties that both buy and sell, and the standard rate.
    for (int i = 0; i < 7; ++i)
        out.push_back(parse_command(R"({"command_id":"party-)" + std::to_string(i) + R"(","register_counterparty":{"book_id":")" + book +
                            R"(","counterparty_id":"cp-)" + std::to_string(i) + R"(","name":"Party )" + std::to_string(i) +
                            R"(","customer":true,"supplier":true,"effective_from":"2026-01-01"}})"));
    out.push_back(parse_command(R"({"command_id":"tax-std","set_tax_code":{"book_id":")" + book +
                        R"(","code":"STD","rate_bp":1900,"effective_from":"2026-01-01"}})"));
    return out;
}

std::string text_between(const std::string& text, const std::string& before, const std::string& after) {
    auto at = text.find(before);
    if (at == std::string::npos) return "";
    at += before.size();
    return text.substr(at, text.find(after, at) - at);
}

}  // namespace daybook::testing
