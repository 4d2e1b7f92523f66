#include "api/server.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "api/assets.h"
#include "aggregates/billing.h"
#include "aggregates/payroll.h"
#include "aggregates/security.h"
#include "consumers/command_writer.h"
#include "consumers/keystore.h"
#include "aggregates/validation.h"
#include "api/tokens.h"
#include "consumers/log_reader.h"
#include "consumers/outcome_hub.h"
#include "consumers/pipeline_status.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/limits.h"
#include "events/murmur2.h"
#include "projections/billing_projection.h"
#include "projections/ledger_projection.h"

namespace daybook::api {
namespace {

using clock = std::chrono::steady_clock;
using events::json_string;

std::string json_of(const google::protobuf::Message& m) { return events::to_json(m); }

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

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

// "/v1/books/{book}/accounts" -> "/v1/books/([^/]+)/accounts" (httplib matches the whole path).
std::string pattern_of(const std::string& path) {
    std::string out;
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '{') {
            i = path.find('}', i);
            out += "([^/]+)";
        } else {
            out += path[i];
        }
    }
    return out;
}

// An integer query parameter within [lo, hi]; writes a problem and returns nullopt when it is
// malformed or out of range.
std::optional<std::int64_t> int_param(const httplib::Request& req, httplib::Response& res, const std::string& name,
                                      std::int64_t lo, std::int64_t hi, std::int64_t fallback) {
    if (!req.has_param(name)) return fallback;
    const auto text = req.get_param_value(name);
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
        problem(res, 400, "bad " + name, name + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi),
                name);
        return std::nullopt;
    }
    return v;
}

// Microseconds as decimal seconds ("0.002500"), exact: no floating point.
std::string seconds_text(std::uint64_t us) {
    auto fraction = std::to_string(us % 1000000);
    return std::to_string(us / 1000000) + "." + std::string(6 - fraction.size(), '0') + fraction;
}

// Optional date parameters (YYYY-MM-DD); writes a problem and returns false when one is malformed.
bool dates_valid(const httplib::Request& req, httplib::Response& res, std::initializer_list<const char*> names) {
    for (const char* name : names)
        if (req.has_param(name) && !aggregates::valid_date(req.get_param_value(name))) {
            problem(res, 400, std::string("bad ") + name, std::string(name) + " must be a calendar date YYYY-MM-DD", name);
            return false;
        }
    return true;
}

// known_at: absent (stays nullopt), or a moment aggregates::parse_instant reads; false after a 400.
bool known_at_valid(const httplib::Request& req, httplib::Response& res, std::optional<std::int64_t>& out) {
    if (!req.has_param("known_at")) return true;
    auto t = aggregates::parse_instant(req.get_param_value("known_at"));
    if (!t) {
        problem(res, 400, "bad known_at", "known_at is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm]Z or epoch milliseconds", "known_at");
        return false;
    }
    out = t;
    return true;
}

std::string dlq_item_json(const consumers::page_record& r) {
    return "{\"offset\":" + std::to_string(r.offset) + ",\"key\":" + json_string(r.key) +
           ",\"error\":" + json_string(r.header("daybook.error")) +
           ",\"source_partition\":" + json_string(r.header("daybook.source_partition")) +
           ",\"source_offset\":" + json_string(r.header("daybook.source_offset")) +
           ",\"bytes\":" + std::to_string(r.value.size()) + ",\"value_base64\":" + json_string(base64(r.value)) + "}";
}

}  // namespace

struct server::impl {
    enum class access { open, reader, submitter };
    using handler = void (impl::*)(const httplib::Request&, httplib::Response&);
    struct route_def {
        const char* method;
        const char* path;  // OpenAPI form: /v1/books/{book}
        access needs;
        handler fn;
    };

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
    std::atomic<std::uint64_t> requests{0}, rejected_auth{0}, throttled{0}, throttled_backlog{0};
    std::unique_ptr<httplib::Server> http;

    // One reader for the event browser and the DLQ (requests take turns).
    std::mutex page_mutex;
    consumers::rk_ptr page_reader;

    // The pipeline's status, measured every second by the monitor thread.
    std::mutex status_mutex;
    std::vector<consumers::partition_status> status;
    std::int64_t dlq_size = 0;
    std::atomic<std::int64_t> backlog{0};

    impl(consumers::kafka_settings k, consumers::topic_names t, api_options o, const projections::store& s,
         const consumers::processor_stats* ps, const consumers::projector_stats* js, std::shared_ptr<spdlog::logger> l)
        : kafka(std::move(k)), topics(std::move(t)), opts(std::move(o)), projection(s), processor(ps), projector(js),
          log(std::move(l)), tokens(opts.tokens_file) {}

    static const std::vector<route_def>& defs() {
        static const std::vector<route_def> table{
            {"GET", "/", access::open, &impl::get_index},
            {"GET", "/app.js", access::open, &impl::get_app_js},
            {"GET", "/style.css", access::open, &impl::get_style_css},
            {"GET", "/healthz", access::open, &impl::get_healthz},
            {"GET", "/readyz", access::open, &impl::get_readyz},
            {"GET", "/metrics", access::open, &impl::get_metrics},
            {"GET", "/v1/openapi.json", access::open, &impl::get_openapi},
            {"POST", "/v1/commands", access::submitter, &impl::post_commands},
            {"GET", "/v1/books", access::reader, &impl::get_books},
            {"GET", "/v1/books/{book}/accounts", access::reader, &impl::get_accounts},
            {"GET", "/v1/books/{book}/accounts/{account}", access::reader, &impl::get_account},
            {"GET", "/v1/books/{book}/accounts/{account}/statement", access::reader, &impl::get_statement},
            {"GET", "/v1/books/{book}/trial-balance", access::reader, &impl::get_trial_balance},
            {"GET", "/v1/books/{book}/balance-sheet", access::reader, &impl::get_balance_sheet},
            {"GET", "/v1/books/{book}/income-statement", access::reader, &impl::get_income_statement},
            {"GET", "/v1/books/{book}/entries/{entry}", access::reader, &impl::get_entry},
            {"GET", "/v1/books/{book}/holds", access::reader, &impl::get_holds},
            {"GET", "/v1/books/{book}/invoices", access::reader, &impl::get_invoices},
            {"GET", "/v1/invoices/{invoice}", access::reader, &impl::get_invoice},
            {"GET", "/v1/books/{book}/payments", access::reader, &impl::get_payments},
            {"GET", "/v1/payments/{payment}", access::reader, &impl::get_payment},
            {"GET", "/v1/books/{book}/aging", access::reader, &impl::get_aging},
            {"GET", "/v1/books/{book}/reconciliation", access::reader, &impl::get_reconciliation},
            {"GET", "/v1/books/{book}/counterparties", access::reader, &impl::get_counterparties},
            {"GET", "/v1/books/{book}/payroll", access::reader, &impl::get_payroll},
            {"GET", "/v1/books/{book}/tax-codes", access::reader, &impl::get_tax_codes},
            {"GET", "/v1/books/{book}/counterparties/{counterparty}/statement", access::reader, &impl::get_counterparty_statement},
            {"GET", "/v1/approvals", access::reader, &impl::get_approvals},
            {"GET", "/v1/security", access::reader, &impl::get_security},
            {"GET", "/v1/events", access::reader, &impl::get_events},
            {"GET", "/v1/dlq", access::reader, &impl::get_dlq},
            {"GET", "/v1/exceptions", access::reader, &impl::get_exceptions},
            {"GET", "/v1/status", access::reader, &impl::get_status},
        };
        return table;
    }

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

    // ---- commands ------------------------------------------------------------------------------

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
            if (aggregates::billing::is_process_manager_command(c))
                return problem(res, 403, "a process manager's command",
                               "this step of a saga is sent by the billing process managers, never by a client", f + "payload");
            c.set_actor(who->actor);
            c.set_source("api");  // never a process manager's name
        }
        auto wait_ms = int_param(req, res, "wait_ms", 0, 30000, 5000);
        if (!wait_ms) return;
        if (backlog.load() > opts.commands_backlog_max) {
            throttled_backlog++;
            res.set_header("Retry-After", "5");
            return problem(res, 429, "commands backlog over its bound",
                           std::to_string(backlog.load()) + " commands are waiting to be decided (bound " +
                               std::to_string(opts.commands_backlog_max) + "); retry later with the same command ids");
        }
        if (waiting.fetch_add(1) >= opts.concurrent_waits_max) {
            waiting--;
            throttled++;
            res.set_header("Retry-After", "1");
            return problem(res, 429, "too many waiting requests", "retry after a second with the same command ids");
        }
        std::vector<std::string> ids;
        for (const auto& c : commands) {
            ids.push_back(c.command_id());
            if (auto err = produce_command(c)) {
                waiting--;
                return problem(res, 503, "cannot submit", rd_kafka_err2str(err));
            }
        }
        rd_kafka_poll(producer.get(), 0);
        std::set<std::string> unique(ids.begin(), ids.end());
        auto outcomes = hub->wait({unique.begin(), unique.end()}, clock::now() + std::chrono::milliseconds(*wait_ms));
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

    // ---- ledger queries ------------------------------------------------------------------------

    void get_books(const httplib::Request&, httplib::Response& res) {
        std::string body = "{\"books\":[";
        bool first = true;
        for (const auto& b : projections::list_books(projection)) {
            body += std::string(first ? "" : ",") + "{\"book_id\":" + json_string(b) + "}";
            first = false;
        }
        res.set_content(body + "]}", "application/json");
    }

    void get_accounts(const httplib::Request& req, httplib::Response& res) {
        std::optional<std::int64_t> known_at;
        if (!dates_valid(req, res, {"as_of"}) || !known_at_valid(req, res, known_at)) return;
        auto limit = int_param(req, res, "limit", 1, 1000, 1000);
        if (!limit) return;
        if (req.has_param("as_of") || known_at) {
            auto accounts = projections::accounts_as_of(projection, req.matches[1], req.get_param_value("as_of"), known_at);
            return res.set_content("{\"accounts\":" + json_list(accounts) + ",\"next_after\":\"\"}", "application/json");
        }
        auto accounts = projections::list_accounts(projection, req.matches[1], req.get_param_value("after"),
                                                   static_cast<std::size_t>(*limit));
        std::string next = accounts.size() == static_cast<std::size_t>(*limit) ? accounts.back().account_id() : "";
        res.set_content("{\"accounts\":" + json_list(accounts) + ",\"next_after\":" + json_string(next) + "}",
                        "application/json");
    }

    void get_account(const httplib::Request& req, httplib::Response& res) {
        std::optional<std::int64_t> known_at;
        if (!dates_valid(req, res, {"as_of"}) || !known_at_valid(req, res, known_at)) return;
        auto a = projections::find_balance(projection, req.matches[1], req.matches[2]);
        if (!a)
            return problem(res, 404, "no such account",
                           "account " + std::string(req.matches[2]) + " is not in book " + std::string(req.matches[1]));
        if (req.has_param("as_of") || known_at) {
            bool found = false;
            for (const auto& acc : projections::accounts_as_of(projection, req.matches[1], req.get_param_value("as_of"), known_at))
                if (acc.account_id() == a->account_id()) *a = acc, found = true;
            if (!found)
                return problem(res, 404, "no such account then",
                               "account " + std::string(req.matches[2]) + " had not been opened at known_at");
        }
        res.set_content(json_of(*a), "application/json");
    }

    void get_statement(const httplib::Request& req, httplib::Response& res) {
        auto after = int_param(req, res, "after", 0, INT64_MAX, 0);
        if (!after) return;
        auto limit = int_param(req, res, "limit", 1, 1000, 100);
        if (!limit) return;
        if (!projections::find_balance(projection, req.matches[1], req.matches[2]))
            return problem(res, 404, "no such account",
                           "account " + std::string(req.matches[2]) + " is not in book " + std::string(req.matches[1]));
        auto lines = projections::statement(projection, req.matches[1], req.matches[2], static_cast<std::uint64_t>(*after),
                                            static_cast<std::size_t>(*limit));
        std::string next = lines.size() == static_cast<std::size_t>(*limit) ? std::to_string(lines.back().line()) : "";
        res.set_content("{\"lines\":" + json_list(lines) + ",\"next_after\":" + json_string(next) + "}", "application/json");
    }

    void get_trial_balance(const httplib::Request& req, httplib::Response& res) {
        std::optional<std::int64_t> known_at;
        if (!dates_valid(req, res, {"as_of"}) || !known_at_valid(req, res, known_at)) return;
        if (req.has_param("as_of") || known_at) {
            auto accounts = projections::accounts_as_of(projection, req.matches[1], req.get_param_value("as_of"), known_at);
            auto rows = accounts.empty() ? std::vector<v1::TrialBalanceRow>{} : projections::trial_balance_of(accounts);
            return res.set_content("{\"as_of\":" + json_string(req.get_param_value("as_of")) + ",\"known_at_ms\":" +
                                       (known_at ? std::to_string(*known_at) : std::string("null")) +
                                       ",\"totals\":" + json_list(rows) + ",\"accounts\":" + json_list(accounts) + "}",
                                   "application/json");
        }
        res.set_content("{\"totals\":" + json_list(projections::trial_balance(projection, req.matches[1])) + "}",
                        "application/json");
    }

    void get_entry(const httplib::Request& req, httplib::Response& res) {
        auto e = projections::find_entry(projection, req.matches[1], req.matches[2]);
        if (!e)
            return problem(res, 404, "no such entry",
                           "entry " + std::string(req.matches[2]) + " is not in book " + std::string(req.matches[1]));
        res.set_content(json_of(*e), "application/json");
    }

    void get_balance_sheet(const httplib::Request& req, httplib::Response& res) {
        if (!dates_valid(req, res, {"as_of"})) return;
        std::string body = "{\"as_of\":" + json_string(req.get_param_value("as_of")) + ",\"currencies\":[";
        bool first = true;
        for (const auto& t : projections::balance_sheet(projection, req.matches[1], req.get_param_value("as_of"))) {
            body += std::string(first ? "" : ",") + "{\"currency\":" + json_string(t.currency) + ",\"assets\":\"" +
                    to_decimal(t.assets) + "\",\"liabilities\":\"" + to_decimal(t.liabilities) + "\",\"equity\":\"" +
                    to_decimal(t.equity) + "\",\"net_income\":\"" + to_decimal(t.net_income) +
                    "\",\"balanced\":" + (t.balanced ? "true" : "false") + "}";
            first = false;
        }
        res.set_content(body + "]}", "application/json");
    }

    void get_income_statement(const httplib::Request& req, httplib::Response& res) {
        if (!dates_valid(req, res, {"from", "to"})) return;
        std::string body = "{\"from\":" + json_string(req.get_param_value("from")) +
                           ",\"to\":" + json_string(req.get_param_value("to")) + ",\"currencies\":[";
        bool first = true;
        for (const auto& t : projections::income_statement(projection, req.matches[1], req.get_param_value("from"),
                                                           req.get_param_value("to"))) {
            body += std::string(first ? "" : ",") + "{\"currency\":" + json_string(t.currency) + ",\"revenue\":\"" +
                    to_decimal(t.revenue) + "\",\"expenses\":\"" + to_decimal(t.expenses) + "\",\"net_income\":\"" +
                    to_decimal(t.revenue - t.expenses) + "\"}";
            first = false;
        }
        res.set_content(body + "]}", "application/json");
    }

    void get_holds(const httplib::Request& req, httplib::Response& res) {
        res.set_content("{\"holds\":" + json_list(projections::list_holds(projection, req.matches[1])) + "}",
                        "application/json");
    }

    // ---- invoices, bills, payments ------------------------------------------------------------

    // ?direction=customer|supplier (both when absent); writes a problem and returns nullopt when
    // it is something else.
    std::optional<v1::InvoiceDirection> direction_param(const httplib::Request& req, httplib::Response& res, bool required) {
        auto d = req.get_param_value("direction");
        if (d == "customer") return v1::INVOICE_DIRECTION_CUSTOMER;
        if (d == "supplier") return v1::INVOICE_DIRECTION_SUPPLIER;
        if (d.empty() && !required) return v1::INVOICE_DIRECTION_UNSPECIFIED;
        problem(res, 400, "bad direction", "direction is customer (AR) or supplier (AP)", "direction");
        return std::nullopt;
    }

    void get_invoices(const httplib::Request& req, httplib::Response& res) {
        auto direction = direction_param(req, res, false);
        if (!direction) return;
        res.set_content("{\"invoices\":" + json_list(projections::list_invoices(projection, req.matches[1], *direction)) + "}",
                        "application/json");
    }

    void get_invoice(const httplib::Request& req, httplib::Response& res) {
        auto inv = projections::find_invoice(projection, req.matches[1]);
        if (!inv) return problem(res, 404, "no such invoice", "invoice " + std::string(req.matches[1]) + " does not exist");
        res.set_content(json_of(*inv), "application/json");
    }

    // One command into daybook.commands, signed with this process's writer key when it has one.
    rd_kafka_resp_err_t produce_command(const v1::CommandEnvelope& c) {
        return consumers::produce_command(producer.get(), topics, partitions, c, kafka.signer.get());
    }

    // A read of personal data is first recorded in the log as its reader (record_access,
    // aggregates/security.h); a read the processor refuses (no role for it, when permissions are
    // enforced) gets 403, one it cannot record in time 503: nothing personal leaves unrecorded.
    bool record_read(const httplib::Request& req, httplib::Response& res, const std::string& what, const std::string& book,
                     bool pay_data = false) {
        auto who = authorize(req, res, role::reader);
        if (!who) return false;
        static std::atomic<std::uint64_t> reads{std::random_device{}()};
        v1::CommandEnvelope c;
        c.set_command_id("read/" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch()).count()) +
                         "/" + std::to_string(reads++));
        c.set_actor(who->actor);
        c.set_source("api");
        auto* r = c.mutable_record_access();
        r->set_reader(who->actor);
        r->set_what(what);
        r->set_book_id(book);
        r->set_pay_data(pay_data);
        if (auto err = produce_command(c)) {
            problem(res, 503, "the read could not be recorded", rd_kafka_err2str(err));
            return false;
        }
        rd_kafka_poll(producer.get(), 0);
        auto outcomes = hub->wait({c.command_id()}, clock::now() + std::chrono::seconds(10));
        auto it = outcomes.find(c.command_id());
        if (it == outcomes.end()) {
            res.set_header("Retry-After", "1");
            problem(res, 503, "the read could not be recorded", "personal data is shown only after the read is recorded in the log");
            return false;
        }
        if (it->second.status() != v1::OUTCOME_STATUS_ACCEPTED) {
            problem(res, 403, "not permitted", it->second.code_name() + ": " + it->second.detail());
            return false;
        }
        return true;
    }

    void get_counterparties(const httplib::Request& req, httplib::Response& res) {
        if (!dates_valid(req, res, {"as_of"})) return;
        if (!record_read(req, res, "counterparties of book " + std::string(req.matches[1]), req.matches[1])) return;
        auto list = projections::counterparties(projection, req.matches[1], req.get_param_value("as_of"));
        consumers::open_names(list, opts.keystore_dir, opts.master_key_file);  // names are sealed personal data
        res.set_content("{\"counterparties\":" + json_list(list) + "}", "application/json");
    }

    // Pay data: the read is recorded first and needs a role with read_pay_data, enforced or not.
    void get_payroll(const httplib::Request& req, httplib::Response& res) {
        const std::string book = req.matches[1];
        const auto period = req.get_param_value("period"), currency = req.get_param_value("currency");
        if (period.empty() != currency.empty() || (!period.empty() && (period.size() != 7 || !aggregates::valid_date(period + "-01"))))
            return problem(res, 400, "invalid preview", "a preview needs period (YYYY-MM) and currency together", "period");
        if (!record_read(req, res, "payroll of book " + book, book, true)) return;
        projections::overlay view(projection, "");
        auto staff = aggregates::payroll::employees(view, book);
        consumers::open_names(staff, opts.keystore_dir, opts.master_key_file);  // names are sealed personal data
        auto runs = aggregates::payroll::runs(view, book);
        if (!period.empty()) std::erase_if(runs, [&](const auto& r) { return r.period() != period; });
        std::string body = "{\"employees\":" + json_list(staff) + ",\"runs\":" + json_list(runs);
        if (!period.empty()) body += ",\"preview\":" + json_of(aggregates::payroll::preview(view, book, period, currency));
        res.set_content(body + "}", "application/json");
    }

    void get_tax_codes(const httplib::Request& req, httplib::Response& res) {
        if (!dates_valid(req, res, {"as_of"})) return;
        auto list = projections::tax_codes(projection, req.matches[1], req.get_param_value("as_of"));
        res.set_content("{\"tax_codes\":" + json_list(list) + "}", "application/json");
    }

    // Commands held for a second person's approval, with what an approver needs to approve one
    // (approve_command: routing_key, command_id, fingerprint).
    void get_approvals(const httplib::Request&, httplib::Response& res) {
        projections::overlay view(projection, "");
        std::string body = "{\"held\":[";
        bool first = true;
        for (const auto& [key, held] : aggregates::security::held_commands(view, 1000)) {
            v1::CommandEnvelope command;
            command.ParseFromString(held.command());
            body += std::string(first ? "" : ",") + "{\"routing_key\":" + json_string(key) + ",\"command_id\":" + json_string(held.command_id()) +
                    ",\"requested_by\":" + json_string(held.requested_by()) + ",\"command_name\":" + json_string(held.command_name()) +
                    ",\"book_id\":" + json_string(held.book_id()) + ",\"policy\":" + json_string(held.policy()) +
                    ",\"expires_at_ms\":" + std::to_string(held.expires_at_ms()) + ",\"fingerprint\":" + json_string(base64(held.fingerprint())) +
                    ",\"command\":" + json_of(command) + "}";
            first = false;
        }
        res.set_content(body + "]}", "application/json");
    }

    // The security realm as recorded: enforced or not, grants, and segregation-of-duties conflicts.
    void get_security(const httplib::Request&, httplib::Response& res) {
        projections::overlay view(projection, "");
        std::string body = std::string("{\"enforced\":") + (view.get("secauth/enforced") ? "true" : "false") +
                           ",\"grants\":" + json_list(aggregates::security::grants(view)) + ",\"duty_conflicts\":[";
        bool first = true;
        for (const auto& c : aggregates::security::duty_conflicts(view)) {
            body += std::string(first ? "" : ",") + "{\"actor\":" + json_string(c.actor) + ",\"book_id\":" + json_string(c.book) +
                    ",\"command\":" + json_string(c.command) + ",\"submit_role\":" + json_string(c.submit_role) +
                    ",\"approve_role\":" + json_string(c.approve_role) + "}";
            first = false;
        }
        res.set_content(body + "]}", "application/json");
    }

    void get_payments(const httplib::Request& req, httplib::Response& res) {
        res.set_content("{\"payments\":" + json_list(projections::list_payments(projection, req.matches[1])) + "}",
                        "application/json");
    }

    void get_payment(const httplib::Request& req, httplib::Response& res) {
        auto p = projections::find_payment(projection, req.matches[1]);
        if (!p) return problem(res, 404, "no such payment", "payment " + std::string(req.matches[1]) + " does not exist");
        res.set_content(json_of(*p), "application/json");
    }

    void get_aging(const httplib::Request& req, httplib::Response& res) {
        auto direction = direction_param(req, res, true);
        if (!direction || !dates_valid(req, res, {"as_of"})) return;
        if (!req.has_param("as_of")) return problem(res, 400, "as_of required", "aging is as of a date YYYY-MM-DD", "as_of");
        std::string body = "{\"as_of\":" + json_string(req.get_param_value("as_of")) + ",\"rows\":[";
        bool first = true;
        for (const auto& r : projections::aging(projection, req.matches[1], *direction, req.get_param_value("as_of"))) {
            body += std::string(first ? "" : ",") + "{\"counterparty\":" + json_string(r.counterparty) +
                    ",\"currency\":" + json_string(r.currency) + ",\"current\":\"" + to_decimal(r.current) +
                    "\",\"days_1_30\":\"" + to_decimal(r.days_1_30) + "\",\"days_31_60\":\"" + to_decimal(r.days_31_60) +
                    "\",\"days_61_90\":\"" + to_decimal(r.days_61_90) + "\",\"over_90\":\"" + to_decimal(r.over_90) +
                    "\",\"total\":\"" + to_decimal(r.total) + "\",\"unallocated\":\"" + to_decimal(r.unallocated) + "\"}";
            first = false;
        }
        res.set_content(body + "]}", "application/json");
    }

    void get_counterparty_statement(const httplib::Request& req, httplib::Response& res) {
        auto direction = direction_param(req, res, true);
        if (!direction || !dates_valid(req, res, {"from", "to"})) return;
        auto st = projections::statement_of(projection, req.matches[1], *direction, req.matches[2], req.get_param_value("from"),
                                            req.get_param_value("to"));
        auto totals = [](const std::map<std::string, int128>& m) {
            std::string out;
            for (const auto& [currency, v] : m)
                out += (out.empty() ? "" : ",") + std::string("{\"currency\":") + json_string(currency) + ",\"amount\":\"" +
                       to_decimal(v) + "\"}";
            return "[" + out + "]";
        };
        std::string lines;
        for (const auto& l : st.lines)
            lines += (lines.empty() ? "" : ",") + std::string("{\"date\":") + json_string(l.date) + ",\"kind\":" +
                     json_string(l.kind) + ",\"document\":" + json_string(l.document) + ",\"currency\":" +
                     json_string(l.currency) + ",\"amount\":\"" + to_decimal(l.amount) + "\",\"balance\":\"" +
                     to_decimal(l.balance) + "\"}";
        res.set_content("{\"opening\":" + totals(st.opening) + ",\"lines\":[" + lines + "],\"closing\":" + totals(st.closing) + "}",
                        "application/json");
    }

    void get_reconciliation(const httplib::Request& req, httplib::Response& res) {
        auto r = projections::reconcile(projection, req.matches[1]);
        std::string lines, flight;
        for (const auto& l : r.lines)
            lines += (lines.empty() ? "" : ",") + std::string("{\"what\":") + json_string(l.what) + ",\"currency\":" +
                     json_string(l.currency) + ",\"ledger\":\"" + to_decimal(l.ledger) + "\",\"documents\":\"" +
                     to_decimal(l.documents) + "\",\"difference\":\"" + to_decimal(l.difference()) + "\"}";
        for (const auto& f : r.in_flight) flight += (flight.empty() ? "" : ",") + json_string(f);
        res.set_content("{\"balanced\":" + std::string(r.balanced() ? "true" : "false") + ",\"lines\":[" + lines +
                            "],\"in_flight\":[" + flight + "]}",
                        "application/json");
    }

    // ---- the log and operations ----------------------------------------------------------------

    // The event log, decoded: one partition, from after `after` (an offset; -1: the start),
    // filtered by type, actor, command id (or linked run id) and aggregate stream.
    void get_events(const httplib::Request& req, httplib::Response& res) {
        auto partition = int_param(req, res, "partition", 0, partitions - 1, 0);
        if (!partition) return;
        auto after = int_param(req, res, "after", -1, INT64_MAX - 1, -1);
        if (!after) return;
        auto limit = int_param(req, res, "limit", 1, 200, 50);
        if (!limit) return;
        const auto type = req.get_param_value("type"), actor = req.get_param_value("actor"),
                   command = req.get_param_value("command_id"), stream = req.get_param_value("aggregate");
        std::string body = "{\"events\":[";
        bool first = true;
        auto keep = [&](const consumers::page_record& r) {
            auto rec = events::read_sealed(static_cast<std::uint32_t>(*partition), r.value);
            if (!rec) {
                body += std::string(first ? "" : ",") + "{\"partition\":" + std::to_string(*partition) +
                        ",\"offset\":" + std::to_string(r.offset) + ",\"error\":" + json_string(rec.error()) + "}";
                first = false;
                return true;
            }
            const auto& e = rec->envelope;
            const auto kind = events::event_type(e);
            if ((!type.empty() && kind != type) || (!actor.empty() && e.actor() != actor) ||
                (!command.empty() && e.command_id() != command && e.linked_run_id() != command) ||
                (!stream.empty() && e.stream_id() != stream))
                return false;
            const auto* field = e.GetDescriptor()->FindFieldByNumber(e.payload_case());
            std::string payload = field ? json_of(e.GetReflection()->GetMessage(e, field)) : "{}";
            // Pay data is read only through the recorded, permissioned read (get_payroll).
            if (aggregates::payroll::is_event(e))
                payload = "{\"redacted\":\"pay data: GET /v1/books/{book}/payroll (needs read_pay_data; the read is recorded)\"}";
            body += std::string(first ? "" : ",") + "{\"partition\":" + std::to_string(*partition) +
                    ",\"offset\":" + std::to_string(r.offset) + ",\"seq\":" + std::to_string(rec->sealed.seq()) +
                    ",\"hash_hex\":" + json_string(events::to_hex(rec->sealed.hash())) +
                    ",\"event_id\":" + json_string(events::event_id_of(e)) + ",\"type\":" + json_string(kind) +
                    ",\"stream_id\":" + json_string(e.stream_id()) + ",\"version\":" + std::to_string(e.version()) +
                    ",\"actor\":" + json_string(e.actor()) + ",\"command_id\":" + json_string(e.command_id()) +
                    ",\"correlation_id\":" + json_string(e.correlation_id()) +
                    ",\"causation_event_id\":" + json_string(e.causation_event_id()) +
                    ",\"source\":" + json_string(e.source()) + ",\"recorded_at_ms\":" + std::to_string(e.recorded_at_ms()) +
                    ",\"effective_date\":" + json_string(e.effective_date()) + ",\"payload\":" + payload + "}";
            first = false;
            return true;
        };
        std::lock_guard lock(page_mutex);
        auto page = consumers::read_page(page_reader.get(), topics.events(), static_cast<int>(*partition), *after + 1,
                                         static_cast<std::size_t>(*limit), 10000, keep, 10000);
        if (!page) return problem(res, 503, "cannot read the log", page.error());
        std::string next = page->next_offset < 0 ? "" : std::to_string(page->next_offset - 1);
        res.set_content(body + "],\"next_after\":" + json_string(next) + "}", "application/json");
    }

    std::string dlq_items(std::int64_t after, std::size_t limit, std::string& next) {
        std::lock_guard lock(page_mutex);
        auto page = consumers::read_page(page_reader.get(), topics.dlq(), 0, after + 1, limit, limit, nullptr, 10000);
        if (!page) return "";
        std::string out;
        for (const auto& r : page->records) out += (out.empty() ? "" : ",") + dlq_item_json(r);
        next = page->next_offset < 0 ? "" : std::to_string(page->next_offset - 1);
        return out;
    }

    void get_dlq(const httplib::Request& req, httplib::Response& res) {
        auto after = int_param(req, res, "after", -1, INT64_MAX - 1, -1);
        if (!after) return;
        auto limit = int_param(req, res, "limit", 1, 200, 50);
        if (!limit) return;
        std::string next;
        auto items = dlq_items(*after, static_cast<std::size_t>(*limit), next);
        res.set_content("{\"items\":[" + items + "],\"next_after\":" + json_string(next) + "}", "application/json");
    }

    // What needs a person: stopped projection partitions, the DLQ, postings the ledger refused
    // (process managers' postings arrive with the invoicing work; none exist yet).
    void get_exceptions(const httplib::Request&, httplib::Response& res) {
        std::string stopped;
        projection.scan("stop/", [&](std::string_view k, std::string_view v) {
            auto p = static_cast<std::uint32_t>(events::read_be64(std::string(4, '\0') + std::string(k.substr(5))));
            stopped += (stopped.empty() ? "" : ",") + std::string("{\"partition\":") + std::to_string(p) +
                       ",\"reason\":" + json_string(v) + "}";
            return true;
        });
        std::int64_t size = 0;
        {
            std::lock_guard lock(status_mutex);
            size = dlq_size;
        }
        std::string next;
        auto items = dlq_items(-1, 100, next);
        std::string refused;
        for (const auto& e : projections::refused_postings(projection, 100)) {
            const auto& r = e.command_rejected();
            refused += (refused.empty() ? "" : ",") + std::string("{\"routing_key\":") + json_string(r.routing_key()) +
                       ",\"command_id\":" + json_string(r.command_id()) + ",\"code_name\":" + json_string(r.code_name()) +
                       ",\"field\":" + json_string(r.field()) + ",\"detail\":" + json_string(r.detail()) +
                       ",\"causation_event_id\":" + json_string(e.causation_event_id()) + "}";
        }
        res.set_content("{\"stopped_partitions\":[" + stopped + "],\"dlq_size\":" + std::to_string(size) + ",\"dlq\":[" +
                            items + "],\"refused_postings\":[" + refused + "]}",
                        "application/json");
    }

    void get_status(const httplib::Request&, httplib::Response& res) {
        std::string parts, heads;
        bool verified = true;
        {
            std::lock_guard lock(status_mutex);
            for (const auto& s : status) {
                parts += (parts.empty() ? "" : ",") + consumers::to_json(s);
                heads += (heads.empty() ? "" : ",") + std::string("{\"partition\":") + std::to_string(s.partition) +
                         ",\"seq\":" + std::to_string(s.projected_seq) + ",\"head_hex\":" + json_string(s.head_hex) + "}";
                verified &= !s.stopped;
            }
            verified &= !status.empty();
        }
        auto counter = [](const char* name, std::uint64_t v) { return "\"" + std::string(name) + "\":" + std::to_string(v); };
        std::string counters = counter("http_requests", requests.load()) + "," + counter("http_throttled", throttled.load()) +
                               "," + counter("http_throttled_backlog", throttled_backlog.load());
        if (processor)
            counters += "," + counter("commands", processor->commands.load()) + "," + counter("accepted", processor->accepted.load()) +
                        "," + counter("rejected", processor->rejected.load()) + "," +
                        counter("duplicates", processor->duplicates.load()) + "," +
                        counter("dead_lettered", processor->dead_lettered.load()) + "," +
                        counter("batches", processor->batches.load()) + "," +
                        counter("producer_recreations", processor->producer_recreations.load());
        if (projector)
            counters += "," + counter("projected_events", projector->applied.load()) + "," +
                        counter("projector_duplicates_skipped", projector->skipped_duplicates.load());
        // The projector checks every event's seq, prev_hash and hash as it applies it, so the
        // chain is verified through the projected seq of each partition unless one stopped.
        res.set_content("{\"partitions\":[" + parts + "],\"commands_backlog\":" + std::to_string(backlog.load()) +
                            ",\"commands_backlog_max\":" + std::to_string(opts.commands_backlog_max) + ",\"counters\":{" +
                            counters + "},\"audit\":{\"chain_verified\":" + (verified ? "true" : "false") +
                            ",\"heads\":[" + heads + "]}}",
                        "application/json");
    }

    void get_metrics(const httplib::Request&, httplib::Response& res) {
        std::string m;
        auto line = [&](const std::string& name, const std::string& labels, std::int64_t v) {
            m += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
        };
        auto type = [&](const std::string& name, const char* kind) { m += "# TYPE " + name + " " + kind + "\n"; };
        if (processor) {
            type("daybook_commands_total", "counter");
            line("daybook_commands_total", "outcome=\"accepted\"", static_cast<std::int64_t>(processor->accepted.load()));
            line("daybook_commands_total", "outcome=\"rejected\"", static_cast<std::int64_t>(processor->rejected.load()));
            line("daybook_commands_total", "outcome=\"duplicate\"", static_cast<std::int64_t>(processor->duplicates.load()));
            line("daybook_commands_total", "outcome=\"dead_lettered\"", static_cast<std::int64_t>(processor->dead_lettered.load()));
            type("daybook_batches_total", "counter");
            line("daybook_batches_total", "", static_cast<std::int64_t>(processor->batches.load()));
            type("daybook_producer_recreations_total", "counter");
            line("daybook_producer_recreations_total", "", static_cast<std::int64_t>(processor->producer_recreations.load()));
            type("daybook_restores_total", "counter");
            line("daybook_restores_total", "", static_cast<std::int64_t>(processor->restores.load()));
            type("daybook_transaction_aborts_total", "counter");
            line("daybook_transaction_aborts_total", "", static_cast<std::int64_t>(processor->aborts.load()));
            const auto& h = processor->commit_latency;
            type("daybook_transaction_commit_seconds", "histogram");
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < h.counts.size(); ++i) {
                cumulative += h.counts[i].load();
                std::string le = i < h.bounds_us.size() ? seconds_text(h.bounds_us[i]) : "+Inf";
                line("daybook_transaction_commit_seconds_bucket", "le=\"" + le + "\"", static_cast<std::int64_t>(cumulative));
            }
            m += "daybook_transaction_commit_seconds_sum " + seconds_text(h.sum_us.load()) + "\n";
            line("daybook_transaction_commit_seconds_count", "", static_cast<std::int64_t>(cumulative));
        }
        if (projector) {
            type("daybook_projected_events_total", "counter");
            line("daybook_projected_events_total", "", static_cast<std::int64_t>(projector->applied.load()));
            type("daybook_projector_duplicates_skipped_total", "counter");
            line("daybook_projector_duplicates_skipped_total", "", static_cast<std::int64_t>(projector->skipped_duplicates.load()));
        }
        {
            std::lock_guard lock(status_mutex);
            std::int64_t stopped = 0;
            type("daybook_commands_lag", "gauge");
            for (const auto& s : status) line("daybook_commands_lag", "partition=\"" + std::to_string(s.partition) + "\"", s.commands_lag);
            type("daybook_projection_lag_events", "gauge");
            for (const auto& s : status)
                line("daybook_projection_lag_events", "partition=\"" + std::to_string(s.partition) + "\"", s.projection_lag_events);
            type("daybook_projected_seq", "gauge");
            for (const auto& s : status)
                line("daybook_projected_seq", "partition=\"" + std::to_string(s.partition) + "\"",
                     static_cast<std::int64_t>(s.projected_seq));
            for (const auto& s : status) stopped += s.stopped;
            type("daybook_stopped_partitions", "gauge");
            line("daybook_stopped_partitions", "", stopped);
            type("daybook_dlq_records", "gauge");
            line("daybook_dlq_records", "", dlq_size);
        }
        type("daybook_commands_backlog", "gauge");
        line("daybook_commands_backlog", "", backlog.load());
        type("daybook_http_requests_total", "counter");
        line("daybook_http_requests_total", "", static_cast<std::int64_t>(requests.load()));
        type("daybook_http_unauthorized_total", "counter");
        line("daybook_http_unauthorized_total", "", static_cast<std::int64_t>(rejected_auth.load()));
        type("daybook_http_throttled_total", "counter");
        line("daybook_http_throttled_total", "reason=\"waits\"", static_cast<std::int64_t>(throttled.load()));
        line("daybook_http_throttled_total", "reason=\"backlog\"", static_cast<std::int64_t>(throttled_backlog.load()));
        for (const auto& [name, value] : projection.sizes()) {
            type("daybook_store_" + name, "gauge");
            line("daybook_store_" + name, "store=\"projection\"", value);
        }
        res.set_content(m, "text/plain; version=0.0.4");
    }

    void get_healthz(const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); }

    // Ready: the processor (when this process runs one) has been assigned partitions and restored
    // them, and no projection partition is stopped.
    void get_readyz(const httplib::Request&, httplib::Response& res) {
        std::string why;
        if (processor && processor->assignments.load() == 0) why += "the processor has no partitions assigned yet\n";
        if (processor && processor->partitions_restoring.load() > 0)
            why += "the processor is restoring " + std::to_string(processor->partitions_restoring.load()) + " partition(s)\n";
        projection.scan("stop/", [&](std::string_view, std::string_view v) {
            why += std::string(v) + "\n";
            return true;
        });
        res.status = why.empty() ? 200 : 503;
        res.set_content(why.empty() ? "ready\n" : "not ready:\n" + why, "text/plain");
    }

    // ---- files ---------------------------------------------------------------------------------

    void serve_file(const std::string& name, const char* content_type, httplib::Response& res) {
        std::string body;
        if (!opts.dashboard_dir.empty() && name != "openapi.json") {
            std::ifstream in(opts.dashboard_dir + "/" + name, std::ios::binary);
            if (!in) return problem(res, 404, "not found", name + " is not in " + opts.dashboard_dir);
            std::stringstream buffer;
            buffer << in.rdbuf();
            body = buffer.str();
        } else if (auto bytes = asset(name)) {
            body = std::string(*bytes);
        } else {
            return problem(res, 404, "not found", name + " is not built into this binary");
        }
        res.set_header("Cache-Control", "no-cache");
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        res.set_content(body, content_type);
    }
    void get_index(const httplib::Request&, httplib::Response& res) { serve_file("index.html", "text/html; charset=utf-8", res); }
    void get_app_js(const httplib::Request&, httplib::Response& res) { serve_file("app.js", "text/javascript; charset=utf-8", res); }
    void get_style_css(const httplib::Request&, httplib::Response& res) { serve_file("style.css", "text/css; charset=utf-8", res); }
    void get_openapi(const httplib::Request&, httplib::Response& res) { serve_file("openapi.json", "application/json", res); }

    // ---- wiring --------------------------------------------------------------------------------

    void routes() {
        http->set_payload_max_length(opts.body_bytes_max);
        http->new_task_queue = [] { return new httplib::ThreadPool(48); };
        http->set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
            requests++;
            return httplib::Server::HandlerResponse::Unhandled;
        });
        http->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
            if (res.status == 404 && res.body.empty()) problem(res, 404, "not found", "no route " + req.path);
            if (res.status == 413) problem(res, 413, "body too large", "a request body is at most 1 MiB", "body");
        });
        for (const auto& r : defs()) {
            auto fn = r.fn;
            auto needs = r.needs;
            httplib::Server::Handler h = [this, fn, needs](const httplib::Request& req, httplib::Response& res) {
                if (needs == access::reader && (!authorize(req, res, role::reader) || !wait_for_token(req, res))) return;
                (this->*fn)(req, res);
            };
            std::string pattern = pattern_of(r.path);
            if (std::string_view(r.method) == "POST")
                http->Post(pattern, h);
            else
                http->Get(pattern, h);
        }
    }

    // DLQ records counted as they arrive (offsets also count transaction markers, so the
    // watermarks cannot tell the number of records).
    std::int64_t dlq_counted_to = 0;
    void count_dlq() {
        std::lock_guard lock(page_mutex);
        auto page = consumers::read_page(page_reader.get(), topics.dlq(), 0, dlq_counted_to, 10000, 10000, nullptr, 5000);
        if (!page || page->records.empty()) return;
        dlq_counted_to = page->records.back().offset + 1;
        std::lock_guard status_lock(status_mutex);
        dlq_size += static_cast<std::int64_t>(page->records.size());
    }

    // Every second: the pipeline's status (lag, backlog, stopped partitions) and the DLQ size.
    void monitor(const std::atomic<bool>& stop) {
        auto consumer = consumers::make_consumer(kafka, opts.processor_group, "");
        if (!consumer) return log->error("status monitor disabled: {}", consumer.error());
        while (!stop.load()) {
            if (auto s = consumers::pipeline_status(consumer->get(), topics, &projection, 5000)) {
                std::lock_guard lock(status_mutex);
                status = std::move(*s);
                backlog = consumers::commands_backlog(status);
            }
            count_dlq();
            for (int i = 0; i < 20 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    result<ok_t, std::string> run(const std::atomic<bool>& stop) {
        if (opts.tokens_file.empty()) return std::string("--http needs --tokens-file (create one with `daybook tokens create`)");
        if (opts.tls_cert_file.empty() != opts.tls_key_file.empty())
            return std::string("TLS needs both --tls-cert and --tls-key");
        auto h = consumers::outcome_hub::start(kafka, topics);
        if (!h) return h.error();
        hub = std::move(*h);
        auto p = consumers::make_producer(kafka, "");
        if (!p) return p.error();
        producer = std::move(*p);
        auto reader = consumers::make_page_reader(kafka);
        if (!reader) return reader.error();
        page_reader = std::move(*reader);
        auto count = consumers::partition_count(producer.get(), topics.commands(), 30000);
        if (!count) return count.error();
        partitions = *count;
        if (opts.tls_cert_file.empty()) {
            http = std::make_unique<httplib::Server>();
        } else {
            auto tls = std::make_unique<httplib::SSLServer>(
                opts.tls_cert_file.c_str(), opts.tls_key_file.c_str(),
                opts.tls_client_ca_file.empty() ? nullptr : opts.tls_client_ca_file.c_str());
            if (!tls->is_valid()) return "cannot use the TLS certificate " + opts.tls_cert_file + " with key " + opts.tls_key_file;
            http = std::move(tls);
        }
        routes();
        auto colon = opts.listen.rfind(':');
        if (colon == std::string::npos) return "--http expects host:port, got " + opts.listen;
        std::string host = opts.listen.substr(0, colon);
        int port = std::stoi(opts.listen.substr(colon + 1));
        if (!http->bind_to_port(host, port)) return "cannot listen on " + opts.listen;
        std::thread watcher([this, &stop] { monitor(stop); });
        std::thread listener([this] { http->listen_after_bind(); });
        log->info("http api listening address={} tls={}", opts.listen, opts.tls_cert_file.empty() ? "off" : "on");
        while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        http->stop();
        listener.join();
        watcher.join();
        rd_kafka_flush(producer.get(), 10000);
        return ok;
    }
};

std::vector<route_spec> server::routes() {
    std::vector<route_spec> out;
    for (const auto& r : impl::defs()) out.push_back({r.method, r.path});
    return out;
}

server::server(consumers::kafka_settings kafka, consumers::topic_names topics, api_options options,
               const projections::store& projection, const consumers::processor_stats* processor,
               const consumers::projector_stats* projector, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_unique<impl>(std::move(kafka), std::move(topics), std::move(options), projection, processor,
                                   projector, std::move(log))) {}

server::~server() = default;

result<ok_t, std::string> server::run(const std::atomic<bool>& stop) { return impl_->run(stop); }

}  // namespace daybook::api
