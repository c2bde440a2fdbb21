package io.metalgate.boot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.metalgate.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TFTP server against a real client (curl's TFTP, RFC 2348 blksize and RFC 2349 tsize), Debian's iPXE
 * binary as served to PXE firmware, and raw datagrams for what a client should never get: another directory's
 * files, a write, a second answer to a duplicate ACK, more transfers than one client may have.
 */
@QuarkusTest
@QuarkusTestResource(value = PostgresTestResource.class, restrictToAnnotatedClass = false)
class TftpServerTest {

    static final Path ROOT = Path.of("target", "tftp-root");
    static byte[] image;

    @Inject
    TftpServer tftp;

    @BeforeAll
    static void files() throws Exception {
        Files.createDirectories(ROOT);
        image = new byte[100_003];
        new Random(7).nextBytes(image);
        Files.write(ROOT.resolve("image.bin"), image);
        Files.write(ROOT.resolve("exact.bin"), Arrays.copyOf(image, 1024)); // a multiple of 512: ends with an empty block
        Path ipxe = Path.of("/usr/lib/ipxe/undionly.kpxe");
        assertTrue(Files.isRegularFile(ipxe), "Debian's ipxe package (the README's test command installs it)");
        Files.copy(ipxe, ROOT.resolve("undionly.kpxe"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(Path.of("target", "outside.txt"), "not served");
    }

    private byte[] curl(String name, String... extra) throws Exception {
        Path out = Files.createTempFile("tftp", ".out");
        var cmd = new java.util.ArrayList<>(java.util.List.of("curl", "-sS", "--max-time", "30", "-o", out.toString()));
        cmd.addAll(java.util.List.of(extra));
        cmd.add("tftp://127.0.0.1:" + tftp.port() + "/" + name);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String said = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(40, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), "curl: " + said);
        return Files.readAllBytes(out);
    }

    @Test
    void aRealClientGetsTheFilesWithAndWithoutOptions() throws Exception {
        assertTrue(tftp.port() > 0, "listening");
        assertArrayEquals(image, curl("image.bin"));
        assertArrayEquals(image, curl("image.bin", "--tftp-blksize", "1428"));
        assertArrayEquals(Arrays.copyOf(image, 1024), curl("exact.bin"));
        assertArrayEquals(Files.readAllBytes(ROOT.resolve("undionly.kpxe")), curl("undionly.kpxe", "--tftp-blksize", "1456"));
        awaitNoTransfers();
    }

    @Test
    void optionsAreNegotiatedByteForByte() throws Exception {
        try (DatagramSocket s = client()) {
            send(s, rrq("image.bin", "octet", "blksize", "100000", "tsize", "0", "timeout", "3", "windowsize", "8"));
            DatagramPacket p = receive(s);
            byte[] answer = Arrays.copyOf(p.getData(), p.getLength());
            if (TftpCodec.opcode(answer) == TftpCodec.ERROR) {
                throw new AssertionError("an error instead of the OACK: " + TftpCodec.error(answer).message() + " (transfers now: " + tftp.transfers() + ")");
            }
            // blksize lowered to what the server allows, tsize answered, timeout kept, windowsize not known: left out
            assertArrayEquals(bytes(0, 6, "blksize", 0, "1468", 0, "timeout", 0, "3", 0, "tsize", 0, "100003", 0),
                    Arrays.copyOf(p.getData(), p.getLength()));
            send(s, TftpCodec.ackPacket(0), p.getPort());
            DatagramPacket d1 = receive(s);
            assertEquals(4 + 1468, d1.getLength());
            assertArrayEquals(Arrays.copyOfRange(image, 0, 1468), Arrays.copyOfRange(d1.getData(), 4, 4 + 1468));
            // a duplicate ACK of the OACK is not answered with block 1 again
            send(s, TftpCodec.ackPacket(0), p.getPort());
            send(s, TftpCodec.ackPacket(1), p.getPort());
            DatagramPacket d2 = receive(s);
            assertEquals(2, (d2.getData()[2] & 0xff) << 8 | (d2.getData()[3] & 0xff));
            s.setSoTimeout(400);
            assertThrowsTimeout(s, "no second block 2 for the one ACK 1, nor a block 1 again for the stale ACK 0");
            send(s, TftpCodec.errorPacket(0, "enough"), p.getPort());
        }
    }

    @Test
    void nothingOutsideTheRootNoWritesAndALimitPerClient() throws Exception {
        for (String name : java.util.List.of("../outside.txt", "/../outside.txt", "a/../../outside.txt", "..\\outside.txt", "/etc/passwd",
                "image.bin\u0001", "no-such-file")) {
            try (DatagramSocket s = client()) {
                send(s, rrq(name, "octet"));
                DatagramPacket p = receive(s);
                assertEquals(TftpCodec.ERROR, TftpCodec.opcode(Arrays.copyOf(p.getData(), p.getLength())), name);
            }
        }
        try (DatagramSocket s = client()) {
            send(s, rrq("image.bin", "octet"));
            send(s, wrq("image.bin"));
            // the read starts (DATA 1, from its own port) and the write is refused (ERROR 2), in either order
            int data = 0;
            int refused = 0;
            int transferPort = -1;
            for (int i = 0; i < 2; i++) {
                DatagramPacket p = receive(s);
                byte[] b = Arrays.copyOf(p.getData(), p.getLength());
                if (TftpCodec.opcode(b) == TftpCodec.DATA) {
                    data++;
                    transferPort = p.getPort();
                } else if (TftpCodec.opcode(b) == TftpCodec.ERROR && TftpCodec.error(b).code() == TftpCodec.E_ACCESS) {
                    refused++;
                }
            }
            assertEquals(1, data);
            assertEquals(1, refused);
            assertTrue(transferPort != tftp.port(), "a transfer has a TID of its own");
            send(s, TftpCodec.errorPacket(0, "enough"), transferPort);
        }
        awaitNoTransfers();
        // one client address, at most 4 transfers at once: the fifth is refused
        java.util.List<DatagramSocket> open = new java.util.ArrayList<>();
        java.util.List<Integer> ports = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                DatagramSocket s = client();
                open.add(s);
                send(s, rrq("image.bin", "octet"));
                DatagramPacket p = receive(s);
                assertEquals(TftpCodec.DATA, TftpCodec.opcode(Arrays.copyOf(p.getData(), p.getLength())));
                ports.add(p.getPort());
            }
            DatagramSocket fifth = client();
            open.add(fifth);
            send(fifth, rrq("image.bin", "octet"));
            DatagramPacket p = receive(fifth);
            byte[] b = Arrays.copyOf(p.getData(), p.getLength());
            assertEquals(TftpCodec.ERROR, TftpCodec.opcode(b));
            assertTrue(TftpCodec.error(b).message().contains("too many"), TftpCodec.error(b).message());
        } finally {
            for (int i = 0; i < ports.size(); i++) {
                send(open.get(i), TftpCodec.errorPacket(0, "enough"), ports.get(i));
            }
            open.forEach(DatagramSocket::close);
        }
    }

    /**
     * Each test starts with no transfer left from another (the per-client limit counts them): one that a test ended
     * by an error packet, or by going away, ends on the server a little later.
     */
    @org.junit.jupiter.api.BeforeEach
    void noTransferLeft() throws InterruptedException {
        awaitNoTransfers();
    }

    /** A transfer ends when the server has the last ACK, which may arrive just after the client is done. */
    private void awaitNoTransfers() throws InterruptedException {
        for (int i = 0; i < 600 && tftp.transfers() > 0; i++) {
            Thread.sleep(50);
        }
        assertEquals(0, tftp.transfers(), "every transfer ended");
    }

    // ---------------------------------------------------------------- raw client

    private static DatagramSocket client() throws Exception {
        DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        s.setSoTimeout(5000);
        return s;
    }

    private void send(DatagramSocket s, byte[] p) throws Exception {
        send(s, p, tftp.port());
    }

    private static void send(DatagramSocket s, byte[] p, int port) throws Exception {
        s.send(new DatagramPacket(p, p.length, InetAddress.getLoopbackAddress(), port));
    }

    private static DatagramPacket receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[70_000], 70_000);
        s.receive(p);
        return p;
    }

    private static void assertThrowsTimeout(DatagramSocket s, String why) throws Exception {
        try {
            DatagramPacket p = receive(s);
            throw new AssertionError(why + ": got opcode " + TftpCodec.opcode(Arrays.copyOf(p.getData(), p.getLength())) + " block "
                    + ((p.getData()[2] & 0xff) << 8 | (p.getData()[3] & 0xff)));
        } catch (SocketTimeoutException expected) {
            // nothing more
        }
    }

    static byte[] rrq(String name, String mode, String... options) {
        return request(TftpCodec.RRQ, name, mode, options);
    }

    static byte[] wrq(String name) {
        return request(TftpCodec.WRQ, name, "octet");
    }

    static byte[] request(int op, String name, String mode, String... options) {
        var out = new java.io.ByteArrayOutputStream();
        out.write(0);
        out.write(op);
        for (String part : concat(name, mode, options)) {
            out.writeBytes(part.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
            out.write(0);
        }
        return out.toByteArray();
    }

    private static String[] concat(String a, String b, String[] rest) {
        String[] all = new String[2 + rest.length];
        all[0] = a;
        all[1] = b;
        System.arraycopy(rest, 0, all, 2, rest.length);
        return all;
    }

    /** Bytes from ints and strings, in order. */
    static byte[] bytes(Object... parts) {
        var out = new java.io.ByteArrayOutputStream();
        for (Object o : parts) {
            if (o instanceof Integer i) {
                out.write(i);
            } else {
                out.writeBytes(((String) o).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
        }
        return out.toByteArray();
    }
}
