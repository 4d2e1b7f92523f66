#pragma once
// Reading topics outside a consumer group, read_committed:
// - read_whole_topic: every partition from offset 0 to its end, in log order (`daybook audit`);
// - read_page: one partition from an offset, at most `limit` records, stopping at the end
//   (the HTTP event browser, the DLQ list, `daybook dlq`).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "consumers/kafka.h"

namespace daybook::consumers {

using record_fn = std::function<void(std::uint32_t partition, std::int64_t offset, std::string_view value)>;

// Returns the number of partitions read.
result<int, std::string> read_whole_topic(const kafka_settings& kafka, const std::string& topic, const record_fn& fn);

struct page_record {
    std::int64_t offset = 0;
    std::string key, value;
    std::vector<std::pair<std::string, std::string>> headers;
    // The first header of that name; empty when there is none.
    std::string header(std::string_view name) const {
        for (const auto& [k, v] : headers)
            if (k == name) return v;
        return "";
    }
};
// Returns true to keep the record in the page.
using page_filter = std::function<bool(const page_record&)>;

struct page {
    std::vector<page_record> records;
    // Offset to continue from; -1 when the end of the partition was reached.
    std::int64_t next_offset = -1;
};

// Reads partition `partition` of `topic` from `from_offset`, keeping the records the filter
// accepts until `limit` are kept, `scan_max` records were read or the end is reached.
// Bounded in time by `timeout_ms`.
result<page, std::string> read_page(rd_kafka_t* consumer, const std::string& topic, int partition,
                                    std::int64_t from_offset, std::size_t limit, std::size_t scan_max,
                                    const page_filter& keep, int timeout_ms);

// A consumer without a group that reports the end of each partition (for read_page).
result<rk_ptr, std::string> make_page_reader(const kafka_settings& kafka);

}  // namespace daybook::consumers
