package io.metalgate.evidence;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * How an audit entry is hashed: SHA-256 (hex) over the RFC 8785 form of
 * {@code {"action","actor","payload","prevHash","seq","subject","time"}}. The first entry's
 * {@code prevHash} is {@link #GENESIS}. Shared by the sequencer that writes the chain and the
 * offline verifier that checks it, so both agree to the byte.
 */
public final class AuditHashes {

    /** The previous hash of the first entry. */
    public static final String GENESIS = "0".repeat(64);

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private AuditHashes() {
    }

    /** Audit times carry microseconds, as PostgreSQL stores them; truncate before storing. */
    public static Instant truncate(Instant t) {
        return t.truncatedTo(ChronoUnit.MICROS);
    }

    /** The one textual form of an audit time: UTC, always six fractional digits. */
    public static String formatTime(Instant t) {
        return TIME.format(truncate(t));
    }

    /**
     * The canonical form of an entry without its own hash. {@code canonicalPayload} must already be
     * RFC 8785 canonical JSON; keys are written in their sorted order by hand because this runs once
     * per appended entry.
     */
    public static String canonicalEntry(long seq, String time, String actor, String action, String subject,
            String canonicalPayload, String prevHash) {
        StringBuilder sb = new StringBuilder(160 + canonicalPayload.length());
        sb.append("{\"action\":");
        CanonicalJson.writeString(action, sb);
        sb.append(",\"actor\":");
        CanonicalJson.writeString(actor, sb);
        sb.append(",\"payload\":").append(canonicalPayload);
        sb.append(",\"prevHash\":");
        CanonicalJson.writeString(prevHash, sb);
        sb.append(",\"seq\":").append(seq);
        sb.append(",\"subject\":");
        CanonicalJson.writeString(subject, sb);
        sb.append(",\"time\":");
        CanonicalJson.writeString(time, sb);
        sb.append('}');
        return sb.toString();
    }

    /** The hash of an entry. */
    public static String entryHash(long seq, String time, String actor, String action, String subject,
            String canonicalPayload, String prevHash) {
        return sha256Hex(canonicalEntry(seq, time, actor, action, subject, canonicalPayload, prevHash));
    }

    /** The bytes a checkpoint signature covers: canonical {@code {"hash","seq","time"}}. */
    public static byte[] checkpointSigningInput(long seq, String hash, String time) {
        StringBuilder sb = new StringBuilder(128);
        sb.append("{\"hash\":");
        CanonicalJson.writeString(hash, sb);
        sb.append(",\"seq\":").append(seq).append(",\"time\":");
        CanonicalJson.writeString(time, sb);
        sb.append('}');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The bytes both keys sign in a key hand-over (entry {@code audit.key-rotated} at {@code seq}): canonical
     * {@code {"newFingerprint","newPublicKey","prevHash","previousFingerprint","seq","time","type"}}. The old key
     * vouches for its successor, the new key for the history it takes over ({@code prevHash} pins it).
     */
    public static byte[] handOverSigningInput(long seq, String prevHash, String time, String previousFingerprint,
            String newFingerprint, String newPublicKey) {
        StringBuilder sb = new StringBuilder(256);
        sb.append("{\"newFingerprint\":");
        CanonicalJson.writeString(newFingerprint, sb);
        sb.append(",\"newPublicKey\":");
        CanonicalJson.writeString(newPublicKey, sb);
        sb.append(",\"prevHash\":");
        CanonicalJson.writeString(prevHash, sb);
        sb.append(",\"previousFingerprint\":");
        CanonicalJson.writeString(previousFingerprint, sb);
        sb.append(",\"seq\":").append(seq).append(",\"time\":");
        CanonicalJson.writeString(time, sb);
        sb.append(",\"type\":\"audit-key-handover\"}");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static String sha256Hex(String s) {
        return sha256Hex(s.getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256Hex(byte[] bytes) {
        MessageDigest md = SHA256.get();
        md.reset();
        return HEX.formatHex(md.digest(bytes));
    }

    private static final HexFormat HEX = HexFormat.of();
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    });
}
