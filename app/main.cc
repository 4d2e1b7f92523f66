// daybook: the command-line entry point. Configuration comes from (later wins) a config file
// (--config, TOML/INI), DAYBOOK_* environment variables, then flags; `daybook --help` lists all.

#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/options.h"

int main(int argc, char** argv) {
    using daybook::app::options;
    options o;
    o.processor.group_id.clear();  // <topic prefix>processor unless given (validate)
    CLI::App app{"Daybook: event-sourced transaction processing on Kafka"};
    app.require_subcommand(1);
    app.set_config("--config", "", "configuration file (TOML or INI; keys are the long flag names)");

    auto common = [&](CLI::App* c) {
        c->add_option("--brokers", o.kafka.brokers, "Kafka bootstrap servers")->envname("DAYBOOK_BROKERS")->capture_default_str();
        c->add_option("--topic-prefix", o.topics.prefix, "prefix of the topic names")->envname("DAYBOOK_TOPIC_PREFIX")->capture_default_str();
        c->add_option("--data-dir", o.data_dir, "directory of the RocksDB stores")->envname("DAYBOOK_DATA_DIR")->capture_default_str();
        c->add_option("--instance", o.processor.instance, "stable instance id of this process")->envname("DAYBOOK_INSTANCE")->capture_default_str();
        c->add_option("--group", o.processor.group_id, "consumer group of the command processors (default: <topic prefix>processor)")->envname("DAYBOOK_GROUP");
        c->add_option("--kafka", o.kafka_properties, "Kafka client property name=value (security.protocol, sasl.*, ssl.*, client.id)")->envname("DAYBOOK_KAFKA");
        c->add_option("--session-timeout-ms", o.kafka.session_timeout_ms, "consumer group session timeout")->envname("DAYBOOK_SESSION_TIMEOUT_MS")->capture_default_str();
        c->add_option("--transaction-timeout-ms", o.kafka.transaction_timeout_ms, "Kafka transaction timeout")->envname("DAYBOOK_TRANSACTION_TIMEOUT_MS")->capture_default_str();
        c->add_option("--keystore", o.keystore_dir, "directory of the personal-data keys (default: <data dir>/keystore)")->envname("DAYBOOK_KEYSTORE");
        c->add_option("--master-key-file", o.master_key_file, "master key of the key store, 64 hex characters, made when missing (default: <data dir>/master.key)")->envname("DAYBOOK_MASTER_KEY_FILE");
        c->add_flag("--development", o.development, "allow an unauthenticated (PLAINTEXT) Kafka connection")->envname("DAYBOOK_DEVELOPMENT");
        c->add_option("--writer-name", o.writer_name, "the name this process signs the commands it writes under (the processor's writers file lists it)")->envname("DAYBOOK_WRITER_NAME");
        c->add_option("--writer-key", o.writer_key_file, "Ed25519 private key (PEM) that signs the commands this process writes (daybook audit keygen makes one)")->envname("DAYBOOK_WRITER_KEY");
        c->add_option("--log-level", o.log_level, "trace, debug, info, warn, error")->envname("DAYBOOK_LOG_LEVEL")->capture_default_str();
    };

    auto* topics = app.add_subcommand("topics", "manage Daybook's topics");
    topics->require_subcommand(1);
    auto* create = topics->add_subcommand("create", "create the commands, events, outcomes and dlq topics");
    common(create);
    create->add_option("--partitions", o.layout.partitions, "partitions of commands and events (equal)")->capture_default_str();
    create->add_option("--outcome-partitions", o.layout.outcome_partitions, "partitions of outcomes")->capture_default_str();

    std::string roles = "processor,projector,scheduler,billing";
    auto* serve = app.add_subcommand("serve", "run the command processor and the projector");
    common(serve);
    serve->add_option("--http", o.http.listen, "serve the HTTP API on host:port (e.g. 127.0.0.1:8080)")
        ->envname("DAYBOOK_HTTP")
        ->each([&](const std::string&) { o.http_enabled = true; });
    serve->add_option("--tokens-file", o.http.tokens_file, "bearer tokens of the HTTP API (daybook tokens create)")
        ->envname("DAYBOOK_TOKENS_FILE");
    serve->add_option("--http-backlog-max", o.http.commands_backlog_max, "commands waiting to be decided above which POST /v1/commands answers 429")->envname("DAYBOOK_HTTP_BACKLOG_MAX")->capture_default_str();
    serve->add_option("--http-waits-max", o.http.concurrent_waits_max, "requests waiting for outcomes at once (the pool has 48 threads)")->envname("DAYBOOK_HTTP_WAITS_MAX")->check(CLI::Range(1, 40))->capture_default_str();
    serve->add_option("--tls-cert", o.http.tls_cert_file, "HTTPS: certificate chain (PEM)")->envname("DAYBOOK_TLS_CERT");
    serve->add_option("--tls-key", o.http.tls_key_file, "HTTPS: private key (PEM)")->envname("DAYBOOK_TLS_KEY");
    serve->add_option("--tls-client-ca", o.http.tls_client_ca_file, "HTTPS: require client certificates signed by this CA (PEM)")->envname("DAYBOOK_TLS_CLIENT_CA");
    serve->add_option("--dashboard-dir", o.http.dashboard_dir, "development: serve the dashboard files from this directory")->envname("DAYBOOK_DASHBOARD_DIR")->group("");
    serve->add_option("--scheduler-interval-ms", o.scheduler.interval_ms, "how often the scheduler's rules run (hold expiry)")->envname("DAYBOOK_SCHEDULER_INTERVAL_MS")->capture_default_str();
    serve->add_option("--writers", o.writers_file, "processor: the writers file; every command must then be signed by a writer it lists, who may stamp its actor and source (consumers/command_writer.h)")->envname("DAYBOOK_WRITERS");
    serve->add_option("--roles", roles, "processor, projector, scheduler (needs projector), billing (process managers), comma-separated")->envname("DAYBOOK_ROLES")->capture_default_str();
    serve->add_option("--commit-interval-ms", o.processor.commit_interval_ms, "longest time a batch stays in one transaction")->envname("DAYBOOK_COMMIT_INTERVAL_MS")->capture_default_str();
    serve->add_option("--batch-max", o.processor.batch_commands_max, "most commands in one transaction")->envname("DAYBOOK_BATCH_MAX")->capture_default_str();
    serve->add_option("--digest-every-events", o.projector.digest_every_events,
                      "the projector records its state digest after this many events, and at a clean stop (0: never); `daybook verify` replays to check it")
        ->envname("DAYBOOK_DIGEST_EVERY_EVENTS")->capture_default_str();
    serve->add_option("--store-cache-bytes", o.store.cache_bytes, "block cache bytes per store")->envname("DAYBOOK_STORE_CACHE_BYTES")->capture_default_str();
    serve->add_option("--fault-unknown-after-commit-every", o.processor.fault_unknown_after_commit_every)->envname("DAYBOOK_FAULT_UNKNOWN_AFTER_COMMIT_EVERY")->group("");
    serve->add_option("--fault-unknown-instead-of-commit-every", o.processor.fault_unknown_instead_of_commit_every)->envname("DAYBOOK_FAULT_UNKNOWN_INSTEAD_OF_COMMIT_EVERY")->group("");

    daybook::app::submit_args submit_args;
    auto* submit = app.add_subcommand("submit", "submit NDJSON commands and print their outcomes");
    common(submit);
    submit->add_option("file", submit_args.file, "file of commands, one JSON object per line; - for stdin")->capture_default_str();
    submit->add_option("--wait-ms", submit_args.wait_ms, "how long to wait for the outcomes")->capture_default_str();
    submit->add_flag("--quiet", submit_args.quiet, "print only the summary");
    submit->add_flag("--one-by-one", submit_args.one_by_one, "send each command after the previous one's outcome (keeps the order across books and documents)");

    daybook::app::query_args query_args;
    auto* query = app.add_subcommand("query", "read the projections");
    query->require_subcommand(1);
    auto query_common = [&](CLI::App* q) {
        common(q);
        q->add_option("--format", query_args.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
        q->add_option("--token", query_args.token, "read-your-writes token from an outcome: wait until it is projected");
        q->add_option("--wait-ms", query_args.wait_ms, "longest wait for --token")->capture_default_str();
        q->add_option("--known-at", query_args.known_at,
                      "as known at this time (YYYY-MM-DD: its end, UTC; YYYY-MM-DDTHH:MM:SS[.mmm]Z; epoch ms): balance and "
                      "trial-balance answer online, the other reports from a replay of the log to then");
    };
    auto* q_balance = query->add_subcommand("balance", "one account's balance");
    query_common(q_balance);
    q_balance->add_option("--book", query_args.book)->required();
    q_balance->add_option("--account", query_args.account)->required();
    auto* q_accounts = query->add_subcommand("accounts", "every account of a book with its balance");
    query_common(q_accounts);
    q_accounts->add_option("--book", query_args.book)->required();
    auto* q_tb = query->add_subcommand("trial-balance", "trial balance of a book per currency");
    query_common(q_tb);
    q_tb->add_option("--book", query_args.book)->required();
    auto* q_stmt = query->add_subcommand("statement", "an account's entries with running balance");
    query_common(q_stmt);
    q_stmt->add_option("--book", query_args.book)->required();
    q_stmt->add_option("--account", query_args.account)->required();
    q_stmt->add_option("--after", query_args.after, "page cursor: the last line already seen")->capture_default_str();
    q_stmt->add_option("--limit", query_args.limit, "lines per page")->check(CLI::Range(1, 10000))->capture_default_str();
    auto* q_entry = query->add_subcommand("entry", "one journal entry by id");
    query_common(q_entry);
    q_entry->add_option("--book", query_args.book)->required();
    q_entry->add_option("--entry", query_args.entry)->required();
    auto* q_digest = query->add_subcommand("digest", "SHA-256 state digest of every projection (deterministic replay)");
    query_common(q_digest);
    auto* q_state_digest = query->add_subcommand("state-digest", "the state digest tagged with the software version and the positions it belongs to");
    query_common(q_state_digest);
    q_balance->add_option("--as-of", query_args.as_of, "balance at the end of this effective date (YYYY-MM-DD)");
    q_tb->add_option("--as-of", query_args.as_of, "trial balance at the end of this effective date");
    auto* q_invoices = query->add_subcommand("invoices", "invoices and bills of a book: status, number, gross, outstanding");
    query_common(q_invoices);
    q_invoices->add_option("--book", query_args.book)->required();
    auto* q_aging = query->add_subcommand("aging", "AR or AP aging as of a date: current, 1-30, 31-60, 61-90, over 90 days");
    query_common(q_aging);
    q_aging->add_option("--book", query_args.book)->required();
    q_aging->add_option("--direction", query_args.direction, "customer (AR) or supplier (AP)")->check(CLI::IsMember({"customer", "supplier"}))->capture_default_str();
    q_aging->add_option("--as-of", query_args.as_of, "YYYY-MM-DD")->required();
    auto* q_cp = query->add_subcommand("counterparty", "a customer's or supplier's statement: invoices, credit notes, payments, running balance");
    query_common(q_cp);
    q_cp->add_option("--book", query_args.book)->required();
    q_cp->add_option("--counterparty", query_args.account, "customer or supplier id")->required();
    q_cp->add_option("--direction", query_args.direction, "customer or supplier")->check(CLI::IsMember({"customer", "supplier"}))->capture_default_str();
    q_cp->add_option("--from", query_args.from, "first date (YYYY-MM-DD)");
    q_cp->add_option("--to", query_args.to, "last date (YYYY-MM-DD)");
    auto* q_approvals = query->add_subcommand("approvals", "commands held for a second person's approval (four eyes)");
    query_common(q_approvals);
    auto* q_security = query->add_subcommand("security", "grants, enforcement, and who may approve what they submit (exit 1 on a conflict)");
    query_common(q_security);
    auto* q_parties = query->add_subcommand("counterparties", "the book's customers and suppliers (every version, or those effective --as-of)");
    query_common(q_parties);
    q_parties->add_option("--book", query_args.book)->required();
    q_parties->add_option("--as-of", query_args.as_of, "YYYY-MM-DD: the versions effective then");
    auto* q_payroll = query->add_subcommand("payroll", "the book's employees and payroll runs: pay data, needs a role with read_pay_data; the read is logged");
    query_common(q_payroll);
    q_payroll->add_option("--book", query_args.book)->required();
    q_payroll->add_option("--period", query_args.from, "YYYY-MM: only that period's runs, with their lines");
    q_payroll->add_option("--currency", query_args.currency, "with --period: what a run in this currency would pay now (its total is the expected_total_minor to submit)");
    auto* q_tax = query->add_subcommand("tax-codes", "the book's tax codes and rates (every version, or those effective --as-of)");
    query_common(q_tax);
    q_tax->add_option("--book", query_args.book)->required();
    q_tax->add_option("--as-of", query_args.as_of, "YYYY-MM-DD: the rates effective then");
    auto* q_reconcile = query->add_subcommand("reconcile", "control accounts against open items and unallocated payments (exit 1 on a difference)");
    query_common(q_reconcile);
    q_reconcile->add_option("--book", query_args.book)->required();
    auto* q_holds = query->add_subcommand("holds", "holds of a book: open, captured, released, expired");
    query_common(q_holds);
    q_holds->add_option("--book", query_args.book)->required();
    auto* q_bs = query->add_subcommand("balance-sheet", "assets = liabilities + equity + net income, as of a date");
    query_common(q_bs);
    q_bs->add_option("--book", query_args.book)->required();
    q_bs->add_option("--as-of", query_args.as_of, "effective date (default: everything posted)");
    auto* q_is = query->add_subcommand("income-statement", "revenue - expenses = net income over a date range");
    query_common(q_is);
    q_is->add_option("--book", query_args.book)->required();
    q_is->add_option("--from", query_args.from, "first effective date (default: the beginning)");
    q_is->add_option("--to", query_args.to, "last effective date (default: everything posted)");

    std::string status_format = "table";
    auto* status = app.add_subcommand("status", "per partition: positions, lag, stopped or not and why");
    common(status);
    status->add_option("--format", status_format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

    daybook::app::audit_args audit_args;
    auto* audit = app.add_subcommand("audit", "verify the events log, sign checkpoints, prove inclusion and consistency");
    audit->require_subcommand(1);
    auto audit_common = [&](CLI::App* c) {
        common(c);
        c->add_option("--log", audit_args.log_file, "an exported log file instead of the Kafka topic");
        c->add_option("--partitions", audit_args.partitions, "with --log: the log's partition count");
    };
    auto* a_verify = audit->add_subcommand("verify", "check every partition's sequence and hash chain, and the topic's retention");
    audit_common(a_verify);
    a_verify->add_option("--checkpoint", audit_args.checkpoint, "also prove the log still extends this signed checkpoint");
    a_verify->add_option("--public-key", audit_args.public_key, "the checkpoint signer's public key (PEM or hex)");
    auto* a_checkpoint = audit->add_subcommand("checkpoint", "sign {seq, head, Merkle root} per partition with Ed25519");
    audit_common(a_checkpoint);
    a_checkpoint->add_option("--key", audit_args.private_key, "Ed25519 private key (PEM), kept outside Kafka")->required();
    a_checkpoint->add_option("--out", audit_args.out, "checkpoint file to create (never overwritten)")->required();
    auto* a_keygen = audit->add_subcommand("keygen", "create an Ed25519 key pair for checkpoints");
    a_keygen->add_option("--private", audit_args.private_key, "private key file to create (mode 0600)")->required();
    a_keygen->add_option("--public", audit_args.public_key, "public key file to create")->required();
    auto* a_export = audit->add_subcommand("export", "write the events log to a file (docs/audit-format.md §5)");
    common(a_export);
    a_export->add_option("--out", audit_args.out, "file to write")->required();
    auto* a_prove = audit->add_subcommand("prove", "print the inclusion proof of one event");
    audit_common(a_prove);
    a_prove->add_option("--event", audit_args.event, "PARTITION:SEQ")->required();
    a_prove->add_option("--tree-size", audit_args.tree_size, "tree size (default: the whole partition)");
    auto* a_prove_c = audit->add_subcommand("prove-consistency", "print consistency proofs between two checkpoints");
    audit_common(a_prove_c);
    a_prove_c->add_option("old", audit_args.old_checkpoint)->required();
    a_prove_c->add_option("new", audit_args.new_checkpoint)->required();
    a_prove_c->add_option("--public-key", audit_args.public_key, "the checkpoints' signer's public key")->required();
    auto* a_check = audit->add_subcommand("check-proof", "verify an inclusion or consistency proof file, offline");
    a_check->add_option("proof", audit_args.proof)->required();

    auto* a_trail = audit->add_subcommand("trail", "every record of a command, correlation, actor or aggregate, rejections included");
    audit_common(a_trail);
    a_trail->add_option("--command-id", audit_args.command_id, "a command (or linked run) id");
    a_trail->add_option("--correlation-id", audit_args.correlation_id);
    a_trail->add_option("--actor", audit_args.actor);
    a_trail->add_option("--stream", audit_args.stream, "an aggregate stream, e.g. book/acme");
    auto* replay = app.add_subcommand("replay", "rebuild every projection from offset 0 into a fresh directory and print its digest");
    audit_common(replay);
    replay->add_option("--state-dir", audit_args.state_dir, "a new, empty directory")->required();
    replay->add_option("--to", audit_args.to_seqs, "stop at these sequences: P:SEQ[,P:SEQ...]");
    replay->add_option("--known-at", audit_args.known_at,
                       "only the events recorded by then (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.mmm]Z or epoch ms): every report as known at that time");
    auto* a_seals = audit->add_subcommand("seals", "check every sealed period: a replay to its chain heads gives the trial balance it sealed");
    audit_common(a_seals);
    a_seals->add_option("--book", audit_args.book, "one book (default: every book)");

    auto* state_digest = app.add_subcommand("state-digest", "the canonical digest of projection state, tagged with the software version and its positions");
    common(state_digest);

    daybook::app::close_period_args close_args;
    auto* close_period = app.add_subcommand("close-period", "close a period, wait for the process managers and the projector, then seal it");
    common(close_period);
    close_period->add_option("--book", close_args.book)->required();
    close_period->add_option("--through", close_args.through, "last date of the period, YYYY-MM-DD")->required();
    close_period->add_option("--wait-ms", close_args.wait_ms, "longest wait for each step")->capture_default_str();
    close_period->add_flag("--without-process-managers", close_args.without_process_managers,
                           "no billing process manager runs: do not wait for it");

    daybook::app::dlq_args dlq_args;
    auto* dlq = app.add_subcommand("dlq", "records of daybook.commands that could not be read");
    dlq->require_subcommand(1);
    auto* d_list = dlq->add_subcommand("list", "list DLQ records (offset, key, size, source, error)");
    common(d_list);
    d_list->add_option("--after", dlq_args.after, "page cursor: the last offset already seen")->capture_default_str();
    d_list->add_option("--limit", dlq_args.limit, "records per page")->check(CLI::Range(1, 10000))->capture_default_str();
    d_list->add_option("--format", dlq_args.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
    auto* d_show = dlq->add_subcommand("show", "one DLQ record with its bytes and whether it is readable now");
    common(d_show);
    d_show->add_option("offset", dlq_args.offset)->required();
    auto* d_resubmit = dlq->add_subcommand("resubmit", "send a DLQ record again (as it is, or corrected with --file) and print its outcome");
    common(d_resubmit);
    d_resubmit->add_option("offset", dlq_args.offset)->required();
    d_resubmit->add_option("--file", dlq_args.file, "the corrected command (protobuf JSON)");

    std::string verify_book;
    auto* verify = app.add_subcommand("verify", "what needs a person: stopped partitions, refused postings, DLQ, control accounts (exit 1 on a problem)");
    common(verify);
    verify->add_option("--book", verify_book, "one book (default: every book)");
    bool verify_no_replay = false;
    verify->add_flag("--no-replay", verify_no_replay, "skip replaying the log to the projector's latest recorded state digest");

    daybook::app::export_args export_args;
    auto* exp = app.add_subcommand("export", "journal, JET extract, trial balance or statement as CSV / JSON Lines, with a certificate");
    common(exp);
    exp->add_option("report", export_args.report, "journal, jet, trial-balance or statement")
        ->check(CLI::IsMember({"journal", "jet", "trial-balance", "statement"}))->required();
    exp->add_option("--book", export_args.book)->required();
    exp->add_option("--account", export_args.account, "statement: the account");
    exp->add_option("--as-of", export_args.as_of, "journal, jet, trial-balance: up to this effective date");
    exp->add_option("--known-at", export_args.known_at, "journal, jet, trial-balance: only what was recorded by this time");
    exp->add_option("--format", export_args.format, "csv or jsonl")->check(CLI::IsMember({"csv", "jsonl"}))->capture_default_str();
    exp->add_option("--out", export_args.out, "file to write (its certificate: FILE.certificate.json); - for stdout")->capture_default_str();

    daybook::app::tokens_args tokens_args;
    auto* tokens = app.add_subcommand("tokens", "bearer tokens of the HTTP API");
    tokens->require_subcommand(1);
    auto* t_create = tokens->add_subcommand("create", "create a token (printed once) for an actor and role");
    t_create->add_option("--file", tokens_args.file, "tokens file")->required();
    t_create->add_option("--actor", tokens_args.actor, "who the token stands for")->required();
    t_create->add_option("--role", tokens_args.role, "reader, submitter or admin")->capture_default_str();
    auto* t_revoke = tokens->add_subcommand("revoke", "revoke every token of an actor");
    t_revoke->add_option("--file", tokens_args.file, "tokens file")->required();
    t_revoke->add_option("--actor", tokens_args.actor)->required();

    daybook::app::security_args security_args;
    auto* security = app.add_subcommand("security", "Kafka ACLs for Daybook's roles");
    security->require_subcommand(1);
    auto* s_apply = security->add_subcommand("apply", "create the ACLs each role needs, and deny deleting or reconfiguring the events topic (as a super user)");
    common(s_apply);
    s_apply->add_option("--gateway-principal", security_args.gateway, "HTTP gateway and submit")->capture_default_str();
    s_apply->add_option("--processor-principal", security_args.processor)->capture_default_str();
    s_apply->add_option("--managers-principal", security_args.managers, "the process managers (role billing)")->capture_default_str();
    s_apply->add_option("--projector-principal", security_args.projector)->capture_default_str();
    s_apply->add_option("--auditor-principal", security_args.auditor)->capture_default_str();

    std::string erase_subject, erase_reason;
    auto* privacy = app.add_subcommand("privacy", "personal data: erase a data subject (crypto-shredding)");
    privacy->require_subcommand(1);
    auto* p_erase = privacy->add_subcommand("erase", "delete the subject's key, so its personal data in the log can never be read again, and record that");
    common(p_erase);
    p_erase->add_option("--subject", erase_subject, "the data subject, e.g. <book>/<counterparty id>")->required();
    p_erase->add_option("--reason", erase_reason, "why (recorded)");

    CLI11_PARSE(app, argc, argv);

    if (auto valid = daybook::app::validate(o); !valid) {
        std::fprintf(stderr, "daybook: %s\n", valid.error().c_str());
        return 2;
    }
    if (create->parsed()) return daybook::app::run_topics_create(o);
    if (serve->parsed()) return daybook::app::run_serve(o, roles);
    if (s_apply->parsed()) return daybook::app::run_security(o, security_args);
    if (p_erase->parsed()) return daybook::app::run_privacy_erase(o, erase_subject, erase_reason);
    if (submit->parsed()) return daybook::app::run_submit(o, submit_args);
    if (status->parsed()) return daybook::app::run_status(o, status_format);
    if (exp->parsed()) return daybook::app::run_export(o, export_args);
    if (verify->parsed()) return daybook::app::run_verify(o, verify_book, !verify_no_replay);
    if (close_period->parsed()) return daybook::app::run_close_period(o, close_args);
    for (auto* sub : dlq->get_subcommands()) {
        dlq_args.what = sub->get_name();
        return daybook::app::run_dlq(o, dlq_args);
    }
    for (auto* sub : tokens->get_subcommands()) {
        tokens_args.what = sub->get_name();
        return daybook::app::run_tokens(tokens_args);
    }
    if (state_digest->parsed()) {
        query_args.what = "state-digest";
        return daybook::app::run_query(o, query_args);
    }
    if (replay->parsed()) {
        audit_args.what = "replay";
        return daybook::app::run_audit(o, audit_args);
    }
    for (auto* sub : audit->get_subcommands()) {
        audit_args.what = sub->get_name();
        return daybook::app::run_audit(o, audit_args);
    }
    for (auto* q : query->get_subcommands()) {
        query_args.what = q->get_name();
        return daybook::app::run_query(o, query_args);
    }
    return 2;
}
