#pragma once
// Bearer tokens of the HTTP API. The tokens file holds one line per token: the SHA-256 of the token
// (hex), the actor it stands for and its role; tokens themselves are shown once, at creation, and
// never stored. Roles: reader (queries), submitter (queries and commands), admin (everything).
// `daybook tokens create|revoke|list` edit the file; the server rereads it when it changes.

#include <map>
#include <optional>
#include <string>

#include "events/result.h"

namespace daybook::api {

enum class role { reader = 1, submitter = 2, admin = 3 };

struct principal {
    std::string actor;
    role level = role::reader;
};

std::optional<role> role_from(const std::string& name);
std::string name_of(role r);

class token_file {
public:
    explicit token_file(std::string path) : path_(std::move(path)) {}
    // The principal a bearer token stands for, or nullopt.
    std::optional<principal> authenticate(const std::string& token);
    // Creates a token for actor with role; returns the token (shown once).
    struct created {
        std::string token;
    };
    result<created, std::string> create(const std::string& actor, role r);
    // Removes every token of the actor; returns how many.
    result<int, std::string> revoke(const std::string& actor);

private:
    void reload_if_changed();
    std::string path_;
    long long mtime_ns_ = -1;
    std::map<std::string, principal> by_hash_;
};

}  // namespace daybook::api
