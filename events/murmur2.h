#pragma once
// The Java client's default partitioner: murmur2 of the key bytes, made positive, mod N.
// librdkafka's `murmur2_random` partitioner computes the same; the routing check uses this.

#include <cstdint>
#include <string_view>

namespace daybook::events {

std::uint32_t murmur2(std::string_view key);
// Partition of a non-empty key among partition_count partitions (as Java's Utils.toPositive).
std::int32_t partition_for(std::string_view key, std::int32_t partition_count);

}  // namespace daybook::events
