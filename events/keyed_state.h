#pragma once
// keyed_state: the key-value view through which deciders read and evolve writes aggregate state.
// The processor implements it as an overlay over RocksDB (projections/store.h); tests use
// memory_state. One interface, so tests and production run the same decide/evolve code.
// Not thread-safe: one writer per partition.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace daybook::events {

class keyed_state {
public:
    virtual ~keyed_state() = default;
    virtual std::optional<std::string> get(std::string_view key) const = 0;
    virtual void put(std::string_view key, std::string_view value) = 0;
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
    const std::map<std::string, std::string>& rows() const { return rows_; }

private:
    std::map<std::string, std::string> rows_;
};

}  // namespace daybook::events
