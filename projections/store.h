#pragma once
// store: one RocksDB database of a process role, opened with a strict memory budget, and
// overlay: the per-batch view of touched keys over it.
//
// Memory (DESIGN.md rule 9): one block cache with a strict capacity per store, the write buffers
// charged to it through a WriteBufferManager, index and filter blocks in the cache, and a bounded
// number of open files. Budget per store = block_cache_bytes (write buffers included).
//
// A store is used by one thread at a time. Several processes may read it as secondaries.

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/keyed_state.h"
#include "events/result.h"

namespace daybook::projections {

struct store_options {
    // Block cache capacity, strict; write buffers are charged to it. Default: 64 MiB. Lower
    // means more reads from disk; it bounds the store's memory.
    std::size_t cache_bytes = 64u << 20;
    // Share of the cache the memtables may use. Default: 16 MiB.
    std::size_t write_buffer_bytes = 16u << 20;
    // Open SST files kept; bounds file descriptors. Default: 256.
    int max_open_files = 256;
};

class store {
public:
    // Opens (creating when missing) a store for reading and writing.
    static result<std::unique_ptr<store>, std::string> open(const std::string& path,
                                                            const store_options& options);
    // Opens another process's store read-only, following its writes with catch_up().
    static result<std::unique_ptr<store>, std::string> open_secondary(const std::string& path,
                                                                      const std::string& scratch);
    ~store();

    std::optional<std::string> get(std::string_view key) const;
    // Writes a batch atomically; aborts on I/O error (the store can no longer be trusted).
    void write(rocksdb::WriteBatch& batch);
    // Calls fn for each key starting with prefix, in key order, from `from` (inclusive) when
    // given; stops when fn returns false.
    void scan(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& fn,
              std::string_view from = {}) const;
    // Deletes every key starting with prefix, atomically.
    void erase_prefix(std::string_view prefix);
    // Records the log this store is built from. Returns the identity it had before when that was
    // another log: the caller must then rebuild (the store's rows belong to another history).
    std::optional<std::string> adopt_identity(const std::string& identity);
    // For secondaries: reads what the primary has written since.
    void catch_up();
    // Compacts the whole key range (tests: the state must not depend on the files' layout).
    void compact();
    // Sizes for monitoring (bytes): live data estimate, SST files, memtables, block cache usage
    // and capacity, as (metric name, value).
    std::vector<std::pair<std::string, std::int64_t>> sizes() const;

private:
    store() = default;
    std::unique_ptr<rocksdb::DB> db_;
    std::shared_ptr<rocksdb::Cache> cache_;
};

// overlay: reads through to the store under `prefix`, keeps writes in memory until flushed into
// one WriteBatch. Dropping an overlay (clear) forgets a batch that was not committed.
class overlay final : public events::keyed_state {
public:
    overlay(const store& base, std::string prefix) : base_(base), prefix_(std::move(prefix)) {}
    std::optional<std::string> get(std::string_view key) const override;
    void put(std::string_view key, std::string_view value) override;
    void erase(std::string_view key) override;
    std::vector<row> scan(std::string_view prefix, std::string_view until, std::size_t limit) const override;
    // Adds every pending write to batch, then forgets them.
    void flush_into(rocksdb::WriteBatch& batch);
    void clear() { pending_.clear(); }
    bool empty() const { return pending_.empty(); }

private:
    const store& base_;
    std::string prefix_;
    std::map<std::string, std::optional<std::string>, std::less<>> pending_;  // nullopt: erased
};

using events::be32;
using events::be64;
using events::read_be64;

}  // namespace daybook::projections
