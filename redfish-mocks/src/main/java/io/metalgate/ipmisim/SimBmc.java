package io.metalgate.ipmisim;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * One simulated IPMI 2.0 BMC: the server side of RMCP+ (Get Channel Authentication Capabilities, Open
 * Session, RAKP 1–4 for cipher suites 3 and 17, encrypted and authenticated commands with a sequence
 * window) and a chassis (power, boot options parameter 5). It answers datagrams without any transport
 * ({@link #handle}), so tests can call it directly and {@link IpmiSim} can host thousands.
 *
 * <p>Written apart from the appliance's client on purpose (nothing shared): the two meet only on the
 * wire, and the real ipmitool proves this side (IpmiSimInteropTest).
 */
public final class SimBmc {

    /** Suite id → {auth, integrity, confidentiality} algorithm numbers, JCE HMAC, AuthCode length. */
    record Suite(int id, int auth, int integrity, int conf, String hmac, int icvLength) {
    }

    static final Suite SUITE_3 = new Suite(3, 1, 1, 1, "HmacSHA1", 12);
    static final Suite SUITE_17 = new Suite(17, 3, 4, 1, "HmacSHA256", 16);

    private final String user;
    private final byte[] kuid;
    private volatile byte[] guid;
    private final java.util.List<Suite> suites;
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger sessionIds = new AtomicInteger(0x100);

    // state, guarded by this
    private boolean powerOn;
    private byte[] bootFlags = new byte[5];
    private int powerChanges;
    private final Map<Integer, Session> sessions = new HashMap<>();
    public final AtomicInteger commands = new AtomicInteger();
    public final AtomicInteger dropped = new AtomicInteger();
    /** Retransmitted commands answered again without being run again. */
    public final AtomicInteger retransmissions = new AtomicInteger();

    /** Whether to drop every datagram (a BMC that went away). */
    public volatile boolean silent;
    /** The next this-many commands answer 0xC0 (node busy). */
    public volatile int busyAnswers;
    /** The highest privilege the user may have (4 administrator, 3 operator, 2 user). */
    public volatile int userPrivilege = 4;
    /** Sessions opened (Open Session requests that created one), for tests of session churn. */
    public final AtomicInteger sessionsOpened = new AtomicInteger();
    /** Answers of this BMC waiting for their latency (slow-answer mode). */
    final AtomicInteger answersPending = new AtomicInteger();
    /**
     * Slow answers: each answer is sent this many milliseconds after the request, chosen evenly between the
     * two bounds (a BMC whose management controller is busy, as real ones are under a sweep). 0: at once.
     */
    public volatile int minLatencyMillis;
    public volatile int maxLatencyMillis;

    /** The delay for the next answer. */
    public int latencyMillis() {
        int min = minLatencyMillis;
        int max = Math.max(min, maxLatencyMillis);
        return max == 0 ? 0 : min + (max > min ? random.nextInt(max - min + 1) : 0);
    }

    private static final class Session {
        final int consoleSid;
        final int bmcSid;
        final Suite suite;
        byte[] rm;
        byte[] rc;
        int role;
        /** The session's privilege: the RAKP role's level, or what Set Session Privilege Level set. */
        int privilege = 2;
        String name;
        boolean active;
        byte[] k1;
        byte[] k2;
        int outSeq;
        long highestIn;
        long seenMask; // the 32 sequence numbers below highestIn already taken (replay window)
        byte[] openAnswer; // answers kept so a retransmitted setup message gets the same answer, not a new exchange
        byte[] rakp2Answer;
        byte[] rakp4Answer;
        int openTag;
        int lastRequestKey = -1; // rqSeq/netFn/cmd of the last command, and its response message:
        byte[] lastResponse;     // a retransmission (same rqSeq, new session sequence) is answered again, not run again

        Session(int consoleSid, int bmcSid, Suite suite) {
            this.consoleSid = consoleSid;
            this.bmcSid = bmcSid;
            this.suite = suite;
        }
    }

    public SimBmc(int index, String user, String password, java.util.List<Integer> suiteIds) {
        this.user = user;
        this.kuid = Arrays.copyOf(password.getBytes(StandardCharsets.ISO_8859_1), 20);
        this.guid = new byte[16];
        // unique per emulated BMC, also across simulators of one run: the appliance takes it as the hardware's identity
        ByteBuffer.wrap(guid).putLong(0x6d6574616c676174L).putLong(java.util.concurrent.ThreadLocalRandom.current().nextLong() << 20 | index);
        this.suites = suiteIds.stream().map(id -> id == 3 ? SUITE_3 : id == 17 ? SUITE_17 : null).filter(java.util.Objects::nonNull).toList();
    }

    /** Zeros in RAKP 2 instead of the system GUID, as some BMCs send (Get System GUID still tells it). */
    public volatile boolean zeroGuidInRakp;

    private byte[] rakpGuid() {
        return zeroGuidInRakp ? new byte[16] : guid;
    }

    /**
     * A FRU image with a product info area only (Platform Management FRU Information Storage Definition v1.0 §10, §13):
     * manufacturer, product name, part number, version, serial number, asset tag, each an 8-bit ASCII field.
     */
    public static byte[] productFru(String manufacturer, String product, String part, String serial) {
        java.io.ByteArrayOutputStream area = new java.io.ByteArrayOutputStream();
        area.write(0x01); // format version
        area.write(0x00); // length, set below
        area.write(0x19); // language: English
        for (String f : new String[] { manufacturer, product, part, "1.0", serial, "" }) {
            byte[] b = f.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            area.write(0xC0 | b.length);
            area.write(b, 0, b.length);
        }
        area.write(0x00); // FRU file id: empty
        area.write(0xC1); // end of fields
        while ((area.size() + 1) % 8 != 0) {
            area.write(0x00);
        }
        area.write(0x00); // checksum, set below
        byte[] a = area.toByteArray();
        a[1] = (byte) (a.length / 8);
        a[a.length - 1] = checksum(a, a.length - 1);
        byte[] header = { 0x01, 0, 0, 0, 0x01, 0, 0, 0 }; // product area at offset 8
        header[7] = checksum(header, 7);
        byte[] image = new byte[header.length + a.length];
        System.arraycopy(header, 0, image, 0, header.length);
        System.arraycopy(a, 0, image, header.length, a.length);
        return image;
    }

    private static byte checksum(byte[] b, int n) {
        int sum = 0;
        for (int i = 0; i < n; i++) {
            sum += b[i] & 0xff;
        }
        return (byte) (-sum & 0xff);
    }

    /** FRU device 0's image (null: none), and the most bytes one Read FRU Data returns. */
    public volatile byte[] fru;
    public volatile int fruChunkLimit = 32;
    /** Read FRU Data commands answered. */
    public volatile int fruReads;

    /** The system GUID this BMC sends in RAKP 2 (tests give two BMCs one, as one server behind two addresses). */
    public byte[] guid() {
        return guid.clone();
    }

    public void setGuid(byte[] g) {
        this.guid = g.clone();
    }

    /** The machine behind this BMC (a QEMU VM), or null: power kept in memory. */
    private volatile io.metalgate.redfishmock.Host host;

    /** Puts a real machine (a {@link io.metalgate.redfishmock.QemuHost}) behind this BMC: chassis control and boot options drive it. */
    public synchronized SimBmc attach(io.metalgate.redfishmock.Host machine) {
        this.host = machine;
        return this;
    }

    public synchronized boolean powerOn() {
        return host != null ? host.poweredOn() : powerOn;
    }

    /**
     * The boot device of the next boot from boot options parameter 5 (IPMI v2.0 table 28-14): valid bit, device
     * selector bits 5:2 of byte 2 (PXE 1, disk 2, CD 5); a one-time setting is used up by the boot that reads it.
     */
    private String nextBootTarget() {
        if ((bootFlags[0] & 0x80) == 0) {
            return "None";
        }
        String target = switch ((bootFlags[1] >> 2) & 0x0f) {
            case 1 -> "Pxe";
            case 2 -> "Hdd";
            case 5 -> "Cd";
            default -> "None";
        };
        if ((bootFlags[0] & 0x40) == 0) {
            bootFlags[0] &= 0x7f; // once: cleared by this boot
        }
        return target;
    }

    public synchronized void setPowerOn(boolean on) {
        powerOn = on;
    }

    public synchronized int powerChanges() {
        return powerChanges;
    }

    /** Boot options parameter 5 as last set (5 bytes). */
    public synchronized byte[] bootFlags() {
        return bootFlags.clone();
    }

    public synchronized int openSessions() {
        return (int) sessions.values().stream().filter(s -> s.active).count();
    }

    /** The answer to one datagram, or null for none (malformed, unknown, replayed, forged: dropped). */
    public synchronized byte[] handle(byte[] d) {
        if (silent) {
            return null;
        }
        try {
            byte[] answer = dispatch(d);
            if (answer == null) {
                dropped.incrementAndGet();
            }
            return answer;
        } catch (RuntimeException e) {
            dropped.incrementAndGet(); // never let a bad packet take the BMC down
            return null;
        }
    }

    private byte[] dispatch(byte[] d) {
        if (d.length < 16 || d[0] != 0x06 || d[3] != 0x07) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN);
        int authType = d[4] & 0x0f;
        if (authType == 0) {
            // IPMI v1.5 without authentication: only Get Channel Authentication Capabilities
            int len = d[13] & 0xff;
            if (d.length < 14 + len || len < 7) {
                return null;
            }
            byte[] msg = Arrays.copyOfRange(d, 14, 14 + len);
            if ((msg[1] & 0xff) >> 2 != 0x06 || (msg[5] & 0xff) != 0x38) {
                return null;
            }
            byte[] data = {0x00, 0x01, (byte) 0x80, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00}; // cc, channel 1, v2.0 extended; IPMI 2.0
            byte[] rsp = response(msg, data);
            ByteBuffer o = ByteBuffer.allocate(14 + rsp.length).order(ByteOrder.LITTLE_ENDIAN);
            o.put(new byte[] {0x06, 0x00, (byte) 0xff, 0x07, 0x00}).putInt(0).putInt(0).put((byte) rsp.length).put(rsp);
            return o.array();
        }
        if (authType != 6) {
            return null;
        }
        int type = d[5] & 0xff;
        int payloadType = type & 0x3f;
        b.position(6);
        int sid = b.getInt();
        int seq = b.getInt();
        int len = b.getShort() & 0xffff;
        if (16 + len > d.length) {
            return null;
        }
        byte[] payload = Arrays.copyOfRange(d, 16, 16 + len);
        return switch (payloadType) {
            case 0x10 -> openSession(payload);
            case 0x12 -> rakp1(payload);
            case 0x14 -> rakp3(payload);
            case 0x00 -> command(d, type, sid, seq, len);
            default -> null;
        };
    }

    private byte[] openSession(byte[] p) {
        if (p.length < 32) {
            return null;
        }
        int tag = p[0] & 0xff;
        int consoleSid = ByteBuffer.wrap(p, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int auth = p[12] & 0x3f;
        int integrity = p[20] & 0x3f;
        int conf = p[28] & 0x3f;
        Suite suite = suites.stream().filter(s -> s.auth == auth && s.integrity == integrity && s.conf == conf).findFirst().orElse(null);
        if (suite == null) {
            return clear(0x11, new byte[] {(byte) tag, 0x11, 0, 0, p[4], p[5], p[6], p[7]}); // no cipher suite match
        }
        if (sessions.size() >= 32) {
            sessions.values().removeIf(x -> !x.active); // half-open sessions give way first
        }
        if (sessions.size() >= 64) {
            return clear(0x11, new byte[] {(byte) tag, 0x01, 0, 0, p[4], p[5], p[6], p[7]}); // no room
        }
        for (Session existing : sessions.values()) {
            if (existing.consoleSid == consoleSid && existing.openTag == tag && !existing.active && existing.openAnswer != null) {
                return existing.openAnswer; // a retransmission: the same session, not another one
            }
        }
        int bmcSid = sessionIds.incrementAndGet();
        Session created = new Session(consoleSid, bmcSid, suite);
        created.openTag = tag;
        sessions.put(bmcSid, created);
        sessionsOpened.incrementAndGet();
        ByteBuffer o = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        o.put((byte) tag).put((byte) 0).put((byte) 4).put((byte) 0).putInt(consoleSid).putInt(bmcSid);
        o.put(new byte[] {0, 0, 0, 8, (byte) suite.auth, 0, 0, 0, 1, 0, 0, 8, (byte) suite.integrity, 0, 0, 0, 2, 0, 0, 8, (byte) suite.conf, 0, 0, 0});
        created.openAnswer = clear(0x11, o.array());
        return created.openAnswer;
    }

    private byte[] rakp1(byte[] p) {
        if (p.length < 28) {
            return null;
        }
        int tag = p[0] & 0xff;
        int bmcSid = ByteBuffer.wrap(p, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        Session s = sessions.get(bmcSid);
        if (s != null && s.rakp2Answer != null && Arrays.equals(s.rm, Arrays.copyOfRange(p, 8, 24))) {
            return s.rakp2Answer; // a retransmitted RAKP 1: the same challenge again, never a new one
        }
        if (s == null || s.active) {
            return clear(0x13, new byte[] {(byte) tag, 0x02, 0, 0, 0, 0, 0, 0}); // invalid session id
        }
        int role = p[24] & 0xff;
        int ulen = p[27] & 0xff;
        if (ulen > 16 || p.length < 28 + ulen) {
            return clear(0x13, withSid(tag, 0x0c, s.consoleSid)); // invalid name length
        }
        String name = new String(p, 28, ulen, StandardCharsets.ISO_8859_1);
        if (!name.equals(user)) {
            sessions.remove(bmcSid);
            return clear(0x13, withSid(tag, 0x0d, s.consoleSid)); // unauthorized name
        }
        if ((role & 0x0f) > 4) {
            sessions.remove(bmcSid);
            return clear(0x13, withSid(tag, 0x09, s.consoleSid)); // invalid role
        }
        if ((role & 0x0f) > userPrivilege) {
            sessions.remove(bmcSid);
            return clear(0x13, withSid(tag, 0x0a, s.consoleSid)); // unauthorized role or privilege level
        }
        s.rm = Arrays.copyOfRange(p, 8, 24);
        s.rc = new byte[16];
        random.nextBytes(s.rc);
        s.role = role;
        s.privilege = role & 0x0f; // the level asked for in RAKP 1 (at most the user's); Set Session Privilege may lower it
        s.name = name;
        byte[] g = rakpGuid();
        byte[] code = hmac(s.suite, kuid, le(s.consoleSid), le(bmcSid), s.rm, s.rc, g, roleName(s));
        ByteBuffer o = ByteBuffer.allocate(40 + code.length).order(ByteOrder.LITTLE_ENDIAN);
        o.put((byte) tag).put((byte) 0).putShort((short) 0).putInt(s.consoleSid).put(s.rc).put(g).put(code);
        s.rakp2Answer = clear(0x13, o.array());
        return s.rakp2Answer;
    }

    private byte[] rakp3(byte[] p) {
        if (p.length < 8) {
            return null;
        }
        int tag = p[0] & 0xff;
        int bmcSid = ByteBuffer.wrap(p, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        Session s = sessions.get(bmcSid);
        if (s != null && s.active && s.rakp4Answer != null && s.highestIn == 0) {
            return s.rakp4Answer; // a retransmitted RAKP 3 before the session was used
        }
        if (s == null || s.rc == null || s.active) {
            return clear(0x15, new byte[] {(byte) tag, 0x02, 0, 0, 0, 0, 0, 0});
        }
        byte[] expected = hmac(s.suite, kuid, s.rc, le(s.consoleSid), roleName(s));
        byte[] got = Arrays.copyOfRange(p, 8, p.length);
        if (p[1] != 0 || !MessageDigest.isEqual(expected, got)) {
            sessions.remove(bmcSid);
            return clear(0x15, withSid(tag, 0x0f, s.consoleSid)); // invalid integrity check value: wrong password
        }
        byte[] sik = hmac(s.suite, kuid, s.rm, s.rc, roleName(s));
        byte[] ones = new byte[20]; // const1/const2 are 20 bytes for every suite (SHA-256 too)
        byte[] twos = new byte[20];
        Arrays.fill(ones, (byte) 1);
        Arrays.fill(twos, (byte) 2);
        s.k1 = hmac(s.suite, sik, ones);
        s.k2 = hmac(s.suite, sik, twos);
        s.active = true;
        byte[] icv = Arrays.copyOf(hmac(s.suite, sik, s.rm, le(bmcSid), rakpGuid()), s.suite.icvLength);
        ByteBuffer o = ByteBuffer.allocate(8 + icv.length).order(ByteOrder.LITTLE_ENDIAN);
        o.put((byte) tag).put((byte) 0).putShort((short) 0).putInt(s.consoleSid).put(icv);
        s.rakp4Answer = clear(0x15, o.array());
        return s.rakp4Answer;
    }

    private byte[] command(byte[] d, int type, int sid, int seq, int len) {
        Session s = sessions.get(sid);
        if (s == null || !s.active || (type & 0xc0) != 0xc0) {
            return null; // outside a session, or not both authenticated and encrypted
        }
        int icvLen = s.suite.icvLength;
        int codeAt = d.length - icvLen;
        if (codeAt < 16 + len + 2 || d[codeAt - 1] != 0x07) {
            return null;
        }
        byte[] code = Arrays.copyOf(hmac(s.suite, s.k1, Arrays.copyOfRange(d, 4, codeAt)), icvLen);
        if (!MessageDigest.isEqual(code, Arrays.copyOfRange(d, codeAt, d.length))) {
            return null; // forged or damaged
        }
        if (!acceptSequence(s, Integer.toUnsignedLong(seq))) {
            return null; // a replay, or too far out of order
        }
        byte[] msg = decrypt(Arrays.copyOfRange(d, 16, 16 + len), Arrays.copyOf(s.k2, 16));
        if (msg == null || msg.length < 7) {
            return null;
        }
        int netFn = (msg[1] & 0xff) >> 2;
        int cmd = msg[5] & 0xff;
        int requestKey = ((msg[4] & 0xff) >> 2) << 16 | netFn << 8 | cmd;
        if (requestKey == s.lastRequestKey && s.lastResponse != null) {
            retransmissions.incrementAndGet();
            return secured(s, s.lastResponse); // IPMI duplicate request detection: same rqSeq, netFn and command
        }
        commands.incrementAndGet();
        byte[] data = Arrays.copyOfRange(msg, 6, msg.length - 1);
        byte[] result;
        if (busyAnswers > 0 && !(netFn == 0x06 && cmd == 0x3b)) {
            busyAnswers--;
            result = new byte[] {(byte) 0xc0};
        } else {
            result = execute(netFn, cmd, data, s);
        }
        byte[] rsp = response(msg, result);
        s.lastRequestKey = requestKey;
        s.lastResponse = rsp;
        return secured(s, rsp);
    }

    /** Sequence numbers must rise; one of the 32 below the highest seen is taken once (packets may cross). */
    private static boolean acceptSequence(Session s, long seq) {
        if (seq == 0) {
            return false;
        }
        if (seq > s.highestIn) {
            long shift = seq - s.highestIn;
            s.seenMask = shift >= 64 ? 0 : (s.seenMask << shift) | (s.highestIn == 0 ? 0 : 1L << (shift - 1));
            s.highestIn = seq;
            return true;
        }
        long back = s.highestIn - seq;
        if (back == 0 || back > 32) {
            return false;
        }
        long bit = 1L << (back - 1);
        if ((s.seenMask & bit) != 0) {
            return false;
        }
        s.seenMask |= bit;
        return true;
    }

    private byte[] execute(int netFn, int cmd, byte[] data, Session s) {
        switch (netFn << 8 | cmd) {
            case 0x0601: // Get Device ID
                return new byte[] {0x00, 0x20, 0x01, 0x01, 0x00, 0x02, (byte) 0x8f, (byte) 0xe1, 0x1d, 0x00, 0x01, 0x00};
            case 0x063b: { // Set Session Privilege Level: at most the role asked for in RAKP 1
                int wanted = data.length > 0 && data[0] != 0 ? data[0] & 0x0f : s.role & 0x0f;
                if (wanted > (s.role & 0x0f)) {
                    return new byte[] {(byte) 0x81}; // requested level exceeds the limit of the session
                }
                s.privilege = wanted;
                return new byte[] {0x00, (byte) wanted};
            }
            case 0x063c: // Close Session
                sessions.remove(s.bmcSid);
                return new byte[] {0x00};
            case 0x0001: // Get Chassis Status
                return new byte[] {0x00, (byte) (powerOn() ? 0x01 : 0x00), 0x00, 0x00, 0x00};
            case 0x0002: // Chassis Control
                if (s.privilege < 3) {
                    return new byte[] {(byte) 0xd4}; // insufficient privilege: an operator's command
                }
                if (data.length < 1) {
                    return new byte[] {(byte) 0xc7};
                }
                switch (data[0] & 0x0f) {
                    case 0x00, 0x05 -> setPower(false);
                    case 0x01 -> setPower(true);
                    case 0x02, 0x03 -> {
                        if (!powerOn()) {
                            return new byte[] {(byte) 0xd5}; // not in present state: a cycle needs power on
                        }
                        powerChanges += 2;
                        if (host != null) {
                            host.forceRestart(nextBootTarget());
                        }
                    }
                    default -> {
                        return new byte[] {(byte) 0xcc};
                    }
                }
                return new byte[] {0x00};
            case 0x0008: // Set System Boot Options
                if (s.privilege < 3) {
                    return new byte[] {(byte) 0xd4};
                }
                if (data.length < 1) {
                    return new byte[] {(byte) 0xc7};
                }
                int param = data[0] & 0x7f;
                if (param == 5) {
                    if (data.length < 6) {
                        return new byte[] {(byte) 0xc7};
                    }
                    bootFlags = Arrays.copyOfRange(data, 1, 6);
                    return new byte[] {0x00};
                }
                return param == 0 || param == 3 || param == 4 ? new byte[] {0x00} : new byte[] {(byte) 0x80}; // 0x80: parameter not supported
            case 0x0637: { // Get System GUID
                byte[] g = guid;
                byte[] out = new byte[17];
                System.arraycopy(g, 0, out, 1, 16);
                return out;
            }
            case 0x0a10: { // Get FRU Inventory Area Info (device 0 only)
                byte[] f = fru;
                if (data.length < 1 || data[0] != 0 || f == null) {
                    return new byte[] {(byte) 0xcb}; // requested sensor, data or record not present
                }
                return new byte[] {0x00, (byte) f.length, (byte) (f.length >> 8), 0x00};
            }
            case 0x0a11: { // Read FRU Data: at most fruChunkLimit bytes at once (0xCA above it, as small BMCs answer)
                byte[] f = fru;
                if (data.length < 4 || data[0] != 0 || f == null) {
                    return new byte[] {(byte) 0xcb};
                }
                int offset = (data[1] & 0xff) | (data[2] & 0xff) << 8;
                int count = data[3] & 0xff;
                if (count > fruChunkLimit) {
                    return new byte[] {(byte) 0xca}; // cannot return number of requested data bytes
                }
                if (offset >= f.length) {
                    return new byte[] {(byte) 0xc9}; // parameter out of range
                }
                int n = Math.min(count, f.length - offset);
                byte[] out = new byte[2 + n];
                out[1] = (byte) n;
                System.arraycopy(f, offset, out, 2, n);
                fruReads++;
                return out;
            }
            case 0x0009: // Get System Boot Options
                if (data.length < 1 || (data[0] & 0x7f) != 5) {
                    return new byte[] {(byte) 0x80};
                }
                byte[] out = new byte[8];
                out[1] = 0x01;
                out[2] = 0x05;
                System.arraycopy(bootFlags, 0, out, 3, 5);
                return out;
            default:
                return new byte[] {(byte) 0xc1}; // invalid command
        }
    }

    private void setPower(boolean on) {
        if (powerOn() != on) {
            powerChanges++;
        }
        powerOn = on;
        if (host != null) {
            if (on) {
                if (!host.poweredOn()) {
                    host.powerOn(nextBootTarget());
                }
            } else {
                host.forceOff();
            }
        }
    }

    /** A response message for request {@code req}: completion code and data in {@code ccAndData}. */
    private static byte[] response(byte[] req, byte[] ccAndData) {
        byte[] m = new byte[7 + ccAndData.length];
        m[0] = req[3];
        m[1] = (byte) (((((req[1] & 0xff) >> 2) | 1) << 2) | (req[4] & 0x03));
        m[2] = checksum(m, 0, 2);
        m[3] = req[0];
        m[4] = (byte) ((req[4] & 0xfc) | (req[1] & 0x03));
        m[5] = req[5];
        System.arraycopy(ccAndData, 0, m, 6, ccAndData.length);
        m[m.length - 1] = checksum(m, 3, m.length - 1);
        return m;
    }

    private static byte checksum(byte[] m, int from, int to) {
        int sum = 0;
        for (int i = from; i < to; i++) {
            sum += m[i];
        }
        return (byte) -sum;
    }

    private byte[] secured(Session s, byte[] msg) {
        int pad = (16 - (msg.length + 1) % 16) % 16;
        byte[] plain = Arrays.copyOf(msg, msg.length + pad + 1);
        for (int i = 0; i < pad; i++) {
            plain[msg.length + i] = (byte) (i + 1);
        }
        plain[plain.length - 1] = (byte) pad;
        byte[] iv = new byte[16];
        random.nextBytes(iv);
        byte[] body;
        try {
            Cipher c = AES.get();
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(s.k2, 0, 16, "AES"), new IvParameterSpec(iv));
            byte[] ct = c.doFinal(plain);
            body = new byte[16 + ct.length];
            System.arraycopy(iv, 0, body, 0, 16);
            System.arraycopy(ct, 0, body, 16, ct.length);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        int integrityPad = (4 - (12 + body.length + 2) % 4) % 4;
        ByteBuffer o = ByteBuffer.allocate(16 + body.length + integrityPad + 2 + s.suite.icvLength).order(ByteOrder.LITTLE_ENDIAN);
        o.put(new byte[] {0x06, 0x00, (byte) 0xff, 0x07, 0x06, (byte) 0xc0}).putInt(s.consoleSid).putInt(++s.outSeq).putShort((short) body.length)
                .put(body);
        for (int i = 0; i < integrityPad; i++) {
            o.put((byte) 0xff);
        }
        o.put((byte) integrityPad).put((byte) 0x07);
        byte[] code = hmac(s.suite, s.k1, Arrays.copyOfRange(o.array(), 4, o.position()));
        o.put(code, 0, s.suite.icvLength);
        return o.array();
    }

    private static byte[] decrypt(byte[] body, byte[] key) {
        if (body.length < 32 || body.length % 16 != 0) {
            return null;
        }
        try {
            Cipher c = AES.get();
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new IvParameterSpec(body, 0, 16));
            byte[] plain = c.doFinal(body, 16, body.length - 16);
            int pad = plain[plain.length - 1] & 0xff;
            return pad > 15 ? null : Arrays.copyOf(plain, plain.length - 1 - pad);
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    private static byte[] clear(int payloadType, byte[] payload) {
        ByteBuffer o = ByteBuffer.allocate(16 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        o.put(new byte[] {0x06, 0x00, (byte) 0xff, 0x07, 0x06, (byte) payloadType}).putInt(0).putInt(0).putShort((short) payload.length).put(payload);
        return o.array();
    }

    private static byte[] withSid(int tag, int status, int consoleSid) {
        ByteBuffer o = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        o.put((byte) tag).put((byte) status).putShort((short) 0).putInt(consoleSid);
        return o.array();
    }

    private static byte[] roleName(Session s) {
        byte[] n = s.name.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[2 + n.length];
        out[0] = (byte) s.role;
        out[1] = (byte) n.length;
        System.arraycopy(n, 0, out, 2, n.length);
        return out;
    }

    private static byte[] le(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static final ThreadLocal<Map<String, Mac>> MACS = ThreadLocal.withInitial(HashMap::new);
    private static final ThreadLocal<Cipher> AES = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/CBC/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    });

    private static byte[] hmac(Suite suite, byte[] key, byte[]... parts) {
        try {
            Mac mac = MACS.get().computeIfAbsent(suite.hmac, n -> {
                try {
                    return Mac.getInstance(n);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException(e);
                }
            });
            mac.init(new SecretKeySpec(key, suite.hmac));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
