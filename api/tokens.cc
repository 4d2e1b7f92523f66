#include "api/tokens.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "events/hashing.h"

namespace daybook::api {

std::optional<role> role_from(const std::string& name) {
    if (name == "reader") return role::reader;
    if (name == "submitter") return role::submitter;
    if (name == "admin") return role::admin;
    return std::nullopt;
}

std::string name_of(role r) {
    switch (r) {
        case role::reader: return "reader";
        case role::submitter: return "submitter";
        case role::admin: return "admin";
    }
    return "?";
}

void token_file::reload_if_changed() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        by_hash_.clear();
        mtime_ns_ = -1;
        return;
    }
    long long mtime = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000LL + st.st_mtim.tv_nsec;
    if (mtime == mtime_ns_) return;
    mtime_ns_ = mtime;
    by_hash_.clear();
    std::ifstream in(path_);
    std::string hash, actor, role_name;
    while (in >> hash >> actor >> role_name)
        if (auto r = role_from(role_name)) by_hash_[hash] = principal{actor, *r};
}

std::optional<principal> token_file::authenticate(const std::string& token) {
    reload_if_changed();
    auto it = by_hash_.find(events::to_hex(events::sha256(token)));
    if (it == by_hash_.end()) return std::nullopt;
    return it->second;
}

result<token_file::created, std::string> token_file::create(const std::string& actor, role r) {
    if (actor.empty() || actor.find_first_of(" \t\n") != std::string::npos)
        return std::string("the actor must be one word");
    unsigned char raw[24];
    if (RAND_bytes(raw, sizeof raw) != 1) return std::string("no randomness for a token");
    std::string token = "dbk_" + events::to_hex(std::string(reinterpret_cast<char*>(raw), sizeof raw));
    std::ofstream out(path_, std::ios::app);
    if (!out) return "cannot write " + path_;
    out << events::to_hex(events::sha256(token)) << ' ' << actor << ' ' << name_of(r) << '\n';
    return created{token};
}

result<int, std::string> token_file::revoke(const std::string& actor) {
    std::ifstream in(path_);
    if (!in) return "cannot read " + path_;
    std::vector<std::string> kept;
    std::string line;
    int removed = 0;
    while (std::getline(in, line)) {
        std::istringstream w(line);
        std::string hash, who;
        w >> hash >> who;
        if (who == actor) ++removed;
        else kept.push_back(line);
    }
    std::ofstream out(path_ + ".tmp", std::ios::trunc);
    for (const auto& l : kept) out << l << '\n';
    out.close();
    if (std::rename((path_ + ".tmp").c_str(), path_.c_str()) != 0) return "cannot replace " + path_;
    return removed;
}

}  // namespace daybook::api
