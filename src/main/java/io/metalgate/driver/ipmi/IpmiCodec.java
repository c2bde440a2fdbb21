package io.metalgate.driver.ipmi;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * RMCP, IPMI v1.5 / v2.0 (RMCP+) session packets and IPMI LAN messages: encoding and decoding, no I/O.
 * Layouts follow the IPMI v2.0 specification (rev. 1.1): §13.6 (session header), §13.8 (LAN message),
 * §13.17–13.23 (Open Session, RAKP 1–4), §13.28.4 (integrity), §13.29 (AES-CBC-128). Multi-byte
 * session fields are little-endian. Every decode checks lengths, checksums and the AuthCode before it
 * trusts a byte, and fails with {@link IpmiCodecException}, never anything else.
 */
public final class IpmiCodec {

    public static final int PAYLOAD_IPMI = 0x00;
    public static final int PAYLOAD_OPEN_SESSION_REQUEST = 0x10;
    public static final int PAYLOAD_OPEN_SESSION_RESPONSE = 0x11;
    public static final int PAYLOAD_RAKP1 = 0x12;
    public static final int PAYLOAD_RAKP2 = 0x13;
    public static final int PAYLOAD_RAKP3 = 0x14;
    public static final int PAYLOAD_RAKP4 = 0x15;

    static final int AUTH_NONE = 0x00;
    static final int AUTH_RMCP_PLUS = 0x06;
    static final int BMC_ADDRESS = 0x20;
    static final int CONSOLE_ADDRESS = 0x81;

    private IpmiCodec() {
    }

    /** Where initialisation vectors come from (random in use, fixed in byte-exact tests). */
    public interface IvSource {
        byte[] next16();
    }

    // ------------------------------------------------------------------ session packets

    /** An IPMI v1.5 packet without authentication: only Get Channel Authentication Capabilities uses it. */
    public static byte[] v15(byte[] message) {
        ByteBuffer b = ByteBuffer.allocate(4 + 10 + message.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x06, 0x00, (byte) 0xff, 0x07}).put((byte) AUTH_NONE).putInt(0).putInt(0).put((byte) message.length).put(message);
        return b.array();
    }

    /**
     * An RMCP+ packet. Without keys (session setup) it is sent in the clear; with keys the payload is
     * encrypted (AES-CBC-128 under K2, a fresh IV) and the packet carries an AuthCode (HMAC under K1).
     */
    public static byte[] v20(int payloadType, int sessionId, int sequence, byte[] payload, Rakp.SessionKeys keys, IvSource ivs) {
        byte[] body = keys == null ? payload : encrypt(payload, keys.aesKey(), ivs.next16());
        int headerAndBody = 12 + body.length; // auth type .. payload (without RMCP)
        int trailer = 0;
        int pad = 0;
        if (keys != null) {
            pad = (4 - (headerAndBody + 2) % 4) % 4; // authType..nextHeader must be a multiple of 4
            trailer = pad + 2 + keys.suite().integrityLength;
        }
        ByteBuffer b = ByteBuffer.allocate(4 + headerAndBody + trailer).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x06, 0x00, (byte) 0xff, 0x07}).put((byte) AUTH_RMCP_PLUS)
                .put((byte) (payloadType | (keys != null ? 0xc0 : 0))).putInt(sessionId).putInt(sequence).putShort((short) body.length).put(body);
        if (keys != null) {
            for (int i = 0; i < pad; i++) {
                b.put((byte) 0xff);
            }
            b.put((byte) pad).put((byte) 0x07);
            byte[] all = b.array();
            byte[] code = Rakp.hmac(keys.suite(), keys.k1(), Arrays.copyOfRange(all, 4, b.position()));
            b.put(code, 0, keys.suite().integrityLength);
        }
        return b.array();
    }

    /** A decoded session packet; {@code payload} is decrypted. IPMI v1.5 packets have payloadType IPMI. */
    public record Packet(int authType, int payloadType, boolean encrypted, boolean authenticated, int sessionId, int sequence, byte[] payload) {
    }

    /**
     * Decodes one datagram. {@code keys} are the session's (null before one is established): an
     * authenticated packet is only accepted when its AuthCode verifies under them, and a packet of an
     * established session must be authenticated and encrypted.
     */
    public static Packet decode(byte[] d, Rakp.SessionKeys keys) {
        if (d.length < 5 || d[0] != 0x06 || d[2] != (byte) 0xff || (d[3] & 0x1f) != 0x07) {
            throw new IpmiCodecException("not an RMCP IPMI packet");
        }
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        b.position(4);
        int authType = b.get() & 0x0f;
        if (authType == AUTH_NONE) {
            need(b, 9, "v1.5 session header");
            int seq = b.getInt();
            int sid = b.getInt();
            int len = b.get() & 0xff;
            need(b, len, "v1.5 message");
            byte[] msg = new byte[len];
            b.get(msg);
            return new Packet(authType, PAYLOAD_IPMI, false, false, sid, seq, msg);
        }
        if (authType != AUTH_RMCP_PLUS) {
            throw new IpmiCodecException("session authentication type " + authType + " is not supported (only none before a session, RMCP+)");
        }
        need(b, 11, "RMCP+ session header");
        int type = b.get() & 0xff;
        boolean encrypted = (type & 0x80) != 0;
        boolean authenticated = (type & 0x40) != 0;
        int payloadType = type & 0x3f;
        if (payloadType == 0x02) {
            throw new IpmiCodecException("OEM payloads are not supported");
        }
        int sid = b.getInt();
        int seq = b.getInt();
        int len = b.getShort() & 0xffff;
        need(b, len, "payload");
        int bodyStart = b.position();
        byte[] body = new byte[len];
        b.get(body);
        if (authenticated) {
            if (keys == null) {
                throw new IpmiCodecException("an authenticated packet outside a session");
            }
            int icvLen = keys.suite().integrityLength;
            // trailer: pad (0-3 × 0xff), pad length, next header, AuthCode
            int trailerEnd = d.length;
            if (trailerEnd - b.position() < 2 + icvLen) {
                throw new IpmiCodecException("truncated session trailer");
            }
            int codeAt = trailerEnd - icvLen;
            int padLength = d[codeAt - 2] & 0xff;
            if (padLength > 3 || codeAt - 2 - padLength != bodyStart + len || d[codeAt - 1] != 0x07) {
                throw new IpmiCodecException("malformed integrity trailer");
            }
            byte[] expected = Arrays.copyOf(Rakp.hmac(keys.suite(), keys.k1(), Arrays.copyOfRange(d, 4, codeAt)), icvLen);
            if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(d, codeAt, trailerEnd))) {
                throw new IpmiCodecException("AuthCode does not verify (wrong session keys or a forged packet)");
            }
        } else if (keys != null && payloadType == PAYLOAD_IPMI) {
            throw new IpmiCodecException("an unauthenticated packet inside a session");
        }
        if (encrypted) {
            if (keys == null) {
                throw new IpmiCodecException("an encrypted packet outside a session");
            }
            body = decrypt(body, keys.aesKey());
        }
        return new Packet(authType, payloadType, encrypted, authenticated, sid, seq, body);
    }

    private static final ThreadLocal<Cipher> AES_CBC = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/CBC/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-CBC unavailable", e);
        }
    });

    static byte[] encrypt(byte[] plain, byte[] key, byte[] iv) {
        int padLength = (16 - (plain.length + 1) % 16) % 16;
        byte[] padded = new byte[plain.length + padLength + 1];
        System.arraycopy(plain, 0, padded, 0, plain.length);
        for (int i = 0; i < padLength; i++) {
            padded[plain.length + i] = (byte) (i + 1); // confidentiality pad: 1, 2, 3, …
        }
        padded[padded.length - 1] = (byte) padLength;
        try {
            Cipher c = AES_CBC.get();
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(iv));
            byte[] ct = c.doFinal(padded);
            byte[] out = new byte[16 + ct.length];
            System.arraycopy(iv, 0, out, 0, 16);
            System.arraycopy(ct, 0, out, 16, ct.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-CBC unavailable", e);
        }
    }

    static byte[] decrypt(byte[] body, byte[] key) {
        if (body.length < 32 || body.length % 16 != 0) {
            throw new IpmiCodecException("encrypted payload of " + body.length + " bytes (IV + whole AES blocks expected)");
        }
        try {
            Cipher c = AES_CBC.get();
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(body, 0, 16));
            byte[] padded = c.doFinal(body, 16, body.length - 16);
            int padLength = padded[padded.length - 1] & 0xff;
            if (padLength > 15 || padLength + 1 > padded.length) {
                throw new IpmiCodecException("bad confidentiality pad length " + padLength);
            }
            int end = padded.length - 1 - padLength;
            for (int i = 0; i < padLength; i++) {
                if (padded[end + i] != (byte) (i + 1)) {
                    throw new IpmiCodecException("bad confidentiality pad");
                }
            }
            return Arrays.copyOf(padded, end);
        } catch (GeneralSecurityException e) {
            throw new IpmiCodecException("payload does not decrypt: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ IPMI LAN messages

    /** A request from the console (0x81) to the BMC (0x20), LUN 0. */
    public static byte[] request(int netFn, int cmd, int rqSeq, byte[] data) {
        byte[] m = new byte[7 + data.length];
        m[0] = (byte) BMC_ADDRESS;
        m[1] = (byte) (netFn << 2);
        m[2] = checksum(m, 0, 2);
        m[3] = (byte) CONSOLE_ADDRESS;
        m[4] = (byte) ((rqSeq & 0x3f) << 2);
        m[5] = (byte) cmd;
        System.arraycopy(data, 0, m, 6, data.length);
        m[m.length - 1] = checksum(m, 3, m.length - 1);
        return m;
    }

    /** A response to the console: its netFn (odd), command, sequence, completion code and data. */
    public record Response(int netFn, int cmd, int rqSeq, int completionCode, byte[] data) {
    }

    public static Response response(byte[] m) {
        if (m.length < 8) {
            throw new IpmiCodecException("IPMI response of " + m.length + " bytes (at least 8)");
        }
        if (checksum(m, 0, 2) != m[2]) {
            throw new IpmiCodecException("IPMI response header checksum mismatch");
        }
        if (checksum(m, 3, m.length - 1) != m[m.length - 1]) {
            throw new IpmiCodecException("IPMI response data checksum mismatch");
        }
        return new Response((m[1] & 0xff) >> 2, m[5] & 0xff, (m[4] & 0xff) >> 2, m[6] & 0xff, Arrays.copyOfRange(m, 7, m.length - 1));
    }

    /** Two's complement checksum of {@code m[from, to)}: the byte that makes their sum zero. */
    static byte checksum(byte[] m, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += m[i] & 0xff;
        }
        return (byte) -sum;
    }

    // ------------------------------------------------------------------ session setup payloads

    /** RMCP+ Open Session Request proposing exactly one suite's three algorithms. */
    public static byte[] openSessionRequest(int tag, int maxPrivilege, int consoleSid, CipherSuite suite) {
        ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) tag).put((byte) maxPrivilege).putShort((short) 0).putInt(consoleSid);
        b.put(new byte[] {0x00, 0, 0, 0x08, (byte) suite.authAlg, 0, 0, 0});
        b.put(new byte[] {0x01, 0, 0, 0x08, (byte) suite.integrityAlg, 0, 0, 0});
        b.put(new byte[] {0x02, 0, 0, 0x08, (byte) suite.confAlg, 0, 0, 0});
        return b.array();
    }

    public record OpenSessionResponse(int tag, int status, int maxPrivilege, int consoleSid, int bmcSid, int authAlg, int integrityAlg,
            int confAlg) {
    }

    /** Error answers may stop after the status (ipmi_sim sends just tag and status): their session id is then 0. */
    public static OpenSessionResponse openSessionResponse(byte[] p) {
        ByteBuffer b = payload(p, 2, "Open Session Response");
        int tag = b.get() & 0xff;
        int status = b.get() & 0xff;
        if (status != 0 && p.length < 8) {
            return new OpenSessionResponse(tag, status, 0, 0, 0, -1, -1, -1);
        }
        need(b, 6, "Open Session Response header");
        int priv = b.get() & 0xff;
        b.get();
        int consoleSid = b.getInt();
        if (status != 0) {
            return new OpenSessionResponse(tag, status, priv, consoleSid, 0, -1, -1, -1);
        }
        need(b, 28, "Open Session Response algorithms");
        int bmcSid = b.getInt();
        int[] alg = new int[3];
        for (int i = 0; i < 3; i++) {
            int kind = b.get() & 0xff;
            b.position(b.position() + 3);
            alg[i] = b.get() & 0x3f;
            b.position(b.position() + 3);
            if (kind != i) {
                throw new IpmiCodecException("Open Session Response algorithm " + i + " has payload type " + kind);
            }
        }
        return new OpenSessionResponse(tag, status, priv, consoleSid, bmcSid, alg[0], alg[1], alg[2]);
    }

    /** RAKP Message 1. {@code role} is the requested privilege (4 = administrator), with bit 4 for a name-only lookup. */
    public static byte[] rakp1(int tag, int bmcSid, byte[] consoleRandom, int role, String user) {
        byte[] name = user.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(28 + name.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) tag).put(new byte[3]).putInt(bmcSid).put(consoleRandom).put((byte) role).putShort((short) 0).put((byte) name.length).put(name);
        return b.array();
    }

    public record Rakp2(int tag, int status, int consoleSid, byte[] bmcRandom, byte[] bmcGuid, byte[] code) {
    }

    public static Rakp2 rakp2(byte[] p) {
        ByteBuffer b = payload(p, 2, "RAKP 2");
        int tag = b.get() & 0xff;
        int status = b.get() & 0xff;
        if (status != 0 && p.length < 8) {
            return new Rakp2(tag, status, 0, null, null, null);
        }
        need(b, 6, "RAKP 2 header");
        b.getShort();
        int consoleSid = b.getInt();
        if (status != 0) {
            return new Rakp2(tag, status, consoleSid, null, null, null);
        }
        need(b, 32, "RAKP 2 random and GUID");
        byte[] random = new byte[16];
        byte[] guid = new byte[16];
        b.get(random).get(guid);
        byte[] code = new byte[b.remaining()];
        b.get(code);
        return new Rakp2(tag, status, consoleSid, random, guid, code);
    }

    public static byte[] rakp3(int tag, int status, int bmcSid, byte[] code) {
        ByteBuffer b = ByteBuffer.allocate(8 + code.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) tag).put((byte) status).putShort((short) 0).putInt(bmcSid).put(code);
        return b.array();
    }

    public record Rakp4(int tag, int status, int consoleSid, byte[] icv) {
    }

    public static Rakp4 rakp4(byte[] p) {
        ByteBuffer b = payload(p, 2, "RAKP 4");
        int tag = b.get() & 0xff;
        int status = b.get() & 0xff;
        if (status != 0 && p.length < 8) {
            return new Rakp4(tag, status, 0, new byte[0]);
        }
        need(b, 6, "RAKP 4 header");
        b.getShort();
        int consoleSid = b.getInt();
        byte[] icv = new byte[b.remaining()];
        b.get(icv);
        return new Rakp4(tag, status, consoleSid, icv);
    }

    private static ByteBuffer payload(byte[] p, int min, String what) {
        if (p.length < min) {
            throw new IpmiCodecException(what + " of " + p.length + " bytes (at least " + min + ")");
        }
        return ByteBuffer.wrap(p).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void need(ByteBuffer b, int n, String what) {
        if (b.remaining() < n) {
            throw new IpmiCodecException("truncated " + what + ": " + b.remaining() + " of " + n + " bytes");
        }
    }

    /** Why a datagram was not accepted. Unchecked: callers drop the datagram and go on. */
    public static final class IpmiCodecException extends RuntimeException {
        public IpmiCodecException(String message) {
            super(message, null, false, false);
        }
    }
}
