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
    """A model with the month's chart of accounts and mapping, and short command helpers."""

    def __init__(self, schedule="immediate"):
        self.model = bm.Model(schedule)
        self.n = 0
        writer = bm.Writer(0, "b", self.model)
        bm.setup_phase(writer, "b")

    def submit(self, kind, body):
        self.n += 1
        self.model.submit(envelope(self.n, kind, body))

    def invoice(self, invoice_id, lines, direction=bm.CUSTOMER, inclusive=False, issue=True):
        self.submit("create_invoice", {
            "invoice_id": invoice_id, "book_id": "b", "direction": direction, "counterparty_id": "C1",
            "currency": "EUR", "issue_date": "2026-11-02", "payment_terms_days": 14,
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
            self.assertEqual({rate["tax_rate_bp"] for rate in lines}, set(bm.TAX_RATES_BP))
            self.assertEqual(set(expected["numbers"]), {f"{BOOK}/default", f"{BOOK}/export", f"{BOOK}/bills"})
            statuses = [i["status"] for i in expected["invoices"].values()]
            for status in ("PAID", "PARTIALLY_PAID", "ISSUED", "VOID"):
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
            open_items = {d: sum(i.outstanding for i in invoices if i.direction == d)
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
                else:
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
                invoices = [i for i in model.invoices.values() if i.direction == direction]
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
