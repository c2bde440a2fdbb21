package io.metalgate.driver.ipmi;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.api.DriverException;
import io.metalgate.driver.api.DriverException.Kind;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * IPMI 2.0 over one UDP socket for every BMC (Vert.x, no thread per BMC). Each BMC has one RMCP+
 * session, opened on first use (Get Channel Authentication Capabilities, Open Session proposing the
 * allowed suites in order — 17 before 3 — RAKP 1–4, Set Session Privilege Level at the lowest level the
 * command needs, or the machine's configured one), reused
 * while it is fresh and closed on release. A BMC has one exchange in flight at a time (BMCs serve one);
 * others queue behind it. Each exchange is retransmitted after {@code metalgate.ipmi.timeout}, up to
 * {@code retries} times, with a new session sequence number. Datagrams are matched by source address, then
 * by session id, sequence and command; anything else — malformed, forged, replayed, late — is counted
 * and dropped. All state is touched on the socket's event loop only.
 */
@ApplicationScoped
public class IpmiClient {

    static final int USER = 0x02;
    static final int OPERATOR = 0x03;

    /**
     * The privilege a command needs (IPMI 2.0 Appendix G): reading status, identity and FRU data is a
     * user's; chassis control and the boot options an operator's. A session is opened at the lowest level
     * its command needs — a BMC that enforces its limits refuses an operator account asked to act as
     * administrator — and opened again, higher, only when a command needs more.
     */
    static int needed(int netFn, int cmd) {
        if (netFn == 0x00 && (cmd == 0x02 || cmd == 0x04 || cmd == 0x08 || cmd == 0x09)) {
            return OPERATOR; // Chassis Control, Chassis Identify, Set / Get System Boot Options
        }
        return USER;
    }

    /** Role byte of RAKP 1: the privilege, with the name-only lookup bit. */
    static int role(int privilege) {
        return privilege | 0x10;
    }

    static String privilegeName(int privilege) {
        return switch (privilege) {
            case USER -> "user";
            case OPERATOR -> "operator";
            default -> "administrator";
        };
    }

    @Inject
    Vertx vertx;
    @Inject
    MetalgateConfig config;

    private final SecureRandom random = new SecureRandom();
    private volatile DatagramSocket socket;
    private volatile Context context;
    private final Map<String, Bmc> bmcs = new HashMap<>(); // by "ip:port" of the answers; event loop only
    private final AtomicLong dropped = new AtomicLong();

    /** Datagrams dropped since the start (malformed, forged, replayed, unexpected or late). */
    public long dropped() {
        return dropped.get();
    }

    // ------------------------------------------------------------------ the socket

    private io.vertx.core.Future<Void> opened;

    /** Binds the socket once, without blocking (callers may be on an event loop); later calls get the same future. */
    private synchronized io.vertx.core.Future<Void> open() {
        if (opened != null) {
            return opened;
        }
        Context ctx = vertx.getOrCreateContext();
        Promise<Void> bound = Promise.promise();
        opened = bound.future();
        ctx.runOnContext(v -> {
            DatagramSocket s = vertx.createDatagramSocket(new DatagramSocketOptions().setReceiveBufferSize(4 << 20).setSendBufferSize(4 << 20));
            s.handler(p -> received(p.sender().host() + ":" + p.sender().port(), p.data().getBytes()));
            s.listen(0, "0.0.0.0").onSuccess(sock -> {
                socket = sock;
                context = ctx;
                bound.complete();
            }).onFailure(e -> bound.fail(new DriverException(Kind.UNREACHABLE, 0, "cannot open the IPMI UDP socket: " + e.getMessage(), e)));
        });
        return opened;
    }

    @PreDestroy
    void close() {
        if (socket != null) {
            socket.close();
        }
    }

    private void received(String from, byte[] datagram) {
        Bmc bmc = bmcs.get(from);
        if (bmc == null || bmc.pending == null) {
            dropped.incrementAndGet(); // nobody asked this address anything now
            return;
        }
        bmc.pending.offer(datagram);
    }

    // ------------------------------------------------------------------ per-BMC state

    /** One BMC: its address, its session, the exchange in flight and the queue behind it. */
    private final class Bmc {
        BmcEndpoint endpoint;
        final String ip;
        final int port;
        /** ip:port, the key answers are matched by. */
        final String address;
        Session session;
        Exchange<?> pending;
        final Queue<Runnable> queue = new ArrayDeque<>();
        boolean busy;
        int rqSeq;
        /**
         * Smoothed round trip of this BMC's answers (TCP's estimator, RFC 6298: only first sends are measured,
         * Karn's rule), 0 until the first answer. A slow but healthy BMC gets a longer wait before a re-send,
         * so re-sends do not become its load.
         */
        long srttNanos;
        long rttVarNanos;
        /** The backed-off wait while no answer could be measured (RFC 6298 5.5: kept until a valid measurement). */
        long backoffMillis;

        Bmc(BmcEndpoint endpoint, String ip) {
            this.endpoint = endpoint;
            this.ip = ip;
            this.port = endpoint.port();
            this.address = ip + ":" + port;
        }

        io.vertx.core.Future<Void> send(byte[] datagram) {
            return socket.send(Buffer.buffer(datagram), port, ip);
        }

        int nextRqSeq() {
            rqSeq = (rqSeq + 1) & 0x3f;
            return rqSeq;
        }

        void measured(long rtt) {
            backoffMillis = 0;
            if (srttNanos == 0) {
                srttNanos = rtt;
                rttVarNanos = rtt / 2;
            } else {
                rttVarNanos = (3 * rttVarNanos + Math.abs(srttNanos - rtt)) / 4;
                srttNanos = (7 * srttNanos + rtt) / 8;
            }
        }

        /** How long to wait for an answer before a re-send: the configured timeout, or more for a slow BMC (capped). */
        long timeoutMillis(long configured) {
            if (srttNanos == 0) {
                return Math.max(configured, backoffMillis);
            }
            long rto = (srttNanos + 4 * rttVarNanos) / 1_000_000 + 1;
            return Math.min(Math.max(configured, rto), Math.max(configured, MAX_TIMEOUT_MILLIS));
        }
    }

    /** The longest wait before a re-send, however slow a BMC has been. */
    static final long MAX_TIMEOUT_MILLIS = 10_000;

    /** An established RMCP+ session. Sequence numbers: ours outbound, the highest seen inbound (replays are dropped). */
    static final class Session {
        final int consoleSid;
        final int bmcSid;
        final Rakp.SessionKeys keys;
        /** The privilege level the session was opened at (RAKP role and Set Session Privilege Level). */
        int privilege;
        /** Commands in a row whose every retransmission went unanswered (a slow BMC, or one that lost the session). */
        int timeouts;
        /** The system GUID the BMC sent in RAKP 2, authenticated by its key exchange code: what the hardware says it is. */
        final byte[] bmcGuid;
        int outSeq;
        long inSeq = -1;
        long lastUsed = System.nanoTime();

        Session(int consoleSid, int bmcSid, Rakp.SessionKeys keys, byte[] bmcGuid) {
            this.consoleSid = consoleSid;
            this.bmcSid = bmcSid;
            this.keys = keys;
            this.bmcGuid = bmcGuid.clone();
        }

        int nextOutSeq() {
            outSeq++; // starts at 1: 0 is reserved for packets outside a session
            return outSeq;
        }
    }

    /**
     * One request and the answer that matches it. {@code build} makes the datagram for each attempt;
     * {@code accept} returns the result for a datagram that answers it, null for one that does not (dropped).
     */
    private final class Exchange<T> {
        final Bmc bmc;
        final Supplier<byte[]> build;
        final Function<byte[], T> accept;
        final Promise<T> promise = Promise.promise();
        final String what;
        int attempts;
        long timer = -1;
        long firstSent;
        long waitMillis;

        Exchange(Bmc bmc, String what, Supplier<byte[]> build, Function<byte[], T> accept) {
            this.bmc = bmc;
            this.what = what;
            this.build = build;
            this.accept = accept;
        }

        void send() {
            attempts++;
            if (attempts == 1) {
                firstSent = System.nanoTime();
                waitMillis = bmc.timeoutMillis(config.ipmi().timeout().toMillis());
            }
            byte[] d = build.get();
            bmc.send(d).onFailure(e -> fail(new DriverException(Kind.UNREACHABLE, 0,
                    bmc.endpoint + ": cannot send: " + e.getMessage(), e)));
            timer = vertx.setTimer(waitMillis, t -> {
                timer = -1;
                if (attempts <= config.ipmi().retries()) {
                    // each re-send waits twice as long (RFC 6298 5.5): a slow BMC is given time, not more datagrams
                    waitMillis = Math.min(waitMillis * 2, Math.max(config.ipmi().timeout().toMillis(), MAX_TIMEOUT_MILLIS));
                    bmc.backoffMillis = waitMillis;
                    send();
                } else {
                    fail(new DriverException(Kind.TIMEOUT, bmc.endpoint + ": no answer to " + what + " after " + attempts + " tries "
                            + "(the last waited " + waitMillis + " ms)"));
                }
            });
        }

        void offer(byte[] datagram) {
            T result;
            try {
                result = accept.apply(datagram);
            } catch (IpmiCodec.IpmiCodecException e) {
                dropped.incrementAndGet();
                return;
            } catch (DriverException e) {
                fail(e);
                return;
            }
            if (result == null) {
                dropped.incrementAndGet();
                return;
            }
            cancel();
            if (attempts == 1) {
                bmc.measured(System.nanoTime() - firstSent); // an answer to a re-send could be to either: not measured
            }
            bmc.pending = null;
            promise.complete(result);
        }

        void fail(DriverException e) {
            cancel();
            if (bmc.pending == this) {
                bmc.pending = null;
            }
            promise.tryFail(e);
        }

        void cancel() {
            if (timer != -1) {
                vertx.cancelTimer(timer);
                timer = -1;
            }
        }
    }

    /** Runs {@code exchange} when the BMC has nothing else in flight; answers on the event loop. */
    private <T> io.vertx.core.Future<T> exchange(Bmc bmc, String what, Supplier<byte[]> build, Function<byte[], T> accept) {
        Exchange<T> x = new Exchange<>(bmc, what, build, accept);
        bmc.pending = x;
        x.send();
        return x.promise.future();
    }

    // ------------------------------------------------------------------ public calls

    /**
     * Sends one IPMI command inside the BMC's session (opening one if needed) and answers its response;
     * completion codes other than 0 are the caller's to judge, except busy (0xC0), which is retried.
     */
    public Uni<IpmiCodec.Response> command(BmcEndpoint endpoint, int netFn, int cmd, byte[] data) {
        return command(endpoint, netFn, cmd, data, USER);
    }

    /**
     * The same, in a session of at least {@code atLeast}: for a read that an operator's command follows (the
     * power state before a cycle), so that one session serves both.
     */
    public Uni<IpmiCodec.Response> command(BmcEndpoint endpoint, int netFn, int cmd, byte[] data, int atLeast) {
        // lazy, as a Uni should be: nothing is sent until it is subscribed (and again on each retry)
        return Uni.createFrom().deferred(() -> Uni.createFrom().completionStage(start(endpoint, netFn, cmd, data, atLeast,
                (bmc, r) -> r).toCompletionStage()));
    }

    /**
     * The system GUID of the BMC's session (authenticated in RAKP 2), opening a session with Get Device ID if
     * none is open: the hardware's identity, whatever address it is reached at.
     */
    public Uni<byte[]> systemGuid(BmcEndpoint endpoint) {
        return Uni.createFrom().deferred(() -> Uni.createFrom().completionStage(start(endpoint, 0x06, 0x01, new byte[0], USER,
                (bmc, r) -> bmc.session == null ? new byte[16] : bmc.session.bmcGuid.clone()).toCompletionStage()));
    }

    private <T> io.vertx.core.Future<T> start(BmcEndpoint endpoint, int netFn, int cmd, byte[] data, int atLeast,
            java.util.function.BiFunction<Bmc, IpmiCodec.Response, T> answer) {
        Promise<T> result = Promise.promise();
        open().compose(o -> ipOf(endpoint)).onFailure(result::fail).onSuccess(ip -> context.runOnContext(v -> {
            Bmc bmc = bmcs.computeIfAbsent(ip + ":" + endpoint.port(), k -> new Bmc(endpoint, ip));
            if (!bmc.endpoint.username().equals(endpoint.username()) || !bmc.endpoint.password().equals(endpoint.password())
                    || !bmc.endpoint.options().ipmiPrivilege().equals(endpoint.options().ipmiPrivilege())) {
                // new credentials: the old session is closed on the BMC (its table is small), the next command opens one
                if (bmc.session != null) {
                    closeQuietly(bmc, bmc.session);
                }
                bmc.endpoint = endpoint;
                bmc.session = null;
            }
            enqueue(bmc, () -> commandInSession(bmc, netFn, cmd, data, atLeast, true, 0).onComplete(ar -> {
                next(bmc);
                if (ar.succeeded()) {
                    result.complete(answer.apply(bmc, ar.result()));
                } else {
                    result.fail(ar.cause());
                }
            }));
        }));
        return result.future();
    }

    /** Runs {@code task} now if the BMC has nothing in flight, else after what is queued before it; on the event loop. */
    private static void enqueue(Bmc bmc, Runnable task) {
        if (bmc.busy) {
            bmc.queue.add(task);
        } else {
            bmc.busy = true;
            task.run();
        }
    }

    /** The BMC's IP address: a literal at once, a host name looked up off the event loop (a lookup may block). */
    private io.vertx.core.Future<String> ipOf(BmcEndpoint e) {
        if (io.netty.util.NetUtil.isValidIpV4Address(e.host()) || io.netty.util.NetUtil.isValidIpV6Address(e.host())) {
            try {
                return io.vertx.core.Future.succeededFuture(resolve(e));
            } catch (DriverException ex) {
                return io.vertx.core.Future.failedFuture(ex);
            }
        }
        return vertx.executeBlocking(() -> resolve(e), false);
    }

    private void next(Bmc bmc) {
        Runnable r = bmc.queue.poll();
        if (r == null) {
            bmc.busy = false;
        } else {
            r.run();
        }
    }

    /** Closes the BMC's session (Close Session) and forgets it. */
    public Uni<Void> release(BmcEndpoint endpoint) {
        if (socket == null) {
            return Uni.createFrom().voidItem();
        }
        Promise<Void> done = Promise.promise();
        ipOf(endpoint).onFailure(e -> done.complete()).onSuccess(ip -> context.runOnContext(v -> {
            Bmc bmc = bmcs.get(ip + ":" + endpoint.port());
            if (bmc == null || bmc.session == null) {
                done.complete();
                return;
            }
            enqueue(bmc, () -> {
                Session s = bmc.session;
                if (s == null) {
                    next(bmc);
                    done.complete();
                    return;
                }
                sessionCommand(bmc, s, 0x06, 0x3c, Rakp.le32(s.bmcSid)).onComplete(ar -> {
                    bmc.session = null;
                    next(bmc);
                    done.complete();
                });
            });
        }));
        return Uni.createFrom().completionStage(() -> done.future().toCompletionStage());
    }

    private static String resolve(BmcEndpoint e) {
        try {
            return java.net.InetAddress.getByName(e.host()).getHostAddress();
        } catch (java.net.UnknownHostException ex) {
            throw new DriverException(Kind.UNREACHABLE, 0, e + ": unknown host", ex);
        }
    }

    private io.vertx.core.Future<IpmiCodec.Response> commandInSession(Bmc bmc, int netFn, int cmd, byte[] data, int atLeast,
            boolean mayReopen, int busyRetries) {
        int privilege = bmc.endpoint.options().ipmiPrivilege().map(p -> p.level).orElse(Math.max(atLeast, needed(netFn, cmd)));
        Session s = bmc.session;
        boolean stale = s != null && System.nanoTime() - s.lastUsed > config.ipmi().sessionIdle().toNanos();
        boolean tooLow = s != null && s.privilege < privilege;
        if (stale || tooLow) {
            closeQuietly(bmc, s); // BMC session tables are small: never leave a session behind to expire there
            s = null;
        }
        io.vertx.core.Future<Session> session = s != null ? io.vertx.core.Future.succeededFuture(s) : openSession(bmc, privilege);
        return session.compose(ss -> sessionCommand(bmc, ss, netFn, cmd, data).map(r -> {
            ss.timeouts = 0;
            return r;
        }).recover(e -> {
            if (!(e instanceof DriverException de) || de.kind() != Kind.TIMEOUT) {
                return io.vertx.core.Future.failedFuture(e);
            }
            // Unanswered after every retransmission. A slow BMC keeps its session: opening another would only add
            // exchanges (re-sends were the load of a slow fleet). Only the second command in a row that goes
            // unanswered means the BMC may have dropped the session (reboot, expiry): then open a new one, once —
            // unless the command must not run twice (a power cycle or reset whose answers were all lost may have
            // been carried out, and a new session is a sequence the BMC cannot recognise as a repeat).
            ss.timeouts++;
            ss.lastUsed = System.nanoTime(); // waited on, not idle: the idle rule must not reopen it for the next command
            if (mayReopen && ss.timeouts >= 2 && !cyclesPower(netFn, cmd, data)) {
                bmc.session = null;
                return commandInSession(bmc, netFn, cmd, data, atLeast, false, busyRetries);
            }
            return io.vertx.core.Future.failedFuture(e);
        })).compose(r -> {
            if (r.completionCode() == 0xc0 && busyRetries < config.ipmi().retries()) {
                Promise<IpmiCodec.Response> later = Promise.promise();
                vertx.setTimer(config.ipmi().timeout().toMillis(), t -> commandInSession(bmc, netFn, cmd, data, atLeast, mayReopen,
                        busyRetries + 1)
                        .onComplete(later));
                return later.future();
            }
            return io.vertx.core.Future.succeededFuture(r);
        });
    }

    /** Chassis Control power cycle or hard reset: not idempotent. */
    static boolean cyclesPower(int netFn, int cmd, byte[] data) {
        return netFn == 0x00 && cmd == 0x02 && data.length > 0 && ((data[0] & 0x0f) == 0x02 || (data[0] & 0x0f) == 0x03);
    }

    /**
     * Sends Close Session under {@code s} once, without waiting: if the BMC still holds the session it ends
     * it; if it expired it already, the BMC drops the packet. Its answer, if any, is dropped as unexpected.
     */
    private void closeQuietly(Bmc bmc, Session s) {
        byte[] message = IpmiCodec.request(0x06, 0x3c, bmc.nextRqSeq(), Rakp.le32(s.bmcSid));
        bmc.send(IpmiCodec.v20(IpmiCodec.PAYLOAD_IPMI, s.bmcSid, s.nextOutSeq(), message, s.keys, this::iv));
        bmc.session = null;
    }

    private io.vertx.core.Future<IpmiCodec.Response> sessionCommand(Bmc bmc, Session s, int netFn, int cmd, byte[] data) {
        // in use from now: the time spent waiting for a slow answer (backed-off re-sends) is not idleness
        s.lastUsed = System.nanoTime();
        int rqSeq = bmc.nextRqSeq();
        byte[] message = IpmiCodec.request(netFn, cmd, rqSeq, data);
        return exchange(bmc, String.format("command %02x/%02x", netFn, cmd),
                () -> IpmiCodec.v20(IpmiCodec.PAYLOAD_IPMI, s.bmcSid, s.nextOutSeq(), message, s.keys, this::iv),
                d -> {
                    IpmiCodec.Packet p = IpmiCodec.decode(d, s.keys);
                    if (p.payloadType() != IpmiCodec.PAYLOAD_IPMI || p.sessionId() != s.consoleSid || !p.authenticated()) {
                        return null;
                    }
                    long seq = Integer.toUnsignedLong(p.sequence());
                    if (seq <= s.inSeq) {
                        return null; // a replay or a late duplicate of an answer already taken
                    }
                    IpmiCodec.Response r = IpmiCodec.response(p.payload());
                    if (r.rqSeq() != rqSeq || r.cmd() != cmd || r.netFn() != (netFn | 1)) {
                        return null; // an answer to an earlier request
                    }
                    s.inSeq = seq;
                    s.lastUsed = System.nanoTime();
                    return r;
                });
    }

    private byte[] iv() {
        byte[] iv = new byte[16];
        random.nextBytes(iv);
        return iv;
    }

    // ------------------------------------------------------------------ session setup

    private io.vertx.core.Future<Session> openSession(Bmc bmc, int privilege) {
        bmc.session = null;
        BmcEndpoint ep = bmc.endpoint;
        return exchange(bmc, "Get Channel Authentication Capabilities",
                () -> IpmiCodec.v15(IpmiCodec.request(0x06, 0x38, 0, new byte[] {(byte) 0x8e, (byte) privilege})),
                d -> {
                    IpmiCodec.Packet p = IpmiCodec.decode(d, null);
                    if (p.authType() != 0 || p.payloadType() != IpmiCodec.PAYLOAD_IPMI) {
                        return null;
                    }
                    IpmiCodec.Response r = IpmiCodec.response(p.payload());
                    if (r.cmd() != 0x38) {
                        return null;
                    }
                    if (r.completionCode() != 0 || r.data().length < 8) {
                        throw new DriverException(Kind.BMC_ERROR, ep + ": Get Channel Authentication Capabilities failed: "
                                + CompletionCodes.describe(r.completionCode()));
                    }
                    if ((r.data()[1] & 0x80) == 0 || (r.data()[3] & 0x02) == 0) {
                        throw new DriverException(Kind.UNSUPPORTED, ep + ": the BMC does not speak IPMI 2.0 (RMCP+); IPMI 1.5 is not used");
                    }
                    return r;
                })
                .compose(caps -> proposeSuites(bmc, allowedSuites(), 0, privilege));
    }

    /** Tests narrow the suites proposed; null = {@code metalgate.ipmi.cipher-suites}. */
    private volatile List<CipherSuite> suitesOverride;

    void useSuites(List<CipherSuite> suites) {
        suitesOverride = suites;
    }

    List<CipherSuite> allowedSuites() {
        if (suitesOverride != null) {
            return suitesOverride;
        }
        return suites(config.ipmi().cipherSuites());
    }

    /**
     * The configured suites, or why they cannot be: checked at start ({@link #checkConfiguration}), so a
     * wrong setting stops the appliance with this message instead of failing every machine at sweep time.
     */
    static List<CipherSuite> suites(List<Integer> ids) {
        if (ids.isEmpty()) {
            throw new IllegalStateException("metalgate.ipmi.cipher-suites is empty: name 17, 3 or both");
        }
        return ids.stream().map(id -> CipherSuite.byId(id).orElseThrow(() -> new IllegalStateException(
                "metalgate.ipmi.cipher-suites=" + ids + ": suite " + id + " is not allowed; metalgate speaks only suites with "
                        + "authentication, integrity and encryption (17, 3)")))
                .toList();
    }

    void checkConfiguration(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent start) {
        suites(config.ipmi().cipherSuites());
    }

    private io.vertx.core.Future<Session> proposeSuites(Bmc bmc, List<CipherSuite> suites, int i, int privilege) {
        if (i >= suites.size()) {
            return io.vertx.core.Future.failedFuture(new DriverException(Kind.UNSUPPORTED, bmc.endpoint + ": the BMC accepts none of the "
                    + "allowed cipher suites " + suites.stream().map(s -> s.id).toList() + " (suites without integrity and encryption are refused)"));
        }
        CipherSuite suite = suites.get(i);
        int consoleSid = random.nextInt() | 1; // never 0
        int tag = random.nextInt(256);
        return exchange(bmc, "Open Session (suite " + suite.id + ")",
                () -> IpmiCodec.v20(IpmiCodec.PAYLOAD_OPEN_SESSION_REQUEST, 0, 0, IpmiCodec.openSessionRequest(tag, privilege, consoleSid, suite),
                        null, null),
                d -> {
                    IpmiCodec.Packet p = IpmiCodec.decode(d, null);
                    if (p.payloadType() != IpmiCodec.PAYLOAD_OPEN_SESSION_RESPONSE) {
                        return null;
                    }
                    IpmiCodec.OpenSessionResponse r = IpmiCodec.openSessionResponse(p.payload());
                    // an error may carry no session id: then the tag alone matches it
                    return answers(tag, consoleSid, r.tag(), r.consoleSid(), r.status()) ? r : null;
                })
                .compose(r -> {
                    if (r.status() == 0x01 || r.status() == 0x0b) {
                        return io.vertx.core.Future.failedFuture(new DriverException(Kind.SESSION_LIMIT, bmc.endpoint + ": "
                                + RakpStatus.describe(r.status())));
                    }
                    if (r.status() != 0) {
                        return proposeSuites(bmc, suites, i + 1, privilege); // this suite is not offered: the next one
                    }
                    if (CipherSuite.byAlgorithms(r.authAlg(), r.integrityAlg(), r.confAlg()).orElse(null) != suite) {
                        // it answered other algorithms than proposed (pyghmi answers suite 3's to a suite 17 proposal):
                        // never take what it chose; propose the next allowed suite instead
                        return proposeSuites(bmc, suites, i + 1, privilege);
                    }
                    return rakp(bmc, suite, consoleSid, r.bmcSid(), privilege);
                });
    }

    /**
     * Whether a session-setup answer (Open Session Response, RAKP 2, RAKP 4) is the one to our message: its
     * tag, and our session id — except that an error may carry no session id (ipmi_sim sends tag and status only).
     */
    static boolean answers(int tag, int consoleSid, int gotTag, int gotSid, int status) {
        return gotTag == tag && (gotSid == consoleSid || status != 0 && gotSid == 0);
    }

    private io.vertx.core.Future<Session> rakp(Bmc bmc, CipherSuite suite, int consoleSid, int bmcSid, int privilege) {
        BmcEndpoint ep = bmc.endpoint;
        int role = role(privilege);
        byte[] rm = new byte[16];
        random.nextBytes(rm);
        byte[] kuid = Rakp.userKey(ep.password());
        int tag = random.nextInt(256);
        return exchange(bmc, "RAKP 1", () -> IpmiCodec.v20(IpmiCodec.PAYLOAD_RAKP1, 0, 0, IpmiCodec.rakp1(tag, bmcSid, rm, role, ep.username()),
                null, null), d -> {
                    IpmiCodec.Packet p = IpmiCodec.decode(d, null);
                    if (p.payloadType() != IpmiCodec.PAYLOAD_RAKP2) {
                        return null;
                    }
                    IpmiCodec.Rakp2 r = IpmiCodec.rakp2(p.payload());
                    if (!answers(tag, consoleSid, r.tag(), r.consoleSid(), r.status())) {
                        return null;
                    }
                    if (r.status() != 0) {
                        throw new DriverException(r.status() == 0x01 || r.status() == 0x0b ? Kind.SESSION_LIMIT : Kind.AUTHENTICATION,
                                ep + ": " + RakpStatus.describe(r.status()) + (r.status() == 0x0d ? " (user '" + ep.username() + "')" : "")
                                + (r.status() == 0x09 || r.status() == 0x0a ? " (user '" + ep.username() + "' asked to act as " + privilegeName(privilege) + ")"
                                        : ""));
                    }
                    byte[] expected = Rakp.rakp2Code(suite, kuid, consoleSid, bmcSid, rm, r.bmcRandom(), r.bmcGuid(), role, ep.username());
                    if (!MessageDigest.isEqual(expected, r.code())) {
                        throw new DriverException(Kind.AUTHENTICATION, ep + ": wrong password for user '" + ep.username()
                                + "' (the BMC's RAKP 2 does not verify with it)");
                    }
                    return r;
                })
                .compose(r2 -> {
                    byte[] sik = Rakp.sik(suite, kuid, rm, r2.bmcRandom(), role, ep.username());
                    Rakp.SessionKeys keys = Rakp.keys(suite, sik);
                    byte[] code = Rakp.rakp3Code(suite, kuid, r2.bmcRandom(), consoleSid, role, ep.username());
                    return exchange(bmc, "RAKP 3", () -> IpmiCodec.v20(IpmiCodec.PAYLOAD_RAKP3, 0, 0, IpmiCodec.rakp3(tag, 0, bmcSid, code), null, null),
                            d -> {
                                IpmiCodec.Packet p = IpmiCodec.decode(d, null);
                                if (p.payloadType() != IpmiCodec.PAYLOAD_RAKP4) {
                                    return null;
                                }
                                IpmiCodec.Rakp4 r4 = IpmiCodec.rakp4(p.payload());
                                if (!answers(tag, consoleSid, r4.tag(), r4.consoleSid(), r4.status())) {
                                    return null;
                                }
                                if (r4.status() != 0) {
                                    throw new DriverException(Kind.AUTHENTICATION, ep + ": " + RakpStatus.describe(r4.status()));
                                }
                                byte[] icv = Rakp.rakp4Icv(suite, sik, rm, bmcSid, r2.bmcGuid());
                                if (r4.icv().length < icv.length || !MessageDigest.isEqual(icv, Arrays.copyOf(r4.icv(), icv.length))) {
                                    throw new DriverException(Kind.AUTHENTICATION, ep + ": the BMC's RAKP 4 does not verify (not the BMC we talked to?)");
                                }
                                return new Session(consoleSid, bmcSid, keys, r2.bmcGuid());
                            });
                })
                .compose(s -> {
                    return sessionCommand(bmc, s, 0x06, 0x3b, new byte[] {(byte) privilege}).compose(r -> {
                        if (r.completionCode() != 0) {
                            return io.vertx.core.Future.failedFuture(new DriverException(Kind.AUTHENTICATION, ep + ": user '" + ep.username()
                                    + "' cannot act as " + privilegeName(privilege) + ": " + CompletionCodes.describe(r.completionCode())));
                        }
                        s.privilege = privilege;
                        bmc.session = s;
                        return io.vertx.core.Future.succeededFuture(s);
                    });
                });
    }
}
