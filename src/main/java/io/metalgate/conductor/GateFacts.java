package io.metalgate.conductor;

import io.metalgate.common.MetalgateConfig;
import io.metalgate.common.ApiException;
import io.metalgate.gate.Facts;
import io.metalgate.gate.Policy;
import io.metalgate.lease.NoticeService;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Gathers the facts the gate decides on, for one machine, from the database; and the policy from
 * configuration. Approvals, inventory and certificates are not recorded yet, so those facts are empty
 * (the gate then refuses, naming what is missing).
 */
@ApplicationScoped
public class GateFacts {

    @Inject
    Pool pool;
    @Inject
    NoticeService notices;
    @Inject
    MetalgateConfig config;

    public Policy policy() {
        var g = config.gate();
        return new Policy(g.retention(), g.noticeLead(), g.escalationAttempts(), g.escalationChannels(), g.escalationWait(),
                g.bulkMachines(), g.bulkTenantShare(), g.bulkWindow());
    }

    public Uni<Facts> forMachine(UUID machineId, String requester) {
        return pool.preparedQuery("SELECT m.id, m.lifecycle_state, l.id AS lease_id, l.tenant_id, l.state AS lease_state, "
                + "l.terminated_at FROM machine m LEFT JOIN lease_machine lm ON lm.machine_id = m.id "
                + "LEFT JOIN lease l ON l.id = lm.lease_id WHERE m.id = $1").execute(Tuple.of(machineId))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("machine", machineId);
                    }
                    Row m = rows.iterator().next();
                    UUID leaseId = m.getUUID("lease_id");
                    UUID tenantId = m.getUUID("tenant_id");
                    Optional<Facts.LeaseFacts> lease = leaseId == null ? Optional.empty()
                            : Optional.of(new Facts.LeaseFacts(leaseId.toString(), tenantId.toString(), m.getString("lease_state"),
                                    Optional.ofNullable(m.getOffsetDateTime("terminated_at")).map(OffsetDateTime::toInstant)));
                    Facts.MachineFacts machine = new Facts.MachineFacts(machineId.toString(), m.getString("lifecycle_state"),
                            leaseId != null, Set.of(), Optional.empty());
                    Uni<List<Facts.HoldFact>> holds = pool.preparedQuery("SELECT h.id, h.kind, h.placed_at FROM hold h "
                            + "WHERE h.released_at IS NULL AND ((h.scope = 'TENANT' AND h.tenant_id = $2) "
                            + "OR (h.scope = 'LEASE' AND h.lease_id = $3) OR (h.scope = 'MACHINES' AND EXISTS "
                            + "(SELECT 1 FROM hold_machine hm WHERE hm.hold_id = h.id AND hm.machine_id = $1))) ORDER BY h.placed_at")
                            .execute(Tuple.of(machineId, tenantId, leaseId)).map(hr -> {
                                List<Facts.HoldFact> out = new ArrayList<>();
                                hr.forEach(h -> out.add(new Facts.HoldFact(h.getUUID("id").toString(), h.getString("kind"),
                                        h.getOffsetDateTime("placed_at").toInstant())));
                                return out;
                            });
                    Uni<List<Facts.NoticeFact>> noticeFacts = tenantId == null ? Uni.createFrom().item(List.of())
                            : notices.forTenant(tenantId).map(all -> all.stream()
                                    .filter(n -> n.leaseId() == null || n.leaseId().equals(leaseId))
                                    .map(n -> new Facts.NoticeFact(n.id().toString(), n.kind().name(), n.attempts().stream()
                                            .map(a -> new Facts.AttemptFact(a.channel().name(), a.at(), Facts.Outcome.valueOf(a.outcome().name())))
                                            .toList()))
                                    .toList());
                    return Uni.combine().all().unis(holds, noticeFacts).asTuple().map(t -> new Facts(machine, lease, t.getItem1(),
                            t.getItem2(), new Facts.RequestFacts(requester, false, Optional.empty(), Optional.empty()), List.of(),
                            Facts.BulkFacts.single()));
                });
    }
}
