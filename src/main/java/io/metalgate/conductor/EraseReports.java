package io.metalgate.conductor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.metalgate.boot.BootService;
import io.metalgate.common.ApiException;
import io.metalgate.common.MetalgateConfig;
import io.metalgate.common.Problem;
import io.metalgate.driver.api.Inventory;
import io.metalgate.gate.DiskSerials;
import io.metalgate.erase.Techniques;
import io.metalgate.evidence.AuditHashes;
import io.metalgate.evidence.AuditLog;
import io.metalgate.evidence.AuditSigner;
import io.metalgate.evidence.AuditSigningKey;
import io.metalgate.evidence.CanonicalJson;
import io.metalgate.machine.LifecycleState;
import io.metalgate.machine.MachineLifecycle;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * What an erase agent reports, and the certificate a verified report earns. The technique per disk is chosen
 * here ({@link Techniques}, under the configured policy), not by the agent. A report is accepted only when it
 * covers every disk of the machine's inventory (serials match), every disk with the technique chosen for it and a
 * read-back that passed; then the machine is ERASED, the data it held is released, and a certificate (NIST SP
 * 800-88 fields, signed with the audit key, its hash in the audit chain) is issued. Anything else — a disk not in
 * the inventory, a missing one, success claimed with a failed verification — is refused, audited, and the machine
 * goes ERASE_FAILED, never ERASED.
 */
@ApplicationScoped
public class EraseReports {

    /** One disk of a report. */
    public record DiskReport(String serialNumber, String model, Long capacityBytes, String technique, String tool, String toolVersion,
            Verification verification, Instant startedAt, Instant endedAt, String result) {
    }

    /** How the agent read the disk back: what it sampled and how many sampled blocks were not zero / not the pattern. */
    public record Verification(String method, Integer sampledBlocks, Boolean firstAndLastMiB, Boolean partitionAreas, Long mismatches,
            Boolean passed) {
    }

    public record Report(List<DiskReport> disks) {
    }

    /** What the agent is told when it reports: the machine's state after, and the certificate when one was issued. */
    public record Outcome(LifecycleState state, UUID certificateId, List<String> refusals) {
    }

    @Inject
    MetalgateConfig config;
    @Inject
    io.vertx.mutiny.sqlclient.Pool pool;
    @Inject
    BootService boot;
    @Inject
    MachineTasks tasks;
    @Inject
    Inspection inspection;
    @Inject
    AuditLog audit;
    @Inject
    AuditSigningKey key;
    @Inject
    ObjectMapper mapper;

    Techniques.Policy policy() {
        return new Techniques.Policy(Techniques.Method.valueOf(config.erase().minimumMethod().toUpperCase(java.util.Locale.ROOT)),
                config.erase().allowWeaker(), config.erase().trustDiscard());
    }

    /** The technique for one disk of the machine: refused (400) for a disk the inventory does not list. */
    public Techniques.Choice technique(Inventory inv, String serial, Techniques.DiskFacts facts) {
        if (inv.disks().stream().noneMatch(d -> DiskSerials.same(serial, d.serialNumber()))) {
            throw ApiException.badRequest("disk.serialNumber", "disk " + serial + " is not in the machine's inventory");
        }
        return Techniques.choose(facts, policy());
    }

    /**
     * Checks a report against the inventory: every reason it cannot be accepted. Serials are compared as
     * {@link DiskSerials} says (white space around them and case do not matter); an inventory with two serials that
     * compare equal cannot be shown covered.
     */
    List<String> refusals(Inventory inv, Report report) {
        List<String> out = new ArrayList<>();
        List<String> listed = new ArrayList<>();
        inv.disks().forEach(d -> listed.add(d.serialNumber()));
        Map<String, String> inventory = DiskSerials.byKey(listed.stream().filter(java.util.Objects::nonNull).toList());
        if (inventory.isEmpty()) {
            out.add("the inventory lists no disk serials: no report can be shown to cover the machine");
        }
        // a disk the BMC lists without a serial cannot be matched to any report: leaving it out would certify a machine
        // with a disk nobody showed erased (inspect it again, or retire the disk)
        inv.disks().stream().filter(d -> DiskSerials.key(d.serialNumber()).isEmpty()).forEach(d -> out.add("the inventory lists disk "
                + (d.id() == null ? "?" : d.id()) + (d.model() == null ? "" : " (" + d.model() + ")") + " without a serial number: no "
                + "report can be shown to cover it"));
        for (List<String> same : DiskSerials.ambiguous(listed.stream().filter(java.util.Objects::nonNull).toList())) {
            out.add("the inventory lists disks " + same + " whose serials differ only in case or surrounding white space: no report can "
                    + "tell them apart");
        }
        Set<String> reported = new TreeSet<>();
        for (DiskReport d : report.disks() == null ? List.<DiskReport>of() : report.disks()) {
            var key = d == null ? java.util.Optional.<String>empty() : DiskSerials.key(d.serialNumber());
            if (key.isEmpty()) {
                out.add("a disk without a serial number");
                continue;
            }
            if (!reported.add(key.get())) {
                out.add("disk " + d.serialNumber() + " reported twice");
            }
            if (!inventory.containsKey(key.get())) {
                out.add("disk " + d.serialNumber() + " is not in the machine's inventory");
            }
            if (!"SUCCESS".equals(d.result())) {
                out.add("disk " + d.serialNumber() + ": " + d.result());
            }
            if (d.verification() == null || !Boolean.TRUE.equals(d.verification().passed()) || d.verification().mismatches() == null
                    || d.verification().mismatches() != 0) {
                out.add("disk " + d.serialNumber() + ": the read-back did not pass");
            }
            Techniques.Technique t;
            try {
                t = Techniques.Technique.valueOf(String.valueOf(d.technique()));
            } catch (IllegalArgumentException e) {
                out.add("disk " + d.serialNumber() + ": unknown technique " + d.technique());
                continue;
            }
            if (t.method.compareTo(policy().minimum()) < 0 && !policy().allowWeaker()) {
                out.add("disk " + d.serialNumber() + ": " + t + " is " + t.method + ", weaker than the policy's " + policy().minimum());
            }
            if (d.startedAt() == null || d.endedAt() == null) {
                out.add("disk " + d.serialNumber() + ": no start and end");
            }
        }
        Set<String> missing = new TreeSet<>();
        inventory.forEach((k, serial) -> {
            if (!reported.contains(k)) {
                missing.add(serial);
            }
        });
        if (!missing.isEmpty()) {
            out.add("disks " + missing + " of the inventory are not in the report");
        }
        return out;
    }

    /**
     * Whether the times a report gives each disk can be true, against what the appliance saw: a disk ends no earlier
     * than it starts, starts no earlier than the agent's token was issued (the agent cannot have begun before it booted
     * with it) and ends no later than the report arrived, each bound widened by {@code skew} (the agent's clock set from
     * the appliance's, to the second). Times the agent's clock made up (an RTC hours off, a forged report) are refused
     * rather than signed into a certificate. Disks without both times are refused elsewhere.
     */
    public static List<String> timeRefusals(Report report, Instant tokenIssuedAt, Instant receivedAt, java.time.Duration skew) {
        List<String> out = new ArrayList<>();
        for (DiskReport d : report.disks() == null ? List.<DiskReport>of() : report.disks()) {
            if (d == null || d.startedAt() == null || d.endedAt() == null) {
                continue;
            }
            String disk = "disk " + d.serialNumber() + ": ";
            if (d.endedAt().isBefore(d.startedAt())) {
                out.add(disk + "ended at " + d.endedAt() + ", before it started at " + d.startedAt());
            }
            if (tokenIssuedAt != null && d.startedAt().isBefore(tokenIssuedAt.minus(skew))) {
                out.add(disk + "started at " + d.startedAt() + ", before its agent's token was issued at " + tokenIssuedAt);
            }
            if (d.endedAt().isAfter(receivedAt.plus(skew))) {
                out.add(disk + "ended at " + d.endedAt() + ", after the report was received at " + receivedAt);
            } else if (d.startedAt().isAfter(receivedAt.plus(skew))) {
                out.add(disk + "started at " + d.startedAt() + ", after the report was received at " + receivedAt);
            }
        }
        return out;
    }

    /**
     * Receives the agent's final report under the machine's lock: stores it, then either issues the certificate and
     * moves the machine to ERASED, or refuses it (ERASE_FAILED). The token is spent either way.
     */
    public Uni<Outcome> report(String token, String ip, Report report) {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        return EraseAgentResource.machineOf(pool, boot, token, ip, now).chain(machine -> inspection.stored(machine).chain(inv -> tasks.withLock(machine,
                m -> EraseAgentResource.lockedToken(boot, m, token, ip, now).chain(t -> boot.choices(m.tx(), token).map(c -> Map.entry(t, c)))
                        .chain(proofs -> {
                    if (m.state() != LifecycleState.ERASING) {
                        throw ApiException.conflict("machine " + machine + " is " + m.state() + ", not ERASING", "state");
                    }
                    List<String> refusals = new ArrayList<>(inv.isEmpty() ? List.of("the machine was never inspected: there is no inventory to cover")
                            : refusals(inv.get(), report));
                    refusals.addAll(proofRefusals(proofs.getKey(), proofs.getValue(), report));
                    refusals.addAll(timeRefusals(report, proofs.getKey().issuedAt(), now, config.erase().clockSkew()));
                    UUID reportId = UUID.randomUUID();
                    String body;
                    try {
                        body = mapper.writeValueAsString(report);
                    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                        throw new IllegalStateException(e);
                    }
                    String actor = "agent:" + machine;
                    Uni<Void> stored = m.tx().preparedQuery("INSERT INTO erase_report (id, machine_id, received_at, body, accepted, refusal) "
                            + "VALUES ($1, $2, $3, $4, $5, $6)").execute(Tuple.from(java.util.Arrays.asList(reportId, machine, now.atOffset(ZoneOffset.UTC),
                                    body, refusals.isEmpty(), refusals.isEmpty() ? null : String.join("; ", refusals))))
                            .chain(() -> boot.spend(m.tx(), token, now)).replaceWithVoid();
                    if (!refusals.isEmpty()) {
                        Map<String, Object> payload = new LinkedHashMap<>();
                        payload.put("reportId", reportId.toString());
                        payload.put("refusals", refusals);
                        return stored.chain(() -> audit.record(m.tx(), actor, "erase.report-refused", "machine:" + machine, payload))
                                .chain(() -> tasks.fire(m, MachineLifecycle.Event.ERASE_FAILED, actor, "the erase report was refused: "
                                        + String.join("; ", refusals)))
                                .map(state -> new Outcome(state, null, refusals));
                    }
                    return stored.chain(() -> certificate(m.tx(), machine, inv.get(), report, now)).chain(cert -> releaseData(m.tx(), machine, now)
                            .chain(() -> tasks.fire(m, MachineLifecycle.Event.ERASED, actor, "verified erase, certificate " + cert))
                            .map(state -> new Outcome(state, cert, List.of())));
                }))));
    }

    /**
     * What the appliance saw of this erase, not what the report says of itself: the agent showed it runs on the
     * machine's hardware ({@code /api/agent/disks}), and each disk was erased with the technique the appliance chose
     * for it ({@code /api/agent/technique}). A report made up without the agent's steps is refused.
     */
    static List<String> proofRefusals(BootService.Token token, Map<String, String> choices, Report report) {
        List<String> out = new ArrayList<>();
        if (!token.hardwareConfirmed()) {
            out.add("the agent never showed it runs on this machine's hardware (POST /api/agent/disks)");
        }
        for (DiskReport d : report.disks() == null ? List.<DiskReport>of() : report.disks()) {
            if (d == null || d.serialNumber() == null) {
                continue;
            }
            String chosen = choices.containsKey(d.serialNumber()) ? choices.get(d.serialNumber())
                    : choices.entrySet().stream().filter(c -> DiskSerials.same(c.getKey(), d.serialNumber())).map(Map.Entry::getValue).findFirst()
                            .orElse(null);
            if (chosen == null) {
                out.add("disk " + d.serialNumber() + ": no technique was chosen for it (POST /api/agent/technique)");
            } else if (!chosen.equals(d.technique())) {
                out.add("disk " + d.serialNumber() + ": erased with " + d.technique() + ", not with " + chosen + " that the appliance chose");
            }
        }
        return out;
    }

    /** The data the machine held is gone: its custody ends, it is no longer leased since its last erase. */
    private static Uni<Void> releaseData(SqlClient tx, UUID machine, Instant now) {
        return tx.preparedQuery("UPDATE machine_custody SET erased_at = $2, left_at = COALESCE(left_at, $2) WHERE machine_id = $1 AND erased_at IS NULL")
                .execute(Tuple.of(machine, now.atOffset(ZoneOffset.UTC)))
                .chain(() -> tx.preparedQuery("UPDATE machine SET data_tenant_id = NULL, data_lease_id = NULL, leased_since_erase = false, "
                        + "version = version + 1 WHERE id = $1").execute(Tuple.of(machine)))
                .replaceWithVoid();
    }

    /**
     * Issues the certificate: its body in canonical JSON (NIST SP 800-88 fields per disk; who requested and approved,
     * the decision and its audit sequence number), signed with the audit key, its hash recorded in the audit chain.
     */
    private Uni<UUID> certificate(SqlClient tx, UUID machine, Inventory inv, Report report, Instant now) {
        UUID id = UUID.randomUUID();
        return tx.preparedQuery("SELECT seq, actor, payload FROM audit_entry WHERE subject = $1 AND action = 'gate.decided' "
                + "AND payload::jsonb->>'action' = 'ERASE' AND (payload::jsonb->>'allowed')::boolean ORDER BY seq DESC LIMIT 1")
                .execute(Tuple.of("machine:" + machine)).chain(rows -> {
                    ObjectNode c = mapper.createObjectNode();
                    c.put("type", "metalgate-erase-certificate/1");
                    c.put("id", id.toString());
                    c.put("issuedAt", now.toString());
                    ObjectNode m = c.putObject("machine");
                    m.put("id", machine.toString());
                    m.put("manufacturer", inv.manufacturer());
                    m.put("model", inv.model());
                    m.put("serialNumber", inv.serialNumber());
                    ArrayNode disks = c.putArray("disks");
                    for (DiskReport d : report.disks()) {
                        Techniques.Technique t = Techniques.Technique.valueOf(d.technique());
                        ObjectNode n = disks.addObject();
                        n.put("serialNumber", d.serialNumber());
                        n.put("model", d.model());
                        if (d.capacityBytes() != null) {
                            n.put("capacityBytes", d.capacityBytes());
                        }
                        n.put("method", t.method.name()); // NIST SP 800-88 Rev. 2: clear / purge
                        n.put("technique", t.ieee2883); // IEEE 2883
                        n.put("techniqueId", t.name());
                        n.put("tool", d.tool());
                        n.put("toolVersion", d.toolVersion());
                        n.set("verification", mapper.valueToTree(d.verification()));
                        n.put("startedAt", d.startedAt().toString()); // as the agent reported them (checked: timeRefusals)
                        n.put("endedAt", d.endedAt().toString());
                        n.put("receivedAt", now.toString()); // when the appliance received the report: its own clock
                        n.put("result", d.result());
                    }
                    ObjectNode decision = c.putObject("decision");
                    if (rows.rowCount() > 0) {
                        var r = rows.iterator().next();
                        JsonNode payload;
                        try {
                            payload = mapper.readTree(r.getString("payload"));
                        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                            throw new IllegalStateException(e);
                        }
                        decision.put("auditSeq", r.getLong("seq"));
                        decision.put("decidedBy", r.getString("actor"));
                        decision.put("decidedAt", payload.path("decidedAt").asText(null));
                        decision.put("requestedBy", payload.path("facts").path("request").path("requester").asText(null));
                        ArrayNode approvers = decision.putArray("approvedBy");
                        payload.path("facts").path("approvals").forEach(a -> approvers.add(a.path("approver").asText()));
                    }
                    // one key for the name and the signature, even if a key hand-over promotes another between them
                    AuditSigner signer = key.active();
                    c.put("signingKey", signer.fingerprint());
                    String body = CanonicalJson.write(c);
                    String signature = signer.sign(body.getBytes(StandardCharsets.UTF_8));
                    String[] serials = report.disks().stream().map(DiskReport::serialNumber).toArray(String[]::new);
                    Map<String, Object> payload = new LinkedHashMap<>();
                    payload.put("certificateId", id.toString());
                    payload.put("sha256", sha256(body));
                    payload.put("disks", List.of(serials));
                    return tx.preparedQuery("INSERT INTO erase_certificate (id, machine_id, issued_at, body, signature, key_fingerprint, disk_serials) "
                            + "VALUES ($1, $2, $3, $4, $5, $6, $7)").execute(Tuple.from(java.util.Arrays.asList(id, machine,
                                    now.atOffset(ZoneOffset.UTC), body, signature, signer.fingerprint(), serials)))
                            .chain(() -> audit.record(tx, "agent:" + machine, "erase.certificate-issued", "machine:" + machine, payload))
                            .replaceWith(id);
                });
    }

    static String sha256(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A certificate as stored and as {@code certificate verify} reads it: its body (what was signed), signature, the key
     * that signed it (the key of its time, not necessarily the current one) and the fleet's key history, whose
     * hand-overs (each signed by the old and the new key) let a verifier who trusts another key of the history trust
     * this one for what it signed while it was the signing key.
     */
    public record Certificate(UUID id, UUID machineId, Instant issuedAt, JsonNode body, String signature, String keyFingerprint,
            String publicKey, List<KeyLink> keyHistory) {
    }

    /**
     * One key of the audit key history, from {@code fromSeq}; every key after the first with the hand-over entry that
     * made it the signing key (its place in the chain and both signatures over
     * {@link AuditHashes#handOverSigningInput}, from the previous key of the history to this one).
     */
    @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
    public record KeyLink(String fingerprint, String publicKey, long fromSeq, HandOverProof handOver) {
    }

    public record HandOverProof(String prevHash, String time, String handOverSignature, String acceptanceSignature) {
    }

    private static final String CERTIFICATES = "SELECT c.id, c.machine_id, c.issued_at, c.body, c.signature, c.key_fingerprint, k.public_key "
            + "FROM erase_certificate c LEFT JOIN audit_key k ON k.fingerprint = c.key_fingerprint ";

    public Uni<List<Certificate>> certificates(SqlClient db, UUID machine) {
        return keyHistory(db).chain(history -> db.preparedQuery(CERTIFICATES + "WHERE c.machine_id = $1 ORDER BY c.issued_at")
                .execute(Tuple.of(machine)).map(rows -> {
                    List<Certificate> out = new ArrayList<>();
                    rows.forEach(r -> out.add(certificate(r, history)));
                    return out;
                }));
    }

    /** One certificate of {@code machine}; 404 for an unknown one or one of another machine. */
    public Uni<Certificate> certificate(SqlClient db, UUID machine, UUID id) {
        return keyHistory(db).chain(history -> db.preparedQuery(CERTIFICATES + "WHERE c.id = $1 AND c.machine_id = $2")
                .execute(Tuple.of(id, machine)).map(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("erase certificate", id + " of machine " + machine);
                    }
                    return certificate(rows.iterator().next(), history);
                }));
    }

    private Certificate certificate(io.vertx.mutiny.sqlclient.Row r, List<KeyLink> history) {
        String fingerprint = r.getString("key_fingerprint").trim();
        // the key of the certificate's time, from the fleet's registry (the active key before the registry has it)
        String publicKey = r.getString("public_key") != null ? r.getString("public_key")
                : fingerprint.equals(key.fingerprint()) ? key.publicKeyBase64() : null;
        try {
            return new Certificate(r.getUUID("id"), r.getUUID("machine_id"), r.getOffsetDateTime("issued_at").toInstant(),
                    mapper.readTree(r.getString("body")), r.getString("signature"), fingerprint, publicKey, history);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fleet's audit keys in order, each after the first with its hand-over (registry and chain, decision 0011). */
    Uni<List<KeyLink>> keyHistory(SqlClient db) {
        return db.query("SELECT k.fingerprint, k.public_key, k.from_seq, e.prev_hash, e.time, e.payload FROM audit_key k "
                + "LEFT JOIN audit_entry e ON e.seq = k.from_seq AND e.action = 'audit.key-rotated' ORDER BY k.from_seq").execute().map(rows -> {
                    List<KeyLink> out = new ArrayList<>();
                    for (var r : rows) {
                        HandOverProof proof = null;
                        if (r.getString("payload") != null) {
                            JsonNode p;
                            try {
                                p = mapper.readTree(r.getString("payload"));
                            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                                throw new IllegalStateException(e);
                            }
                            proof = new HandOverProof(r.getString("prev_hash"), AuditHashes.formatTime(r.getOffsetDateTime("time").toInstant()),
                                    p.path("handOverSignature").asText(null), p.path("acceptanceSignature").asText(null));
                        }
                        out.add(new KeyLink(r.getString("fingerprint").trim(), r.getString("public_key"), r.getLong("from_seq"), proof));
                    }
                    return out;
                });
    }

    static ApiException refused(String why) {
        return new ApiException(Problem.of(400, "erase-report", "Erase report refused", why));
    }
}
