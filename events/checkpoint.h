#pragma once
// Signed checkpoints (docs/audit-format.md §3): per partition (seq, head, Merkle root), a time, and
// an Ed25519 signature over the text. The private key lives outside Kafka; auditors hold the
// public key and keep the checkpoint files where the operator cannot rewrite them.

#include <cstdint>
#include <string>
#include <vector>

#include "events/ed25519.h"
#include "events/result.h"

namespace daybook::events {

struct checkpoint_partition {
    std::uint32_t partition = 0;
    std::uint64_t seq = 0;
    std::string head;  // 32 bytes
    std::string root;  // 32 bytes
};

struct checkpoint {
    std::int64_t time_ms = 0;
    std::vector<checkpoint_partition> partitions;
};

// The signed text (every line before the signature line).
std::string checkpoint_payload(const checkpoint& c);
// Signs with an Ed25519 private key in PEM (PKCS#8): the whole checkpoint file text.
struct signed_checkpoint {
    std::string text;
};
result<signed_checkpoint, std::string> sign_checkpoint(const checkpoint& c, const std::string& private_key_pem);
// Verifies the signature with a public key (PEM SubjectPublicKeyInfo or 64 hex characters) and
// parses the checkpoint.
result<checkpoint, std::string> read_checkpoint(const std::string& text, const std::string& public_key);

}  // namespace daybook::events
