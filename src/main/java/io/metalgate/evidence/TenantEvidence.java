package io.metalgate.evidence;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A tenant's evidence report: every audit entry about the tenant, its leases (and the events billing
 * sent for them) and the machines in them — notices and attempts, holds, lease transitions, gate
 * decisions with their facts, approvals, machine transitions — in chain order, each with its sequence
 * number, so any line can be checked against a verified export.
 */
@ApplicationScoped
public class TenantEvidence {

    public record Item(long seq, String time, String actor, String action, String subject, JsonNode payload, String hash) {
    }

    public record Report(UUID tenantId, String tenantName, Instant generatedAt, long chainHeadSeq, String chainHeadHash,
            String signingKeyFingerprint, List<Item> items) {
    }

    @Inject
    Pool pool;
    @Inject
    ObjectMapper mapper;
    @Inject
    AuditSigningKey key;

    public Uni<Report> report(UUID tenantId) {
        return pool.preparedQuery("SELECT name FROM tenant WHERE id = $1").execute(Tuple.of(tenantId)).chain(t -> {
            if (t.rowCount() == 0) {
                throw ApiException.notFound("tenant", tenantId);
            }
            String name = t.iterator().next().getString("name");
            // the tenant, its leases (also one deleted while PENDING: the audit's lease.created names its tenant)
            return pool.preparedQuery("SELECT 'tenant:' || $2 UNION SELECT 'lease:' || l.id FROM lease l WHERE l.tenant_id = $1 "
                    + "UNION SELECT 'lease-ref:' || l.external_ref FROM lease l WHERE l.tenant_id = $1 "
                    + "UNION SELECT a.subject FROM audit_entry a WHERE a.action = 'lease.created' AND a.payload::jsonb ->> 'tenantId' = $2")
                    .execute(Tuple.of(tenantId, tenantId.toString())).chain(subjects -> {
                        List<String> list = new ArrayList<>();
                        subjects.forEach(r -> list.add(r.getString(0)));
                        // and the machines, while they held its data (custody) or a hold of its named them: the report
                        // follows the data, and shows nothing of a machine from before or after this tenant had it
                        return pool.preparedQuery("SELECT seq, time, actor, action, subject, payload, hash FROM audit_entry "
                                + "WHERE subject = ANY($1) "
                                + "UNION SELECT a.seq, a.time, a.actor, a.action, a.subject, a.payload, a.hash FROM machine_custody c "
                                + "JOIN audit_entry a ON a.subject = 'machine:' || c.machine_id AND a.time >= c.since "
                                + "AND (c.erased_at IS NULL OR a.time <= c.erased_at) WHERE c.tenant_id = $2 "
                                + "UNION SELECT a.seq, a.time, a.actor, a.action, a.subject, a.payload, a.hash FROM hold h "
                                + "JOIN hold_machine hm ON hm.hold_id = h.id JOIN audit_entry a ON a.subject = 'machine:' || hm.machine_id "
                                + "AND a.time >= h.placed_at WHERE h.tenant_id = $2 ORDER BY seq")
                                .execute(Tuple.of(list.toArray(new String[0]), tenantId));
                    }).chain(rows -> pool.query("SELECT seq, hash FROM audit_head WHERE id = 1").execute().map(head -> {
                        Row h = head.iterator().next();
                        List<Item> items = new ArrayList<>();
                        for (Row r : rows) {
                            items.add(new Item(r.getLong("seq"), AuditHashes.formatTime(r.getOffsetDateTime("time").toInstant()),
                                    r.getString("actor"), r.getString("action"), r.getString("subject"), json(r.getString("payload")),
                                    r.getString("hash")));
                        }
                        return new Report(tenantId, name, Instant.now(), h.getLong("seq"), h.getString("hash"), key.fingerprint(), items);
                    }));
        });
    }

    /** The same report as a printable HTML page (no scripts, no external resources). */
    public static String html(Report r) {
        StringBuilder sb = new StringBuilder(4096 + r.items().size() * 300);
        sb.append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Evidence report: ").append(esc(r.tenantName()))
                .append("</title><style>body{font:12px sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
                        + "td,th{border:1px solid #999;padding:3px 5px;vertical-align:top;text-align:left}"
                        + "code{font-size:11px;word-break:break-all}@media print{a{color:black}}</style></head><body>")
                .append("<h1>Evidence report: ").append(esc(r.tenantName())).append("</h1><p>Tenant ").append(r.tenantId())
                .append(". Generated ").append(r.generatedAt()).append(". Audit chain head: seq ").append(r.chainHeadSeq())
                .append(", hash <code>").append(r.chainHeadHash()).append("</code>. Signing key SHA-256 <code>")
                .append(r.signingKeyFingerprint()).append("</code>. Verify any line against an export with "
                        + "<code>metalgate audit verify FILE</code>.</p><table><thead><tr><th>Seq</th><th>Time (UTC)</th><th>Actor</th>"
                        + "<th>Action</th><th>Subject</th><th>Details</th></tr></thead><tbody>");
        for (Item i : r.items()) {
            sb.append("<tr><td>").append(i.seq()).append("</td><td>").append(esc(i.time())).append("</td><td>").append(esc(i.actor()))
                    .append("</td><td>").append(esc(i.action())).append("</td><td>").append(esc(i.subject())).append("</td><td><code>")
                    .append(esc(CanonicalJson.write(i.payload()))).append("</code></td></tr>");
        }
        return sb.append("</tbody></table></body></html>").toString();
    }

    private JsonNode json(String s) {
        try {
            return mapper.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException("stored payload is not JSON", e);
        }
    }

    private static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
