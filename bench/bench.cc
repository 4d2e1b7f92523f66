// daybook-bench (issue 8): Daybook's throughput and latency as ratios to baselines measured in the
// same run, against the same broker, with the same record sizes, partition count and client
// settings; and side by side with a Kafka Streams implementation of the same ledger rules.
//
//   B0-produce / B0-consume / B0-produce+consume   raw librdkafka, 300 B records
//   B0-rocksdb      WriteBatch of the projection's row shape (6 rows of ~100 B per event)
//   B0-txn          Daybook's transaction shape without Daybook (drivers.h: run_copier); its
//                   at-least-once twin B0-alo gives Kafka's exactly-once cost on that shape
//   B0-replay-floor consume the events -> parse the envelope -> WriteBatch, no domain logic
//   W1              10,000 accounts in 6 books, uniform and Zipfian; closed loop for throughput,
//                   open loop at 25/50/80 % of it for latency to the outcome and to the projection
//   burst           10x the sustainable rate: peak backlog and the time to work it off
//   W2              one book of 1,000,000 accounts: uniform, and 1/10/100 hot accounts taking
//                   50/90/100 % of debits (a book is one partition: its ceiling is one writer's)
//   W5              daybook replay from offset 0: events/s against the replay floor, and the
//                   replayed state digest must equal the live projector's
//   peer            bench/peers/kafka-streams: the same W1 over the same commands
// Every correctness check (all replies arrived, every accepted entry in the projection, debits
// equal credits per book, replay digest = live digest) makes the run fail; speed never does.

#include <CLI/CLI.hpp>
#include <rocksdb/write_batch.h>
#include <signal.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "bench/drivers.h"
#include "bench/process.h"
#include "bench/workload.h"
#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "events/codec.h"
#include "projections/ledger_projection.h"
#include "projections/store.h"

using namespace daybook;
using namespace daybook::bench;

namespace {

struct settings {
    consumers::kafka_settings kafka;
    std::string daybook = "build/daybook", out = "build/bench", peer_dir, peer_script = "bench/peers/kafka-streams/run";
    std::uint64_t entries = 50000;  // per closed-loop run
    int partitions = 3;
    double open_loop_seconds = 10, burst_seconds = 10;
    std::int64_t w2_accounts = 1000000;
    std::uint64_t w2_entries = 50000;
    bool smoke = false;
    int warmup_ms = 1500;
};

struct row {
    std::string name{}, what{}, shape{}, baseline{};
    double per_second = 0, baseline_per_second = 0;
    const latency_histogram* latency = nullptr;
    latency_histogram hist{};
    double cpu_us_per_event = -1, rss_mib = -1, bytes_per_event = -1;
    std::string note{};
};

std::vector<std::string> failures;
void check(bool ok, const std::string& what) {
    if (!ok) {
        failures.push_back(what);
        std::fprintf(stderr, "CHECK FAILED: %s\n", what.c_str());
    }
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string stamp_prefix(const std::string& what) { return "bench-" + what + "-" + std::to_string(::getpid()) + "."; }

consumers::topic_names make_topics(const settings& s, const std::string& what) {
    consumers::topic_names t{stamp_prefix(what)};
    consumers::topic_layout layout;
    layout.partitions = s.partitions;
    if (auto r = consumers::create_topics(s.kafka, t, layout); !r) throw std::runtime_error(r.error());
    return t;
}

record_source raw_records(const std::string& tag, std::size_t bytes) {
    return [tag, value = std::string(bytes, 'x')](std::uint64_t i) { return bench_record{tag + "-" + std::to_string(i), value}; };
}

record_source commands_of(std::function<v1::CommandEnvelope(std::uint64_t)> make) {
    return [make = std::move(make)](std::uint64_t i) {
        auto c = make(i);
        return bench_record{events::routing_key_of(c), events::serialize(c)};
    };
}

void log_phase(const std::string& what) { std::fprintf(stderr, "[bench] %s\n", what.c_str()); }

// A Daybook (or peer) process and the cost of what it did between two marks.
struct meter {
    bench_process* proc;
    process_usage at;
    explicit meter(bench_process* p) : proc(p), at(p->usage()) {}
    void fill(row& r, std::uint64_t events) {
        auto now = proc->usage();
        if (events == 0) return;
        r.cpu_us_per_event = (now.cpu_seconds - at.cpu_seconds) * 1e6 / static_cast<double>(events);
        r.rss_mib = static_cast<double>(now.peak_rss_kib) / 1024.0;
        r.bytes_per_event = static_cast<double>(now.write_bytes - at.write_bytes) / static_cast<double>(events);
        at = now;
    }
};

// Runs `spec` and checks every record got its reply.
using seq_map = std::map<std::uint32_t, std::uint64_t>;

// Runs `spec` and checks every record got its reply; merges the event positions its outcomes
// named into *seqs.
drive_result run(const settings& s, drive_spec spec, const record_source& source, seq_map* seqs = nullptr) {
    spec.warmup_ms = s.warmup_ms;
    log_phase(spec.id_tag + ": " + std::to_string(spec.count) + " records" +
              (spec.rate > 0 ? " at " + fmt("%.0f", spec.rate) + "/s" : ", closed loop"));
    auto r = drive(s.kafka, spec, source);
    check(r.replied == spec.count, spec.id_tag + ": " + std::to_string(r.replied) + " of " + std::to_string(spec.count) + " replied");
    check(r.duplicates == 0, spec.id_tag + ": " + std::to_string(r.duplicates) + " duplicate replies");
    if (seqs)
        for (auto [p, seq] : r.last_seq) (*seqs)[p] = std::max((*seqs)[p], seq);
    return r;
}

std::vector<std::string> serve_argv(const settings& s, const consumers::topic_names& t, const std::string& data,
                                    const std::string& instance) {
    return {s.daybook, "serve", "--development", "--roles", "processor,projector", "--brokers", s.kafka.brokers,
            "--topic-prefix", t.prefix, "--data-dir", data, "--instance", instance, "--group", instance};
}

// Every accepted entry is in the projection; debits equal credits in every book. Returns the
// live state digest.
std::string check_projection(const std::string& store_path, const std::vector<std::pair<std::string, std::string>>& accepted,
                             const std::string& what) {
    auto store = projections::store::open(store_path, {});
    if (!store) {
        check(false, what + ": cannot open " + store_path + ": " + store.error());
        return {};
    }
    std::size_t missing = 0;
    for (const auto& [book, entry] : accepted)
        if (!projections::find_entry(**store, book, entry)) ++missing;
    check(missing == 0, what + ": " + std::to_string(missing) + " of " + std::to_string(accepted.size()) +
                            " accepted entries missing from the projection");
    for (const auto& book : projections::list_books(**store))
        for (const auto& tb : projections::trial_balance(**store, book))
            check(tb.debits_minor() == tb.credits_minor(),
                  what + ": book " + book + " " + tb.currency() + " debits " + tb.debits_minor() + " != credits " + tb.credits_minor());
    std::fprintf(stderr, "[bench] %s: %zu accepted entries all in the projection, every book balanced\n", what.c_str(),
                 accepted.size() - missing);
    return projections::state_digest(**store);
}

std::uint64_t events_in(const std::string& store_path, int partitions) {
    auto store = projections::store::open(store_path, {});
    if (!store) return 0;
    std::uint64_t n = 0;
    for (int p = 0; p < partitions; ++p) {
        v1::PartitionPosition pos;
        if (auto raw = (*store)->get(projections::position_key(static_cast<std::uint32_t>(p)))) pos.ParseFromString(*raw);
        n += pos.seq();
    }
    return n;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_reports(const settings& s, const std::vector<row>& rows, const std::vector<std::string>& targets, const std::string& peer_config) {
    auto us = [](std::uint64_t v) { return v >= 10000 ? fmt("%.1f ms", static_cast<double>(v) / 1000.0) : std::to_string(v) + " us"; };
    std::string md =
        "| workload | what | books x partitions x processes | per second | ratio | p50 | p99 | p99.9 | max | CPU us/event | peak RSS MiB | "
        "bytes written/event |\n|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n";
    std::string json = "{\"entries\":" + std::to_string(s.entries) + ",\"partitions\":" + std::to_string(s.partitions) +
                       ",\"smoke\":" + (s.smoke ? "true" : "false") + ",\"rows\":[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const auto* h = r.latency ? r.latency : (r.hist.count() ? &r.hist : nullptr);
        auto ratio = r.baseline.empty() || r.baseline_per_second <= 0
                         ? std::string("")
                         : fmt("%.2f", r.per_second / r.baseline_per_second) + " of " + r.baseline;
        md += "| " + r.name + " | " + r.what + (r.note.empty() ? "" : " (" + r.note + ")") + " | " + r.shape + " | " +
              (r.per_second > 0 ? fmt("%.0f", r.per_second) : "") + " | " + ratio + " | " +
              (h ? us(h->percentile(0.5)) + " | " + us(h->percentile(0.99)) + " | " + us(h->percentile(0.999)) + " | " + us(h->max())
                 : " | | | ") +
              " | " + (r.cpu_us_per_event >= 0 ? fmt("%.1f", r.cpu_us_per_event) : "") + " | " +
              (r.rss_mib >= 0 ? fmt("%.0f", r.rss_mib) : "") + " | " + (r.bytes_per_event >= 0 ? fmt("%.0f", r.bytes_per_event) : "") +
              " |\n";
        json += std::string(i ? "," : "") + "{\"name\":\"" + r.name + "\",\"shape\":\"" + r.shape + "\",\"per_second\":" +
                fmt("%.1f", r.per_second) + ",\"baseline\":\"" + r.baseline + "\",\"ratio\":" +
                (r.baseline_per_second > 0 ? fmt("%.4f", r.per_second / r.baseline_per_second) : "null");
        if (h)
            json += ",\"latency_us\":{\"count\":" + std::to_string(h->count()) + ",\"p50\":" + std::to_string(h->percentile(0.5)) +
                    ",\"p90\":" + std::to_string(h->percentile(0.9)) + ",\"p99\":" + std::to_string(h->percentile(0.99)) +
                    ",\"p999\":" + std::to_string(h->percentile(0.999)) + ",\"max\":" + std::to_string(h->max()) + "}";
        if (r.cpu_us_per_event >= 0) json += ",\"cpu_us_per_event\":" + fmt("%.2f", r.cpu_us_per_event);
        if (r.rss_mib >= 0) json += ",\"peak_rss_mib\":" + fmt("%.1f", r.rss_mib);
        if (r.bytes_per_event >= 0) json += ",\"bytes_written_per_event\":" + fmt("%.1f", r.bytes_per_event);
        json += "}";
    }
    json += "],\"targets\":[";
    md += "\n## Targets\n\n";
    for (std::size_t i = 0; i < targets.size(); ++i) {
        md += "- " + targets[i] + "\n";
        json += std::string(i ? "," : "") + "\"" + targets[i] + "\"";
    }
    json += "],\"peer_config\":" + (peer_config.empty() ? std::string("null") : peer_config) +
            ",\"failures\":" + std::to_string(failures.size()) + "}\n";
    if (!peer_config.empty()) md += "\nKafka Streams peer configuration: `" + peer_config + "`\n";
    std::ofstream(s.out + "/results.md") << md;
    std::ofstream(s.out + "/results.json") << json;
    std::printf("%s\n", md.c_str());

    // The latency chart: percentiles of every open-loop row (gnuplot, when installed).
    std::ofstream dat(s.out + "/latency.dat");
    std::string plot = "set terminal pngcairo size 1100,600\nset output '" + s.out +
                       "/latency.png'\nset title 'Latency from scheduled send (open loop)'\nset logscale y\nset ylabel 'microseconds'\n"
                       "set xtics ('p50' 0, 'p90' 1, 'p99' 2, 'p99.9' 3, 'max' 4)\nset key outside right\nplot ";
    int series = 0;
    for (const auto& r : rows) {
        const auto* h = r.latency ? r.latency : (r.hist.count() ? &r.hist : nullptr);
        if (!h || h->count() < 10) continue;
        dat << "# " << r.name << "\n";
        double ps[] = {0.5, 0.9, 0.99, 0.999};
        for (int k = 0; k < 4; ++k) dat << k << " " << std::max<std::uint64_t>(1, h->percentile(ps[k])) << "\n";
        dat << 4 << " " << std::max<std::uint64_t>(1, h->max()) << "\n\n\n";
        plot += std::string(series ? ", " : "") + "'" + s.out + "/latency.dat' index " + std::to_string(series) +
                " with linespoints title '" + r.name + "'";
        ++series;
    }
    dat.close();  // complete before gnuplot reads it
    std::ofstream(s.out + "/latency.gnuplot") << plot << "\n";
    if (series && std::system("command -v gnuplot >/dev/null 2>&1") == 0) {
        if (std::system(("gnuplot '" + s.out + "/latency.gnuplot' 2>/dev/null").c_str()) == 0)
            std::printf("chart: %s/latency.png\n", s.out.c_str());
    }
}

std::string target(bool met, const std::string& text) { return std::string(met ? "met: " : "NOT met: ") + text; }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"daybook-bench: throughput and latency as ratios to baselines measured in the same run"};
    settings s;
    app.add_option("--brokers", s.kafka.brokers)->capture_default_str();
    app.add_option("--daybook", s.daybook, "the daybook binary")->capture_default_str();
    app.add_option("--out", s.out, "results directory")->capture_default_str();
    app.add_option("--entries", s.entries, "commands per closed-loop run")->capture_default_str();
    app.add_option("--partitions", s.partitions)->capture_default_str();
    app.add_option("--open-loop-seconds", s.open_loop_seconds, "length of each open-loop run")->capture_default_str();
    app.add_option("--burst-seconds", s.burst_seconds, "length of the 10x burst (0: none)")->capture_default_str();
    app.add_option("--w2-accounts", s.w2_accounts, "accounts of W2's one book")->capture_default_str();
    app.add_option("--w2-entries", s.w2_entries, "commands per W2 run")->capture_default_str();
    app.add_option("--peer", s.peer_dir, "the built Kafka Streams peer (bench/peers/kafka-streams/build OUT); empty: no peer");
    app.add_option("--peer-script", s.peer_script, "the peer's run script")->capture_default_str();
    app.add_flag("--smoke", s.smoke, "a few seconds per workload, to prove the harness and its checks (make test)");
    CLI11_PARSE(app, argc, argv);
    if (s.smoke) {  // what is not given explicitly
        if (!app.count("--entries")) s.entries = 1000;
        s.open_loop_seconds = 1;
        s.warmup_ms = 400;
        s.burst_seconds = 0.2;  // the burst and its work-off, not 150,000 commands
        s.w2_accounts = 1000;
        s.w2_entries = 1000;
    }
    s.kafka.transaction_timeout_ms = 30000;
    s.kafka.session_timeout_ms = 6000;
    std::filesystem::create_directories(s.out);
    const auto stamp = std::to_string(::getpid());
    const auto parts = std::to_string(s.partitions) + " partitions";
    std::vector<row> rows;
    std::vector<std::string> targets;
    std::string peer_config;
    try {
        // ---- B0: raw Kafka and RocksDB -------------------------------------------------------
        auto raw = make_topics(s, "raw");
        row produce{"B0-produce", "300 B records, idempotent, acks=all", "- x " + parts + " x 1"};
        {
            log_phase("B0-produce");
            auto t0 = steady_us();
            produce_n(s.kafka, raw.events(), s.partitions, s.entries, raw_records("p", 300));
            produce.per_second = static_cast<double>(s.entries) * 1e6 / static_cast<double>(steady_us() - t0);
            t0 = steady_us();
            auto [got, us] = consume_n(s.kafka, raw.events(), s.partitions, s.entries);
            check(got == s.entries, "B0-consume read " + std::to_string(got));
            rows.push_back(produce);
            rows.push_back({"B0-consume", "read_committed, from the beginning", "- x " + parts + " x 1", "B0-produce",
                            static_cast<double>(got) * 1e6 / static_cast<double>(us), produce.per_second});
        }
        drive_spec raw_spec{raw.commands(), raw.commands(), s.partitions, s.entries, 0, false, "pc"};
        auto pc = run(s, raw_spec, raw_records("pc", 300));
        rows.push_back({"B0-produce+consume", "produce and read back at the same time, closed loop", "- x " + parts + " x 1",
                        "B0-produce", pc.per_second(), produce.per_second});
        {
            log_phase("B0-rocksdb");
            auto dir = s.out + "/rocksdb-" + stamp;
            auto store = projections::store::open(dir, {});
            if (!store) throw std::runtime_error(store.error());
            std::string value(100, 'v');
            const std::uint64_t n = s.entries * 2;
            auto t0 = steady_us();
            rocksdb::WriteBatch batch;
            for (std::uint64_t i = 0; i < n; ++i) {
                for (int k = 0; k < 6; ++k) {
                    char key[48];
                    std::snprintf(key, sizeof key, "row/%d/b%llu/a%08llu", k, static_cast<unsigned long long>(i % 6),
                                  static_cast<unsigned long long>((i * 7919 + static_cast<std::uint64_t>(k)) % 1000003));
                    batch.Put(key, value);
                }
                if (i % 500 == 499) {
                    (*store)->write(batch);
                    batch.Clear();
                }
            }
            (*store)->write(batch);
            rows.push_back({"B0-rocksdb", "WriteBatch, 6 rows of ~130 B per event, 500 events per batch", "-", "", 
                            static_cast<double>(n) * 1e6 / static_cast<double>(steady_us() - t0)});
            store->reset();
            std::filesystem::remove_all(dir);
        }

        // ---- B0-txn and B0-alo: the transactional copier and its at-least-once twin ---------------
        auto copier_row = [&](const std::string& what, bool transactional, double rate, double seconds) {
            auto t = make_topics(s, what);
            std::atomic<bool> stop{false}, ready{false};
            copier_stats stats;
            std::thread copier([&] { stats = run_copier(s.kafka, t, transactional, stop, ready); });
            for (int i = 0; i < 600 && !ready; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            check(ready, what + ": the copier got no partitions in 30 s");
            // Warm-up, not measured: the first transactions add the partitions to the transaction.
            run(s, drive_spec{t.commands(), t.outcomes(), s.partitions, 200, 0, false, what + "warm"}, raw_records(what + "warm", 150));
            drive_spec spec{t.commands(), t.outcomes(), s.partitions,
                            rate > 0 ? static_cast<std::uint64_t>(rate * seconds) : s.entries, rate, false, what};
            auto r = run(s, spec, raw_records(what, 150));
            stop = true;
            copier.join();
            return r;
        };
        auto txn = copier_row("txn", true, 0, 0);
        auto alo = copier_row("alo", false, 0, 0);
        const std::string copier_shape = "- x " + parts + " x 1";
        rows.push_back({"B0-txn", "consume 150 B, produce 300 B + 120 B, offsets in the transaction, 50 ms / 5,000 records",
                        copier_shape, "B0-produce+consume", txn.per_second(), pc.per_second()});
        rows.push_back({"B0-alo", "B0-txn's copier without transactions (offsets committed after a flush)", copier_shape, "B0-txn",
                        alo.per_second(), txn.per_second()});
        const double txn_rate = txn.per_second();

        // ---- W1 ----------------------------------------------------------------------------------
        auto w1 = make_topics(s, "w1");
        auto w1_data = s.out + "/w1-data-" + stamp;
        auto w1_instance = "bench-w1-" + stamp;
        ledger_shape uniform_shape;
        ledger_workload uniform(uniform_shape);
        auto zipf_shape = uniform_shape;
        zipf_shape.chooser = choice::zipf;
        ledger_workload zipf(zipf_shape);
        const std::string w1_shape = "6 x " + parts + " x 1 (processor + projector in one daybook serve)";
        std::vector<std::pair<std::string, std::string>> w1_accepted;
        auto keep_accepted = [&](std::uint64_t, const v1::Outcome* o) {
            if (o && o->status() == v1::OUTCOME_STATUS_ACCEPTED && o->command_id().find("-open-") == std::string::npos)
                w1_accepted.emplace_back(o->routing_key(), o->command_id());
        };
        double w1_rate = 0;
        std::string live_digest;
        seq_map w1_seqs;
        const auto w1_store = w1_data + "/projector-" + w1_instance;
        auto w1_caught_up = [&] {
            check(wait_projected(w1_store, s.out + "/wait-" + stamp, w1_seqs, 600), "W1: the projector did not catch up in 600 s");
        };
        {
            bench_process serve(serve_argv(s, w1, w1_data, w1_instance), s.out + "/w1-serve.log");
            drive_spec opens{w1.commands(), w1.outcomes(), s.partitions, static_cast<std::uint64_t>(uniform_shape.accounts), 0, true,
                             "w1-open"};
            auto o = run(s, opens, commands_of([&](std::uint64_t i) { return uniform.open_account("w1-open", static_cast<std::int64_t>(i)); }),
                         &w1_seqs);
            check(o.accepted == opens.count, "W1 setup: " + std::to_string(o.accepted) + " accounts opened");
            meter m(&serve);
            auto closed = [&](const std::string& tag, const ledger_workload& w, const std::string& name) {
                drive_spec spec{w1.commands(), w1.outcomes(), s.partitions, s.entries, 0, true, tag};
                spec.on_reply = keep_accepted;
                auto r = run(s, spec, commands_of([&w, tag](std::uint64_t i) { return w.entry(tag, 7, i); }), &w1_seqs);
                row out{name, "two- and four-leg entries, " + w.shape().describe() + ", closed loop to the outcome", w1_shape, "B0-txn",
                        r.per_second(), txn_rate};
                out.note = std::to_string(r.accepted) + " accepted, " + std::to_string(r.rejected) + " rejected";
                m.fill(out, r.replied);
                rows.push_back(out);
                return r;
            };
            auto u = closed("w1u", uniform, "W1-uniform");
            w1_rate = u.per_second();
            check(u.accepted > 0, "W1: nothing accepted");
            rows.back().note += "; load accepted = " + fmt("%.0f", static_cast<double>(u.accepted) / u.seconds) + " tx/s";
            closed("w1z", zipf, "W1-zipf");

            // Batches: linked runs of 1,000 and 4,000 entries, one book each. (A run may hold 8,189
            // commands, TigerBeetle's batch bound, within 512 KiB: these entries, with their ~100 B
            // of ids, dates and legs each, fit 4,000.)
            for (int size : {1000, 4000}) {
                auto tag = "w1b" + std::to_string(size);
                const auto runs = std::max<std::uint64_t>(s.smoke ? 2 : 6, s.entries / static_cast<std::uint64_t>(size));
                drive_spec spec{w1.commands(), w1.outcomes(), s.partitions, runs, 0, true, tag};
                spec.on_reply = [&](std::uint64_t i, const v1::Outcome* run_outcome) {
                    if (run_outcome->status() != v1::OUTCOME_STATUS_ACCEPTED) return;
                    for (int k = 0; k < size; ++k)
                        w1_accepted.emplace_back(run_outcome->routing_key(), tag + "r" + std::to_string(i) + "." + std::to_string(k));
                };
                auto r = run(s, spec, commands_of([&uniform, tag, size](std::uint64_t i) { return uniform.batch(tag, 23, i, size); }), &w1_seqs);
                row out{"W1-batch-" + std::to_string(size), "uniform entries in linked runs of " + std::to_string(size) +
                        " (all or nothing), closed loop; per second counts entries", w1_shape, "W1-uniform",
                        r.per_second() * size, w1_rate};
                out.note = std::to_string(r.accepted) + " of " + std::to_string(runs) + " runs accepted (the rest refused whole); load accepted = " +
                           fmt("%.0f", static_cast<double>(r.accepted * static_cast<std::uint64_t>(size)) / std::max(r.seconds, 1e-9)) +
                           " tx/s; batch latency p50 " + fmt("%.0f", static_cast<double>(r.to_reply.percentile(0.5)) / 1000) + " ms, p100 " +
                           fmt("%.0f", static_cast<double>(r.to_reply.max()) / 1000) + " ms (all batches sent at once)";
                // A run is refused whole when one entry would break a balance limit (after the Zipf run
                // some limited accounts are near theirs): counted, not a failure.
                m.fill(out, r.replied * static_cast<std::uint64_t>(size));
                rows.push_back(out);
            }

            // Open loop: Daybook at 25/50/80 % of its closed-loop rate, then B0-txn and raw Kafka at the same rates.
            projection_follower follower(w1_data + "/projector-" + w1_instance, s.out + "/follower-" + stamp, s.partitions);
            for (int pct : {25, 50, 80}) {
                double rate = w1_rate * pct / 100.0;
                auto tag = "w1ol" + std::to_string(pct);
                drive_spec spec{w1.commands(), w1.outcomes(), s.partitions, static_cast<std::uint64_t>(rate * s.open_loop_seconds), rate,
                                true, tag};
                spec.on_reply = keep_accepted;
                spec.follower = &follower;
                w1_caught_up();  // each run starts with the projector idle
                follower.take();
                auto r = run(s, spec, commands_of([&uniform, tag](std::uint64_t i) { return uniform.entry(tag, 11, i); }), &w1_seqs);
                w1_caught_up();
                std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the follower's last look
                row out{"W1-open-" + std::to_string(pct) + "%", "uniform at " + fmt("%.0f", rate) + "/s, to the outcome", w1_shape,
                        "", r.per_second()};
                out.hist = r.to_reply;
                m.fill(out, r.replied);
                rows.push_back(out);
                row proj{"W1-open-" + std::to_string(pct) + "%-projection", "the same commands, to the projection (sampled every 2 ms)",
                         w1_shape};
                proj.hist = follower.take();
                rows.push_back(proj);
            }
            // Burst: 10x the sustainable rate.
            if (s.burst_seconds > 0) {
                double rate = w1_rate * 10;
                drive_spec spec{w1.commands(), w1.outcomes(), s.partitions, static_cast<std::uint64_t>(rate * s.burst_seconds), rate, true,
                                "w1burst"};
                spec.on_reply = keep_accepted;
                spec.idle_timeout_s = 300;
                w1_caught_up();
                auto r = run(s, spec, commands_of([&uniform](std::uint64_t i) { return uniform.entry("w1burst", 13, i); }), &w1_seqs);
                row out{"burst", "10x W1's rate offered for " + fmt("%g", s.burst_seconds) + " s", w1_shape, "W1-uniform",
                        r.per_second(), w1_rate};
                out.note = "offered " + fmt("%.0f", static_cast<double>(r.sent) / std::max(r.send_seconds, 1e-3)) + "/s, peak backlog " +
                           std::to_string(r.max_backlog) + " commands, worked off " + fmt("%.1f", r.drain_seconds) +
                           " s after the burst, " + std::to_string(r.rejected) + " rejected, none refused or lost";
                out.hist = r.to_reply;
                m.fill(out, r.replied);
                rows.push_back(out);
            }
            w1_caught_up();
            process_usage last;
            check(serve.stop(SIGTERM, 60, last) == 0, "W1: daybook serve did not stop cleanly");
        }
        live_digest = check_projection(w1_data + "/projector-" + w1_instance, w1_accepted, "W1");

        // ---- W5: replay from offset 0, against the replay floor ----------------------------------------
        {
            auto events = events_in(w1_data + "/projector-" + w1_instance, s.partitions);
            log_phase("W5 replay of " + std::to_string(events) + " events");
            auto dir = s.out + "/w5-" + stamp;
            std::filesystem::remove(s.out + "/w5-replay.log");
            auto t0 = steady_us();
            bench_process replay({s.daybook, "replay", "--development", "--brokers", s.kafka.brokers, "--topic-prefix", w1.prefix,
                                  "--state-dir", dir, "--data-dir", s.out + "/w5-data-" + stamp},
                                 s.out + "/w5-replay.log");
            process_usage u;
            int rc = replay.wait(u);
            double secs = static_cast<double>(steady_us() - t0) / 1e6;
            check(rc == 0, "W5: daybook replay exited " + std::to_string(rc));
            std::smatch m;
            auto log = read_file(s.out + "/w5-replay.log");
            std::string replayed = std::regex_search(log, m, std::regex("state digest ([0-9a-f]{64})")) ? m[1].str() : "";
            check(!replayed.empty() && replayed == live_digest, "W5: replayed digest " + replayed + " != live " + live_digest);

            // The floor: consume -> parse the envelope -> one WriteBatch per poll, no domain logic.
            auto floor_dir = s.out + "/floor-" + stamp;
            auto store = projections::store::open(floor_dir, {});
            if (!store) throw std::runtime_error(store.error());
            auto c = consumers::make_consumer(s.kafka, "", "");
            if (!c) throw std::runtime_error(c.error());
            consumers::tpl_ptr list(rd_kafka_topic_partition_list_new(s.partitions));
            for (int p = 0; p < s.partitions; ++p)
                rd_kafka_topic_partition_list_add(list.get(), w1.events().c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
            rd_kafka_assign(c->get(), list.get());
            auto f0 = steady_us();
            std::uint64_t got = 0, idle = 0;
            rocksdb::WriteBatch batch;
            while (got < events && idle < 500) {
                consumers::message_ptr msg(rd_kafka_consumer_poll(c->get(), 10));
                if (!msg || msg->err) {
                    ++idle;
                    continue;
                }
                idle = 0;
                v1::SealedEvent sealed;
                v1::EventEnvelope env;
                if (!sealed.ParseFromArray(msg->payload, static_cast<int>(msg->len)) || !env.ParseFromString(sealed.body())) continue;
                char key[32];
                std::snprintf(key, sizeof key, "e/%d/%016lld", msg->partition, static_cast<long long>(msg->offset));
                batch.Put(key, rocksdb::Slice(static_cast<const char*>(msg->payload), msg->len));
                if (++got % 1000 == 0) {
                    (*store)->write(batch);
                    batch.Clear();
                }
            }
            (*store)->write(batch);
            double floor_rate = static_cast<double>(got) * 1e6 / static_cast<double>(steady_us() - f0);
            check(got >= events, "replay floor read " + std::to_string(got) + " of " + std::to_string(events));
            rows.push_back({"B0-replay-floor", "consume events -> parse record and envelope -> WriteBatch", "- x " + parts + " x 1", "", floor_rate});
            row w5{"W5-replay", "daybook replay from offset 0, " + std::to_string(events) + " events, digest = live", "- x " + parts + " x 1",
                   "B0-replay-floor", static_cast<double>(events) / secs, floor_rate};
            w5.cpu_us_per_event = u.cpu_seconds * 1e6 / static_cast<double>(std::max<std::uint64_t>(events, 1));
            w5.rss_mib = static_cast<double>(u.peak_rss_kib) / 1024.0;
            w5.note = "time to ready " + fmt("%.1f", secs) + " s";
            rows.push_back(w5);
            targets.push_back(target(w5.per_second >= 0.8 * floor_rate,
                                     "replay >= 80 % of the replay floor: " + fmt("%.0f", 100 * w5.per_second / floor_rate) + " %"));
            store->reset();
            std::filesystem::remove_all(floor_dir);
            std::filesystem::remove_all(dir);
        }

        // ---- Latency baselines at W1's open-loop rates ------------------------------------------------
        for (int pct : {25, 50, 80}) {
            double rate = w1_rate * pct / 100.0;
            auto r = copier_row("txnol" + std::to_string(pct), true, rate, s.open_loop_seconds);
            row out{"B0-txn-open-" + std::to_string(pct) + "%", "the copier at " + fmt("%.0f", rate) + "/s, to its read_committed reader",
                    copier_shape, "", r.per_second()};
            out.hist = r.to_reply;
            rows.push_back(out);
            drive_spec spec{raw.commands(), raw.commands(), s.partitions, static_cast<std::uint64_t>(rate * s.open_loop_seconds), rate,
                            false, "rawol" + std::to_string(pct)};
            auto k = run(s, spec, raw_records(spec.id_tag, 300));
            row kr{"B0-e2e-open-" + std::to_string(pct) + "%", "raw Kafka at " + fmt("%.0f", rate) + "/s, produce to read", copier_shape,
                   "", k.per_second()};
            kr.hist = k.to_reply;
            rows.push_back(kr);
        }

        // ---- W2: one book of many accounts, hot accounts -----------------------------------------------
        double w2_uniform = 0;
        {
            auto w2 = make_topics(s, "w2");
            auto data = s.out + "/w2-data-" + stamp;
            auto instance = "bench-w2-" + stamp;
            ledger_shape shape;
            shape.books = 1;
            shape.accounts = s.w2_accounts;
            ledger_workload base(shape);
            const std::string w2_shape = "1 x " + parts + " x 1";
            seq_map w2_seqs;
            auto w2_caught_up = [&] {
                check(wait_projected(data + "/projector-" + instance, s.out + "/wait2-" + stamp, w2_seqs, 600),
                      "W2: the projector did not catch up in 600 s");
            };
            bench_process serve(serve_argv(s, w2, data, instance), s.out + "/w2-serve.log");
            auto before = serve.usage();
            drive_spec opens{w2.commands(), w2.outcomes(), s.partitions, static_cast<std::uint64_t>(shape.accounts), 0, true, "w2-open"};
            opens.idle_timeout_s = 300;
            auto o = run(s, opens, commands_of([&](std::uint64_t i) { return base.open_account("w2-open", static_cast<std::int64_t>(i)); }),
                         &w2_seqs);
            check(o.accepted == opens.count, "W2 setup: " + std::to_string(o.accepted) + " accounts opened");
            auto after = serve.usage();
            row mem{"W2-open-accounts", "open " + std::to_string(shape.accounts) + " accounts in one book", w2_shape, "", o.per_second()};
            mem.rss_mib = static_cast<double>(after.peak_rss_kib) / 1024.0;
            mem.cpu_us_per_event = (after.cpu_seconds - before.cpu_seconds) * 1e6 / static_cast<double>(shape.accounts);
            mem.bytes_per_event = static_cast<double>(after.write_bytes - before.write_bytes) / static_cast<double>(shape.accounts);
            auto disk = directory_bytes(data);
            mem.note = "resident " + fmt("%.0f", static_cast<double>(after.rss_kib) / 1024.0) + " MiB after; stores on disk " +
                       fmt("%.0f", static_cast<double>(disk) / static_cast<double>(shape.accounts)) + " B/account";
            rows.push_back(mem);
            targets.push_back(target(mem.rss_mib < 512, "the " + std::to_string(shape.accounts) + "-account book under 512 MiB resident: peak " +
                                                            fmt("%.0f", mem.rss_mib) + " MiB"));
            meter m(&serve);
            std::vector<std::pair<std::string, std::string>> accepted;
            struct variant {
                choice c;
                int hot;
                double share;
            };
            std::vector<variant> variants{{choice::uniform, 0, 0}, {choice::hot, 1, 1.0}};
            if (!s.smoke)
                variants = {{choice::uniform, 0, 0}, {choice::hot, 1, 0.5},  {choice::hot, 1, 0.9},   {choice::hot, 1, 1.0},
                            {choice::hot, 10, 0.5},  {choice::hot, 10, 0.9}, {choice::hot, 10, 1.0},  {choice::hot, 100, 0.5},
                            {choice::hot, 100, 0.9}, {choice::hot, 100, 1.0}};
            double hot1_100 = 0;
            for (std::size_t v = 0; v < variants.size(); ++v) {
                auto sh = shape;
                sh.chooser = variants[v].c;
                sh.hot_accounts = std::max(1, variants[v].hot);
                sh.hot_share = variants[v].share;
                ledger_workload w(sh);
                auto tag = "w2v" + std::to_string(v);
                drive_spec spec{w2.commands(), w2.outcomes(), s.partitions, s.w2_entries, 0, true, tag};
                spec.on_reply = [&](std::uint64_t, const v1::Outcome* oc) {
                    if (oc->status() == v1::OUTCOME_STATUS_ACCEPTED) accepted.emplace_back(oc->routing_key(), oc->command_id());
                };
                w2_caught_up();
                auto r = run(s, spec, commands_of([&w, tag](std::uint64_t i) { return w.entry(tag, 17, i); }), &w2_seqs);
                if (v == 0) w2_uniform = r.per_second();
                if (variants[v].c == choice::hot && variants[v].hot == 1 && variants[v].share == 1.0) hot1_100 = r.per_second();
                row out{"W2-" + (v == 0 ? std::string("uniform") : std::to_string(variants[v].hot) + "hot-" +
                                                                     std::to_string(static_cast<int>(variants[v].share * 100)) + "%"),
                        w.shape().describe() + ", closed loop", w2_shape, v == 0 ? "W1-uniform" : "W2-uniform", r.per_second(),
                        v == 0 ? w1_rate : w2_uniform};
                out.note = std::to_string(r.accepted) + " accepted, " + std::to_string(r.rejected) + " rejected";
                m.fill(out, r.replied);
                rows.push_back(out);
            }
            targets.push_back(target(hot1_100 >= 0.9 * w2_uniform, "100 % of debits on one hot account >= 90 % of uniform: " +
                                                                        fmt("%.0f", 100 * hot1_100 / std::max(w2_uniform, 1e-9)) + " %"));
            // p99 under skew, open loop at 50 % of the book's uniform ceiling.
            for (std::size_t v : {std::size_t{0}, std::size_t{s.smoke ? 1u : 3u}}) {
                auto sh = shape;
                sh.chooser = variants[v].c;
                sh.hot_accounts = std::max(1, variants[v].hot);
                sh.hot_share = variants[v].share;
                ledger_workload w(sh);
                double rate = w2_uniform / 2;
                auto tag = "w2ol" + std::to_string(v);
                drive_spec spec{w2.commands(), w2.outcomes(), s.partitions, static_cast<std::uint64_t>(rate * s.open_loop_seconds), rate,
                                true, tag};
                w2_caught_up();
                auto r = run(s, spec, commands_of([&w, tag](std::uint64_t i) { return w.entry(tag, 19, i); }), &w2_seqs);
                row out{"W2-open-50%-" + std::string(v == 0 ? "uniform" : "1hot-100%"), w.shape().describe() + " at " + fmt("%.0f", rate) + "/s",
                        w2_shape, "", r.per_second()};
                out.hist = r.to_reply;
                rows.push_back(out);
            }
            w2_caught_up();
            process_usage last;
            check(serve.stop(SIGTERM, 60, last) == 0, "W2: daybook serve did not stop cleanly");
            check_projection(data + "/projector-" + instance, accepted, "W2");
            std::filesystem::remove_all(data);
        }
        std::filesystem::remove_all(w1_data);

        // ---- W1 without the projector: the work the peer does (decide, append, answer) ---------------------
        double core_rate = 0;
        {
            auto t = make_topics(s, "core");
            auto data = s.out + "/core-data-" + stamp;
            auto core_argv = serve_argv(s, t, data, "bench-core-" + stamp);
            core_argv[4] = "processor";  // --roles processor
            bench_process serve(core_argv, s.out + "/core-serve.log");
            drive_spec opens{t.commands(), t.outcomes(), s.partitions, static_cast<std::uint64_t>(uniform_shape.accounts), 0, true, "w1-open"};
            auto o = run(s, opens, commands_of([&](std::uint64_t i) { return uniform.open_account("w1-open", static_cast<std::int64_t>(i)); }));
            check(o.accepted == opens.count, "W1-processor-only setup: " + std::to_string(o.accepted) + " accounts opened");
            meter m(&serve);
            drive_spec spec{t.commands(), t.outcomes(), s.partitions, s.entries, 0, true, "w1u"};
            auto r = run(s, spec, commands_of([&uniform](std::uint64_t i) { return uniform.entry("w1u", 7, i); }));
            core_rate = r.per_second();
            row out{"W1-processor-only", "W1-uniform with `serve --roles processor`: decide, seal, append, answer; no projection",
                    "6 x " + parts + " x 1", "W1-uniform", core_rate, w1_rate};
            out.note = std::to_string(r.accepted) + " accepted, " + std::to_string(r.rejected) + " rejected";
            m.fill(out, r.replied);
            rows.push_back(out);
            process_usage last;
            check(serve.stop(SIGTERM, 60, last) == 0, "W1-processor-only: daybook serve did not stop cleanly");
            std::filesystem::remove_all(data);
        }

        // ---- The Kafka Streams peer ------------------------------------------------------------------------
        double peer_rate = 0;
        if (!s.peer_dir.empty()) {
            auto t = make_topics(s, "peer");
            auto state = s.out + "/peer-state-" + stamp;
            auto log = s.out + "/peer.log";
            std::filesystem::remove(log);
            bench_process peer({"/bin/bash", s.peer_script, s.peer_dir, "--brokers", s.kafka.brokers, "--prefix", t.prefix, "--app-id",
                                "bench-peer-" + stamp, "--state-dir", state},
                               log);
            drive_spec opens{t.commands(), t.outcomes(), s.partitions, static_cast<std::uint64_t>(uniform_shape.accounts), 0, true, "w1-open"};
            opens.idle_timeout_s = 180;
            auto o = run(s, opens, commands_of([&](std::uint64_t i) { return uniform.open_account("w1-open", static_cast<std::int64_t>(i)); }));
            check(o.accepted == opens.count, "peer setup: " + std::to_string(o.accepted) + " accounts opened");
            meter m(&peer);
            for (auto [tag, w, name] : {std::tuple{"w1u", &uniform, "peer-W1-uniform"}, std::tuple{"w1z", &zipf, "peer-W1-zipf"}}) {
                drive_spec spec{t.commands(), t.outcomes(), s.partitions, s.entries, 0, true, tag};
                std::string tg = tag;
                auto r = run(s, spec, commands_of([w, tg](std::uint64_t i) { return w->entry(tg, 7, i); }));
                row out{name, "Kafka Streams 4.1.1, RocksDB stores, exactly_once_v2: " + w->shape().describe(),
                        "6 x " + parts + " x 1 (one JVM, 1 stream thread)", "W1-uniform", r.per_second(), w1_rate};
                out.note = std::to_string(r.accepted) + " accepted, " + std::to_string(r.rejected) + " rejected";
                m.fill(out, r.replied);
                rows.push_back(out);
                if (std::string(tag) == "w1u") peer_rate = r.per_second();
            }
            process_usage last;
            peer.stop(SIGTERM, 60, last);
            std::smatch match;
            auto text = read_file(log);
            if (std::regex_search(text, match, std::regex("peer-config: (\\{[^\\n]*\\})"))) peer_config = match[1].str();
            std::filesystem::remove_all(state);
        }

        // ---- Targets ------------------------------------------------------------------------------------
        targets.insert(targets.begin(),
                       {target(w1_rate >= 0.6 * txn_rate, "W1 >= 60 % of B0-txn (goal 80 %): " + fmt("%.0f", 100 * w1_rate / txn_rate) +
                                                              " % (" + fmt("%.0f", 100 * w1_rate / pc.per_second()) +
                                                              " % of raw produce+consume)"),
                        "exactly-once cost: Daybook has no at-least-once mode; on its transaction shape Kafka's transactions keep " +
                            fmt("%.0f", 100 * txn_rate / alo.per_second()) + " % of at-least-once throughput (target 90 %)"});
        const row* w1_50 = nullptr;
        const row* txn_50 = nullptr;
        for (const auto& r : rows) {
            if (r.name == "W1-open-50%") w1_50 = &r;
            if (r.name == "B0-txn-open-50%") txn_50 = &r;
        }
        if (w1_50 && txn_50) {
            auto a = w1_50->hist.percentile(0.99), b = txn_50->hist.percentile(0.99);
            targets.push_back(target(a <= 2 * b, "p99 to the outcome at 50 % load <= 2x B0-txn's: " + std::to_string(a) + " us vs " +
                                                     std::to_string(b) + " us (" + fmt("%.2f", static_cast<double>(a) / std::max<double>(b, 1)) + "x)"));
        }
        if (peer_rate > 0)
            targets.push_back(target(w1_rate >= 2 * peer_rate, "W1 >= 2x Kafka Streams (goal 3x): " + fmt("%.2f", w1_rate / peer_rate) +
                                                                   "x with the projector, " + fmt("%.2f", core_rate / peer_rate) +
                                                                   "x without (the peer projects nothing)"));
        else
            targets.push_back("not measured in this run: the Kafka Streams peer (make bench builds and runs it)");
    } catch (const std::exception& e) {
        check(false, std::string("bench aborted: ") + e.what());
    }
    for (const auto& scratch : {"/follower-", "/wait-", "/wait2-"}) std::filesystem::remove_all(s.out + scratch + stamp);
    write_reports(s, rows, targets, peer_config);
    if (!failures.empty()) {
        std::fprintf(stderr, "daybook-bench: %zu check(s) failed\n", failures.size());
        return 1;
    }
    std::printf("daybook-bench: every check passed (all replies, every accepted entry projected, books balanced, replay = live)\n");
    return 0;
}
