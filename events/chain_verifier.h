#pragma once
// chain_verifier: checks an events log record by record, per partition, as docs/audit-format.md
// §1 specifies, classifies the first break of each partition (altered, missing, reordered,
// truncated), and keeps each partition's leaves for Merkle roots and proofs (§2). Fed in log order
// from Kafka (`daybook audit verify`) or from an exported file (tests, auditors).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/checkpoint.h"

namespace daybook::events {

struct chain_break {
    std::uint32_t partition = 0;
    std::uint64_t seq = 0;      // the seq expected (or the checkpoint's) where the chain breaks
    std::int64_t offset = -1;   // Kafka offset of the offending record, when known
    std::size_t index = 0;      // 0-based position of the offending record in the partition
    std::string kind;           // altered, missing, reordered, truncated
    std::string detail;
};

struct partition_chain {
    std::uint64_t seq = 0;                // last good seq
    std::string head;                     // its hash (32 zero bytes when empty)
    std::vector<std::string> leaves;      // hashes of the good records, in seq order
    std::size_t records = 0;              // records seen, good or not
    std::optional<chain_break> broken;
    std::optional<std::uint64_t> awaited; // a skipped seq: reordered if it shows up, else missing
};

class chain_verifier {
public:
    explicit chain_verifier(std::uint32_t partitions);
    void add(std::uint32_t partition, std::string_view record, std::int64_t offset = -1);
    // Settles pending classifications; call once after the last record.
    void finish();
    // Adds a break per partition where the log does not extend the checkpoint (§3).
    void check_extends(const checkpoint& c);
    const std::vector<partition_chain>& partitions() const { return parts_; }
    std::vector<chain_break> breaks() const;
    bool valid() const { return breaks().empty(); }

private:
    std::vector<partition_chain> parts_;
};

}  // namespace daybook::events
