#pragma once
// outcome_hub: one background reader of daybook.outcomes shared by every waiting request of a
// gateway (the HTTP API). It starts at the topic's end, keeps the most recent outcomes (bounded)
// and wakes the requests waiting for them. A request registers nothing in advance: because the hub
// started before the request produced, the outcome is either still to come or in the cache.
//
// Thread-safety: wait() may be called from any number of threads.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "daybook.pb.h"

namespace daybook::consumers {

class outcome_hub {
public:
    // Most outcomes kept for late waiters. Default: 200,000 (~100 MiB worst case).
    static constexpr std::size_t cache_max = 200'000;

    static result<std::unique_ptr<outcome_hub>, std::string> start(const kafka_settings& kafka,
                                                                   const topic_names& topics);
    ~outcome_hub();
    // The outcomes of `ids` that arrived before the deadline.
    std::map<std::string, v1::Outcome> wait(const std::vector<std::string>& ids,
                                            std::chrono::steady_clock::time_point deadline);

private:
    outcome_hub() = default;
    void loop();
    rk_ptr consumer_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::mutex mutex_;
    std::condition_variable arrived_;
    std::map<std::string, v1::Outcome> cache_;
    std::deque<std::string> order_;
};

}  // namespace daybook::consumers
