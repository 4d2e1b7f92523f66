#include "events/int128.h"

namespace daybook {

std::string to_decimal(int128 v) {
    if (v == 0) return "0";
    bool negative = v < 0;
    uint128 u = negative ? -static_cast<uint128>(v) : static_cast<uint128>(v);
    std::string out;
    while (u > 0) {
        out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
        u /= 10;
    }
    if (negative) out.insert(out.begin(), '-');
    return out;
}

int128 parse_decimal(const std::string& text) {
    int128 v = 0;
    bool negative = !text.empty() && text[0] == '-';
    for (std::size_t i = negative ? 1 : 0; i < text.size(); ++i) v = v * 10 + (text[i] - '0');
    return negative ? -v : v;
}

}  // namespace daybook
