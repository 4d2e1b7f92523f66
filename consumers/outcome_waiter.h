#pragma once
// outcome_waiter: waits for the outcomes of commands a client submitted.
//
// Construct it BEFORE producing the commands: it takes the end offsets of daybook.outcomes then,
// so no outcome can be missed. wait() reads read_committed from there and returns every outcome
// of the ids asked for that arrived before the deadline. Reusable: call wait() again for more ids.
// One thread.

#include <chrono>
#include <map>
#include <set>
#include <string>

#include "consumers/kafka.h"
#include "consumers/topics.h"
#include "daybook.pb.h"

namespace daybook::consumers {

class outcome_waiter {
public:
    static result<std::unique_ptr<outcome_waiter>, std::string> open(const kafka_settings& kafka,
                                                                     const topic_names& topics);
    // Outcomes by command id for the ids in `ids`, stopping at the deadline.
    std::map<std::string, v1::Outcome> wait(const std::set<std::string>& ids,
                                            std::chrono::steady_clock::time_point deadline);

private:
    rk_ptr consumer_;
    std::map<std::string, v1::Outcome> seen_;  // outcomes read but not yet asked for
};

}  // namespace daybook::consumers
