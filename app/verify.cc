// `daybook verify [--book B] [--no-replay]`: what needs a person, as one report and an exit status
// (0 when all is clear, 1 otherwise): the projector's latest recorded state digest against a
// replay of the log to the same positions (deterministic replay, DESIGN.md rule 6), stopped
// projection partitions, commands of the process managers that
// their target refused (a posting the ledger would not take), DLQ records, and each book's
// control accounts (receivable, payable, advances) against its invoices and payments. Documents
// whose sagas are still running are listed as in flight (information, not a failure).

#include <cstdio>
#include <filesystem>
#include <unistd.h>

#include "app/options.h"
#include "consumers/log_reader.h"
#include "consumers/pipeline_status.h"
#include "events/codec.h"
#include "events/int128.h"
#include "projections/billing_projection.h"
#include "projections/ledger_projection.h"

namespace daybook::app {

namespace {

// The latest digest the live projector recorded, against a replay of the log to its positions
// into a temporary store. nullopt: nothing recorded yet.
std::optional<std::pair<bool, std::string>> check_recorded_digest(const options& o, const projections::store& s) {
    std::optional<v1::RecordedDigest> latest;
    s.scan("digest/", [&](std::string_view, std::string_view v) {
        latest.emplace().ParseFromArray(v.data(), static_cast<int>(v.size()));
        return true;
    });
    if (!latest) return std::nullopt;
    auto parsed = events::parse_token(latest->positions());
    if (!parsed) return std::pair{false, "unreadable positions " + latest->positions()};
    std::map<std::uint32_t, std::uint64_t> to;
    for (const auto& [p, seq] : *parsed) to[p] = seq;
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / ("daybook-verify-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    std::string replayed, problem;
    {
        auto store = projections::store::open(dir.string(), o.store);
        if (!store) return std::pair{false, store.error()};
        if (auto applied = replay_into(o, "", **store, to, std::nullopt); !applied) problem = applied.error();
        else replayed = projections::state_digest(**store);
    }
    fs::remove_all(dir);
    std::string what = "state digest recorded by the projector at " + latest->positions() + " (" + latest->software_version() + ")";
    if (!problem.empty()) return std::pair{false, what + ": the replay failed: " + problem};
    if (replayed != latest->digest())
        return std::pair{false, what + " is " + latest->digest() + " but a replay of the log to those positions gives " + replayed +
                                    (latest->software_version() == o.processor.software_version ? "" : " (recorded by another version)")};
    return std::pair{true, what + " equals a replay of the log to those positions (" + replayed.substr(0, 16) + "...)"};
}

}  // namespace

int run_verify(const options& o, const std::string& book, bool replay_digest) {
    auto store = open_projection_reader(o);
    if (!store) return std::fprintf(stderr, "daybook verify: %s\n", store.error().c_str()), 2;
    const auto& s = **store;
    int problems = 0;
    auto report = [&](bool ok, const std::string& what) {
        std::printf("%-5s %s\n", ok ? "ok" : "FAIL", what.c_str());
        problems += !ok;
    };

    if (replay_digest) {
        if (auto checked = check_recorded_digest(o, s)) report(checked->first, checked->second);
        else std::printf("      no state digest recorded yet (serve --digest-every-events)\n");
    }

    std::size_t stopped = 0;
    s.scan("stop/", [&](std::string_view, std::string_view why) {
        ++stopped;
        std::printf("      stopped: %.*s\n", static_cast<int>(why.size()), why.data());
        return true;
    });
    report(stopped == 0, "projection partitions running (" + std::to_string(stopped) + " stopped)");

    auto refused = projections::refused_postings(s, 1000);
    for (const auto& e : refused)
        std::printf("      refused: %s %s %s: %s (caused by %s)\n", e.command_rejected().routing_key().c_str(),
                    e.command_rejected().command_id().c_str(), e.command_rejected().code_name().c_str(),
                    e.command_rejected().detail().c_str(), e.causation_event_id().c_str());
    report(refused.empty(), "process managers' commands all accepted (" + std::to_string(refused.size()) + " refused)");

    if (auto reader = consumers::make_page_reader(o.kafka)) {
        auto page = consumers::read_page(reader->get(), o.topics.dlq(), 0, 0, 10000, 10000, nullptr, 30000);
        if (page) report(page->records.empty(), "dead-letter queue empty (" + std::to_string(page->records.size()) + " records)");
        else report(false, "dead-letter queue readable: " + page.error());
    } else {
        report(false, "Kafka reachable: " + reader.error());
    }

    for (const auto& b : book.empty() ? projections::list_books(s) : std::vector<std::string>{book}) {
        auto r = projections::reconcile(s, b);
        if (r.lines.empty()) continue;  // a book without billing
        for (const auto& l : r.lines)
            if (l.difference() != 0)
                std::printf("      %s %s %s: ledger %s, documents %s\n", b.c_str(), l.what.c_str(), l.currency.c_str(),
                            to_decimal(l.ledger).c_str(), to_decimal(l.documents).c_str());
        for (const auto& f : r.in_flight) std::printf("      in flight (%s): %s\n", b.c_str(), f.c_str());
        report(r.balanced(), "book " + b + ": control accounts agree with invoices and payments" +
                                 (r.in_flight.empty() ? "" : " (" + std::to_string(r.in_flight.size()) + " in flight)"));
    }
    std::printf("%s\n", problems == 0 ? "verify: all clear" : ("verify: " + std::to_string(problems) + " problem(s)").c_str());
    return problems == 0 ? 0 : 1;
}

}  // namespace daybook::app
