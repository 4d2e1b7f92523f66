#pragma once
// 128-bit integers for sums of money (DESIGN.md rule 1: projections sum in 128 bits). A GCC/Clang
// extension; __extension__ keeps -Wpedantic quiet about it in one place.

#include <string>

namespace daybook {

__extension__ using int128 = __int128;
__extension__ using uint128 = unsigned __int128;

// Decimal text of a 128-bit integer, and back (the inverse for every text to_decimal writes).
std::string to_decimal(int128 v);
int128 parse_decimal(const std::string& text);

// a / b rounded half away from zero (b > 0): the one rounding rule of amounts Daybook computes.
inline int128 divide_rounded(int128 a, int128 b) {
    int128 q = a / b, r = a % b;
    if (r < 0) r = -r;
    if (2 * r >= b) q += a < 0 ? -1 : 1;
    return q;
}

}  // namespace daybook
