#include "events/murmur2.h"

#include <cstdlib>

namespace daybook::events {

std::uint32_t murmur2(std::string_view key) {
    constexpr std::uint32_t seed = 0x9747b28c;
    constexpr std::uint32_t m = 0x5bd1e995;
    constexpr int r = 24;
    const auto* data = reinterpret_cast<const unsigned char*>(key.data());
    std::size_t length = key.size();
    std::uint32_t h = seed ^ static_cast<std::uint32_t>(length);
    std::size_t blocks = length / 4;
    for (std::size_t i = 0; i < blocks; ++i) {
        const unsigned char* p = data + 4 * i;
        std::uint32_t k = std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                          std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const unsigned char* tail = data + 4 * blocks;
    switch (length % 4) {
        case 3: h ^= std::uint32_t(tail[2]) << 16; [[fallthrough]];
        case 2: h ^= std::uint32_t(tail[1]) << 8; [[fallthrough]];
        case 1: h ^= std::uint32_t(tail[0]); h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

std::int32_t partition_for(std::string_view key, std::int32_t partition_count) {
    if (partition_count <= 0) std::abort();
    return static_cast<std::int32_t>((murmur2(key) & 0x7fffffff) %
                                     static_cast<std::uint32_t>(partition_count));
}

}  // namespace daybook::events
