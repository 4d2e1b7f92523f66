#include "consumers/outcome_waiter.h"

namespace daybook::consumers {

result<std::unique_ptr<outcome_waiter>, std::string> outcome_waiter::open(const kafka_settings& kafka,
                                                                          const topic_names& topics) {
    auto out = std::make_unique<outcome_waiter>();
    auto c = make_consumer(kafka, "", "");
    if (!c) return c.error();
    out->consumer_ = std::move(*c);
    auto count = partition_count(out->consumer_.get(), topics.outcomes(), 30000);
    if (!count) return count.error();
    tpl_ptr list(rd_kafka_topic_partition_list_new(*count));
    for (int p = 0; p < *count; ++p) {
        auto w = watermarks(out->consumer_.get(), topics.outcomes(), p, 30000);
        if (!w) return w.error();
        rd_kafka_topic_partition_list_add(list.get(), topics.outcomes().c_str(), p)->offset = w->second;
    }
    if (auto err = rd_kafka_assign(out->consumer_.get(), list.get()))
        return "cannot read " + topics.outcomes() + ": " + error_text(err);
    return out;
}

std::map<std::string, v1::Outcome> outcome_waiter::wait(const std::set<std::string>& ids,
                                                        std::chrono::steady_clock::time_point deadline) {
    std::map<std::string, v1::Outcome> found;
    for (const auto& id : ids) {
        if (auto it = seen_.find(id); it != seen_.end()) {
            found.insert(*it);
            seen_.erase(it);
        }
    }
    while (found.size() < ids.size() && std::chrono::steady_clock::now() < deadline) {
        message_ptr m(rd_kafka_consumer_poll(consumer_.get(), 100));
        if (!m || m->err) continue;
        v1::Outcome o;
        if (!o.ParseFromArray(m->payload, static_cast<int>(m->len))) continue;
        // The first outcome of a command wins (a later duplicate answer says the same), except
        // that a decision replaces "held for approval".
        auto keep = [&](std::map<std::string, v1::Outcome>& into) {
            auto [it, added] = into.emplace(o.command_id(), o);
            if (!added && it->second.status() == v1::OUTCOME_STATUS_PENDING_APPROVAL) it->second = o;
        };
        if (ids.count(o.command_id())) keep(found);
        else if (seen_.size() < 1'000'000) keep(seen_);
    }
    return found;
}

}  // namespace daybook::consumers
