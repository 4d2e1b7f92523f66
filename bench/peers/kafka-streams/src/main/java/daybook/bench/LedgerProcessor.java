package daybook.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import daybook.bench.Commands.Envelope;
import daybook.bench.Commands.Leg;
import daybook.bench.Commands.OpenAccount;
import daybook.bench.Commands.PostEntry;
import daybook.bench.Rejection.Code;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides one command per record, with Daybook's W1 rules in Daybook's order (aggregates/ledger.cc
 * decide_open / decide_post, consumers/processor.cc process), against four RocksDB key-value
 * stores of the task (one task per partition of the commands topic; a book's commands all land in
 * one partition, so its rows are all in one task's stores):
 *
 *   outcomes  book \0 command_id -> SHA-256 of the payload (32 bytes) + the Outcome as sent
 *   accounts  book \0 account_id -> currency, constraints, posted debits and credits (Account)
 *   entries   book \0 entry_id   -> effective date, memo and legs as posted (to judge repeats)
 *   books     book               -> the book's version (events so far), u64 big-endian
 *
 * Writes: an Outcome (key command_id) to the outcomes sink for every command, an event (key book
 * id, a daybook.v1.EventEnvelope without Daybook's seal) to the events sink for every accepted
 * one, and a record it cannot read to the dlq sink when there is one.
 */
final class LedgerProcessor implements Processor<byte[], byte[], byte[], byte[]> {
    static final String STORE_OUTCOMES = "outcomes";
    static final String STORE_ACCOUNTS = "accounts";
    static final String STORE_ENTRIES = "entries";
    static final String STORE_BOOKS = "books";
    static final String SINK_EVENTS = "events-sink";
    static final String SINK_OUTCOMES = "outcomes-sink";
    static final String SINK_DLQ = "dlq-sink";

    // events/limits.h
    static final int ID_BYTES_MAX = 128;
    static final int ACCOUNT_NAME_BYTES_MAX = 200;
    static final int MEMO_BYTES_MAX = 1000;
    static final int ENTRY_LEGS_MAX = 1024;
    static final int COMMAND_BYTES_MAX = 512 * 1024;
    static final int CURRENCY_SCALE_MAX = 9;

    private static final String ID_RULE = " must be 1-128 printable characters without spaces";
    private static final String[] ROLE_NAMES = {"ACCOUNT_ROLE_UNSPECIFIED", "ACCOUNT_ROLE_RECEIVABLE",
        "ACCOUNT_ROLE_PAYABLE", "ACCOUNT_ROLE_REVENUE", "ACCOUNT_ROLE_EXPENSE", "ACCOUNT_ROLE_TAX_PAYABLE",
        "ACCOUNT_ROLE_TAX_RECEIVABLE", "ACCOUNT_ROLE_CUSTOMER_ADVANCES", "ACCOUNT_ROLE_SUPPLIER_ADVANCES",
        "ACCOUNT_ROLE_BANK"};

    /** Counters over every task of the process (printed at shutdown). */
    static final class Stats {
        final LongAdder commands = new LongAdder();
        final LongAdder accepted = new LongAdder();
        final LongAdder rejected = new LongAdder();
        final LongAdder duplicates = new LongAdder();
        final LongAdder unreadable = new LongAdder();

        String json() {
            return "{\"commands\":" + commands.sum() + ",\"accepted\":" + accepted.sum() + ",\"rejected\":"
                    + rejected.sum() + ",\"duplicates\":" + duplicates.sum() + ",\"unreadable\":" + unreadable.sum() + "}";
        }
    }

    private static final Logger log = LoggerFactory.getLogger(LedgerProcessor.class);

    private final Stats stats;
    private final String commandsTopic;
    private final int commandPartitions;
    private final boolean hasDlq;

    private ProcessorContext<byte[], byte[]> context;
    private KeyValueStore<Bytes, byte[]> outcomes, accounts, entries, books;
    private final MessageDigest sha256;
    private long now; // processing clock: the largest record timestamp seen by this task
    private long dateDay = Long.MIN_VALUE;
    private String dateText = "";

    LedgerProcessor(Stats stats, String commandsTopic, int commandPartitions, boolean hasDlq) {
        this.stats = stats;
        this.commandsTopic = commandsTopic;
        this.commandPartitions = commandPartitions;
        this.hasDlq = hasDlq;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
        outcomes = context.getStateStore(STORE_OUTCOMES);
        accounts = context.getStateStore(STORE_ACCOUNTS);
        entries = context.getStateStore(STORE_ENTRIES);
        books = context.getStateStore(STORE_BOOKS);
    }

    // ---- One command ------------------------------------------------------------------------

    @Override
    public void process(Record<byte[], byte[]> record) {
        stats.commands.increment();
        now = Math.max(now, record.timestamp());
        byte[] keyBytes = record.key() == null ? new byte[0] : record.key();
        byte[] value = record.value() == null ? new byte[0] : record.value();

        Envelope cmd;
        try {
            cmd = Commands.parseEnvelope(value);
            if (cmd.commandId.isEmpty()) throw new Commands.Unreadable("command_id is empty");
            if (!printableAscii(cmd.commandId)) throw new Commands.Unreadable("command_id is not printable ASCII");
        } catch (Commands.Unreadable e) {
            deadLetter(record, e.getMessage());
            return;
        }
        String key = new String(keyBytes, UTF_8);
        Bytes idemKey = rowKey(keyBytes, cmd.commandId);
        byte[] fingerprint = cmd.fingerprint(sha256);

        // A retry: the stored answer, marked duplicate; the same id for another payload: refused.
        byte[] known = outcomes.get(idemKey);
        if (known != null) {
            if (Arrays.equals(known, 0, 32, fingerprint, 0, 32)) {
                stats.duplicates.increment();
                byte[] dup = Arrays.copyOfRange(known, 32, known.length + 2);
                dup[dup.length - 2] = (byte) 0x50; // field 10 (duplicate), varint
                dup[dup.length - 1] = 1;
                sendOutcome(record, cmd.commandId, dup);
            } else {
                stats.rejected.increment();
                Rejection r = Rejection.of(Code.command_id_reused, "command_id",
                        "command_id " + cmd.commandId + " was already used for a different command in " + key);
                sendOutcome(record, cmd.commandId, outcome(cmd.commandId, key, r));
            }
            return;
        }

        Rejection refused = checkEnvelope(cmd, value.length, keyBytes, key);
        byte[] event = null;
        if (refused == null) {
            Decision d = cmd.openAccount != null ? decideOpen(cmd.openAccount) : decidePost(cmd.postEntry);
            refused = d.rejection;
            if (refused == null) event = d.apply(cmd, fingerprint, key);
        }
        byte[] answer = outcome(cmd.commandId, key, refused);
        byte[] stored = new byte[32 + answer.length];
        System.arraycopy(fingerprint, 0, stored, 0, 32);
        System.arraycopy(answer, 0, stored, 32, answer.length);
        outcomes.put(idemKey, stored);
        if (event != null) {
            stats.accepted.increment();
            context.forward(new Record<>(keyBytes, event, record.timestamp()), SINK_EVENTS);
        } else {
            stats.rejected.increment();
        }
        sendOutcome(record, cmd.commandId, answer);
    }

    private void sendOutcome(Record<byte[], byte[]> record, String commandId, byte[] outcome) {
        context.forward(new Record<>(commandId.getBytes(UTF_8), outcome, record.timestamp()), SINK_OUTCOMES);
    }

    private void deadLetter(Record<byte[], byte[]> record, String error) {
        stats.unreadable.increment();
        long n = stats.unreadable.sum();
        String where = context.recordMetadata()
                .map(m -> " partition=" + m.partition() + " offset=" + m.offset())
                .orElse("");
        if (n == 1 || n % 1000 == 0)
            log.warn("unreadable command{} error={} ({} so far{})", where, error, n, hasDlq ? ", sent to the dlq" : ", dropped");
        if (!hasDlq) return;
        RecordHeaders h = new RecordHeaders();
        h.add("daybook.source_topic", commandsTopic.getBytes(UTF_8));
        RecordMetadata m = context.recordMetadata().orElse(null);
        h.add("daybook.source_partition", String.valueOf(m == null ? -1 : m.partition()).getBytes(UTF_8));
        h.add("daybook.source_offset", String.valueOf(m == null ? -1 : m.offset()).getBytes(UTF_8));
        h.add("daybook.error", error.getBytes(UTF_8));
        context.forward(new Record<>(record.key(), record.value(), record.timestamp(), h), SINK_DLQ);
    }

    /** Envelope checks, in Daybook's order (events/codec.cc read_command, processor.cc process). */
    private Rejection checkEnvelope(Envelope cmd, int recordBytes, byte[] keyBytes, String key) {
        if (cmd.commandId.length() > ID_BYTES_MAX)
            return Rejection.of(Code.command_id_invalid, "command_id", "command_id is longer than " + ID_BYTES_MAX + " bytes");
        if (recordBytes > COMMAND_BYTES_MAX)
            return Rejection.of(Code.command_too_large, "",
                    "command record is " + recordBytes + " bytes; the limit is " + COMMAND_BYTES_MAX);
        String unknown = cmd.firstUnknown();
        if (unknown != null)
            return Rejection.of(Code.envelope_invalid, unknown, "unknown field or enum value (a newer client, or a typo)");
        if (cmd.payloadField == 0)
            return Rejection.of(Code.payload_missing, "payload", "the envelope carries no command");
        if (cmd.openAccount == null && cmd.postEntry == null)
            return Rejection.of(Code.envelope_invalid, "payload", "command field " + cmd.payloadField
                    + " is not supported by the Kafka Streams peer, which decides only open_account and post_entry (W1)");
        String routingKey = cmd.routingKey();
        if (!Arrays.equals(routingKey.getBytes(UTF_8), keyBytes))
            return Rejection.of(Code.routing_key_mismatch, "key",
                    "record key '" + key + "' is not the command's routing key '" + routingKey + "'");
        RecordMetadata m = context.recordMetadata().orElse(null);
        int expected = Utils.toPositive(Utils.murmur2(keyBytes)) % commandPartitions;
        if (m != null && m.partition() != expected)
            return Rejection.of(Code.wrong_partition, "partition", "record is in partition " + m.partition()
                    + " but murmur2 puts '" + key + "' in partition " + expected);
        if (!validId(routingKey))
            return Rejection.of(Code.book_id_invalid, (cmd.openAccount != null ? "open_account" : "post_entry") + ".book_id",
                    "book_id" + ID_RULE);
        return null;
    }

    // ---- open_account -----------------------------------------------------------------------

    /** The outcome of decide: a rejection, or what to change and write when accepted. */
    private abstract static class Decision {
        Rejection rejection;

        /** Applies the accepted command to the stores; returns the event record's value. */
        abstract byte[] apply(Envelope cmd, byte[] fingerprint, String key);
    }

    private static Decision refuse(Rejection r) {
        Decision d = new Decision() {
            @Override
            byte[] apply(Envelope cmd, byte[] fingerprint, String key) {
                throw new IllegalStateException("refused");
            }
        };
        d.rejection = r;
        return d;
    }

    private Decision decideOpen(OpenAccount c) {
        final String f = "open_account.";
        if (!validId(c.accountId)) return refuse(Rejection.of(Code.account_id_invalid, f + "account_id", "account_id" + ID_RULE));
        int nameBytes = utf8Length(c.name);
        if (nameBytes == 0 || nameBytes > ACCOUNT_NAME_BYTES_MAX)
            return refuse(Rejection.of(Code.account_name_invalid, f + "name", "name must be 1-" + ACCOUNT_NAME_BYTES_MAX + " bytes"));
        if (c.type == 0 || c.type > 5)
            return refuse(Rejection.of(Code.account_type_invalid, f + "type",
                    "type must be asset, liability, equity, revenue or expense"));
        if (!validCurrency(c.currency))
            return refuse(Rejection.of(Code.currency_invalid, f + "currency",
                    "currency must be 3-12 characters A-Z or 0-9, got '" + c.currency + "'"));
        if (Integer.compareUnsigned(c.scale, CURRENCY_SCALE_MAX) > 0)
            return refuse(Rejection.of(Code.scale_too_large, f + "scale", "scale " + Integer.toUnsignedString(c.scale)
                    + " is above the maximum of " + CURRENCY_SCALE_MAX + " decimal places"));
        Commands.Constraints k = c.constraints != null ? c.constraints : new Commands.Constraints();
        if (k.limitMinor < 0)
            return refuse(Rejection.of(Code.constraints_invalid, f + "constraints.limit_minor",
                    "limit must not be negative, got " + k.limitMinor));
        if (k.debitsMustNotExceedCredits && k.creditsMustNotExceedDebits)
            return refuse(Rejection.of(Code.constraints_invalid, f + "constraints",
                    "debits_must_not_exceed_credits and credits_must_not_exceed_debits exclude each other"));
        byte[] book = c.bookId.getBytes(UTF_8);
        Bytes accountKey = rowKey(book, c.accountId);
        if (accounts.get(accountKey) != null)
            return refuse(Rejection.of(Code.account_already_exists, f + "account_id",
                    "account " + c.accountId + " already exists in book " + c.bookId));
        if (!c.parentAccountId.isEmpty()) {
            byte[] raw = accounts.get(rowKey(book, c.parentAccountId));
            if (raw == null)
                return refuse(Rejection.of(Code.parent_not_found, f + "parent_account_id",
                        "parent account " + c.parentAccountId + " does not exist in book " + c.bookId));
            Account parent = Account.decode(raw);
            if (!parent.currency.equals(c.currency))
                return refuse(Rejection.of(Code.parent_currency_mismatch, f + "parent_account_id",
                        "parent account " + c.parentAccountId + " is in " + parent.currency + ", not " + c.currency));
        }
        return new Decision() {
            @Override
            byte[] apply(Envelope cmd, byte[] fingerprint, String key) {
                Account a = new Account(c.currency, k.debitsMustNotExceedCredits, k.creditsMustNotExceedDebits,
                        k.limitMinor, 0, 0);
                accounts.put(accountKey, a.encode());
                PbOut opened = new PbOut(96).string(1, c.bookId).string(2, c.accountId).string(3, c.name)
                        .enumValue(4, c.type).string(5, c.currency).uint32(6, c.scale).string(7, c.parentAccountId);
                if (c.constraints != null)
                    opened.message(8, new PbOut(24).bool(1, k.debitsMustNotExceedCredits)
                            .bool(2, k.creditsMustNotExceedDebits).int64(3, k.limitMinor).toByteArray());
                return event(cmd, fingerprint, key, book, utcDate(now), 100, opened.toByteArray());
            }
        };
    }

    // ---- post_entry -------------------------------------------------------------------------

    private Decision decidePost(PostEntry c) {
        final String f = "post_entry.";
        if (!validId(c.entryId)) return refuse(Rejection.of(Code.entry_id_invalid, f + "entry_id", "entry_id" + ID_RULE));
        if (!validDate(c.effectiveDate))
            return refuse(Rejection.of(Code.effective_date_invalid, f + "effective_date",
                    "effective_date must be a calendar date YYYY-MM-DD, got '" + c.effectiveDate + "'"));
        int memoBytes = utf8Length(c.memo);
        if (memoBytes > MEMO_BYTES_MAX)
            return refuse(Rejection.of(Code.memo_too_long, f + "memo",
                    "memo is " + memoBytes + " bytes; the limit is " + MEMO_BYTES_MAX));
        List<Leg> legs = c.legs;
        if (legs.size() < 2)
            return refuse(Rejection.of(Code.entry_too_few_legs, f + "legs", "an entry needs at least 2 legs, got " + legs.size()));
        if (legs.size() > ENTRY_LEGS_MAX)
            return refuse(Rejection.of(Code.entry_too_many_legs, f + "legs",
                    "an entry has at most " + ENTRY_LEGS_MAX + " legs, got " + legs.size()));
        for (int i = 0; i < legs.size(); ++i) {
            Leg l = legs.get(i);
            String lf = f + "legs[" + i + "].";
            if (l.accountRole != 0) {
                if (!l.accountId.isEmpty())
                    return refuse(Rejection.of(Code.leg_account_and_role, lf + "account_role",
                            "a leg names an account_id or an account_role, not both"));
            } else if (!validId(l.accountId))
                return refuse(Rejection.of(Code.account_id_invalid, lf + "account_id", "account_id" + ID_RULE));
            if (l.side != 1 && l.side != 2)
                return refuse(Rejection.of(Code.leg_side_invalid, lf + "side", "side must be debit or credit"));
            if (l.amountMinor <= 0)
                return refuse(Rejection.of(Code.amount_must_be_positive, lf + "amount_minor",
                        "amount must be positive, got " + l.amountMinor));
            if (!validCurrency(l.currency))
                return refuse(Rejection.of(Code.currency_invalid, lf + "currency",
                        "currency must be 3-12 characters A-Z or 0-9, got '" + l.currency + "'"));
        }
        // Period lock: the peer keeps no calendar and no closed periods (close_period is not in W1),
        // so only a period-13 adjustment can be refused here, as Daybook refuses it in such a book.
        if (c.adjustment) {
            if (!c.effectiveDate.endsWith("-12-31"))
                return refuse(Rejection.of(Code.adjustment_date_invalid, f + "effective_date",
                        "a period-13 adjustment is dated the last day of a fiscal year, not " + c.effectiveDate));
            return refuse(Rejection.of(Code.adjustment_period_not_closed, f + "effective_date",
                    "period 13 opens once the year's last period is closed (closed through nothing); post it as a normal entry"));
        }
        // Legs by role: the peer has no account mappings (set_account_mapping is not in W1).
        for (int i = 0; i < legs.size(); ++i) {
            Leg l = legs.get(i);
            if (l.accountRole != 0)
                return refuse(Rejection.of(Code.account_role_unmapped, f + "legs[" + i + "].account_role",
                        "book " + c.bookId + " maps no account to " + ROLE_NAMES[l.accountRole] + " on "
                                + c.effectiveDate + " (set_account_mapping)"));
        }
        byte[] book = c.bookId.getBytes(UTF_8);
        Bytes entryKey = rowKey(book, c.entryId);
        byte[] existing = entries.get(entryKey);
        if (existing != null) return decideRepeat(c, book, existing);

        // Accounts: exist and are in the leg's currency.
        Map<String, Account> byId = new HashMap<>(4);
        Map<String, Bytes> keys = new HashMap<>(4);
        for (int i = 0; i < legs.size(); ++i) {
            Leg l = legs.get(i);
            Account a = byId.get(l.accountId);
            if (a == null) {
                Bytes k = rowKey(book, l.accountId);
                byte[] raw = accounts.get(k);
                if (raw == null)
                    return refuse(Rejection.of(Code.account_not_found, f + "legs[" + i + "].account_id",
                            "account " + l.accountId + " does not exist in book " + c.bookId));
                a = Account.decode(raw);
                if (a.currency.equals(l.currency)) {
                    byId.put(l.accountId, a);
                    keys.put(l.accountId, k);
                }
            }
            if (!a.currency.equals(l.currency))
                return refuse(Rejection.of(Code.currency_mismatch, f + "legs[" + i + "].currency",
                        "account " + l.accountId + " is in " + a.currency + ", the leg is in " + l.currency));
        }
        // Balanced per currency (currencies in code order).
        Rejection unbalanced = checkBalanced(legs, f);
        if (unbalanced != null) return refuse(unbalanced);
        // Changes per account, accounts in the order of their first leg.
        LinkedHashMap<String, Change> changes = new LinkedHashMap<>(4);
        for (int i = 0; i < legs.size(); ++i) {
            Leg l = legs.get(i);
            Change ch = changes.get(l.accountId);
            if (ch == null) changes.put(l.accountId, ch = new Change(i));
            ch.add(l.side == 1, l.amountMinor);
        }
        // amount_overflow for every account first, then the constraints.
        for (Map.Entry<String, Change> e : changes.entrySet()) {
            Account a = byId.get(e.getKey());
            Change ch = e.getValue();
            try {
                if (ch.overflow) throw new ArithmeticException();
                ch.debits = Math.addExact(a.debits, ch.debits);
                ch.credits = Math.addExact(a.credits, ch.credits);
            } catch (ArithmeticException x) {
                return refuse(Rejection.of(Code.amount_overflow, f + "legs[" + ch.firstLeg + "].amount_minor",
                        "account " + e.getKey() + " would exceed the largest representable total"));
            }
        }
        for (Map.Entry<String, Change> e : changes.entrySet()) {
            Account a = byId.get(e.getKey());
            Change ch = e.getValue(); // debits and credits are now the new totals, both in [0, 2^63)
            String field = f + "legs[" + ch.firstLeg + "].amount_minor";
            if (a.debitsMustNotExceedCredits && ch.debits - ch.credits > a.limit)
                return refuse(Rejection.of(Code.exceeds_credits, field, "account " + e.getKey() + " would have debits "
                        + ch.debits + " (pending included) above credits " + ch.credits + " plus limit " + a.limit));
            if (a.creditsMustNotExceedDebits && ch.credits - ch.debits > a.limit)
                return refuse(Rejection.of(Code.exceeds_debits, field, "account " + e.getKey() + " would have credits "
                        + ch.credits + " (pending included) above debits " + ch.debits + " plus limit " + a.limit));
        }
        return new Decision() {
            @Override
            byte[] apply(Envelope cmd, byte[] fingerprint, String key) {
                for (Map.Entry<String, Change> e : changes.entrySet()) {
                    Account a = byId.get(e.getKey());
                    a.debits = e.getValue().debits;
                    a.credits = e.getValue().credits;
                    accounts.put(keys.get(e.getKey()), a.encode());
                }
                List<byte[]> canonical = new ArrayList<>(legs.size());
                for (Leg l : legs) canonical.add(l.canonical());
                PbOut row = new PbOut(64 + 48 * legs.size()).string(1, c.effectiveDate).string(2, c.memo);
                for (byte[] l : canonical) row.message(3, l);
                entries.put(entryKey, row.toByteArray());
                PbOut posted = new PbOut(64 + 48 * legs.size()).string(1, c.bookId).string(2, c.entryId)
                        .string(3, c.effectiveDate).string(4, c.memo);
                for (byte[] l : canonical) posted.message(5, l);
                return event(cmd, fingerprint, key, book, c.effectiveDate, 101, posted.toByteArray());
            }
        };
    }

    /** An entry_id seen before: the same content is acknowledged, other content says what differs. */
    private Decision decideRepeat(PostEntry c, byte[] book, byte[] existing) {
        final String f = "post_entry.";
        StoredEntry e = StoredEntry.decode(existing);
        if (!e.effectiveDate.equals(c.effectiveDate))
            return refuse(Rejection.of(Code.entry_exists_with_different_date, f + "effective_date",
                    "entry " + c.entryId + " exists with effective date " + e.effectiveDate));
        boolean sameLegs = e.legs.size() == c.legs.size();
        for (int i = 0; sameLegs && i < c.legs.size(); ++i) sameLegs = Arrays.equals(e.legs.get(i), c.legs.get(i).canonical());
        if (!sameLegs)
            return refuse(Rejection.of(Code.entry_exists_with_different_legs, f + "legs",
                    "entry " + c.entryId + " exists with other legs"));
        if (!e.memo.equals(c.memo))
            return refuse(Rejection.of(Code.entry_exists_with_different_memo, f + "memo",
                    "entry " + c.entryId + " exists with another memo"));
        return new Decision() {
            @Override
            byte[] apply(Envelope cmd, byte[] fingerprint, String key) {
                byte[] ack = new PbOut(48).string(1, c.bookId).string(2, c.entryId).toByteArray();
                return event(cmd, fingerprint, key, book, utcDate(now), 113, ack);
            }
        };
    }

    private static Rejection checkBalanced(List<Leg> legs, String f) {
        TreeMap<String, long[]> net = new TreeMap<>();
        boolean overflow = false;
        for (Leg l : legs) {
            long[] n = net.computeIfAbsent(l.currency, x -> new long[1]);
            try {
                n[0] = l.side == 1 ? Math.addExact(n[0], l.amountMinor) : Math.subtractExact(n[0], l.amountMinor);
            } catch (ArithmeticException x) {
                overflow = true;
                break;
            }
        }
        if (!overflow) {
            for (Map.Entry<String, long[]> e : net.entrySet())
                if (e.getValue()[0] != 0)
                    return Rejection.of(Code.entry_unbalanced, f + "legs", "debits and credits in " + e.getKey()
                            + " differ by " + Math.abs(e.getValue()[0]) + " minor units");
            return null;
        }
        // Sums beyond 64 bits (many large legs): the same check in arbitrary precision.
        TreeMap<String, java.math.BigInteger> big = new TreeMap<>();
        for (Leg l : legs) {
            java.math.BigInteger a = java.math.BigInteger.valueOf(l.amountMinor);
            big.merge(l.currency, l.side == 1 ? a : a.negate(), java.math.BigInteger::add);
        }
        for (Map.Entry<String, java.math.BigInteger> e : big.entrySet())
            if (e.getValue().signum() != 0)
                return Rejection.of(Code.entry_unbalanced, f + "legs", "debits and credits in " + e.getKey()
                        + " differ by " + e.getValue().abs() + " minor units");
        return null;
    }

    /** How one entry changes one account: the sums of its debit and credit legs. */
    private static final class Change {
        final int firstLeg;
        long debits, credits;
        boolean overflow;

        Change(int firstLeg) {
            this.firstLeg = firstLeg;
        }

        void add(boolean debit, long amount) {
            try {
                if (debit) debits = Math.addExact(debits, amount);
                else credits = Math.addExact(credits, amount);
            } catch (ArithmeticException x) {
                overflow = true; // above 2^63 - 1 on its own: certainly above it with the posted total
            }
        }
    }

    // ---- Records ----------------------------------------------------------------------------

    /**
     * The event record: a daybook.v1.EventEnvelope with the fields Daybook fills for a ledger
     * event (stream, version, command, fingerprint, who, when, payload), not sealed (Daybook wraps
     * it in a SealedEvent with the partition's hash chain; the peer has no chain).
     */
    private byte[] event(Envelope cmd, byte[] fingerprint, String key, byte[] book, String effectiveDate,
                         int payloadField, byte[] payload) {
        Bytes bookKey = Bytes.wrap(book);
        byte[] raw = books.get(bookKey);
        long version = (raw == null ? 0 : ByteBuffer.wrap(raw).getLong()) + 1;
        books.put(bookKey, ByteBuffer.allocate(8).putLong(version).array());
        String bookId = new String(book, UTF_8);
        return new PbOut(160 + payload.length)
                .string(1, "book/" + bookId)
                .uint64(2, version)
                .uint32(3, 1)
                .string(4, cmd.commandId)
                .bytes(5, fingerprint)
                .string(6, cmd.causationEventId)
                .string(7, cmd.correlationId)
                .string(8, cmd.actor)
                .string(10, cmd.source.isEmpty() ? "client" : cmd.source)
                .string(11, "kafka-streams-peer")
                .int64(12, now)
                .string(13, effectiveDate)
                .string(14, key)
                .uint32(16, 1)
                .message(payloadField, payload)
                .toByteArray();
    }

    /** A daybook.v1.Outcome (without events refs, field 8). */
    private byte[] outcome(String commandId, String routingKey, Rejection r) {
        PbOut o = new PbOut(r == null ? 64 : 192).string(1, commandId).string(2, routingKey);
        if (r == null) o.enumValue(3, 1);
        else o.enumValue(3, 2).uint32(4, r.code().number).string(5, r.code().name()).string(6, r.field()).string(7, r.detail());
        return o.int64(9, now).toByteArray();
    }

    // ---- Rows -------------------------------------------------------------------------------

    /** accounts row: flags (1 byte), limit, posted debits, posted credits (8 bytes each), currency. */
    static final class Account {
        final String currency;
        final boolean debitsMustNotExceedCredits, creditsMustNotExceedDebits;
        final long limit;
        long debits, credits;

        Account(String currency, boolean dmnec, boolean cmned, long limit, long debits, long credits) {
            this.currency = currency;
            this.debitsMustNotExceedCredits = dmnec;
            this.creditsMustNotExceedDebits = cmned;
            this.limit = limit;
            this.debits = debits;
            this.credits = credits;
        }

        byte[] encode() {
            byte[] cur = currency.getBytes(UTF_8);
            ByteBuffer b = ByteBuffer.allocate(25 + cur.length);
            b.put((byte) ((debitsMustNotExceedCredits ? 1 : 0) | (creditsMustNotExceedDebits ? 2 : 0)));
            b.putLong(limit).putLong(debits).putLong(credits).put(cur);
            return b.array();
        }

        static Account decode(byte[] raw) {
            ByteBuffer b = ByteBuffer.wrap(raw);
            byte flags = b.get();
            long limit = b.getLong(), debits = b.getLong(), credits = b.getLong();
            String currency = new String(raw, 25, raw.length - 25, UTF_8);
            return new Account(currency, (flags & 1) != 0, (flags & 2) != 0, limit, debits, credits);
        }
    }

    /** entries row: 1 effective_date, 2 memo, 3 repeated leg (deterministic Leg bytes). */
    static final class StoredEntry {
        String effectiveDate = "", memo = "";
        final List<byte[]> legs = new ArrayList<>(2);

        static StoredEntry decode(byte[] raw) {
            StoredEntry e = new StoredEntry();
            try {
                com.google.protobuf.CodedInputStream in = com.google.protobuf.CodedInputStream.newInstance(raw);
                for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                    switch (com.google.protobuf.WireFormat.getTagFieldNumber(tag)) {
                        case 1 -> e.effectiveDate = in.readStringRequireUtf8();
                        case 2 -> e.memo = in.readStringRequireUtf8();
                        case 3 -> e.legs.add(in.readByteArray());
                        default -> in.skipField(tag);
                    }
                }
            } catch (java.io.IOException x) {
                throw new IllegalStateException("corrupt entries row", x);
            }
            return e;
        }
    }

    // ---- Shape checks (aggregates/validation.cc) ---------------------------------------------

    static boolean printableAscii(String s) {
        for (int i = 0; i < s.length(); ++i) {
            char ch = s.charAt(i);
            if (ch < 0x21 || ch > 0x7e) return false;
        }
        return true;
    }

    /** 1..128 bytes of printable ASCII without spaces. */
    static boolean validId(String id) {
        return !id.isEmpty() && id.length() <= ID_BYTES_MAX && printableAscii(id);
    }

    /** 3..12 characters of [A-Z0-9]. */
    static boolean validCurrency(String code) {
        if (code.length() < 3 || code.length() > 12) return false;
        for (int i = 0; i < code.length(); ++i) {
            char ch = code.charAt(i);
            if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) return false;
        }
        return true;
    }

    /** A real calendar date written YYYY-MM-DD, years 1900..9999. */
    static boolean validDate(String d) {
        if (d.length() != 10 || d.charAt(4) != '-' || d.charAt(7) != '-') return false;
        for (int i : new int[] {0, 1, 2, 3, 5, 6, 8, 9})
            if (d.charAt(i) < '0' || d.charAt(i) > '9') return false;
        int year = Integer.parseInt(d, 0, 4, 10), month = Integer.parseInt(d, 5, 7, 10), day = Integer.parseInt(d, 8, 10, 10);
        if (year < 1900 || month < 1 || month > 12 || day < 1) return false;
        int[] days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        boolean leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        return day <= days[month - 1] + (month == 2 && leap ? 1 : 0);
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); ++i) {
            char ch = s.charAt(i);
            if (ch < 0x80) n += 1;
            else if (ch < 0x800) n += 2;
            else if (Character.isHighSurrogate(ch)) {
                n += 4;
                ++i;
            } else n += 3;
        }
        return n;
    }

    private String utcDate(long ms) {
        long day = Math.floorDiv(ms, 86_400_000L);
        if (day != dateDay) {
            dateDay = day;
            dateText = LocalDate.ofEpochDay(day).toString();
        }
        return dateText;
    }

    /** A store key: the book (or record key) bytes, a NUL, the id. */
    private static Bytes rowKey(byte[] book, String id) {
        byte[] idBytes = id.getBytes(UTF_8);
        byte[] k = new byte[book.length + 1 + idBytes.length];
        System.arraycopy(book, 0, k, 0, book.length);
        System.arraycopy(idBytes, 0, k, book.length + 1, idBytes.length);
        return Bytes.wrap(k);
    }
}
