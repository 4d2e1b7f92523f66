#include "events/checkpoint.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <sstream>

#include "events/hashing.h"

namespace daybook::events {
namespace {

struct pkey_deleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;
struct bio_deleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;
struct md_deleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::string bio_text(BIO* b) {
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

pkey_ptr public_key_of(const std::string& text) {
    auto trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) trimmed.pop_back();
    if (trimmed.size() == 64) {
        auto raw = from_hex(trimmed);
        if (raw.size() == 32)
            return pkey_ptr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                        reinterpret_cast<const unsigned char*>(raw.data()), 32));
    }
    bio_ptr b(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    return pkey_ptr(PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr));
}

}  // namespace

std::string checkpoint_payload(const checkpoint& c) {
    std::string out = "daybook-checkpoint v1\nlog daybook.events\ntime_ms " + std::to_string(c.time_ms) +
                      "\npartitions " + std::to_string(c.partitions.size()) + "\n";
    for (const auto& p : c.partitions)
        out += "partition " + std::to_string(p.partition) + " " + std::to_string(p.seq) + " " + to_hex(p.head) + " " +
               to_hex(p.root) + "\n";
    return out;
}

result<signed_checkpoint, std::string> sign_checkpoint(const checkpoint& c, const std::string& private_key_pem) {
    bio_ptr b(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
    pkey_ptr key(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
        return std::string("the signing key is not an Ed25519 private key in PEM");
    auto payload = checkpoint_payload(c);
    std::unique_ptr<EVP_MD_CTX, md_deleter> ctx(EVP_MD_CTX_new());
    std::string sig(64, '\0');
    std::size_t len = sig.size();
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1 ||
        len != 64)
        return std::string("Ed25519 signing failed");
    return signed_checkpoint{payload + "signature " + to_hex(sig) + "\n"};
}

result<checkpoint, std::string> read_checkpoint(const std::string& text, const std::string& public_key) {
    auto at = text.rfind("signature ");
    if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return std::string("no signature line");
    std::string payload = text.substr(0, at);
    std::string sig_hex = text.substr(at + 10);
    while (!sig_hex.empty() && (sig_hex.back() == '\n' || sig_hex.back() == '\r')) sig_hex.pop_back();
    auto sig = from_hex(sig_hex);
    if (sig.size() != 64) return std::string("the signature is not 64 bytes of hex");
    auto key = public_key_of(public_key);
    if (!key || EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519) return std::string("the public key is not an Ed25519 key");
    std::unique_ptr<EVP_MD_CTX, md_deleter> ctx(EVP_MD_CTX_new());
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                         reinterpret_cast<const unsigned char*>(payload.data()), payload.size()) != 1)
        return std::string("bad signature: the checkpoint was not signed by this key, or was changed");
    checkpoint c;
    std::istringstream in(payload);
    std::string line;
    std::size_t declared = 0;
    auto fail = [&] { return std::string("malformed checkpoint line: ") + line; };
    if (!std::getline(in, line) || line != "daybook-checkpoint v1") return fail();
    if (!std::getline(in, line) || line != "log daybook.events") return fail();
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string word;
        words >> word;
        if (word == "time_ms") {
            if (!(words >> c.time_ms)) return fail();
        } else if (word == "partitions") {
            if (!(words >> declared)) return fail();
        } else if (word == "partition") {
            checkpoint_partition p;
            std::string head, root;
            if (!(words >> p.partition >> p.seq >> head >> root)) return fail();
            p.head = from_hex(head);
            p.root = from_hex(root);
            if (p.head.size() != 32 || p.root.size() != 32 || p.partition != c.partitions.size()) return fail();
            c.partitions.push_back(std::move(p));
        } else {
            return fail();
        }
    }
    if (declared != c.partitions.size()) return std::string("checkpoint lists fewer partitions than it declares");
    return c;
}

result<key_pair, std::string> generate_ed25519() {
    EVP_PKEY* raw = nullptr;
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                   EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
        return std::string("Ed25519 key generation failed");
    pkey_ptr key(raw);
    bio_ptr priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
    if (PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
        PEM_write_bio_PUBKEY(pub.get(), key.get()) != 1)
        return std::string("cannot write the key pair");
    return key_pair{bio_text(priv.get()), bio_text(pub.get())};
}

}  // namespace daybook::events
