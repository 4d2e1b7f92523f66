#pragma once
// Golden log files: sealed event records exactly as they were stored in daybook.events.
// Layout, repeated to the end of the file: partition u32 BE, length u32 BE, record value bytes.
// A golden log is never rewritten: new cases are new files (DESIGN.md "Schema evolution").

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace daybook::testing {

struct golden_record {
    std::uint32_t partition = 0;
    std::string value;
};

inline std::vector<golden_record> read_golden(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open golden log " + path);
    std::vector<golden_record> out;
    for (;;) {
        unsigned char head[8];
        if (!in.read(reinterpret_cast<char*>(head), 8)) break;
        auto be = [&](int at) {
            return std::uint32_t(head[at]) << 24 | std::uint32_t(head[at + 1]) << 16 |
                   std::uint32_t(head[at + 2]) << 8 | std::uint32_t(head[at + 3]);
        };
        golden_record r{be(0), std::string(be(4), '\0')};
        if (!in.read(r.value.data(), static_cast<std::streamsize>(r.value.size())))
            throw std::runtime_error("golden log " + path + " is truncated");
        out.push_back(std::move(r));
    }
    return out;
}

inline void write_golden(std::ofstream& out, const golden_record& r) {
    auto put = [&](std::uint32_t v) {
        char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
        out.write(b, 4);
    };
    put(r.partition);
    put(static_cast<std::uint32_t>(r.value.size()));
    out.write(r.value.data(), static_cast<std::streamsize>(r.value.size()));
}

}  // namespace daybook::testing
