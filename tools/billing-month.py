#!/usr/bin/env python3
"""Writes a seeded month (2026-11) of invoices, bills, credit notes and payments for one book as
NDJSON command files, one per phase, and the results Daybook must reach, computed by an
independent Python model of the rules in aggregates/billing.h (with the billing register of
aggregates/billing.cc) and consumers/billing_manager.h.

    billing-month.py --seed N --book B [--invoices K] [--out-commands FILE] [--out-expected FILE]

Phases (FILE.<phase>.ndjson): setup, documents, payments, returns. Inside a phase each command
may be submitted as soon as the previous one's outcome has arrived; between phases the process
managers must have finished every saga step (numbers assigned, allocations applied or declined
and confirmed or released, postings made). The commands are chosen so that any interleaving of
the saga steps inside a phase gives the same final state: Model replays them with the steps run
at once, first-in-first-out at the phase end, or last-in-first-out, and the test compares.

The register: setup registers every counterparty (customers as customers, suppliers as
suppliers, from the start of the year) and the tax codes, STD changing rate in mid-month, so
coded lines are priced by their invoice's issue date on both sides of the change. The month
refuses three issues on purpose (the issue_invoice commands are accepted; the register answers
later): an invoice to a customer blocked from the 20th and a customer invoice to a supplier stay
drafts; an invoice to a customer not yet registered goes back to draft in the documents phase,
and in the payments phase the customer is registered and the invoice issued again. The register
only changes in setup and, for that customer, in a later phase than the refusal, so no saga
step inside a phase depends on when it runs.

Deterministic for a seed: the same files every time. Python standard library only."""
import argparse
import datetime
import json
import random
import re
import sys
from collections import deque
from dataclasses import dataclass, field

MONTH = "2026-11"
MONTH_DAYS = 30
AS_OF = "2026-11-30"
MAPPING_FROM = "2026-01-01"
CURRENCY = "EUR"
SCALE = 2
PHASES = ("setup", "documents", "payments", "returns")
TAX_RATES_BP = (0, 700, 1900, 2000)
# The register (aggregates/billing.cc, "Billing register"): (code, rate, effective from, description).
REGISTER_FROM = MAPPING_FROM
RATE_CHANGE = "2026-11-16"
TAX_CODES = (
    ("STD", 1900, REGISTER_FROM, "Standard rate"),
    ("STD", 2000, RATE_CHANGE, "Standard rate from 16 November"),
    ("RED", 700, REGISTER_FROM, "Reduced rate"),
    ("ZERO", 0, REGISTER_FROM, "Zero-rated exports"),
)
LINE_TAX_CODES = ("STD", "STD", "RED")  # the codes a line of a domestic document may carry
CODED_LINES_SHARE = 0.3
# The register's cases: a customer blocked from the 20th (invoiced before and after), and one
# registered only in the payments phase, after an invoice to it was refused.
HELD_CUSTOMER = "CUST-HELD"
BLOCKED_FROM = "2026-11-20"
LATE_CUSTOMER = "CUST-LATE"
LATE_REGISTERED_FROM = f"{MONTH}-01"
LINES_PER_DOCUMENT = (2, 5)
ALLOCATIONS_PER_COMMAND_MAX = 3
INVOICES_DEFAULT = 24
# Fewer invoices cannot hold every case the month must show (a voided draft, a voided issued
# invoice, two declined allocations, a returned payment).
INVOICES_MIN = 4
# Ids are at most 128 bytes; the longest id built from the book adds about 40.
BOOK_ID_BYTES_MAX = 64
# Limits of events/limits.h that the model enforces.
ID_BYTES_MAX = 128
MEMO_BYTES_MAX = 1000
INVOICE_LINES_MAX = 200
ALLOCATIONS_PER_COMMAND_LIMIT = 100
ALLOCATIONS_MAX = 1000
CREDIT_NOTES_MAX = 1000
PAYMENT_TERMS_DAYS_MAX = 3650
REGISTER_VERSIONS_MAX = 1000  # limits::mapping_versions_max: versions of one counterparty or tax code
INT64_MAX = 2**63 - 1
# A void has no date of its own: Daybook stamps the processor's business date. The model assumes
# the run happens on or before the as-of date, so voided invoices are void by then.
VOID_BUSINESS_DATE = AS_OF

DEBIT, CREDIT = "SIDE_DEBIT", "SIDE_CREDIT"
CUSTOMER, SUPPLIER = "INVOICE_DIRECTION_CUSTOMER", "INVOICE_DIRECTION_SUPPLIER"
RECEIVED, SENT = "PAYMENT_DIRECTION_RECEIVED", "PAYMENT_DIRECTION_SENT"

# (account id, name, type, role it is mapped to or None).
ACCOUNTS = (
    ("1100", "Bank", "ASSET", "BANK"),
    ("1200", "Accounts receivable", "ASSET", "RECEIVABLE"),
    ("1400", "Input tax receivable", "ASSET", "TAX_RECEIVABLE"),
    ("1500", "Supplier advances", "ASSET", "SUPPLIER_ADVANCES"),
    ("2000", "Accounts payable", "LIABILITY", "PAYABLE"),
    ("2100", "Output tax payable", "LIABILITY", "TAX_PAYABLE"),
    ("2200", "Customer advances", "LIABILITY", "CUSTOMER_ADVANCES"),
    ("4000", "Sales", "REVENUE", "REVENUE"),
    ("4100", "Services revenue", "REVENUE", None),
    ("5000", "Purchases", "EXPENSE", "EXPENSE"),
)
OVERRIDE_ACCOUNT = "4100"
PRODUCTS = ("Consulting hours", "Licence seat", "Support plan", "Hardware unit", "Training day",
            "Freight", "Spare parts", "Cloud credits")
# Quantities in thousandths: whole units, halves, thirds and odd amounts that make rounding work.
QUANTITIES_MILLI = (1000, 2000, 3000, 5000, 12000, 500, 250, 1500, 2500, 333, 1333, 7)
INT64_FIELDS = {"quantity_milli", "unit_price_minor", "gross_minor", "amount_minor"}


# ------------------------------------------------------------------------------------------------
# The rounding rule (aggregates/billing.h) and the credit-note split.

def div_round_half_away(numerator, denominator):
    """numerator / denominator rounded to the nearest integer, halves away from zero."""
    if denominator == 0:
        raise ZeroDivisionError("division by zero")
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return quotient if (numerator < 0) == (denominator < 0) else -quotient


def line_totals(quantity_milli, unit_price_minor, tax_rate_bp, prices_include_tax):
    """(net, tax, gross) of one line. Without tax in the price the tax is added to the amount;
    with tax in the price the amount is the gross and the net is taken out of it."""
    amount = div_round_half_away(quantity_milli * unit_price_minor, 1000)
    if prices_include_tax:
        gross = amount
        net = div_round_half_away(gross * 10000, 10000 + tax_rate_bp)
        return net, gross - net, gross
    tax = div_round_half_away(amount * tax_rate_bp, 10000)
    return amount, tax, amount + tax


def credit_split(credit_gross, invoice_tax, invoice_gross):
    """(net, tax) of a credit note: its gross split in the invoice's tax proportion."""
    tax = div_round_half_away(credit_gross * invoice_tax, invoice_gross)
    return credit_gross - tax, tax


# ------------------------------------------------------------------------------------------------
# Dates.

def day_of_month(day):
    return f"{MONTH}-{day:02d}"


def add_days(iso_date, days):
    return (datetime.date.fromisoformat(iso_date) + datetime.timedelta(days=days)).isoformat()


def days_between(earlier, later):
    return (datetime.date.fromisoformat(later) - datetime.date.fromisoformat(earlier)).days


def valid_date(text):
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        return 1900 <= datetime.date.fromisoformat(text).year <= 9999
    except ValueError:
        return False


def valid_id(text):
    return isinstance(text, str) and 1 <= len(text) <= ID_BYTES_MAX and re.fullmatch(r"[!-~]+", text) is not None


def valid_code(text):
    """Series and tax codes: ids without '/' (a series key is "<book>/<series>")."""
    return valid_id(text) and "/" not in text


def effective_on(versions, date):
    """The version (effective date -> value) in force on `date`: the latest dated on or before
    it; None before the first."""
    dates = [effective for effective in versions if effective <= date]
    return versions[max(dates)] if dates else None


# ------------------------------------------------------------------------------------------------
# The model: invoices, series and payments as billing.h decides them, and the postings of the
# process managers as billing_manager.h lists them. Commands arrive as the same JSON envelopes the
# files hold, so the model checks exactly what Daybook will receive.

class Rejected(Exception):
    """A command the model refuses, named after the rule it breaks (billing.h's codes)."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass
class Line:
    quantity: int
    price: int
    rate: int     # basis points; a coded line's is set at issue
    code: str     # tax code, or empty: the rate is the line's own
    account: str  # empty: the revenue (expense) role's account
    net: int = 0  # coded lines: 0 until the issue
    tax: int = 0
    gross: int = 0


@dataclass
class Invoice:
    invoice_id: str
    book: str
    direction: str
    counterparty: str
    currency: str
    issue_date: str
    due_date: str
    series_key: str
    lines: list
    prices_include_tax: bool
    net: int  # with coded lines (totals at issue) 0 until the issue
    tax: int
    gross: int
    status: str = "INVOICE_STATUS_DRAFT"
    number: int = 0
    outstanding: int = 0
    refusal: str = ""  # the code of the last refused issue, while back in draft
    credits: dict = field(default_factory=dict)      # credit note id -> (gross, date)
    credit_tax: dict = field(default_factory=dict)   # credit note id -> tax (split cumulatively)
    # (payment id, allocation id) -> [amount, date, reversed date]. Allocation ids are a payment's
    # own (allocate_payment checks allocation_id_exists per payment), so two payments may use the
    # same id on one invoice.
    allocations: dict = field(default_factory=dict)
    voided_date: str = ""


@dataclass
class Party:
    """One version of a registered counterparty."""
    customer: bool
    supplier: bool
    blocked: bool


@dataclass
class Payment:
    payment_id: str
    book: str
    direction: str
    counterparty: str
    currency: str
    amount: int
    date: str
    bank_account: str
    unallocated: int = 0
    refunded: int = 0
    returned: bool = False
    allocations: dict = field(default_factory=dict)  # allocation id -> [invoice id, amount, state]
    refund_ids: set = field(default_factory=set)


def payload_kind(envelope):
    kinds = [key for key in envelope if key not in ("command_id", "correlation_id", "causation_event_id",
                                                    "actor", "source")]
    if len(kinds) != 1:
        raise ValueError(f"an envelope carries exactly one payload, not {kinds}")
    return kinds[0]


def default_series(direction):
    """Bills are numbered apart from customer invoices."""
    return "bills" if direction == "INVOICE_DIRECTION_SUPPLIER" else "default"


def figures_status(invoice):
    """An issued invoice's status: paid when nothing is outstanding, partially paid when a
    payment is allocated to it (credit notes alone do not count), else issued."""
    if invoice.outstanding == 0:
        return "INVOICE_STATUS_PAID"
    if any(not reversed_date for _, _, reversed_date in invoice.allocations.values()):
        return "INVOICE_STATUS_PARTIALLY_PAID"
    return "INVOICE_STATUS_ISSUED"


def flip(side):
    return CREDIT if side == DEBIT else DEBIT


class Model:
    """One book's billing state and ledger. `schedule` says when saga steps (the process
    managers' commands) run: "immediate" after each command, or at the phase end ("fifo" in the
    order they were asked for, "lifo" newest first, as a reordering across partitions)."""

    def __init__(self, schedule="immediate"):
        if schedule not in ("immediate", "fifo", "lifo"):
            raise ValueError(f"unknown schedule {schedule}")
        self.schedule = schedule
        self.accounts = {}  # account id -> type
        self.roles = {}     # role name -> account id
        self.invoices = {}
        self.payments = {}
        self.series = {}    # series key -> last number
        self.numbered = {}  # (series key, invoice id) -> its number
        self.parties = {}   # (book, counterparty) -> {effective from: Party}
        self.tax_rates = {}  # (book, tax code) -> {effective from: rate in basis points}
        self.refusals = []  # (invoice id, code) of every refused issue, in order
        self.entries = {}   # entry id -> [(account, side, amount)]
        self.declined = []  # (payment id, allocation id, invoice id, code)
        self.steps = deque()

    # -- driving ---------------------------------------------------------------------------------

    def submit(self, envelope):
        kind = payload_kind(envelope)
        handler = getattr(self, "_cmd_" + kind, None)
        if handler is None:
            raise ValueError(f"the model does not know {kind}")
        handler(envelope[kind])
        if self.schedule == "immediate":
            self.settle()

    def settle(self):
        """Runs saga steps until none are left (a phase boundary)."""
        while self.steps:
            step = self.steps.pop() if self.schedule == "lifo" else self.steps.popleft()
            step()

    def _later(self, step, *args):
        self.steps.append(lambda: step(*args))

    # -- ledger ----------------------------------------------------------------------------------

    def _cmd_open_account(self, body):
        if body["account_id"] in self.accounts:
            raise Rejected("account_already_exists", body["account_id"])
        self.accounts[body["account_id"]] = body["type"]

    def _cmd_set_account_mapping(self, body):
        for mapped in body["accounts"]:
            if mapped["account_id"] not in self.accounts:
                raise Rejected("account_not_found", mapped["account_id"])
            self.roles[mapped["role"].removeprefix("ACCOUNT_ROLE_")] = mapped["account_id"]

    def role(self, name):
        return self.roles[name]

    def _post(self, entry_id, legs):
        """A process manager's post_entry: zero legs are left out, a document of zero value
        posts nothing."""
        legs = [(account, side, amount) for account, side, amount in legs if amount > 0]
        if len(legs) < 2:
            return
        assert entry_id not in self.entries, f"entry {entry_id} posted twice"
        assert all(account in self.accounts for account, _, _ in legs), f"unknown account in {entry_id}"
        debits = sum(amount for _, side, amount in legs if side == DEBIT)
        assert debits == sum(amount for _, side, amount in legs if side == CREDIT), f"{entry_id} unbalanced"
        self.entries[entry_id] = legs

    def _reverse(self, entry_id, reversal_id):
        assert entry_id in self.entries, f"reversal of {entry_id} before it was posted"
        self._post(reversal_id, [(account, flip(side), amount)
                                 for account, side, amount in self.entries[entry_id]])

    def ledger_totals(self):
        totals = {account: [0, 0] for account in self.accounts}
        for legs in self.entries.values():
            for account, side, amount in legs:
                totals[account][0 if side == DEBIT else 1] += amount
        return totals

    # -- invoices --------------------------------------------------------------------------------

    def _cmd_create_invoice(self, body):
        check_create_header(body)
        terms = int(body.get("payment_terms_days", 0))
        due = body.get("due_date", "")
        malformed = due and (not valid_date(due) or terms > 0 or due < body["issue_date"])
        if malformed or terms > PAYMENT_TERMS_DAYS_MAX:
            raise Rejected("due_date_invalid")
        if not valid_code(body.get("series_id") or default_series(body["direction"])):
            raise Rejected("series_id_invalid")
        if len(body.get("memo", "")) > MEMO_BYTES_MAX:
            raise Rejected("billing_memo_too_long")
        lines = decide_lines(body)
        if body["invoice_id"] in self.invoices:
            raise Rejected("invoice_already_exists", body["invoice_id"])
        # A draft with a coded line has no totals (0) until the issue gives the rates.
        invoice = Invoice(
            invoice_id=body["invoice_id"], book=body["book_id"], direction=body["direction"],
            counterparty=body["counterparty_id"], currency=body["currency"], issue_date=body["issue_date"],
            due_date=due or add_days(body["issue_date"], terms),
            series_key=f"{body['book_id']}/{body.get('series_id') or default_series(body['direction'])}", lines=lines,
            prices_include_tax=bool(body.get("prices_include_tax")),
            net=sum(line.net for line in lines), tax=sum(line.tax for line in lines),
            gross=sum(line.gross for line in lines))
        invoice.outstanding = invoice.gross
        self.invoices[invoice.invoice_id] = invoice

    def _invoice(self, invoice_id):
        if not valid_id(invoice_id):
            raise Rejected("invoice_id_invalid", invoice_id)
        if invoice_id not in self.invoices:
            raise Rejected("invoice_not_found", invoice_id)
        return self.invoices[invoice_id]

    def _cmd_issue_invoice(self, body):
        invoice = self._invoice(body["invoice_id"])
        if invoice.status == "INVOICE_STATUS_VOID":
            raise Rejected("invoice_void")
        if invoice.status != "INVOICE_STATUS_DRAFT":
            raise Rejected("invoice_not_draft")
        invoice.status = "INVOICE_STATUS_ISSUING"
        # invoice_issue_requested carries what the register checks: the distinct tax codes in order.
        codes = list(dict.fromkeys(line.code for line in invoice.lines if line.code))
        self._later(self._assign_number, {
            "book_id": invoice.book, "invoice_id": invoice.invoice_id, "series_key": invoice.series_key,
            "direction": invoice.direction, "counterparty_id": invoice.counterparty,
            "issue_date": invoice.issue_date, "tax_codes": codes})

    def _assign_number(self, request):
        """The register's answer to assign_number: a refusal (the invoice goes back to draft, no
        number used), or the next number of the series -- gapless and increasing -- with the rates
        of the invoice's tax codes on its issue date. An invoice that has a number of the series
        gets it again, whatever the checks say."""
        series_key, invoice_id = request["series_key"], request["invoice_id"]
        refusal, rates = self.issue_check(request)
        if refusal and (series_key, invoice_id) not in self.numbered:
            self._later(self._refuse_issue, invoice_id, refusal)
            return
        number = self.numbered.get((series_key, invoice_id)) or self.series.get(series_key, 0) + 1
        self.numbered[(series_key, invoice_id)] = number
        self.series[series_key] = max(self.series.get(series_key, 0), number)
        self._later(self._record_number, invoice_id, series_key, number, rates)

    def issue_check(self, request):
        """(refusal code or "", {tax code: rate}) in billing.cc's order: the counterparty is
        registered on the issue date, in the invoice's role (customer invoices need a customer,
        bills a supplier), not blocked; then every tax code has a rate on that date."""
        book, date = request["book_id"], request["issue_date"]
        party = effective_on(self.parties.get((book, request["counterparty_id"]), {}), date)
        rates = {}
        if party is None:
            return "counterparty_unknown", rates
        if not (party.customer if request["direction"] == CUSTOMER else party.supplier):
            return "counterparty_role_mismatch", rates
        if party.blocked:
            return "counterparty_blocked", rates
        for code in request["tax_codes"]:
            rate = effective_on(self.tax_rates.get((book, code), {}), date)
            if rate is None:
                return "tax_code_unknown", rates
            rates[code] = rate
        return "", rates

    def _refuse_issue(self, invoice_id, code):
        """number_refused -> refuse_invoice_issue: a draft again, showing why."""
        invoice = self.invoices[invoice_id]
        assert invoice.status == "INVOICE_STATUS_ISSUING"
        invoice.status = "INVOICE_STATUS_DRAFT"
        invoice.refusal = code
        self.refusals.append((invoice_id, code))

    def _record_number(self, invoice_id, series_key, number, rates):
        """record_invoice_number: the totals with the resolved rates (coded lines; the others
        keep their own), under the one rounding rule; they are the invoice's from now on."""
        invoice = self.invoices[invoice_id]
        assert invoice.status == "INVOICE_STATUS_ISSUING" and invoice.series_key == series_key
        for line in invoice.lines:
            if line.code:
                assert line.code in rates, f"no rate for {line.code}: record_invoice_number is tax_code_unknown"
                line.rate = rates[line.code]
            line.net, line.tax, line.gross = line_totals(line.quantity, line.price, line.rate,
                                                         invoice.prices_include_tax)
        invoice.net = sum(line.net for line in invoice.lines)
        invoice.tax = sum(line.tax for line in invoice.lines)
        invoice.gross = sum(line.gross for line in invoice.lines)
        assert invoice.gross <= INT64_MAX, "create_invoice's worst case (100 %) makes this unreachable"
        invoice.outstanding = invoice.gross
        invoice.refusal = ""
        invoice.number = number
        invoice.status = figures_status(invoice)
        self._later(self._post_invoice, invoice)

    def _post_invoice(self, invoice):
        """invoice_issued: customer: debit receivable, credit revenue per line (or the line's
        account) and tax payable; supplier: debit expense per line and tax receivable, credit
        payable."""
        customer = invoice.direction == CUSTOMER
        line_side = CREDIT if customer else DEBIT
        legs = [(self.role("RECEIVABLE" if customer else "PAYABLE"), flip(line_side), invoice.gross)]
        line_role = self.role("REVENUE" if customer else "EXPENSE")
        legs += [(line.account or line_role, line_side, line.net) for line in invoice.lines]
        legs.append((self.role("TAX_PAYABLE" if customer else "TAX_RECEIVABLE"), line_side, invoice.tax))
        self._post(f"inv:{invoice.invoice_id}", legs)

    # -- the billing register (routing key book_id) -----------------------------------------------

    def _cmd_register_counterparty(self, body):
        """A version of a counterparty, effective from its date (the same date replaces it)."""
        if not valid_id(body.get("book_id", "")):
            raise Rejected("billing_book_id_invalid")
        if not valid_id(body.get("counterparty_id", "")):
            raise Rejected("counterparty_invalid")
        if not body.get("name") or len(body["name"]) > MEMO_BYTES_MAX:
            raise Rejected("counterparty_name_invalid")
        if not body.get("customer") and not body.get("supplier"):
            raise Rejected("counterparty_roles_invalid")
        if not valid_date(body.get("effective_from", "")):
            raise Rejected("document_date_invalid", "effective_from")
        versions = self.parties.get((body["book_id"], body["counterparty_id"]), {})
        check_versions_left(versions, body["effective_from"])
        versions[body["effective_from"]] = Party(bool(body.get("customer")), bool(body.get("supplier")),
                                                 bool(body.get("blocked")))
        self.parties[(body["book_id"], body["counterparty_id"])] = versions

    def _cmd_set_tax_code(self, body):
        """A tax code's rate, effective from its date (the same date replaces it). The rule that
        a rate may not change in a closed period (period_closed) is left out: the month closes
        none."""
        rate = int(body.get("rate_bp", 0))
        if not valid_id(body.get("book_id", "")):
            raise Rejected("billing_book_id_invalid")
        if not valid_code(body.get("code", "")):
            raise Rejected("tax_code_invalid")
        if not 0 <= rate <= 10000:
            raise Rejected("tax_rate_invalid")
        if not valid_date(body.get("effective_from", "")):
            raise Rejected("document_date_invalid", "effective_from")
        if len(body.get("description", "")) > MEMO_BYTES_MAX:
            raise Rejected("billing_memo_too_long", "description")
        versions = self.tax_rates.get((body["book_id"], body["code"]), {})
        check_versions_left(versions, body["effective_from"])
        versions[body["effective_from"]] = rate
        self.tax_rates[(body["book_id"], body["code"])] = versions

    def _cmd_void_invoice(self, body):
        if not valid_id(body.get("invoice_id", "")):
            raise Rejected("invoice_id_invalid")
        if len(body.get("reason", "")) > MEMO_BYTES_MAX:
            raise Rejected("billing_memo_too_long")
        invoice = self._invoice(body["invoice_id"])
        if invoice.status == "INVOICE_STATUS_VOID":
            raise Rejected("invoice_void")
        if invoice.status == "INVOICE_STATUS_ISSUING":
            raise Rejected("invoice_number_pending")
        if any(not reversed_date for _, _, reversed_date in invoice.allocations.values()) or invoice.credits:
            raise Rejected("invoice_has_allocations")
        was_issued = invoice.status != "INVOICE_STATUS_DRAFT"
        invoice.status = "INVOICE_STATUS_VOID"
        invoice.outstanding = 0
        invoice.voided_date = body.get("date") or VOID_BUSINESS_DATE
        if was_issued:
            self._later(self._reverse, f"inv:{invoice.invoice_id}", f"inv:{invoice.invoice_id}:void")

    def _cmd_credit_invoice(self, body):
        gross = int(body.get("gross_minor", "0"))
        if not valid_id(body.get("invoice_id", "")):
            raise Rejected("invoice_id_invalid", "invoice_id")
        if not valid_id(body.get("credit_note_id", "")):
            raise Rejected("invoice_id_invalid", "credit_note_id")
        if gross <= 0:
            raise Rejected("billing_amount_invalid")
        if not valid_date(body.get("date", "")):
            raise Rejected("document_date_invalid")
        if len(body.get("memo", "")) > MEMO_BYTES_MAX:
            raise Rejected("billing_memo_too_long")
        invoice = self._invoice(body["invoice_id"])
        self._check_creditable(invoice, body["credit_note_id"], gross)
        # Tax is split cumulatively over the invoice's credit notes.
        prior_gross = sum(g for g, _ in invoice.credits.values())
        prior_tax = sum(invoice.credit_tax.values())
        tax = credit_split(prior_gross + gross, invoice.tax, invoice.gross)[1] - prior_tax
        invoice.credits[body["credit_note_id"]] = (gross, body["date"])
        invoice.credit_tax[body["credit_note_id"]] = tax
        invoice.outstanding -= gross
        invoice.status = figures_status(invoice)
        self._later(self._post_credit, invoice, body["credit_note_id"], gross, tax)

    @staticmethod
    def _check_creditable(invoice, credit_note_id, gross):
        if invoice.status == "INVOICE_STATUS_VOID":
            raise Rejected("invoice_void")
        if invoice.status in ("INVOICE_STATUS_DRAFT", "INVOICE_STATUS_ISSUING"):
            raise Rejected("invoice_not_issued")
        if credit_note_id in invoice.credits:
            raise Rejected("credit_note_exists")
        if len(invoice.credits) >= CREDIT_NOTES_MAX:
            raise Rejected("too_many_allocations", "credit notes")
        if gross > invoice.outstanding:
            raise Rejected("credit_exceeds_outstanding", f"{gross} > {invoice.outstanding}")

    def _post_credit(self, invoice, credit_note_id, gross, tax):
        """invoice_credited: the invoice's entry mirrored for the credit's net and tax, on the
        revenue (expense) role, never the lines' accounts."""
        net = gross - tax
        customer = invoice.direction == CUSTOMER
        side = DEBIT if customer else CREDIT
        self._post(f"cn:{invoice.invoice_id}:{credit_note_id}", [
            (self.role("REVENUE" if customer else "EXPENSE"), side, net),
            (self.role("TAX_PAYABLE" if customer else "TAX_RECEIVABLE"), side, tax),
            (self.role("RECEIVABLE" if customer else "PAYABLE"), flip(side), gross)])

    def _apply_allocation(self, invoice_id, payment_id, allocation_id, amount, currency, date):
        """The invoice's answer to one allocation: applied, or declined with the code it would
        have had (then the payment's saga releases the amount)."""
        invoice = self.invoices.get(invoice_id)
        code = allocation_refusal(invoice, (payment_id, allocation_id), amount, currency, self.payments[payment_id])
        if code == "repeated":
            return
        if code:
            self.declined.append((payment_id, allocation_id, invoice_id, code))
            self._later(self._release_allocation, payment_id, allocation_id, code)
            return
        # Effective when both documents exist: never before the invoice's issue date.
        invoice.allocations[(payment_id, allocation_id)] = [amount, max(date, invoice.issue_date), ""]
        invoice.outstanding -= amount
        invoice.status = figures_status(invoice)
        self._later(self._confirm_allocation, payment_id, allocation_id)

    def _reverse_allocation(self, invoice_id, payment_id, allocation_id, date):
        invoice = self.invoices[invoice_id]
        entry = invoice.allocations[(payment_id, allocation_id)]
        assert not entry[2], f"allocation {allocation_id} reversed twice"
        entry[2] = date
        invoice.outstanding += entry[0]
        invoice.status = figures_status(invoice)

    # -- payments --------------------------------------------------------------------------------

    def _cmd_receive_payment(self, body):
        amount = int(body.get("amount_minor", "0"))
        check_payment_header(body, amount)
        if body["payment_id"] in self.payments:
            raise Rejected("payment_already_exists")
        payment = Payment(payment_id=body["payment_id"], book=body["book_id"], direction=body["direction"],
                          counterparty=body["counterparty_id"], currency=body["currency"], amount=amount,
                          date=body["date"], bank_account=body.get("bank_account_id", ""), unallocated=amount)
        self.payments[payment.payment_id] = payment
        self._later(self._post_cash, payment, f"pay:{payment.payment_id}", amount, True)

    def _post_cash(self, payment, entry_id, amount, forward):
        """payment_recorded (forward) and payment_refunded (mirrored): received: debit bank,
        credit customer advances; sent: debit supplier advances, credit bank."""
        bank = payment.bank_account or self.role("BANK")
        received = payment.direction == RECEIVED
        other = self.role("CUSTOMER_ADVANCES" if received else "SUPPLIER_ADVANCES")
        bank_side = DEBIT if received == forward else CREDIT
        self._post(entry_id, [(bank, bank_side, amount), (other, flip(bank_side), amount)])

    def _payment(self, payment_id):
        if not valid_id(payment_id):
            raise Rejected("payment_id_invalid")
        if payment_id not in self.payments:
            raise Rejected("payment_not_found", payment_id)
        return self.payments[payment_id]

    def _cmd_allocate_payment(self, body):
        requests = body.get("allocations", [])
        if not valid_id(body.get("payment_id", "")):
            raise Rejected("payment_id_invalid")
        if not requests or len(requests) > ALLOCATIONS_PER_COMMAND_LIMIT:
            raise Rejected("allocations_invalid")
        for request in requests:
            if not valid_id(request.get("allocation_id", "")) or not valid_id(request.get("invoice_id", "")):
                raise Rejected("invoice_id_invalid")
            if int(request.get("amount_minor", "0")) <= 0:
                raise Rejected("billing_amount_invalid")
        payment = self._payment(body["payment_id"])
        self._check_allocatable(payment, requests)
        for request in requests:
            amount = int(request["amount_minor"])
            payment.allocations[request["allocation_id"]] = [request["invoice_id"], amount,
                                                             "ALLOCATION_STATE_PENDING"]
            payment.unallocated -= amount
            self._later(self._apply_allocation, request["invoice_id"], payment.payment_id,
                        request["allocation_id"], amount, payment.currency, payment.date)

    @staticmethod
    def _check_allocatable(payment, requests):
        if payment.returned:
            raise Rejected("payment_returned")
        ids = [request["allocation_id"] for request in requests]
        if len(set(ids)) != len(ids) or any(i in payment.allocations for i in ids):
            raise Rejected("allocation_id_exists")
        if len(payment.allocations) + len(ids) > ALLOCATIONS_MAX:
            raise Rejected("too_many_allocations")
        total = sum(int(request["amount_minor"]) for request in requests)
        if total > payment.unallocated:
            raise Rejected("allocation_exceeds_unallocated", f"{total} > {payment.unallocated}")

    def _confirm_allocation(self, payment_id, allocation_id):
        """allocation_confirmed: received: debit customer advances, credit receivable; sent: debit
        payable, credit supplier advances."""
        payment = self.payments[payment_id]
        allocation = payment.allocations[allocation_id]
        assert allocation[2] == "ALLOCATION_STATE_PENDING"
        allocation[2] = "ALLOCATION_STATE_CONFIRMED"
        received = payment.direction == RECEIVED
        debit = self.role("CUSTOMER_ADVANCES" if received else "PAYABLE")
        credit = self.role("RECEIVABLE" if received else "SUPPLIER_ADVANCES")
        self._post(f"alloc:{payment_id}:{allocation_id}",
                   [(debit, DEBIT, allocation[1]), (credit, CREDIT, allocation[1])])

    def _release_allocation(self, payment_id, allocation_id, _reason):
        payment = self.payments[payment_id]
        allocation = payment.allocations[allocation_id]
        assert allocation[2] == "ALLOCATION_STATE_PENDING"
        allocation[2] = "ALLOCATION_STATE_RELEASED"
        payment.unallocated += allocation[1]

    def _cmd_refund_payment(self, body):
        amount = int(body.get("amount_minor", "0"))
        if not valid_id(body.get("payment_id", "")):
            raise Rejected("payment_id_invalid")
        if not valid_id(body.get("refund_id", "")):
            raise Rejected("invoice_id_invalid", "refund_id")
        if amount <= 0:
            raise Rejected("billing_amount_invalid")
        if not valid_date(body.get("date", "")):
            raise Rejected("document_date_invalid")
        payment = self._payment(body["payment_id"])
        if payment.returned:
            raise Rejected("payment_returned")
        if body["refund_id"] in payment.refund_ids:
            raise Rejected("refund_id_exists")
        if amount > payment.unallocated:
            raise Rejected("refund_exceeds_unallocated", f"{amount} > {payment.unallocated}")
        payment.refund_ids.add(body["refund_id"])
        payment.unallocated -= amount
        payment.refunded += amount
        self._later(self._post_cash, payment, f"ref:{payment.payment_id}:{body['refund_id']}", amount, False)

    def _cmd_return_payment(self, body):
        if len(body.get("reason", "")) > MEMO_BYTES_MAX:
            raise Rejected("billing_memo_too_long")
        if not valid_date(body.get("date", "")):
            raise Rejected("document_date_invalid")
        payment = self._payment(body.get("payment_id", ""))
        if payment.returned:
            raise Rejected("payment_returned")
        if any(a[2] == "ALLOCATION_STATE_PENDING" for a in payment.allocations.values()):
            raise Rejected("payment_has_pending_allocations")
        confirmed = [(aid, a) for aid, a in payment.allocations.items() if a[2] == "ALLOCATION_STATE_CONFIRMED"]
        allocated, unallocated = sum(a[1] for _, a in confirmed), payment.unallocated
        for allocation_id, allocation in confirmed:
            allocation[2] = "ALLOCATION_STATE_RETURNED"
            self._later(self._reverse_allocation, allocation[0], payment.payment_id, allocation_id, body["date"])
        payment.returned = True
        payment.unallocated = 0
        self._later(self._post_return, payment, allocated, unallocated)

    def _post_return(self, payment, allocated, unallocated):
        """payment_returned: received: debit receivable (allocated) and customer advances
        (unallocated), credit bank; sent: the mirror image."""
        bank = payment.bank_account or self.role("BANK")
        received = payment.direction == RECEIVED
        side = DEBIT if received else CREDIT
        self._post(f"ret:{payment.payment_id}", [
            (self.role("RECEIVABLE" if received else "PAYABLE"), side, allocated),
            (self.role("CUSTOMER_ADVANCES" if received else "SUPPLIER_ADVANCES"), side, unallocated),
            (bank, flip(side), allocated + unallocated)])


def check_create_header(body):
    """create_invoice's rules before the due date, in billing.h's order."""
    if not valid_id(body.get("invoice_id", "")):
        raise Rejected("invoice_id_invalid")
    if not valid_id(body.get("book_id", "")):
        raise Rejected("billing_book_id_invalid")
    if body.get("direction") not in (CUSTOMER, SUPPLIER):
        raise Rejected("invoice_direction_invalid")
    if not valid_id(body.get("counterparty_id", "")):
        raise Rejected("counterparty_invalid")
    if not re.fullmatch(r"[A-Z0-9]{3,12}", body.get("currency", "")):
        raise Rejected("billing_currency_invalid")
    if not valid_date(body.get("issue_date", "")):
        raise Rejected("document_date_invalid", "issue_date")


def decide_lines(body):
    """The lines with their totals, or the first line rule broken. A line gives tax_rate_bp or
    tax_code; with any coded line every total waits for the issue (0 until then), and the
    overflow check assumes the highest rate (100 %) for the coded lines."""
    raw = body.get("lines", [])
    if not raw or len(raw) > INVOICE_LINES_MAX:
        raise Rejected("invoice_lines_invalid")
    inclusive = bool(body.get("prices_include_tax"))
    lines, gross_worst = [], 0
    for line in raw:
        quantity, price = int(line.get("quantity_milli", "0")), int(line.get("unit_price_minor", "0"))
        rate, code = int(line.get("tax_rate_bp", 0)), line.get("tax_code", "")
        if not line.get("description") or len(line["description"]) > MEMO_BYTES_MAX:
            raise Rejected("line_description_invalid")
        if quantity <= 0:
            raise Rejected("line_quantity_invalid")
        if price < 0:
            raise Rejected("line_price_invalid")
        if not 0 <= rate <= 10000:
            raise Rejected("line_tax_rate_invalid")
        if code and not valid_code(code):
            raise Rejected("tax_code_invalid")
        # A rate of 0 cannot be told from none (proto3), so only a non-zero rate is "both".
        if code and rate != 0:
            raise Rejected("tax_code_invalid", "give tax_rate_bp or tax_code, not both")
        if line.get("account_id") and not valid_id(line["account_id"]):
            raise Rejected("line_account_invalid")
        worst = line_totals(quantity, price, 10000 if code else rate, inclusive)
        if max(worst) > INT64_MAX:
            raise Rejected("billing_amount_overflow")
        gross_worst += worst[2]
        lines.append(Line(quantity, price, rate, code, line.get("account_id", "")))
    if gross_worst > INT64_MAX:
        raise Rejected("billing_amount_overflow")
    if not any(line.code for line in lines):
        for line in lines:
            line.net, line.tax, line.gross = line_totals(line.quantity, line.price, line.rate, inclusive)
    return lines


def check_versions_left(versions, effective_from):
    """A register entry has at most REGISTER_VERSIONS_MAX versions; a change on a date it has
    replaces that one and is always allowed."""
    if len(versions) >= REGISTER_VERSIONS_MAX and effective_from not in versions:
        raise Rejected("register_versions_exhausted")


def check_payment_header(body, amount):
    """receive_payment's rules, in billing.h's order, up to the duplicate check."""
    if not valid_id(body.get("payment_id", "")):
        raise Rejected("payment_id_invalid")
    if not valid_id(body.get("book_id", "")):
        raise Rejected("billing_book_id_invalid")
    if body.get("direction") not in (RECEIVED, SENT):
        raise Rejected("payment_direction_invalid")
    if not valid_id(body.get("counterparty_id", "")):
        raise Rejected("counterparty_invalid")
    if amount <= 0:
        raise Rejected("billing_amount_invalid")
    if not re.fullmatch(r"[A-Z0-9]{3,12}", body.get("currency", "")):
        raise Rejected("billing_currency_invalid")
    if not valid_date(body.get("date", "")):
        raise Rejected("document_date_invalid")
    if body.get("bank_account_id") and not valid_id(body["bank_account_id"]):
        raise Rejected("bank_account_invalid")
    if len(body.get("method", "")) > MEMO_BYTES_MAX:
        raise Rejected("billing_memo_too_long", "method")


def allocation_refusal(invoice, allocation_key, amount, currency, payment=None):
    """apply_allocation's decline code in billing.h's order, "" to apply, "repeated" when the
    allocation was applied before (applied once)."""
    if invoice is None:
        return "invoice_not_found"
    if invoice.status == "INVOICE_STATUS_VOID":
        return "invoice_void"
    if invoice.status in ("INVOICE_STATUS_DRAFT", "INVOICE_STATUS_ISSUING"):
        return "invoice_not_issued"
    if payment is not None and (payment.book != invoice.book or (payment.direction == RECEIVED) !=
                                (invoice.direction == CUSTOMER) or payment.counterparty != invoice.counterparty):
        return "allocation_document_mismatch"
    if currency != invoice.currency:
        return "billing_currency_mismatch"
    if amount <= 0:
        return "billing_amount_invalid"
    if allocation_key in invoice.allocations:
        return "repeated"
    if len(invoice.allocations) >= ALLOCATIONS_MAX:
        return "too_many_allocations"
    if amount > invoice.outstanding:
        return "allocation_exceeds_outstanding"
    return ""


# ------------------------------------------------------------------------------------------------
# Expected results.

def outstanding_as_of(invoice, as_of):
    """What an issued invoice still owed at the end of as_of (projections/billing_projection.h)."""
    if not invoice.number or invoice.issue_date > as_of:
        return 0
    if invoice.status == "INVOICE_STATUS_VOID" and invoice.voided_date <= as_of:
        return 0
    owed = invoice.gross - sum(gross for gross, date in invoice.credits.values() if date <= as_of)
    for amount, date, reversed_date in invoice.allocations.values():
        if date <= as_of and not (reversed_date and reversed_date <= as_of):
            owed -= amount
    return owed


AGING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")


def aging_bucket(days_late):
    if days_late <= 0:
        return "current"
    for bucket, last_day in (("days_1_30", 30), ("days_31_60", 60), ("days_61_90", 90)):
        if days_late <= last_day:
            return bucket
    return "over_90"


def aging(model, direction, as_of):
    """Rows per counterparty with something open or unallocated, in counterparty order."""
    rows = {}

    def row(counterparty):
        return rows.setdefault(counterparty, dict.fromkeys(AGING_BUCKETS + ("total", "unallocated"), 0))

    for invoice in model.invoices.values():
        owed = outstanding_as_of(invoice, as_of) if invoice.direction == direction else 0
        if owed:
            target = row(invoice.counterparty)
            target[aging_bucket(days_between(invoice.due_date, as_of))] += owed
            target["total"] += owed
    payments = RECEIVED if direction == CUSTOMER else SENT
    for payment in model.payments.values():
        counted = payment.direction == payments and not payment.returned and payment.date <= as_of
        if counted and payment.unallocated:
            row(payment.counterparty)["unallocated"] += payment.unallocated
    return [dict({"counterparty": name}, **{key: str(value) for key, value in figures.items()})
            for name, figures in sorted(rows.items())]


def expected_results(model, book, as_of=AS_OF):
    """What Daybook must show. A draft (never issued, or refused at issue) has no number; its
    gross and outstanding are the draft's (0 with a coded line); issue_refusal is the code of the
    last refused issue while it is a draft, empty once issued."""
    numbers = {}
    for invoice in model.invoices.values():
        if invoice.number:
            numbers.setdefault(invoice.series_key, []).append(invoice.number)
    return {
        "as_of": as_of,
        "book": book,
        "invoices": {i.invoice_id: {"status": i.status, "gross_minor": str(i.gross),
                                    "outstanding_minor": str(i.outstanding), "number": i.number,
                                    "series_key": i.series_key, "issue_refusal": i.refusal}
                     for i in sorted(model.invoices.values(), key=lambda i: i.invoice_id)},
        "payments": {p.payment_id: {"unallocated_minor": str(p.unallocated), "returned": p.returned}
                     for p in sorted(model.payments.values(), key=lambda p: p.payment_id)},
        "aging_customer": aging(model, CUSTOMER, as_of),
        "aging_supplier": aging(model, SUPPLIER, as_of),
        "ledger": {account: {"debits_minor": str(debits), "credits_minor": str(credits)}
                   for account, (debits, credits) in sorted(model.ledger_totals().items())},
        "numbers": {key: sorted(values) for key, values in sorted(numbers.items())},
        "declined_allocations": [{"payment_id": p, "allocation_id": a, "invoice_id": i, "code_name": c}
                                 for p, a, i, c in sorted(model.declined)],
    }


def replay(phases, schedule):
    """The model run over the phases, with the saga steps settled at each phase end."""
    model = Model(schedule)
    for phase in PHASES:
        for envelope in phases[phase]:
            model.submit(envelope)
        model.settle()
    return model


# ------------------------------------------------------------------------------------------------
# Generation.

class Writer:
    """Collects one phase's envelopes and feeds each to a model at once, so that a command the
    rules would refuse stops the generator instead of reaching the file."""

    def __init__(self, seed, book, model):
        self.seed, self.book, self.model = seed, book, model
        self.count = 0
        self.phases = {phase: [] for phase in PHASES}
        self.phase = PHASES[0]

    def emit(self, kind, body):
        self.count += 1
        envelope = {"command_id": f"bm-{self.seed}-{self.book}-{self.count:05d}-{kind}",
                    "correlation_id": f"billing-month-{self.seed}", kind: body}
        self.phases[self.phase].append(envelope)
        self.model.submit(envelope)

    def end_phase(self, next_phase=None):
        """The process managers catch up before the next phase starts."""
        self.model.settle()
        self.phase = next_phase


def party_body(book, counterparty, customer, supplier, effective_from=REGISTER_FROM, blocked=False):
    """A register_counterparty command's body."""
    roles = " and ".join(role for role, held in (("customer", customer), ("supplier", supplier)) if held)
    return {"book_id": book, "counterparty_id": counterparty, "name": f"{counterparty.title()} ({roles})",
            "customer": customer, "supplier": supplier, "effective_from": effective_from, "blocked": blocked}


def counterparty_ids(count):
    """(customers, suppliers) of the month's random documents."""
    customers = [f"CUST-{n:02d}" for n in range(1, min(8, max(2, count // 3)) + 1)]
    suppliers = [f"SUPP-{n:02d}" for n in range(1, min(4, max(1, count // 8)) + 1)]
    return customers, suppliers


def month_parties(book, customers, suppliers):
    """The register at the start: customers as customers, suppliers as suppliers, and the held
    customer, blocked from BLOCKED_FROM on. LATE_CUSTOMER is left out (registered later)."""
    return ([party_body(book, c, True, False) for c in customers] +
            [party_body(book, s, False, True) for s in suppliers] +
            [party_body(book, HELD_CUSTOMER, True, False),
             party_body(book, HELD_CUSTOMER, True, False, BLOCKED_FROM, blocked=True)])


def setup_phase(writer, book, parties=()):
    """The chart, the role mapping, the tax codes and the counterparties (register_counterparty
    bodies)."""
    for account_id, name, kind, _ in ACCOUNTS:
        writer.emit("open_account", {"book_id": book, "account_id": account_id, "name": name,
                                     "type": "ACCOUNT_TYPE_" + kind, "currency": CURRENCY, "scale": SCALE})
    writer.emit("set_account_mapping", {
        "book_id": book, "effective_from": MAPPING_FROM,
        "accounts": [{"role": "ACCOUNT_ROLE_" + role, "account_id": account_id}
                     for account_id, _, _, role in ACCOUNTS if role]})
    for code, rate, effective_from, description in TAX_CODES:
        writer.emit("set_tax_code", {"book_id": book, "code": code, "rate_bp": rate,
                                     "effective_from": effective_from, "description": description})
    for body in parties:
        writer.emit("register_counterparty", body)


def document_lines(rng, customer, series, variant, codes=True):
    """2 to 5 lines; about a third carry a tax code instead of a rate (with `codes`), and the first
    line of variant 0 always STD, so the mid-month rate change is priced on both sides."""
    lines = []
    for n in range(rng.randint(*LINES_PER_DOCUMENT)):
        line = {"description": rng.choice(PRODUCTS), "quantity_milli": str(rng.choice(QUANTITIES_MILLI)),
                "unit_price_minor": str(rng.randint(100, 90_000))}
        if series == "export":
            # Exports are zero-rated: invoices with no tax at all leave the tax leg out.
            coded = codes and rng.random() < CODED_LINES_SHARE
            line.update({"tax_code": "ZERO"} if coded else {"tax_rate_bp": 0})
        elif codes and variant == 0 and n == 0:
            line["tax_code"] = "STD"
        elif codes and rng.random() < CODED_LINES_SHARE:
            line["tax_code"] = rng.choice(LINE_TAX_CODES)
        else:
            line["tax_rate_bp"] = rng.choice(TAX_RATES_BP)
        if customer and (rng.random() < 0.2 or (variant == 0 and n == 0)):
            line["account_id"] = OVERRIDE_ACCOUNT
        lines.append(line)
    return lines


def document_body(rng, book, invoice_id, direction, counterparty, index, days=(1, 28), codes=True):
    """One invoice or bill, issued on a day in `days`. `index` cycles the variants so every month
    has each of them."""
    customer = direction == CUSTOMER
    # Empty: the series_id is left out and Daybook takes "default".
    # Bills take the series' default ("bills"); customer invoices "default" (named or not) or "export".
    series = ("export" if index % 4 == 2 else rng.choice(("default", ""))) if customer else ""
    issue = day_of_month(rng.randint(*days))
    body = {"invoice_id": invoice_id, "book_id": book, "direction": direction, "counterparty_id": counterparty,
            "currency": CURRENCY, "issue_date": issue, "prices_include_tax": index % 3 == 1 or rng.random() < 0.1,
            "lines": document_lines(rng, customer, series, index % 4, codes)}
    if index % 2:
        body["due_date"] = add_days(issue, rng.choice((0, 7, 10, 14, 21)))
    else:
        body["payment_terms_days"] = rng.choice((0, 7, 14, 30))
    if series:
        body["series_id"] = series
    if rng.random() < 0.3:
        body["memo"] = f"{'Order' if customer else 'Purchase order'} {rng.randint(1000, 9999)}"
    return body


def plan_documents(rng, book, count, customers, suppliers):
    """(create body, fate) per document, fates: open, draft_void, issued_void; and the register's
    cases: refused (the register refuses the issue, it stays a draft) and reissued (refused, then
    issued again in the payments phase)."""
    bills = max(1, round(count / 3))
    voids = 1 + count // 16
    doomed = rng.sample(range(count), 2 * voids)
    plans = []
    for n in range(count):
        fate = "draft_void" if n in doomed[:voids] else "issued_void" if n in doomed[voids:] else "open"
        body = document_body(rng, book, f"{book}-INV-{n + 1:04d}", CUSTOMER, rng.choice(customers), n)
        plans.append((body, fate))
    for n in range(bills):
        fate = "issued_void" if n == 2 else "open"
        body = document_body(rng, book, f"{book}-BILL-{n + 1:04d}", SUPPLIER, rng.choice(suppliers), n)
        plans.append((body, fate))
    # The register's cases, numbered after the random invoices. Coded (variant 0) unless said.
    block_day = int(BLOCKED_FROM[-2:])
    change_day = int(RATE_CHANGE[-2:])
    cases = (
        (HELD_CUSTOMER, 0, (1, min(block_day, change_day) - 1), True, "open"),  # STD at the old rate
        (HELD_CUSTOMER, 4, (block_day, 28), True, "refused"),                  # counterparty_blocked
        (suppliers[0], 1, (1, 28), False, "refused"),                          # counterparty_role_mismatch
        (LATE_CUSTOMER, 8, (change_day, 28), True, "reissued"),                # counterparty_unknown, then STD new
    )
    for n, (counterparty, index, days, codes, fate) in enumerate(cases, start=count + 1):
        body = document_body(rng, book, f"{book}-INV-{n:04d}", CUSTOMER, counterparty, index, days, codes)
        plans.append((body, fate))
    plans.sort(key=lambda plan: (plan[0]["issue_date"], plan[0]["invoice_id"]))
    return plans


def documents_phase(writer, plans):
    """Each document created, then issued or (a few drafts) voided. Voids of issued invoices
    wait for the payments phase: until its number arrives an invoice refuses a void
    (invoice_number_pending). The register's refusals arrive as saga steps: issue_invoice itself
    is accepted."""
    for body, fate in plans:
        writer.emit("create_invoice", body)
        if fate == "draft_void":
            writer.emit("void_invoice", {"invoice_id": body["invoice_id"], "reason": "Drafted by mistake",
                                         "date": body["issue_date"]})
        else:
            writer.emit("issue_invoice", {"invoice_id": body["invoice_id"]})


def reissue(writer, book, plans):
    """The refused invoice to the customer registered late: the customer is registered (from the
    month's start), then the invoice issued again. Both wait for a phase after the refusal: inside
    the documents phase the registration could reach the register before the first request, and
    a second issue_invoice could find the invoice still issuing (invoice_not_draft). Within this
    phase the registration's outcome comes before the issue is submitted, and both go through the
    book's partition in that order."""
    for body, fate in plans:
        if fate == "reissued":
            assert writer.model.invoices[body["invoice_id"]].status == "INVOICE_STATUS_DRAFT"
            writer.emit("register_counterparty", party_body(book, body["counterparty_id"], True, False,
                                                            LATE_REGISTERED_FROM))
            writer.emit("issue_invoice", {"invoice_id": body["invoice_id"]})


@dataclass
class PaymentPlan:
    payment_id: str
    book: str
    direction: str
    counterparty: str
    allocations: list = field(default_factory=list)  # [invoice, amount]
    declined: list = field(default_factory=list)     # [invoice, amount] that the invoice will refuse
    extra: int = 0                                   # beyond every allocation: stays unallocated
    refund: int = 0
    date: str = ""


def settle_invoice(rng, invoice, first):
    """(credit note gross, [allocation amounts]) for an open invoice: never more than its gross,
    so credits and allocations fit in any order. The first invoice is always paid in full, so the
    month has a payment to return."""
    credit = 0
    if not first:
        roll = rng.random()
        credit = rng.randint(1, max(1, invoice.gross // 2)) if roll < 0.15 else invoice.gross if roll < 0.2 else 0
    remaining = invoice.gross - credit
    roll = 0.9 if first else rng.random()
    if remaining == 0 or roll < 0.3:
        return credit, []
    paid = rng.randint(1, remaining - 1) if roll < 0.55 and remaining > 1 else remaining
    if paid > 1 and rng.random() < 0.2:
        part = rng.randint(1, paid - 1)
        return credit, [part, paid - part]
    return credit, [paid]


def plan_payments(rng, book, open_invoices):
    """Credit notes and payments for the open invoices, per counterparty."""
    credits, payments, counters = [], [], {RECEIVED: 0, SENT: 0}
    first = True
    by_counterparty = {}
    for invoice in open_invoices:
        credit, parts = settle_invoice(rng, invoice, first and invoice.direction == CUSTOMER)
        first = first and not (parts and invoice.direction == CUSTOMER)
        if credit:
            credits.append((invoice, credit))
        items = by_counterparty.setdefault((invoice.direction, invoice.counterparty), [])
        items.extend([invoice, part] for part in parts)
    for (direction, counterparty), items in sorted(by_counterparty.items()):
        rng.shuffle(items)
        items += [None] if rng.random() < 0.3 else []  # a payment on account, offered to no invoice
        while items:
            size = rng.randint(1, ALLOCATIONS_PER_COMMAND_MAX)
            chunk, items = [item for item in items[:size] if item], items[size:]
            payments.append(new_payment(rng, book, direction, counterparty, chunk, counters))
    return credits, payments


def new_payment(rng, book, direction, counterparty, allocations, counters):
    kind = RECEIVED if direction == CUSTOMER else SENT
    counters[kind] += 1
    prefix = "RCV" if kind == RECEIVED else "PAY"
    plan = PaymentPlan(f"{book}-{prefix}-{counters[kind]:04d}", book, kind, counterparty, allocations)
    plan.extra = rng.randint(100, 30_000) if not allocations or rng.random() < 0.4 else 0
    plan.refund = rng.randint(1, plan.extra) if plan.extra and rng.random() < 0.4 else 0
    return plan


def add_declined(rng, book, payments, invoice, amount, counters):
    """An allocation the invoice will decline, on a payment of the same counterparty with room
    for it (or a new one). The payment is raised by the amount, so the request fits; the release
    brings it back to unallocated."""
    kind = RECEIVED if invoice.direction == CUSTOMER else SENT
    for plan in payments:
        if (plan.direction, plan.counterparty) == (kind, invoice.counterparty) and \
                len(plan.allocations) + len(plan.declined) < ALLOCATIONS_PER_COMMAND_MAX:
            plan.declined.append([invoice, amount])
            return
    plan = new_payment(rng, book, invoice.direction, invoice.counterparty, [], counters)
    plan.declined.append([invoice, amount])
    payments.append(plan)


def date_payments(rng, payments):
    """A payment is dated on or after the issue of every invoice it pays, within the month."""
    for plan in payments:
        issued = [invoice.issue_date for invoice, _ in plan.allocations + plan.declined]
        first_day = int(max(issued)[-2:]) if issued else 1
        plan.date = day_of_month(min(MONTH_DAYS, first_day + rng.randint(0, 5)))


def payments_phase(rng, writer, book, plans):
    """Voids of issued invoices first, the late customer's registration and its invoice issued
    again, then receipts, credit notes, allocations (two of them declined on purpose) and
    refunds, in date order. The invoice issued again is left open: it is issuing until its saga
    ends, so nothing in this phase may pay, credit or void it."""
    model = writer.model
    for body, fate in plans:
        if fate == "issued_void":
            writer.emit("void_invoice", {"invoice_id": body["invoice_id"], "reason": "Issued in error",
                                         "date": body["issue_date"]})
    reissue(writer, book, plans)
    open_invoices = [model.invoices[body["invoice_id"]] for body, fate in plans if fate == "open"]
    credits, payments = plan_payments(rng, book, open_invoices)
    counters = {kind: sum(p.direction == kind for p in payments) for kind in (RECEIVED, SENT)}
    voided = [model.invoices[body["invoice_id"]] for body, fate in plans if fate == "issued_void"]
    target = next(i for i in voided if i.direction == CUSTOMER)
    add_declined(rng, book, payments, target, target.gross, counters)
    customer_open = [i for i in open_invoices if i.direction == CUSTOMER]
    over = customer_open[rng.randrange(len(customer_open))]
    # More than the gross, so more than its outstanding whatever else is applied first.
    add_declined(rng, book, payments, over, over.gross + rng.randint(1, 5_000), counters)
    date_payments(rng, payments)
    for command in sorted(payment_commands(rng, credits, payments), key=lambda c: c[:3]):
        writer.emit(command[3], command[4])
    return payments


def payment_commands(rng, credits, payments):
    """(date, rank, sequence, kind, body): a receipt comes before its allocations and refunds."""
    commands = []
    for n, (invoice, gross) in enumerate(credits):
        date = day_of_month(min(MONTH_DAYS, int(invoice.issue_date[-2:]) + rng.randint(0, 6)))
        commands.append((date, 1, f"c{n:04d}", "credit_invoice", {
            "invoice_id": invoice.invoice_id, "credit_note_id": f"{invoice.invoice_id}-CN1",
            "gross_minor": str(gross), "date": date,
            "memo": "Goods returned" if gross < invoice.gross else "Cancelled in full"}))
    for plan in payments:
        commands += plan_commands(rng, plan)
    return commands


def plan_commands(rng, plan):
    requests = [(invoice.invoice_id, amount) for invoice, amount in plan.allocations + plan.declined]
    rng.shuffle(requests)
    amount = sum(amount for _, amount in requests) + plan.extra
    commands = [(plan.date, 2, plan.payment_id, "receive_payment", {
        "payment_id": plan.payment_id, "book_id": plan.book, "direction": plan.direction,
        "counterparty_id": plan.counterparty, "amount_minor": str(amount), "currency": CURRENCY, "date": plan.date,
        "method": rng.choice(("transfer", "card", "direct debit"))})]
    if requests:
        commands.append((plan.date, 3, plan.payment_id, "allocate_payment", {
            "payment_id": plan.payment_id,
            "allocations": [{"allocation_id": f"{plan.payment_id}-A{n + 1}", "invoice_id": invoice_id,
                             "amount_minor": str(amount)} for n, (invoice_id, amount) in enumerate(requests)]}))
    if plan.refund:
        date = day_of_month(min(MONTH_DAYS, int(plan.date[-2:]) + rng.randint(0, 3)))
        commands.append((date, 4, plan.payment_id, "refund_payment", {
            "payment_id": plan.payment_id, "refund_id": f"{plan.payment_id}-R1", "amount_minor": str(plan.refund),
            "date": date}))
    return commands


def returns_phase(rng, writer, payments):
    """One received payment bounces after its allocations were confirmed."""
    model = writer.model
    def confirmed(plan):
        allocations = model.payments[plan.payment_id].allocations.values()
        return any(allocation[2] == "ALLOCATION_STATE_CONFIRMED" for allocation in allocations)

    candidates = [plan for plan in payments if plan.direction == RECEIVED and confirmed(plan)]
    # Prefer one with money still unallocated, so the return posts both of its debit legs.
    with_rest = [plan for plan in candidates if model.payments[plan.payment_id].unallocated]
    plan = rng.choice(with_rest or candidates)
    date = day_of_month(rng.randint(max(int(plan.date[-2:]), 25), MONTH_DAYS))
    writer.emit("return_payment", {"payment_id": plan.payment_id, "reason": "Returned unpaid: account closed",
                                   "date": date})


def generate(seed, book, invoices_count=INVOICES_DEFAULT):
    """(phases: phase -> envelopes, model after every phase) for one seed."""
    if invoices_count < INVOICES_MIN:
        raise ValueError(f"--invoices must be at least {INVOICES_MIN}")
    if not valid_id(book) or len(book) > BOOK_ID_BYTES_MAX:
        raise ValueError(f"a book id is 1..{BOOK_ID_BYTES_MAX} printable ASCII characters without spaces")
    rng = random.Random(f"billing-month/{seed}")
    writer = Writer(seed, book, Model("immediate"))
    customers, suppliers = counterparty_ids(invoices_count)
    setup_phase(writer, book, month_parties(book, customers, suppliers))
    writer.end_phase("documents")
    plans = plan_documents(rng, book, invoices_count, customers, suppliers)
    documents_phase(writer, plans)
    writer.end_phase("payments")
    payments = payments_phase(rng, writer, book, plans)
    writer.end_phase("returns")
    returns_phase(rng, writer, payments)
    writer.end_phase()
    return writer.phases, writer.model


def ndjson(envelopes):
    return "".join(json.dumps(envelope, separators=(",", ":")) + "\n" for envelope in envelopes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--book", required=True)
    parser.add_argument("--invoices", type=int, default=INVOICES_DEFAULT,
                        help=f"customer invoices (bills: a third as many; plus the register's four cases). "
                             f"Default: {INVOICES_DEFAULT}")
    parser.add_argument("--out-commands", help="writes FILE.<phase>.ndjson per phase; default: all to stdout")
    parser.add_argument("--out-expected", help="writes the expected results as JSON")
    args = parser.parse_args(argv)
    try:
        phases, model = generate(args.seed, args.book, args.invoices)
    except ValueError as error:
        parser.error(str(error))
    for phase in PHASES:
        if args.out_commands:
            with open(f"{args.out_commands}.{phase}.ndjson", "w", encoding="utf-8") as out:
                out.write(ndjson(phases[phase]))
        else:
            sys.stdout.write(ndjson(phases[phase]))
        print(f"phase={phase} commands={len(phases[phase])}", file=sys.stderr)
    if args.out_expected:
        with open(args.out_expected, "w", encoding="utf-8") as out:
            json.dump(expected_results(model, args.book), out, indent=1, sort_keys=True)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
