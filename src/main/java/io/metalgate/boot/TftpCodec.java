package io.metalgate.boot;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * TFTP packets (RFC 1350), with option negotiation (RFC 2347) for blksize (RFC 2348), tsize and timeout
 * (RFC 2349). Pure: bytes in, packets out, and back. A packet that is not well formed is refused with a
 * {@link TftpException} naming why (the server answers it with an ERROR packet, or drops it).
 */
public final class TftpCodec {

    public static final int RRQ = 1;
    public static final int WRQ = 2;
    public static final int DATA = 3;
    public static final int ACK = 4;
    public static final int ERROR = 5;
    public static final int OACK = 6;

    /** Error codes (RFC 1350 §5, RFC 2347). */
    public static final int E_UNDEFINED = 0;
    public static final int E_NOT_FOUND = 1;
    public static final int E_ACCESS = 2;
    public static final int E_ILLEGAL = 4;
    public static final int E_UNKNOWN_TID = 5;
    public static final int E_OPTION = 8;

    public static final int DEFAULT_BLKSIZE = 512;
    /** RFC 2348's bounds. */
    public static final int MIN_BLKSIZE = 8;
    public static final int MAX_BLKSIZE = 65464;

    private TftpCodec() {
    }

    /** A packet could not be read. */
    public static final class TftpException extends Exception {
        public TftpException(String message) {
            super(message);
        }
    }

    /** A read or write request: file name, mode (netascii, octet) and the options asked for (names lower case). */
    public record Request(int opcode, String filename, String mode, Map<String, String> options) {
    }

    /** An acknowledgement of block {@code block} (0 acknowledges an OACK). */
    public record Ack(int block) {
    }

    /** An error a peer sent. */
    public record Error(int code, String message) {
    }

    public static int opcode(byte[] p) throws TftpException {
        if (p.length < 2) {
            throw new TftpException("a TFTP packet is at least 2 bytes, not " + p.length);
        }
        return (p[0] & 0xff) << 8 | (p[1] & 0xff);
    }

    /** A RRQ or WRQ: opcode, then NUL-terminated strings (file name, mode, option name and value pairs). */
    public static Request request(byte[] p) throws TftpException {
        int op = opcode(p);
        if (op != RRQ && op != WRQ) {
            throw new TftpException("opcode " + op + " is not a request");
        }
        java.util.List<String> strings = new java.util.ArrayList<>();
        int start = 2;
        for (int i = 2; i < p.length; i++) {
            if (p[i] == 0) {
                strings.add(new String(p, start, i - start, StandardCharsets.US_ASCII));
                start = i + 1;
            }
        }
        if (start != p.length) {
            throw new TftpException("the request's last string is not NUL-terminated");
        }
        if (strings.size() < 2) {
            throw new TftpException("a request names a file and a mode");
        }
        String mode = strings.get(1).toLowerCase(Locale.ROOT);
        if (!mode.equals("octet") && !mode.equals("netascii")) {
            throw new TftpException("mode " + strings.get(1) + " (octet and netascii are served)");
        }
        if (strings.size() % 2 != 0) {
            throw new TftpException("an option without a value");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 2; i < strings.size(); i += 2) {
            options.put(strings.get(i).toLowerCase(Locale.ROOT), strings.get(i + 1));
        }
        if (strings.get(0).isEmpty()) {
            throw new TftpException("an empty file name");
        }
        return new Request(op, strings.get(0), mode, options);
    }

    public static Ack ack(byte[] p) throws TftpException {
        if (opcode(p) != ACK || p.length != 4) {
            throw new TftpException("not an ACK of 4 bytes");
        }
        return new Ack((p[2] & 0xff) << 8 | (p[3] & 0xff));
    }

    public static Error error(byte[] p) throws TftpException {
        if (opcode(p) != ERROR || p.length < 5 || p[p.length - 1] != 0) {
            throw new TftpException("not an ERROR packet");
        }
        return new Error((p[2] & 0xff) << 8 | (p[3] & 0xff), new String(p, 4, p.length - 5, StandardCharsets.US_ASCII));
    }

    public static byte[] data(int block, byte[] buf, int off, int len) {
        byte[] p = new byte[4 + len];
        p[1] = DATA;
        p[2] = (byte) (block >> 8);
        p[3] = (byte) block;
        System.arraycopy(buf, off, p, 4, len);
        return p;
    }

    public static byte[] ackPacket(int block) {
        return new byte[] { 0, ACK, (byte) (block >> 8), (byte) block };
    }

    public static byte[] errorPacket(int code, String message) {
        byte[] m = message.getBytes(StandardCharsets.US_ASCII);
        byte[] p = new byte[5 + m.length];
        p[1] = ERROR;
        p[2] = (byte) (code >> 8);
        p[3] = (byte) code;
        System.arraycopy(m, 0, p, 4, m.length);
        return p;
    }

    public static byte[] oack(Map<String, String> options) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(OACK);
        options.forEach((k, v) -> {
            out.writeBytes(k.getBytes(StandardCharsets.US_ASCII));
            out.write(0);
            out.writeBytes(v.getBytes(StandardCharsets.US_ASCII));
            out.write(0);
        });
        return out.toByteArray();
    }

    /**
     * What the server agrees to of the options asked for (RFC 2347: unknown or unacceptable options are left out, a
     * blksize above what we allow is lowered to it): blksize 8..{@code maxBlksize}, timeout 1..255 s, tsize answered with
     * the file's size. Empty: no OACK, plain RFC 1350.
     */
    public static Map<String, String> negotiate(Map<String, String> asked, long fileSize, int maxBlksize) {
        Map<String, String> agreed = new LinkedHashMap<>();
        String blk = asked.get("blksize");
        if (blk != null) {
            Integer n = number(blk);
            if (n != null && n >= MIN_BLKSIZE) {
                agreed.put("blksize", Integer.toString(Math.min(n, Math.min(maxBlksize, MAX_BLKSIZE))));
            }
        }
        String timeout = asked.get("timeout");
        if (timeout != null) {
            Integer n = number(timeout);
            if (n != null && n >= 1 && n <= 255) {
                agreed.put("timeout", Integer.toString(n));
            }
        }
        if (asked.containsKey("tsize")) {
            agreed.put("tsize", Long.toString(fileSize));
        }
        return agreed;
    }

    private static Integer number(String s) {
        if (s.isEmpty() || s.length() > 9 || !s.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Integer.valueOf(s);
    }
}
