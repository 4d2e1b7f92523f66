#include "events/hashing.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace daybook::events {
namespace {

template <typename T>
std::string big_endian(T value) {
    std::string out(sizeof(T), '\0');
    for (std::size_t i = 0; i < sizeof(T); ++i)
        out[sizeof(T) - 1 - i] = static_cast<char>((value >> (8 * i)) & 0xff);
    return out;
}

}  // namespace

sha256_hasher::sha256_hasher() : ctx_(EVP_MD_CTX_new()) {
    auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) std::abort();
}

sha256_hasher::~sha256_hasher() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

sha256_hasher& sha256_hasher::add(std::string_view bytes) {
    if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size()) != 1)
        std::abort();
    return *this;
}

std::string sha256_hasher::finish() {
    std::string out(hash_bytes, '\0');
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_),
                           reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
        len != hash_bytes)
        std::abort();
    return out;
}

std::string sha256(std::string_view bytes) { return sha256_hasher{}.add(bytes).finish(); }

std::string genesis_hash() { return std::string(hash_bytes, '\0'); }

std::string event_hash(std::uint32_t partition, std::uint64_t seq, std::string_view prev_hash,
                       std::string_view body) {
    sha256_hasher h;
    return h
        .add(hash_domain)
        .add(events_log_name)
        .add(big_endian(partition))
        .add(big_endian(seq))
        .add(prev_hash)
        .add(body)
        .finish();
}

std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 0xf]);
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (hex.size() % 2 != 0) return {};
    std::string out;
    out.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return {};
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

}  // namespace daybook::events
