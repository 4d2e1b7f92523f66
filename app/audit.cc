// `daybook audit`: verify the events log, sign checkpoints, export the log, print and check
// Merkle proofs. docs/audit-format.md specifies every format; tools/audit-check is an independent
// checker written from that document alone.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "aggregates/validation.h"
#include "app/options.h"
#include "projections/exports.h"
#include "consumers/log_reader.h"
#include "events/chain_verifier.h"
#include "events/hashing.h"
#include "events/merkle.h"
#include "projections/ledger_projection.h"
#include "events/log_file.h"

namespace daybook::app {
namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes a file that must not exist yet (checkpoints and keys are never overwritten).
bool write_new_file(const std::string& path, const std::string& data, mode_t mode = 0644) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) return false;
    bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) && ::fsync(fd) == 0;
    ::close(fd);
    return ok;
}

// The whole log through the verifier: from Kafka, or from an exported file (--log).
result<events::chain_verifier, std::string> load_log(const options& o, const audit_args& a) {
    if (!a.log_file.empty()) {
        std::vector<events::log_record> records;
        try {
            records = events::read_log_file(a.log_file);
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        std::uint32_t partitions = 0;
        for (const auto& r : records) partitions = std::max(partitions, r.partition + 1);
        if (a.partitions > 0) partitions = static_cast<std::uint32_t>(a.partitions);
        events::chain_verifier v(partitions);
        for (const auto& r : records) v.add(r.partition, r.value);
        v.finish();
        return v;
    }
    auto client = consumers::make_producer(o.kafka, "");
    if (!client) return client.error();
    auto count = consumers::partition_count(client->get(), o.topics.events(), 30000);
    if (!count) return count.error();
    events::chain_verifier v(static_cast<std::uint32_t>(*count));
    auto read = consumers::read_whole_topic(o.kafka, o.topics.events(),
                                            [&](std::uint32_t p, std::int64_t offset, std::string_view value) {
                                                v.add(p, value, offset);
                                            });
    if (!read) return read.error();
    v.finish();
    return v;
}

void print_breaks(const events::chain_verifier& v) {
    for (const auto& p : v.partitions())
        std::printf("partition %zu seq %llu head %s\n", static_cast<std::size_t>(&p - v.partitions().data()),
                    static_cast<unsigned long long>(p.seq), events::to_hex(p.head).c_str());
    for (const auto& b : v.breaks())
        std::printf("break partition=%u seq=%llu kind=%s offset=%lld index=%zu detail=%s\n", b.partition,
                    static_cast<unsigned long long>(b.seq), b.kind.c_str(), static_cast<long long>(b.offset), b.index,
                    b.detail.c_str());
    std::printf("valid: %s\n", v.valid() ? "true" : "false");
}

result<events::checkpoint, std::string> load_checkpoint(const std::string& path, const std::string& key_path) {
    auto text = read_file(path);
    if (!text) return "cannot read checkpoint " + path;
    auto key = read_file(key_path);
    if (!key) return "cannot read public key " + key_path + " (--public-key)";
    return events::read_checkpoint(*text, *key);
}

int verify(const options& o, const audit_args& a) {
    if (a.log_file.empty()) {
        // The log's configuration is part of its integrity: it must keep everything forever.
        if (auto check = consumers::check_topics(o.kafka, o.topics); !check) {
            std::printf("break kind=configuration detail=%s\nvalid: false\n", check.error().c_str());
            return 1;
        }
    }
    auto v = load_log(o, a);
    if (!v) return std::fprintf(stderr, "daybook audit verify: %s\n", v.error().c_str()), 2;
    if (!a.checkpoint.empty()) {
        auto c = load_checkpoint(a.checkpoint, a.public_key);
        if (!c) {
            std::printf("break kind=bad_signature detail=%s\nvalid: false\n", c.error().c_str());
            return 1;
        }
        v->check_extends(*c);
    }
    print_breaks(*v);
    return v->valid() ? 0 : 1;
}

int make_checkpoint(const options& o, const audit_args& a) {
    auto key = read_file(a.private_key);
    if (!key) return std::fprintf(stderr, "daybook audit checkpoint: cannot read %s\n", a.private_key.c_str()), 2;
    auto v = load_log(o, a);
    if (!v) return std::fprintf(stderr, "daybook audit checkpoint: %s\n", v.error().c_str()), 2;
    if (!v->valid()) {
        print_breaks(*v);
        std::fprintf(stderr, "daybook audit checkpoint: the log does not verify; nothing was signed\n");
        return 1;
    }
    events::checkpoint c;
    c.time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    for (std::size_t p = 0; p < v->partitions().size(); ++p) {
        const auto& pc = v->partitions()[p];
        c.partitions.push_back({static_cast<std::uint32_t>(p), pc.seq, pc.head, events::merkle_root(pc.leaves, pc.seq)});
    }
    auto signed_text = events::sign_checkpoint(c, *key);
    if (!signed_text) return std::fprintf(stderr, "daybook audit checkpoint: %s\n", signed_text.error().c_str()), 2;
    if (!write_new_file(a.out, signed_text->text))
        return std::fprintf(stderr, "daybook audit checkpoint: cannot create %s (it must not exist yet)\n", a.out.c_str()), 2;
    std::printf("%s", signed_text->text.c_str());
    return 0;
}

int keygen(const audit_args& a) {
    auto keys = events::generate_ed25519();
    if (!keys) return std::fprintf(stderr, "daybook audit keygen: %s\n", keys.error().c_str()), 2;
    if (!write_new_file(a.private_key, keys->private_pem, 0600) || !write_new_file(a.public_key, keys->public_pem))
        return std::fprintf(stderr, "daybook audit keygen: cannot create the key files (they must not exist yet)\n"), 2;
    std::printf("private key: %s (keep it outside Kafka)\npublic key: %s (publish it)\n", a.private_key.c_str(),
                a.public_key.c_str());
    return 0;
}

int export_log(const options& o, const audit_args& a) {
    std::ofstream out(a.out, std::ios::binary | std::ios::trunc);
    if (!out) return std::fprintf(stderr, "daybook audit export: cannot write %s\n", a.out.c_str()), 2;
    std::size_t records = 0;
    auto read = consumers::read_whole_topic(o.kafka, o.topics.events(),
                                            [&](std::uint32_t p, std::int64_t, std::string_view value) {
                                                events::write_log_record(out, {p, std::string(value)});
                                                ++records;
                                            });
    if (!read) return std::fprintf(stderr, "daybook audit export: %s\n", read.error().c_str()), 2;
    std::printf("exported %zu records of %d partitions to %s\n", records, *read, a.out.c_str());
    return 0;
}

std::string join_hex(const std::vector<std::string>& path) {
    std::string out;
    for (const auto& h : path) out += " " + events::to_hex(h);
    return out;
}

int prove(const options& o, const audit_args& a) {
    auto colon = a.event.find(':');
    if (colon == std::string::npos) return std::fprintf(stderr, "daybook audit prove: --event is PARTITION:SEQ\n"), 2;
    std::uint32_t p = static_cast<std::uint32_t>(std::stoul(a.event.substr(0, colon)));
    std::uint64_t seq = std::stoull(a.event.substr(colon + 1));
    auto v = load_log(o, a);
    if (!v) return std::fprintf(stderr, "daybook audit prove: %s\n", v.error().c_str()), 2;
    if (p >= v->partitions().size()) return std::fprintf(stderr, "daybook audit prove: no partition %u\n", p), 2;
    const auto& pc = v->partitions()[p];
    std::size_t size = a.tree_size > 0 ? a.tree_size : pc.seq;
    if (seq == 0 || seq > size || size > pc.seq)
        return std::fprintf(stderr, "daybook audit prove: seq %llu is not in a verified tree of size %zu\n",
                            static_cast<unsigned long long>(seq), size), 2;
    std::printf("daybook-inclusion v1\npartition %u\nseq %llu\nleaf %s\ntree_size %zu\nroot %s\npath%s\n", p,
                static_cast<unsigned long long>(seq), events::to_hex(pc.leaves[seq - 1]).c_str(), size,
                events::to_hex(events::merkle_root(pc.leaves, size)).c_str(),
                join_hex(events::inclusion_proof(pc.leaves, seq - 1, size)).c_str());
    return 0;
}

int prove_consistency(const options& o, const audit_args& a) {
    auto old_c = load_checkpoint(a.old_checkpoint, a.public_key);
    if (!old_c) return std::fprintf(stderr, "daybook audit prove-consistency: %s: %s\n", a.old_checkpoint.c_str(), old_c.error().c_str()), 1;
    auto new_c = load_checkpoint(a.new_checkpoint, a.public_key);
    if (!new_c) return std::fprintf(stderr, "daybook audit prove-consistency: %s: %s\n", a.new_checkpoint.c_str(), new_c.error().c_str()), 1;
    auto v = load_log(o, a);
    if (!v) return std::fprintf(stderr, "daybook audit prove-consistency: %s\n", v.error().c_str()), 2;
    for (std::size_t i = 0; i < new_c->partitions.size() && i < old_c->partitions.size() && i < v->partitions().size(); ++i) {
        const auto& leaves = v->partitions()[i].leaves;
        auto m = old_c->partitions[i].seq, n = new_c->partitions[i].seq;
        if (m > n || n > leaves.size())
            return std::fprintf(stderr, "daybook audit prove-consistency: partition %zu: sizes %llu and %llu do not fit the log\n", i,
                                static_cast<unsigned long long>(m), static_cast<unsigned long long>(n)), 1;
        std::printf("%sdaybook-consistency v1\npartition %zu\nold_size %llu\nold_root %s\nnew_size %llu\nnew_root %s\npath%s\n",
                    i == 0 ? "" : "\n", i, static_cast<unsigned long long>(m), events::to_hex(old_c->partitions[i].root).c_str(),
                    static_cast<unsigned long long>(n), events::to_hex(new_c->partitions[i].root).c_str(),
                    join_hex(events::consistency_proof(leaves, m, n)).c_str());
    }
    return 0;
}

// Checks inclusion or consistency blocks offline: no log, no Kafka.
int check_proof(const audit_args& a) {
    auto text = read_file(a.proof);
    if (!text) return std::fprintf(stderr, "daybook audit check-proof: cannot read %s\n", a.proof.c_str()), 2;
    std::istringstream in(*text);
    std::map<std::string, std::string> fields;
    std::string kind, line;
    int checked = 0, failed = 0;
    auto hexes = [](const std::string& s) {
        std::vector<std::string> out;
        std::istringstream w(s);
        std::string h;
        while (w >> h) out.push_back(events::from_hex(h));
        return out;
    };
    auto settle = [&] {
        if (kind.empty()) return;
        bool ok = false;
        try {
            if (kind == "daybook-inclusion v1")
                ok = events::verify_inclusion(events::from_hex(fields["leaf"]), std::stoull(fields["seq"]) - 1,
                                              std::stoull(fields["tree_size"]), hexes(fields["path"]),
                                              events::from_hex(fields["root"]));
            else if (kind == "daybook-consistency v1")
                ok = events::verify_consistency(std::stoull(fields["old_size"]), std::stoull(fields["new_size"]),
                                                events::from_hex(fields["old_root"]), events::from_hex(fields["new_root"]),
                                                hexes(fields["path"]));
        } catch (...) {
            ok = false;
        }
        std::printf("%s partition %s: %s\n", kind.c_str(), fields["partition"].c_str(), ok ? "valid" : "INVALID");
        ++checked;
        failed += !ok;
        kind.clear();
        fields.clear();
    };
    while (std::getline(in, line)) {
        if (line.empty()) {
            settle();
        } else if (line.starts_with("daybook-")) {
            settle();
            kind = line;
        } else {
            auto space = line.find(' ');
            fields[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
        }
    }
    settle();
    std::printf("valid: %s\n", checked > 0 && failed == 0 ? "true" : "false");
    return checked > 0 && failed == 0 ? 0 : 1;
}

// Rebuilds every projection from offset 0 into a fresh store (optionally only up to given seqs per
// partition, or as known at a time) and prints the state digest: equal logs give equal digests
// (DESIGN.md rule 6).
int replay(const options& o, const audit_args& a) {
    namespace fs = std::filesystem;
    if (fs::exists(a.state_dir) && !fs::is_empty(a.state_dir))
        return std::fprintf(stderr, "daybook replay: %s is not empty; replay needs a fresh directory\n", a.state_dir.c_str()), 2;
    std::map<std::uint32_t, std::uint64_t> to;
    if (!a.to_seqs.empty()) {
        auto parsed = events::parse_token(a.to_seqs);
        if (!parsed) return std::fprintf(stderr, "daybook replay: --to is P:SEQ[,P:SEQ...]\n"), 2;
        for (const auto& [p, seq] : *parsed) to[p] = seq;
    }
    std::optional<std::int64_t> known_at;
    if (!a.known_at.empty() && !(known_at = aggregates::parse_instant(a.known_at)))
        return std::fprintf(stderr, "daybook replay: --known-at is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm]Z or epoch ms\n"), 2;
    std::error_code made;
    fs::create_directories(a.state_dir, made);
    auto store = projections::store::open(a.state_dir, o.store);
    if (!store) return std::fprintf(stderr, "daybook replay: %s\n", store.error().c_str()), 2;
    auto applied = replay_into(o, a.log_file, **store, to, known_at);
    if (!applied) return std::fprintf(stderr, "daybook replay: %s\n", applied.error().c_str()), 1;
    std::printf("replayed %zu events into %s\nstate digest %s (%s)\n", *applied, a.state_dir.c_str(),
                projections::state_digest(**store).c_str(), o.processor.software_version.c_str());
    return 0;
}

// Every sealed period in the log, checked: the log replayed to the seal's chain heads gives a
// trial balance (as of the sealed date, CSV) with the SHA-256 the seal recorded.
int seals(const options& o, const audit_args& a) {
    namespace fs = std::filesystem;
    std::vector<v1::PeriodSealed> found;
    auto collect = [&](std::uint32_t p, std::string_view value) {
        auto rec = events::read_sealed(p, value);
        if (rec && rec->envelope.has_period_sealed() && (a.book.empty() || rec->envelope.period_sealed().book_id() == a.book))
            found.push_back(rec->envelope.period_sealed());
    };
    if (!a.log_file.empty()) {
        for (const auto& r : events::read_log_file(a.log_file)) collect(r.partition, r.value);
    } else if (auto read = consumers::read_whole_topic(o.kafka, o.topics.events(),
                                                       [&](std::uint32_t p, std::int64_t, std::string_view v) { collect(p, v); });
               !read) {
        return std::fprintf(stderr, "daybook audit seals: %s\n", read.error().c_str()), 2;
    }
    int failed = 0;
    for (const auto& s : found) {
        std::map<std::uint32_t, std::uint64_t> to;
        std::string heads = s.chain_heads(), seqs;
        for (std::size_t at = 0; at < heads.size();) {
            auto end = std::min(heads.find(',', at), heads.size());
            auto item = heads.substr(at, end - at);
            auto c2 = item.rfind(':');
            seqs += (seqs.empty() ? "" : ",") + item.substr(0, c2);
            at = end + 1;
        }
        auto parsed = events::parse_token(seqs);
        if (!parsed) return std::fprintf(stderr, "daybook audit seals: unreadable chain heads %s\n", heads.c_str()), 2;
        for (const auto& [p, seq] : *parsed) to[p] = seq;
        auto dir = fs::temp_directory_path() / ("daybook-seal-" + std::to_string(::getpid()) + "-" + std::to_string(failed) +
                                                "-" + s.book_id() + "-" + s.through_date());
        fs::remove_all(dir);
        std::string got, heads_got;
        {
            auto store = projections::store::open(dir.string(), o.store);
            if (!store) return std::fprintf(stderr, "daybook audit seals: %s\n", store.error().c_str()), 2;
            auto applied = replay_into(o, a.log_file, **store, to, std::nullopt);
            if (!applied) {
                got = applied.error();
            } else {
                projections::export_request tb{"trial-balance", s.book_id(), "", s.through_date(), "csv", "", {}};
                auto exported = projections::export_report(**store, tb);
                events::sha256_hasher h;
                h.add(exported ? exported->data : std::string());
                got = events::to_hex(h.finish());
                (*store)->scan("pos/", [&](std::string_view k, std::string_view v) {
                    v1::PartitionPosition pos;
                    pos.ParseFromArray(v.data(), static_cast<int>(v.size()));
                    auto part = events::read_be64(std::string(4, '\0') + std::string(k.substr(4)));
                    heads_got += (heads_got.empty() ? "" : ",") + std::to_string(part) + ":" + std::to_string(pos.seq()) + ":" +
                                 events::to_hex(pos.head());
                    return true;
                });
            }
        }
        fs::remove_all(dir);
        bool ok = got == s.trial_balance_sha256() && heads_got == heads;
        failed += !ok;
        std::printf("%-4s book %s sealed through %s by %s: trial balance sha256 %s%s%s\n", ok ? "ok" : "FAIL",
                    s.book_id().c_str(), s.through_date().c_str(), s.sealed_by().c_str(), s.trial_balance_sha256().c_str(),
                    ok ? "" : ", the replay to its chain heads gives ", ok ? "" : (got + (heads_got == heads ? "" : " (heads differ)")).c_str());
    }
    std::printf("%zu sealed periods, %d failed\n", found.size(), failed);
    return failed == 0 ? 0 : 1;
}

// Every record a command, a correlation, an actor or an aggregate left, in log order, with who,
// when, from where and why (rejections included).
int trail(const options& o, const audit_args& a) {
    std::size_t shown = 0;
    auto show = [&](std::uint32_t p, std::string_view value) {
        auto rec = events::read_sealed(p, value);
        if (!rec) return;
        const auto& e = rec->envelope;
        bool match = (!a.command_id.empty() && (e.command_id() == a.command_id || e.linked_run_id() == a.command_id)) ||
                     (!a.correlation_id.empty() && e.correlation_id() == a.correlation_id) ||
                     (!a.actor.empty() && e.actor() == a.actor) || (!a.stream.empty() && e.stream_id() == a.stream);
        if (!match) return;
        ++shown;
        std::string what = e.has_command_rejected() ? "rejected " + e.command_rejected().code_name() + ": " + e.command_rejected().detail()
                                                    : events::event_type(e);
        std::printf("%u:%llu %s command=%s actor=%s source=%s recorded_at_ms=%lld effective=%s stream=%s v%llu correlation=%s causation=%s %s\n",
                    p, static_cast<unsigned long long>(rec->sealed.seq()), events::to_hex(rec->sealed.hash()).substr(0, 12).c_str(),
                    e.command_id().c_str(), e.actor().c_str(), e.source().c_str(), static_cast<long long>(e.recorded_at_ms()),
                    e.effective_date().c_str(), e.stream_id().c_str(), static_cast<unsigned long long>(e.version()),
                    e.correlation_id().c_str(), e.causation_event_id().c_str(), what.c_str());
    };
    if (!a.log_file.empty()) {
        for (const auto& r : events::read_log_file(a.log_file)) show(r.partition, r.value);
    } else {
        auto read = consumers::read_whole_topic(o.kafka, o.topics.events(),
                                                [&](std::uint32_t p, std::int64_t, std::string_view value) { show(p, value); });
        if (!read) return std::fprintf(stderr, "daybook audit trail: %s\n", read.error().c_str()), 2;
    }
    std::printf("%zu records\n", shown);
    return shown > 0 ? 0 : 1;
}

}  // namespace

// Rebuilds every projection from offset 0 into `store`: each partition up to its sequence in `to`
// when given (a partition missing from `to` contributes nothing), and only events recorded at or
// before known_at_ms when given (recorded_at never decreases within a partition: a prefix).
// Returns the number of events applied.
result<std::size_t, std::string> replay_into(const options& o, const std::string& log_file, projections::store& store,
                                             const std::map<std::uint32_t, std::uint64_t>& to,
                                             std::optional<std::int64_t> known_at_ms) {
    projections::overlay rows(store, "");
    events::chain_verifier v(1024);
    std::set<std::uint32_t> done;  // partitions past known_at
    std::size_t applied = 0, batch = 0;
    std::string problem;
    auto apply = [&](std::uint32_t p, std::string_view value) {
        if (!problem.empty() || done.count(p)) return;
        if (auto it = to.find(p); !to.empty() && (it == to.end() || v.partitions()[p].seq >= it->second)) return;
        v.add(p, value);
        if (!v.valid()) {
            problem = "the log does not verify at partition " + std::to_string(p);
            return;
        }
        auto rec = events::read_sealed(p, value);
        if (known_at_ms && rec->envelope.recorded_at_ms() > *known_at_ms) {
            done.insert(p);
            return;
        }
        projections::apply_event(rows, rec->envelope, p, rec->sealed.seq());
        v1::PartitionPosition pos;
        pos.set_seq(rec->sealed.seq());
        pos.set_head(rec->sealed.hash());
        rows.put(projections::position_key(p), pos.SerializeAsString());
        ++applied;
        if (++batch == 10000) {
            rocksdb::WriteBatch wb;
            rows.flush_into(wb);
            store.write(wb);
            batch = 0;
        }
    };
    if (!log_file.empty()) {
        for (const auto& r : events::read_log_file(log_file)) apply(r.partition, r.value);
    } else {
        auto read = consumers::read_whole_topic(o.kafka, o.topics.events(),
                                                [&](std::uint32_t p, std::int64_t, std::string_view value) { apply(p, value); });
        if (!read) return read.error();
    }
    if (!problem.empty()) return problem;
    for (const auto& [p, seq] : to)
        if (seq > 0 && (p >= v.partitions().size() || v.partitions()[p].seq < seq))
            return "the log of partition " + std::to_string(p) + " ends before seq " + std::to_string(seq);
    rocksdb::WriteBatch wb;
    rows.flush_into(wb);
    store.write(wb);
    return applied;
}

int run_audit(const options& o, const audit_args& a) {
    if (a.what == "replay") return replay(o, a);
    if (a.what == "seals") return seals(o, a);
    if (a.what == "trail") return trail(o, a);
    if (a.what == "verify") return verify(o, a);
    if (a.what == "checkpoint") return make_checkpoint(o, a);
    if (a.what == "keygen") return keygen(a);
    if (a.what == "export") return export_log(o, a);
    if (a.what == "prove") return prove(o, a);
    if (a.what == "prove-consistency") return prove_consistency(o, a);
    if (a.what == "check-proof") return check_proof(a);
    return 2;
}

}  // namespace daybook::app
