#include "consumers/projector.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

#include "consumers/crash_points.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "projections/ledger_projection.h"

namespace daybook::consumers {
namespace {

using clock = std::chrono::steady_clock;

constexpr const char* mismatch_marker = "store does not match the log";

}  // namespace

struct projector::impl {
    kafka_settings kafka;
    topic_names topics;
    projector_options opts;
    projections::store& store;
    std::shared_ptr<spdlog::logger> log;
    projector_stats& stats;

    struct part {
        v1::PartitionPosition pos;
        bool verify_first = false;  // the first record read must be the last one applied
        bool stopped = false;
    };
    rk_ptr consumer;
    std::map<std::int32_t, part> parts;
    std::unique_ptr<projections::overlay> rows;

    impl(kafka_settings k, topic_names t, projector_options o, projections::store& s,
         std::shared_ptr<spdlog::logger> l, projector_stats& st)
        : kafka(std::move(k)), topics(std::move(t)), opts(o), store(s), log(std::move(l)), stats(st) {}

    void wipe() {
        for (auto prefix : projections::projection_prefixes) store.erase_prefix(prefix);
        for (auto prefix : projections::bookkeeping_prefixes) store.erase_prefix(prefix);
    }

    result<ok_t, std::string> start(bool rebuilt) {
        auto c = make_consumer(kafka, "", "");
        if (!c) return c.error();
        consumer = std::move(*c);
        auto count = partition_count(consumer.get(), topics.events(), 30000);
        if (!count) return count.error();
        auto identity = log_identity(consumer.get(), topics.events());
        if (!identity) return std::string("cannot read the Kafka cluster id (is the broker up?)");
        // The row layout version is part of the identity: a store of another layout is rebuilt.
        *identity += "/projection-rows-v5";
        if (auto before = store.adopt_identity(*identity)) {
            log->warn("projection store was built from {} but the log is {}: rebuilding", *before, *identity);
            wipe();
        }
        store.erase_prefix("stop/");  // a stopped partition is checked again from where it stopped

        rows = std::make_unique<projections::overlay>(store, "");
        parts.clear();
        tpl_ptr list(rd_kafka_topic_partition_list_new(*count));
        for (int p = 0; p < *count; ++p) {
            auto& pt = parts[p];
            if (auto raw = store.get(projections::position_key(static_cast<std::uint32_t>(p))))
                pt.pos.ParseFromString(*raw);
            pt.verify_first = pt.pos.seq() > 0;
            if (pt.verify_first) {
                // A log shorter than the store (a wiped broker, a recreated topic) cannot hold the
                // last applied record: rebuild now rather than serve rows of another log.
                auto w = watermarks(consumer.get(), topics.events(), p, 30000);
                if (!w) return w.error();
                if (w->second < pt.pos.next_offset()) return std::string(mismatch_marker);
            }
            rd_kafka_topic_partition_list_add(list.get(), topics.events().c_str(), p)->offset =
                pt.verify_first ? pt.pos.next_offset() - 1 : RD_KAFKA_OFFSET_BEGINNING;
        }
        if (auto err = rd_kafka_assign(consumer.get(), list.get()))
            return "cannot assign " + topics.events() + ": " + error_text(err);
        log->info("projector started partitions={} rebuilt={}", *count, rebuilt);
        return ok;
    }

    void stop_partition(std::int32_t p, part& pt, const std::string& why) {
        pt.stopped = true;
        stats.stopped_partitions++;
        rows->put(projections::stop_key(static_cast<std::uint32_t>(p)), why);
        tpl_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topics.events().c_str(), p);
        rd_kafka_pause_partitions(consumer.get(), list.get());
        log->error("ALARM events partition stopped partition={} reason={}", p, why);
    }

    enum class step { applied, skipped, mismatch };

    step take(const rd_kafka_message_t* m, part& pt) {
        const auto p = static_cast<std::uint32_t>(m->partition);
        auto rec = events::read_sealed(p, std::string_view(static_cast<const char*>(m->payload), m->len));
        if (!rec) {
            stop_partition(m->partition, pt, "offset " + std::to_string(m->offset) + ": " + rec.error());
            return step::skipped;
        }
        const auto& s = rec->sealed;
        if (pt.verify_first) {
            pt.verify_first = false;
            if (m->offset != pt.pos.next_offset() - 1 || s.seq() != pt.pos.seq() || s.hash() != pt.pos.head())
                return step::mismatch;
            return step::skipped;
        }
        if (s.seq() <= pt.pos.seq()) {
            stats.skipped_duplicates++;
            return step::skipped;
        }
        auto head = pt.pos.seq() == 0 ? events::genesis_hash() : pt.pos.head();
        if (s.seq() != pt.pos.seq() + 1 || s.prev_hash() != head) {
            stop_partition(m->partition, pt,
                           "seq " + std::to_string(s.seq()) + " at offset " + std::to_string(m->offset) +
                               " does not follow seq " + std::to_string(pt.pos.seq()) +
                               (s.seq() == pt.pos.seq() + 1 ? " (chain broken)" : " (gap)"));
            return step::skipped;
        }
        if (!projections::apply_event(*rows, rec->envelope, p, s.seq())) stats.skipped_duplicates++;
        pt.pos.set_seq(s.seq());
        pt.pos.set_head(s.hash());
        pt.pos.set_next_offset(m->offset + 1);
        pt.pos.set_now_ms(rec->envelope.recorded_at_ms());
        rows->put(projections::position_key(p), pt.pos.SerializeAsString());
        stats.applied++;
        return step::applied;
    }

    void flush() {
        if (rows->empty()) return;
        rocksdb::WriteBatch batch;
        rows->flush_into(batch);
        crash_point("before_write");
        store.write(batch);
        crash_point("after_write");
    }

    // After a flush the store holds exactly the state at the positions: record its digest, so a
    // replay to those positions can be checked against it later (`daybook verify`).
    std::uint64_t since_digest = 0;
    void record_digest() {
        since_digest = 0;
        v1::RecordedDigest d;
        std::string positions;
        for (const auto& [p, pt] : parts)
            positions += (positions.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(pt.pos.seq());
        d.set_positions(positions);
        d.set_digest(projections::state_digest(store));
        d.set_software_version(opts.software_version);
        d.set_recorded_at_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count());
        rocksdb::WriteBatch batch;
        batch.Put("digest/" + events::be64(static_cast<std::uint64_t>(d.recorded_at_ms())), d.SerializeAsString());
        std::vector<std::string> old;
        store.scan("digest/", [&](std::string_view k, std::string_view) { return old.emplace_back(k), true; });
        for (std::size_t i = 0; i + recorded_digests_max <= old.size(); ++i) batch.Delete(old[i]);
        store.write(batch);
        log->info("state digest recorded positions={} digest={}", positions, d.digest());
    }

    // false: the store does not match the log and must be rebuilt.
    result<bool, std::string> run_loop(const std::atomic<bool>& stop) {
        while (!stop.load()) {
            auto deadline = clock::now() + std::chrono::milliseconds(opts.batch_interval_ms);
            std::size_t taken = 0;
            while (taken < opts.batch_events_max && clock::now() < deadline && !stop.load()) {
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
                message_ptr m(rd_kafka_consumer_poll(consumer.get(), static_cast<int>(std::max<long>(left, 1))));
                if (!m) continue;
                crash_point("after_poll");
                if (m->err) {
                    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        log->warn("projector consumer error: {}", rd_kafka_message_errstr(m.get()));
                    continue;
                }
                auto it = parts.find(m->partition);
                if (it == parts.end() || it->second.stopped) continue;
                if (take(m.get(), it->second) == step::mismatch) {
                    rows->clear();
                    return false;
                }
                ++taken;
                if (taken % 1000 == 500) crash_point("mid_batch");
            }
            flush();
            since_digest += taken;
            if (opts.digest_every_events > 0 && since_digest >= opts.digest_every_events) record_digest();
        }
        flush();
        if (opts.digest_every_events > 0 && since_digest > 0) record_digest();
        return true;
    }

    result<ok_t, std::string> run(const std::atomic<bool>& stop) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (auto s = start(attempt > 0); !s) {
                if (s.error() != mismatch_marker) return s.error();
                log->warn("projection store is ahead of the log: rebuilding from offset 0");
                consumer.reset();
                wipe();
                continue;
            }
            auto r = run_loop(stop);
            if (!r) return r.error();
            if (*r) {
                rd_kafka_consumer_close(consumer.get());
                return ok;
            }
            log->warn("projection store does not match the log: rebuilding from offset 0");
            consumer.reset();
            wipe();
        }
        return std::string("projection store cannot be rebuilt from the log");
    }
};

projector::projector(kafka_settings kafka, topic_names topics, projector_options options,
                     projections::store& store, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(std::move(kafka), std::move(topics), options, store, std::move(log), stats_)) {}

projector::~projector() = default;

result<ok_t, std::string> projector::run(const std::atomic<bool>& stop) { return impl_->run(stop); }

}  // namespace daybook::consumers
