#pragma once
// Merkle trees over a partition's event hashes, in the layout of RFC 9162 §2.1 (Certificate
// Transparency): leaf = SHA-256(0x00 ‖ d), node = SHA-256(0x01 ‖ left ‖ right), split at the
// largest power of two below n. docs/audit-format.md is the specification; tools/audit-check is
// an independent implementation of it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace daybook::events {

// Root of the tree over leaves[0:n) (n <= leaves.size()); SHA-256("") for n = 0.
std::string merkle_root(const std::vector<std::string>& leaves, std::size_t n);
// Audit path of leaf `index` in the tree of size n (RFC 9162 §2.1.3.1).
std::vector<std::string> inclusion_proof(const std::vector<std::string>& leaves, std::size_t index, std::size_t n);
// RFC 9162 §2.1.3.2.
bool verify_inclusion(const std::string& leaf, std::size_t index, std::size_t n, const std::vector<std::string>& path,
                      const std::string& root);
// Consistency proof between sizes m <= n (RFC 9162 §2.1.4.1).
std::vector<std::string> consistency_proof(const std::vector<std::string>& leaves, std::size_t m, std::size_t n);
// RFC 9162 §2.1.4.2.
bool verify_consistency(std::size_t m, std::size_t n, const std::string& old_root, const std::string& new_root,
                        const std::vector<std::string>& proof);

}  // namespace daybook::events
