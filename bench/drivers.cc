#include "bench/drivers.h"

#include <chrono>
#include <cstdio>
#include <vector>

#include "bench/workload.h"
#include "events/murmur2.h"
#include "projections/ledger_projection.h"
#include "projections/store.h"

namespace daybook::bench {

using clock_type = std::chrono::steady_clock;

std::int64_t steady_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now().time_since_epoch()).count();
}

namespace {

consumers::rk_ptr must(result<consumers::rk_ptr, std::string> r) {
    if (!r) throw std::runtime_error(r.error());
    return std::move(*r);
}

void produce_one(rd_kafka_t* rk, const std::string& topic, int partitions, const bench_record& r) {
    for (;;) {
        auto err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(events::partition_for(r.key, partitions)),
                                     RD_KAFKA_V_KEY(r.key.data(), r.key.size()), RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 5);
            continue;
        }
        if (err) throw std::runtime_error("produce: " + consumers::error_text(err));
        rd_kafka_poll(rk, 0);
        return;
    }
}

// A read_committed reader of every partition of a topic from its current end.
consumers::rk_ptr reader_at_end(const consumers::kafka_settings& kafka, const std::string& topic, int partitions) {
    auto c = must(consumers::make_consumer(kafka, "", ""));
    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(partitions));
    for (int p = 0; p < partitions; ++p) {
        auto marks = consumers::watermarks(c.get(), topic, p, 30000);
        if (!marks) throw std::runtime_error(marks.error());
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = marks->second;
    }
    if (auto err = rd_kafka_assign(c.get(), list.get())) throw std::runtime_error(consumers::error_text(err));
    return c;
}

}  // namespace

drive_result drive(const consumers::kafka_settings& kafka, const drive_spec& spec, const record_source& source) {
    auto reply_partitions = spec.partitions;
    auto reader = reader_at_end(kafka, spec.reply_topic, reply_partitions);
    auto producer = must(consumers::make_producer(kafka, ""));
    // Warm-up, not measured: the producer knows the topic's leaders and the reader has fetched
    // once from every partition (its first fetch otherwise lands in the first latencies).
    (void)consumers::partition_count(producer.get(), spec.send_topic, 30000);
    for (auto until = steady_us() + spec.warmup_ms * 1000; steady_us() < until;) consumers::message_ptr(rd_kafka_consumer_poll(reader.get(), 50));
    std::vector<std::int64_t> scheduled(spec.count, 0);
    std::vector<char> replied(spec.count, 0);
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> send_bytes{0};
    std::atomic<std::int64_t> last_send_us{0};
    const auto start_us = steady_us() + 20000;  // the sender's first slot
    std::thread sender([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(start_us - steady_us()));
        for (std::uint64_t i = 0; i < spec.count; ++i) {
            auto r = source(i);
            std::int64_t at = start_us;
            if (spec.rate > 0) {
                at = start_us + static_cast<std::int64_t>(static_cast<double>(i) * 1e6 / spec.rate);
                auto now = steady_us();
                if (at > now) std::this_thread::sleep_for(std::chrono::microseconds(at - now));
            } else {
                at = steady_us();
            }
            scheduled[i] = at;
            sent.store(i + 1, std::memory_order_release);  // before producing: the reply may come first
            produce_one(producer.get(), spec.send_topic, spec.partitions, r);
            send_bytes += r.value.size();
        }
        rd_kafka_flush(producer.get(), 120000);
        last_send_us = steady_us();
    });
    drive_result out;
    std::int64_t last_reply_us = 0, last_progress_us = steady_us();
    while (out.replied < spec.count) {
        consumers::message_ptr m(rd_kafka_consumer_poll(reader.get(), 20));
        auto now = steady_us();
        if (!m || m->err) {
            if (now - last_progress_us > static_cast<std::int64_t>(spec.idle_timeout_s) * 1000000) {
                std::fprintf(stderr, "drive %s: no reply for %d s (%llu of %llu replied)\n", spec.id_tag.c_str(), spec.idle_timeout_s,
                             static_cast<unsigned long long>(out.replied), static_cast<unsigned long long>(spec.count));
                break;
            }
            continue;
        }
        out.reply_bytes += m->len;
        v1::Outcome outcome;
        std::int64_t i = -1;
        if (spec.daybook_outcomes) {
            if (!outcome.ParseFromArray(m->payload, static_cast<int>(m->len))) continue;
            if (outcome.command_id().rfind(spec.id_tag + "-", 0) != 0) continue;
            i = index_of_id(outcome.command_id());
        } else if (m->key) {
            std::string_view key(static_cast<const char*>(m->key), m->key_len);
            if (key.rfind(spec.id_tag + "-", 0) != 0) continue;
            i = index_of_id(key);
        }
        if (i < 0 || static_cast<std::uint64_t>(i) >= spec.count) continue;
        if (static_cast<std::uint64_t>(i) >= sent.load(std::memory_order_acquire)) continue;  // cannot happen: replies follow sends
        if (replied[static_cast<std::size_t>(i)]) {
            ++out.duplicates;
            continue;
        }
        replied[static_cast<std::size_t>(i)] = 1;
        ++out.replied;
        last_reply_us = last_progress_us = now;
        auto at = scheduled[static_cast<std::size_t>(i)];
        out.to_reply.record(now - at);
        if (spec.daybook_outcomes) {
            for (const auto& ref : outcome.events()) {
                auto& seq = out.last_seq[ref.partition()];
                seq = std::max<std::uint64_t>(seq, ref.seq());
            }
            if (outcome.status() == v1::OUTCOME_STATUS_ACCEPTED) {
                ++out.accepted;
                if (spec.follower && outcome.events_size() > 0) {
                    const auto& last = outcome.events(outcome.events_size() - 1);
                    spec.follower->expect(last.partition(), last.seq(), at);
                }
            } else {
                ++out.rejected;
            }
            if (spec.on_reply) spec.on_reply(static_cast<std::uint64_t>(i), &outcome);
        } else if (spec.on_reply) {
            spec.on_reply(static_cast<std::uint64_t>(i), nullptr);
        }
        out.max_backlog = std::max(out.max_backlog, sent.load(std::memory_order_relaxed) - out.replied);
    }
    sender.join();
    out.sent = sent.load();
    out.send_bytes = send_bytes.load();
    out.seconds = static_cast<double>(last_reply_us - start_us) / 1e6;
    out.send_seconds = static_cast<double>(last_send_us.load() - start_us) / 1e6;
    out.drain_seconds = std::max(0.0, static_cast<double>(last_reply_us - last_send_us.load()) / 1e6);
    return out;
}

void produce_n(const consumers::kafka_settings& kafka, const std::string& topic, int partitions, std::uint64_t n,
               const record_source& source) {
    auto producer = must(consumers::make_producer(kafka, ""));
    for (std::uint64_t i = 0; i < n; ++i) produce_one(producer.get(), topic, partitions, source(i));
    if (rd_kafka_flush(producer.get(), 120000)) throw std::runtime_error("flush timed out");
}

std::pair<std::uint64_t, std::uint64_t> consume_n(const consumers::kafka_settings& kafka, const std::string& topic,
                                                  int partitions, std::uint64_t n) {
    auto c = must(consumers::make_consumer(kafka, "", ""));
    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(partitions));
    for (int p = 0; p < partitions; ++p)
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(c.get(), list.get());
    std::uint64_t got = 0, bytes = 0;
    auto deadline = clock_type::now() + std::chrono::minutes(5);
    std::int64_t first = 0;
    while (got < n && clock_type::now() < deadline) {
        consumers::message_ptr m(rd_kafka_consumer_poll(c.get(), 100));
        if (m && !m->err) {
            if (got == 0) first = steady_us();  // from the first record: the assignment is not measured
            ++got, bytes += m->len;
        }
    }
    return {got, static_cast<std::uint64_t>(std::max<std::int64_t>(steady_us() - first, 1))};
}

bool wait_projected(const std::string& store_path, const std::string& scratch,
                    const std::map<std::uint32_t, std::uint64_t>& last_seq, int timeout_s) {
    auto store = projections::store::open_secondary(store_path, scratch);
    if (!store) return false;
    for (auto until = steady_us() + static_cast<std::int64_t>(timeout_s) * 1000000; steady_us() < until;) {
        (*store)->catch_up();
        bool done = true;
        for (auto [p, seq] : last_seq) {
            v1::PartitionPosition pos;
            if (auto raw = (*store)->get(projections::position_key(p))) pos.ParseFromString(*raw);
            done = done && pos.seq() >= seq;
        }
        if (done) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

projection_follower::projection_follower(const std::string& store_path, const std::string& scratch, int partitions)
    : path_(store_path), scratch_(scratch), partitions_(partitions),
      pending_(static_cast<std::size_t>(partitions)), seen_(static_cast<std::size_t>(partitions), 0) {
    thread_ = std::thread([this] { run(); });
}

projection_follower::~projection_follower() {
    stop_ = true;
    thread_.join();
}

void projection_follower::expect(std::uint32_t partition, std::uint64_t seq, std::int64_t scheduled_us) {
    std::lock_guard lock(mu_);
    if (partition >= pending_.size()) return;
    if (seen_[partition] >= seq) {
        hist_.record(steady_us() - scheduled_us);  // projected before its outcome was read
        return;
    }
    pending_[partition].emplace(seq, scheduled_us);
}

latency_histogram projection_follower::take() {
    std::lock_guard lock(mu_);
    auto h = hist_;
    hist_ = {};
    return h;
}

void projection_follower::run() {
    std::unique_ptr<projections::store> store;
    while (!stop_) {
        if (!store) {
            auto s = projections::store::open_secondary(path_, scratch_);
            if (!s) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            store = std::move(*s);
        }
        store->catch_up();
        auto now = steady_us();
        {
            std::lock_guard lock(mu_);
            for (int p = 0; p < partitions_; ++p) {
                v1::PartitionPosition pos;
                if (auto raw = store->get(projections::position_key(static_cast<std::uint32_t>(p)))) pos.ParseFromString(*raw);
                auto& pend = pending_[static_cast<std::size_t>(p)];
                seen_[static_cast<std::size_t>(p)] = pos.seq();
                auto end = pend.upper_bound(pos.seq());
                for (auto it = pend.begin(); it != end; ++it) hist_.record(now - it->second);
                pend.erase(pend.begin(), end);
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

copier_stats run_copier(const consumers::kafka_settings& kafka, const consumers::topic_names& t, bool transactional,
                        const std::atomic<bool>& stop, std::atomic<bool>& ready) {
    auto id = "bench-copier-" + t.prefix;
    auto consumer = must(consumers::make_consumer(kafka, id, ""));
    auto producer = must(consumers::make_producer(kafka, transactional ? id : ""));
    if (transactional) consumers::error_ptr(rd_kafka_init_transactions(producer.get(), 30000));
    consumers::tpl_ptr sub(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(sub.get(), t.commands().c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer.get(), sub.get());
    std::string event(300, 'e'), outcome(120, 'o');
    copier_stats stats;
    // Ready once the group has given it the partitions (the join is not part of what is measured).
    while (!stop && !ready) {
        consumers::message_ptr m(rd_kafka_consumer_poll(consumer.get(), 50));
        if (m && !m->err) throw std::runtime_error("copier: input before the benchmark started");
        rd_kafka_topic_partition_list_t* assigned = nullptr;
        if (!rd_kafka_assignment(consumer.get(), &assigned) && assigned) {
            ready = assigned->cnt > 0;
            rd_kafka_topic_partition_list_destroy(assigned);
        }
    }
    while (!stop) {
        std::map<int, std::int64_t> next;
        auto batch_end = clock_type::now() + std::chrono::milliseconds(50);
        bool open = false;
        std::uint64_t in_batch = 0;
        while (clock_type::now() < batch_end && in_batch < 5000 && !stop) {
            consumers::message_ptr m(rd_kafka_consumer_poll(consumer.get(), 10));
            if (!m || m->err) continue;
            if (transactional && !open) consumers::error_ptr(rd_kafka_begin_transaction(producer.get()));
            open = true;
            rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(t.events().c_str()), RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(event.data(), event.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(t.outcomes().c_str()), RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(outcome.data(), outcome.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            next[m->partition] = m->offset + 1;
            ++in_batch;
        }
        if (!open) continue;
        consumers::tpl_ptr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next.size())));
        for (auto [p, o] : next) rd_kafka_topic_partition_list_add(offsets.get(), t.commands().c_str(), p)->offset = o;
        if (transactional) {
            auto* md = rd_kafka_consumer_group_metadata(consumer.get());
            consumers::error_ptr e(rd_kafka_send_offsets_to_transaction(producer.get(), offsets.get(), md, -1));
            rd_kafka_consumer_group_metadata_destroy(md);
            e.reset(rd_kafka_commit_transaction(producer.get(), -1));
            if (e) throw std::runtime_error(std::string("copier commit: ") + rd_kafka_error_string(e.get()));
        } else {
            rd_kafka_flush(producer.get(), 60000);
            rd_kafka_commit(consumer.get(), offsets.get(), 1);
        }
        stats.copied += in_batch;
        ++stats.transactions;
    }
    rd_kafka_consumer_close(consumer.get());
    return stats;
}

}  // namespace daybook::bench
