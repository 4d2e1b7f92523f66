#include "consumers/command_writer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "events/codec.h"
#include "events/murmur2.h"

namespace daybook::consumers {

std::string writer_payload(std::string_view writer, std::string_view key, std::string_view value) {
    std::string out = "daybook-command v1";
    out += '\0';
    out += writer;
    out += '\0';
    out += key;
    out += '\0';
    out += value;
    return out;
}

result<std::shared_ptr<const command_signer>, std::string> command_signer::load(const std::string& name,
                                                                               const std::string& private_key_file) {
    if (name.empty()) return std::string("a writer key needs a writer name (--writer-name)");
    std::ifstream in(private_key_file);
    if (!in) return "cannot read the writer key " + private_key_file;
    std::stringstream pem;
    pem << in.rdbuf();
    auto key = events::ed25519_private_key::from_pem(pem.str());
    if (!key) return "the writer key " + private_key_file + " is " + key.error();
    return std::shared_ptr<const command_signer>(new command_signer(name, std::move(*key)));
}

std::string command_signer::sign(std::string_view key, std::string_view value) const {
    return key_.sign(writer_payload(name_, key, value));
}

rd_kafka_resp_err_t produce_command(rd_kafka_t* producer, const topic_names& topics, int partitions,
                                    const v1::CommandEnvelope& command, const command_signer* signer) {
    auto key = events::routing_key_of(command);
    auto value = events::serialize(command);
    std::string signature = signer ? signer->sign(key, value) : std::string();
    for (;;) {
        rd_kafka_headers_t* headers = nullptr;
        if (signer) {
            headers = rd_kafka_headers_new(2);
            rd_kafka_header_add(headers, writer_header, -1, signer->name().data(), static_cast<ssize_t>(signer->name().size()));
            rd_kafka_header_add(headers, writer_signature_header, -1, signature.data(), static_cast<ssize_t>(signature.size()));
        }
        auto err = headers ? rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topics.commands().c_str()),
                                               RD_KAFKA_V_PARTITION(events::partition_for(key, partitions)),
                                               RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                                               RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
                           : rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topics.commands().c_str()),
                                               RD_KAFKA_V_PARTITION(events::partition_for(key, partitions)),
                                               RD_KAFKA_V_KEY(key.data(), key.size()), RD_KAFKA_V_VALUE(value.data(), value.size()),
                                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err && headers) rd_kafka_headers_destroy(headers);  // not handed over
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return err;
        rd_kafka_poll(producer, 10);
    }
}

namespace {

std::vector<std::string> split_list(std::string_view text) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in{std::string(text)};
    while (std::getline(in, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

bool reserved_actor(std::string_view actor) { return actor.rfind("daybook-", 0) == 0; }

}  // namespace

bool writer_list_allows(const std::vector<std::string>& list, std::string_view value, bool reserved_needs_exact) {
    for (const auto& entry : list) {
        if (entry == value) return true;
        if (entry.empty() || entry.back() != '*') continue;
        if (reserved_needs_exact && reserved_actor(value)) continue;
        if (value.rfind(std::string_view(entry).substr(0, entry.size() - 1), 0) == 0) return true;
    }
    return false;
}

result<std::shared_ptr<const writer_trust>, std::string> writer_trust::load(const std::string& path) {
    std::ifstream in(path);
    if (!in) return "cannot read the writers file " + path;
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), std::filesystem::path(path).parent_path().string());
}

result<std::shared_ptr<const writer_trust>, std::string> writer_trust::parse(const std::string& text, const std::string& base_dir) {
    auto trust = std::make_shared<writer_trust>();
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
        ++number;
        auto where = "writers file line " + std::to_string(number) + ": ";
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        std::istringstream words(line);
        std::string name, key_text, word;
        if (!(words >> name)) continue;  // blank or comment
        if (!(words >> key_text)) return where + "expected '<name> <public key> actors=... sources=...'";
        std::optional<std::vector<std::string>> actors, sources;
        while (words >> word) {
            if (word.rfind("actors=", 0) == 0) actors = split_list(word.substr(7));
            else if (word.rfind("sources=", 0) == 0) sources = split_list(word.substr(8));
            else return where + "unknown field '" + word + "' (actors=, sources=)";
        }
        if (!actors || actors->empty() || !sources || sources->empty()) return where + "needs non-empty actors= and sources=";
        if (key_text.size() != 64) {  // a PEM file, relative to the writers file
            auto path = std::filesystem::path(key_text).is_absolute() ? key_text : (std::filesystem::path(base_dir) / key_text).string();
            std::ifstream pem(path);
            if (!pem) return where + "cannot read the public key file " + path;
            std::stringstream ss;
            ss << pem.rdbuf();
            key_text = ss.str();
        }
        auto key = events::ed25519_public_key::from_text(key_text);
        if (!key) return where + "the public key is " + key.error();
        if (trust->writers_.count(name)) return where + "writer '" + name + "' listed twice";
        trust->writers_.emplace(name, writer{std::move(*key), std::move(*actors), std::move(*sources)});
    }
    if (trust->writers_.empty()) return std::string("the writers file lists no writer");
    return std::shared_ptr<const writer_trust>(std::move(trust));
}

std::optional<rejection> writer_trust::check(std::string_view writer_name, std::string_view signature, std::string_view key,
                                             std::string_view value, const v1::CommandEnvelope& command) const {
    if (writer_name.empty() || signature.empty())
        return rejection{rejection_code::writer_unsigned, "headers",
                         "the record carries no writer signature (daybook.writer, daybook.writer_signature)"};
    auto it = writers_.find(writer_name);
    if (it == writers_.end())
        return rejection{rejection_code::writer_unknown, "headers", "writer '" + std::string(writer_name) + "' is not in the writers file"};
    if (!it->second.key.verify(writer_payload(writer_name, key, value), signature))
        return rejection{rejection_code::writer_signature_invalid, "headers",
                         "the signature of writer '" + std::string(writer_name) + "' does not verify for this record"};
    if (!writer_list_allows(it->second.actors, command.actor(), true))
        return rejection{rejection_code::writer_not_allowed, "actor",
                         "writer '" + std::string(writer_name) + "' may not submit as actor '" + command.actor() + "'"};
    const std::string source = command.source().empty() ? "client" : command.source();  // as the processor records it
    if (!writer_list_allows(it->second.sources, source, false))
        return rejection{rejection_code::writer_not_allowed, "source",
                         "writer '" + std::string(writer_name) + "' may not submit with source '" + source + "'"};
    return std::nullopt;
}

std::optional<rejection> writer_trust::check(const rd_kafka_message_t* m, const v1::CommandEnvelope& command) const {
    std::string_view writer_name, signature;
    rd_kafka_headers_t* headers = nullptr;
    if (!rd_kafka_message_headers(m, &headers) && headers) {
        const void* v = nullptr;
        std::size_t n = 0;
        if (!rd_kafka_header_get_last(headers, writer_header, &v, &n) && v) writer_name = {static_cast<const char*>(v), n};
        if (!rd_kafka_header_get_last(headers, writer_signature_header, &v, &n) && v) signature = {static_cast<const char*>(v), n};
    }
    return check(writer_name, signature, std::string_view(static_cast<const char*>(m->key), m->key_len),
                 std::string_view(static_cast<const char*>(m->payload), m->len), command);
}

}  // namespace daybook::consumers
