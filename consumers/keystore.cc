#include "consumers/keystore.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "aggregates/payroll.h"
#include "events/hashing.h"

namespace daybook::consumers {
namespace {

constexpr std::size_t key_bytes = 32, nonce_bytes = 12, tag_bytes = 16;
constexpr char sealed_version = 0x01;

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) std::abort();
    return out;
}

// AES-256-GCM: version || nonce || ciphertext || tag, with `aad` authenticated.
std::string gcm_seal(const std::string& key, const std::string& aad, const std::string& plaintext) {
    auto nonce = random_bytes(nonce_bytes);
    std::string out(1 + nonce_bytes + plaintext.size() + tag_bytes, '\0');
    out[0] = sealed_version;
    std::copy(nonce.begin(), nonce.end(), out.begin() + 1);
    auto* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    auto* u = reinterpret_cast<unsigned char*>(out.data());
    if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                                   reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
        EVP_EncryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) != 1 ||
        EVP_EncryptUpdate(ctx, u + 1 + nonce_bytes, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx, u + 1 + nonce_bytes + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, tag_bytes, u + 1 + nonce_bytes + plaintext.size()) != 1)
        std::abort();
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

std::optional<std::string> gcm_open(const std::string& key, const std::string& aad, const std::string& sealed) {
    if (sealed.size() < 1 + nonce_bytes + tag_bytes || sealed[0] != sealed_version) return std::nullopt;
    const auto n = sealed.size() - 1 - nonce_bytes - tag_bytes;
    std::string out(n, '\0');
    auto* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    const auto* s = reinterpret_cast<const unsigned char*>(sealed.data());
    std::string tag = sealed.substr(1 + nonce_bytes + n);
    bool ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, reinterpret_cast<const unsigned char*>(key.data()), s + 1) == 1 &&
              EVP_DecryptUpdate(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())) == 1 &&
              EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, s + 1 + nonce_bytes, static_cast<int>(n)) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, tag_bytes, tag.data()) == 1 &&
              EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) return std::nullopt;
    return out;
}

std::string wrap_aad(const std::string& subject) { return "daybook-keystore\n" + subject; }

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Writes `bytes` to `path` unless it exists (O_EXCL on a temporary name, then link): the first
// writer wins and every process then reads the same file.
bool create_once(const std::string& path, const std::string& bytes) {
    auto tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return false;
    bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (ok) ::link(tmp.c_str(), path.c_str());  // fails when another process made it first: theirs stands
    ::unlink(tmp.c_str());
    return ok;
}

}  // namespace

result<keystore, std::string> keystore::open(const std::string& dir, const std::string& master_key_file, bool create) {
    if (!create && !std::filesystem::exists(master_key_file)) return "no master key at " + master_key_file;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create the key store " + dir + ": " + ec.message();
    ::chmod(dir.c_str(), 0700);
    auto text = read_file(master_key_file);
    if (!text) {
        if (!create_once(master_key_file, events::to_hex(random_bytes(key_bytes)) + "\n"))
            return "cannot create the master key " + master_key_file;
        text = read_file(master_key_file);
    }
    std::string hex = text ? *text : "";
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
    auto master = events::from_hex(hex);
    if (master.size() != key_bytes) return "the master key " + master_key_file + " is not 64 hex characters";
    keystore k;
    k.dir_ = dir;
    k.master_ = master;
    return k;
}

std::string keystore::path_of(const std::string& subject) const {
    return dir_ + "/" + events::to_hex(events::sha256(subject)) + ".key";
}

std::optional<std::string> keystore::existing_key(const std::string& subject) const {
    auto wrapped = read_file(path_of(subject));
    if (!wrapped) return std::nullopt;
    return gcm_open(master_, wrap_aad(subject), *wrapped);
}

std::optional<std::string> keystore::key_for(const std::string& subject) const {
    if (auto k = existing_key(subject)) return k;
    create_once(path_of(subject), gcm_seal(master_, wrap_aad(subject), random_bytes(key_bytes)));
    return existing_key(subject);
}

bool keystore::erase(const std::string& subject) const { return ::unlink(path_of(subject).c_str()) == 0; }

std::string keystore::seal(const std::string& subject, const std::string& plaintext) const {
    auto key = key_for(subject);
    if (!key) return {};
    return gcm_seal(*key, subject, plaintext);
}

std::optional<std::string> keystore::open_sealed(const std::string& subject, const std::string& sealed) const {
    auto key = existing_key(subject);
    if (!key) return std::nullopt;
    return gcm_open(*key, subject, sealed);
}

std::string counterparty_subject(const std::string& book, const std::string& counterparty) { return book + "/" + counterparty; }

namespace {

// Seals m's name under `subject` (counterparty_registered, employee_hired: name, name_sealed, subject).
template <typename M>
bool seal_name(M& m, const std::string& subject, const keystore& keys) {
    if (m.name().empty()) return true;
    auto sealed = keys.seal(subject, m.name());
    if (sealed.empty()) return false;
    m.set_subject(subject);
    m.set_name_sealed(sealed);
    m.clear_name();
    return true;
}

template <typename M>
std::string open_name(const M& m, const keystore* keys) {
    if (m.name_sealed().empty()) return m.name();
    if (!keys) return "[sealed]";
    if (auto name = keys->open_sealed(m.subject(), m.name_sealed())) return *name;
    return "[erased]";
}

}  // namespace

bool seal_personal_data(v1::EventEnvelope& event, const keystore& keys) {
    if (event.has_counterparty_registered()) {
        auto* c = event.mutable_counterparty_registered();
        return seal_name(*c, counterparty_subject(c->book_id(), c->counterparty_id()), keys);
    }
    if (event.has_employee_hired()) {
        auto* h = event.mutable_employee_hired();
        return seal_name(*h, aggregates::payroll::subject_of(h->book_id(), h->employee_id()), keys);
    }
    return true;
}

std::string readable_name(const v1::CounterpartyRegistered& c, const keystore* keys) { return open_name(c, keys); }
std::string readable_name(const v1::EmployeeHired& e, const keystore* keys) { return open_name(e, keys); }

}  // namespace daybook::consumers

namespace daybook::consumers {

void open_names(std::vector<v1::CounterpartyRegistered>& list, const std::string& keystore_dir, const std::string& master_key_file) {
    auto keys = keystore::open(keystore_dir, master_key_file, false);
    for (auto& c : list) {
        c.set_name(readable_name(c, keys ? &*keys : nullptr));
        c.clear_name_sealed();
    }
}

void open_names(std::vector<v1::EmployeeState>& list, const std::string& keystore_dir, const std::string& master_key_file) {
    auto keys = keystore::open(keystore_dir, master_key_file, false);
    for (auto& e : list) {
        e.mutable_hired()->set_name(readable_name(e.hired(), keys ? &*keys : nullptr));
        e.mutable_hired()->clear_name_sealed();
    }
}

}  // namespace daybook::consumers
