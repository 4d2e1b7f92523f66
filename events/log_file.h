#pragma once
// Exported logs (docs/audit-format.md §5): sealed records exactly as stored in daybook.events.
// Layout, repeated to the end of the file: partition u32 BE, length u32 BE, record value bytes.
// `daybook audit export` writes it; tests/golden/*.log use it; auditors verify it offline.

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace daybook::events {

struct log_record {
    std::uint32_t partition = 0;
    std::string value;
};

inline std::vector<log_record> read_log_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open log file " + path);
    std::vector<log_record> out;
    for (;;) {
        unsigned char head[8];
        if (!in.read(reinterpret_cast<char*>(head), 8)) break;
        auto be = [&](int at) {
            return std::uint32_t(head[at]) << 24 | std::uint32_t(head[at + 1]) << 16 |
                   std::uint32_t(head[at + 2]) << 8 | std::uint32_t(head[at + 3]);
        };
        log_record r{be(0), std::string(be(4), '\0')};
        if (!in.read(r.value.data(), static_cast<std::streamsize>(r.value.size())))
            throw std::runtime_error("log file " + path + " is truncated");
        out.push_back(std::move(r));
    }
    return out;
}

inline void write_log_record(std::ofstream& out, const log_record& r) {
    auto put = [&](std::uint32_t v) {
        char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
        out.write(b, 4);
    };
    put(r.partition);
    put(static_cast<std::uint32_t>(r.value.size()));
    out.write(r.value.data(), static_cast<std::streamsize>(r.value.size()));
}

}  // namespace daybook::events
