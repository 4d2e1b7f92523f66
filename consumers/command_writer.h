#pragma once
// Who wrote a command, proven. Kafka's ACLs decide which principals may write daybook.commands,
// but a consumer never learns the principal of a record, so the processor could not tell a
// gateway's command from a process manager's, and anyone with write access could claim any
// actor. Writers therefore sign their records:
//
//   headers  daybook.writer            the writer's name (e.g. "gateway")
//            daybook.writer_signature  Ed25519 over "daybook-command v1\0<writer>\0<key>\0<value>"
//
// and the processor, given a writers file (--writers), accepts a command only when a listed
// writer signed exactly this key and value, and that writer may stamp the command's actor and
// source. One line per writer:
//
//   <name> <public key: 64 hex or a PEM file path> actors=<list> sources=<list>
//
// A list is comma-separated; an entry ending in '*' is a prefix ("*" alone: any). Actors named
// "daybook-..." (the process managers', the scheduler's) are reserved: a wildcard never matches
// them, only an exact entry does, so a gateway allowed "actors=*" still cannot act as
// daybook-billing. Without a writers file (development) commands need no signature. Refusals are
// the rejection codes writer_unsigned, writer_unknown, writer_signature_invalid and
// writer_not_allowed: a sealed command_rejected record each, so every forged claim is on the
// record.

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consumers/topics.h"
#include "daybook.pb.h"
#include "events/ed25519.h"
#include "events/rejection.h"
#include "events/result.h"

namespace daybook::consumers {

inline constexpr const char* writer_header = "daybook.writer";
inline constexpr const char* writer_signature_header = "daybook.writer_signature";

// The bytes a writer signs.
std::string writer_payload(std::string_view writer, std::string_view key, std::string_view value);

class command_signer {
public:
    // name: the writer's name in the processor's writers file; private_key_file: Ed25519 PEM.
    static result<std::shared_ptr<const command_signer>, std::string> load(const std::string& name,
                                                                          const std::string& private_key_file);
    const std::string& name() const { return name_; }
    std::string sign(std::string_view key, std::string_view value) const;
    std::string public_hex() const { return key_.public_hex(); }

private:
    command_signer(std::string name, events::ed25519_private_key key) : name_(std::move(name)), key_(std::move(key)) {}
    std::string name_;
    events::ed25519_private_key key_;
};

// Produces one command record to <prefix>commands (key: its routing key, partition: murmur2),
// signed when a signer is given, waiting out a full local queue. Every writer of commands uses it.
rd_kafka_resp_err_t produce_command(rd_kafka_t* producer, const topic_names& topics, int partitions,
                                    const v1::CommandEnvelope& command, const command_signer* signer);

class writer_trust {
public:
    // Reads a writers file; an error names the line.
    static result<std::shared_ptr<const writer_trust>, std::string> load(const std::string& path);
    static result<std::shared_ptr<const writer_trust>, std::string> parse(const std::string& text,
                                                                         const std::string& base_dir);
    // nullopt when the record's writer signed it and may stamp its actor and source.
    std::optional<rejection> check(std::string_view writer, std::string_view signature, std::string_view key,
                                   std::string_view value, const v1::CommandEnvelope& command) const;
    std::optional<rejection> check(const rd_kafka_message_t* m, const v1::CommandEnvelope& command) const;
    std::size_t size() const { return writers_.size(); }

private:
    struct writer {
        events::ed25519_public_key key;
        std::vector<std::string> actors, sources;
    };
    std::map<std::string, writer, std::less<>> writers_;
};

// Does `value` match a list entry (exact, prefix*, or * — never a reserved "daybook-" actor by
// wildcard)?
bool writer_list_allows(const std::vector<std::string>& list, std::string_view value, bool reserved_needs_exact);

}  // namespace daybook::consumers
