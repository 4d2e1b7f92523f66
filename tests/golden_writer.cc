// Writes a golden log from NDJSON commands, through the same decide/seal/apply code the processor
// runs, with a fixed clock. Used once per new golden case; never to rewrite an existing one.
//   daybook_golden_writer COMMANDS.ndjson OUT.log PARTITIONS

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "consumers/command_state.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/murmur2.h"
#include "events/log_file.h"

using namespace daybook;

int main(int argc, char** argv) {
    if (argc != 4) return std::fprintf(stderr, "usage: %s COMMANDS.ndjson OUT.log PARTITIONS\n", argv[0]), 2;
    std::ifstream in(argv[1]);
    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    int partitions = std::atoi(argv[3]);
    struct part {
        events::memory_state state;
        std::uint64_t seq = 0;
        std::string head = events::genesis_hash();
    };
    std::map<int, part> parts;
    std::int64_t now = 1'795'000'000'000;  // 2026-11-18, fixed
    std::string line;
    std::size_t records = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        v1::CommandEnvelope cmd;
        if (!google::protobuf::util::JsonStringToMessage(line, &cmd).ok()) return std::fprintf(stderr, "bad line\n"), 2;
        cmd.set_actor("golden:writer");
        auto key = events::routing_key_of(cmd);
        int p = events::partition_for(key, partitions);
        auto& pt = parts[p];
        now += 1000;
        consumers::record_context ctx{key, events::fingerprint_of(cmd), now, "daybook golden"};
        if (consumers::find_command(pt.state, key, cmd.command_id())) continue;  // duplicate
        for (const auto& env : consumers::records_for(cmd, ctx, std::nullopt, pt.state)) {
            auto sealed = events::seal(static_cast<std::uint32_t>(p), ++pt.seq, pt.head, events::serialize(env));
            pt.head = sealed.hash;
            consumers::apply_record(pt.state, static_cast<std::uint32_t>(p), pt.seq, env);
            events::write_log_record(out, {static_cast<std::uint32_t>(p), sealed.value});
            ++records;
        }
    }
    std::printf("wrote %zu records\n", records);
    for (const auto& [p, pt] : parts)
        std::printf("head %d %llu %s\n", p, static_cast<unsigned long long>(pt.seq), events::to_hex(pt.head).c_str());
    return 0;
}
