package io.metalgate.boot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of what a TFTP server reads from the network: random and mutated datagrams never make the
 * codec fail other than with a reason, and no file name — random, or built from the pieces path traversal is
 * made of — resolves to a file outside the served directory, symbolic links included.
 */
class TftpHostileInputTest {

    @Test
    void theCodecOnlyEverRefusesWithAReason() {
        Random r = new Random(2349);
        byte[] valid = TftpServerTest.rrq("undionly.kpxe", "octet", "blksize", "1456", "tsize", "0");
        for (int i = 0; i < 300_000; i++) {
            byte[] p;
            if (r.nextBoolean()) {
                p = new byte[r.nextInt(80)];
                r.nextBytes(p);
            } else {
                p = valid.clone();
                for (int k = r.nextInt(4); k >= 0; k--) {
                    p[r.nextInt(p.length)] = (byte) r.nextInt(256);
                }
                if (r.nextInt(4) == 0) {
                    p = java.util.Arrays.copyOf(p, r.nextInt(p.length + 1));
                }
            }
            for (int kind = 0; kind < 3; kind++) {
                try {
                    switch (kind) {
                        case 0 -> {
                            var req = TftpCodec.request(p);
                            // whatever was asked, what is agreed stays within the RFCs' bounds
                            var agreed = TftpCodec.negotiate(req.options(), 1000, 1468);
                            if (agreed.containsKey("blksize")) {
                                int b = Integer.parseInt(agreed.get("blksize"));
                                assertTrue(b >= 8 && b <= 1468, agreed.toString());
                            }
                        }
                        case 1 -> TftpCodec.ack(p);
                        default -> TftpCodec.error(p);
                    }
                } catch (TftpCodec.TftpException expected) {
                    // refused with a reason
                }
            }
        }
    }

    @Test
    void noNameLeavesTheRoot() throws Exception {
        Path base = Files.createTempDirectory("tftp-hostile");
        Path root = Files.createDirectories(base.resolve("root"));
        Files.writeString(root.resolve("a"), "a");
        Files.createDirectories(root.resolve("d"));
        Files.writeString(root.resolve("d/b"), "b");
        Files.writeString(base.resolve("secret"), "outside");
        Files.createSymbolicLink(root.resolve("link"), base);
        Files.createSymbolicLink(root.resolve("d/up"), base.resolve("secret"));
        assertEquals(root.resolve("a").toAbsolutePath().normalize(), TftpServer.resolve(root, "/a"));
        assertEquals(root.resolve("d/b").toAbsolutePath().normalize(), TftpServer.resolve(root, "d/b"));
        for (String bad : new String[] { "../secret", "link/secret", "d/up", "d/../../secret", "/../secret", "d\\..\\..\\secret", "C:secret",
                "a\u0000", "", "/", "d//b", "./a" }) {
            assertThrows(IllegalArgumentException.class, () -> TftpServer.resolve(root, bad), bad);
        }
        String[] pieces = { "..", ".", "/", "\\", "a", "d", "b", "link", "up", "secret", "%2e", "\u0000", "~", ":", "\u00e9" };
        Random r = new Random(1350);
        Path realRoot = root.toRealPath();
        for (int i = 0; i < 50_000; i++) {
            StringBuilder name = new StringBuilder();
            for (int k = r.nextInt(8); k >= 0; k--) {
                name.append(pieces[r.nextInt(pieces.length)]);
            }
            try {
                Path p = TftpServer.resolve(root, name.toString());
                assertTrue(p.toRealPath().startsWith(realRoot), name + " resolved to " + p.toRealPath());
                assertTrue(Files.readString(p, StandardCharsets.UTF_8).length() == 1, name.toString());
            } catch (IllegalArgumentException refused) {
                // refused: fine
            }
        }
    }
}
