#include "api/server.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "api/tokens.h"
#include "consumers/outcome_hub.h"
#include "events/codec.h"
#include "events/limits.h"
#include "events/murmur2.h"
#include "projections/ledger_projection.h"

namespace daybook::api {
namespace {

using clock = std::chrono::steady_clock;

std::string json_of(const google::protobuf::Message& m) { return events::to_json(m); }

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) continue;
        out += c;
    }
    return out + "\"";
}

// RFC 9457 problem details.
void problem(httplib::Response& res, int status, const std::string& title, const std::string& detail,
             const std::string& field = "") {
    res.status = status;
    std::string body = "{\"type\":\"about:blank\",\"title\":" + json_string(title) + ",\"status\":" + std::to_string(status) +
                       ",\"detail\":" + json_string(detail);
    if (!field.empty()) body += ",\"field\":" + json_string(field);
    res.set_content(body + "}", "application/problem+json");
}

template <typename M>
std::string json_list(const std::vector<M>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + json_of(items[i]);
    return out + "]";
}

std::string outcome_json(const v1::Outcome& o) {
    auto json = json_of(o);
    json.pop_back();
    return json + ",\"token\":\"" + events::token_of(o) + "\"}";
}

}  // namespace

struct server::impl {
    consumers::kafka_settings kafka;
    consumers::topic_names topics;
    api_options opts;
    const projections::store& projection;
    const consumers::processor_stats* processor;
    const consumers::projector_stats* projector;
    std::shared_ptr<spdlog::logger> log;
    token_file tokens;
    std::mutex tokens_mutex;
    std::unique_ptr<consumers::outcome_hub> hub;
    consumers::rk_ptr producer;
    int partitions = 0;
    std::atomic<int> waiting{0};
    std::atomic<std::uint64_t> requests{0}, rejected_auth{0}, throttled{0};
    httplib::Server http;

    impl(consumers::kafka_settings k, consumers::topic_names t, api_options o, const projections::store& s,
         const consumers::processor_stats* ps, const consumers::projector_stats* js, std::shared_ptr<spdlog::logger> l)
        : kafka(std::move(k)), topics(std::move(t)), opts(std::move(o)), projection(s), processor(ps), projector(js),
          log(std::move(l)), tokens(opts.tokens_file) {}

    std::optional<principal> authorize(const httplib::Request& req, httplib::Response& res, role needed) {
        auto header = req.get_header_value("Authorization");
        std::optional<principal> who;
        if (header.rfind("Bearer ", 0) == 0) {
            std::lock_guard lock(tokens_mutex);
            who = tokens.authenticate(header.substr(7));
        }
        if (!who) {
            rejected_auth++;
            res.set_header("WWW-Authenticate", "Bearer");
            problem(res, 401, "unauthorized", "a valid bearer token is required (daybook tokens create)");
            return std::nullopt;
        }
        if (static_cast<int>(who->level) < static_cast<int>(needed)) {
            rejected_auth++;
            problem(res, 403, "forbidden", "role " + name_of(who->level) + " may not do this; it needs " + name_of(needed));
            return std::nullopt;
        }
        return who;
    }

    // Read-your-writes: waits (at most 10 s) until the projection has applied the token.
    bool wait_for_token(const httplib::Request& req, httplib::Response& res) {
        if (!req.has_param("min_token")) return true;
        auto wanted = events::parse_token(req.get_param_value("min_token"));
        if (!wanted) {
            problem(res, 400, "bad min_token", "min_token is P:SEQ[,P:SEQ...] from an outcome", "min_token");
            return false;
        }
        auto deadline = clock::now() + std::chrono::seconds(10);
        for (;;) {
            bool caught_up = true;
            for (const auto& [p, seq] : *wanted) {
                v1::PartitionPosition pos;
                if (auto raw = projection.get(projections::position_key(p))) pos.ParseFromString(*raw);
                caught_up &= pos.seq() >= seq;
            }
            if (caught_up) return true;
            if (clock::now() > deadline) {
                problem(res, 503, "not caught up", "the projection has not reached min_token yet; retry", "min_token");
                res.set_header("Retry-After", "1");
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    void post_commands(const httplib::Request& req, httplib::Response& res) {
        auto who = authorize(req, res, role::submitter);
        if (!who) return;
        std::vector<v1::CommandEnvelope> commands;
        google::protobuf::util::JsonParseOptions parse;
        parse.ignore_unknown_fields = false;
        v1::CommandBatch batch;
        v1::CommandEnvelope single;
        if (req.body.find("\"commands\"") != std::string::npos &&
            google::protobuf::util::JsonStringToMessage(req.body, &batch, parse).ok()) {
            commands.assign(batch.commands().begin(), batch.commands().end());
        } else if (auto st = google::protobuf::util::JsonStringToMessage(req.body, &single, parse); st.ok()) {
            commands.push_back(single);
        } else {
            return problem(res, 400, "invalid command", std::string(st.message()), "body");
        }
        if (commands.empty() || commands.size() > limits::linked_run_commands_max)
            return problem(res, 400, "invalid batch", "send 1 to 8189 commands", "commands");
        auto key_header = req.get_header_value("Idempotency-Key");
        for (std::size_t i = 0; i < commands.size(); ++i) {
            auto& c = commands[i];
            std::string f = commands.size() > 1 ? "commands[" + std::to_string(i) + "]." : "";
            if (!c.actor().empty())
                return problem(res, 400, "actor is set by the server", "the actor comes from the bearer token", f + "actor");
            if (c.command_id().empty() && commands.size() == 1) c.set_command_id(key_header);
            if (!key_header.empty() && commands.size() == 1 && c.command_id() != key_header)
                return problem(res, 400, "conflicting ids", "Idempotency-Key differs from command_id", "command_id");
            if (c.command_id().empty() || c.command_id().size() > limits::id_bytes_max)
                return problem(res, 400, "command_id required", "command_id (or Idempotency-Key) is the idempotency key",
                               f + "command_id");
            if (events::routing_key_of(c).empty())
                return problem(res, 400, "no command", "the envelope carries no command or its book_id is empty", f + "payload");
            c.set_actor(who->actor);
            if (c.source().empty()) c.set_source("api");
        }
        int wait_ms = 5000;
        if (req.has_param("wait_ms")) {
            try {
                wait_ms = std::clamp(std::stoi(req.get_param_value("wait_ms")), 0, 30000);
            } catch (...) {
                return problem(res, 400, "bad wait_ms", "wait_ms is a number of milliseconds, at most 30000", "wait_ms");
            }
        }
        if (waiting.fetch_add(1) >= opts.concurrent_waits_max) {
            waiting--;
            throttled++;
            res.set_header("Retry-After", "1");
            return problem(res, 429, "too many waiting requests", "retry after a second with the same command ids");
        }
        std::vector<std::string> ids;
        for (const auto& c : commands) {
            auto key = events::routing_key_of(c);
            auto value = events::serialize(c);
            ids.push_back(c.command_id());
            for (;;) {
                auto err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topics.commands().c_str()),
                                             RD_KAFKA_V_PARTITION(events::partition_for(key, partitions)),
                                             RD_KAFKA_V_KEY(key.data(), key.size()),
                                             RD_KAFKA_V_VALUE(value.data(), value.size()),
                                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    rd_kafka_poll(producer.get(), 10);
                    continue;
                }
                if (err) {
                    waiting--;
                    return problem(res, 503, "cannot submit", rd_kafka_err2str(err));
                }
                break;
            }
        }
        rd_kafka_poll(producer.get(), 0);
        std::set<std::string> unique(ids.begin(), ids.end());
        auto outcomes = hub->wait({unique.begin(), unique.end()}, clock::now() + std::chrono::milliseconds(wait_ms));
        waiting--;
        std::string body = "{\"outcomes\":[";
        std::string pending;
        bool first = true;
        for (const auto& id : ids) {
            auto it = outcomes.find(id);
            if (it == outcomes.end()) {
                pending += (pending.empty() ? "" : ",") + json_string(id);
                continue;
            }
            body += (first ? "" : ",") + outcome_json(it->second);
            first = false;
        }
        body += "],\"pending\":[" + pending + "]}";
        res.status = pending.empty() ? 200 : 202;
        res.set_content(body, "application/json");
    }

    void metrics(httplib::Response& res) {
        std::string m;
        auto line = [&](const std::string& name, const std::string& labels, std::uint64_t v) {
            m += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
        };
        if (processor) {
            m += "# TYPE daybook_commands_total counter\n";
            line("daybook_commands_total", "outcome=\"accepted\"", processor->accepted.load());
            line("daybook_commands_total", "outcome=\"rejected\"", processor->rejected.load());
            line("daybook_commands_total", "outcome=\"duplicate\"", processor->duplicates.load());
            line("daybook_commands_total", "outcome=\"dead_lettered\"", processor->dead_lettered.load());
            line("daybook_batches_total", "", processor->batches.load());
            line("daybook_producer_recreations_total", "", processor->producer_recreations.load());
            line("daybook_restores_total", "", processor->restores.load());
        }
        if (projector) {
            line("daybook_projected_events_total", "", projector->applied.load());
            line("daybook_projector_duplicates_skipped_total", "", projector->skipped_duplicates.load());
        }
        std::size_t stopped = 0;
        projection.scan("stop/", [&](std::string_view, std::string_view) { return ++stopped, true; });
        line("daybook_stopped_partitions", "", stopped);
        projection.scan("pos/", [&](std::string_view k, std::string_view v) {
            v1::PartitionPosition pos;
            pos.ParseFromArray(v.data(), static_cast<int>(v.size()));
            auto p = static_cast<std::uint32_t>(events::read_be64(std::string(4, '\0') + std::string(k.substr(4))));
            line("daybook_projected_seq", "partition=\"" + std::to_string(p) + "\"", pos.seq());
            return true;
        });
        line("daybook_http_requests_total", "", requests.load());
        line("daybook_http_unauthorized_total", "", rejected_auth.load());
        line("daybook_http_throttled_total", "", throttled.load());
        res.set_content(m, "text/plain; version=0.0.4");
    }

    void routes() {
        http.set_payload_max_length(opts.body_bytes_max);
        http.new_task_queue = [] { return new httplib::ThreadPool(48); };
        http.set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
            requests++;
            return httplib::Server::HandlerResponse::Unhandled;
        });
        http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
        http.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
            std::string why;
            projection.scan("stop/", [&](std::string_view, std::string_view v) {
                why += std::string(v) + "\n";
                return true;
            });
            res.status = why.empty() ? 200 : 503;
            res.set_content(why.empty() ? "ready\n" : "not ready: a partition is stopped\n" + why, "text/plain");
        });
        http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { metrics(res); });
        http.Post("/v1/commands", [this](const httplib::Request& req, httplib::Response& res) { post_commands(req, res); });
        auto query = [this](auto&& body) {
            return [this, body](const httplib::Request& req, httplib::Response& res) {
                if (!authorize(req, res, role::reader) || !wait_for_token(req, res)) return;
                body(req, res);
            };
        };
        http.Get(R"(/v1/books/([^/]+)/accounts)", query([this](const httplib::Request& req, httplib::Response& res) {
            auto accounts = projections::list_accounts(projection, req.matches[1]);
            res.set_content("{\"accounts\":" + json_list(accounts) + "}", "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/accounts/([^/]+))", query([this](const httplib::Request& req, httplib::Response& res) {
            auto a = projections::find_balance(projection, req.matches[1], req.matches[2]);
            if (!a) return problem(res, 404, "no such account", "account " + std::string(req.matches[2]) + " is not in book " + std::string(req.matches[1]));
            if (req.has_param("as_of"))
                for (const auto& acc : projections::accounts_as_of(projection, req.matches[1], req.get_param_value("as_of")))
                    if (acc.account_id() == a->account_id()) *a = acc;
            res.set_content(json_of(*a), "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/accounts/([^/]+)/statement)", query([this](const httplib::Request& req, httplib::Response& res) {
            std::uint64_t after = 0;
            std::size_t limit = 100;
            try {
                if (req.has_param("after")) after = std::stoull(req.get_param_value("after"));
                if (req.has_param("limit")) limit = std::clamp<std::size_t>(std::stoul(req.get_param_value("limit")), 1, 1000);
            } catch (...) {
                return problem(res, 400, "bad paging", "after and limit are numbers; limit at most 1000", "limit");
            }
            auto lines = projections::statement(projection, req.matches[1], req.matches[2], after, limit);
            std::string next = lines.size() == limit ? std::to_string(lines.back().line()) : "";
            res.set_content("{\"lines\":" + json_list(lines) + ",\"next_after\":" + json_string(next) + "}", "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/trial-balance)", query([this](const httplib::Request& req, httplib::Response& res) {
            res.set_content("{\"totals\":" + json_list(projections::trial_balance(projection, req.matches[1])) + "}",
                            "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/entries/([^/]+))", query([this](const httplib::Request& req, httplib::Response& res) {
            auto e = projections::find_entry(projection, req.matches[1], req.matches[2]);
            if (!e) return problem(res, 404, "no such entry", "entry " + std::string(req.matches[2]) + " is not in book " + std::string(req.matches[1]));
            res.set_content(json_of(*e), "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/balance-sheet)", query([this](const httplib::Request& req, httplib::Response& res) {
            std::string body = "{\"as_of\":" + json_string(req.get_param_value("as_of")) + ",\"currencies\":[";
            bool first = true;
            for (const auto& t : projections::balance_sheet(projection, req.matches[1], req.get_param_value("as_of"))) {
                body += std::string(first ? "" : ",") + "{\"currency\":" + json_string(t.currency) +
                        ",\"assets\":\"" + to_decimal(t.assets) + "\",\"liabilities\":\"" + to_decimal(t.liabilities) +
                        "\",\"equity\":\"" + to_decimal(t.equity) + "\",\"net_income\":\"" + to_decimal(t.net_income) +
                        "\",\"balanced\":" + (t.balanced ? "true" : "false") + "}";
                first = false;
            }
            res.set_content(body + "]}", "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/income-statement)", query([this](const httplib::Request& req, httplib::Response& res) {
            std::string body = "{\"from\":" + json_string(req.get_param_value("from")) + ",\"to\":" +
                               json_string(req.get_param_value("to")) + ",\"currencies\":[";
            bool first = true;
            for (const auto& t : projections::income_statement(projection, req.matches[1], req.get_param_value("from"),
                                                               req.get_param_value("to"))) {
                body += std::string(first ? "" : ",") + "{\"currency\":" + json_string(t.currency) + ",\"revenue\":\"" +
                        to_decimal(t.revenue) + "\",\"expenses\":\"" + to_decimal(t.expenses) + "\",\"net_income\":\"" +
                        to_decimal(t.revenue - t.expenses) + "\"}";
                first = false;
            }
            res.set_content(body + "]}", "application/json");
        }));
        http.Get(R"(/v1/books/([^/]+)/holds)", query([this](const httplib::Request& req, httplib::Response& res) {
            res.set_content("{\"holds\":" + json_list(projections::list_holds(projection, req.matches[1])) + "}",
                            "application/json");
        }));
    }

    result<ok_t, std::string> run(const std::atomic<bool>& stop) {
        if (opts.tokens_file.empty()) return std::string("--http needs --tokens-file (create one with `daybook tokens create`)");
        auto h = consumers::outcome_hub::start(kafka, topics);
        if (!h) return h.error();
        hub = std::move(*h);
        auto p = consumers::make_producer(kafka, "");
        if (!p) return p.error();
        producer = std::move(*p);
        auto count = consumers::partition_count(producer.get(), topics.commands(), 30000);
        if (!count) return count.error();
        partitions = *count;
        routes();
        auto colon = opts.listen.rfind(':');
        if (colon == std::string::npos) return "--http expects host:port, got " + opts.listen;
        std::string host = opts.listen.substr(0, colon);
        int port = std::stoi(opts.listen.substr(colon + 1));
        if (!http.bind_to_port(host, port)) return "cannot listen on " + opts.listen;
        std::thread listener([this] { http.listen_after_bind(); });
        log->info("http api listening address={}", opts.listen);
        while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        http.stop();
        listener.join();
        rd_kafka_flush(producer.get(), 10000);
        return ok;
    }
};

server::server(consumers::kafka_settings kafka, consumers::topic_names topics, api_options options,
               const projections::store& projection, const consumers::processor_stats* processor,
               const consumers::projector_stats* projector, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(std::move(kafka), std::move(topics), std::move(options), projection, processor,
                                   projector, std::move(log))) {}

server::~server() = default;

result<ok_t, std::string> server::run(const std::atomic<bool>& stop) { return impl_->run(stop); }

}  // namespace daybook::api
