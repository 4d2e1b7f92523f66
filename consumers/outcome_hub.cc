#include "consumers/outcome_hub.h"

namespace daybook::consumers {

result<std::unique_ptr<outcome_hub>, std::string> outcome_hub::start(const kafka_settings& kafka,
                                                                     const topic_names& topics) {
    std::unique_ptr<outcome_hub> hub(new outcome_hub());
    auto c = make_consumer(kafka, "", "");
    if (!c) return c.error();
    hub->consumer_ = std::move(*c);
    auto count = partition_count(hub->consumer_.get(), topics.outcomes(), 30000);
    if (!count) return count.error();
    tpl_ptr list(rd_kafka_topic_partition_list_new(*count));
    for (int p = 0; p < *count; ++p) {
        auto w = watermarks(hub->consumer_.get(), topics.outcomes(), p, 30000);
        if (!w) return w.error();
        rd_kafka_topic_partition_list_add(list.get(), topics.outcomes().c_str(), p)->offset = w->second;
    }
    if (auto err = rd_kafka_assign(hub->consumer_.get(), list.get()))
        return "cannot read " + topics.outcomes() + ": " + error_text(err);
    hub->thread_ = std::thread([h = hub.get()] { h->loop(); });
    return hub;
}

outcome_hub::~outcome_hub() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

void outcome_hub::loop() {
    while (!stop_.load()) {
        message_ptr m(rd_kafka_consumer_poll(consumer_.get(), 100));
        if (!m || m->err) continue;
        v1::Outcome o;
        if (!o.ParseFromArray(m->payload, static_cast<int>(m->len))) continue;
        std::lock_guard lock(mutex_);
        auto id = o.command_id();
        // The first answer wins (a duplicate repeats it), except that a held command's decision
        // replaces its PENDING_APPROVAL: outcomes of one command arrive in their partition's order.
        auto [it, added] = cache_.try_emplace(id, o);
        if (added) order_.push_back(id);
        else if (it->second.status() == v1::OUTCOME_STATUS_PENDING_APPROVAL && o.status() != v1::OUTCOME_STATUS_PENDING_APPROVAL)
            it->second = std::move(o);
        while (order_.size() > cache_max) {
            cache_.erase(order_.front());
            order_.pop_front();
        }
        arrived_.notify_all();
    }
}

std::map<std::string, v1::Outcome> outcome_hub::wait(const std::vector<std::string>& ids,
                                                     std::chrono::steady_clock::time_point deadline) {
    std::map<std::string, v1::Outcome> found;
    std::unique_lock lock(mutex_);
    for (;;) {
        for (const auto& id : ids)
            if (!found.count(id))
                if (auto it = cache_.find(id); it != cache_.end()) found.emplace(id, it->second);
        if (found.size() >= ids.size()) return found;
        if (arrived_.wait_until(lock, deadline) == std::cv_status::timeout) {
            for (const auto& id : ids)
                if (!found.count(id))
                    if (auto it = cache_.find(id); it != cache_.end()) found.emplace(id, it->second);
            return found;
        }
    }
}

}  // namespace daybook::consumers
