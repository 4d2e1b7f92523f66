#pragma once
// Shared helpers of the unit tests: builders for ledger commands and events, the given/when
// harness of the ledger decider, envelope builders and a temporary directory that removes itself.
// Test-only; nothing here is linked into the product.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "aggregates/ledger.h"
#include "daybook.pb.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/keyed_state.h"
#include "events/ledger_codec.h"
#include "events/ledger_types.h"
#include "events/rejection.h"
#include "events/result.h"

// Failure messages show a rejection code by name and number, not as a bare integer.
namespace Catch {
template <>
struct StringMaker<daybook::rejection_code> {
    static std::string convert(daybook::rejection_code code) {
        return std::string(daybook::name_of(code)) + "(" +
               std::to_string(static_cast<unsigned>(code)) + ")";
    }
};
}  // namespace Catch

// A decision is a rejection with this code and field path, and a sentence for a human.
#define REQUIRE_REJECTED(decision, expected_code, expected_field)              \
    do {                                                                       \
        const auto& rejected_decision_ = (decision);                           \
        REQUIRE_FALSE(rejected_decision_.has_value());                         \
        CHECK(rejected_decision_.error().code == (expected_code));             \
        CHECK(rejected_decision_.error().field == std::string(expected_field)); \
        CHECK_FALSE(rejected_decision_.error().detail.empty());                \
    } while (false)

namespace daybook::test {

using aggregates::ledger;
using events::account_id;
using events::account_opened;
using events::account_type;
using events::book_id;
using events::entry_id;
using events::entry_posted;
using events::leg;
using events::money;
using events::open_account;
using events::post_entry;
using events::side;

inline const std::string book = "acme";

// ---- Ledger commands and events ---------------------------------------------------------------

inline open_account open_acct(std::string account, std::string currency = "USD",
                         account_type type = account_type::asset, std::uint32_t scale = 2) {
    return open_account{book_id{book}, account_id{std::move(account)}, "Account", type,
                        std::move(currency), scale, {}, {}};
}

inline account_opened opened_from(const open_account& c) {
    return account_opened{c.book, c.account, c.name, c.type, c.currency, c.scale, c.parent, c.limits};
}

inline account_opened opened(std::string account, std::string currency = "USD",
                             account_type type = account_type::asset) {
    return opened_from(open_acct(std::move(account), std::move(currency), type));
}

inline leg debit(std::string account, std::int64_t amount, std::string currency = "USD") {
    return leg{account_id{std::move(account)}, side::debit, money{amount, std::move(currency)}};
}

inline leg credit(std::string account, std::int64_t amount, std::string currency = "USD") {
    return leg{account_id{std::move(account)}, side::credit, money{amount, std::move(currency)}};
}

inline post_entry post(std::string entry, std::vector<leg> legs,
                       std::string effective_date = "2024-03-01", std::string memo = "") {
    return post_entry{book_id{book}, entry_id{std::move(entry)}, std::move(effective_date),
                      std::move(memo), std::move(legs)};
}

inline entry_posted posted_from(const post_entry& c) {
    return entry_posted{c.book, c.entry, c.effective_date, c.memo, c.legs, {}};
}

inline entry_posted posted(std::string entry, std::vector<leg> legs) {
    return posted_from(post(std::move(entry), std::move(legs)));
}

// ---- The decider harness ----------------------------------------------------------------------

// The state a history of events leaves, evolved exactly as the processor evolves it.
inline events::memory_state given(const std::vector<ledger::event>& history) {
    events::memory_state state;
    for (const auto& e : history) ledger::evolve(state, e);
    return state;
}

// The processing clock and actor of decider tests: 2024-03-01T12:00:00Z, "alice".
inline constexpr std::int64_t test_now_ms = 1'709'294'400'000;
inline aggregates::decide_context test_ctx(std::int64_t now_ms = test_now_ms, std::string actor = "alice") {
    return aggregates::decide_context{now_ms, std::move(actor)};
}

// Decides command against the state that history leaves.
inline result<std::vector<ledger::event>> when(const std::vector<ledger::event>& history,
                                               const ledger::command& command,
                                               const aggregates::decide_context& ctx = test_ctx()) {
    events::memory_state state = given(history);
    return ledger::decide(command, state, ctx);
}

// ---- Envelopes --------------------------------------------------------------------------------

inline v1::CommandEnvelope command_envelope(const events::ledger_command& command,
                                            std::string command_id = "cmd-1") {
    v1::CommandEnvelope env;
    env.set_command_id(std::move(command_id));
    events::set_payload(env, command);
    return env;
}

// An event envelope as the processor seals it: stream, version, command and payload.
inline v1::EventEnvelope event_envelope(const events::ledger_event& event, std::uint64_t version,
                                        std::string command_id = "cmd",
                                        std::int64_t recorded_at_ms = 1'700'000'000'000) {
    v1::EventEnvelope env;
    const auto& b = std::visit([](const auto& e) -> const book_id& { return e.book; }, event);
    env.set_stream_id(aggregates::stream_of(b));
    env.set_version(version);
    env.set_schema_version(1);
    env.set_command_id(std::move(command_id));
    env.set_routing_key(b.value);
    env.set_recorded_at_ms(recorded_at_ms);
    env.set_actor("tester");
    env.set_events_in_command(1);
    events::set_payload(env, event);
    return env;
}

// ---- Temporary directories --------------------------------------------------------------------

// A fresh directory under the system temp directory, removed with everything in it at scope end.
class temp_dir {
public:
    temp_dir() {
        // Unique across concurrent test processes (random) and within one (counter).
        static std::atomic<unsigned> counter{0};
        auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = std::filesystem::temp_directory_path() /
                ("daybook-unit-" + std::to_string(std::random_device{}()) + "-" +
                 std::to_string(stamp) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    std::string path() const { return path_.string(); }
    std::string sub(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// ---- Sealed logs ------------------------------------------------------------------------------

struct sealed_event {
    std::uint32_t partition;
    std::string record;  // the sealed record as it sits in daybook.events
    std::string body;    // the envelope inside it
};

// A log of n small events spread round-robin over `partitions`, sealed as the processor seals them
// (for tamper tests).
inline std::vector<sealed_event> sealed_log(std::size_t n, std::uint32_t partitions) {
    std::vector<sealed_event> out;
    std::vector<std::uint64_t> seq(partitions, 0);
    std::vector<std::string> head(partitions, events::genesis_hash());
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t p = static_cast<std::uint32_t>(i % partitions);
        v1::EventEnvelope env;
        env.set_stream_id("book/b" + std::to_string(p));
        env.set_version(seq[p] + 1);
        env.set_command_id("c" + std::to_string(i));
        env.mutable_entry_posted()->set_entry_id("e" + std::to_string(i));
        auto body = events::serialize(env);
        auto sealed = events::seal(p, ++seq[p], head[p], body);
        head[p] = sealed.hash;
        out.push_back({p, sealed.value, body});
    }
    return out;
}

}  // namespace daybook::test
