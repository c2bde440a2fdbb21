package io.metalgate.boot;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.evidence.AuditLog;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Which boot a MAC gets ({@link BootScripts}): a machine is recognised by the MACs its inspection found; an
 * ERASING one is issued a one-time token for its erase agent (kept hashed, expiring, audited); a MAC of no machine
 * is recorded for discovery and boots from its local disk.
 */
@ApplicationScoped
public class BootService {

    private static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    Pool pool;
    @Inject
    AuditLog audit;
    @Inject
    MetalgateConfig config;
    @Inject
    Dnsmasq dnsmasq;

    /** A MAC that asked to boot and belongs to no machine. */
    public record UnknownMac(String mac, Instant firstSeen, Instant lastSeen, String lastIp, long requests) {
    }

    /** The iPXE script for {@code givenMac}, asked from {@code ip}; {@code base} is the appliance as the machine reached it. */
    public Uni<String> script(String givenMac, String ip, String base) {
        var mac = BootScripts.mac(givenMac);
        if (mac.isEmpty()) {
            return Uni.createFrom().item(BootScripts.localDisk("no MAC given (expected ?mac=${net0/mac})"));
        }
        String m = mac.get();
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return pool.preparedQuery("SELECT m.id, m.lifecycle_state FROM machine_mac mm JOIN machine m ON m.id = mm.machine_id WHERE mm.mac = $1")
                .execute(Tuple.of(m)).chain(rows -> {
                    if (rows.rowCount() == 0) {
                        return pool.preparedQuery("INSERT INTO boot_unknown_mac (mac, first_seen, last_seen, last_ip) VALUES ($1, $2, $2, $3) "
                                + "ON CONFLICT (mac) DO UPDATE SET last_seen = EXCLUDED.last_seen, last_ip = EXCLUDED.last_ip, "
                                + "requests = boot_unknown_mac.requests + 1").execute(Tuple.of(m, now.atOffset(ZoneOffset.UTC), ip))
                                .replaceWith(BootScripts.localDisk("MAC " + m + " is no machine of this appliance"));
                    }
                    Row r = rows.iterator().next();
                    UUID machine = r.getUUID("id");
                    String state = r.getString("lifecycle_state");
                    if (!state.equals("ERASING")) {
                        return Uni.createFrom().item(BootScripts.localDisk("machine " + machine + " is " + state));
                    }
                    if (config.boot().requireLease()) {
                        var leased = dnsmasq.leasedAddress(m, now);
                        if (leased.isEmpty() || !leased.get().equals(ip)) {
                            // the firmware of the machine itself asks from the address DHCP just gave it; anyone else
                            // knowing the MAC would get a token to speak for its agent
                            Map<String, Object> refused = new LinkedHashMap<>();
                            refused.put("mac", m);
                            refused.put("ip", ip);
                            refused.put("leasedTo", leased.orElse(null));
                            return audit.append("appliance", "boot.token-refused", "machine:" + machine, refused)
                                    .replaceWith(BootScripts.localDisk("no erase agent for MAC " + m + " from this address: DHCP did not lease it "
                                            + "to this MAC"));
                        }
                    }
                    if (!agentBuilt()) {
                        // no token handed out for a boot that cannot happen; the operator sees why in the audit log
                        return audit.append("appliance", "boot.agent-missing", "machine:" + machine, Map.of("mac", m, "problem",
                                "no erase agent in " + agentDir().toAbsolutePath().normalize() + ": build it with iso-builder/build"))
                                .replaceWith(BootScripts.localDisk("machine " + machine + " is ERASING but the appliance has no erase agent built"));
                    }
                    return issue(machine, m, ip, now).map(token -> BootScripts.eraseAgent(base, machine.toString(), m, token));
                });
    }

    /** A one-time token for the machine's erase agent: its hash stored with its expiry, the issue audited (not the token). */
    private Uni<String> issue(UUID machine, String mac, String ip, Instant now) {
        byte[] raw = new byte[32];
        RANDOM.nextBytes(raw);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
        Instant expires = now.plus(config.boot().tokenTtl());
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("mac", mac);
        payload.put("ip", ip);
        payload.put("expiresAt", expires.toString());
        return pool.withTransaction(tx -> tx.preparedQuery("INSERT INTO boot_token (token_sha256, machine_id, mac, issued_at, expires_at, ip) "
                + "VALUES ($1, $2, $3, $4, $5, $6)").execute(Tuple.from(java.util.Arrays.asList(sha256(token), machine, mac,
                        now.atOffset(ZoneOffset.UTC), expires.atOffset(ZoneOffset.UTC), ip)))
                .chain(() -> audit.record(tx, "system:boot", "boot.agent-issued", "machine:" + machine, payload)))
                .replaceWith(token);
    }

    static String sha256(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.US_ASCII)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A boot token as issued: its machine, the address that fetched it, when it was issued, whether it expired or was spent. */
    public record Token(UUID machineId, String mac, String ip, Instant issuedAt, Instant expiresAt, Instant usedAt, boolean hardwareConfirmed) {
    }

    /**
     * The token as the agent presents it, from {@code callerIp}, in the caller's transaction (row locked): 401 unless it
     * was issued, is neither spent nor expired, and is used from the address its boot script was fetched from.
     */
    public Uni<Token> require(io.vertx.mutiny.sqlclient.SqlClient tx, String token, String callerIp, Instant now) {
        if (token == null || token.length() != 43 || !token.matches("[A-Za-z0-9_-]+")) {
            return Uni.createFrom().failure(refused("not a token this appliance issues"));
        }
        return tx.preparedQuery("SELECT machine_id, mac, ip, issued_at, expires_at, used_at, hardware_confirmed_at FROM boot_token WHERE token_sha256 = $1 "
                + "FOR UPDATE")
                .execute(Tuple.of(sha256(token))).map(rows -> {
                    if (rows.rowCount() == 0) {
                        throw refused("this token gives no task: boot the machine again through the erase flow");
                    }
                    Row r = rows.iterator().next();
                    Token t = new Token(r.getUUID("machine_id"), r.getString("mac"), r.getString("ip"), r.getOffsetDateTime("issued_at").toInstant(),
                            r.getOffsetDateTime("expires_at").toInstant(),
                            r.getOffsetDateTime("used_at") == null ? null : r.getOffsetDateTime("used_at").toInstant(),
                            r.getOffsetDateTime("hardware_confirmed_at") != null);
                    if (t.usedAt() != null || !t.expiresAt().isAfter(now)) {
                        throw refused("the token is " + (t.usedAt() != null ? "spent" : "expired") + ": boot the machine again through the erase flow");
                    }
                    if (t.ip() != null && !t.ip().equals(callerIp)) {
                        throw refused("the token is used from another address than the one its machine booted from");
                    }
                    return t;
                });
    }

    private static io.metalgate.common.ApiException refused(String detail) {
        return new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(401, "agent-token", "Unknown, expired or spent token", detail));
    }

    /** The agent holding this token showed it runs on its machine's hardware ({@code POST /api/agent/disks}). */
    public Uni<Void> confirmHardware(io.vertx.mutiny.sqlclient.SqlClient tx, String token, Instant now) {
        return tx.preparedQuery("UPDATE boot_token SET hardware_confirmed_at = $2 WHERE token_sha256 = $1")
                .execute(Tuple.of(sha256(token), now.atOffset(ZoneOffset.UTC))).replaceWithVoid();
    }

    /** The technique the appliance chose for a disk of this token's erase: the report must name the same. */
    public Uni<Void> recordChoice(io.vertx.mutiny.sqlclient.SqlClient tx, String token, String serial, String technique, Instant now) {
        return tx.preparedQuery("INSERT INTO erase_choice (token_sha256, serial_number, technique, chosen_at) VALUES ($1, $2, $3, $4) "
                + "ON CONFLICT (token_sha256, serial_number) DO UPDATE SET technique = EXCLUDED.technique, chosen_at = EXCLUDED.chosen_at")
                .execute(Tuple.of(sha256(token), serial, technique, now.atOffset(ZoneOffset.UTC))).replaceWithVoid();
    }

    /** The techniques chosen for this token's disks, by serial. */
    public Uni<Map<String, String>> choices(io.vertx.mutiny.sqlclient.SqlClient tx, String token) {
        return tx.preparedQuery("SELECT serial_number, technique FROM erase_choice WHERE token_sha256 = $1").execute(Tuple.of(sha256(token)))
                .map(rows -> {
                    Map<String, String> out = new LinkedHashMap<>();
                    rows.forEach(r -> out.put(r.getString("serial_number"), r.getString("technique")));
                    return out;
                });
    }

    /** Spends the token: no later request with it is answered. */
    public Uni<Void> spend(io.vertx.mutiny.sqlclient.SqlClient tx, String token, Instant now) {
        return tx.preparedQuery("UPDATE boot_token SET used_at = $2 WHERE token_sha256 = $1 AND used_at IS NULL")
                .execute(Tuple.of(sha256(token), now.atOffset(ZoneOffset.UTC))).replaceWithVoid();
    }

    public Uni<List<UnknownMac>> unknownMacs(int limit) {
        return pool.preparedQuery("SELECT * FROM boot_unknown_mac ORDER BY last_seen DESC LIMIT $1").execute(Tuple.of(limit)).map(rows -> {
            List<UnknownMac> out = new ArrayList<>();
            rows.forEach(r -> out.add(new UnknownMac(r.getString("mac"), r.getOffsetDateTime("first_seen").toInstant(),
                    r.getOffsetDateTime("last_seen").toInstant(), r.getString("last_ip"), r.getLong("requests"))));
            return out;
        });
    }

    /** The directory of the agent's kernel and initramfs. */
    public java.nio.file.Path agentDir() {
        return java.nio.file.Path.of(config.boot().agentDir().orElse(config.dataDir() + "/agent"));
    }

    /** The erase agent's files as found in {@link #agentDir()}: what iso-builder/build wrote, or why an erase cannot boot. */
    public record AgentStatus(String dir, boolean built, Map<String, String> sha256, String kernel, String problem) {
    }

    /** Whether the kernel and initramfs are there (cheap: on the boot script's path). */
    public boolean agentBuilt() {
        java.nio.file.Path dir = agentDir();
        return java.nio.file.Files.isRegularFile(dir.resolve("vmlinuz")) && java.nio.file.Files.isRegularFile(dir.resolve("initrd.img"));
    }

    /** What is built, with the files' hashes (reads them: not for the event loop). */
    public AgentStatus agentStatus() {
        java.nio.file.Path dir = agentDir().toAbsolutePath().normalize();
        Map<String, String> sums = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String f : List.of("vmlinuz", "initrd.img")) {
            java.nio.file.Path p = dir.resolve(f);
            if (java.nio.file.Files.isRegularFile(p)) {
                sums.put(f, sha256Of(p));
            } else {
                missing.add(f);
            }
        }
        String kernel = null;
        try {
            String manifest = java.nio.file.Files.readString(dir.resolve("manifest.json"));
            var m = java.util.regex.Pattern.compile("\"release\": \"([^\"]+)\"").matcher(manifest);
            kernel = m.find() ? m.group(1) : null;
        } catch (java.io.IOException e) {
            // no manifest: built by hand, or not at all
        }
        String problem = missing.isEmpty() ? null : "no erase agent in " + dir + " (missing " + String.join(", ", missing)
                + "): build it with iso-builder/build --out " + dir + "; until then an ERASING machine boots its local disk and its erase fails "
                + "when it stops reporting";
        return new AgentStatus(dir.toString(), missing.isEmpty(), sums, kernel, problem);
    }

    private static String sha256Of(java.nio.file.Path p) {
        try (var in = java.nio.file.Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            return "unreadable: " + e.getMessage();
        }
    }

    void warnWithoutAgent(@jakarta.enterprise.event.Observes io.quarkus.runtime.StartupEvent e) {
        AgentStatus s = agentStatus();
        if (!s.built()) {
            org.jboss.logging.Logger.getLogger(BootService.class).warn(s.problem());
        }
    }
}
