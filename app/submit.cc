#include <google/protobuf/util/json_util.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "aggregates/billing.h"
#include "app/options.h"

#include "consumers/command_writer.h"
#include "consumers/outcome_waiter.h"
#include "events/codec.h"
#include "events/murmur2.h"

namespace daybook::app {
namespace {

struct parsed_line {
    std::size_t line_no = 0;
    v1::CommandEnvelope envelope;
    std::string key;
};

// The operating-system user running the CLI: the actor until authentication exists (issue 9).
std::string local_user() {
    if (const char* u = std::getenv("USER"); u && *u) return u;
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) return pw->pw_name;
    return "uid-" + std::to_string(::getuid());
}

// Reads NDJSON commands; any bad line fails the whole submission before anything is sent.
result<std::vector<parsed_line>, std::string> read_commands(std::istream& in) {
    std::vector<parsed_line> out;
    std::string line, errors;
    std::size_t n = 0;
    std::string actor = cli_actor();
    while (std::getline(in, line)) {
        ++n;
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        parsed_line p;
        p.line_no = n;
        google::protobuf::util::JsonParseOptions opts;
        opts.ignore_unknown_fields = false;
        auto status = google::protobuf::util::JsonStringToMessage(line, &p.envelope, opts);
        if (!status.ok()) {
            errors += "line " + std::to_string(n) + ": " + std::string(status.message()) + "\n";
            continue;
        }
        if (p.envelope.command_id().empty()) {
            errors += "line " + std::to_string(n) + ": command_id is required (it is the idempotency key)\n";
            continue;
        }
        if (aggregates::billing::is_process_manager_command(p.envelope)) {
            errors += "line " + std::to_string(n) + ": a saga step of the billing process managers, never sent by a client\n";
            continue;
        }
        p.key = events::routing_key_of(p.envelope);
        if (p.key.empty()) {
            errors += "line " + std::to_string(n) + ": no command, or its book_id is empty\n";
            continue;
        }
        // The gateway stamps the actor; whatever the client wrote there is ignored.
        p.envelope.set_actor(actor);
        p.envelope.set_source("client");  // never a process manager's name
        out.push_back(std::move(p));
    }
    if (!errors.empty()) return errors;
    return out;
}

std::string outcome_json(const v1::Outcome& o) {
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(o, &json, opts);
    json.pop_back();  // the closing brace
    json += ",\"token\":\"" + events::token_of(o) + "\"}";
    return json;
}

}  // namespace

std::string cli_actor() { return "cli:" + local_user(); }

result<v1::Outcome, std::string> submit_one(const options& o, const v1::CommandEnvelope& envelope, int wait_ms) {
    auto waiter = consumers::outcome_waiter::open(o.kafka, o.topics);
    if (!waiter) return waiter.error();
    auto producer = consumers::make_producer(o.kafka, "");
    if (!producer) return producer.error();
    auto partitions = consumers::partition_count(producer->get(), o.topics.commands(), 30000);
    if (!partitions) return partitions.error();
    if (auto err = consumers::produce_command(producer->get(), o.topics, *partitions, envelope, o.kafka.signer.get()))
        return std::string("produce failed: ") + rd_kafka_err2str(err);
    if (auto err = rd_kafka_flush(producer->get(), wait_ms)) return std::string("not delivered: ") + rd_kafka_err2str(err);
    auto got = (*waiter)->wait({envelope.command_id()}, std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms));
    if (got.empty())
        return "no outcome of " + envelope.command_id() + " within " + std::to_string(wait_ms) +
               " ms; it may still be decided: run the same command again (same command id)";
    return got.begin()->second;
}

int run_submit(const options& o, const submit_args& a) {
    std::ifstream file;
    if (a.file != "-") {
        file.open(a.file);
        if (!file) {
            std::fprintf(stderr, "daybook submit: cannot open %s\n", a.file.c_str());
            return 2;
        }
    }
    auto commands = read_commands(a.file == "-" ? std::cin : file);
    if (!commands) {
        std::fprintf(stderr, "daybook submit: nothing was submitted:\n%s", commands.error().c_str());
        return 2;
    }
    std::vector<v1::CommandEnvelope> envelopes;
    for (auto& c : *commands) envelopes.push_back(std::move(c.envelope));
    return submit_envelopes(o, envelopes, a);
}

int submit_envelopes(const options& o, const std::vector<v1::CommandEnvelope>& envelopes, const submit_args& a) {
    struct keyed {
        const v1::CommandEnvelope& envelope;
        std::string key;
    };
    std::vector<keyed> list;
    for (const auto& e : envelopes) list.push_back({e, events::routing_key_of(e)});
    auto waiter = consumers::outcome_waiter::open(o.kafka, o.topics);
    if (!waiter) return std::fprintf(stderr, "daybook submit: %s\n", waiter.error().c_str()), 2;
    auto producer = consumers::make_producer(o.kafka, "");
    if (!producer) return std::fprintf(stderr, "daybook submit: %s\n", producer.error().c_str()), 2;
    auto partitions = consumers::partition_count(producer->get(), o.topics.commands(), 30000);
    if (!partitions) return std::fprintf(stderr, "daybook submit: %s\n", partitions.error().c_str()), 2;

    auto started = std::chrono::steady_clock::now();
    std::set<std::string> ids;
    std::map<std::string, v1::Outcome> outcomes_in_order;
    for (const auto& c : list) {
        ids.insert(c.envelope.command_id());
        if (auto err = consumers::produce_command(producer->get(), o.topics, *partitions, c.envelope, o.kafka.signer.get()))
            return std::fprintf(stderr, "daybook submit: produce failed: %s\n", rd_kafka_err2str(err)), 2;
        if (a.one_by_one) {  // the next command is sent once this one's outcome is in
            rd_kafka_flush(producer->get(), a.wait_ms);
            auto got = (*waiter)->wait({c.envelope.command_id()}, std::chrono::steady_clock::now() + std::chrono::milliseconds(a.wait_ms));
            outcomes_in_order.insert(got.begin(), got.end());
        }
    }
    if (auto err = rd_kafka_flush(producer->get(), a.wait_ms))
        return std::fprintf(stderr, "daybook submit: not all commands were delivered: %s\n", rd_kafka_err2str(err)), 2;

    auto outcomes = a.one_by_one ? outcomes_in_order : (*waiter)->wait(ids, started + std::chrono::milliseconds(a.wait_ms));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    int status = 0;
    std::size_t accepted = 0, rejected = 0, missing = 0, held = 0;
    for (const auto& c : list) {
        auto it = outcomes.find(c.envelope.command_id());
        if (it == outcomes.end()) {
            ++missing;
            status = 2;
            if (!a.quiet)
                std::printf("{\"command_id\":\"%s\",\"status\":\"NO_OUTCOME_YET\",\"detail\":\"no outcome within %d ms; "
                            "the command may still be decided: submit it again with the same command_id\"}\n",
                            c.envelope.command_id().c_str(), a.wait_ms);
            continue;
        }
        if (it->second.status() == v1::OUTCOME_STATUS_ACCEPTED) ++accepted;
        else if (it->second.status() == v1::OUTCOME_STATUS_PENDING_APPROVAL) ++held;  // decided when approved
        else {
            ++rejected;
            if (status == 0) status = 1;
        }
        if (!a.quiet) std::printf("%s\n", outcome_json(it->second).c_str());
    }
    std::fprintf(stderr, "submitted %zu commands: %zu accepted, %zu rejected, %zu held for approval, %zu without outcome in %.2f s (%.0f commands/s)\n",
                 list.size(), accepted, rejected, held, missing, seconds,
                 seconds > 0 ? static_cast<double>(list.size()) / seconds : 0.0);
    return status;
}

}  // namespace daybook::app
