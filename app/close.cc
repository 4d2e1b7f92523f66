// `daybook close-period --book B --through D`: the closer (issue 5, period sealing).
//
//  1. close_period{B, D}: clients can no longer post into the period (a book already closed
//     through D or later is fine).
//  2. Wait until the billing process managers have handled every event written so far (their
//     committed offsets pass the last record of each events partition), the processor has decided
//     the book's commands written so far and the projector applied the book's events; repeat
//     until the book's reconciliation shows no saga in flight (a saga is several hops through
//     the log: number, issue, posting). The postings the sagas owe the period are then projected.
//  3. Export the trial balance as of D (CSV), take its SHA-256 and the projector's chain heads at
//     that moment, and send seal_period{B, D, sha256, heads}. From then on nothing enters the
//     period; `daybook audit seals` replays the log to those heads and checks the hash again.

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "app/options.h"
#include "consumers/billing_manager.h"
#include "consumers/log_reader.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/murmur2.h"
#include "projections/billing_projection.h"
#include "projections/exports.h"
#include "projections/ledger_projection.h"

namespace daybook::app {
namespace {

using clock = std::chrono::steady_clock;

// Offset of the last committed record of each partition of `topic` (read_committed, so commit
// markers and aborted records are skipped); absent for a partition without one.
result<std::map<int, std::int64_t>, std::string> last_records(const options& o, const std::string& topic) {
    auto c = consumers::make_page_reader(o.kafka);  // reports the end of each partition
    if (!c) return c.error();
    auto count = consumers::partition_count(c->get(), topic, 30000);
    if (!count) return count.error();
    std::map<int, std::int64_t> out;
    for (int p = 0; p < *count; ++p) {
        auto w = consumers::watermarks(c->get(), topic, p, 30000);
        if (!w) return w.error();
        for (std::int64_t window = 64; w->second > w->first; window *= 4) {
            const auto from = std::max(w->first, w->second - window);
            consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(1));
            rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = from;
            if (auto err = rd_kafka_assign(c->get(), list.get())) return std::string("assign: ") + rd_kafka_err2str(err);
            std::int64_t last = -1;
            for (auto deadline = clock::now() + std::chrono::seconds(30); clock::now() < deadline;) {
                consumers::message_ptr m(rd_kafka_consumer_poll(c->get(), 200));
                if (!m) continue;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
                if (m->err) return std::string("read ") + topic + ": " + rd_kafka_message_errstr(m.get());
                last = m->offset;
            }
            if (last >= 0) {
                out[p] = last;
                break;
            }
            if (from == w->first) break;  // nothing committed in the whole partition
        }
    }
    rd_kafka_assign(c->get(), nullptr);
    return out;
}

// Offsets a consumer group has committed on `topic`, by partition (-1: none).
result<std::map<int, std::int64_t>, std::string> committed(const options& o, const std::string& group,
                                                          const std::string& topic) {
    auto c = consumers::make_consumer(o.kafka, group, "");
    if (!c) return c.error();
    auto count = consumers::partition_count(c->get(), topic, 30000);
    if (!count) return count.error();
    consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(*count));
    for (int p = 0; p < *count; ++p) rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
    if (auto err = rd_kafka_committed(c->get(), list.get(), 30000)) return std::string("committed offsets: ") + rd_kafka_err2str(err);
    std::map<int, std::int64_t> out;
    for (int p = 0; p < *count; ++p) out[p] = std::max<std::int64_t>(list->elems[p].offset, -1);
    return out;
}

// Polls `done` every 200 ms until it says yes (true) or the wait is over (false).
template <typename F>
result<bool, std::string> wait_until(int wait_ms, F done) {
    for (auto deadline = clock::now() + std::chrono::milliseconds(wait_ms);;) {
        auto d = done();
        if (!d) return d.error();
        if (*d) return true;
        if (clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
}

v1::CommandEnvelope command(const std::string& id) {
    v1::CommandEnvelope c;
    c.set_command_id(id);
    c.set_actor(cli_actor());
    c.set_source("client");
    return c;
}

int fail(const std::string& why) { return std::fprintf(stderr, "daybook close-period: %s\n", why.c_str()), 2; }

}  // namespace

int run_close_period(const options& o, const close_period_args& a) {
    {
        auto store = open_projection_reader(o);
        if (!store) return fail(store.error());
        v1::BookState b;
        if (auto raw = (*store)->get("book/" + a.book)) b.ParseFromString(*raw);
        if (!b.sealed_through().empty() && a.through <= b.sealed_through()) {
            std::printf("book %s is sealed through %s by %s\ntrial balance sha256 %s\nchain heads %s\n", a.book.c_str(),
                        b.sealed_through().c_str(), b.sealed_by().c_str(), b.seal_trial_balance_sha256().c_str(),
                        b.seal_chain_heads().c_str());
            return 0;
        }
    }
    // Ids unique per run: a period reopened and closed again is a new close, not a repeat.
    const auto run = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch()).count());
    // 1. Close.
    auto close = command("close/" + a.book + "/" + a.through + "/" + run);
    close.mutable_close_period()->set_book_id(a.book);
    close.mutable_close_period()->set_through_date(a.through);
    auto closed = submit_one(o, close, a.wait_ms);
    if (!closed) return fail(closed.error());
    const bool already = closed->status() == v1::OUTCOME_STATUS_REJECTED &&
                         closed->code_name() == "period_already_closed";
    if (closed->status() != v1::OUTCOME_STATUS_ACCEPTED && !already)
        return fail("close_period was refused: " + closed->code_name() + ": " + closed->detail());
    std::printf("closed book %s through %s%s\n", a.book.c_str(), a.through.c_str(), already ? " (it already was)" : "");

    auto producer = consumers::make_producer(o.kafka, "");
    if (!producer) return fail(producer.error());
    auto partitions = consumers::partition_count(producer->get(), o.topics.commands(), 30000);
    if (!partitions) return fail(partitions.error());
    const int p = static_cast<int>(events::partition_for(a.book, *partitions));
    auto store = open_projection_reader(o);
    if (!store) return fail(store.error());

    // One round: the process managers have handled every event written so far, the processor has
    // decided the book's commands written so far, and the projector applied the book's events.
    auto settle = [&]() -> result<ok_t, std::string> {
        if (!a.without_process_managers) {
            auto events_last = last_records(o, o.topics.events());
            if (!events_last) return events_last.error();
            auto caught_up = wait_until(a.wait_ms, [&]() -> result<bool, std::string> {
                auto c = committed(o, consumers::billing_group_of(o.processor.group_id), o.topics.events());
                if (!c) return c.error();
                for (const auto& [part, last] : *events_last)
                    if ((*c)[part] <= last) return false;
                return true;
            });
            if (!caught_up) return caught_up.error();
            if (!*caught_up)
                return "the billing process manager (group " + consumers::billing_group_of(o.processor.group_id) +
                       ") has not handled the events up to the close within " + std::to_string(a.wait_ms) +
                       " ms; is `serve --roles ...,billing` running? (--without-process-managers when none runs)";
        }
        auto commands_last = last_records(o, o.topics.commands());
        if (!commands_last) return commands_last.error();
        if (commands_last->count(p)) {
            auto decided = wait_until(a.wait_ms, [&]() -> result<bool, std::string> {
                auto c = committed(o, o.processor.group_id, o.topics.commands());
                if (!c) return c.error();
                return (*c)[p] > (*commands_last)[p];
            });
            if (!decided) return decided.error();
            if (!*decided) return "the processor has not decided the book's commands within " + std::to_string(a.wait_ms) + " ms";
        }
        auto book_events = last_records(o, o.topics.events());
        if (!book_events) return book_events.error();
        auto projected = wait_until(a.wait_ms, [&]() -> result<bool, std::string> {
            (*store)->catch_up();
            if (!book_events->count(p)) return true;
            v1::PartitionPosition pos;
            if (auto raw = (*store)->get(projections::position_key(static_cast<std::uint32_t>(p)))) pos.ParseFromString(*raw);
            return pos.next_offset() > (*book_events)[p];
        });
        if (!projected) return projected.error();
        if (!*projected) return "the projector has not applied the book's events within " + std::to_string(a.wait_ms) + " ms";
        return ok;
    };
    // 2-3. Rounds until no saga of the book is in flight: a saga takes several hops through the
    // log (number, issue, posting), each one a round; the reconciliation lists the documents
    // whose postings are not in the projection yet.
    for (auto deadline = clock::now() + std::chrono::milliseconds(a.wait_ms);;) {
        if (auto settled = settle(); !settled) return fail(settled.error());
        if (a.without_process_managers) break;
        (*store)->catch_up();
        auto owed = projections::reconcile(**store, a.book).in_flight;
        if (owed.empty()) break;
        if (clock::now() >= deadline)
            return fail(std::to_string(owed.size()) + " saga steps of book " + a.book + " are still in flight after " +
                        std::to_string(a.wait_ms) + " ms (first: " + owed.front() + ")");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!a.without_process_managers) std::printf("process managers caught up\n");

    // 3. The evidence, from one view of the store, and the seal.
    projections::export_request tb{"trial-balance", a.book, "", a.through, "csv", o.processor.software_version, {}};
    auto exported = projections::export_report(**store, tb);
    if (!exported) return fail(exported.error());
    std::string heads;
    (*store)->scan("pos/", [&](std::string_view k, std::string_view v) {
        v1::PartitionPosition pos;
        pos.ParseFromArray(v.data(), static_cast<int>(v.size()));
        if (pos.seq() == 0) return true;
        auto part = events::read_be64(std::string(4, '\0') + std::string(k.substr(4)));
        heads += (heads.empty() ? "" : ",") + std::to_string(part) + ":" + std::to_string(pos.seq()) + ":" + events::to_hex(pos.head());
        return true;
    });
    events::sha256_hasher h;
    h.add(exported->data);
    const auto sha = events::to_hex(h.finish());
    auto seal = command("seal/" + a.book + "/" + a.through + "/" + run);
    auto* s = seal.mutable_seal_period();
    s->set_book_id(a.book);
    s->set_through_date(a.through);
    s->set_trial_balance_sha256(sha);
    s->set_chain_heads(heads);
    auto sealed = submit_one(o, seal, a.wait_ms);
    if (!sealed) return fail(sealed.error());
    if (sealed->status() != v1::OUTCOME_STATUS_ACCEPTED)
        return std::fprintf(stderr, "daybook close-period: seal_period was refused: %s: %s\n",
                            sealed->code_name().c_str(), sealed->detail().c_str()),
               1;
    std::printf("sealed book %s through %s\ntrial balance sha256 %s\nchain heads %s\n", a.book.c_str(), a.through.c_str(),
                sha.c_str(), heads.c_str());
    return 0;
}

}  // namespace daybook::app
