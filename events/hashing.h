#pragma once
// SHA-256 and the event hash chain (DESIGN.md "Events: framing and meaning").
//
//   hash = SHA-256("daybook.v1" || log_name || partition u32 BE || seq u64 BE || prev_hash || body)
//
// log_name is the logical name "daybook.events", whatever the physical topic is called, so a
// mirrored copy still verifies. The first prev_hash of a partition is 32 zero bytes. The hash
// covers the stored body bytes, never a re-serialised message.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace daybook::events {

inline constexpr std::size_t hash_bytes = 32;
inline constexpr std::string_view hash_domain = "daybook.v1";
inline constexpr std::string_view events_log_name = "daybook.events";

// Incremental SHA-256 (OpenSSL EVP). One use: add() any number of times, then finish() once.
class sha256_hasher {
public:
    sha256_hasher();
    ~sha256_hasher();
    sha256_hasher(const sha256_hasher&) = delete;
    sha256_hasher& operator=(const sha256_hasher&) = delete;
    sha256_hasher& add(std::string_view bytes);
    std::string finish();  // 32 raw bytes

private:
    void* ctx_;  // EVP_MD_CTX, kept opaque so OpenSSL headers stay out of this header
};

// SHA-256 of bytes, returned as 32 raw bytes.
std::string sha256(std::string_view bytes);

// 32 zero bytes: prev_hash of the first record of a partition.
std::string genesis_hash();

std::string event_hash(std::uint32_t partition, std::uint64_t seq, std::string_view prev_hash,
                       std::string_view body);

// Lowercase hex of raw bytes (for logs, metadata and reports).
std::string to_hex(std::string_view bytes);
// Inverse of to_hex; returns an empty string on malformed input.
std::string from_hex(std::string_view hex);

}  // namespace daybook::events
