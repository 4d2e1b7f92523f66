#pragma once
// Strict decoding of command records, sealing and reading of event records.
//
// Commands are untrusted input: a record is refused when it is too large, does not parse, carries
// fields or enum values this build does not know, or has no payload. Events are the system of
// record: a record that does not parse or whose hash does not verify is an alarm, never skipped.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daybook.pb.h"
#include "events/rejection.h"
#include "events/result.h"

namespace daybook::events {

// What reading one daybook.commands record gave.
struct command_read {
    // False when not even the command_id could be read: the record goes to the DLQ.
    bool readable = false;
    v1::CommandEnvelope envelope;      // valid when readable
    std::optional<rejection> invalid;  // readable but refused before any decision
    std::string error;                 // why it is unreadable (for DLQ headers)
};
command_read read_command(std::string_view record_value);

// Routing key of a command: the aggregate's id (the book id for ledger commands). Empty when the
// envelope has no payload.
std::string routing_key_of(const v1::CommandEnvelope& envelope);

// SHA-256 of the deterministic serialisation of the payload alone (the oneof field with its
// field number), so the same command under a different correlation id has the same fingerprint.
std::string fingerprint_of(const v1::CommandEnvelope& envelope);

// A readable path of the first unknown field or unknown enum value in a message, if any.
std::optional<std::string> first_unknown_field(const google::protobuf::Message& message);

// Protobuf JSON mapping for people and HTTP clients: field names as in the .proto, defaults
// printed, so a reader sees every field.
// A JSON string literal (quotes included), control characters escaped as \u00XX.
std::string json_string(std::string_view s);
std::string to_json(const google::protobuf::Message& message);

// Deterministic protobuf serialisation (map order fixed). Used for bodies, so the bytes written
// are the bytes hashed.
std::string serialize(const google::protobuf::Message& message);

// Sealing: frames a body as the next record of a partition's chain.
struct sealed_record {
    std::uint64_t seq = 0;
    std::string hash;   // 32 bytes: the new chain head
    std::string value;  // the record value (serialised SealedEvent)
};
sealed_record seal(std::uint32_t partition, std::uint64_t seq, std::string_view prev_hash,
                   std::string body);

// Reading a sealed record: parses it and checks that its hash is what the framing says. The
// caller checks seq and prev_hash against the chain it holds.
struct read_event {
    v1::SealedEvent sealed;
    v1::EventEnvelope envelope;
};
result<read_event, std::string> read_sealed(std::uint32_t partition, std::string_view record_value);

// The event's kind: the name of its payload field ("entry_posted", "command_rejected", ...).
std::string event_type(const v1::EventEnvelope& envelope);
// "<stream id>@<version>" for domain events (the event id of DESIGN.md); empty for
// command_rejected, which belongs to no stream.
std::string event_id_of(const v1::EventEnvelope& envelope);

// Read-your-writes token: "p:seq[,p:seq...]"; parse returns nullopt on malformed text.
std::string token_of(const v1::Outcome& outcome);
std::optional<std::vector<std::pair<std::uint32_t, std::uint64_t>>> parse_token(std::string_view);

}  // namespace daybook::events
