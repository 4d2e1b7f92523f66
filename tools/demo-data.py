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

# A reversal: a bill booked twice by mistake is reversed (nothing is ever edited or deleted).
n += 1
entry(n, 30, "Electricity and water (booked twice by mistake)", [leg("6200", "DEBIT", 48_250), leg("1100", "CREDIT", 48_250)])
cmd("nw-rev-1", "reverse_entry", {"book_id": BOOK, "entry_id": f"JE-{n:04d}", "reversal_entry_id": f"JE-{n:04d}-R",
                                  "effective_date": f"{MONTH}-30"})
cmd("nw-rev-2", "reverse_entry", {"book_id": BOOK, "entry_id": f"JE-{n:04d}", "reversal_entry_id": f"JE-{n:04d}-R2",
                                  "effective_date": f"{MONTH}-30"})  # rejected: already reversed

# A linked run (all-or-nothing): month-end accruals posted together or not at all.
cmd("nw-run-accruals", "linked_run", {"commands": [
    {"command_id": "nw-acc-1", "post_entry": {"book_id": BOOK, "entry_id": "ACC-1", "effective_date": f"{MONTH}-30",
                                               "memo": "Accrued rent", "legs": [leg("6000", "DEBIT", 10_000), leg("2000", "CREDIT", 10_000)]}},
    {"command_id": "nw-acc-2", "post_entry": {"book_id": BOOK, "entry_id": "ACC-2", "effective_date": f"{MONTH}-30",
                                               "memo": "Accrued utilities", "legs": [leg("6200", "DEBIT", 5_000), leg("2000", "CREDIT", 5_000)]}}]})
cmd("nw-run-broken", "linked_run", {"commands": [
    {"command_id": "nw-acc-3", "post_entry": {"book_id": BOOK, "entry_id": "ACC-3", "effective_date": f"{MONTH}-30",
                                               "memo": "Accrued bonus", "legs": [leg("6100", "DEBIT", 10_000), leg("2000", "CREDIT", 10_000)]}},
    {"command_id": "nw-acc-4", "post_entry": {"book_id": BOOK, "entry_id": "ACC-4", "effective_date": f"{MONTH}-30",
                                               "memo": "Typo in the account", "legs": [leg("6101", "DEBIT", 10), leg("2000", "CREDIT", 10)]}}]})

# October is closed: a backdated entry into it is refused.
cmd("nw-close-oct", "close_period", {"book_id": BOOK, "through_date": "2026-10-31"})
entry(9008, 1, "Backdated into a closed period", [leg("6200", "DEBIT", 100), leg("1100", "CREDIT", 100)])
out[-1]["post_entry"]["effective_date"] = "2026-10-15"

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

if len(sys.argv) > 1 and sys.argv[1] == "--bank":
    # Card authorisations on a customer's account: holds count against what the customer may spend.
    # Ids carry today's date so a re-run on the same day is idempotent (deadlines are real times).
    import time
    day = time.strftime("%Y%m%d", time.gmtime())
    tomorrow_ms = (int(time.time()) // 86400 + 2) * 86400 * 1000
    out = []
    def bank(cid, kind, body):
        out.append({"command_id": f"bank-{day}-{cid}", kind: dict(body, book_id="bank")})
    bank("open-wallet", "open_account", {"account_id": "wallet-42", "name": "Customer 42 wallet", "type": "ACCOUNT_TYPE_LIABILITY",
                                         "currency": "EUR", "scale": 2, "constraints": {"debits_must_not_exceed_credits": True}})
    bank("open-cash", "open_account", {"account_id": "nostro", "name": "Nostro account", "type": "ACCOUNT_TYPE_ASSET", "currency": "EUR", "scale": 2})
    bank("open-merchant", "open_account", {"account_id": "merchants", "name": "Merchant settlement", "type": "ACCOUNT_TYPE_LIABILITY",
                                           "currency": "EUR", "scale": 2})
    bank("deposit", "post_entry", {"entry_id": f"DEP-{day}", "effective_date": time.strftime("%Y-%m-%d", time.gmtime()),
                                   "memo": "Salary in", "legs": [leg("nostro", "DEBIT", 250_000), leg("wallet-42", "CREDIT", 250_000)]})
    def hold(cid, hid, amount):
        bank(cid, "place_hold", {"hold_id": f"{hid}-{day}", "debit_account_id": "wallet-42", "credit_account_id": "merchants",
                                 "amount_minor": str(amount), "currency": "EUR", "expires_at_ms": str(tomorrow_ms), "memo": "card authorisation"})
    hold("h-hotel", "hotel", 120_000)
    hold("h-fuel", "fuel", 15_000)
    hold("h-tv", "tv", 200_000)  # refused: 1150.00 available after the first two
    bank("cap-hotel-1", "capture_hold", {"hold_id": f"hotel-{day}", "entry_id": f"CAP-hotel-1-{day}", "amount_minor": "80000",
                                         "effective_date": time.strftime("%Y-%m-%d", time.gmtime())})
    bank("cap-hotel-2", "capture_hold", {"hold_id": f"hotel-{day}", "entry_id": f"CAP-hotel-2-{day}", "amount_minor": "25000",
                                         "effective_date": time.strftime("%Y-%m-%d", time.gmtime()), "final": True})
    bank("rel-fuel", "release_hold", {"hold_id": f"fuel-{day}"})
    bank("cap-fuel", "capture_hold", {"hold_id": f"fuel-{day}", "entry_id": f"CAP-fuel-{day}", "amount_minor": "100",
                                      "effective_date": time.strftime("%Y-%m-%d", time.gmtime())})  # refused: released
    bank("close-wallet", "close_account", {"account_id": "wallet-42"})  # refused: balance not zero

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
