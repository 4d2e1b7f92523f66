// The hash-chain verifier over an exported log (docs/audit-format.md §5 framing: partition u32 BE,
// length u32 BE, record): any sequence of records, valid or not, is classified without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "events/chain_verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    daybook::events::chain_verifier v(4);
    std::size_t at = 0;
    auto be32 = [&](std::size_t i) {
        return std::uint32_t(data[i]) << 24 | std::uint32_t(data[i + 1]) << 16 | std::uint32_t(data[i + 2]) << 8 | data[i + 3];
    };
    while (at + 8 <= size) {
        std::uint32_t partition = be32(at) % 4, length = be32(at + 4);
        at += 8;
        if (length > size - at) break;
        v.add(partition, std::string_view(reinterpret_cast<const char*>(data + at), length));
        at += length;
    }
    v.finish();
    (void)v.valid();
    (void)v.breaks();
    return 0;
}
