#include "consumers/scheduler.h"
#include "consumers/command_writer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "events/codec.h"
#include "events/murmur2.h"
#include "projections/ledger_projection.h"

namespace daybook::consumers {

scheduler::scheduler(kafka_settings kafka, topic_names topics, scheduler_options options,
                     const projections::store& projection, std::shared_ptr<spdlog::logger> log)
    : kafka_(std::move(kafka)), topics_(std::move(topics)), options_(options), projection_(projection),
      log_(std::move(log)) {}

void scheduler::add_rule(std::string name, rule r) { rules_.emplace_back(std::move(name), std::move(r)); }

result<ok_t, std::string> scheduler::run(const std::atomic<bool>& stop) {
    auto producer = make_producer(kafka_, "");
    if (!producer) return producer.error();
    auto partitions = partition_count(producer->get(), topics_.commands(), 30000);
    if (!partitions) return partitions.error();
    log_->info("scheduler started rules={} interval_ms={}", rules_.size(), options_.interval_ms);
    while (!stop.load()) {
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        std::int64_t bucket = now / options_.interval_ms;
        for (const auto& [name, r] : rules_) {
            for (auto& cmd : r(projection_, now, bucket)) {
                cmd.set_source("scheduler:" + name);
                cmd.set_actor("daybook-scheduler");
                auto err = produce_command(producer->get(), topics_, *partitions, cmd, kafka_.signer.get());
                if (err) log_->warn("scheduler produce failed rule={} error={}", name, rd_kafka_err2str(err));
                else sent_++;
            }
        }
        rd_kafka_flush(producer->get(), 10000);
        for (std::uint32_t waited = 0; waited < options_.interval_ms && !stop.load(); waited += 50)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    rd_kafka_flush(producer->get(), 10000);
    return ok;
}

std::vector<v1::CommandEnvelope> expire_holds_rule(const projections::store& projection, std::int64_t now_ms,
                                                   std::int64_t bucket) {
    std::vector<v1::CommandEnvelope> out;
    for (const auto& book : projections::books_with_expired_holds(projection, now_ms, 1000)) {
        auto& cmd = out.emplace_back();
        cmd.set_command_id("scheduler/expire_holds/" + book.substr(0, 64) + "/" + std::to_string(bucket));
        cmd.mutable_expire_holds()->set_book_id(book);
    }
    return out;
}

}  // namespace daybook::consumers
