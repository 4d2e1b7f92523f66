package daybook.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.utils.Utils;

/**
 * A test driver for the peer (not used by the benchmark): creates the topics, sends commands,
 * reads the outcomes (read_committed) and checks each against the expected status and code.
 *
 *   SmokeFeed --brokers B --prefix P --create-topics [--partitions 3]
 *   SmokeFeed --brokers B --prefix P --phase 1 [--tag s]   rules, idempotency, a few hundred entries
 *   SmokeFeed --brokers B --prefix P --phase 2 [--tag s]   after a restart: phase 1's state is there
 *   SmokeFeed --brokers B --prefix P --phase 3 [--tag s]   after a restart without local state (changelogs)
 *   SmokeFeed --brokers B --prefix P --count N [--accounts 1000] [--books 6] [--tag t]
 *                                                          throughput: N two-leg entries, closed loop
 * Exit status: 0 when every check passed, 1 otherwise.
 */
public final class SmokeFeed {
    private SmokeFeed() {}

    // ---- Command builders -------------------------------------------------------------------

    static byte[] envelope(String commandId, int payloadField, byte[] payload) {
        PbOut e = new PbOut().string(1, commandId).string(4, "smoke");
        if (payloadField != 0) e.message(payloadField, payload);
        return e.toByteArray();
    }

    static byte[] constraints(boolean debitsMustNotExceedCredits, boolean creditsMustNotExceedDebits, long limit) {
        return new PbOut().bool(1, debitsMustNotExceedCredits).bool(2, creditsMustNotExceedDebits).int64(3, limit).toByteArray();
    }

    static byte[] openAccount(String book, String account, String name, int type, String currency, int scale,
                              String parent, byte[] constraints) {
        PbOut o = new PbOut().string(1, book).string(2, account).string(3, name).enumValue(4, type).string(5, currency)
                .uint32(6, scale).string(7, parent);
        if (constraints != null) o.message(8, constraints);
        return o.toByteArray();
    }

    static byte[] open(String book, String account, String currency) {
        return openAccount(book, account, "Account " + account, 1, currency, 2, "", null);
    }

    static byte[] leg(String account, int side, long amount, String currency, int role) {
        return new PbOut().string(1, account).enumValue(2, side).int64(3, amount).string(4, currency).enumValue(5, role)
                .toByteArray();
    }

    static byte[] debit(String account, long amount) {
        return leg(account, 1, amount, "EUR", 0);
    }

    static byte[] credit(String account, long amount) {
        return leg(account, 2, amount, "EUR", 0);
    }

    static byte[] postEntry(String book, String entry, String date, String memo, boolean adjustment, byte[]... legs) {
        PbOut p = new PbOut().string(1, book).string(2, entry).string(3, date).string(4, memo);
        for (byte[] l : legs) p.message(5, l);
        return p.bool(6, adjustment).toByteArray();
    }

    static byte[] entry(String book, String entry, byte[]... legs) {
        return postEntry(book, entry, "2026-11-23", "", false, legs);
    }

    // ---- Cases ------------------------------------------------------------------------------

    static final int ACCEPTED = 1, REJECTED = 2;

    /** One command and what its outcome must say. */
    record Case(String name, String commandId, String key, Integer partition, byte[] value, int status, int code,
                String field, boolean duplicate) {}

    static final class Plan {
        final List<Case> cases = new ArrayList<>();
        int unreadable; // records that must go to the dlq instead of getting an outcome

        void accept(String name, String id, String book, int field, byte[] payload) {
            cases.add(new Case(name, id, book, null, envelope(id, field, payload), ACCEPTED, 0, null, false));
        }

        void reject(String name, String id, String book, int field, byte[] payload, int code, String at) {
            cases.add(new Case(name, id, book, null, envelope(id, field, payload), REJECTED, code, at, false));
        }

        void raw(String name, String id, String key, Integer partition, byte[] value, int status, int code, String at,
                 boolean duplicate) {
            cases.add(new Case(name, id, key, partition, value, status, code, at, duplicate));
        }

        Case last() {
            return cases.get(cases.size() - 1);
        }
    }

    static final int OPEN = Commands.OPEN_ACCOUNT, POST = Commands.POST_ENTRY;

    static Plan phase1(String tag, int partitions) {
        Plan p = new Plan();
        String a = tag + "-a", b = tag + "-b";
        String c = tag + "-p1-"; // command id prefix
        // Accounts.
        p.accept("open cash", c + "open-cash", a, OPEN, open(a, "cash", "EUR"));
        p.accept("open wallet (debits <= credits + 1000)", c + "open-wallet", a, OPEN,
                openAccount(a, "wallet", "Wallet", 1, "EUR", 2, "", constraints(true, false, 1000)));
        p.accept("open loan (credits <= debits)", c + "open-loan", a, OPEN,
                openAccount(a, "loan", "Loan", 2, "EUR", 2, "", constraints(false, true, 0)));
        p.accept("open usd", c + "open-usd", a, OPEN, open(a, "usd", "USD"));
        p.accept("open o1", c + "open-o1", a, OPEN, open(a, "o1", "EUR"));
        p.accept("open o2", c + "open-o2", a, OPEN, open(a, "o2", "EUR"));
        p.accept("open sub (parent cash)", c + "open-sub", a, OPEN, openAccount(a, "sub", "Sub", 1, "EUR", 2, "cash", null));
        p.reject("parent in another currency", c + "open-sub2", a, OPEN,
                openAccount(a, "sub2", "Sub", 1, "USD", 2, "cash", null), 1021, "open_account.parent_account_id");
        p.reject("parent missing", c + "open-sub3", a, OPEN, openAccount(a, "sub3", "Sub", 1, "EUR", 2, "nope", null), 1020,
                "open_account.parent_account_id");
        p.reject("both constraint flags", c + "open-x1", a, OPEN,
                openAccount(a, "x1", "X", 1, "EUR", 2, "", constraints(true, true, 0)), 1022, "open_account.constraints");
        p.reject("negative limit", c + "open-x2", a, OPEN, openAccount(a, "x2", "X", 1, "EUR", 2, "", constraints(true, false, -1)),
                1022, "open_account.constraints.limit_minor");
        p.reject("currency lower case", c + "open-x3", a, OPEN, open(a, "x3", "eur"), 1003, "open_account.currency");
        p.reject("type unspecified", c + "open-x4", a, OPEN, openAccount(a, "x4", "X", 0, "EUR", 2, "", null), 1002,
                "open_account.type");
        p.reject("empty name", c + "open-x5", a, OPEN, openAccount(a, "x5", "", 1, "EUR", 2, "", null), 1001, "open_account.name");
        p.reject("scale 10", c + "open-x6", a, OPEN, openAccount(a, "x6", "X", 1, "EUR", 10, "", null), 1004, "open_account.scale");
        p.reject("account exists", c + "open-cash-again", a, OPEN, open(a, "cash", "EUR"), 1005, "open_account.account_id");
        p.reject("account id with a space", c + "open-x7", a, OPEN, open(a, "has space", "EUR"), 1000, "open_account.account_id");
        p.reject("book id with a space", c + "open-x8", "bad book", OPEN, open("bad book", "x8", "EUR"), 1018,
                "open_account.book_id");
        p.raw("routing key mismatch", c + "open-x9", a, null, envelope(c + "open-x9", OPEN, open(b, "x9", "EUR")), REJECTED, 2,
                "key", false);
        int right = Utils.toPositive(Utils.murmur2(a.getBytes(UTF_8))) % partitions;
        p.raw("wrong partition", c + "open-x10", a, (right + 1) % partitions, envelope(c + "open-x10", OPEN, open(a, "x10", "EUR")),
                REJECTED, 3, "partition", false);
        p.raw("payload missing", c + "empty", a, null, envelope(c + "empty", 0, null), REJECTED, 7, "payload", false);
        p.raw("unsupported command (place_hold)", c + "hold", a, null,
                envelope(c + "hold", 105, new PbOut().string(1, a).string(2, "h1").toByteArray()), REJECTED, 1, "payload", false);
        p.raw("unknown envelope field", c + "unknown", a, null,
                new PbOut().string(1, c + "unknown").string(50, "?").message(OPEN, open(a, "x11", "EUR")).toByteArray(),
                REJECTED, 1, "<root>", false);
        String longId = c + "x".repeat(129);
        p.raw("command id of 129+ bytes", longId, a, null, envelope(longId, OPEN, open(a, "x12", "EUR")), REJECTED, 8,
                "command_id", false);
        p.reject("unknown enum value", c + "open-x13", a, OPEN, openAccount(a, "x13", "X", 7, "EUR", 2, "", null), 1,
                "open_account.type");
        p.raw("unreadable record", null, a, null, new byte[] {(byte) 0x0a, (byte) 0x7f, 1, 2}, 0, 0, null, false);
        p.unreadable++;

        // Entries.
        p.accept("E1 wallet <- cash 500", c + "e1", a, POST, entry(a, "E1", debit("wallet", 500), credit("cash", 500)));
        Case e1 = p.last();
        p.reject("E2 wallet over its limit", c + "e2", a, POST, entry(a, "E2", debit("wallet", 600), credit("cash", 600)),
                1023, "post_entry.legs[0].amount_minor");
        Case e2 = p.last();
        p.reject("unbalanced", c + "e3", a, POST, entry(a, "E3", debit("cash", 100), credit("wallet", 90)), 1015,
                "post_entry.legs");
        p.reject("unknown account", c + "e4", a, POST, entry(a, "E4", debit("cash", 10), credit("nope", 10)), 1013,
                "post_entry.legs[1].account_id");
        p.reject("currency mismatch", c + "e5", a, POST, entry(a, "E5", debit("usd", 10), credit("cash", 10)), 1014,
                "post_entry.legs[0].currency");
        p.reject("one leg", c + "e6", a, POST, entry(a, "E6", debit("cash", 10)), 1009, "post_entry.legs");
        p.reject("zero amount", c + "e7", a, POST, entry(a, "E7", debit("cash", 0), credit("wallet", 0)), 1012,
                "post_entry.legs[0].amount_minor");
        p.reject("side unspecified", c + "e8", a, POST, entry(a, "E8", leg("cash", 0, 10, "EUR", 0), credit("wallet", 10)),
                1011, "post_entry.legs[0].side");
        p.reject("February 30", c + "e9", a, POST,
                postEntry(a, "E9", "2026-02-30", "", false, debit("cash", 1), credit("wallet", 1)), 1007,
                "post_entry.effective_date");
        p.reject("empty entry id", c + "e10", a, POST, entry(a, "", debit("cash", 1), credit("wallet", 1)), 1006,
                "post_entry.entry_id");
        p.accept("E1 again, identical (acknowledged)", c + "e1-repeat", a, POST,
                entry(a, "E1", debit("wallet", 500), credit("cash", 500)));
        p.reject("E1 with other legs", c + "e1-legs", a, POST, entry(a, "E1", debit("wallet", 501), credit("cash", 501)), 1044,
                "post_entry.legs");
        p.reject("E1 with another date", c + "e1-date", a, POST,
                postEntry(a, "E1", "2026-11-24", "", false, debit("wallet", 500), credit("cash", 500)), 1045,
                "post_entry.effective_date");
        p.reject("E1 with another memo", c + "e1-memo", a, POST,
                postEntry(a, "E1", "2026-11-23", "other", false, debit("wallet", 500), credit("cash", 500)), 1046,
                "post_entry.memo");
        p.raw("retry of E1 (same command id, same payload)", e1.commandId(), a, null, e1.value(), ACCEPTED, 0, null, true);
        p.raw("retry of rejected E2", e2.commandId(), a, null, e2.value(), REJECTED, 1023, "post_entry.legs[0].amount_minor",
                true);
        p.raw("E1's command id for another payload", e1.commandId(), a, null,
                envelope(e1.commandId(), POST, entry(a, "E99", debit("wallet", 1), credit("cash", 1))), REJECTED, 4,
                "command_id", false);
        p.accept("O1 o1 <- o2 max", c + "o1", a, POST, entry(a, "O1", debit("o1", Long.MAX_VALUE), credit("o2", Long.MAX_VALUE)));
        p.reject("O2 overflow", c + "o2", a, POST, entry(a, "O2", debit("o1", 1), credit("o2", 1)), 1017,
                "post_entry.legs[0].amount_minor");
        p.reject("loan credited above its debits", c + "e11", a, POST, entry(a, "E11", debit("cash", 1), credit("loan", 1)),
                1024, "post_entry.legs[1].amount_minor");
        p.reject("leg by role, no mapping", c + "e12", a, POST,
                entry(a, "E12", leg("", 1, 5, "EUR", 1), credit("cash", 5)), 1052, "post_entry.legs[0].account_role");
        p.reject("leg with account and role", c + "e13", a, POST,
                entry(a, "E13", leg("cash", 1, 5, "EUR", 1), credit("wallet", 5)), 1053, "post_entry.legs[0].account_role");
        p.reject("adjustment not at year end", c + "e14", a, POST,
                postEntry(a, "E14", "2026-06-30", "", true, debit("cash", 1), credit("wallet", 1)), 1058,
                "post_entry.effective_date");
        p.reject("adjustment, period open", c + "e15", a, POST,
                postEntry(a, "E15", "2026-12-31", "", true, debit("cash", 1), credit("wallet", 1)), 1059,
                "post_entry.effective_date");
        p.reject("memo of 1001 bytes", c + "e16", a, POST,
                postEntry(a, "E16", "2026-11-23", "m".repeat(1001), false, debit("cash", 1), credit("wallet", 1)), 1008,
                "post_entry.memo");
        p.accept("three legs, wallet twice", c + "e17", a, POST,
                entry(a, "E17", debit("cash", 100), credit("wallet", 50), credit("wallet", 50)));
        byte[][] many = new byte[1025][];
        for (int i = 0; i < many.length; ++i) many[i] = i % 2 == 0 ? debit("cash", 1) : credit("wallet", 1);
        p.reject("1025 legs", c + "e18", a, POST, entry(a, "E18", many), 1010, "post_entry.legs");
        p.reject("leg account id empty", c + "e19", a, POST, entry(a, "E19", debit("", 1), credit("wallet", 1)), 1000,
                "post_entry.legs[0].account_id");
        p.reject("leg currency invalid", c + "e20", a, POST,
                entry(a, "E20", leg("cash", 1, 1, "E", 0), credit("wallet", 1)), 1003, "post_entry.legs[0].currency");
        p.reject("unknown side value", c + "e21", a, POST,
                entry(a, "E21", leg("cash", 3, 1, "EUR", 0), credit("wallet", 1)), 1, "post_entry.legs[0].side");

        // A few hundred ordinary commands in a second book.
        for (int i = 0; i < 10; ++i) p.accept("open b" + i, c + "b-open-" + i, b, OPEN, open(b, "b" + i, "EUR"));
        Random rng = new Random(7);
        for (int i = 0; i < 300; ++i) {
            int d = rng.nextInt(10), cr = (d + 1 + rng.nextInt(9)) % 10;
            p.accept("b entry " + i, c + "b-e" + i, b, POST, entry(b, "B" + i, debit("b" + d, 1 + i), credit("b" + cr, 1 + i)));
        }
        return p;
    }

    static Plan phase2(String tag) {
        Plan p = new Plan();
        String a = tag + "-a", b = tag + "-b";
        String c = tag + "-p2-", c1 = tag + "-p1-";
        // Phase 1 left wallet with debits 500 and credits 100 (limit 1000): room for 600 more debits.
        p.accept("wallet +400 (900 <= 1100)", c + "w1", a, POST, entry(a, "W1", debit("wallet", 400), credit("cash", 400)));
        p.reject("wallet +201 (1101 > 1100)", c + "w2", a, POST, entry(a, "W2", debit("wallet", 201), credit("cash", 201)), 1023,
                "post_entry.legs[0].amount_minor");
        p.accept("wallet +200 (1100 <= 1100)", c + "w3", a, POST, entry(a, "W3", debit("wallet", 200), credit("cash", 200)));
        p.reject("cash exists", c + "open-cash", a, OPEN, open(a, "cash", "EUR"), 1005, "open_account.account_id");
        p.raw("retry of phase 1's E1", c1 + "e1", a, null,
                envelope(c1 + "e1", POST, entry(a, "E1", debit("wallet", 500), credit("cash", 500))), ACCEPTED, 0, null, true);
        p.reject("E1 with other legs", c + "e1-legs", a, POST, entry(a, "E1", debit("wallet", 1), credit("cash", 1)), 1044,
                "post_entry.legs");
        p.reject("o1 still at the maximum", c + "o3", a, POST, entry(a, "O3", debit("o1", 1), credit("o2", 1)), 1017,
                "post_entry.legs[0].amount_minor");
        p.accept("new account", c + "open-new", a, OPEN, open(a, "new", "EUR"));
        p.accept("new account used", c + "n1", a, POST, entry(a, "N1", debit("new", 5), credit("cash", 5)));
        for (int i = 0; i < 100; ++i)
            p.accept("b entry " + i, c + "b-e" + i, b, POST, entry(b, "P2B" + i, debit("b" + (i % 10), 3), credit("b" + ((i + 3) % 10), 3)));
        return p;
    }

    /** After phases 1 and 2 (run it on a peer whose local state was deleted: it comes back from the changelogs). */
    static Plan phase3(String tag) {
        Plan p = new Plan();
        String a = tag + "-a", b = tag + "-b";
        String c = tag + "-p3-", c2 = tag + "-p2-";
        // Phase 2 left wallet at debits 1100, credits 100: exactly at its limit.
        p.reject("wallet +1 (1101 > 1100)", c + "w4", a, POST, entry(a, "W4", debit("wallet", 1), credit("cash", 1)), 1023,
                "post_entry.legs[0].amount_minor");
        p.accept("wallet credited 1, then +1", c + "w5", a, POST,
                entry(a, "W5", debit("cash", 1), credit("wallet", 1), debit("wallet", 1), credit("cash", 1)));
        p.raw("retry of phase 2's W1", c2 + "w1", a, null,
                envelope(c2 + "w1", POST, entry(a, "W1", debit("wallet", 400), credit("cash", 400))), ACCEPTED, 0, null, true);
        p.raw("retry of phase 2's W2 (rejected)", c2 + "w2", a, null,
                envelope(c2 + "w2", POST, entry(a, "W2", debit("wallet", 201), credit("cash", 201))), REJECTED, 1023,
                "post_entry.legs[0].amount_minor", true);
        p.reject("new exists", c + "open-new", a, OPEN, open(a, "new", "EUR"), 1005, "open_account.account_id");
        p.reject("o1 still at the maximum", c + "o4", a, POST, entry(a, "O4", debit("o1", 1), credit("o2", 1)), 1017,
                "post_entry.legs[0].amount_minor");
        p.accept("N1 repeated (acknowledged)", c + "n1", a, POST, entry(a, "N1", debit("new", 5), credit("cash", 5)));
        for (int i = 0; i < 50; ++i)
            p.accept("b entry " + i, c + "b-e" + i, b, POST, entry(b, "P3B" + i, debit("b" + (i % 10), 7), credit("b" + ((i + 1) % 10), 7)));
        return p;
    }

    // ---- Kafka ------------------------------------------------------------------------------

    static KafkaProducer<byte[], byte[]> producer(String brokers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 1024 * 1024);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** A read_committed reader of a topic from its current end (like consumers/outcome_waiter). */
    static KafkaConsumer<byte[], byte[]> tail(String brokers, String topic) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10);
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> parts = new ArrayList<>();
        c.partitionsFor(topic, Duration.ofSeconds(30)).forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
        c.assign(parts);
        c.seekToEnd(parts);
        for (TopicPartition tp : parts) c.position(tp, Duration.ofSeconds(30)); // resolve the end now
        return c;
    }

    /** The fields of a daybook.v1.Outcome the checks look at. */
    record Outcome(String commandId, int status, int code, String codeName, String field, String detail, boolean duplicate) {
        static Outcome parse(byte[] v) throws IOException {
            CodedInputStream in = CodedInputStream.newInstance(v);
            String id = "", name = "", field = "", detail = "";
            int status = 0, code = 0;
            boolean dup = false;
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case 1 -> id = in.readStringRequireUtf8();
                    case 3 -> status = in.readEnum();
                    case 4 -> code = in.readUInt32();
                    case 5 -> name = in.readStringRequireUtf8();
                    case 6 -> field = in.readStringRequireUtf8();
                    case 7 -> detail = in.readStringRequireUtf8();
                    case 10 -> dup = in.readBool();
                    default -> in.skipField(tag);
                }
            }
            return new Outcome(id, status, code, name, field, detail, dup);
        }
    }

    /** Outcomes beyond the expected number for a command id (seen while waiting). */
    static long extraOutcomes;

    /** Sends the plan's records in order, then collects outcomes until each case has one. */
    static Map<String, List<Outcome>> run(String brokers, String prefix, List<Case> cases, Duration timeout) throws Exception {
        Map<String, Integer> wanted = new HashMap<>();
        for (Case k : cases)
            if (k.commandId() != null) wanted.merge(k.commandId(), 1, Integer::sum);
        Map<String, List<Outcome>> got = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> outcomes = tail(brokers, prefix + "outcomes");
             KafkaProducer<byte[], byte[]> producer = producer(brokers)) {
            for (Case k : cases)
                producer.send(new ProducerRecord<>(prefix + "commands", k.partition(), k.key().getBytes(UTF_8), k.value()));
            producer.flush();
            long deadline = System.nanoTime() + timeout.toNanos();
            int missing = wanted.values().stream().mapToInt(Integer::intValue).sum();
            while (missing > 0 && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : outcomes.poll(Duration.ofMillis(100))) {
                    Outcome o = Outcome.parse(r.value());
                    Integer w = wanted.get(o.commandId());
                    if (w == null) continue;
                    List<Outcome> l = got.computeIfAbsent(o.commandId(), x -> new ArrayList<>());
                    if (l.size() < w) {
                        l.add(o);
                        --missing;
                    } else {
                        extraOutcomes++;
                    }
                }
            }
        }
        return got;
    }

    static int check(Plan plan, Map<String, List<Outcome>> got) {
        Map<String, Integer> seen = new HashMap<>();
        int passed = 0, failed = 0;
        for (Case k : plan.cases) {
            if (k.commandId() == null) continue;
            int n = seen.merge(k.commandId(), 1, Integer::sum) - 1;
            List<Outcome> l = got.getOrDefault(k.commandId(), List.of());
            String problem = null;
            if (l.size() <= n) problem = "no outcome";
            else {
                Outcome o = l.get(n);
                if (o.status() != k.status() || o.code() != k.code() || o.duplicate() != k.duplicate()
                        || (k.field() != null && !k.field().equals(o.field())))
                    problem = "got status " + o.status() + " code " + o.code() + " " + o.codeName() + " field '" + o.field()
                            + "' duplicate " + o.duplicate() + " (" + o.detail() + ")";
            }
            if (problem == null) ++passed;
            else {
                ++failed;
                System.out.println("FAIL " + k.name() + " [" + k.commandId() + "]: expected status " + k.status() + " code "
                        + k.code() + (k.field() != null ? " field '" + k.field() + "'" : "") + (k.duplicate() ? " duplicate" : "")
                        + "; " + problem);
            }
        }
        System.out.println("smoke: " + passed + " passed, " + failed + " failed");
        return failed;
    }

    // ---- Main -------------------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; ++i) {
            String a = args[i];
            if (a.equals("--create-topics")) o.put(a, "1");
            else if (Set.of("--brokers", "--prefix", "--partitions", "--phase", "--count", "--accounts", "--books", "--tag")
                    .contains(a) && i + 1 < args.length) o.put(a, args[++i]);
            else {
                System.err.println("smoke: unknown argument " + a);
                System.exit(2);
            }
        }
        String brokers = o.getOrDefault("--brokers", "127.0.0.1:19092");
        String prefix = o.getOrDefault("--prefix", "peer-smoke.");
        int partitions = Integer.parseInt(o.getOrDefault("--partitions", "3"));
        String tag = o.getOrDefault("--tag", "s");
        int failed = 0;
        if (o.containsKey("--create-topics")) createTopics(brokers, prefix, partitions);
        if (o.containsKey("--phase")) {
            Plan plan = switch (o.get("--phase")) {
                case "1" -> phase1(tag, partitions);
                case "2" -> phase2(tag);
                default -> phase3(tag);
            };
            try (KafkaConsumer<byte[], byte[]> dlq = plan.unreadable > 0 ? tail(brokers, prefix + "dlq") : null) {
                long t0 = System.nanoTime();
                Map<String, List<Outcome>> got = run(brokers, prefix, plan.cases, Duration.ofSeconds(120));
                System.out.printf("smoke: phase %s, %d commands, outcomes in %.1f s%n", o.get("--phase"), plan.cases.size(),
                        (System.nanoTime() - t0) / 1e9);
                failed += check(plan, got);
                if (dlq != null) failed += checkDlq(dlq, plan.unreadable);
            }
        }
        if (o.containsKey("--count"))
            failed += throughput(brokers, prefix, tag, Integer.parseInt(o.get("--count")),
                    Integer.parseInt(o.getOrDefault("--accounts", "1000")), Integer.parseInt(o.getOrDefault("--books", "6")));
        System.exit(failed == 0 ? 0 : 1);
    }

    static int checkDlq(KafkaConsumer<byte[], byte[]> dlq, int expected) {
        int n = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String error = "";
        while (n < expected && System.nanoTime() < deadline)
            for (ConsumerRecord<byte[], byte[]> r : dlq.poll(Duration.ofMillis(100))) {
                ++n;
                Header h = r.headers().lastHeader("daybook.error");
                if (h != null) error = new String(h.value(), UTF_8);
            }
        System.out.println("smoke: dlq " + n + " of " + expected + " unreadable records (" + error + ")");
        return n == expected ? 0 : 1;
    }

    static void createTopics(String brokers, String prefix, int partitions) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        try (Admin admin = Admin.create(p)) {
            // Daybook's layout (consumers/topics.cc).
            Map<String, String> common = Map.of("max.message.bytes", "1048576", "min.insync.replicas", "1");
            List<NewTopic> topics = new ArrayList<>();
            Map<String, String> commands = new HashMap<>(common);
            commands.put("message.timestamp.type", "LogAppendTime");
            commands.put("retention.ms", String.valueOf(7L * 24 * 3600 * 1000));
            topics.add(new NewTopic(prefix + "commands", partitions, (short) 1).configs(commands));
            Map<String, String> events = new HashMap<>(common);
            events.put("retention.ms", "-1");
            events.put("retention.bytes", "-1");
            events.put("cleanup.policy", "delete");
            topics.add(new NewTopic(prefix + "events", partitions, (short) 1).configs(events));
            Map<String, String> outcomes = new HashMap<>(common);
            outcomes.put("retention.ms", String.valueOf(7L * 24 * 3600 * 1000));
            topics.add(new NewTopic(prefix + "outcomes", partitions, (short) 1).configs(outcomes));
            topics.add(new NewTopic(prefix + "dlq", 1, (short) 1).configs(common));
            for (NewTopic t : topics) {
                try {
                    admin.createTopics(List.of(t)).all().get(60, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                }
            }
            System.out.println("smoke: topics " + prefix + "{commands,events,outcomes} (" + partitions + " partitions) and "
                    + prefix + "dlq");
        }
    }

    /** W1's shape: two-leg entries between random accounts of a book, closed loop to the last outcome. */
    static int throughput(String brokers, String prefix, String tag, int count, int accounts, int books) throws Exception {
        List<String> bookIds = new ArrayList<>();
        for (int i = 0; i < books; ++i) bookIds.add(tag + "-book" + i);
        int perBook = accounts / books;
        List<Case> opens = new ArrayList<>(), entries = new ArrayList<>();
        for (String b : bookIds)
            for (int a = 0; a < perBook; ++a) {
                String id = b + "-open-" + a;
                opens.add(new Case("open", id, b, null, envelope(id, OPEN, open(b, "a" + a, "EUR")), ACCEPTED, 0, null, false));
            }
        Random rng = new Random(42);
        for (int i = 0; i < count; ++i) {
            String b = bookIds.get(i % books);
            int d = rng.nextInt(perBook), c = rng.nextInt(perBook);
            if (c == d) c = (c + 1) % perBook;
            String id = b + "-e" + i;
            entries.add(new Case("entry", id, b, null, envelope(id, POST, postEntry(b, "E" + i, "2026-11-23", "", false,
                    debit("a" + d, 100 + i % 1000), credit("a" + c, 100 + i % 1000))), ACCEPTED, 0, null, false));
        }
        long t0 = System.nanoTime();
        Map<String, List<Outcome>> got = run(brokers, prefix, opens, Duration.ofMinutes(5));
        double setup = (System.nanoTime() - t0) / 1e9;
        long opened = got.values().stream().filter(l -> l.get(0).status() == ACCEPTED).count();
        System.out.printf("throughput: %d of %d accounts opened in %.2f s (%.0f commands/s)%n", opened, opens.size(), setup,
                opens.size() / setup);
        t0 = System.nanoTime();
        got = run(brokers, prefix, entries, Duration.ofMinutes(10));
        double s = (System.nanoTime() - t0) / 1e9;
        long answered = got.size();
        long accepted = got.values().stream().filter(l -> l.get(0).status() == ACCEPTED).count();
        long duplicates = got.values().stream().filter(l -> l.get(0).duplicate()).count();
        System.out.printf("throughput: %d entries, %d outcomes, %d accepted in %.2f s = %.0f commands/s"
                + " (%d marked duplicate, %d extra outcomes)%n", count, answered, accepted, s, answered / s, duplicates,
                extraOutcomes);
        return accepted == count && opened == opens.size() && duplicates == 0 && extraOutcomes == 0 ? 0 : 1;
    }
}
