package io.metalgate.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Real message brokers as local processes, for tests and benchmarks: Debian's {@code mosquitto} (MQTT
 * 3.1.1) and an Apache Kafka broker in KRaft mode (one node, broker and controller) run from the Kafka
 * jars on Maven Central (src/test/kafka-broker/pom.xml resolves its classpath, kept apart from the
 * tests' own). Where a Docker engine answers, the same peers run as containers through Testcontainers
 * (eclipse-mosquitto, apache/kafka); where none does (this machine kind) as local processes. Each broker
 * prints which ran; neither path is skipped: a missing mosquitto or an unresolvable Kafka classpath fails
 * the test, as does a container that does not start.
 */
public final class BrokerPeers {

    private BrokerPeers() {
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static void awaitPort(int port, Process process, Path log, Duration timeout) throws Exception {
        Instant until = Instant.now().plus(timeout);
        while (Instant.now().isBefore(until)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("broker exited (" + process.exitValue() + "): " + tail(log));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("broker did not listen on " + port + " within " + timeout + ": " + tail(log));
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    /** A running broker (a local process, or a container where a Docker engine exists); closing it stops it. */
    public static final class Broker implements AutoCloseable {
        public final String host;
        public final int port;
        /** What runs it, said by the tests: "process" or "container IMAGE". */
        public final String runs;
        private final AutoCloseable stop;

        Broker(String host, int port, String runs, AutoCloseable stop) {
            this.host = host;
            this.port = port;
            this.runs = runs;
            this.stop = stop;
            System.out.printf("broker peer on %s:%d: %s%n", host, port, runs);
        }

        /** host:port, as clients are configured with it. */
        public String address() {
            return host + ":" + port;
        }

        @Override
        public void close() throws Exception {
            stop.close();
        }
    }

    /** Whether a Docker engine answers: the peers then run as containers (Testcontainers), else as local processes. */
    public static boolean docker() {
        if (Boolean.getBoolean("metalgate.test.no-docker")) {
            return false;
        }
        try {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable none) {
            return false;
        }
    }

    private static AutoCloseable processStopper(Process process, Path dir) {
        return () -> {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        };
    }

    /** mosquitto on a free loopback port, persistent sessions kept in memory for the broker's life. */
    public static Broker mosquitto() throws Exception {
        if (docker()) {
            var c = new org.testcontainers.containers.GenericContainer<>(org.testcontainers.utility.DockerImageName.parse("eclipse-mosquitto:2.0"))
                    .withExposedPorts(1883).withCopyToContainer(org.testcontainers.images.builder.Transferable.of(
                            "listener 1883\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n"), "/mosquitto/config/mosquitto.conf");
            c.start();
            return new Broker(c.getHost(), c.getMappedPort(1883), "container eclipse-mosquitto:2.0", c::stop);
        }
        Path dir = Files.createTempDirectory("mosquitto");
        int port = freePort();
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, "listener " + port + " 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 100\n"
                + "max_queued_messages 100000\nlog_dest stdout\n");
        Path log = dir.resolve("log");
        Process p = new ProcessBuilder(Files.isExecutable(Path.of("/usr/sbin/mosquitto")) ? "/usr/sbin/mosquitto" : "mosquitto", "-c", conf.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        awaitPort(port, p, log, Duration.ofSeconds(20));
        return new Broker("127.0.0.1", port, "process mosquitto (Debian)", processStopper(p, dir));
    }

    /** The Kafka broker's classpath, resolved once per build by Maven (the wrapper; the jars come from the local repository once fetched). */
    static synchronized String kafkaClasspath() throws Exception {
        Path out = Path.of("target", "kafka-broker.classpath");
        if (Files.exists(out)) {
            return Files.readString(out).strip();
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of("mvnw").toAbsolutePath().toString(), "-q", "-B", "-f", "src/test/kafka-broker/pom.xml",
                "dependency:build-classpath", "-Dmdep.outputFile=" + out.toAbsolutePath()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0 || !Files.exists(out)) {
            throw new IllegalStateException("could not resolve the Kafka broker's classpath: " + output);
        }
        return Files.readString(out).strip();
    }

    /** A one-node Kafka (KRaft) on free loopback ports; topics are created on first use with {@code partitions} partitions. */
    public static Broker kafka(int partitions) throws Exception {
        if (docker()) {
            var c = new org.testcontainers.kafka.KafkaContainer("apache/kafka:4.1.1").withEnv("KAFKA_NUM_PARTITIONS", String.valueOf(partitions));
            c.start();
            String bootstrap = c.getBootstrapServers().replaceFirst("^[A-Z]+://", "");
            int colon = bootstrap.lastIndexOf(':');
            return new Broker(bootstrap.substring(0, colon), Integer.parseInt(bootstrap.substring(colon + 1)), "container apache/kafka:4.1.1", c::stop);
        }
        String cp = kafkaClasspath();
        Path dir = Files.createTempDirectory("kafka");
        int port = freePort();
        int controller = freePort();
        Path props = dir.resolve("server.properties");
        Files.writeString(props, String.join("\n", "process.roles=broker,controller", "node.id=1",
                "controller.quorum.voters=1@127.0.0.1:" + controller,
                "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
                "advertised.listeners=PLAINTEXT://127.0.0.1:" + port, "controller.listener.names=CONTROLLER",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT", "inter.broker.listener.name=PLAINTEXT",
                "log.dirs=" + dir.resolve("data"), "offsets.topic.replication.factor=1", "offsets.topic.num.partitions=4",
                "transaction.state.log.replication.factor=1", "transaction.state.log.min.isr=1", "num.partitions=" + partitions,
                "group.initial.rebalance.delay.ms=0", "log.flush.interval.messages=1000000", "") );
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = dir.resolve("log");
        Process format = new ProcessBuilder(java, "-Xmx256m", "-cp", cp, "kafka.tools.StorageTool", "format", "-t", clusterId(), "-c", props.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (format.waitFor() != 0) {
            throw new IllegalStateException("kafka-storage format failed: " + tail(log));
        }
        Process p = new ProcessBuilder(java, "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-cp", cp, "kafka.Kafka", props.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        awaitPort(port, p, log, Duration.ofSeconds(90));
        return new Broker("127.0.0.1", port, "process kafka.Kafka 4.1.1 (KRaft, Maven Central jars)", processStopper(p, dir));
    }

    /** A KRaft cluster id: 16 random bytes, base64url without padding (what kafka-storage random-uuid prints). */
    static String clusterId() {
        UUID u = UUID.randomUUID();
        var b = java.nio.ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
