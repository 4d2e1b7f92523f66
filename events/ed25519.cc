#include "events/ed25519.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>

#include "events/hashing.h"

namespace daybook::events {
namespace {

struct bio_deleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
struct md_deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::shared_ptr<EVP_PKEY> owned(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free); }

std::string bio_text(BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

result<ed25519_private_key, std::string> ed25519_private_key::from_pem(const std::string& pem) {
    bio_ptr b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    auto key = owned(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) return std::string("not an Ed25519 private key in PEM");
    ed25519_private_key out;
    out.key_ = std::move(key);
    return out;
}

std::string ed25519_private_key::sign(std::string_view payload) const {
    std::unique_ptr<EVP_MD_CTX, md_deleter> ctx(EVP_MD_CTX_new());
    std::string sig(64, '\0');
    std::size_t len = sig.size();
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1 ||
        len != 64)
        std::abort();  // a loaded Ed25519 key always signs
    return sig;
}

std::string ed25519_private_key::public_hex() const {
    std::string raw(32, '\0');
    std::size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(key_.get(), reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 || len != 32)
        std::abort();
    return to_hex(raw);
}

result<ed25519_public_key, std::string> ed25519_public_key::from_text(const std::string& text) {
    auto trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ' || trimmed.back() == '\r')) trimmed.pop_back();
    std::shared_ptr<EVP_PKEY> key;
    if (trimmed.size() == 64) {
        auto raw = from_hex(trimmed);
        if (raw.size() == 32)
            key = owned(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), 32));
    } else {
        bio_ptr b(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
        key = owned(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
    }
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) return std::string("not an Ed25519 public key (PEM or 64 hex characters)");
    ed25519_public_key out;
    out.key_ = std::move(key);
    return out;
}

bool ed25519_public_key::verify(std::string_view payload, std::string_view signature) const {
    if (signature.size() != 64) return false;
    std::unique_ptr<EVP_MD_CTX, md_deleter> ctx(EVP_MD_CTX_new());
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) == 1;
}

result<key_pair, std::string> generate_ed25519() {
    EVP_PKEY* raw = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                   EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        return std::string("Ed25519 key generation failed");
    auto key = owned(raw);
    bio_ptr priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1)
        return std::string("cannot write the key pair");
    return key_pair{bio_text(priv.get()), bio_text(pub.get())};
}

}  // namespace daybook::events
