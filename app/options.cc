#include "app/options.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <unistd.h>

#include <filesystem>

#include "consumers/command_writer.h"

namespace daybook::app {

result<ok_t, std::string> validate(options& o) {
    for (const auto& kv : o.kafka_properties) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return "--kafka expects name=value, got '" + kv + "'";
        auto name = kv.substr(0, eq);
        if (auto allowed = consumers::check_passthrough(name); !allowed) return allowed.error();
        o.kafka.passthrough[name] = kv.substr(eq + 1);
    }
    // Group ids are global to a cluster like transactional ids: by default they carry the topic
    // prefix, so deployments with their own prefixes never join each other's groups.
    if (o.processor.group_id.empty()) o.processor.group_id = o.topics.prefix + "processor";
    if (o.kafka.transaction_timeout_ms < 5000)
        return std::string("--transaction-timeout-ms must be at least 5000");
    if (o.kafka.session_timeout_ms < 3000) return std::string("--session-timeout-ms must be at least 3000");
    if (o.processor.commit_interval_ms == 0 || o.processor.commit_interval_ms > 10000)
        return std::string("--commit-interval-ms must be 1..10000");
    if (o.processor.batch_commands_max == 0 || o.processor.batch_commands_max > 100000)
        return std::string("--batch-max must be 1..100000");
    if (o.layout.partitions < 1 || o.layout.partitions > 1024)
        return std::string("--partitions must be 1..1024");
    if (o.processor.instance.empty()) return std::string("--instance must not be empty");
    if (o.scheduler.interval_ms < 10 || o.scheduler.interval_ms > 3'600'000)
        return std::string("--scheduler-interval-ms must be 10..3600000");
    if (!o.writer_key_file.empty()) {
        auto signer = consumers::command_signer::load(o.writer_name, o.writer_key_file);
        if (!signer) return signer.error();
        o.kafka.signer = *signer;
    } else if (!o.writer_name.empty()) {
        return std::string("--writer-name needs --writer-key");
    }
    if (!o.writers_file.empty()) {
        auto trust = consumers::writer_trust::load(o.writers_file);
        if (!trust) return trust.error();
        o.processor.writers = *trust;
    }
    if (o.keystore_dir.empty()) o.keystore_dir = o.data_dir + "/keystore";
    if (o.master_key_file.empty()) o.master_key_file = o.data_dir + "/master.key";
    o.processor.keystore_dir = o.keystore_dir;
    o.processor.master_key_file = o.master_key_file;
    o.http.keystore_dir = o.keystore_dir;
    o.http.master_key_file = o.master_key_file;
    return ok;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, const options& o) {
    auto log = spdlog::stderr_color_mt(name);
    log->set_level(spdlog::level::from_str(o.log_level));
    log->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %n %v");
    return log;
}

namespace {

result<std::unique_ptr<projections::store>, std::string> open_reader(const std::string& path) {
    if (!std::filesystem::exists(path + "/CURRENT"))
        return "no store at " + path + " (has `daybook serve` run with this --data-dir and --instance?)";
    auto scratch = std::filesystem::temp_directory_path() /
                   ("daybook-reader-" + std::to_string(::getpid()));
    std::filesystem::create_directories(scratch);
    return projections::store::open_secondary(path, scratch.string());
}

}  // namespace

result<std::unique_ptr<projections::store>, std::string> open_projection_reader(const options& o) {
    return open_reader(o.projector_store());
}

result<std::unique_ptr<projections::store>, std::string> open_processor_reader(const options& o) {
    return open_reader(o.processor_store());
}

}  // namespace daybook::app
