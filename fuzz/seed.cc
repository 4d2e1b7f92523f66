// fuzz_seed GOLDEN_DIR CORPUS_DIR: writes the seed corpus of each target from the golden log and
// its commands (tests/golden). Run by hand when the formats change; the corpus is committed.
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "events/codec.h"
#include "events/log_file.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc != 3) return std::cerr << "usage: fuzz_seed GOLDEN_DIR CORPUS_DIR\n", 2;
    const fs::path golden = argv[1], corpus = argv[2];
    for (auto t : {"command_decoder", "event_decoder", "json_command", "chain_verifier"}) fs::create_directories(corpus / t);
    auto write = [](const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; };
    std::ifstream commands(golden / "ledger-v1.commands.ndjson");
    std::string line;
    int n = 0;
    while (std::getline(commands, line) && n < 40) {
        daybook::v1::CommandEnvelope c;
        if (!google::protobuf::util::JsonStringToMessage(line, &c).ok()) continue;
        write(corpus / "json_command" / ("seed-" + std::to_string(n)), line);
        write(corpus / "command_decoder" / ("seed-" + std::to_string(n)), daybook::events::serialize(c));
        ++n;
    }
    auto records = daybook::events::read_log_file((golden / "ledger-v1.log").string());
    for (std::size_t i = 0; i < records.size() && i < 40; ++i)
        write(corpus / "event_decoder" / ("seed-" + std::to_string(i)), std::string(1, char(records[i].partition)) + records[i].value);
    std::ofstream chain(corpus / "chain_verifier" / "seed-golden", std::ios::binary);
    for (std::size_t i = 0; i < records.size() && i < 60; ++i) daybook::events::write_log_record(chain, records[i]);
    std::cout << "seeded " << n << " commands and " << records.size() << " records\n";
    return 0;
}
