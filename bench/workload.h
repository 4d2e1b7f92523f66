#pragma once
// The ledger workloads' commands, generated on demand from (shape, seed, index) so a run of
// millions of commands never holds them in memory and every run with the same seed is the same.
//
// Accounts are numbered globally 0..accounts-1; global account g lives in book g % books as
// account "a<g / books>", so the hottest accounts of a skewed choice spread over the books (and
// one hot account means one book). An entry debits the chosen account and credits accounts
// chosen uniformly in the same book: two legs, or four (two debits, two credits) every
// `multi_leg_every`-th entry. Every fourth account has a balance limit (debits may not exceed
// credits by more than `limit_minor`), so skewed runs also exercise rejections.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "daybook.pb.h"

namespace daybook::bench {

enum class choice { uniform, zipf, hot };

struct ledger_shape {
    int books = 6;
    std::int64_t accounts = 10000;
    choice chooser = choice::uniform;
    double zipf_theta = 0.99;
    int hot_accounts = 1;     // choice::hot: accounts 0..hot_accounts-1
    double hot_share = 1.0;   // choice::hot: share of debits on the hot accounts
    int multi_leg_every = 10;
    std::int64_t limit_minor = 1'000'000;
    std::string describe() const;
};

// Draws account numbers in [0, n) with P(rank k) proportional to 1/(k+1)^theta (Gray et al.,
// "Quickly generating billion-record synthetic databases", as YCSB does).
class zipf_chooser {
public:
    zipf_chooser(std::int64_t n, double theta);
    std::int64_t next(std::mt19937_64& rng) const;

private:
    std::int64_t n_;
    double theta_, zetan_, alpha_, eta_, half_pow_theta_;
};

class ledger_workload {
public:
    explicit ledger_workload(ledger_shape shape);
    const ledger_shape& shape() const { return shape_; }
    std::string book_of(std::int64_t account) const;
    // Opens global account `account` (command id "<tag>-<account>").
    v1::CommandEnvelope open_account(const std::string& tag, std::int64_t account) const;
    // The i-th entry of a stream: command id "<tag>-<i>", entry id "<tag>-<i>" (deterministic
    // in (seed, i), independent of the other entries).
    v1::CommandEnvelope entry(const std::string& tag, std::uint64_t seed, std::uint64_t i, int force_book = -1) const;
    // The i-th batch: a linked run (TigerBeetle's batch: all or nothing, up to 8,189 commands) of
    // `size` entries in book i % books; the run's command id is "<tag>-<i>", its entries'
    // "<tag>r<i>.<k>" (so a driver waiting for "<tag>-" ids waits for the runs only).
    v1::CommandEnvelope batch(const std::string& tag, std::uint64_t seed, std::uint64_t i, int size) const;

private:
    std::int64_t debit_account(std::mt19937_64& rng) const;
    ledger_shape shape_;
    zipf_chooser zipf_;
};

// The index a stream's command id "<tag>-<i>" carries, or -1.
std::int64_t index_of_id(std::string_view id);

}  // namespace daybook::bench
