package io.metalgate.lease;

import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.Machine;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Placing and releasing holds; both audited in their transaction. */
@ApplicationScoped
public class HoldService {

    public record HoldRequest(Hold.Kind kind, UUID tenantId, UUID leaseId, List<UUID> machineIds, String reason) {
    }

    public record HoldView(UUID id, Hold.Kind kind, Hold.Scope scope, UUID tenantId, UUID leaseId, List<UUID> machineIds,
            String reason, String placedBy, Instant placedAt, boolean active, String releaseRequestedBy, String releaseReason,
            String releasedBy, Instant releasedAt) {
    }

    @Inject
    AuditLog audit;

    /** Places a hold at once: no approval, fail safe. */
    @WithTransaction
    public Uni<HoldView> place(HoldRequest req, String actor) {
        List<UUID> machineIds = req.machineIds() == null ? List.of() : List.copyOf(new LinkedHashSet<>(req.machineIds()));
        return Tenant.<Tenant>findById(req.tenantId()).chain(tenant -> {
            if (tenant == null) {
                throw ApiException.badRequest("tenantId", "no tenant " + req.tenantId());
            }
            Uni<Void> check = Uni.createFrom().voidItem();
            if (req.leaseId() != null) {
                check = Lease.<Lease>findById(req.leaseId()).invoke(l -> {
                    if (l == null || !l.tenantId.equals(req.tenantId())) {
                        throw ApiException.badRequest("leaseId", "no lease " + req.leaseId() + " of this tenant");
                    }
                }).replaceWithVoid();
            }
            if (!machineIds.isEmpty()) {
                check = check.chain(() -> Machine.count("id in ?1", machineIds).invoke(n -> {
                    if (n != machineIds.size()) {
                        throw ApiException.badRequest("machineIds", "some machines do not exist");
                    }
                }).replaceWithVoid());
            }
            return check;
        }).chain(() -> {
            Hold h = new Hold();
            h.id = UUID.randomUUID();
            h.kind = req.kind();
            h.scope = !machineIds.isEmpty() ? Hold.Scope.MACHINES : req.leaseId() != null ? Hold.Scope.LEASE : Hold.Scope.TENANT;
            h.tenantId = req.tenantId();
            h.leaseId = h.scope == Hold.Scope.LEASE ? req.leaseId() : null;
            h.reason = req.reason();
            h.placedBy = actor;
            h.placedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("kind", h.kind.name());
            payload.put("scope", h.scope.name());
            payload.put("tenantId", h.tenantId.toString());
            payload.put("leaseId", h.leaseId == null ? null : h.leaseId.toString());
            payload.put("machineIds", machineIds.stream().map(UUID::toString).toList());
            payload.put("reason", h.reason);
            // the covered machines' locks first: a decision under way on one of them finishes before the hold
            // exists, and every decision after it sees the hold (conductor.MachineTasks)
            return lockCovered(h, machineIds).chain(() -> h.<Hold>persist()).call(Panache::flush)
                    .call(() -> Panache.getSession().chain(s -> {
                        Uni<Integer> links = Uni.createFrom().item(0);
                        for (UUID m : machineIds) {
                            links = links.chain(() -> s.createNativeQuery("INSERT INTO hold_machine (hold_id, machine_id) VALUES (:h, :m)")
                                    .setParameter("h", h.id).setParameter("m", m).executeUpdate());
                        }
                        return links;
                    }))
                    .call(() -> audit.record(actor, "hold.placed", "tenant:" + h.tenantId, withHold(h, payload)))
                    .map(x -> view(h, machineIds));
        });
    }

    /** Locks, in id order, every machine the hold covers: by the data they hold (tenant, lease) or by id. */
    private static Uni<Void> lockCovered(Hold h, List<UUID> machineIds) {
        return Panache.getSession().chain(s -> switch (h.scope) {
            case TENANT -> s.createNativeQuery("SELECT id FROM machine WHERE data_tenant_id = :t ORDER BY id FOR UPDATE", Object.class)
                    .setParameter("t", h.tenantId).getResultList();
            case LEASE -> s.createNativeQuery("SELECT id FROM machine WHERE data_lease_id = :l ORDER BY id FOR UPDATE", Object.class)
                    .setParameter("l", h.leaseId).getResultList();
            case MACHINES -> s.createNativeQuery("SELECT id FROM machine WHERE id IN (:ids) ORDER BY id FOR UPDATE", Object.class)
                    .setParameter("ids", machineIds).getResultList();
        }).replaceWithVoid();
    }

    /**
     * Release: the first person asks (with a reason), a second, different person confirms; one of the
     * two must hold the legal role. Each step is audited.
     */
    /** {@link #releaseStep}; a refused attempt (two-person rule) is audited before it is answered. */
    public Uni<HoldView> release(UUID id, String reason, String actor, boolean actorIsLegal) {
        return releaseStep(id, reason, actor, actorIsLegal).onFailure(ApiException.class).call(e -> {
            ApiException refused = (ApiException) e;
            if (!refused.problem().type().endsWith("two-person-rule")) {
                return Uni.createFrom().voidItem();
            }
            return Hold.<Hold>findById(id).chain(h -> audit.append(actor, "hold.release-refused", "tenant:" + h.tenantId,
                    Map.of("holdId", id.toString(), "reason", reason, "refusal", refused.problem().detail())));
        });
    }

    @WithTransaction
    Uni<HoldView> releaseStep(UUID id, String reason, String actor, boolean actorIsLegal) {
        return Hold.<Hold>findById(id).chain(found -> {
            if (found == null) {
                throw ApiException.notFound("hold", id);
            }
            Hold h = found;
            if (h.releasedAt != null) {
                throw ApiException.conflict("hold " + id + " was released " + h.releasedAt + " by " + h.releaseRequestedBy + " and "
                        + h.releasedBy, "id");
            }
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("holdId", h.id.toString());
            payload.put("reason", reason);
            String action;
            if (h.releaseRequestedBy == null) {
                h.releaseRequestedBy = actor;
                h.releaseRequestedAt = now;
                h.releaseReason = reason;
                h.releaseRequesterLegal = actorIsLegal;
                action = "hold.release-requested";
            } else {
                if (h.releaseRequestedBy.equals(actor)) {
                    throw refusal("the release was asked by " + actor + "; a second, different person must confirm it");
                }
                if (!actorIsLegal && !Boolean.TRUE.equals(h.releaseRequesterLegal)) {
                    throw refusal("one of the two people releasing a hold must hold the legal role; neither "
                            + h.releaseRequestedBy + " nor " + actor + " does");
                }
                h.releasedBy = actor;
                h.releasedAt = now;
                payload.put("requestedBy", h.releaseRequestedBy);
                action = "hold.released";
            }
            return Panache.flush().call(() -> audit.record(actor, action, "tenant:" + h.tenantId, payload))
                    .chain(v -> machines(List.of(h))).map(m -> view(h, m.getOrDefault(h.id, List.of())));
        });
    }

    @WithSession
    public Uni<List<HoldView>> list(UUID tenantId, Boolean active) {
        List<String> where = new ArrayList<>();
        Map<String, Object> params = new HashMap<>();
        if (tenantId != null) {
            where.add("tenantId = :tenant");
            params.put("tenant", tenantId);
        }
        if (active != null) {
            where.add(active ? "releasedAt is null" : "releasedAt is not null");
        }
        return Hold.<Hold>find(String.join(" and ", where), Sort.by("placedAt"), params).list()
                .chain(holds -> machines(holds).map(m -> holds.stream().map(h -> view(h, m.getOrDefault(h.id, List.of()))).toList()));
    }

    @WithSession
    public Uni<HoldView> get(UUID id) {
        return Hold.<Hold>findById(id).chain(h -> {
            if (h == null) {
                throw ApiException.notFound("hold", id);
            }
            return machines(List.of(h)).map(m -> view(h, m.getOrDefault(h.id, List.of())));
        });
    }

    private static Uni<Map<UUID, List<UUID>>> machines(List<Hold> holds) {
        List<UUID> ids = holds.stream().filter(h -> h.scope == Hold.Scope.MACHINES).map(h -> h.id).toList();
        if (ids.isEmpty()) {
            return Uni.createFrom().item(Map.of());
        }
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT hold_id, machine_id FROM hold_machine WHERE hold_id IN (:ids)",
                Object[].class).setParameter("ids", ids).getResultList()).map(rows -> {
                    Map<UUID, List<UUID>> out = new HashMap<>();
                    for (Object[] r : rows) {
                        out.computeIfAbsent((UUID) r[0], k -> new ArrayList<>()).add((UUID) r[1]);
                    }
                    return out;
                });
    }

    private static Map<String, Object> withHold(Hold h, Map<String, Object> payload) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("holdId", h.id.toString());
        p.putAll(payload);
        return p;
    }

    private static ApiException refusal(String detail) {
        return new ApiException(Problem.of(409, "two-person-rule", "Two people needed", detail));
    }

    private static HoldView view(Hold h, List<UUID> machineIds) {
        return new HoldView(h.id, h.kind, h.scope, h.tenantId, h.leaseId, machineIds, h.reason, h.placedBy, h.placedAt,
                h.releasedAt == null, h.releaseRequestedBy, h.releaseReason, h.releasedBy, h.releasedAt);
    }
}
