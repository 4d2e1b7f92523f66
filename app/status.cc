#include <cstdio>

#include "app/options.h"
#include "consumers/pipeline_status.h"

namespace daybook::app {

int run_status(const options& o, const std::string& format) {
    auto consumer = consumers::make_consumer(o.kafka, o.processor.group_id, "");
    if (!consumer) return std::fprintf(stderr, "daybook status: %s\n", consumer.error().c_str()), 2;
    auto proj = open_projection_reader(o);
    auto status = consumers::pipeline_status(consumer->get(), o.topics, proj ? proj->get() : nullptr, 30000);
    if (!status) return std::fprintf(stderr, "daybook status: %s\n", status.error().c_str()), 2;
    bool json = format == "json";
    bool any_stopped = false;
    if (!json)
        std::printf("%4s %12s %12s %10s %12s %12s %10s %10s  %s\n", "part", "cmd_end", "cmd_done", "cmd_lag", "events_end",
                    "projected", "proj_seq", "proj_lag", "state");
    for (const auto& s : *status) {
        any_stopped |= s.stopped;
        if (json) {
            std::printf("%s\n", consumers::to_json(s).c_str());
        } else {
            std::printf("%4d %12lld %12lld %10lld %12lld %12lld %10llu %10lld  %s\n", s.partition,
                        (long long)s.commands_end, (long long)s.commands_committed, (long long)s.commands_lag,
                        (long long)s.events_end, (long long)s.projected_offset, (unsigned long long)s.projected_seq,
                        (long long)s.projection_lag_events, s.state.c_str());
        }
    }
    return any_stopped ? 1 : 0;
}

}  // namespace daybook::app
