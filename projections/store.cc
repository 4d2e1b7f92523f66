#include "projections/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <cstdio>
#include <cstdlib>

namespace daybook::projections {
namespace {

[[noreturn]] void fail(const char* what, const rocksdb::Status& s) {
    std::fprintf(stderr, "rocksdb %s failed: %s\n", what, s.ToString().c_str());
    std::abort();
}

}  // namespace

result<std::unique_ptr<store>, std::string> store::open(const std::string& path,
                                                        const store_options& o) {
    auto out = std::unique_ptr<store>(new store());
    // Two shards: the write buffer manager's reservations (256 KiB pinned entries) must not fill
    // a small shard, or a strict cache refuses every insert into it.
    out->cache_ = rocksdb::NewLRUCache(o.cache_bytes, /*num_shard_bits=*/1, /*strict_capacity_limit=*/true);
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = out->cache_;
    table.cache_index_and_filter_blocks = true;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    rocksdb::Options options;
    options.create_if_missing = true;
    options.max_open_files = o.max_open_files;
    options.write_buffer_size = o.write_buffer_bytes / 2;
    options.max_write_buffer_number = 2;
    options.write_buffer_manager =
        std::make_shared<rocksdb::WriteBufferManager>(o.write_buffer_bytes, out->cache_);
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    // A bloom filter over the memtables' whole keys: most gets on the hot path look for rows
    // that do not exist yet (a new command id, entry id or statement line), and without it each
    // walks the skiplists key by key (perf: a third of the CPU of `serve` under load).
    options.memtable_whole_key_filtering = true;
    options.memtable_prefix_bloom_size_ratio = 0.05;
    rocksdb::DB* db = nullptr;
    auto s = rocksdb::DB::Open(options, path, &db);
    if (!s.ok()) return "cannot open store " + path + ": " + s.ToString();
    out->db_.reset(db);
    return out;
}

result<std::unique_ptr<store>, std::string> store::open_secondary(const std::string& path,
                                                                  const std::string& scratch) {
    auto out = std::unique_ptr<store>(new store());
    rocksdb::Options options;
    options.max_open_files = -1;  // required for secondaries
    rocksdb::DB* db = nullptr;
    auto s = rocksdb::DB::OpenAsSecondary(options, path, scratch, &db);
    if (!s.ok()) return "cannot open store " + path + " for reading: " + s.ToString();
    out->db_.reset(db);
    return out;
}

store::~store() = default;

namespace {

// The cache's limit is strict: when it is full of memtable reservations and hot blocks, a read is
// done again without caching what it reads, rather than failing or growing the cache.
bool cache_full(const rocksdb::Status& s) { return s.IsMemoryLimit() || s.IsAborted() || s.IsIncomplete(); }

rocksdb::ReadOptions uncached() {
    rocksdb::ReadOptions r;
    r.fill_cache = false;
    return r;
}

}  // namespace

std::optional<std::string> store::get(std::string_view key) const {
    std::string value;
    rocksdb::Slice k(key.data(), key.size());
    auto s = db_->Get(rocksdb::ReadOptions(), k, &value);
    if (cache_full(s)) s = db_->Get(uncached(), k, &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) fail("get", s);
    return value;
}

void store::write(rocksdb::WriteBatch& batch) {
    auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    if (!s.ok()) fail("write", s);
}

void store::scan(std::string_view prefix,
                 const std::function<bool(std::string_view, std::string_view)>& fn,
                 std::string_view from) const {
    std::string start = from.empty() ? std::string(prefix) : std::string(from);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->Seek(start);
    if (!it->Valid() && cache_full(it->status())) {
        it.reset(db_->NewIterator(uncached()));
        it->Seek(start);
    }
    for (; it->Valid(); it->Next()) {
        auto k = it->key();
        if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
        if (!fn(std::string_view(k.data(), k.size()),
                std::string_view(it->value().data(), it->value().size())))
            break;
    }
    if (!it->status().ok()) fail("scan", it->status());
}

void store::erase_prefix(std::string_view prefix) {
    rocksdb::WriteBatch batch;
    std::string end(prefix);
    // The smallest key greater than every key with this prefix.
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (end.empty()) std::abort();  // never erase the whole keyspace by accident
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    auto s = batch.DeleteRange(rocksdb::Slice(prefix.data(), prefix.size()), end);
    if (!s.ok()) fail("delete range", s);
    write(batch);
}

std::optional<std::string> store::adopt_identity(const std::string& identity) {
    auto before = get("meta/identity");
    rocksdb::WriteBatch batch;
    batch.Put("meta/identity", identity);
    write(batch);
    if (before && *before != identity) return before;
    return std::nullopt;
}

void store::catch_up() {
    auto s = db_->TryCatchUpWithPrimary();
    if (!s.ok()) fail("catch up", s);
}

void store::compact() {
    if (auto s = db_->Flush(rocksdb::FlushOptions{}); !s.ok()) fail("flush", s);
    rocksdb::CompactRangeOptions options;
    options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    if (auto s = db_->CompactRange(options, nullptr, nullptr); !s.ok()) fail("compact", s);
}

std::optional<std::string> overlay::get(std::string_view key) const {
    if (auto it = pending_.find(key); it != pending_.end()) return it->second;
    return base_.get(prefix_ + std::string(key));
}

void overlay::put(std::string_view key, std::string_view value) {
    pending_.insert_or_assign(std::string(key), std::string(value));
}

void overlay::erase(std::string_view key) { pending_.insert_or_assign(std::string(key), std::nullopt); }

std::vector<overlay::row> overlay::scan(std::string_view prefix, std::string_view until, std::size_t limit) const {
    // The store's rows in range, then this batch's writes and erasures over them. Enough store rows
    // are read that erasures in the batch cannot leave the answer short.
    std::map<std::string, std::string, std::less<>> rows;
    std::size_t overrides = 0;
    for (auto it = pending_.lower_bound(prefix); it != pending_.end() && it->first.starts_with(prefix); ++it)
        ++overrides;
    std::string full_until = until.empty() ? std::string() : prefix_ + std::string(until);
    base_.scan(prefix_ + std::string(prefix), [&](std::string_view k, std::string_view v) {
        if (!full_until.empty() && k >= full_until) return false;
        rows.emplace(std::string(k.substr(prefix_.size())), std::string(v));
        return rows.size() < limit + overrides;
    });
    for (auto it = pending_.lower_bound(prefix); it != pending_.end() && it->first.starts_with(prefix); ++it) {
        if (!until.empty() && it->first >= until) break;
        if (it->second) rows.insert_or_assign(it->first, *it->second);
        else rows.erase(it->first);
    }
    std::vector<row> out;
    for (auto& [k, v] : rows) {
        if (out.size() >= limit) break;
        out.emplace_back(k, std::move(v));
    }
    return out;
}

void overlay::flush_into(rocksdb::WriteBatch& batch) {
    for (const auto& [k, v] : pending_) {
        auto s = v ? batch.Put(prefix_ + k, *v) : batch.Delete(prefix_ + k);
        if (!s.ok()) fail("batch write", s);
    }
    pending_.clear();
}

std::vector<std::pair<std::string, std::int64_t>> store::sizes() const {
    auto property = [&](const std::string& name) {
        std::uint64_t v = 0;
        db_->GetIntProperty(name, &v);
        return static_cast<std::int64_t>(v);
    };
    return {{"live_data_bytes", property(rocksdb::DB::Properties::kEstimateLiveDataSize)},
            {"sst_files_bytes", property(rocksdb::DB::Properties::kTotalSstFilesSize)},
            {"memtables_bytes", property(rocksdb::DB::Properties::kCurSizeAllMemTables)},
            {"block_cache_usage_bytes", cache_ ? static_cast<std::int64_t>(cache_->GetUsage()) : 0},
            {"block_cache_capacity_bytes", cache_ ? static_cast<std::int64_t>(cache_->GetCapacity()) : 0}};
}

}  // namespace daybook::projections
