#pragma once
// Ed25519 keys (OpenSSL): one place for signing and verifying, used by signed checkpoints
// (events/checkpoint.h) and by signed command records (consumers/command_writer.h).

#include <memory>
#include <string>
#include <string_view>

#include "events/result.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace daybook::events {

class ed25519_private_key {
public:
    // A PKCS#8 private key in PEM.
    static result<ed25519_private_key, std::string> from_pem(const std::string& pem);
    std::string sign(std::string_view payload) const;  // 64 bytes; aborts if OpenSSL fails
    std::string public_hex() const;                     // the public key, 64 hex characters

private:
    std::shared_ptr<EVP_PKEY> key_;
};

class ed25519_public_key {
public:
    // A SubjectPublicKeyInfo PEM, or the raw key as 64 hex characters.
    static result<ed25519_public_key, std::string> from_text(const std::string& text);
    bool verify(std::string_view payload, std::string_view signature) const;

private:
    std::shared_ptr<EVP_PKEY> key_;
};

struct key_pair {
    std::string private_pem;
    std::string public_pem;
};
result<key_pair, std::string> generate_ed25519();

}  // namespace daybook::events
