// Golden logs (tests/golden): sealed records written by an earlier build are replayed by this
// build. The chain must verify, every record must be understood, and the projections must reach
// the recorded state digest. A change that breaks this breaks auditors' old logs.
// The digest also depends on the projection layout: a change of the rows (which bumps
// projection-rows-vN in consumers/projector.cc, so stores are rebuilt) records a new digest here;
// the log itself never changes.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

#include "consumers/command_state.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/murmur2.h"
#include "projections/exports.h"
#include "projections/ledger_projection.h"
#include "projections/store.h"
#include "events/log_file.h"
#include "tests/test_support.h"

using namespace daybook;

namespace {

struct expected_state {
    std::size_t records = 0;
    std::map<std::uint32_t, std::pair<std::uint64_t, std::string>> heads;  // partition -> seq, hex
    std::string digest;
};

expected_state read_expected(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    expected_state e;
    std::string word;
    while (in >> word) {
        if (word == "records") in >> e.records;
        else if (word == "digest") in >> e.digest;
        else if (word == "head") {
            std::uint32_t p;
            std::uint64_t seq;
            std::string hex;
            in >> p >> seq >> hex;
            e.heads[p] = {seq, hex};
        }
    }
    return e;
}

}  // namespace

TEST_CASE("golden log ledger-v1 replays to its recorded state digest", "[golden]") {
    const std::string dir = DAYBOOK_GOLDEN_DIR;
    auto records = events::read_log_file(dir + "/ledger-v1.log");
    auto expected = read_expected(dir + "/ledger-v1.expected");
    REQUIRE(records.size() == expected.records);
    REQUIRE(records.size() >= 200);

    test::temp_dir dir_guard;  // removed however the test ends
    {
        auto store = projections::store::open(dir_guard.path() + "/store", {});
        REQUIRE(store);
        projections::overlay rows(**store, "");
        std::map<std::uint32_t, events::memory_state> processor_state;
        std::map<std::uint32_t, std::pair<std::uint64_t, std::string>> heads;
        std::size_t rejected = 0;
        for (const auto& r : records) {
            auto rec = events::read_sealed(r.partition, r.value);
            REQUIRE(rec);
            auto& [seq, head] = heads[r.partition];
            if (seq == 0) head = events::genesis_hash();
            REQUIRE(rec->sealed.seq() == seq + 1);
            REQUIRE(rec->sealed.prev_hash() == head);
            seq = rec->sealed.seq();
            head = rec->sealed.hash();
            REQUIRE(projections::apply_event(rows, rec->envelope, r.partition, seq));
            consumers::apply_record(processor_state[r.partition], r.partition, seq, rec->envelope);
            rejected += rec->envelope.has_command_rejected();
        }
        rocksdb::WriteBatch batch;
        rows.flush_into(batch);
        (*store)->write(batch);
        for (const auto& [p, h] : expected.heads) {
            CHECK(heads[p].first == h.first);
            CHECK(events::to_hex(heads[p].second) == h.second);
        }
        CHECK(rejected == 10);
        CHECK(projections::state_digest(**store) == expected.digest);
        // Reports from the replayed rows: the accounting identity holds in every book and currency.
        for (const auto* book : {"northwind", "globex", "initech", "stark"}) {
            auto sheets = projections::balance_sheet(**store, book, "");
            REQUIRE_FALSE(sheets.empty());
            for (const auto& t : sheets) CHECK(t.balanced);
            auto halfway = projections::balance_sheet(**store, book, "2026-11-15");
            for (const auto& t : halfway) CHECK(t.balanced);
        }
        auto november = projections::income_statement(**store, "northwind", "2026-11-01", "2026-11-30");
        REQUIRE(november.size() == 1);
        CHECK(november[0].revenue > 0);
        // The processor's state rebuilt from the log knows every decided command.
        auto any = consumers::find_command(processor_state[events::partition_for("northwind", 3)], "northwind",
                                           "nw-je-9001");
        REQUIRE(any);
        CHECK(any->outcome().code_name() == "entry_unbalanced");
    }
}

TEST_CASE("exports of the golden state: journal and JET tie to the trial balance, certificates regenerate",
          "[golden][exports]") {
    const std::string dir = DAYBOOK_GOLDEN_DIR;
    test::temp_dir dir_guard;
    auto store = projections::store::open(dir_guard.path() + "/store", {});
    REQUIRE(store);
    {
        projections::overlay rows(**store, "");
        std::map<std::uint32_t, std::uint64_t> seqs;
        for (const auto& r : events::read_log_file(dir + "/ledger-v1.log")) {
            auto rec = events::read_sealed(r.partition, r.value);
            REQUIRE(rec);
            projections::apply_event(rows, rec->envelope, r.partition, ++seqs[r.partition]);
        }
        rocksdb::WriteBatch batch;
        rows.flush_into(batch);
        (*store)->write(batch);
    }
    auto run = [&](std::string report, std::string format = "csv", std::string account = "", std::string as_of = "") {
        auto e = projections::export_report(**store, {report, "northwind", account, as_of, format, "daybook test", {}});
        REQUIRE(e);
        return *e;
    };
    const auto digest = projections::state_digest(**store);
    for (const char* report : {"journal", "jet"}) {
        INFO(report);
        auto e = run(report);
        CHECK(e.certificate.find("\"ties_to_trial_balance\":true") != std::string::npos);
        CHECK(e.certificate.find("\"state_digest\":\"" + digest + "\"") != std::string::npos);
        events::sha256_hasher h;
        h.add(e.data);
        CHECK(e.certificate.find("\"sha256\":\"" + events::to_hex(h.finish()) + "\"") != std::string::npos);
        // The same state gives the same bytes (no clock in an export): it can be regenerated.
        CHECK(run(report).data == e.data);
        CHECK(run(report).certificate == e.certificate);
    }
    auto jet = run("jet");
    CHECK(jet.data.starts_with("entry_id,effective_date,period,recorded_at,created_by,approved_by,entry_kind,source,"));
    CHECK(jet.data.find(",manual,client,") != std::string::npos);
    // Rows: one per entry and currency; northwind has one currency, so one per posted entry.
    std::size_t entries = 0;
    (*store)->scan(std::string("entry/northwind") + '\0', [&](std::string_view, std::string_view) { return ++entries, true; });
    CHECK(jet.certificate.find("\"rows\":" + std::to_string(entries) + ",") != std::string::npos);

    auto tb = run("trial-balance", "jsonl");
    CHECK(tb.data.find("{\"account_id\":\"1100\",\"name\":\"Bank\"") != std::string::npos);
    auto early = run("journal", "csv", "", "2026-11-05");
    CHECK(early.data.size() < run("journal").data.size());
    // A date cut ties to the trial balance as of the same date, not to today's.
    CHECK(early.certificate.find("\"ties_to_trial_balance\":true") != std::string::npos);
    auto early_tb = run("trial-balance", "csv", "", "2026-11-05");
    CHECK(early_tb.certificate.find("\"as_of\":\"2026-11-05\"") != std::string::npos);
    CHECK(early_tb.data != tb.data);
    auto statement = run("statement", "csv", "1100");
    CHECK(statement.data.starts_with("line,entry_id,effective_date,memo,side,amount_minor,balance_minor,partition,seq\r\n"));
    CHECK(!projections::export_report(**store, {"statement", "northwind", "nope", "", "csv", "", {}}));
    CHECK(!projections::export_report(**store, {"journal", "northwind", "", "", "xml", "", {}}));
}
