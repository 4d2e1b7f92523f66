#!/usr/bin/env python3
"""Tests of tools/billing-month.py: the rounding rule on hand-worked figures, the model's rules
(what it refuses, declines and posts), determinism per seed, and the consistency of the expected
results (ledger balanced, control accounts equal to the documents, aging equal to the open items).
Run: python3 tools/billing_month_test.py"""
import contextlib
import importlib.util
import io
import json
import os
import pathlib
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("billing_month", HERE / "billing-month.py")
bm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bm)

SEEDS = (1, 7, 2026)
BOOK = "test-book"


def generated(seed, invoices=bm.INVOICES_DEFAULT):
    phases, model = bm.generate(seed, BOOK, invoices)
    return phases, model, bm.expected_results(model, BOOK)


def envelope(n, kind, body):
    return {"command_id": f"t-{n}", kind: body}


class Book:
    """A model with the month's chart of accounts, mapping and tax codes, counterparty C1 (a
    customer and a supplier), and short command helpers."""

    def __init__(self, schedule="immediate"):
        self.model = bm.Model(schedule)
        self.n = 0
        writer = bm.Writer(0, "b", self.model)
        bm.setup_phase(writer, "b", [bm.party_body("b", "C1", True, True)])

    def submit(self, kind, body):
        self.n += 1
        self.model.submit(envelope(self.n, kind, body))

    def register(self, counterparty, customer=True, supplier=False, effective_from="2026-01-01", blocked=False):
        self.submit("register_counterparty", bm.party_body("b", counterparty, customer, supplier, effective_from,
                                                           blocked))

    def invoice(self, invoice_id, lines, direction=bm.CUSTOMER, inclusive=False, issue=True, counterparty="C1",
                date="2026-11-02"):
        self.submit("create_invoice", {
            "invoice_id": invoice_id, "book_id": "b", "direction": direction, "counterparty_id": counterparty,
            "currency": "EUR", "issue_date": date, "payment_terms_days": 14,
            "prices_include_tax": inclusive, "lines": lines})
        if issue:
            self.submit("issue_invoice", {"invoice_id": invoice_id})
        return self.model.invoices[invoice_id]

    def payment(self, payment_id, amount, direction=bm.RECEIVED):
        self.submit("receive_payment", {"payment_id": payment_id, "book_id": "b", "direction": direction,
                                        "counterparty_id": "C1", "amount_minor": str(amount), "currency": "EUR",
                                        "date": "2026-11-10"})
        return self.model.payments[payment_id]

    def allocate(self, payment_id, *requests):
        self.submit("allocate_payment", {"payment_id": payment_id, "allocations": [
            {"allocation_id": allocation_id, "invoice_id": invoice_id, "amount_minor": str(amount)}
            for allocation_id, invoice_id, amount in requests]})


def line(quantity_milli, price, rate, account=""):
    body = {"description": "x", "quantity_milli": str(quantity_milli), "unit_price_minor": str(price),
            "tax_rate_bp": rate}
    if account:
        body["account_id"] = account
    return body


def coded(quantity_milli, price, code, account=""):
    """A line with a tax code of the register instead of a rate."""
    body = line(quantity_milli, price, 0, account)
    del body["tax_rate_bp"]
    body["tax_code"] = code
    return body


class RoundingTest(unittest.TestCase):
    def test_division_rounds_halves_away_from_zero(self):
        vectors = [((5, 2), 3), ((-5, 2), -3), ((5, -2), -3), ((-5, -2), 3), ((7, 2), 4), ((1, 2), 1),
                   ((-1, 2), -1), ((4, 3), 1), ((5, 3), 2), ((-5, 3), -2), ((1, 3), 0), ((3, 4), 1),
                   ((1, 4), 0), ((0, 7), 0), ((10**20 + 1, 2), 5 * 10**19 + 1)]
        for (numerator, denominator), expected in vectors:
            self.assertEqual(bm.div_round_half_away(numerator, denominator), expected, (numerator, denominator))

    def test_lines_with_prices_without_tax(self):
        vectors = [
            ((1500, 333, 1900), (500, 95, 595)),    # 499.5 -> 500; 95.0
            ((1000, 250, 700), (250, 18, 268)),     # tax 17.5 -> 18
            ((333, 1234, 2000), (411, 82, 493)),    # 410.922 -> 411; 82.2 -> 82
            ((2500, 1, 0), (3, 0, 3)),              # 2.5 -> 3 (round() would give 2)
            ((7, 86504, 1900), (606, 115, 721)),    # 605.528 -> 606; 115.14 -> 115
            ((1000, 0, 1900), (0, 0, 0)),
        ]
        for (quantity, price, rate), expected in vectors:
            self.assertEqual(bm.line_totals(quantity, price, rate, False), expected, (quantity, price, rate))

    def test_lines_with_prices_including_tax(self):
        vectors = [
            ((1000, 1190, 1900), (1000, 190, 1190)),  # exact
            ((1000, 1000, 700), (935, 65, 1000)),     # 934.579 -> 935
            ((3000, 1, 2000), (3, 0, 3)),             # net 2.5 -> 3
            ((1000, 1000, 0), (1000, 0, 1000)),
            ((1500, 333, 2000), (417, 83, 500)),      # gross 499.5 -> 500; net 416.67 -> 417
        ]
        for (quantity, price, rate), expected in vectors:
            self.assertEqual(bm.line_totals(quantity, price, rate, True), expected, (quantity, price, rate))

    def test_credit_notes_split_in_the_invoice_proportion(self):
        self.assertEqual(bm.credit_split(595, 95, 595), (500, 95))
        self.assertEqual(bm.credit_split(431, 113, 863), (375, 56))  # 56.43 -> 56
        self.assertEqual(bm.credit_split(4, 25, 200), (3, 1))        # 0.5 -> 1
        self.assertEqual(bm.credit_split(1, 190, 1190), (1, 0))
        self.assertEqual(bm.credit_split(500, 0, 1000), (500, 0))


class ModelRulesTest(unittest.TestCase):
    """Given commands, then the model's state, refusals and postings, as billing.h and
    billing_manager.h describe them."""

    def test_an_issued_invoice_posts_by_role_and_line_account(self):
        book = Book()
        invoice = book.invoice("I1", [line(1500, 333, 1900), line(1000, 250, 700, bm.OVERRIDE_ACCOUNT)])
        self.assertEqual((invoice.net, invoice.tax, invoice.gross), (750, 113, 863))
        self.assertEqual((invoice.status, invoice.number), ("INVOICE_STATUS_ISSUED", 1))
        self.assertEqual(sorted(book.model.entries["inv:I1"]), [
            ("1200", bm.DEBIT, 863), ("2100", bm.CREDIT, 113), ("4000", bm.CREDIT, 500), ("4100", bm.CREDIT, 250)])

    def test_a_credit_note_mirrors_the_entry_on_the_revenue_role(self):
        book = Book()
        book.invoice("I1", [line(1500, 333, 1900), line(1000, 250, 700, bm.OVERRIDE_ACCOUNT)])
        book.submit("credit_invoice", {"invoice_id": "I1", "credit_note_id": "CN1", "gross_minor": "431",
                                       "date": "2026-11-05"})
        self.assertEqual(sorted(book.model.entries["cn:I1:CN1"]),
                         [("1200", bm.CREDIT, 431), ("2100", bm.DEBIT, 56), ("4000", bm.DEBIT, 375)])
        self.assertEqual(book.model.invoices["I1"].outstanding, 432)

    def test_a_bill_posts_expense_input_tax_and_payable_and_omits_zero_tax(self):
        book = Book()
        book.invoice("B1", [line(1000, 1000, 0), line(2000, 500, 0)], direction=bm.SUPPLIER)
        self.assertEqual(sorted(book.model.entries["inv:B1"]), [
            ("2000", bm.CREDIT, 2000), ("5000", bm.DEBIT, 1000), ("5000", bm.DEBIT, 1000)])

    def test_credit_beyond_the_outstanding_is_refused(self):
        book = Book()
        book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        with self.assertRaises(bm.Rejected) as refused:
            book.submit("credit_invoice", {"invoice_id": "I1", "credit_note_id": "CN1", "gross_minor": "2001",
                                           "date": "2026-11-05"})
        self.assertEqual(refused.exception.code, "credit_exceeds_outstanding")

    def test_an_invoice_waiting_for_its_number_cannot_be_voided(self):
        book = Book("fifo")
        book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        with self.assertRaises(bm.Rejected) as refused:
            book.submit("void_invoice", {"invoice_id": "I1"})
        self.assertEqual(refused.exception.code, "invoice_number_pending")
        book.model.settle()
        book.submit("void_invoice", {"invoice_id": "I1"})
        book.model.settle()
        self.assertEqual(book.model.entries["inv:I1:void"],
                         [(a, bm.flip(s), m) for a, s, m in book.model.entries["inv:I1"]])

    def test_an_invoice_with_allocations_cannot_be_voided(self):
        book = Book()
        book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        book.payment("P1", 500)
        book.allocate("P1", ("A1", "I1", 500))
        with self.assertRaises(bm.Rejected) as refused:
            book.submit("void_invoice", {"invoice_id": "I1"})
        self.assertEqual(refused.exception.code, "invoice_has_allocations")

    def test_declined_allocations_go_back_to_unallocated(self):
        book = Book()
        book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        book.invoice("I2", [line(1000, 300, 0), line(1000, 300, 0)])
        book.submit("void_invoice", {"invoice_id": "I2"})
        payment = book.payment("P1", 5000)
        book.allocate("P1", ("A1", "I1", 2001), ("A2", "I2", 100), ("A3", "I1", 1500))
        self.assertEqual(sorted(code for *_, code in book.model.declined),
                         ["allocation_exceeds_outstanding", "invoice_void"])
        self.assertEqual(payment.unallocated, 3500)
        self.assertEqual(book.model.invoices["I1"].status, "INVOICE_STATUS_PARTIALLY_PAID")
        self.assertNotIn("alloc:P1:A1", book.model.entries)
        self.assertEqual(book.model.entries["alloc:P1:A3"], [("2200", bm.DEBIT, 1500), ("1200", bm.CREDIT, 1500)])

    def test_allocation_ids_belong_to_their_payment(self):
        book = Book()
        invoice = book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        book.payment("P1", 500)
        book.payment("P2", 700)
        book.allocate("P1", ("A1", "I1", 500))
        book.allocate("P2", ("A1", "I1", 700))
        self.assertEqual((book.model.declined, invoice.outstanding), ([], 800))
        book.submit("return_payment", {"payment_id": "P1", "date": "2026-11-20"})
        self.assertEqual(invoice.outstanding, 1300)
        self.assertEqual(invoice.allocations[("P2", "A1")][2], "")

    def test_an_invoice_whose_allocations_were_all_reversed_can_be_voided(self):
        book = Book()
        invoice = book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        book.payment("P1", 500)
        book.allocate("P1", ("A1", "I1", 500))
        book.submit("return_payment", {"payment_id": "P1", "date": "2026-11-20"})
        book.submit("void_invoice", {"invoice_id": "I1"})
        self.assertEqual((invoice.status, invoice.outstanding), ("INVOICE_STATUS_VOID", 0))

    def test_allocations_and_refunds_are_limited_by_the_unallocated_amount(self):
        book = Book()
        book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        book.payment("P1", 1000)
        with self.assertRaises(bm.Rejected) as refused:
            book.allocate("P1", ("A1", "I1", 600), ("A2", "I1", 401))
        self.assertEqual(refused.exception.code, "allocation_exceeds_unallocated")
        book.allocate("P1", ("A1", "I1", 600))
        with self.assertRaises(bm.Rejected) as refused:
            book.submit("refund_payment", {"payment_id": "P1", "refund_id": "R1", "amount_minor": "401",
                                           "date": "2026-11-11"})
        self.assertEqual(refused.exception.code, "refund_exceeds_unallocated")

    def test_a_payment_with_pending_allocations_cannot_be_returned(self):
        book = Book("fifo")
        book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        book.model.settle()
        book.payment("P1", 1000)
        book.allocate("P1", ("A1", "I1", 600))
        with self.assertRaises(bm.Rejected) as refused:
            book.submit("return_payment", {"payment_id": "P1", "date": "2026-11-20"})
        self.assertEqual(refused.exception.code, "payment_has_pending_allocations")

    def test_a_return_undoes_the_allocations_and_the_cash(self):
        book = Book()
        invoice = book.invoice("I1", [line(1000, 1000, 0), line(1000, 1000, 0)])
        payment = book.payment("P1", 1500)
        book.allocate("P1", ("A1", "I1", 1200))
        book.submit("refund_payment", {"payment_id": "P1", "refund_id": "R1", "amount_minor": "100",
                                       "date": "2026-11-11"})
        book.submit("return_payment", {"payment_id": "P1", "date": "2026-11-20"})
        self.assertEqual((invoice.outstanding, invoice.status), (2000, "INVOICE_STATUS_ISSUED"))
        self.assertEqual((payment.returned, payment.unallocated), (True, 0))
        self.assertEqual(sorted(book.model.entries["ret:P1"]),
                         [("1100", bm.CREDIT, 1400), ("1200", bm.DEBIT, 1200), ("2200", bm.DEBIT, 200)])
        self.assertEqual(bm.outstanding_as_of(invoice, "2026-11-19"), 800)
        self.assertEqual(bm.outstanding_as_of(invoice, "2026-11-20"), 2000)
        with self.assertRaises(bm.Rejected):
            book.submit("return_payment", {"payment_id": "P1", "date": "2026-11-21"})


class RegisterTest(unittest.TestCase):
    """The billing register: who may be invoiced on an issue date, and the tax codes' rates."""

    def setUp(self):
        self.book = Book()

    def test_an_unknown_counterparty_is_refused_back_to_draft_and_uses_no_number(self):
        book = Book("fifo")
        book.invoice("I1", [line(1000, 1000, 1900)], counterparty="NOBODY")  # issue_invoice itself is accepted
        invoice = book.model.invoices["I1"]
        self.assertEqual(invoice.status, "INVOICE_STATUS_ISSUING")
        book.model.settle()
        self.assertEqual((invoice.status, invoice.number, invoice.refusal),
                         ("INVOICE_STATUS_DRAFT", 0, "counterparty_unknown"))
        self.assertEqual((invoice.gross, invoice.outstanding), (1190, 1190))  # the draft's figures
        self.assertNotIn("inv:I1", book.model.entries)
        self.assertEqual(book.model.series, {})
        second = book.invoice("I2", [line(1000, 1000, 1900)])
        book.model.settle()
        self.assertEqual(second.number, 1)  # numbering stays gapless
        # Registered from a date after the issue date: still unknown on the issue date.
        book.register("NOBODY", effective_from="2026-11-03")
        book.submit("issue_invoice", {"invoice_id": "I1"})
        book.model.settle()
        self.assertEqual((invoice.status, invoice.number), ("INVOICE_STATUS_DRAFT", 0))
        book.register("NOBODY", effective_from="2026-11-01")
        book.submit("issue_invoice", {"invoice_id": "I1"})
        book.model.settle()
        self.assertEqual((invoice.status, invoice.number, invoice.refusal), ("INVOICE_STATUS_ISSUED", 2, ""))
        self.assertEqual([code for _, code in book.model.refusals], ["counterparty_unknown"] * 2)
        result = bm.expected_results(book.model, "b")
        self.assertEqual(result["numbers"], {"b/default": [1, 2]})

    def test_a_refused_draft_can_be_voided_and_allocations_to_it_are_declined(self):
        book = self.book
        book.invoice("I1", [line(1000, 1000, 0)], counterparty="NOBODY")
        book.payment("P1", 500)
        book.allocate("P1", ("A1", "I1", 500))
        self.assertEqual([code for *_, code in book.model.declined], ["invoice_not_issued"])
        book.submit("void_invoice", {"invoice_id": "I1"})
        self.assertEqual(book.model.invoices["I1"].status, "INVOICE_STATUS_VOID")
        self.assertNotIn("inv:I1:void", book.model.entries)

    def test_coded_lines_take_the_rate_of_the_issue_date(self):
        book = self.book
        draft = book.invoice("I1", [coded(1500, 333, "STD"), line(1000, 250, 700)], issue=False, date="2026-11-15")
        self.assertEqual((draft.net, draft.tax, draft.gross, draft.outstanding), (0, 0, 0, 0))  # totals at issue
        book.submit("issue_invoice", {"invoice_id": "I1"})
        self.assertEqual((draft.net, draft.tax, draft.gross), (750, 113, 863))  # 500 + 95 at 19 %, 250 + 18 at 7 %
        after = book.invoice("I2", [coded(1500, 333, "STD"), line(1000, 250, 700)], date=bm.RATE_CHANGE)
        self.assertEqual((after.net, after.tax, after.gross, after.outstanding), (750, 118, 868, 868))  # 100 at 20 %
        self.assertEqual(sorted(book.model.entries["inv:I2"]),
                         [("1200", bm.DEBIT, 868), ("2100", bm.CREDIT, 118), ("4000", bm.CREDIT, 250),
                          ("4000", bm.CREDIT, 500)])
        inclusive = book.invoice("I3", [coded(1000, 1200, "STD")], inclusive=True, date="2026-11-30")
        self.assertEqual((inclusive.net, inclusive.tax, inclusive.gross), (1000, 200, 1200))
        # A credit note splits in the proportion the issue gave.
        book.submit("credit_invoice", {"invoice_id": "I2", "credit_note_id": "CN1", "gross_minor": "434",
                                       "date": "2026-11-20"})
        self.assertEqual(after.credit_tax["CN1"], 59)

    def test_a_rate_changed_later_does_not_reprice_an_issued_invoice(self):
        book = self.book
        invoice = book.invoice("I1", [coded(1000, 10000, "RED")], date="2026-11-10")
        book.submit("set_tax_code", {"book_id": "b", "code": "RED", "rate_bp": 500, "effective_from": "2026-11-05"})
        self.assertEqual(invoice.tax, 700)
        later = book.invoice("I2", [coded(1000, 10000, "RED")], date="2026-11-10")
        self.assertEqual(later.tax, 500)

    def test_the_invoice_role_must_match_the_counterparty(self):
        book = self.book
        book.register("CUSTOMER-ONLY", customer=True, supplier=False)
        book.register("SUPPLIER-ONLY", customer=False, supplier=True)
        bill = book.invoice("B1", [line(1000, 1000, 0)], direction=bm.SUPPLIER, counterparty="CUSTOMER-ONLY")
        invoice = book.invoice("I1", [line(1000, 1000, 0)], counterparty="SUPPLIER-ONLY")
        for document in (bill, invoice):
            self.assertEqual((document.status, document.refusal), ("INVOICE_STATUS_DRAFT", "counterparty_role_mismatch"))
        self.assertEqual(book.invoice("B2", [line(1000, 1000, 0)], direction=bm.SUPPLIER,
                                      counterparty="SUPPLIER-ONLY").number, 1)
        self.assertEqual(book.invoice("I2", [line(1000, 1000, 0)], counterparty="CUSTOMER-ONLY").number, 1)

    def test_a_blocked_counterparty_is_refused_from_its_block_date(self):
        book = self.book
        book.register("C1", customer=True, supplier=True, effective_from="2026-11-10", blocked=True)
        before = book.invoice("I1", [line(1000, 1000, 0)], date="2026-11-09")
        blocked = book.invoice("I2", [line(1000, 1000, 0)], date="2026-11-10")
        self.assertEqual((before.status, before.number), ("INVOICE_STATUS_ISSUED", 1))
        self.assertEqual((blocked.status, blocked.number, blocked.refusal),
                         ("INVOICE_STATUS_DRAFT", 0, "counterparty_blocked"))
        book.register("C1", customer=True, supplier=True, effective_from="2026-11-10")  # the same date: replaced
        book.submit("issue_invoice", {"invoice_id": "I2"})
        self.assertEqual((blocked.status, blocked.number), ("INVOICE_STATUS_ISSUED", 2))

    def test_the_counterparty_is_checked_before_the_tax_codes(self):
        book = self.book
        unknown_code = book.invoice("I1", [coded(1000, 1000, "STD"), coded(1000, 1000, "NOPE")])
        self.assertEqual((unknown_code.status, unknown_code.refusal), ("INVOICE_STATUS_DRAFT", "tax_code_unknown"))
        both = book.invoice("I2", [coded(1000, 1000, "NOPE")], counterparty="NOBODY")
        self.assertEqual(both.refusal, "counterparty_unknown")
        early = book.invoice("I3", [coded(1000, 1000, "STD")], date="2025-12-31")  # before STD's first rate
        self.assertEqual(early.refusal, "counterparty_unknown")  # and C1's registration
        book.register("C1", customer=True, supplier=True, effective_from="2025-01-01")
        book.submit("issue_invoice", {"invoice_id": "I3"})
        self.assertEqual(early.refusal, "tax_code_unknown")

    def test_an_invoice_with_a_number_gets_it_again_whatever_the_register_says(self):
        book = self.book
        book.invoice("I1", [line(1000, 1000, 0)])
        book.register("C1", customer=True, supplier=True, effective_from="2026-01-01", blocked=True)
        # The series gave I2 number 2 before (a request answered, its answer not yet recorded).
        book.model.numbered[("b/default", "I2")], book.model.series["b/default"] = 2, 2
        # Uncoded: when the checks fail the register resolves no rates (billing.cc stops at the first
        # failed check), so a coded invoice's record_invoice_number would be tax_code_unknown.
        again = book.invoice("I2", [line(1000, 1000, 1900)])
        self.assertEqual((again.status, again.number, again.tax, book.model.series["b/default"]),
                         ("INVOICE_STATUS_ISSUED", 2, 190, 2))
        self.assertEqual(book.model.refusals, [])
        refused = book.invoice("I3", [line(1000, 1000, 0)])
        self.assertEqual((refused.status, refused.refusal), ("INVOICE_STATUS_DRAFT", "counterparty_blocked"))

    def test_register_commands_are_refused_in_the_documented_order(self):
        def refused(kind, body):
            with self.assertRaises(bm.Rejected) as caught:
                self.book.submit(kind, body)
            return caught.exception.code

        party = bm.party_body("b", "C9", True, False)
        self.assertEqual(refused("register_counterparty", dict(party, book_id="")), "billing_book_id_invalid")
        self.assertEqual(refused("register_counterparty", dict(party, counterparty_id="a b")), "counterparty_invalid")
        self.assertEqual(refused("register_counterparty", dict(party, name="")), "counterparty_name_invalid")
        self.assertEqual(refused("register_counterparty", dict(party, name="n" * (bm.MEMO_BYTES_MAX + 1))),
                         "counterparty_name_invalid")
        self.assertEqual(refused("register_counterparty", dict(party, customer=False)), "counterparty_roles_invalid")
        self.assertEqual(refused("register_counterparty", dict(party, effective_from="2026-02-30")),
                         "document_date_invalid")
        tax = {"book_id": "b", "code": "VAT", "rate_bp": 1900, "effective_from": "2026-01-01", "description": "VAT"}
        self.assertEqual(refused("set_tax_code", dict(tax, book_id="")), "billing_book_id_invalid")
        self.assertEqual(refused("set_tax_code", dict(tax, code="EU/VAT")), "tax_code_invalid")
        self.assertEqual(refused("set_tax_code", dict(tax, rate_bp=10001)), "tax_rate_invalid")
        self.assertEqual(refused("set_tax_code", dict(tax, effective_from="01/01/2026")), "document_date_invalid")
        self.assertEqual(refused("set_tax_code", dict(tax, description="d" * (bm.MEMO_BYTES_MAX + 1))),
                         "billing_memo_too_long")
        versions = {f"day-{n}": 0 for n in range(bm.REGISTER_VERSIONS_MAX)}
        self.book.model.tax_rates[("b", "FULL")] = versions
        self.assertEqual(refused("set_tax_code", dict(tax, code="FULL", effective_from="2030-01-01")),
                         "register_versions_exhausted")

    def test_a_line_gives_a_rate_or_a_code(self):
        def refused(*lines):
            with self.assertRaises(bm.Rejected) as caught:
                self.book.invoice("X", list(lines), issue=False)
            return caught.exception.code

        self.assertEqual(refused(dict(coded(1000, 1000, "STD"), tax_rate_bp=1900)), "tax_code_invalid")
        self.assertEqual(refused(coded(1000, 1000, "EU/STD")), "tax_code_invalid")
        self.assertEqual(refused(dict(coded(1000, 1000, "STD"), tax_rate_bp=10001)), "line_tax_rate_invalid")
        self.assertEqual(refused(coded(1000, 1000, "STD", account="a b")), "line_account_invalid")
        # The worst case (100 %) must fit when the rate is not known yet.
        self.assertEqual(refused(coded(1000, bm.INT64_MAX // 2 + 1, "STD")), "billing_amount_overflow")
        self.assertEqual(self.book.invoice("Y", [line(1000, bm.INT64_MAX // 2 + 1, 0)], issue=False).gross,
                         bm.INT64_MAX // 2 + 1)
        zero_rate = self.book.invoice("Z", [dict(coded(1000, 1000, "STD"), tax_rate_bp=0)], issue=False)
        self.assertEqual(zero_rate.lines[0].code, "STD")  # a rate of 0 is no rate (proto3)


class GenerationTest(unittest.TestCase):
    def test_the_same_seed_gives_the_same_month(self):
        for seed in SEEDS:
            first, second = generated(seed), generated(seed)
            self.assertEqual(first[0], second[0])
            self.assertEqual(first[2], second[2])

    def test_other_seeds_give_other_months(self):
        self.assertNotEqual(generated(1)[0]["documents"], generated(2)[0]["documents"])

    def test_the_files_are_ndjson_envelopes_with_unique_command_ids(self):
        with tempfile.TemporaryDirectory() as tmp:
            prefix, expected_path = os.path.join(tmp, "month"), os.path.join(tmp, "expected.json")
            with contextlib.redirect_stderr(io.StringIO()):
                bm.main(["--seed", "7", "--book", BOOK, "--out-commands", prefix, "--out-expected", expected_path])
            ids = []
            for phase in bm.PHASES:
                with open(f"{prefix}.{phase}.ndjson", encoding="utf-8") as lines:
                    envelopes = [json.loads(text) for text in lines]
                self.assertTrue(envelopes, phase)
                for env in envelopes:
                    self.assertEqual(env["correlation_id"], "billing-month-7")
                    self.assert_proto_json(env[bm.payload_kind(env)])
                    ids.append(env["command_id"])
            self.assertEqual(len(ids), len(set(ids)))
            self.assertTrue(all(bm.valid_id(i) for i in ids))
            with open(expected_path, encoding="utf-8") as data:
                self.assertEqual(json.load(data), json.loads(json.dumps(generated(7)[2])))

    def assert_proto_json(self, value, key=""):
        """int64 fields are JSON strings (protobuf's JSON mapping), and every enum is named."""
        if isinstance(value, dict):
            for child_key, child in value.items():
                self.assert_proto_json(child, child_key)
        elif isinstance(value, list):
            for child in value:
                self.assert_proto_json(child, key)
        elif key in bm.INT64_FIELDS:
            self.assertIsInstance(value, str, key)
            self.assertRegex(value, r"^-?\d+$")
        elif key in ("direction", "type", "role"):
            self.assertRegex(value, r"^[A-Z_]+$")

    def test_too_few_invoices_is_a_usage_error(self):
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit) as stop:
            bm.main(["--seed", "1", "--book", BOOK, "--invoices", str(bm.INVOICES_MIN - 1)])
        self.assertNotEqual(stop.exception.code, 0)

    def test_every_case_the_month_must_show_is_there(self):
        for seed in SEEDS:
            phases, model, expected = generated(seed)
            creates = [e["create_invoice"] for e in phases["documents"] if "create_invoice" in e]
            lines = [line for body in creates for line in body["lines"]]
            self.assertTrue(any(body["prices_include_tax"] for body in creates))
            self.assertTrue(any(line.get("account_id") for line in lines))
            self.assertTrue(any("due_date" in body for body in creates))
            self.assertTrue(any("payment_terms_days" in body for body in creates))
            self.assertEqual({line["tax_rate_bp"] for line in lines if "tax_rate_bp" in line}, set(bm.TAX_RATES_BP))
            self.assertEqual({line["tax_code"] for line in lines if "tax_code" in line}, {"STD", "RED", "ZERO"})
            self.assertFalse(any("tax_code" in line and "tax_rate_bp" in line for line in lines))
            # STD's lines priced on both sides of the change, by their invoices' issue dates.
            std_rates = {(i.issue_date >= bm.RATE_CHANGE, line.rate) for i in model.invoices.values() if i.number
                         for line in i.lines if line.code == "STD"}
            self.assertEqual(std_rates, {(False, 1900), (True, 2000)})
            setup = [bm.payload_kind(e) for e in phases["setup"]]
            self.assertEqual(setup.count("set_tax_code"), len(bm.TAX_CODES))
            registered = {e["register_counterparty"]["counterparty_id"] for e in phases["setup"] + phases["payments"]
                          if "register_counterparty" in e}
            self.assertEqual(registered, {i.counterparty for i in model.invoices.values()} | {p.counterparty for p in
                                                                                              model.payments.values()})
            # The refusals: two drafts for good, one issued again in the next phase.
            self.assertEqual(sorted(code for _, code in model.refusals),
                             ["counterparty_blocked", "counterparty_role_mismatch", "counterparty_unknown"])
            drafts = {i["issue_refusal"] for i in expected["invoices"].values() if i["status"] == "INVOICE_STATUS_DRAFT"}
            self.assertEqual(drafts, {"counterparty_blocked", "counterparty_role_mismatch"})
            late = [i for i in model.invoices.values() if i.counterparty == bm.LATE_CUSTOMER]
            self.assertEqual([(i.status, bool(i.number), i.refusal) for i in late], [("INVOICE_STATUS_ISSUED", True, "")])
            self.assertIn(late[0].invoice_id, [e["issue_invoice"]["invoice_id"] for e in phases["payments"]
                                               if "issue_invoice" in e])
            self.assertEqual(set(expected["numbers"]), {f"{BOOK}/default", f"{BOOK}/export", f"{BOOK}/bills"})
            statuses = [i["status"] for i in expected["invoices"].values()]
            for status in ("PAID", "PARTIALLY_PAID", "ISSUED", "VOID", "DRAFT"):
                self.assertIn("INVOICE_STATUS_" + status, statuses)
            voids = [i for i in model.invoices.values() if i.status == "INVOICE_STATUS_VOID"]
            self.assertTrue(any(i.number for i in voids) and any(not i.number for i in voids))
            self.assertEqual({d["code_name"] for d in expected["declined_allocations"]},
                             {"invoice_void", "allocation_exceeds_outstanding"})
            kinds = {bm.payload_kind(e) for e in phases["payments"]}
            self.assertLessEqual({"receive_payment", "allocate_payment", "credit_invoice", "refund_payment"},
                                 kinds)
            returned = [p for p in model.payments.values() if p.returned]
            self.assertEqual(len(returned), 1)
            self.assertTrue(any(a[2] == "ALLOCATION_STATE_RETURNED" for a in returned[0].allocations.values()))
            self.assertTrue(any(int(p["unallocated_minor"]) for p in expected["payments"].values()))
            self.assertTrue(any(not i.tax and i.number for i in model.invoices.values()))

    def test_saga_steps_in_any_order_give_the_same_results(self):
        for seed in SEEDS:
            for invoices in (bm.INVOICES_MIN, 9, bm.INVOICES_DEFAULT):
                phases, _, expected = generated(seed, invoices)
                for schedule in ("fifo", "lifo"):
                    other = bm.expected_results(bm.replay(phases, schedule), BOOK)
                    self.assertEqual(without_numbers(other), without_numbers(expected), (seed, invoices, schedule))


def without_numbers(expected):
    copy = json.loads(json.dumps(expected))
    for invoice in copy["invoices"].values():
        invoice["number"] = bool(invoice["number"])
    return copy


class ExpectedResultsTest(unittest.TestCase):
    def test_the_ledger_balances_entry_by_entry_and_in_total(self):
        for seed in SEEDS:
            _, model, expected = generated(seed)
            for entry_id, legs in model.entries.items():
                debits = sum(amount for _, side, amount in legs if side == bm.DEBIT)
                self.assertEqual(debits, sum(amount for _, side, amount in legs if side == bm.CREDIT), entry_id)
            totals = expected["ledger"].values()
            self.assertEqual(sum(int(t["debits_minor"]) for t in totals),
                             sum(int(t["credits_minor"]) for t in totals))
            self.assertEqual(set(expected["ledger"]), {account for account, *_ in bm.ACCOUNTS})

    def test_control_accounts_equal_the_documents(self):
        for seed in SEEDS:
            _, model, expected = generated(seed)
            balance = {a: int(t["debits_minor"]) - int(t["credits_minor"]) for a, t in expected["ledger"].items()}
            invoices, payments = model.invoices.values(), model.payments.values()
            # A draft (refused at issue) keeps its gross as outstanding but is no open item.
            open_items = {d: sum(i.outstanding for i in invoices if i.direction == d and i.number)
                          for d in (bm.CUSTOMER, bm.SUPPLIER)}
            advances = {d: sum(p.unallocated for p in payments if p.direction == d and not p.returned)
                        for d in (bm.RECEIVED, bm.SENT)}
            self.assertEqual(balance["1200"], open_items[bm.CUSTOMER])
            self.assertEqual(-balance["2000"], open_items[bm.SUPPLIER])
            self.assertEqual(-balance["2200"], advances[bm.RECEIVED])
            self.assertEqual(balance["1500"], advances[bm.SENT])
            live = [i for i in invoices if i.number and i.status != "INVOICE_STATUS_VOID"]
            output_tax = sum(i.tax - sum(bm.credit_split(g, i.tax, i.gross)[1] for g, _ in i.credits.values())
                             for i in live if i.direction == bm.CUSTOMER)
            self.assertEqual(-balance["2100"], output_tax)

    def test_invoice_figures_agree_with_their_status(self):
        for seed in SEEDS:
            _, _, expected = generated(seed)
            for invoice_id, invoice in expected["invoices"].items():
                gross, outstanding = int(invoice["gross_minor"]), int(invoice["outstanding_minor"])
                self.assertTrue(0 <= outstanding <= gross, invoice_id)
                status = invoice["status"]
                if status == "INVOICE_STATUS_VOID":
                    self.assertEqual(outstanding, 0)
                elif status == "INVOICE_STATUS_DRAFT":  # refused at issue: no number, the draft's figures
                    self.assertEqual((invoice["number"], outstanding), (0, gross), invoice_id)
                    self.assertIn(invoice["issue_refusal"], ("counterparty_blocked", "counterparty_role_mismatch"))
                else:
                    self.assertEqual(invoice["issue_refusal"], "", invoice_id)
                    self.assertNotEqual(invoice["number"], 0, invoice_id)
                    self.assertEqual(status == "INVOICE_STATUS_PAID", outstanding == 0, invoice_id)
                    if status == "INVOICE_STATUS_PARTIALLY_PAID":  # a payment took part of it
                        self.assertLess(outstanding, gross, invoice_id)

    def test_numbers_are_gapless_per_series(self):
        for seed in SEEDS:
            _, _, expected = generated(seed)
            for series, numbers in expected["numbers"].items():
                self.assertEqual(numbers, list(range(1, len(numbers) + 1)), series)
                numbered = [i for i in expected["invoices"].values() if i["series_key"] == series and i["number"]]
                self.assertEqual(len(numbered), len(numbers))

    def test_aging_adds_up_to_the_open_items_and_unallocated_payments(self):
        for seed in SEEDS:
            _, model, expected = generated(seed)
            for key, direction, paid_by in (("aging_customer", bm.CUSTOMER, bm.RECEIVED),
                                            ("aging_supplier", bm.SUPPLIER, bm.SENT)):
                rows = expected[key]
                self.assertEqual([r["counterparty"] for r in rows], sorted({r["counterparty"] for r in rows}))
                for row in rows:
                    self.assertEqual(int(row["total"]), sum(int(row[b]) for b in bm.AGING_BUCKETS), row)
                    self.assertTrue(int(row["total"]) or int(row["unallocated"]), row)
                invoices = [i for i in model.invoices.values() if i.direction == direction and i.number]
                self.assertEqual(sum(int(r["total"]) for r in rows), sum(i.outstanding for i in invoices))
                payments = [p for p in model.payments.values() if p.direction == paid_by and not p.returned]
                self.assertEqual(sum(int(r["unallocated"]) for r in rows), sum(p.unallocated for p in payments))
                for row in rows:
                    mine = [i for i in invoices if i.counterparty == row["counterparty"]]
                    self.assertEqual(int(row["total"]), sum(i.outstanding for i in mine))

    def test_aging_buckets_by_days_past_due(self):
        for days, bucket in ((-3, "current"), (0, "current"), (1, "days_1_30"), (30, "days_1_30"),
                             (31, "days_31_60"), (60, "days_31_60"), (61, "days_61_90"), (90, "days_61_90"),
                             (91, "over_90")):
            self.assertEqual(bm.aging_bucket(days), bucket, days)


if __name__ == "__main__":
    unittest.main()
