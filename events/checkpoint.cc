#include "events/checkpoint.h"

#include <memory>
#include <sstream>

#include "events/ed25519.h"
#include "events/hashing.h"

namespace daybook::events {

std::string checkpoint_payload(const checkpoint& c) {
    std::string out = "daybook-checkpoint v1\nlog daybook.events\ntime_ms " + std::to_string(c.time_ms) +
                      "\npartitions " + std::to_string(c.partitions.size()) + "\n";
    for (const auto& p : c.partitions)
        out += "partition " + std::to_string(p.partition) + " " + std::to_string(p.seq) + " " + to_hex(p.head) + " " +
               to_hex(p.root) + "\n";
    return out;
}

result<signed_checkpoint, std::string> sign_checkpoint(const checkpoint& c, const std::string& private_key_pem) {
    auto key = ed25519_private_key::from_pem(private_key_pem);
    if (!key) return std::string("the signing key is ") + key.error();
    auto payload = checkpoint_payload(c);
    return signed_checkpoint{payload + "signature " + to_hex(key->sign(payload)) + "\n"};
}

result<checkpoint, std::string> read_checkpoint(const std::string& text, const std::string& public_key) {
    auto at = text.rfind("signature ");
    if (at == std::string::npos || (at > 0 && text[at - 1] != '\n')) return std::string("no signature line");
    std::string payload = text.substr(0, at);
    std::string sig_hex = text.substr(at + 10);
    while (!sig_hex.empty() && (sig_hex.back() == '\n' || sig_hex.back() == '\r')) sig_hex.pop_back();
    auto sig = from_hex(sig_hex);
    if (sig.size() != 64) return std::string("the signature is not 64 bytes of hex");
    auto key = ed25519_public_key::from_text(public_key);
    if (!key) return std::string("the public key is ") + key.error();
    if (!key->verify(payload, sig)) return std::string("bad signature: the checkpoint was not signed by this key, or was changed");
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

}  // namespace daybook::events
