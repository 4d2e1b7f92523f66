// `daybook export REPORT --book B [--account A] [--as-of D] [--format csv|jsonl] --out FILE`:
// writes FILE and FILE.certificate.json (projections/exports.h says what they hold).

#include <cstdio>
#include <fstream>

#include "aggregates/validation.h"
#include "app/options.h"
#include "projections/exports.h"

namespace daybook::app {

int run_export(const options& o, const export_args& a) {
    auto store = open_projection_reader(o);
    if (!store) return std::fprintf(stderr, "daybook export: %s\n", store.error().c_str()), 2;
    projections::export_request request{a.report, a.book, a.account, a.as_of, a.format, o.processor.software_version, {}};
    if (!a.known_at.empty()) {
        request.known_at_ms = aggregates::parse_instant(a.known_at);
        if (!request.known_at_ms)
            return std::fprintf(stderr, "daybook export: --known-at is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm]Z or epoch ms\n"), 2;
    }
    auto exported = projections::export_report(**store, request);
    if (!exported) return std::fprintf(stderr, "daybook export: %s\n", exported.error().c_str()), 2;
    if (a.out.empty() || a.out == "-") {
        std::fwrite(exported->data.data(), 1, exported->data.size(), stdout);
        std::fprintf(stderr, "%s", exported->certificate.c_str());
        return 0;
    }
    for (const auto& [path, bytes] : {std::pair{a.out, &exported->data},
                                      std::pair{a.out + ".certificate.json", &exported->certificate}}) {
        std::ofstream file(path, std::ios::binary | std::ios::trunc);
        file.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
        if (!file) return std::fprintf(stderr, "daybook export: cannot write %s\n", path.c_str()), 2;
    }
    std::printf("%s", exported->certificate.c_str());
    return 0;
}

}  // namespace daybook::app
