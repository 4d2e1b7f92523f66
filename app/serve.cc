#include <cctype>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "app/options.h"
#include "api/tokens.h"
#include "consumers/billing_manager.h"
#include "consumers/scheduler.h"

namespace daybook::app {
namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int) { stop_requested.store(true); }

}  // namespace

int run_topics_create(const options& o) {
    auto r = consumers::create_topics(o.kafka, o.topics, o.layout);
    if (!r) {
        std::fprintf(stderr, "daybook topics create: %s\n", r.error().c_str());
        return 2;
    }
    std::printf("topics ready: %s %s %s %s (partitions=%d)\n", o.topics.commands().c_str(),
                o.topics.events().c_str(), o.topics.outcomes().c_str(), o.topics.dlq().c_str(),
                o.layout.partitions);
    return 0;
}

std::string kafka_openness(const consumers::kafka_settings& kafka) {
    auto get = [&](const char* k) {
        auto it = kafka.passthrough.find(k);
        return it == kafka.passthrough.end() ? std::string() : it->second;
    };
    std::string protocol = get("security.protocol");
    for (auto& ch : protocol) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (protocol == "SASL_SSL") return "";
    if (protocol == "SSL" && !get("ssl.certificate.location").empty()) return "";
    if (protocol.empty() || protocol == "PLAINTEXT") return "Kafka is reached without authentication (security.protocol=PLAINTEXT)";
    if (protocol == "SASL_PLAINTEXT") return "Kafka credentials would cross the network in clear (SASL_PLAINTEXT)";
    return "security.protocol=SSL without a client certificate authenticates nobody";
}

int run_serve(const options& o, const std::string& roles) {
    bool with_processor = roles.find("processor") != std::string::npos;
    bool with_projector = roles.find("projector") != std::string::npos;
    // The scheduler reads the projector's store, so it runs beside a projector.
    bool with_scheduler = with_projector && roles.find("scheduler") != std::string::npos;
    // The billing process managers (consumers/billing_manager.h) need no store.
    bool with_billing = roles.find("billing") != std::string::npos;
    if (!with_processor && !with_projector && !with_billing) {
        std::fprintf(stderr, "daybook serve: --roles must name processor, projector and/or billing\n");
        return 2;
    }
    if (auto open = kafka_openness(o.kafka); !open.empty()) {
        if (!o.development) {
            std::fprintf(stderr,
                         "daybook serve: refusing to run wide open: %s. Connect with SASL_SSL (--kafka security.protocol=SASL_SSL "
                         "--kafka sasl.mechanisms=... --kafka sasl.username=... --kafka sasl.password=... --kafka ssl.ca.location=...), "
                         "or pass --development (DAYBOOK_DEVELOPMENT=true) for a local broker\n",
                         open.c_str());
            return 2;
        }
    }
    if (with_processor && !o.processor.writers && !o.development) {
        std::fprintf(stderr,
                     "daybook serve: refusing to decide unsigned commands: without a writers file anyone who can write %s "
                     "may claim any actor. Give --writers FILE (README: Signed commands), or pass --development "
                     "(DAYBOOK_DEVELOPMENT=true) for a local broker\n",
                     o.topics.commands().c_str());
        return 2;
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::filesystem::create_directories(o.data_dir);
    auto log = make_logger("serve", o);

    std::unique_ptr<projections::store> processor_store, projector_store;
    if (with_processor) {
        auto s = projections::store::open(o.processor_store(), o.store);
        if (!s) return log->error("{}", s.error()), 2;
        processor_store = std::move(*s);
    }
    if (with_projector) {
        auto s = projections::store::open(o.projector_store(), o.store);
        if (!s) return log->error("{}", s.error()), 2;
        projector_store = std::move(*s);
    }

    // Either role failing stops the other: a half-running serve would look healthy and is not.
    std::atomic<bool> stop{false};
    std::atomic<int> status{0};
    std::vector<std::thread> threads;
    std::unique_ptr<consumers::processor> proc;
    std::unique_ptr<consumers::projector> proj;
    if (with_processor) {
        proc = std::make_unique<consumers::processor>(o.kafka, o.topics, o.processor, *processor_store,
                                                      make_logger("processor", o));
        threads.emplace_back([&] {
            if (auto r = proc->run(stop); !r) {
                log->critical("processor stopped: {}", r.error());
                status = 3;
                stop = true;
            }
        });
    }
    if (with_projector) {
        auto projector_options = o.projector;
        projector_options.software_version = o.processor.software_version;
        proj = std::make_unique<consumers::projector>(o.kafka, o.topics, projector_options, *projector_store,
                                                      make_logger("projector", o));
        threads.emplace_back([&] {
            if (auto r = proj->run(stop); !r) {
                log->critical("projector stopped: {}", r.error());
                status = 3;
                stop = true;
            }
        });
    }
    std::unique_ptr<consumers::scheduler> sched;
    if (with_scheduler) {
        sched = std::make_unique<consumers::scheduler>(o.kafka, o.topics, o.scheduler, *projector_store,
                                                       make_logger("scheduler", o));
        sched->add_rule("expire_holds", consumers::expire_holds_rule);
        threads.emplace_back([&] {
            if (auto r = sched->run(stop); !r) {
                log->critical("scheduler stopped: {}", r.error());
                status = 3;
                stop = true;
            }
        });
    }
    std::unique_ptr<consumers::billing_manager> billing;
    if (with_billing) {
        consumers::billing_manager_options bo;
        bo.group_id = consumers::billing_group_of(o.processor.group_id);
        bo.instance = o.processor.instance;
        billing = std::make_unique<consumers::billing_manager>(o.kafka, o.topics, bo, make_logger("billing", o));
        threads.emplace_back([&] {
            if (auto r = billing->run(stop); !r) {
                log->critical("billing process managers stopped: {}", r.error());
                status = 3;
                stop = true;
            }
        });
    }
    std::unique_ptr<api::server> http;
    if (o.http_enabled) {
        if (!projector_store) return log->error("--http needs the projector role in the same process"), 2;
        auto http_options = o.http;
        http_options.processor_group = o.processor.group_id;
        http = std::make_unique<api::server>(o.kafka, o.topics, http_options, *projector_store,
                                             proc ? &proc->stats() : nullptr, proj ? &proj->stats() : nullptr,
                                             make_logger("http", o));
        threads.emplace_back([&] {
            if (auto r = http->run(stop); !r) {
                log->critical("http api stopped: {}", r.error());
                status = 3;
                stop = true;
            }
        });
    }
    log->info("serving roles={} instance={} brokers={}", roles, o.processor.instance, o.kafka.brokers);
    while (!stop.load()) {
        if (stop_requested.load()) stop = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& t : threads) t.join();
    if (proc) {
        const auto& s = proc->stats();
        log->info("processor totals commands={} accepted={} rejected={} duplicates={} dlq={} batches={} "
                  "producer_recreations={} restores={}",
                  s.commands.load(), s.accepted.load(), s.rejected.load(), s.duplicates.load(),
                  s.dead_lettered.load(), s.batches.load(), s.producer_recreations.load(), s.restores.load());
    }
    if (proj) {
        const auto& s = proj->stats();
        log->info("projector totals applied={} duplicates_skipped={} stopped_partitions={}", s.applied.load(),
                  s.skipped_duplicates.load(), s.stopped_partitions.load());
    }
    if (sched) log->info("scheduler totals commands={}", sched->commands_sent());
    if (billing)
        log->info("billing totals events={} commands={} transactions={} restarts={}", billing->stats().events.load(),
                  billing->stats().commands.load(), billing->stats().transactions.load(), billing->stats().restarts.load());
    return status.load();
}

int run_tokens(const tokens_args& a) {
    api::token_file file(a.file);
    if (a.what == "create") {
        auto r = api::role_from(a.role);
        if (!r) return std::fprintf(stderr, "daybook tokens create: --role is reader, submitter or admin\n"), 2;
        auto token = file.create(a.actor, *r);
        if (!token) return std::fprintf(stderr, "daybook tokens create: %s\n", token.error().c_str()), 2;
        std::printf("%s\n", token->token.c_str());
        std::fprintf(stderr, "token for %s (%s) added to %s; it is shown only now\n", a.actor.c_str(), a.role.c_str(),
                     a.file.c_str());
        return 0;
    }
    auto removed = file.revoke(a.actor);
    if (!removed) return std::fprintf(stderr, "daybook tokens revoke: %s\n", removed.error().c_str()), 2;
    std::printf("revoked %d token(s) of %s\n", *removed, a.actor.c_str());
    return 0;
}

}  // namespace daybook::app
