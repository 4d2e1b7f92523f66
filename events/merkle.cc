#include "events/merkle.h"

#include "events/hashing.h"

namespace daybook::events {
namespace {

std::string leaf_hash(const std::string& d) { return sha256_hasher{}.add(std::string(1, '\0')).add(d).finish(); }

std::string node_hash(const std::string& l, const std::string& r) {
    return sha256_hasher{}.add(std::string(1, '\1')).add(l).add(r).finish();
}

std::size_t split(std::size_t n) {  // largest power of two < n, for n >= 2
    std::size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
}

std::string mth(const std::vector<std::string>& d, std::size_t from, std::size_t to) {
    std::size_t n = to - from;
    if (n == 0) return sha256("");
    if (n == 1) return leaf_hash(d[from]);
    std::size_t k = split(n);
    return node_hash(mth(d, from, from + k), mth(d, from + k, to));
}

void path(const std::vector<std::string>& d, std::size_t m, std::size_t from, std::size_t to,
          std::vector<std::string>& out) {
    std::size_t n = to - from;
    if (n <= 1) return;
    std::size_t k = split(n);
    if (m < k) {
        path(d, m, from, from + k, out);
        out.push_back(mth(d, from + k, to));
    } else {
        path(d, m - k, from + k, to, out);
        out.push_back(mth(d, from, from + k));
    }
}

void subproof(const std::vector<std::string>& d, std::size_t m, std::size_t from, std::size_t to, bool b,
              std::vector<std::string>& out) {
    std::size_t n = to - from;
    if (m == n) {
        if (!b) out.push_back(mth(d, from, to));
        return;
    }
    std::size_t k = split(n);
    if (m <= k) {
        subproof(d, m, from, from + k, b, out);
        out.push_back(mth(d, from + k, to));
    } else {
        subproof(d, m - k, from + k, to, false, out);
        out.push_back(mth(d, from, from + k));
    }
}

}  // namespace

std::string merkle_root(const std::vector<std::string>& leaves, std::size_t n) { return mth(leaves, 0, n); }

std::vector<std::string> inclusion_proof(const std::vector<std::string>& leaves, std::size_t index, std::size_t n) {
    std::vector<std::string> out;
    if (index < n) path(leaves, index, 0, n, out);
    return out;
}

bool verify_inclusion(const std::string& leaf, std::size_t index, std::size_t n, const std::vector<std::string>& proof,
                      const std::string& root) {
    if (index >= n) return false;
    std::size_t fn = index, sn = n - 1;
    std::string r = leaf_hash(leaf);
    for (const auto& p : proof) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            r = node_hash(p, r);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) fn >>= 1, sn >>= 1;
        } else {
            r = node_hash(r, p);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && r == root;
}

std::vector<std::string> consistency_proof(const std::vector<std::string>& leaves, std::size_t m, std::size_t n) {
    std::vector<std::string> out;
    if (m > 0 && m < n) subproof(leaves, m, 0, n, true, out);
    return out;
}

bool verify_consistency(std::size_t m, std::size_t n, const std::string& old_root, const std::string& new_root,
                        const std::vector<std::string>& proof) {
    if (m > n) return false;
    if (m == n) return proof.empty() && old_root == new_root;
    if (m == 0) return proof.empty();  // the empty tree is consistent with every tree
    std::vector<std::string> p = proof;
    if ((m & (m - 1)) == 0) p.insert(p.begin(), old_root);  // m is a power of two
    if (p.empty()) return false;
    std::size_t fn = m - 1, sn = n - 1;
    while (fn & 1) fn >>= 1, sn >>= 1;
    std::string fr = p[0], sr = p[0];
    for (std::size_t i = 1; i < p.size(); ++i) {
        if (sn == 0) return false;
        if ((fn & 1) || fn == sn) {
            fr = node_hash(p[i], fr);
            sr = node_hash(p[i], sr);
            if (!(fn & 1))
                while (fn != 0 && !(fn & 1)) fn >>= 1, sn >>= 1;
        } else {
            sr = node_hash(sr, p[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && fr == old_root && sr == new_root;
}

}  // namespace daybook::events
