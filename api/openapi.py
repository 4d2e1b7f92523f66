# Writes api/openapi.json, the HTTP API contract: edit this script, then run
#   python3 api/openapi.py > api/openapi.json
# (a test checks the JSON equals this script's output and lists exactly the server's routes).
import json
def p(name, where, desc, schema=None, required=False):
    return {"name": name, "in": where, "required": required or where == "path", "description": desc,
            "schema": schema or {"type": "string"}}
book = p("book", "path", "book id")
account = p("account", "path", "account id")
min_token = p("min_token", "query", "read-your-writes token (P:SEQ[,P:SEQ...]) from an outcome: wait, at most 10 s, until the projection has applied it; 503 with Retry-After otherwise")
after_line = p("after", "query", "page cursor: the last statement line already seen (0: from the start)", {"type": "integer", "minimum": 0})
limit = lambda mx, d: p("limit", "query", f"page size, 1 to {mx}", {"type": "integer", "minimum": 1, "maximum": mx, "default": d})
as_of = p("as_of", "query", "effective date YYYY-MM-DD: balances at the end of that day", {"type": "string", "format": "date"})
def ok(ref, desc="OK"):
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
problems = {"400": {"$ref": "#/components/responses/Problem"}, "401": {"$ref": "#/components/responses/Problem"},
            "403": {"$ref": "#/components/responses/Problem"}, "503": {"$ref": "#/components/responses/Problem"}}
def get(summary, params, ref, extra=None, secured=True):
    op = {"summary": summary, "parameters": params, "responses": {"200": ok(ref), **problems, **(extra or {})}}
    if not secured: op["security"] = []
    return {"get": op}
def text(summary, ctype):
    return {"get": {"summary": summary, "security": [], "responses": {"200": {"description": "OK", "content": {ctype: {"schema": {"type": "string"}}}}}}}
obj = lambda props, req=None: {"type": "object", "properties": props, **({"required": req} if req else {})}
s = lambda: {"type": "string"}
i = lambda: {"type": "integer"}
b = lambda: {"type": "boolean"}
arr = lambda x: {"type": "array", "items": x}
ref = lambda n: {"$ref": f"#/components/schemas/{n}"}
int64 = {"type": "string", "pattern": "^-?[0-9]+$", "description": "64-bit integer as a JSON string (protobuf JSON mapping)"}
doc = {
  "openapi": "3.0.3",
  "info": {"title": "Daybook HTTP API", "version": "1",
           "description": "Commands in, outcomes and projections out. Money is integer minor units with the account's scale; 64-bit integers are JSON strings. Errors are RFC 9457 problem+json with the offending field."},
  "servers": [{"url": "http://127.0.0.1:8080"}],
  "security": [{"bearer": []}],
  "paths": {
    "/": text("the back-office dashboard (no token needed to load it; it asks for one)", "text/html"),
    "/app.js": text("the dashboard's script", "text/javascript"),
    "/style.css": text("the dashboard's style sheet", "text/css"),
    "/healthz": text("liveness: the process answers", "text/plain"),
    "/readyz": {"get": {"summary": "readiness: 200 when no projection partition is stopped, else 503 with the reasons", "security": [],
                         "responses": {"200": {"description": "ready", "content": {"text/plain": {"schema": s()}}},
                                       "503": {"description": "a partition is stopped", "content": {"text/plain": {"schema": s()}}}}}},
    "/metrics": text("Prometheus text format: commands by outcome, transaction commit latency histogram, aborts, producer recreations, lag per partition, projection apply counts, stopped partitions, DLQ size, RocksDB sizes and cache usage", "text/plain"),
    "/v1/openapi.json": {"get": {"summary": "this document", "security": [], "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/v1/commands": {"post": {
        "summary": "submit one command or a batch; waits for the outcomes",
        "description": "Role submitter. The body is one CommandEnvelope or {\"commands\":[...]} in protobuf JSON (field names as in events/daybook.proto); unknown fields are rejected; the actor is set from the token and a client-supplied one is refused. The Idempotency-Key header stands for command_id of a single command. 429 with Retry-After when too many requests are waiting or the commands backlog is over its bound.",
        "parameters": [p("wait_ms", "query", "how long to wait for the outcomes", {"type": "integer", "minimum": 0, "maximum": 30000, "default": 5000}),
                       p("Idempotency-Key", "header", "the command_id of a single command")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "description": "CommandEnvelope or CommandBatch (events/daybook.proto)"}}}},
        "responses": {"200": ok("Outcomes", "every outcome arrived"), "202": ok("Outcomes", "some outcomes are still pending (listed in pending)"),
                      **problems, "413": {"$ref": "#/components/responses/Problem"}, "429": {"$ref": "#/components/responses/Problem"}}}},
    "/v1/books": get("books that have accounts", [min_token], "Books"),
    "/v1/books/{book}/accounts": get("accounts of a book with balances, in id order, paged", [book, p("after", "query", "page cursor: the last account id already seen"), limit(1000, 1000), as_of, min_token], "Accounts"),
    "/v1/books/{book}/accounts/{account}": get("one account's balance", [book, account, as_of, min_token], "Account", {"404": {"$ref": "#/components/responses/Problem"}}),
    "/v1/books/{book}/accounts/{account}/statement": get("an account's statement with running balance, paged", [book, account, after_line, limit(1000, 100), min_token], "Statement", {"404": {"$ref": "#/components/responses/Problem"}}),
    "/v1/books/{book}/trial-balance": get("trial balance per currency (debits equal credits)", [book, min_token], "TrialBalance"),
    "/v1/books/{book}/balance-sheet": get("assets = liabilities + equity + net income", [book, as_of, min_token], "BalanceSheet"),
    "/v1/books/{book}/income-statement": get("revenue - expenses = net income over effective dates [from, to]", [book, p("from", "query", "first effective date", {"type": "string", "format": "date"}), p("to", "query", "last effective date", {"type": "string", "format": "date"}), min_token], "IncomeStatement"),
    "/v1/books/{book}/entries/{entry}": get("one journal entry with the command and actor that caused it", [book, p("entry", "path", "entry id"), min_token], "Entry", {"404": {"$ref": "#/components/responses/Problem"}}),
    "/v1/books/{book}/holds": get("holds: open, captured, released, expired", [book, min_token], "Holds"),
    "/v1/books/{book}/invoices": get("invoices and bills of a book with lines, totals, status, outstanding amount, allocations and credit notes", [book, p("direction", "query", "customer (AR) or supplier (AP); both when absent", {"type": "string", "enum": ["customer", "supplier"]}), min_token], "Invoices"),
    "/v1/invoices/{invoice}": get("one invoice or bill", [p("invoice", "path", "invoice id"), min_token], "Invoice", {"404": {"$ref": "#/components/responses/Problem"}}),
    "/v1/books/{book}/payments": get("payments received and sent, with unallocated amounts and allocations", [book, min_token], "Payments"),
    "/v1/payments/{payment}": get("one payment", [p("payment", "path", "payment id"), min_token], "Payment", {"404": {"$ref": "#/components/responses/Problem"}}),
    "/v1/books/{book}/aging": get("AR or AP aging as of a date per counterparty: current, 1-30, 31-60, 61-90, over 90 days past due, and unallocated payments", [book, p("direction", "query", "customer (AR) or supplier (AP)", {"type": "string", "enum": ["customer", "supplier"]}, True), p("as_of", "query", "YYYY-MM-DD", {"type": "string", "format": "date"}, True), min_token], "Aging"),
    "/v1/books/{book}/reconciliation": get("control accounts (receivable, payable, advances) in the ledger against open items and unallocated payments, with what is still in flight", [book, min_token], "Reconciliation"),
    "/v1/books/{book}/counterparties": get("the book's customers and suppliers: every version, or with as_of those effective on that date", [book, p("as_of", "query", "YYYY-MM-DD: the version effective then", {"type": "string", "format": "date"}), min_token], "Counterparties"),
    "/v1/books/{book}/tax-codes": get("the book's tax codes and rates: every version, or with as_of the rate effective on that date", [book, p("as_of", "query", "YYYY-MM-DD: the rate effective then", {"type": "string", "format": "date"}), min_token], "TaxCodes"),
    "/v1/books/{book}/payroll": get("the book's employees (names opened, or [erased]) and payroll runs with their lines: pay data, so the read is first recorded in the log and needs a role with read_pay_data (403 otherwise, and the refusal is in the log too). With period and currency: only that period's runs, and what a run would pay now (preview; its total_minor is the expected_total_minor to submit)", [book, p("period", "query", "YYYY-MM, with currency: a preview of that run"), p("currency", "query", "with period"), min_token], "Payroll"),
    "/v1/books/{book}/counterparties/{counterparty}/statement": get("a customer's (supplier's) statement over effective dates [from, to]: opening balance per currency, invoices, credit notes, voids, payments, refunds, returns with the running balance, closing balance", [book, p("counterparty", "path", "customer or supplier id"), p("direction", "query", "customer or supplier", {"type": "string", "enum": ["customer", "supplier"]}, True), p("from", "query", "first date", {"type": "string", "format": "date"}), p("to", "query", "last date", {"type": "string", "format": "date"}), min_token], "CounterpartyStatement"),
    "/v1/approvals": get("commands held for a second person's approval (four eyes), with the routing key, command id and fingerprint an approve_command names", [min_token], "Approvals"),
    "/v1/security": get("the security realm: enforced or not, role grants, and actors who may both submit and approve a command (segregation of duties)", [min_token], "Security"),
    "/v1/events": get("the event log of one partition, decoded and verified record by record, paged and filtered", [
        p("partition", "query", "events partition", {"type": "integer", "minimum": 0, "default": 0}),
        p("after", "query", "page cursor: the last offset already seen (-1: from the start)", {"type": "integer", "minimum": -1, "default": -1}),
        limit(200, 50), p("type", "query", "payload name, e.g. entry_posted or command_rejected"), p("actor", "query", "actor"),
        p("command_id", "query", "command id or linked run id"), p("aggregate", "query", "aggregate stream id, e.g. book/acme"), min_token], "Events"),
    "/v1/dlq": get("records of daybook.commands that could not be read, paged", [p("after", "query", "the last offset already seen", {"type": "integer", "minimum": -1, "default": -1}), limit(200, 50), min_token], "Dlq"),
    "/v1/exceptions": get("what needs a person: stopped partitions, DLQ items, refused system postings", [min_token], "Exceptions"),
    "/v1/status": get("the pipeline per partition (commands lag, projection lag, chain heads) and counters", [min_token], "Status"),
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "a token from `daybook tokens create`; roles reader < submitter < admin"}},
    "responses": {"Problem": {"description": "RFC 9457 problem details", "content": {"application/problem+json": {"schema": ref("Problem")}}}},
    "schemas": {
      "Invoice": {"type": "object", "description": "InvoiceState (events/daybook.proto): draft (lines with net, tax, gross; totals), status, number, outstanding_minor, allocations, credits"},
      "Invoices": obj({"invoices": arr(ref("Invoice"))}),
      "Payment": {"type": "object", "description": "PaymentState (events/daybook.proto): payment, unallocated_minor, refunded_minor, returned, allocations"},
      "Payments": obj({"payments": arr(ref("Payment"))}),
      "Payroll": obj({"employees": arr(obj({"hired": obj({"book_id": s(), "employee_id": s(), "name": s(), "annual_salary_minor": int64, "currency": s(), "hire_date": s(), "subject": s()}), "salaries": arr(obj({"annual_salary_minor": int64, "effective_from": s(), "reason": s()})), "last_day": s(), "paid_through": s()})), "runs": arr(obj({"book_id": s(), "run_id": s(), "period": s(), "currency": s(), "pay_date": s(), "expense_account_id": s(), "payable_account_id": s(), "total_minor": int64, "lines": arr(obj({"employee_id": s(), "gross_minor": int64, "days_paid": i()}))})), "preview": obj({"period": s(), "currency": s(), "total_minor": int64, "lines": arr(obj({"employee_id": s(), "gross_minor": int64, "days_paid": i()}))})}),
      "Counterparties": obj({"counterparties": arr(obj({"book_id": s(), "counterparty_id": s(), "name": s(), "customer": b(), "supplier": b(), "effective_from": s(), "blocked": b()}))}),
      "TaxCodes": obj({"tax_codes": arr(obj({"book_id": s(), "code": s(), "rate_bp": i(), "effective_from": s(), "description": s()}))}),
      "Aging": obj({"as_of": s(), "rows": arr(obj({"counterparty": s(), "currency": s(), "current": s(), "days_1_30": s(), "days_31_60": s(), "days_61_90": s(), "over_90": s(), "total": s(), "unallocated": s()}))}),
      "Reconciliation": obj({"balanced": b(), "lines": arr(obj({"what": s(), "currency": s(), "ledger": s(), "documents": s(), "difference": s()})), "in_flight": arr(s())}),
      "CounterpartyStatement": obj({"opening": arr(obj({"currency": s(), "amount": s()})), "lines": arr(obj({"date": s(), "kind": {"type": "string", "enum": ["invoice", "bill", "credit_note", "void", "payment", "refund", "returned"]}, "document": s(), "currency": s(), "amount": s(), "balance": s()})), "closing": arr(obj({"currency": s(), "amount": s()}))}),
      "Approvals": obj({"held": arr(obj({"routing_key": s(), "command_id": s(), "requested_by": s(), "command_name": s(), "book_id": s(), "policy": s(), "expires_at_ms": i(), "fingerprint": {"type": "string", "format": "byte"}, "command": {"type": "object"}}))}),
      "Security": obj({"enforced": b(), "grants": arr(obj({"realm": s(), "actor": s(), "role": s(), "book_id": s()})), "duty_conflicts": arr(obj({"actor": s(), "book_id": s(), "command": s(), "submit_role": s(), "approve_role": s()}))}),
      "Problem": obj({"type": s(), "title": s(), "status": i(), "detail": s(), "field": s()}, ["title", "status"]),
      "Outcome": obj({"command_id": s(), "status": {"type": "string", "enum": ["OUTCOME_STATUS_ACCEPTED", "OUTCOME_STATUS_REJECTED", "OUTCOME_STATUS_PENDING_APPROVAL"]}, "code": i(), "code_name": s(), "field": s(), "detail": s(), "duplicate": b(), "token": {"type": "string", "description": "read-your-writes token for min_token"}}),
      "Outcomes": obj({"outcomes": arr(ref("Outcome")), "pending": arr(s())}, ["outcomes", "pending"]),
      "Books": obj({"books": arr(obj({"book_id": s()}))}),
      "Account": obj({"book_id": s(), "account_id": s(), "name": s(), "type": s(), "currency": s(), "scale": i(), "debits_minor": int64, "credits_minor": int64, "debits_pending_minor": int64, "credits_pending_minor": int64, "entry_count": int64, "statement_lines": int64, "closed": b(), "parent_account_id": s()}),
      "Accounts": obj({"accounts": arr(ref("Account")), "next_after": s()}),
      "StatementLine": obj({"line": int64, "entry_id": s(), "effective_date": s(), "memo": s(), "amount_minor": int64, "balance_minor": int64, "partition": i(), "seq": int64}),
      "Statement": obj({"lines": arr(ref("StatementLine")), "next_after": s()}),
      "TrialBalance": obj({"totals": arr(obj({"book_id": s(), "currency": s(), "debits_minor": {"type": "string", "description": "decimal text of a 128-bit sum"}, "credits_minor": {"type": "string", "description": "decimal text of a 128-bit sum"}, "accounts": int64}))}),
      "BalanceSheet": obj({"as_of": s(), "currencies": arr(obj({"currency": s(), "assets": s(), "liabilities": s(), "equity": s(), "net_income": s(), "balanced": b()}))}),
      "IncomeStatement": obj({"from": s(), "to": s(), "currencies": arr(obj({"currency": s(), "revenue": s(), "expenses": s(), "net_income": s()}))}),
      "Entry": obj({"entry_id": s(), "partition": i(), "seq": int64, "recorded_at_ms": int64, "actor": s(), "command_id": s()}),
      "Holds": obj({"holds": arr({"type": "object"})}),
      "Event": obj({"partition": i(), "offset": i(), "seq": i(), "hash_hex": s(), "event_id": s(), "type": s(), "stream_id": s(), "version": i(), "actor": s(), "command_id": s(), "correlation_id": s(), "causation_event_id": s(), "source": s(), "recorded_at_ms": i(), "effective_date": s(), "payload": {"type": "object"}, "error": s()}),
      "Events": obj({"events": arr(ref("Event")), "next_after": s()}),
      "DlqItem": obj({"offset": i(), "key": s(), "error": s(), "source_partition": s(), "source_offset": s(), "bytes": i(), "value_base64": s()}),
      "Dlq": obj({"items": arr(ref("DlqItem")), "next_after": s()}),
      "Exceptions": obj({"stopped_partitions": arr(obj({"partition": i(), "reason": s()})), "dlq_size": i(), "dlq": arr(ref("DlqItem")), "refused_postings": arr(obj({"routing_key": s(), "command_id": s(), "code_name": s(), "field": s(), "detail": s(), "causation_event_id": s()}))}),
      "PartitionStatus": obj({"partition": i(), "commands_end": i(), "commands_committed": i(), "commands_lag": i(), "events_end": i(), "committed_seq": i(), "projected_seq": i(), "projected_offset": i(), "projection_lag_events": i(), "head_hex": s(), "stopped": b(), "state": s()}),
      "Status": obj({"partitions": arr(ref("PartitionStatus")), "commands_backlog": i(), "commands_backlog_max": i(), "counters": {"type": "object", "additionalProperties": {"type": "integer"}}, "audit": obj({"chain_verified": b(), "heads": arr(obj({"partition": i(), "seq": i(), "head_hex": s()}))})}),
    }
  }
}
print(json.dumps(doc, indent=1))
