#include "consumers/billing_manager.h"
#include "consumers/command_writer.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <thread>

#include "aggregates/billing.h"
#include "aggregates/payroll.h"
#include "aggregates/security.h"
#include "events/codec.h"
#include "events/hashing.h"
#include "events/limits.h"
#include "events/murmur2.h"

namespace daybook::consumers {
namespace {

using E = v1::EventEnvelope;
using clock = std::chrono::steady_clock;

// "pm/<event id>/<what>", hashed when it would be longer than a command id may be.
std::string derived_id(const v1::EventEnvelope& source, const std::string& what) {
    auto id = "pm/" + events::event_id_of(source) + "/" + what;
    if (id.size() <= limits::id_bytes_max) return id;
    return "pm/h" + events::to_hex(events::sha256(id)).substr(0, 64) + "/" + what.substr(0, 32);
}

v1::CommandEnvelope command_for(const v1::EventEnvelope& source, const std::string& what) {
    v1::CommandEnvelope c;
    c.set_command_id(derived_id(source, what));
    c.set_correlation_id(source.correlation_id());
    c.set_causation_event_id(events::event_id_of(source));
    c.set_actor("daybook-billing");
    c.set_source("billing-manager");
    return c;
}

// Legs of one entry, by role or by account; zero amounts are left out.
struct legs_builder {
    std::string currency;
    google::protobuf::RepeatedPtrField<v1::Leg> legs;
    void role(v1::AccountRole r, v1::Side side, std::int64_t amount) {
        if (amount <= 0) return;
        auto* l = legs.Add();
        l->set_account_role(r);
        l->set_side(side);
        l->set_amount_minor(amount);
        l->set_currency(currency);
    }
    void account(const std::string& id, v1::AccountRole fallback, v1::Side side, std::int64_t amount) {
        if (id.empty()) return role(fallback, side, amount);
        if (amount <= 0) return;
        auto* l = legs.Add();
        l->set_account_id(id);
        l->set_side(side);
        l->set_amount_minor(amount);
        l->set_currency(currency);
    }
};

void post(std::vector<v1::CommandEnvelope>& out, const v1::EventEnvelope& source, const std::string& book,
          const std::string& entry_id, const std::string& date, const std::string& memo, legs_builder& b) {
    if (b.legs.size() < 2) return;  // nothing to post (a document of zero value)
    auto& c = out.emplace_back(command_for(source, "post"));
    auto* p = c.mutable_post_entry();
    p->set_book_id(book);
    p->set_entry_id(entry_id);
    p->set_effective_date(date);
    p->set_memo(memo.substr(0, limits::memo_bytes_max));
    *p->mutable_legs() = std::move(b.legs);
}

constexpr auto debit = v1::SIDE_DEBIT;
constexpr auto credit = v1::SIDE_CREDIT;

void invoice_issued(std::vector<v1::CommandEnvelope>& out, const v1::EventEnvelope& e) {
    const auto& i = e.invoice_issued();
    const bool customer = i.direction() == v1::INVOICE_DIRECTION_CUSTOMER;
    const auto line_side = customer ? credit : debit;
    const auto line_role = customer ? v1::ACCOUNT_ROLE_REVENUE : v1::ACCOUNT_ROLE_EXPENSE;
    legs_builder b{i.currency(), {}};
    b.role(customer ? v1::ACCOUNT_ROLE_RECEIVABLE : v1::ACCOUNT_ROLE_PAYABLE, customer ? debit : credit, i.gross_minor());
    std::int64_t by_role = 0;
    std::map<std::string, std::int64_t> by_account;  // line account overrides, summed per account
    for (const auto& l : i.lines()) (l.account_id().empty() ? by_role : by_account[l.account_id()]) += l.net_minor();
    b.role(line_role, line_side, by_role);
    for (const auto& [account, net] : by_account) b.account(account, line_role, line_side, net);
    b.role(customer ? v1::ACCOUNT_ROLE_TAX_PAYABLE : v1::ACCOUNT_ROLE_TAX_RECEIVABLE, line_side, i.tax_minor());
    post(out, e, i.book_id(), aggregates::billing::posting_id("inv", i.invoice_id()), i.issue_date(),
         std::string(customer ? "invoice " : "bill ") + i.series_key() + " #" + std::to_string(i.number()) + " " +
             i.counterparty_id(),
         b);
}

void invoice_credited(std::vector<v1::CommandEnvelope>& out, const v1::EventEnvelope& e) {
    const auto& c = e.invoice_credited();
    const bool customer = c.direction() == v1::INVOICE_DIRECTION_CUSTOMER;
    const auto side = customer ? debit : credit;
    legs_builder b{c.currency(), {}};
    b.role(customer ? v1::ACCOUNT_ROLE_REVENUE : v1::ACCOUNT_ROLE_EXPENSE, side, c.net_minor());
    b.role(customer ? v1::ACCOUNT_ROLE_TAX_PAYABLE : v1::ACCOUNT_ROLE_TAX_RECEIVABLE, side, c.tax_minor());
    b.role(customer ? v1::ACCOUNT_ROLE_RECEIVABLE : v1::ACCOUNT_ROLE_PAYABLE, customer ? credit : debit, c.gross_minor());
    post(out, e, c.book_id(), aggregates::billing::posting_id("cn", c.invoice_id(), c.credit_note_id()), c.date(),
         "credit note " + c.credit_note_id() + " on " + c.invoice_id(), b);
}

// A payment's cash movement: `in` true when money comes into the bank.
void cash_entry(std::vector<v1::CommandEnvelope>& out, const v1::EventEnvelope& e, const std::string& book,
                const std::string& entry, const std::string& date, const std::string& currency,
                const std::string& bank_account, bool in, v1::AccountRole other, std::int64_t amount,
                const std::string& memo) {
    legs_builder b{currency, {}};
    b.account(bank_account, v1::ACCOUNT_ROLE_BANK, in ? debit : credit, amount);
    b.role(other, in ? credit : debit, amount);
    post(out, e, book, entry, date, memo, b);
}

}  // namespace

std::vector<v1::CommandEnvelope> follow_ups(const v1::EventEnvelope& e, int partitions) {
    auto out = billing_follow_ups(e);
    auto copies = aggregates::security::replication_commands(e, partitions);
    for (std::size_t p = 0; p < copies.size(); ++p) {
        auto& c = out.emplace_back(command_for(e, "replicate/" + std::to_string(p)));
        c.set_actor("daybook-security");
        c.set_source("security-replication");
        *c.mutable_replicate_security() = std::move(*copies[p].mutable_replicate_security());
    }
    return out;
}

std::vector<v1::CommandEnvelope> billing_follow_ups(const v1::EventEnvelope& e) {
    std::vector<v1::CommandEnvelope> out;
    switch (e.payload_case()) {
        case E::kInvoiceIssueRequested: {
            const auto& i = e.invoice_issue_requested();
            auto& c = out.emplace_back(command_for(e, "number"));
            auto* a = c.mutable_number_invoice();
            a->set_book_id(i.book_id());
            a->set_invoice_id(i.invoice_id());
            a->set_series_key(i.series_key());
            a->set_direction(i.direction());
            a->set_counterparty_id(i.counterparty_id());
            a->set_issue_date(i.issue_date());
            *a->mutable_tax_codes() = i.tax_codes();
            break;
        }
        case E::kNumberAssigned: {
            const auto& n = e.number_assigned();
            auto& c = out.emplace_back(command_for(e, "record"));
            auto* r = c.mutable_record_invoice_number();
            r->set_invoice_id(n.invoice_id());
            r->set_series_key(n.series_key());
            r->set_number(n.number());
            *r->mutable_rates() = n.rates();
            break;
        }
        case E::kNumberRefused: {
            const auto& n = e.number_refused();
            auto& c = out.emplace_back(command_for(e, "refuse"));
            auto* r = c.mutable_refuse_invoice_issue();
            r->set_invoice_id(n.invoice_id());
            r->set_code(n.code());
            r->set_code_name(n.code_name());
            r->set_detail(n.detail());
            break;
        }
        case E::kInvoiceIssued: invoice_issued(out, e); break;
        case E::kInvoiceVoided: {
            const auto& v = e.invoice_voided();
            if (!v.was_posted()) break;  // a draft, or a document of zero value, was never posted
            auto& c = out.emplace_back(command_for(e, "reverse"));
            auto* r = c.mutable_reverse_entry();
            r->set_book_id(v.book_id());
            r->set_entry_id(aggregates::billing::posting_id("inv", v.invoice_id()));
            r->set_reversal_entry_id(aggregates::billing::posting_id("inv", v.invoice_id(), "void"));
            r->set_effective_date(v.date());
            r->set_memo(("void: " + v.reason()).substr(0, limits::memo_bytes_max));
            break;
        }
        case E::kInvoiceCredited: invoice_credited(out, e); break;
        case E::kPaymentRecorded: {
            const auto& p = e.payment_recorded();
            bool received = p.direction() == v1::PAYMENT_DIRECTION_RECEIVED;
            cash_entry(out, e, p.book_id(), aggregates::billing::posting_id("pay", p.payment_id()), p.date(), p.currency(), p.bank_account_id(), received,
                       received ? v1::ACCOUNT_ROLE_CUSTOMER_ADVANCES : v1::ACCOUNT_ROLE_SUPPLIER_ADVANCES, p.amount_minor(),
                       std::string(received ? "payment from " : "payment to ") + p.counterparty_id());
            break;
        }
        case E::kAllocationRequested: {
            const auto& r = e.allocation_requested();
            auto& c = out.emplace_back(command_for(e, "apply"));
            auto* a = c.mutable_apply_allocation();
            a->set_invoice_id(r.invoice_id());
            a->set_payment_id(r.payment_id());
            a->set_allocation_id(r.allocation_id());
            a->set_amount_minor(r.amount_minor());
            a->set_currency(r.currency());
            a->set_date(r.date());
            a->set_book_id(r.book_id());
            a->set_direction(r.direction());
            a->set_counterparty_id(r.counterparty_id());
            break;
        }
        case E::kAllocationApplied: {
            auto& c = out.emplace_back(command_for(e, "confirm"));
            c.mutable_confirm_allocation()->set_payment_id(e.allocation_applied().payment_id());
            c.mutable_confirm_allocation()->set_allocation_id(e.allocation_applied().allocation_id());
            c.mutable_confirm_allocation()->set_date(e.allocation_applied().date());
            break;
        }
        case E::kAllocationDeclined: {
            const auto& d = e.allocation_declined();
            auto& c = out.emplace_back(command_for(e, "release"));
            auto* r = c.mutable_release_allocation();
            r->set_payment_id(d.payment_id());
            r->set_allocation_id(d.allocation_id());
            r->set_reason(d.code_name() + ": " + d.detail());
            break;
        }
        case E::kAllocationConfirmed: {
            const auto& a = e.allocation_confirmed();
            bool received = a.direction() == v1::PAYMENT_DIRECTION_RECEIVED;
            legs_builder b{a.currency(), {}};
            b.role(received ? v1::ACCOUNT_ROLE_CUSTOMER_ADVANCES : v1::ACCOUNT_ROLE_PAYABLE, debit, a.amount_minor());
            b.role(received ? v1::ACCOUNT_ROLE_RECEIVABLE : v1::ACCOUNT_ROLE_SUPPLIER_ADVANCES, credit, a.amount_minor());
            post(out, e, a.book_id(), aggregates::billing::posting_id("alloc", a.payment_id(), a.allocation_id()), a.date(),
                 "payment " + a.payment_id() + " allocated to " + a.invoice_id(), b);
            break;
        }
        case E::kPaymentRefunded: {
            const auto& r = e.payment_refunded();
            bool received = r.direction() == v1::PAYMENT_DIRECTION_RECEIVED;
            cash_entry(out, e, r.book_id(), aggregates::billing::posting_id("ref", r.payment_id(), r.refund_id()), r.date(), r.currency(),
                       r.bank_account_id(), !received,
                       received ? v1::ACCOUNT_ROLE_CUSTOMER_ADVANCES : v1::ACCOUNT_ROLE_SUPPLIER_ADVANCES, r.amount_minor(),
                       "refund " + r.refund_id() + " of payment " + r.payment_id());
            break;
        }
        case E::kPaymentReturned: {
            const auto& r = e.payment_returned();
            bool received = r.direction() == v1::PAYMENT_DIRECTION_RECEIVED;
            std::int64_t allocated = 0;
            for (const auto& a : r.allocations()) {
                allocated += a.amount_minor();
                auto& c = out.emplace_back(command_for(e, "unapply/" + a.allocation_id()));
                auto* ra = c.mutable_reverse_allocation();
                ra->set_invoice_id(a.invoice_id());
                ra->set_payment_id(r.payment_id());
                ra->set_allocation_id(a.allocation_id());
                ra->set_date(r.date());
            }
            legs_builder b{r.currency(), {}};
            auto side = received ? debit : credit;
            b.role(received ? v1::ACCOUNT_ROLE_RECEIVABLE : v1::ACCOUNT_ROLE_PAYABLE, side, allocated);
            b.role(received ? v1::ACCOUNT_ROLE_CUSTOMER_ADVANCES : v1::ACCOUNT_ROLE_SUPPLIER_ADVANCES, side,
                   r.unallocated_minor());
            b.account(r.bank_account_id(), v1::ACCOUNT_ROLE_BANK, received ? credit : debit, allocated + r.unallocated_minor());
            post(out, e, r.book_id(), aggregates::billing::posting_id("ret", r.payment_id()), r.date(), "payment " + r.payment_id() + " returned", b);
            break;
        }
        case E::kPayrollRunRecorded: {  // approved by a second person before it was recorded
            const auto& r = e.payroll_run_recorded();
            legs_builder b{r.currency(), {}};
            b.account(r.expense_account_id(), v1::ACCOUNT_ROLE_EXPENSE, debit, r.total_minor());
            b.account(r.payable_account_id(), v1::ACCOUNT_ROLE_PAYABLE, credit, r.total_minor());
            post(out, e, r.book_id(), aggregates::payroll::posting_id(r.run_id()), r.pay_date(),
                 "payroll " + r.period() + " run " + r.run_id() + " (" + std::to_string(r.lines_size()) + " employees)", b);
            break;
        }
        default: break;
    }
    return out;
}

billing_manager::billing_manager(kafka_settings kafka, topic_names topics, billing_manager_options options,
                                 std::shared_ptr<spdlog::logger> log)
    : kafka_(std::move(kafka)), topics_(std::move(topics)), options_(std::move(options)), log_(std::move(log)) {}

result<ok_t, std::string> billing_manager::run(const std::atomic<bool>& stop) {
    auto check = check_topics(kafka_, topics_);
    if (!check) return check.error();
    while (!stop.load()) {
        auto r = session(stop);
        if (!r) {
            if (r.error().starts_with("fenced")) return r.error();
            stats_.restarts++;
            log_->warn("billing manager restarts from its committed offsets reason={}", r.error());
            std::this_thread::sleep_for(std::chrono::milliseconds(500));
        }
    }
    return ok;
}

// One life of the clients: subscribe, then read -> produce -> commit offsets in transactions.
// Any failure ends the session; the next one resumes from the committed offsets, and the
// derived command ids make whatever is sent again a no-op.
result<ok_t, std::string> billing_manager::session(const std::atomic<bool>& stop) {
    auto consumer = make_consumer(kafka_, options_.group_id, options_.instance);
    if (!consumer) return consumer.error();
    const std::string txn_id = topics_.prefix + "billing-manager-" + options_.instance;
    auto producer = make_producer(kafka_, txn_id);
    if (!producer) return producer.error();
    for (;;) {
        error_ptr e(rd_kafka_init_transactions(producer->get(), kafka_.transaction_timeout_ms));
        if (!e) break;
        if (rd_kafka_error_code(e.get()) == RD_KAFKA_RESP_ERR__FENCED ||
            rd_kafka_error_code(e.get()) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
            return "fenced: another process holds transactional.id=" + txn_id;
        if (!rd_kafka_error_is_retriable(e.get()) || stop.load()) return std::string(rd_kafka_error_string(e.get()));
    }
    auto partitions = partition_count(producer->get(), topics_.commands(), 30000);
    if (!partitions) return partitions.error();
    tpl_ptr sub(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(sub.get(), topics_.events().c_str(), RD_KAFKA_PARTITION_UA);
    if (auto err = rd_kafka_subscribe(consumer->get(), sub.get())) return std::string("subscribe: ") + rd_kafka_err2str(err);
    log_->info("billing manager started transactional_id={} group={}", txn_id, options_.group_id);

    while (!stop.load()) {
        std::map<std::int32_t, std::int64_t> next_offsets;
        std::vector<v1::CommandEnvelope> commands;
        auto deadline = clock::now() + std::chrono::milliseconds(options_.commit_interval_ms);
        int read = 0;
        while (read < options_.batch_events_max && clock::now() < deadline && !stop.load()) {
            message_ptr m(rd_kafka_consumer_poll(consumer->get(), 20));
            if (!m) continue;
            if (m->err) {
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
                return std::string("consume: ") + rd_kafka_message_errstr(m.get());
            }
            ++read;
            next_offsets[m->partition] = m->offset + 1;
            auto rec = events::read_sealed(static_cast<std::uint32_t>(m->partition),
                                           std::string_view(static_cast<const char*>(m->payload), m->len));
            // A bad event stops the projector and the audit; here it is not ours to judge twice.
            if (!rec) return "unreadable event at partition " + std::to_string(m->partition) + " offset " + std::to_string(m->offset);
            for (auto& c : follow_ups(rec->envelope, *partitions)) commands.push_back(std::move(c));
        }
        if (next_offsets.empty()) continue;
        stats_.events += static_cast<std::uint64_t>(read);
        if (error_ptr e{rd_kafka_begin_transaction(producer->get())}) return std::string("begin: ") + rd_kafka_error_string(e.get());
        for (const auto& c : commands) {
            if (auto err = produce_command(producer->get(), topics_, *partitions, c, kafka_.signer.get())) {
                error_ptr abort(rd_kafka_abort_transaction(producer->get(), -1));
                return std::string("produce: ") + rd_kafka_err2str(err);
            }
        }
        tpl_ptr offsets(rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size())));
        for (const auto& [p, off] : next_offsets) rd_kafka_topic_partition_list_add(offsets.get(), topics_.events().c_str(), p)->offset = off;
        auto* cgmd = rd_kafka_consumer_group_metadata(consumer->get());
        error_ptr sent(rd_kafka_send_offsets_to_transaction(producer->get(), offsets.get(), cgmd, -1));
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        if (!sent) sent.reset(rd_kafka_commit_transaction(producer->get(), -1));
        if (sent) {
            error_ptr abort(rd_kafka_abort_transaction(producer->get(), -1));
            return std::string("commit: ") + rd_kafka_error_string(sent.get());
        }
        stats_.transactions++;
        stats_.commands += commands.size();
    }
    rd_kafka_consumer_close(consumer->get());
    return ok;
}

}  // namespace daybook::consumers
