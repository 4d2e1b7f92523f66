#include "events/codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <map>

#include "events/hashing.h"
#include "events/limits.h"

namespace daybook::events {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool printable_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x21 || c > 0x7e) return false;
    return true;
}

std::optional<std::string> unknown_in(const Message& m, const std::string& path) {
    const auto* refl = m.GetReflection();
    if (!refl->GetUnknownFields(m).empty())
        return path.empty() ? std::string("<root>") : path;
    std::vector<const FieldDescriptor*> fields;
    refl->ListFields(m, &fields);
    for (const auto* f : fields) {
        std::string fpath = path.empty() ? f->name() : path + "." + f->name();
        int count = f->is_repeated() ? refl->FieldSize(m, f) : 1;
        for (int i = 0; i < count; ++i) {
            std::string ipath = f->is_repeated() ? fpath + "[" + std::to_string(i) + "]" : fpath;
            if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
                const Message& sub = f->is_repeated() ? refl->GetRepeatedMessage(m, f, i)
                                                      : refl->GetMessage(m, f);
                if (auto u = unknown_in(sub, ipath)) return u;
            } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
                int v = f->is_repeated() ? refl->GetRepeatedEnumValue(m, f, i)
                                         : refl->GetEnumValue(m, f);
                if (f->enum_type()->FindValueByNumber(v) == nullptr) return ipath;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> first_unknown_field(const Message& message) {
    return unknown_in(message, "");
}

std::string event_type(const v1::EventEnvelope& envelope) {
    const auto* field = envelope.GetDescriptor()->FindFieldByNumber(envelope.payload_case());
    return field ? field->name() : "";
}

std::string event_id_of(const v1::EventEnvelope& envelope) {
    return envelope.stream_id().empty() ? "" : envelope.stream_id() + "@" + std::to_string(envelope.version());
}

std::string json_string(std::string_view s) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20) {
            out += "\\u00";
            out += digits[u >> 4];
            out += digits[u & 15];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string to_json(const Message& message) {
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    opts.always_print_primitive_fields = true;
    std::string out;
    (void)google::protobuf::util::MessageToJsonString(message, &out, opts);
    return out;
}

std::string serialize(const Message& message) {
    std::string out;
    {
        google::protobuf::io::StringOutputStream stream(&out);
        google::protobuf::io::CodedOutputStream coded(&stream);
        coded.SetSerializationDeterministic(true);
        message.SerializeToCodedStream(&coded);
    }
    return out;
}

command_read read_command(std::string_view value) {
    command_read out;
    if (!out.envelope.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        out.error = "not a daybook.v1.CommandEnvelope";
        return out;
    }
    const std::string& id = out.envelope.command_id();
    if (id.empty()) {
        out.error = "command_id is empty";
        return out;
    }
    if (!printable_ascii(id)) {
        out.error = "command_id is not printable ASCII";
        return out;
    }
    out.readable = true;
    if (id.size() > limits::id_bytes_max) {
        out.invalid = rejection{rejection_code::command_id_invalid, "command_id",
                                "command_id is longer than " + std::to_string(limits::id_bytes_max) +
                                    " bytes"};
    } else if (value.size() > limits::command_bytes_max) {
        out.invalid = rejection{rejection_code::command_too_large, "",
                                "command record is " + std::to_string(value.size()) +
                                    " bytes; the limit is " +
                                    std::to_string(limits::command_bytes_max)};
    } else if (auto unknown = first_unknown_field(out.envelope)) {
        out.invalid = rejection{rejection_code::envelope_invalid, *unknown,
                                "unknown field or enum value (a newer client, or a typo)"};
    } else if (out.envelope.payload_case() == v1::CommandEnvelope::PAYLOAD_NOT_SET) {
        out.invalid = rejection{rejection_code::payload_missing, "payload",
                                "the envelope carries no command"};
    }
    return out;
}

std::string routing_key_of(const v1::CommandEnvelope& envelope) {
    // Every command's payload names its aggregate in field 1 (book_id for the ledger), so the
    // routing key is read generically: a new command cannot forget to declare it.
    if (envelope.payload_case() == v1::CommandEnvelope::PAYLOAD_NOT_SET) return {};
    if (envelope.has_linked_run()) {
        const auto& run = envelope.linked_run();
        return run.commands().empty() || run.commands(0).has_linked_run() ? std::string()
                                                                           : routing_key_of(run.commands(0));
    }
    const auto* refl = envelope.GetReflection();
    const auto* field = envelope.GetDescriptor()->FindFieldByNumber(envelope.payload_case());
    const auto& payload = refl->GetMessage(envelope, field);
    const auto* key = payload.GetDescriptor()->FindFieldByNumber(1);
    if (!key || key->type() != google::protobuf::FieldDescriptor::TYPE_STRING) std::abort();
    return payload.GetReflection()->GetString(payload, key);
}

std::string fingerprint_of(const v1::CommandEnvelope& envelope) {
    // Only the payload (with its field number) counts: ids, actor and any envelope field added
    // later never change a command's fingerprint.
    v1::CommandEnvelope payload_only;
    if (envelope.payload_case() != v1::CommandEnvelope::PAYLOAD_NOT_SET) {
        const auto* field = envelope.GetDescriptor()->FindFieldByNumber(envelope.payload_case());
        payload_only.GetReflection()
            ->MutableMessage(&payload_only, field)
            ->CopyFrom(envelope.GetReflection()->GetMessage(envelope, field));
    }
    return sha256(serialize(payload_only));
}

sealed_record seal(std::uint32_t partition, std::uint64_t seq, std::string_view prev_hash,
                   std::string body) {
    sealed_record out;
    out.seq = seq;
    out.hash = event_hash(partition, seq, prev_hash, body);
    v1::SealedEvent sealed;
    sealed.set_body(std::move(body));
    sealed.set_seq(seq);
    sealed.set_prev_hash(std::string(prev_hash));
    sealed.set_hash(out.hash);
    out.value = serialize(sealed);
    return out;
}

result<read_event, std::string> read_sealed(std::uint32_t partition, std::string_view value) {
    read_event out;
    if (value.size() > limits::topic_message_bytes_max)
        return std::string("event record larger than the topic limit");
    if (!out.sealed.ParseFromArray(value.data(), static_cast<int>(value.size())))
        return std::string("not a daybook.v1.SealedEvent");
    if (out.sealed.seq() == 0) return std::string("seq is 0");
    if (out.sealed.prev_hash().size() != hash_bytes || out.sealed.hash().size() != hash_bytes)
        return std::string("hash fields are not 32 bytes");
    if (event_hash(partition, out.sealed.seq(), out.sealed.prev_hash(), out.sealed.body()) !=
        out.sealed.hash())
        return "hash does not match the record (altered) at seq " + std::to_string(out.sealed.seq());
    if (!out.envelope.ParseFromString(out.sealed.body()))
        return "body is not a daybook.v1.EventEnvelope at seq " + std::to_string(out.sealed.seq());
    if (out.envelope.payload_case() == v1::EventEnvelope::PAYLOAD_NOT_SET)
        return "event of an unknown type at seq " + std::to_string(out.sealed.seq());
    return out;
}

std::string token_of(const v1::Outcome& outcome) {
    std::map<std::uint32_t, std::uint64_t> max_seq;
    for (const auto& ref : outcome.events())
        max_seq[ref.partition()] = std::max(max_seq[ref.partition()], ref.seq());
    std::string out;
    for (const auto& [p, s] : max_seq) {
        if (!out.empty()) out += ',';
        out += std::to_string(p) + ':' + std::to_string(s);
    }
    return out;
}

std::optional<std::vector<std::pair<std::uint32_t, std::uint64_t>>> parse_token(
    std::string_view text) {
    std::vector<std::pair<std::uint32_t, std::uint64_t>> out;
    if (text.empty()) return out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto part = text.substr(0, comma);
        auto colon = part.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        std::uint32_t p = 0;
        std::uint64_t s = 0;
        auto a = std::from_chars(part.data(), part.data() + colon, p);
        auto b = std::from_chars(part.data() + colon + 1, part.data() + part.size(), s);
        if (a.ec != std::errc{} || a.ptr != part.data() + colon || b.ec != std::errc{} ||
            b.ptr != part.data() + part.size())
            return std::nullopt;
        out.emplace_back(p, s);
        if (comma == std::string_view::npos) break;
        text = text.substr(comma + 1);
        if (text.empty()) return std::nullopt;  // a trailing comma
    }
    return out;
}

}  // namespace daybook::events
