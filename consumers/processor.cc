#include "consumers/processor.h"

#include "consumers/keystore.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <algorithm>
#include <chrono>
#include <deque>
#include <cstring>
#include <thread>

#include "consumers/command_state.h"
#include "consumers/command_writer.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/limits.h"
#include "events/murmur2.h"

namespace daybook::consumers {

std::string format_metadata(const restore_metadata& m) {
    return "v1;events_end=" + std::to_string(m.events_end) + ";seq=" + std::to_string(m.seq) +
           ";head=" + events::to_hex(m.head);
}

std::optional<restore_metadata> parse_metadata(std::string_view text) {
    if (!text.starts_with("v1;")) return std::nullopt;
    text.remove_prefix(3);
    // Every field exactly once, every number consumed whole (no sign, no trailing text).
    std::map<std::string_view, std::string_view> fields;
    while (!text.empty()) {
        auto semi = text.find(';');
        auto part = text.substr(0, semi);
        auto eq = part.find('=');
        if (eq == std::string_view::npos || !fields.emplace(part.substr(0, eq), part.substr(eq + 1)).second)
            return std::nullopt;
        if (semi == std::string_view::npos) break;
        text = text.substr(semi + 1);
    }
    auto number = [&](std::string_view name, auto& out) {
        auto it = fields.find(name);
        if (it == fields.end() || it->second.empty()) return false;
        const char* end = it->second.data() + it->second.size();
        auto r = std::from_chars(it->second.data(), end, out);
        return r.ec == std::errc{} && r.ptr == end && out >= 0;
    };
    restore_metadata m;
    if (fields.size() != 3 || !number("events_end", m.events_end) || !number("seq", m.seq) || !fields.count("head"))
        return std::nullopt;
    m.head = events::from_hex(fields["head"]);
    if (m.head.size() != events::hash_bytes) return std::nullopt;
    return m;
}

namespace {

using clock = std::chrono::steady_clock;

enum class commit_result { committed, failed, fenced };

std::string partition_prefix(std::int32_t p) { return "p/" + projections::be32(static_cast<std::uint32_t>(p)) + "/"; }

bool is_fenced(rd_kafka_resp_err_t e) {
    return e == RD_KAFKA_RESP_ERR__FENCED || e == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
           e == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH ||
           e == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID;
}

}  // namespace

struct processor::impl {
    kafka_settings kafka;
    topic_names topics;
    processor_options opts;
    projections::store& store;
    std::shared_ptr<spdlog::logger> log;
    std::optional<keystore> keys;  // personal data is sealed with it before append
    std::deque<clock::time_point> fenced_at;  // recent producer fencings survived (see run_batch)
    processor_stats& stats;

    struct part {
        std::unique_ptr<projections::overlay> state;
        v1::PartitionPosition pos;           // live position, includes this batch
        std::int64_t next_command_offset = -1;  // consumed command offset + 1
        bool needs_restore = true;
        bool in_batch = false;
    };

    rk_ptr consumer;
    rk_ptr producer;
    int partitions = 0;
    int outcome_partitions = 0;
    std::map<std::int32_t, part> parts;
    bool txn_open = false;
    std::size_t batch_commands = 0;
    std::map<std::int32_t, std::int64_t> events_end;  // from delivery reports, this batch
    std::string delivery_error;
    std::uint64_t commits = 0;
    const std::atomic<bool>* stop_flag = nullptr;

    impl(kafka_settings k, topic_names t, processor_options o, projections::store& s,
         std::shared_ptr<spdlog::logger> l, processor_stats& st)
        : kafka(std::move(k)), topics(std::move(t)), opts(std::move(o)), store(s), log(std::move(l)), stats(st) {}

    // The consumer is closed while the members its rebalance callback touches are still alive.
    ~impl() {
        if (consumer) rd_kafka_consumer_close(consumer.get());
        consumer.reset();
        producer.reset();
    }

    // Namespaced by the topic prefix like the process managers': transactional ids are global to
    // the cluster, so two deployments (or test sandboxes) with the same instance id would fence
    // each other for ever.
    std::string transactional_id() const { return topics.prefix + "processor-" + opts.instance; }

    // ---- Kafka callbacks ------------------------------------------------------------------

    static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
        auto* self = static_cast<impl*>(opaque);
        if (m->err) {
            if (self->delivery_error.empty()) self->delivery_error = rd_kafka_err2str(m->err);
            return;
        }
        if (m->_private == reinterpret_cast<void*>(1)) {
            auto& end = self->events_end[m->partition];
            end = std::max(end, m->offset + 1);
        }
    }

    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* list, void* opaque) {
        auto* self = static_cast<impl*>(opaque);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
            rd_kafka_assign(rk, list);
            rd_kafka_pause_partitions(rk, list);
            for (int i = 0; i < list->cnt; ++i) {
                auto p = list->elems[i].partition;
                auto& pt = self->parts[p];
                pt.state = std::make_unique<projections::overlay>(self->store, partition_prefix(p));
                pt.needs_restore = true;
            }
            self->stats.assignments++;
            self->stats.partitions_restoring = static_cast<std::int32_t>(
                std::count_if(self->parts.begin(), self->parts.end(), [](const auto& e) { return e.second.needs_restore; }));
            self->log->info("partitions assigned count={}", list->cnt);
        } else {
            // Revoked or lost: the batch in hand is aborted, never half-committed; the next owner
            // (maybe us again) restores from the log.
            self->abort_batch("partitions revoked");
            rd_kafka_assign(rk, nullptr);
            self->parts.clear();
            self->log->info("partitions revoked count={}", list->cnt);
        }
    }

    // ---- Set-up ---------------------------------------------------------------------------

    result<ok_t, std::string> start() {
        auto opened = keystore::open(opts.keystore_dir, opts.master_key_file);
        if (!opened) return opened.error();
        keys = std::move(*opened);
        auto check = check_topics(kafka, topics);
        if (!check) return check.error();
        partitions = check->partitions;
        outcome_partitions = check->outcome_partitions;

        rd_kafka_conf_t* cconf = base_conf(kafka);
        rd_kafka_conf_set_opaque(cconf, this);
        rd_kafka_conf_set_rebalance_cb(cconf, &impl::on_rebalance);
        auto c = make_consumer(kafka, opts.group_id, opts.instance, cconf);
        if (!c) return c.error();
        consumer = std::move(*c);

        if (auto ok_store = check_store_identity(); !ok_store) return ok_store.error();
        if (auto p = new_producer(); !p) return p.error();

        tpl_ptr sub(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(sub.get(), topics.commands().c_str(), RD_KAFKA_PARTITION_UA);
        if (auto err = rd_kafka_subscribe(consumer.get(), sub.get()))
            return "cannot subscribe to " + topics.commands() + ": " + rd_kafka_err2str(err);
        log->info("processor started instance={} transactional_id={} partitions={}", opts.instance,
                  transactional_id(), partitions);
        return ok;
    }

    // The store remembers which cluster and topics it was built from; a store from another
    // cluster (or another topic set) is wiped and rebuilt from the log.
    result<ok_t, std::string> check_store_identity() {
        auto identity = log_identity(consumer.get(), topics.events());
        if (!identity) return std::string("cannot read the Kafka cluster id (is the broker up?)");
        // The state layout version is part of the identity: a store of another layout is rebuilt.
        *identity += "/processor-state-v3";
        if (auto before = store.adopt_identity(*identity)) {
            log->warn("store was built from {} but the log is {}: rebuilding from the log", *before, *identity);
            store.erase_prefix("p/");
        }
        return ok;
    }

    result<ok_t, std::string> new_producer() {
        producer.reset();
        rd_kafka_conf_t* pconf = base_conf(kafka);
        rd_kafka_conf_set_opaque(pconf, this);
        rd_kafka_conf_set_dr_msg_cb(pconf, &impl::on_delivery);
        auto p = make_producer(kafka, transactional_id(), pconf);
        if (!p) return p.error();
        producer = std::move(*p);
        // A broker outage can last: retriable errors are retried for as long as it takes (the
        // partitions stay paused meanwhile), until SIGTERM.
        for (int attempt = 0;; ++attempt) {
            error_ptr e(rd_kafka_init_transactions(producer.get(), kafka.transaction_timeout_ms));
            if (!e) break;
            if (is_fenced(rd_kafka_error_code(e.get())))
                return "fenced: another process holds transactional.id=" + transactional_id() +
                       " (two processes with instance id '" + opts.instance + "')";
            if (!rd_kafka_error_is_retriable(e.get()))
                return "init_transactions failed for " + transactional_id() + ": " +
                       rd_kafka_error_string(e.get());
            if (stop_flag && stop_flag->load()) return std::string("stopped while the broker was unreachable");
            log->warn("init_transactions retry attempt={} error={}", attempt, rd_kafka_error_string(e.get()));
        }
        return ok;
    }

    // ---- Restore --------------------------------------------------------------------------

    struct committed_offset {
        std::int64_t offset = RD_KAFKA_OFFSET_INVALID;
        std::optional<restore_metadata> metadata;
    };

    result<committed_offset, std::string> read_committed(std::int32_t p) {
        tpl_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topics.commands().c_str(), p);
        if (auto err = rd_kafka_committed(consumer.get(), list.get(), 30000))
            return "cannot read committed offsets: " + error_text(err);
        const auto& e = list->elems[0];
        if (e.err) return "cannot read committed offset: " + error_text(e.err);
        committed_offset out;
        out.offset = e.offset;
        if (e.metadata && e.metadata_size > 0) {
            out.metadata = parse_metadata(std::string_view(static_cast<const char*>(e.metadata), e.metadata_size));
            if (!out.metadata)
                return "committed offset metadata of partition " + std::to_string(p) + " is unreadable";
        }
        return out;
    }

    // Reads events partition p from the position the store holds and evolves the state, checking
    // sequence and chain. A store that does not match the log is wiped and rebuilt once.
    result<ok_t, std::string> replay_events(std::int32_t p, part& pt) {
        for (int pass = 0; pass < 2; ++pass) {
            auto replayed = replay_once(p, pt);
            if (!replayed) return replayed.error();
            if (*replayed) return ok;
            log->warn("store of partition {} does not match the log: rebuilding it from offset 0", p);
            pt.state->clear();
            store.erase_prefix(partition_prefix(p));
        }
        return "partition " + std::to_string(p) + " cannot be rebuilt from the log";
    }

    // true: replayed; false: the store does not match the log (caller rebuilds).
    result<bool, std::string> replay_once(std::int32_t p, part& pt) {
        pt.pos = read_position(*pt.state);
        rd_kafka_conf_t* conf = base_conf(kafka);
        set(conf, "enable.partition.eof", "true");
        auto reader = make_consumer(kafka, "", "", conf);
        if (!reader) return reader.error();
        // Start at the last applied record to prove the store and the log agree on it.
        bool verify_first = pt.pos.seq() > 0;
        tpl_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topics.events().c_str(), p)->offset =
            verify_first ? pt.pos.next_offset() - 1 : RD_KAFKA_OFFSET_BEGINNING;
        if (auto err = rd_kafka_assign(reader->get(), list.get()))
            return "cannot read " + topics.events() + ": " + error_text(err);
        std::uint64_t applied = 0;
        auto deadline = clock::now() + std::chrono::seconds(120);
        for (;;) {
            if (clock::now() > deadline) return "timed out reading " + topics.events();
            message_ptr m(rd_kafka_consumer_poll(reader->get(), 200));
            if (!m) continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
            if (m->err) {
                if (m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) return false;
                log->warn("restore read error partition={} error={}", p, rd_kafka_message_errstr(m.get()));
                continue;
            }
            auto rec = events::read_sealed(static_cast<std::uint32_t>(p),
                                           std::string_view(static_cast<const char*>(m->payload), m->len));
            if (!rec) return "events partition " + std::to_string(p) + " offset " + std::to_string(m->offset) + ": " + rec.error();
            const auto& s = rec->sealed;
            if (verify_first) {
                verify_first = false;
                if (m->offset != pt.pos.next_offset() - 1 || s.seq() != pt.pos.seq() || s.hash() != pt.pos.head())
                    return false;
                continue;
            }
            if (s.seq() <= pt.pos.seq()) continue;  // redelivered
            auto head = pt.pos.seq() == 0 ? events::genesis_hash() : pt.pos.head();
            if (s.seq() != pt.pos.seq() + 1 || s.prev_hash() != head) {
                if (pt.pos.seq() > 0 && applied == 0) return false;
                return "events partition " + std::to_string(p) + " breaks at seq " + std::to_string(s.seq()) +
                       " (expected " + std::to_string(pt.pos.seq() + 1) + " chained to the previous hash)";
            }
            apply_record(*pt.state, static_cast<std::uint32_t>(p), s.seq(), rec->envelope);
            pt.pos.set_seq(s.seq());
            pt.pos.set_head(s.hash());
            pt.pos.set_next_offset(m->offset + 1);
            pt.pos.set_now_ms(std::max(pt.pos.now_ms(), rec->envelope.recorded_at_ms()));
            if (++applied % 2000 == 0) flush_state(pt);
        }
        if (verify_first) return false;  // the last applied record is not in the log
        flush_state(pt);
        return true;
    }

    void flush_state(part& pt) {
        write_position(*pt.state, pt.pos);
        rocksdb::WriteBatch batch;
        pt.state->flush_into(batch);
        store.write(batch);
    }

    result<ok_t, std::string> restore(std::int32_t p, part& pt) {
        stats.restores++;
        auto committed = read_committed(p);
        if (!committed) return committed.error();
        if (auto r = replay_events(p, pt); !r) return r.error();
        if (const auto& md = committed->metadata) {
            if (pt.pos.seq() < md->seq)
                return "events partition " + std::to_string(p) + " ends at seq " + std::to_string(pt.pos.seq()) +
                       " but the committed offsets say seq " + std::to_string(md->seq) + ": records are missing";
            if (pt.pos.seq() == md->seq && pt.pos.head() != md->head)
                return "events partition " + std::to_string(p) + " chain head differs from the committed one at seq " +
                       std::to_string(md->seq);
            if (pt.pos.seq() > md->seq)
                log->error("events partition {} has records after the last committed offsets (seq {} > {})", p,
                           pt.pos.seq(), md->seq);
        }
        pt.next_command_offset = committed->offset >= 0 ? committed->offset : -1;
        tpl_ptr list(rd_kafka_topic_partition_list_new(1));
        rd_kafka_topic_partition_list_add(list.get(), topics.commands().c_str(), p)->offset =
            committed->offset >= 0 ? committed->offset : RD_KAFKA_OFFSET_BEGINNING;
        error_ptr seek(rd_kafka_seek_partitions(consumer.get(), list.get(), 30000));
        if (seek) return std::string("cannot seek commands: ") + rd_kafka_error_string(seek.get());
        rd_kafka_resume_partitions(consumer.get(), list.get());
        pt.needs_restore = false;
        log->info("partition restored partition={} seq={} next_command_offset={}", p, pt.pos.seq(),
                  committed->offset);
        return ok;
    }

    result<ok_t, std::string> restore_pending() {
        for (auto& [p, pt] : parts) {
            if (!pt.needs_restore) continue;
            if (auto r = restore(p, pt); !r) return r.error();
        }
        stats.partitions_restoring = 0;
        return ok;
    }

    // ---- One command ----------------------------------------------------------------------

    void produce(const std::string& topic, std::int32_t partition, std::string_view key,
                 std::string_view value, bool is_event, rd_kafka_headers_t* headers = nullptr) {
        for (;;) {
            rd_kafka_resp_err_t err;
            if (headers) {
                err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                        RD_KAFKA_V_PARTITION(partition),
                                        RD_KAFKA_V_KEY(key.data(), key.size()),
                                        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
            } else {
                err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                        RD_KAFKA_V_PARTITION(partition),
                                        RD_KAFKA_V_KEY(key.data(), key.size()),
                                        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_OPAQUE(is_event ? reinterpret_cast<void*>(1) : nullptr),
                                        RD_KAFKA_V_END);
            }
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(producer.get(), 10);
                continue;
            }
            if (err) {
                if (headers) rd_kafka_headers_destroy(headers);
                if (delivery_error.empty()) delivery_error = rd_kafka_err2str(err);
            }
            return;
        }
    }

    void produce_outcome(const v1::Outcome& outcome) {
        auto value = events::serialize(outcome);
        produce(topics.outcomes(), events::partition_for(outcome.command_id(), outcome_partitions),
                outcome.command_id(), value, false);
    }

    void dead_letter(const rd_kafka_message_t* m, const std::string& error) {
        rd_kafka_headers_t* h = rd_kafka_headers_new(4);
        auto add = [&](const char* name, const std::string& v) { rd_kafka_header_add(h, name, -1, v.data(), static_cast<ssize_t>(v.size())); };
        add("daybook.source_topic", topics.commands());
        add("daybook.source_partition", std::to_string(m->partition));
        add("daybook.source_offset", std::to_string(m->offset));
        add("daybook.error", error);
        produce(topics.dlq(), 0, std::string_view(static_cast<const char*>(m->key), m->key_len),
                std::string_view(static_cast<const char*>(m->payload), m->len), false, h);
        stats.dead_lettered++;
        log->warn("command sent to dlq partition={} offset={} error={}", m->partition, m->offset, error);
    }

    // Seals envelopes as the next records of partition p, produces them and applies them to
    // the state. Returns false (and changes nothing) when a record would be too large.
    bool append(std::int32_t p, part& pt, std::vector<v1::EventEnvelope>& envs, const std::string& key) {
        // Personal data never reaches the log in clear (consumers/keystore.h).
        for (auto& env : envs)
            if (!seal_personal_data(env, *keys)) std::abort();  // no key could be made: a broken key store must stop us
        std::vector<events::sealed_record> sealed;
        auto seq = pt.pos.seq();
        auto head = pt.pos.head().empty() ? events::genesis_hash() : pt.pos.head();
        for (const auto& env : envs) {
            sealed.push_back(events::seal(static_cast<std::uint32_t>(p), ++seq, head, events::serialize(env)));
            head = sealed.back().hash;
            if (sealed.back().value.size() > limits::event_bytes_max) return false;
        }
        for (std::size_t i = 0; i < envs.size(); ++i) {
            produce(topics.events(), p, key, sealed[i].value, true);
            apply_record(*pt.state, static_cast<std::uint32_t>(p), sealed[i].seq, envs[i]);
        }
        pt.pos.set_seq(seq);
        pt.pos.set_head(head);
        return true;
    }

    void process(const rd_kafka_message_t* m, part& pt) {
        const std::int32_t p = m->partition;
        rd_kafka_timestamp_type_t tstype;
        std::int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        std::int64_t now = std::max(pt.pos.now_ms(), ts);
        pt.pos.set_now_ms(now);
        pt.next_command_offset = m->offset + 1;
        pt.in_batch = true;
        stats.commands++;

        auto read = events::read_command(std::string_view(static_cast<const char*>(m->payload), m->len));
        if (!read.readable) return dead_letter(m, read.error);
        const auto& cmd = read.envelope;
        std::string key(static_cast<const char*>(m->key), m->key_len);
        std::string fingerprint = events::fingerprint_of(cmd);

        if (auto rec = find_command(*pt.state, key, cmd.command_id())) {
            v1::Outcome outcome = rec->outcome();
            if (rec->fingerprint() == fingerprint) {
                outcome.set_duplicate(true);
                stats.duplicates++;
            } else {
                outcome = v1::Outcome{};
                outcome.set_command_id(cmd.command_id());
                outcome.set_routing_key(key);
                outcome.set_status(v1::OUTCOME_STATUS_REJECTED);
                outcome.set_code(static_cast<std::uint32_t>(rejection_code::command_id_reused));
                outcome.set_code_name(std::string(name_of(rejection_code::command_id_reused)));
                outcome.set_field("command_id");
                outcome.set_detail("command_id " + cmd.command_id() +
                                   " was already used for a different command in " + key);
                outcome.set_recorded_at_ms(now);
                stats.rejected++;
            }
            return produce_outcome(outcome);
        }

        std::optional<rejection> refused = read.invalid;
        if (!refused && opts.writers) refused = opts.writers->check(m, cmd);  // who wrote it, proven
        if (!refused && events::routing_key_of(cmd) != key)
            refused = rejection{rejection_code::routing_key_mismatch, "key",
                                "record key '" + key + "' is not the command's routing key '" +
                                    events::routing_key_of(cmd) + "'"};
        if (!refused && events::partition_for(key, partitions) != p)
            refused = rejection{rejection_code::wrong_partition, "partition",
                                "record is in partition " + std::to_string(p) + " but murmur2 puts '" + key +
                                    "' in partition " + std::to_string(events::partition_for(key, partitions))};
        if (!refused && cmd.has_linked_run()) refused = check_linked_run(cmd, key);
        record_context ctx{key, fingerprint, now, opts.software_version};
        bool run = cmd.has_linked_run() && !refused;
        auto records = run ? records_for_run(cmd, ctx, *pt.state, static_cast<std::uint32_t>(p), pt.pos.seq() + 1)
                           : records_for(cmd, ctx, refused, *pt.state);
        bool accepted = !records.front().has_command_rejected();
        if (!append(p, pt, records, key)) {
            accepted = false;
            run = false;  // refused as a whole: one record under the run's id
            std::vector<v1::EventEnvelope> too_large{rejection_record(
                cmd, ctx,
                rejection{rejection_code::result_too_large, "",
                          "the events of this command exceed the record limit of " +
                              std::to_string(limits::event_bytes_max) + " bytes"})};
            if (!append(p, pt, too_large, key)) std::abort();  // a rejection record is always small
        }
        if (accepted) stats.accepted++;
        else stats.rejected++;
        if (run) publish_run_outcomes(p, pt, cmd, key, records);
        if (auto rec = find_command(*pt.state, key, cmd.command_id())) produce_outcome(rec->outcome());
        // An approval decides the held command too: its submitter waits for that outcome.
        if (accepted && cmd.has_approve_command())
            if (auto rec = find_command(*pt.state, key, cmd.approve_command().command_id())) produce_outcome(rec->outcome());
    }

    // Every command of a linked run gets its outcome: accepted ones from their idempotency
    // records, refused ones (never registered) from their command_rejected records.
    void publish_run_outcomes(std::int32_t p, part& pt, const v1::CommandEnvelope& run, const std::string& key,
                              const std::vector<v1::EventEnvelope>& records) {
        std::map<std::string, std::size_t> rejected_at;
        for (std::size_t i = 0; i < records.size(); ++i)
            if (records[i].has_command_rejected()) rejected_at[records[i].command_id()] = i;
        std::uint64_t first_seq = pt.pos.seq() - records.size() + 1;
        for (const auto& inner : run.linked_run().commands()) {
            if (auto it = rejected_at.find(inner.command_id()); it != rejected_at.end()) {
                auto o = rejected_outcome(records[it->second].command_rejected(), records[it->second].recorded_at_ms());
                auto* ref = o.add_events();
                ref->set_partition(static_cast<std::uint32_t>(p));
                ref->set_seq(first_seq + it->second);
                produce_outcome(o);
            } else if (auto rec = find_command(*pt.state, key, inner.command_id())) {
                produce_outcome(rec->outcome());
            }
        }
    }

    // ---- Batches --------------------------------------------------------------------------

    void abort_batch(const char* why) {
        if (!txn_open) return;
        log->warn("batch aborted reason={}", why);
        stats.aborts++;
        error_ptr e(rd_kafka_abort_transaction(producer.get(), -1));
        txn_open = false;
        drop_batch();
        if (e) recreate_needed = true;
    }
    bool recreate_needed = false;

    void drop_batch() {
        for (auto& [p, pt] : parts) {
            if (!pt.state) continue;
            pt.state->clear();
            pt.in_batch = false;
            pt.needs_restore = true;  // positions in memory are ahead of the store
        }
        batch_commands = 0;
        events_end.clear();
        delivery_error.clear();
    }

    commit_result commit() {
        if (!txn_open) return commit_result::committed;
        const auto started = clock::now();
        auto fail = [&](const std::string& why) {
            stats.aborts++;
            log->warn("batch not committed reason={}", why);
            return commit_result::failed;
        };
        if (auto err = rd_kafka_flush(producer.get(), kafka.transaction_timeout_ms))
            return fail(std::string("flush: ") + rd_kafka_err2str(err));
        if (!delivery_error.empty()) return fail("delivery: " + delivery_error);

        tpl_ptr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(parts.size())));
        for (auto& [p, pt] : parts) {
            if (!pt.in_batch) continue;
            if (auto it = events_end.find(p); it != events_end.end()) pt.pos.set_next_offset(it->second);
            auto* tp = rd_kafka_topic_partition_list_add(offsets.get(), topics.commands().c_str(), p);
            tp->offset = pt.next_command_offset;
            auto md = format_metadata({pt.pos.next_offset(), pt.pos.seq(), pt.pos.head()});
            tp->metadata = std::malloc(md.size());  // freed by the list
            std::memcpy(tp->metadata, md.data(), md.size());
            tp->metadata_size = md.size();
        }
        auto* cgmd = rd_kafka_consumer_group_metadata(consumer.get());
        error_ptr e(rd_kafka_send_offsets_to_transaction(producer.get(), offsets.get(), cgmd, -1));
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        if (e) {
            if (is_fenced(rd_kafka_error_code(e.get()))) return commit_result::fenced;
            return fail(std::string("send_offsets: ") + rd_kafka_error_string(e.get()));
        }
        ++commits;
        if (opts.fault_unknown_instead_of_commit_every && commits % opts.fault_unknown_instead_of_commit_every == 0)
            return fail("fault hook: commit reported as timed out (not committed)");
        for (int attempt = 0;; ++attempt) {
            e.reset(rd_kafka_commit_transaction(producer.get(), -1));
            if (!e) break;
            if (is_fenced(rd_kafka_error_code(e.get())) ||
                (rd_kafka_error_is_fatal(e.get()) && is_fenced(fatal_code())))
                return commit_result::fenced;
            if (rd_kafka_error_is_retriable(e.get()) && attempt < 3) continue;
            return fail(std::string("commit: ") + rd_kafka_error_string(e.get()));
        }
        txn_open = false;
        stats.commit_latency.record(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - started).count()));
        if (opts.fault_unknown_after_commit_every && commits % opts.fault_unknown_after_commit_every == 0)
            return fail("fault hook: commit reported as timed out (committed)");
        rocksdb::WriteBatch batch;
        for (auto& [p, pt] : parts) {
            if (!pt.in_batch) continue;
            write_position(*pt.state, pt.pos);
            pt.state->flush_into(batch);
            pt.in_batch = false;
        }
        store.write(batch);
        stats.batches++;
        log->debug("batch committed commands={}", batch_commands);
        batch_commands = 0;
        events_end.clear();
        return commit_result::committed;
    }

    rd_kafka_resp_err_t fatal_code() {
        char buf[256];
        return rd_kafka_fatal_error(producer.get(), buf, sizeof buf);
    }

    // Drop, recreate, restore: the way back from any commit that did not surely succeed.
    result<ok_t, std::string> recover() {
        txn_open = false;
        drop_batch();
        stats.producer_recreations++;
        log->warn("recreating producer transactional_id={}", transactional_id());
        if (auto p = new_producer(); !p) return p.error();
        recreate_needed = false;
        for (auto& [p, pt] : parts) {
            tpl_ptr list(rd_kafka_topic_partition_list_new(1));
            rd_kafka_topic_partition_list_add(list.get(), topics.commands().c_str(), p);
            rd_kafka_pause_partitions(consumer.get(), list.get());
        }
        return ok;
    }

    result<ok_t, std::string> run_batch(const std::atomic<bool>& stop) {
        auto started = clock::now();
        auto deadline = started + std::chrono::milliseconds(opts.commit_interval_ms);
        while (batch_commands < opts.batch_commands_max && !stop.load()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
            if (txn_open && left <= 0) break;
            message_ptr m(rd_kafka_consumer_poll(consumer.get(), txn_open ? static_cast<int>(left) : 100));
            if (!m) {
                if (!txn_open) return ok;  // idle: let the caller handle restores and stop
                continue;
            }
            if (m->err) {
                if (m->err == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID || m->err == RD_KAFKA_RESP_ERR__FATAL)
                    return "consumer fenced: another process uses group.instance.id=" + opts.instance;
                log->warn("consumer error: {}", rd_kafka_message_errstr(m.get()));
                continue;
            }
            auto it = parts.find(m->partition);
            if (it == parts.end() || it->second.needs_restore) continue;  // stale, will be re-read
            auto& pt = it->second;
            if (pt.next_command_offset >= 0 && m->offset < pt.next_command_offset) continue;  // redelivered
            if (!txn_open) {
                error_ptr e(rd_kafka_begin_transaction(producer.get()));
                if (e) {
                    log->warn("begin_transaction failed: {}", rd_kafka_error_string(e.get()));
                    return recover();
                }
                txn_open = true;
                deadline = clock::now() + std::chrono::milliseconds(opts.commit_interval_ms);
            }
            process(m.get(), pt);
            ++batch_commands;
        }
        switch (commit()) {
            case commit_result::committed: return ok;
            case commit_result::fenced: {
                // A live twin with our instance id would also have taken our static group
                // membership (FENCED_INSTANCE_ID above, which ends this process). While the
                // consumer still owns it, a fenced producer is a broker failover's artefact (seen
                // after a broker SIGKILL while a transaction was open): recreate and restore, at
                // most 3 times a minute; more is a real clash.
                auto now = clock::now();
                while (!fenced_at.empty() && now - fenced_at.front() > std::chrono::minutes(1)) fenced_at.pop_front();
                fenced_at.push_back(now);
                if (fenced_at.size() > 3)
                    return "fenced: another process took over transactional.id=" + transactional_id();
                log->warn("producer fenced while this process holds its group membership: recreating transactional_id={}",
                          transactional_id());
                return recover();
            }
            case commit_result::failed: return recover();
        }
        return ok;
    }

    result<ok_t, std::string> run(const std::atomic<bool>& stop) {
        stop_flag = &stop;
        if (auto s = start(); !s) return s.error();
        while (!stop.load()) {
            if (recreate_needed) {
                if (auto r = recover(); !r) return r.error();
            }
            if (auto r = restore_pending(); !r) return r.error();
            if (auto r = run_batch(stop); !r) return r.error();
        }
        log->info("processor stopping instance={}", opts.instance);
        rd_kafka_consumer_close(consumer.get());
        consumer.reset();
        return ok;
    }
};

processor::processor(kafka_settings kafka, topic_names topics, processor_options options,
                     projections::store& store, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(std::move(kafka), std::move(topics), std::move(options), store,
                                   std::move(log), stats_)) {}

processor::~processor() = default;

// Losing the static group membership is fatal to the consumer. It happens when a twin takes our
// instance id, and also when our own session expired while the broker was away (a single broker
// restarting for longer than session.timeout.ms): then the way back is what a process restart
// does, in process: new clients, restore from the store and the log. At most 3 times a minute; a
// real twin would go on fencing us, and then this process stops.
result<ok_t, std::string> processor::run(const std::atomic<bool>& stop) {
    std::deque<std::chrono::steady_clock::time_point> restarts;
    for (;;) {
        auto r = impl_->run(stop);
        if (r || stop.load() || !r.error().starts_with("consumer fenced")) return r;
        auto now = std::chrono::steady_clock::now();
        while (!restarts.empty() && now - restarts.front() > std::chrono::minutes(1)) restarts.pop_front();
        restarts.push_back(now);
        if (restarts.size() > 3) return r;
        auto log = impl_->log;
        log->warn("group membership lost ({}): starting the processor again from its store", r.error());
        auto kafka = impl_->kafka;
        auto topics = impl_->topics;
        auto options = impl_->opts;
        auto& store = impl_->store;
        impl_.reset();  // closes the old clients first
        impl_ = std::make_unique<impl>(std::move(kafka), std::move(topics), std::move(options), store, log, stats_);
        stats_.restores++;
    }
}

}  // namespace daybook::consumers
