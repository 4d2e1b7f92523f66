#pragma once
// latency_histogram: microsecond latencies with bounded relative error (HdrHistogram's idea, in
// 40 lines). Values below 128 us are exact; above, 64 sub-buckets per power of two keep every
// reported percentile within 1.6 % of the true value (it reports the bucket's upper bound).

#include <algorithm>
#include <bit>
#include <cstdint>
#include <vector>

namespace daybook::bench {

class latency_histogram {
public:
    void record(std::int64_t us) {
        auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0));
        auto i = index_of(v);
        if (i >= counts_.size()) counts_.resize(i + 1, 0);
        ++counts_[i];
        ++count_;
        max_ = std::max(max_, v);
    }
    void merge(const latency_histogram& o) {
        if (o.counts_.size() > counts_.size()) counts_.resize(o.counts_.size(), 0);
        for (std::size_t i = 0; i < o.counts_.size(); ++i) counts_[i] += o.counts_[i];
        count_ += o.count_;
        max_ = std::max(max_, o.max_);
    }
    std::uint64_t count() const { return count_; }
    std::uint64_t max() const { return max_; }
    // The smallest bucket bound at or below which a share p (0..1) of the values lie.
    std::uint64_t percentile(double p) const {
        if (count_ == 0) return 0;
        auto rank = static_cast<std::uint64_t>(p * static_cast<double>(count_));
        rank = std::clamp<std::uint64_t>(rank, 1, count_);
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(upper_bound_of(i), max_);
        }
        return max_;
    }

private:
    static constexpr unsigned sub_bits = 6;  // 64 sub-buckets per power of two
    static std::size_t index_of(std::uint64_t v) {
        if (v < 128) return static_cast<std::size_t>(v);
        unsigned e = 63u - static_cast<unsigned>(std::countl_zero(v));  // >= 7
        auto sub = v >> (e - sub_bits);                                  // in [64, 128)
        return 128 + (e - 7) * 64 + static_cast<std::size_t>(sub - 64);
    }
    static std::uint64_t upper_bound_of(std::size_t i) {
        if (i < 128) return i;
        auto e = static_cast<unsigned>((i - 128) / 64 + 7);
        auto sub = (i - 128) % 64 + 64;
        return ((sub + 1) << (e - sub_bits)) - 1;
    }
    std::vector<std::uint64_t> counts_;
    std::uint64_t count_ = 0, max_ = 0;
};

}  // namespace daybook::bench
