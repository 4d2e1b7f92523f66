package daybook.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams peer of daybook-bench: reads &lt;prefix&gt;commands, decides open_account and
 * post_entry with Daybook's rules (LedgerProcessor), writes &lt;prefix&gt;events and
 * &lt;prefix&gt;outcomes, exactly once (exactly_once_v2). Runs until SIGTERM or SIGINT, then closes
 * Kafka Streams (commits the open transaction, flushes the stores) and exits 0.
 *
 * Usage: LedgerStreams --brokers B --prefix P --app-id A --state-dir D
 *                      [--commit-interval-ms 50] [--threads 1]
 */
public final class LedgerStreams {
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(60);

    private LedgerStreams() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args, Set.of("--brokers", "--prefix", "--app-id", "--state-dir",
                "--commit-interval-ms", "--threads"));
        String brokers = required(opts, "--brokers");
        String prefix = opts.getOrDefault("--prefix", "daybook.");
        String appId = required(opts, "--app-id");
        String stateDir = required(opts, "--state-dir");
        int commitIntervalMs = Integer.parseInt(opts.getOrDefault("--commit-interval-ms", "50"));
        int threads = Integer.parseInt(opts.getOrDefault("--threads", "1"));
        String commands = prefix + "commands", events = prefix + "events", outcomes = prefix + "outcomes",
                dlq = prefix + "dlq";

        // The benchmark creates the topics; check them (and learn the partition count, which the
        // wrong_partition rule needs) before starting.
        int partitions;
        boolean hasDlq;
        Properties adminProps = new Properties();
        adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        try (Admin admin = Admin.create(adminProps)) {
            Set<String> existing = admin.listTopics().names().get(60, TimeUnit.SECONDS);
            for (String t : List.of(commands, events, outcomes))
                if (!existing.contains(t)) fail("topic " + t + " does not exist (the benchmark creates it)");
            Map<String, TopicDescription> d = admin.describeTopics(List.of(commands, events))
                    .allTopicNames().get(60, TimeUnit.SECONDS);
            partitions = d.get(commands).partitions().size();
            if (d.get(events).partitions().size() != partitions)
                fail(events + " has " + d.get(events).partitions().size() + " partitions, " + commands + " has " + partitions);
            hasDlq = existing.contains(dlq);
        } catch (ExecutionException | TimeoutException e) {
            fail("cannot read the topics at " + brokers + ": " + e);
            return;
        }

        // Every setting that differs from Kafka Streams' defaults (README.md says why).
        Map<String, Object> config = new TreeMap<>();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, commitIntervalMs);
        config.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        config.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        config.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        Properties props = new Properties();
        props.putAll(config);

        LedgerProcessor.Stats stats = new LedgerProcessor.Stats();
        Topology topology = topology(stats, commands, events, outcomes, hasDlq ? dlq : null, partitions);

        StringBuilder json = new StringBuilder("{\"kafka_streams_version\":\"").append(AppInfoParser.getVersion())
                .append("\",\"java_version\":\"").append(System.getProperty("java.version"))
                .append("\",\"max_heap_mb\":").append(Runtime.getRuntime().maxMemory() >> 20)
                .append(",\"partitions\":").append(partitions)
                .append(",\"stores\":\"").append(String.join(",", LedgerProcessor.STORE_OUTCOMES,
                        LedgerProcessor.STORE_ACCOUNTS, LedgerProcessor.STORE_ENTRIES, LedgerProcessor.STORE_BOOKS))
                .append(" (RocksDB, changelogged, record cache on)\",\"dlq\":").append(hasDlq)
                .append(",\"streams_config\":{");
        boolean first = true;
        for (Map.Entry<String, Object> e : config.entrySet()) {
            json.append(first ? "" : ",").append('"').append(e.getKey()).append("\":");
            Object v = e.getValue();
            if (v instanceof Number) json.append(v);
            else json.append('"').append(v.toString().replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
            first = false;
        }
        json.append("}}");
        System.out.println("peer-config: " + json);
        System.out.flush();

        KafkaStreams streams = new KafkaStreams(topology, props);
        CountDownLatch failed = new CountDownLatch(1);
        AtomicBoolean failure = new AtomicBoolean();
        streams.setUncaughtExceptionHandler(e -> {
            System.err.println("peer: stream thread failed: " + e);
            e.printStackTrace();
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING) System.err.println("peer: running");
            if (now == KafkaStreams.State.PENDING_ERROR || now == KafkaStreams.State.ERROR) {
                failure.set(true);
                failed.countDown();
            }
        });
        // SIGTERM / SIGINT: close cleanly (commit or abort the open transaction, flush and close
        // the stores, leave the group), then exit 0. halt() gives the exit code: a JVM stopped by
        // a signal would otherwise report 143.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            boolean clean = streams.close(CLOSE_TIMEOUT);
            System.out.println("peer-stats: " + stats.json());
            System.out.flush();
            if (!clean) System.err.println("peer: Kafka Streams did not close within " + CLOSE_TIMEOUT.toSeconds() + " s");
            System.err.flush();
            Runtime.getRuntime().halt(clean && !failure.get() ? 0 : 1);
        }, "peer-shutdown"));
        streams.start();
        failed.await();
        System.err.println("peer: Kafka Streams failed; stopping");
        System.exit(1);
    }

    static Topology topology(LedgerProcessor.Stats stats, String commands, String events, String outcomes, String dlq,
                             int partitions) {
        Topology t = new Topology();
        ByteArrayDeserializer de = new ByteArrayDeserializer();
        ByteArraySerializer ser = new ByteArraySerializer();
        t.addSource("commands", de, de, commands);
        t.addProcessor("ledger", () -> new LedgerProcessor(stats, commands, partitions, dlq != null), "commands");
        for (String name : List.of(LedgerProcessor.STORE_OUTCOMES, LedgerProcessor.STORE_ACCOUNTS,
                LedgerProcessor.STORE_ENTRIES, LedgerProcessor.STORE_BOOKS))
            t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), Serdes.Bytes(),
                    Serdes.ByteArray()).withCachingEnabled(), "ledger");
        t.addSink(LedgerProcessor.SINK_EVENTS, events, ser, ser, "ledger");
        t.addSink(LedgerProcessor.SINK_OUTCOMES, outcomes, ser, ser, "ledger");
        if (dlq != null) t.addSink(LedgerProcessor.SINK_DLQ, dlq, ser, ser, "ledger");
        return t;
    }

    static Map<String, String> parseArgs(String[] args, Set<String> known) {
        Map<String, String> out = new TreeMap<>();
        List<String> rest = new ArrayList<>(List.of(args));
        for (int i = 0; i < rest.size(); ++i) {
            String a = rest.get(i);
            String name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (!known.contains(name)) fail("unknown argument " + a + " (known: " + String.join(" ", known) + ")");
            if (value == null) {
                if (i + 1 >= rest.size()) fail(a + " needs a value");
                value = rest.get(++i);
            }
            out.put(name, value);
        }
        return out;
    }

    static String required(Map<String, String> opts, String name) {
        String v = opts.get(name);
        if (v == null || v.isEmpty()) fail(name + " is required");
        return v;
    }

    static void fail(String message) {
        System.err.println("peer: error: " + message);
        System.exit(2);
    }
}
