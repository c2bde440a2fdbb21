package io.metalgate.boot;

import io.metalgate.common.MetalgateConfig;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * A read-only TFTP server (RFC 1350; options RFC 2347–2349) for the iPXE binaries machines chain-load at PXE
 * boot. Each transfer gets a socket of its own (its TID); lock-step, one block in flight, re-sent after the
 * negotiated timeout; duplicate ACKs are not answered (the Sorcerer's Apprentice bug). Only files under the root
 * are served (no path traversal, no symbolic link out of it); write requests are refused; a client address has
 * at most {@code per-client-transfers} transfers at once.
 */
@ApplicationScoped
public class TftpServer {

    private static final Logger LOG = Logger.getLogger(TftpServer.class);

    @Inject
    Vertx vertx;
    @Inject
    MetalgateConfig config;

    private DatagramSocket listener;
    private volatile int port = -1;
    private final Map<String, AtomicInteger> perClient = new ConcurrentHashMap<>();
    private final AtomicInteger transfers = new AtomicInteger();

    void onStart(@Observes StartupEvent e) {
        var c = config.boot().tftp();
        if (!c.enabled()) {
            return;
        }
        start(c.host(), c.port());
    }

    void onStop(@Observes ShutdownEvent e) {
        if (listener != null) {
            listener.close();
        }
    }

    /** Binds the listener; logs, does not fail, when the port cannot be bound (69 needs privileges). */
    synchronized void start(String host, int wanted) {
        DatagramSocket s = vertx.createDatagramSocket(new DatagramSocketOptions());
        try {
            s.listen(wanted, host).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception ex) {
            LOG.warnf("TFTP: cannot listen on %s:%d (%s); network boot over TFTP is off", host, wanted, ex.getMessage());
            s.close();
            return;
        }
        s.handler(this::request);
        listener = s;
        port = s.localAddress().port();
        LOG.infof("TFTP: serving %s (read-only) on %s:%d", config.boot().tftp().root(), host, port);
    }

    /** The port it listens on; -1 when it does not. */
    public int port() {
        return port;
    }

    /** Transfers in progress. */
    public int transfers() {
        return transfers.get();
    }

    private void request(DatagramPacket packet) {
        String client = packet.sender().host();
        int clientPort = packet.sender().port();
        byte[] bytes = packet.data().getBytes();
        TftpCodec.Request req;
        try {
            req = TftpCodec.request(bytes);
        } catch (TftpCodec.TftpException ex) {
            reply(listener, client, clientPort, TftpCodec.errorPacket(TftpCodec.E_ILLEGAL, ex.getMessage()));
            return;
        }
        if (req.opcode() == TftpCodec.WRQ) {
            reply(listener, client, clientPort, TftpCodec.errorPacket(TftpCodec.E_ACCESS, "read-only server"));
            return;
        }
        var c = config.boot().tftp();
        AtomicInteger active = perClient.computeIfAbsent(client, k -> new AtomicInteger());
        if (active.incrementAndGet() > c.perClientTransfers()) {
            active.decrementAndGet();
            reply(listener, client, clientPort, TftpCodec.errorPacket(TftpCodec.E_UNDEFINED, "too many transfers from " + client));
            return;
        }
        Path file;
        try {
            file = resolveBootFile(Path.of(c.root()), req.filename());
        } catch (IllegalArgumentException ex) {
            release(client);
            reply(listener, client, clientPort, TftpCodec.errorPacket(ex.getMessage().startsWith("no file") ? TftpCodec.E_NOT_FOUND
                    : TftpCodec.E_ACCESS, ex.getMessage()));
            return;
        }
        vertx.<byte[]>executeBlocking(() -> {
            long size = Files.size(file);
            if (size > c.maxFileBytes()) {
                throw new IOException(req.filename() + " is larger than " + c.maxFileBytes() + " bytes");
            }
            return Files.readAllBytes(file);
        }, false).onComplete(r -> {
            if (r.failed()) {
                release(client);
                reply(listener, client, clientPort, TftpCodec.errorPacket(TftpCodec.E_NOT_FOUND, r.cause().getMessage()));
                return;
            }
            new Transfer(client, clientPort, req, r.result()).begin();
        });
    }

    private void release(String client) {
        AtomicInteger a = perClient.get(client);
        if (a != null && a.decrementAndGet() <= 0) {
            perClient.remove(client, a);
        }
    }

    private static void reply(DatagramSocket s, String host, int port, byte[] p) {
        if (s != null) {
            s.send(Buffer.buffer(p), port, host);
        }
    }

    /** {@link #resolve}, and a PXE-menu name with the ".0" proxy-DHCP adds to x86PC boot files (undionly.kpxe.0 is undionly.kpxe). */
    static Path resolveBootFile(Path root, String name) {
        try {
            return resolve(root, name);
        } catch (IllegalArgumentException e) {
            if (name.endsWith(".0") && e.getMessage().startsWith("no file")) {
                return resolve(root, name.substring(0, name.length() - 2));
            }
            throw e;
        }
    }

    /**
     * The file under {@code root} a request names: a leading slash is dropped (firmware often sends one), anything
     * that could leave the root (.., a backslash, a NUL or control character, a symbolic link out) is refused.
     * Throws IllegalArgumentException with the reason ("no file …" when it does not exist).
     */
    public static Path resolve(Path root, String name) {
        String n = name;
        while (n.startsWith("/")) {
            n = n.substring(1);
        }
        if (n.isEmpty() || n.length() > 255 || n.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f || ch == '\\' || ch == ':')) {
            throw new IllegalArgumentException("not a file name this server serves");
        }
        for (String part : n.split("/")) {
            if (part.equals("..") || part.equals(".") || part.isEmpty()) {
                throw new IllegalArgumentException("a path outside the served directory");
            }
        }
        Path base = root.toAbsolutePath().normalize();
        Path p = base.resolve(n).normalize();
        if (!p.startsWith(base)) {
            throw new IllegalArgumentException("a path outside the served directory");
        }
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("no file " + n);
        }
        try {
            if (!p.toRealPath().startsWith(base.toRealPath())) {
                throw new IllegalArgumentException("a path outside the served directory");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("no file " + n);
        }
        return p;
    }

    /** One read transfer: its own socket, lock-step blocks. State confined to the Vert.x context of its socket. */
    private final class Transfer {
        final String host;
        final int clientPort;
        final TftpCodec.Request req;
        final byte[] file;
        final Map<String, String> agreed;
        final int blksize;
        final long timeoutMs;
        DatagramSocket socket;
        int block; // the block sent last (0: the OACK)
        byte[] last;
        int resends;
        long timer = -1;
        boolean done;

        Transfer(String host, int clientPort, TftpCodec.Request req, byte[] file) {
            this.host = host;
            this.clientPort = clientPort;
            this.req = req;
            this.file = file;
            var c = config.boot().tftp();
            this.agreed = TftpCodec.negotiate(req.options(), file.length, c.maxBlksize());
            this.blksize = agreed.containsKey("blksize") ? Integer.parseInt(agreed.get("blksize")) : TftpCodec.DEFAULT_BLKSIZE;
            this.timeoutMs = agreed.containsKey("timeout") ? Long.parseLong(agreed.get("timeout")) * 1000 : 1000;
        }

        void begin() {
            transfers.incrementAndGet();
            socket = vertx.createDatagramSocket(new DatagramSocketOptions());
            socket.listen(0, config.boot().tftp().host()).onComplete(r -> {
                if (r.failed()) {
                    finish();
                    return;
                }
                socket.handler(this::packet);
                if (!agreed.isEmpty()) {
                    block = 0;
                    send(TftpCodec.oack(agreed));
                } else {
                    sendBlock(1);
                }
            });
        }

        private void sendBlock(int n) {
            block = n;
            int off = (int) Math.min((long) (n - 1) * blksize, file.length);
            int len = Math.min(blksize, file.length - off);
            send(TftpCodec.data(n & 0xffff, file, off, len));
        }

        /** The last block: shorter than blksize (an empty one when the file is a multiple of it). */
        private boolean lastSent() {
            return block > 0 && (long) block * blksize > file.length;
        }

        private void send(byte[] p) {
            last = p;
            resends = 0;
            transmit();
        }

        /** Sends the last packet and waits for its ACK; re-sent after the timeout, given up after the retries. */
        private void transmit() {
            socket.send(Buffer.buffer(last), clientPort, host);
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            timer = vertx.setTimer(timeoutMs, t -> {
                timer = -1;
                if (done) {
                    return;
                }
                if (++resends > config.boot().tftp().retries()) {
                    socket.send(Buffer.buffer(TftpCodec.errorPacket(TftpCodec.E_UNDEFINED, "timed out")), clientPort, host);
                    finish();
                } else {
                    int kept = resends;
                    transmit();
                    resends = kept;
                }
            });
        }

        private void packet(DatagramPacket p) {
            if (done) {
                return;
            }
            if (p.sender().port() != clientPort || !p.sender().host().equals(host)) {
                // another TID: told so, the transfer goes on (RFC 1350 §4)
                socket.send(Buffer.buffer(TftpCodec.errorPacket(TftpCodec.E_UNKNOWN_TID, "unknown transfer ID")), p.sender().port(),
                        p.sender().host());
                return;
            }
            byte[] b = p.data().getBytes();
            int op;
            try {
                op = TftpCodec.opcode(b);
            } catch (TftpCodec.TftpException e) {
                return;
            }
            if (op == TftpCodec.ERROR) {
                finish(); // the client gave up (e.g. it only wanted tsize)
                return;
            }
            TftpCodec.Ack ack;
            try {
                ack = TftpCodec.ack(b);
            } catch (TftpCodec.TftpException e) {
                socket.send(Buffer.buffer(TftpCodec.errorPacket(TftpCodec.E_ILLEGAL, e.getMessage())), clientPort, host);
                finish();
                return;
            }
            if (ack.block() != (block & 0xffff)) {
                return; // a duplicate or stale ACK: not answered, or both sides would send every block twice
            }
            if (lastSent()) {
                finish();
            } else {
                sendBlock(block + 1);
            }
        }

        private void finish() {
            if (done) {
                return;
            }
            done = true;
            if (timer >= 0) {
                vertx.cancelTimer(timer);
            }
            transfers.decrementAndGet();
            release(host);
            if (socket != null) {
                socket.close();
            }
        }
    }
}
