#pragma once
// Reads a whole topic read_committed, partition by partition from offset 0 to its end, calling fn
// for every record in log order. Used by `daybook audit` (verify, checkpoint, export, prove).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "consumers/kafka.h"

namespace daybook::consumers {

using record_fn = std::function<void(std::uint32_t partition, std::int64_t offset, std::string_view value)>;

// Returns the number of partitions read.
result<int, std::string> read_whole_topic(const kafka_settings& kafka, const std::string& topic, const record_fn& fn);

}  // namespace daybook::consumers
