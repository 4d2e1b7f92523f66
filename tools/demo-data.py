#!/usr/bin/env python3
"""Writes the demo's commands as NDJSON: a small company's chart of accounts and a month of
journal entries, with a few invalid ones that Daybook must reject with clear reasons.
Deterministic (fixed seed), so the same file is produced every time and re-running the demo
shows idempotency: the same command ids give the first outcomes again."""
import json
import random
import sys

BOOK = "northwind"
MONTH = "2026-11"
rng = random.Random(20261123)

ACCOUNTS = [
    ("1000", "Cash", "ASSET"), ("1100", "Bank", "ASSET"), ("1200", "Accounts receivable", "ASSET"),
    ("1300", "Inventory", "ASSET"), ("2000", "Accounts payable", "LIABILITY"),
    ("2100", "VAT payable", "LIABILITY"), ("3000", "Share capital", "EQUITY"),
    ("4000", "Sales", "REVENUE"), ("5000", "Cost of goods sold", "EXPENSE"),
    ("6000", "Rent", "EXPENSE"), ("6100", "Salaries", "EXPENSE"), ("6200", "Utilities", "EXPENSE"),
]

out = []


def cmd(command_id, kind, body):
    out.append({"command_id": command_id, "correlation_id": "demo-" + MONTH, kind: body})


def leg(account, side, amount, currency="EUR"):
    return {"account_id": account, "side": "SIDE_" + side, "amount_minor": str(amount), "currency": currency}


def entry(n, day, memo, legs):
    cmd(f"nw-je-{n:04d}", "post_entry", {"book_id": BOOK, "entry_id": f"JE-{n:04d}",
                                          "effective_date": f"{MONTH}-{day:02d}", "memo": memo, "legs": legs})


for number, name, kind in ACCOUNTS:
    cmd(f"nw-open-{number}", "open_account", {"book_id": BOOK, "account_id": number, "name": name,
                                              "type": "ACCOUNT_TYPE_" + kind, "currency": "EUR", "scale": 2})

n = 1
entry(n, 1, "Share capital paid in", [leg("1100", "DEBIT", 5_000_000), leg("3000", "CREDIT", 5_000_000)])
n += 1
entry(n, 1, "Rent for November", [leg("6000", "DEBIT", 250_000), leg("1100", "CREDIT", 250_000)])
for day in range(2, 31):
    n += 1
    cost = rng.randrange(50_000, 400_000)
    entry(n, day, "Stock purchase on credit", [leg("1300", "DEBIT", cost), leg("2000", "CREDIT", cost)])
    for _ in range(rng.randrange(2, 6)):
        n += 1
        net = rng.randrange(2_000, 60_000)
        vat = net * 20 // 100
        cash = rng.random() < 0.5
        entry(n, day, "Cash sale" if cash else "Sale on account",
              [leg("1000" if cash else "1200", "DEBIT", net + vat), leg("4000", "CREDIT", net),
               leg("2100", "CREDIT", vat)])
        n += 1
        cogs = net * 55 // 100
        entry(n, day, "Cost of goods sold", [leg("5000", "DEBIT", cogs), leg("1300", "CREDIT", cogs)])
    if day % 7 == 0:
        n += 1
        collected = rng.randrange(20_000, 80_000)
        entry(n, day, "Customer payments received", [leg("1100", "DEBIT", collected), leg("1200", "CREDIT", collected)])
        n += 1
        paid = rng.randrange(100_000, 300_000)
        entry(n, day, "Supplier payment", [leg("2000", "DEBIT", paid), leg("1100", "CREDIT", paid)])
n += 1
entry(n, 28, "Salaries for November", [leg("6100", "DEBIT", 900_000), leg("1100", "CREDIT", 900_000)])
n += 1
entry(n, 30, "Electricity and water", [leg("6200", "DEBIT", 48_250), leg("1100", "CREDIT", 48_250)])
n += 1
entry(n, 30, "Cash deposited at the bank", [leg("1100", "DEBIT", 100_000), leg("1000", "CREDIT", 100_000)])

# Invalid commands: each must be rejected with its rule's code, field and a clear detail.
entry(9001, 15, "Unbalanced: typo in the credit", [leg("6200", "DEBIT", 10_000), leg("1100", "CREDIT", 1_000)])
entry(9002, 15, "Unknown account", [leg("6900", "DEBIT", 10_000), leg("1100", "CREDIT", 10_000)])
entry(9003, 15, "Negative amount", [leg("6200", "DEBIT", -500), leg("1100", "CREDIT", -500)])
cmd("nw-je-9004", "post_entry", {"book_id": BOOK, "entry_id": "JE-0002", "effective_date": f"{MONTH}-16",
                                 "memo": "Entry id used twice", "legs": [leg("6000", "DEBIT", 1), leg("1100", "CREDIT", 1)]})
entry(9005, 31, "November has 30 days", [leg("6200", "DEBIT", 100), leg("1100", "CREDIT", 100)])
entry(9006, 20, "Dollar leg on a euro account", [leg("6200", "DEBIT", 100, "USD"), leg("1100", "CREDIT", 100, "USD")])
cmd("nw-open-9007", "open_account", {"book_id": BOOK, "account_id": "1000", "name": "Cash again",
                                     "type": "ACCOUNT_TYPE_ASSET", "currency": "EUR", "scale": 2})

if len(sys.argv) > 2 and sys.argv[1] == "--bulk":
    # A throughput run instead: N two-leg entries spread over 6 books (each book one writer).
    out = []
    count = int(sys.argv[2])
    books = [f"sim-{b}" for b in range(6)]
    for book in books:
        for number, name, kind in ACCOUNTS[:4] + ACCOUNTS[7:8]:
            out.append({"command_id": f"{book}-open-{number}", "open_account": {
                "book_id": book, "account_id": number, "name": name, "type": "ACCOUNT_TYPE_" + kind,
                "currency": "EUR", "scale": 2}})
    for i in range(count):
        book = books[i % len(books)]
        debit = ("1000", "1100", "1200", "1300")[i % 4]
        out.append({"command_id": f"{book}-je-{i}", "post_entry": {
            "book_id": book, "entry_id": f"SIM-{i}", "effective_date": f"{MONTH}-{1 + i % 30:02d}",
            "legs": [leg(debit, "DEBIT", 100 + i % 1000), leg("4000", "CREDIT", 100 + i % 1000)]}})

sys.stdout.write("".join(json.dumps(c, separators=(",", ":")) + "\n" for c in out))
