#pragma once
// keyed_state: the key-value view through which deciders read and evolve writes aggregate state.
// The processor implements it as an overlay over RocksDB (projections/store.h); tests use
// memory_state. One interface, so tests and production run the same decide/evolve code.
// Not thread-safe: one writer per partition.

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace daybook::events {

// Big-endian fixed-width encodings, so keys sort numerically.
inline std::string be32(std::uint32_t v) {
    std::string out(4, '\0');
    for (int i = 0; i < 4; ++i) out[3 - i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}
inline std::string be64(std::uint64_t v) {
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[7 - i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return out;
}
inline std::uint64_t read_be64(std::string_view b) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8 && i < b.size(); ++i) v = (v << 8) | static_cast<unsigned char>(b[i]);
    return v;
}

// Parses a row Daybook stored itself (a protobuf message M). A row that does not parse is
// corruption or a bug, never input: the process aborts rather than decide on it.
template <typename M>
std::optional<M> parse_row(const std::optional<std::string>& raw) {
    if (!raw) return std::nullopt;
    M m;
    if (!m.ParseFromString(*raw)) std::abort();
    return m;
}

class keyed_state {
public:
    using row = std::pair<std::string, std::string>;
    virtual ~keyed_state() = default;
    virtual std::optional<std::string> get(std::string_view key) const = 0;
    virtual void put(std::string_view key, std::string_view value) = 0;
    virtual void erase(std::string_view key) = 0;
    // Rows whose key starts with `prefix` and is below `until` (when not empty), in key order, at
    // most `limit` of them. Indexes (holds by expiry) are read this way, never whole tables.
    virtual std::vector<row> scan(std::string_view prefix, std::string_view until, std::size_t limit) const = 0;
};

class memory_state final : public keyed_state {
public:
    std::optional<std::string> get(std::string_view key) const override {
        auto it = rows_.find(std::string(key));
        if (it == rows_.end()) return std::nullopt;
        return it->second;
    }
    void put(std::string_view key, std::string_view value) override {
        rows_[std::string(key)] = std::string(value);
    }
    void erase(std::string_view key) override { rows_.erase(std::string(key)); }
    std::vector<row> scan(std::string_view prefix, std::string_view until, std::size_t limit) const override {
        std::vector<row> out;
        for (auto it = rows_.lower_bound(std::string(prefix)); it != rows_.end() && out.size() < limit; ++it) {
            if (!std::string_view(it->first).starts_with(prefix)) break;
            if (!until.empty() && it->first >= until) break;
            out.emplace_back(it->first, it->second);
        }
        return out;
    }
    const std::map<std::string, std::string>& rows() const { return rows_; }

private:
    std::map<std::string, std::string> rows_;
};

// layered_state: writes kept in memory over another keyed_state, which is only read. Used to try
// a linked run: if any command of the run is refused, the layer is dropped and nothing happened.
class layered_state final : public keyed_state {
public:
    explicit layered_state(const keyed_state& base) : base_(base) {}
    std::optional<std::string> get(std::string_view key) const override {
        auto it = pending_.find(std::string(key));
        if (it != pending_.end()) return it->second;
        return base_.get(key);
    }
    void put(std::string_view key, std::string_view value) override {
        pending_[std::string(key)] = std::string(value);
    }
    void erase(std::string_view key) override { pending_[std::string(key)] = std::nullopt; }
    std::vector<row> scan(std::string_view prefix, std::string_view until, std::size_t limit) const override {
        std::size_t overrides = 0;
        for (auto it = pending_.lower_bound(std::string(prefix));
             it != pending_.end() && std::string_view(it->first).starts_with(prefix); ++it)
            ++overrides;
        std::map<std::string, std::string> rows;
        for (auto& r : base_.scan(prefix, until, limit + overrides)) rows.insert(std::move(r));
        for (auto it = pending_.lower_bound(std::string(prefix));
             it != pending_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
            if (!until.empty() && it->first >= until) break;
            if (it->second) rows[it->first] = *it->second;
            else rows.erase(it->first);
        }
        std::vector<row> out;
        for (auto& r : rows) {
            if (out.size() >= limit) break;
            out.push_back(r);
        }
        return out;
    }

    // Writes the layer's changes into `target` (usually the base) and forgets them.
    void flush_into(keyed_state& target) {
        for (const auto& [k, v] : pending_) {
            if (v) target.put(k, *v);
            else target.erase(k);
        }
        pending_.clear();
    }

private:
    const keyed_state& base_;
    std::map<std::string, std::optional<std::string>> pending_;
};

}  // namespace daybook::events
