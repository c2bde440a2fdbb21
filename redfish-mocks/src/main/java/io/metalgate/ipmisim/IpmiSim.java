package io.metalgate.ipmisim;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Many simulated IPMI 2.0 BMCs in one process: BMC {@code i} listens on UDP {@link #address(int)} (127.2.0.1,
 * 127.2.0.2, …) at the same port, so to a client each is a host of its own. One Vert.x socket per BMC, a
 * few event loops for all of them.
 *
 * <p>Run: {@code redfish-mocks/run-ipmi --bmcs 1000 --port 6230} (see redfish-mocks/README.md).
 */
public final class IpmiSim implements AutoCloseable {

    /**
     * @param serviceMicros simulated management CPU time per datagram, shared by every BMC of this process
     *                      (as one ipmi_sim per BMC shares a machine's cores): 0 for none
     */
    public record Options(int bmcs, int port, String user, String password, List<Integer> suites, int eventLoops, String firstAddress,
            long serviceMicros, int firstIndex) {

        public Options(int bmcs, int port, String user, String password, List<Integer> suites, int eventLoops, String firstAddress,
                long serviceMicros) {
            this(bmcs, port, user, password, suites, eventLoops, firstAddress, serviceMicros, 0);
        }

        public Options(int bmcs, int port, String user, String password, List<Integer> suites, int eventLoops, String firstAddress) {
            this(bmcs, port, user, password, suites, eventLoops, firstAddress, 0);
        }

        public static Options one(int port) {
            return new Options(1, port, "admin", "ipmi-secret", List.of(3, 17), 1, null);
        }

        public Options withBmcs(int n) {
            return new Options(n, port, user, password, suites, eventLoops, firstAddress, serviceMicros, firstIndex);
        }

        /** One BMC at this exact address (e.g. 127.0.0.1) instead of the 127.2.x.y plan. */
        public Options at(String address) {
            return new Options(bmcs, port, user, password, suites, eventLoops, address, serviceMicros, firstIndex);
        }

        public Options withServiceMicros(long micros) {
            return new Options(bmcs, port, user, password, suites, eventLoops, firstAddress, micros, firstIndex);
        }

        /** BMC {@code i} at address number {@code first + i} of the 127.2.x.y plan: fleets of one test run that do not overlap. */
        public Options withFirstIndex(int first) {
            return new Options(bmcs, port, user, password, suites, eventLoops, firstAddress, serviceMicros, first);
        }
    }

    private final Vertx vertx;
    private final List<SimBmc> bmcs;
    private final List<DatagramSocket> sockets;
    private final Options options;

    private IpmiSim(Vertx vertx, List<SimBmc> bmcs, List<DatagramSocket> sockets, Options options) {
        this.vertx = vertx;
        this.bmcs = bmcs;
        this.sockets = sockets;
        this.options = options;
    }

    /**
     * BMC {@code i}'s address: 127.2.0.1 … 127.2.0.254, 127.2.1.1 …; host parts 0 and 255 are skipped
     * (Vert.x refuses to bind a UDP socket to 127.2.0.255, which looks like a broadcast address).
     */
    public static String address(int i) {
        int block = i / 254;
        return "127." + (2 + block / 256) + "." + (block % 256) + "." + (1 + i % 254);
    }

    public String host(int i) {
        return options.firstAddress() != null && bmcs.size() == 1 ? options.firstAddress() : address(options.firstIndex() + i);
    }

    /** A serial processor: each datagram costs {@code serviceMicros}; returns how long this one waits (ms). */
    static final class Cpu {
        private long freeAtNanos;
        final java.util.concurrent.atomic.AtomicLong busyMicros = new java.util.concurrent.atomic.AtomicLong();

        private int pending;
        private int mostPending;

        /** BMCs with an answer waiting for its latency to pass: how many BMCs of this process are being asked at once. */
        synchronized void pending(int delta) {
            pending += delta;
            mostPending = Math.max(mostPending, pending);
        }

        synchronized int mostPending() {
            return mostPending;
        }

        synchronized long queue(long serviceMicros) {
            if (serviceMicros <= 0) {
                return 0;
            }
            long now = System.nanoTime();
            long start = Math.max(now, freeAtNanos);
            freeAtNanos = start + serviceMicros * 1000;
            busyMicros.addAndGet(serviceMicros);
            return (freeAtNanos - now) / 1_000_000;
        }
    }

    private Cpu cpuOfThis;

    /** Simulated management CPU time this simulator spent so far, in ms (re-sends cost as much as first sends). */
    public long cpuMillis() {
        return cpuOfThis.busyMicros.get() / 1000;
    }

    public static IpmiSim start(Options o) {
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, o.eventLoops())));
        List<SimBmc> bmcs = new ArrayList<>(o.bmcs());
        List<Future<DatagramSocket>> bound = new ArrayList<>(o.bmcs());
        IpmiSim[] self = new IpmiSim[1];
        List<DatagramSocket> sockets = new ArrayList<>(o.bmcs());
        Cpu cpu = new Cpu();
        for (int i = 0; i < o.bmcs(); i++) {
            SimBmc bmc = new SimBmc(i, o.user(), o.password(), o.suites());
            bmcs.add(bmc);
            DatagramSocket s = vertx.createDatagramSocket(new DatagramSocketOptions().setReceiveBufferSize(256 << 10));
            sockets.add(s);
            s.handler(p -> {
                byte[] answer = bmc.handle(p.data().getBytes());
                if (answer != null) {
                    // the answer leaves after the BMC's own latency, and after the simulated management CPU shared by
                    // every BMC of this process has worked through the datagrams before it (re-sends included)
                    long delay = bmc.latencyMillis() + cpu.queue(o.serviceMicros());
                    if (delay <= 0) {
                        s.send(Buffer.buffer(answer), p.sender().port(), p.sender().host());
                    } else {
                        if (bmc.answersPending.getAndIncrement() == 0) {
                            cpu.pending(+1);
                        }
                        vertx.setTimer(delay, t -> {
                            if (bmc.answersPending.decrementAndGet() == 0) {
                                cpu.pending(-1);
                            }
                            s.send(Buffer.buffer(answer), p.sender().port(), p.sender().host());
                        });
                    }
                }
            });
            String host = o.firstAddress() != null && o.bmcs() == 1 ? o.firstAddress() : address(o.firstIndex() + i);
            bound.add(s.listen(o.port(), host));
        }
        try {
            Future.all(bound).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("could not bind the IPMI simulators on port " + o.port() + ": " + e.getMessage(), e);
        }
        self[0] = new IpmiSim(vertx, bmcs, sockets, o);
        self[0].cpuOfThis = cpu;
        return self[0];
    }

    /**
     * The most BMCs that had an answer waiting at once for their latency (slow-answer mode only): how many BMCs the
     * client asked at once.
     */
    public int mostAnswersPending() {
        return cpuOfThis.mostPending();
    }

    public SimBmc bmc(int i) {
        return bmcs.get(i);
    }

    public int size() {
        return bmcs.size();
    }

    public Options options() {
        return options;
    }

    /** Commands served by all BMCs since the start. */
    public long commands() {
        return bmcs.stream().mapToLong(b -> b.commands.get()).sum();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // closing a test simulator: nothing to recover
        }
    }

    /** {@code --bmcs N --port P --user U --password W --suites 3,17 --event-loops N --fru true}. */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Options o = new Options(Integer.parseInt(a.getOrDefault("bmcs", "1")), Integer.parseInt(a.getOrDefault("port", "6230")),
                a.getOrDefault("user", "admin"), a.getOrDefault("password", "ipmi-secret"),
                java.util.Arrays.stream(a.getOrDefault("suites", "3,17").split(",")).map(String::trim).map(Integer::parseInt).toList(),
                Integer.parseInt(a.getOrDefault("event-loops", "2")), a.get("address"));
        IpmiSim sim = start(o);
        if (Boolean.parseBoolean(a.getOrDefault("fru", "false"))) {
            // an inventory like a real board's, so that inspection finds one (tests set their own images)
            for (int i = 0; i < o.bmcs(); i++) {
                sim.bmcs.get(i).fru = SimBmc.productFru("Supermicro", "SYS-1029P-WTR", "X11DDW-L", String.format("S%09d", 100000 + i));
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(sim::close));
        System.out.printf("ipmi-sim: %d BMC(s) at udp %s … %s:%d, user %s, cipher suites %s%n", o.bmcs(), sim.host(0), sim.host(o.bmcs() - 1),
                o.port(), o.user(), o.suites());
        System.out.flush();
        Thread.currentThread().join();
    }
}
