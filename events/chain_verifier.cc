#include "events/chain_verifier.h"

#include "events/codec.h"
#include "events/hashing.h"
#include "events/merkle.h"

namespace daybook::events {

chain_verifier::chain_verifier(std::uint32_t partitions) : parts_(partitions) {
    for (auto& p : parts_) p.head = genesis_hash();
}

void chain_verifier::add(std::uint32_t partition, std::string_view record, std::int64_t offset) {
    if (partition >= parts_.size()) return;
    auto& p = parts_[partition];
    std::size_t index = p.records++;
    auto brk = [&](std::uint64_t seq, std::string kind, std::string detail) {
        p.broken = chain_break{partition, seq, offset, index, std::move(kind), std::move(detail)};
    };
    v1::SealedEvent sealed;
    bool decoded = sealed.ParseFromArray(record.data(), static_cast<int>(record.size()));
    if (p.broken) {
        // Only classification is left: does the skipped seq show up later?
        if (p.awaited && decoded && sealed.seq() == *p.awaited) {
            p.broken->kind = "reordered";
            p.broken->detail = "seq " + std::to_string(*p.awaited) + " comes after later records";
            p.awaited.reset();
        }
        return;
    }
    std::uint64_t expected = p.seq + 1;
    if (!decoded || sealed.hash().size() != hash_bytes || sealed.prev_hash().size() != hash_bytes)
        return brk(expected, "altered", "record is not a SealedEvent");
    if (sealed.seq() < expected)
        return brk(expected, "reordered", "seq " + std::to_string(sealed.seq()) + " repeats or goes back");
    if (sealed.seq() > expected) {
        brk(expected, "missing", "seq " + std::to_string(sealed.seq()) + " follows seq " + std::to_string(p.seq));
        p.awaited = expected;
        return;
    }
    if (event_hash(partition, sealed.seq(), sealed.prev_hash(), sealed.body()) != sealed.hash())
        return brk(expected, "altered", "hash does not match the record's contents");
    if (sealed.prev_hash() != p.head) return brk(expected, "altered", "prev_hash is not the previous record's hash");
    p.seq = sealed.seq();
    p.head = sealed.hash();
    p.leaves.push_back(sealed.hash());
}

void chain_verifier::finish() {
    for (auto& p : parts_) p.awaited.reset();
}

void chain_verifier::check_extends(const checkpoint& c) {
    for (const auto& cp : c.partitions) {
        if (cp.partition >= parts_.size()) continue;
        auto& p = parts_[cp.partition];
        if (p.broken) continue;  // already reported where it breaks
        if (p.seq < cp.seq) {
            p.broken = chain_break{cp.partition, cp.seq, -1, p.records, "truncated",
                                   "the log ends at seq " + std::to_string(p.seq) + ", the checkpoint has seq " +
                                       std::to_string(cp.seq)};
        } else if (cp.seq > 0 && (p.leaves[cp.seq - 1] != cp.head || merkle_root(p.leaves, cp.seq) != cp.root)) {
            p.broken = chain_break{cp.partition, cp.seq, -1, cp.seq - 1, "altered",
                                   "does not extend checkpoint: history up to seq " + std::to_string(cp.seq) +
                                       " was rewritten"};
        }
    }
}

std::vector<chain_break> chain_verifier::breaks() const {
    std::vector<chain_break> out;
    for (const auto& p : parts_)
        if (p.broken) out.push_back(*p.broken);
    return out;
}

}  // namespace daybook::events
