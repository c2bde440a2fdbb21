package io.metalgate.machine;

import io.metalgate.common.ApiException;
import io.metalgate.common.ChangeSet;
import io.metalgate.common.PageView;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.MachineApi.Enrollment;
import io.metalgate.machine.MachineApi.MachineView;
import io.metalgate.machine.MachineApi.Update;
import io.metalgate.security.SecretCipher;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Enrolment and inventory of machines; every change is audited in the same transaction. */
@ApplicationScoped
public class MachineService {

    /** Filters of a machine listing; null means "any". */
    public record Filter(String name, String rack, LifecycleState state, BmcProtocol protocol, Boolean maintenance) {
    }

    @Inject
    SecretCipher cipher;
    @Inject
    AuditLog audit;

    @Inject
    io.vertx.mutiny.core.Vertx vertx;
    @Inject
    jakarta.enterprise.event.Event<Enrolled> enrolled;

    /** A machine was enrolled (fired after the commit): the conductor verifies its BMC. */
    public record Enrolled(UUID machineId) {
    }

    /** The BMC's canonical identity, resolved on a worker thread (a host name needs DNS). */
    private Uni<BmcIdentity> identity(String host) {
        return vertx.executeBlocking(Uni.createFrom().item(() -> BmcIdentity.of(host)));
    }

    /** IPMI has no system ids: an id would only make one BMC two records (its driver would ignore it). */
    private static void refuseIpmiSystemId(BmcProtocol protocol, MachineApi.BmcOptions options) {
        if (protocol == BmcProtocol.IPMI && options != null && options.systemId() != null) {
            throw ApiException.badRequest("bmc.options.systemId", "an IPMI BMC manages one system: it has no system id");
        }
    }

    public Uni<MachineView> enroll(Enrollment req, String actor) {
        refuseIpmiSystemId(req.bmc().protocol(), req.bmc().options());
        int port = req.bmc().port() != null ? req.bmc().port() : req.bmc().protocol().defaultPort();
        return identity(req.bmc().host()).chain(id -> Panache.withTransaction(() -> enroll(req, id, port, actor)))
                .invoke(v -> enrolled.fireAsync(new Enrolled(v.id())));
    }

    private Uni<MachineView> enroll(Enrollment req, BmcIdentity identity, int port, String actor) {
        Machine m = new Machine();
        m.id = UUID.randomUUID();
        m.name = req.name();
        m.rack = req.rack();
        m.location = req.location();
        m.bmcProtocol = req.bmc().protocol();
        m.bmcHost = identity.host();
        m.bmcPort = port;
        m.bmcOptions = BmcOptionsJson.write(req.bmc().options());
        m.bmcIdentity = identity(identity, req.bmc().options());
        m.bmcUsername = req.bmc().username();
        m.bmcSecret = cipher.encrypt(req.bmc().password(), m.id.toString());
        m.bmcTlsFingerprint = MachineApi.normaliseFingerprint(req.bmc().tlsFingerprint());
        m.lifecycleState = LifecycleState.ENROLLED;
        m.createdAt = now();
        m.updatedAt = m.createdAt;
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("name", m.name);
        payload.put("rack", m.rack);
        payload.put("location", m.location);
        payload.put("bmc", bmcPayload(m));
        payload.put("state", m.lifecycleState.name());
        return refuseTwin(m.bmcIdentity, null).chain(() -> m.<Machine>persist()).call(Panache::flush)
                .call(() -> audit.record(actor, "machine.enrolled", m.subject(), payload))
                .map(MachineView::of);
    }

    @WithSession
    public Uni<MachineView> get(UUID id) {
        return Machine.<Machine>findById(id).map(m -> MachineView.of(require(m, id)));
    }

    /** The machine's BMC password, decrypted, for the conductor's drivers only (never for the API). */
    @WithSession
    public Uni<String> bmcPassword(UUID id) {
        return Machine.<Machine>findById(id).map(m -> cipher.decrypt(require(m, id).bmcSecret, id.toString()));
    }

    @WithSession
    public Uni<PageView<MachineView>> list(Filter f, int page, int size) {
        List<String> where = new ArrayList<>();
        Map<String, Object> params = new HashMap<>();
        if (f.name() != null) {
            where.add("lower(name) like :name");
            params.put("name", "%" + f.name().toLowerCase(java.util.Locale.ROOT).replace("%", "\\%").replace("_", "\\_") + "%");
        }
        if (f.rack() != null) {
            where.add("rack = :rack");
            params.put("rack", f.rack());
        }
        if (f.state() != null) {
            where.add("lifecycleState = :state");
            params.put("state", f.state());
        }
        if (f.protocol() != null) {
            where.add("bmcProtocol = :protocol");
            params.put("protocol", f.protocol());
        }
        if (f.maintenance() != null) {
            where.add("maintenance = :maintenance");
            params.put("maintenance", f.maintenance());
        }
        String query = String.join(" and ", where);
        return PageView.fetch(Machine.<Machine>find(query, Sort.by("name"), params), page, size,
                items -> Uni.createFrom().item(items.stream().map(MachineView::of).toList()));
    }

    public Uni<MachineView> update(UUID id, Update req, String actor) {
        Uni<MachineView> updated = req.bmc() == null || req.bmc().host() == null ? Panache.withTransaction(() -> update(id, req, null, actor))
                // a changed BMC address may be a new identity: resolve it, then check it names no other machine's BMC
                : identity(req.bmc().host()).chain(identity -> Panache.withTransaction(() -> update(id, req, identity, actor)));
        // a machine whose BMC changed is ENROLLED again: once committed, the conductor verifies it
        return updated.invoke(v -> {
            if (req.bmc() != null && v.state() == LifecycleState.ENROLLED) {
                enrolled.fireAsync(new Enrolled(v.id()));
            }
        });
    }

    /** The identity after an update: the new address (or the stored one) with the new system id (or the stored one). */
    private static String newIdentity(Machine m, BmcIdentity address, MachineApi.BmcOptions options) {
        String base = address != null ? address.identity() : m.bmcIdentity.replaceFirst("#system=.*$", "");
        String systemId = options != null ? options.systemId() : BmcOptionsJson.read(m.bmcOptions).systemId();
        return systemId == null ? base : base + "#system=" + systemId;
    }

    private Uni<MachineView> update(UUID id, Update req, BmcIdentity identity, String actor) {
        MachineApi.BmcOptions options = req.bmc() == null ? null : req.bmc().options();
        boolean toIpmi = req.bmc() != null && req.bmc().protocol() == BmcProtocol.IPMI;
        if ((options == null || options.systemId() == null) && !toIpmi) {
            return updateChecked(id, req, identity, actor);
        }
        // the protocol and options after the update: those asked for, or the stored ones
        return Machine.<Machine>findById(id).invoke(m -> {
            if (m != null) {
                refuseIpmiSystemId(toIpmi ? BmcProtocol.IPMI : m.bmcProtocol, options != null ? options : BmcOptionsJson.read(m.bmcOptions));
            }
        }).chain(ignored -> updateChecked(id, req, identity, actor));
    }

    private Uni<MachineView> updateChecked(UUID id, Update req, BmcIdentity identity, String actor) {
        MachineApi.BmcOptions options = req.bmc() == null ? null : req.bmc().options();
        // the twin check before the entity changes (a query would flush the change first)
        Uni<Machine> before = identity == null && options == null ? Uni.createFrom().nullItem() : Machine.<Machine>findById(id);
        return before.chain(m0 -> m0 == null ? Uni.createFrom().voidItem() : refuseTwin(newIdentity(m0, identity, options), id))
                .chain(() -> Machine.<Machine>findById(id)).chain(found -> {
            Machine m = require(found, id);
            ChangeSet changes = new ChangeSet();
            m.name = changes.apply("name", m.name, req.name());
            m.rack = changes.apply("rack", m.rack, req.rack());
            m.location = changes.apply("location", m.location, req.location());
            if (req.bmc() != null) {
                var b = req.bmc();
                m.bmcHost = changes.apply("bmc.host", m.bmcHost, identity == null ? null : identity.host());
                // another protocol without a port moves to that protocol's default port, if the old one was its default
                Integer port = b.port() != null ? b.port() : b.protocol() != null && m.bmcPort == m.bmcProtocol.defaultPort()
                        ? b.protocol().defaultPort() : null;
                m.bmcPort = changes.apply("bmc.port", m.bmcPort, port);
                m.bmcProtocol = changes.apply("bmc.protocol", m.bmcProtocol, b.protocol());
                String newIdentity = identity != null || b.options() != null ? newIdentity(m, identity, b.options()) : m.bmcIdentity;
                if (!newIdentity.equals(m.bmcIdentity)) {
                    if (m.dataTenantId != null) {
                        throw ApiException.conflict("machine " + id + " holds the data of tenant " + m.dataTenantId
                                + "; its BMC address or system cannot be changed (that would make another server this machine)",
                                identity != null ? "bmc.host" : "bmc.options.systemId");
                    }
                    changes.apply("bmc.identity", m.bmcIdentity, newIdentity);
                    m.bmcIdentity = newIdentity;
                }
                if (b.options() != null) {
                    m.bmcOptions = changes.set("bmc.options", m.bmcOptions, BmcOptionsJson.write(b.options()));
                }
                m.bmcUsername = changes.apply("bmc.username", m.bmcUsername, b.username());
                m.bmcTlsFingerprint = changes.apply("bmc.tlsFingerprint", m.bmcTlsFingerprint,
                        MachineApi.normaliseFingerprint(b.tlsFingerprint()));
                if (b.password() != null) {
                    m.bmcSecret = cipher.encrypt(b.password(), m.id.toString());
                    changes.changedSecret("bmc.password"); // the fact, never the value
                }
            }
            // the BMC a verified machine is driven through changed: verified again (ENROLLED, then the conductor verifies)
            boolean retarget = changes.changed("bmc.host") || changes.changed("bmc.port") || changes.changed("bmc.protocol")
                    || changes.changed("bmc.options") || changes.changed("bmc.identity");
            Uni<Void> reverify = Uni.createFrom().voidItem();
            boolean verifyAfter = false;
            if (retarget && m.lifecycleState != LifecycleState.ENROLLED) {
                var row = MachineLifecycle.TABLE.find(m.lifecycleState, MachineLifecycle.Event.BMC_CHANGED);
                if (row.isEmpty()) {
                    java.util.List<LifecycleState> changeable = new java.util.ArrayList<>(java.util.List.of(LifecycleState.ENROLLED));
                    for (LifecycleState s : LifecycleState.values()) {
                        if (MachineLifecycle.TABLE.find(s, MachineLifecycle.Event.BMC_CHANGED).isPresent()) {
                            changeable.add(s);
                        }
                    }
                    throw ApiException.conflict("machine " + id + " is " + m.lifecycleState + "; its BMC (address, port, protocol, system) "
                            + "changes only in " + changeable + ", and is verified again"
                            + (m.lifecycleState == LifecycleState.ERASED ? " (an erased machine is reassigned first: its certificate "
                                    + "and holds are checked)" : ""), "bmc");
                }
                LifecycleState from = m.lifecycleState;
                m.lifecycleState = row.get().to();
                changes.apply("state", from.name(), m.lifecycleState.name());
                verifyAfter = true;
                reverify = io.metalgate.common.StateTransitionLog.record(io.metalgate.common.StateTransitionLog.SubjectType.MACHINE, m.id, from.name(),
                        MachineLifecycle.Event.BMC_CHANGED.name(), m.lifecycleState.name(), actor, "its BMC changed: verified again", now());
            }
            Uni<Void> logged = reverify;
            m.maintenance = changes.apply("maintenance", m.maintenance, req.maintenance());
            m.maintenanceReason = changes.apply("maintenanceReason", m.maintenanceReason, req.maintenanceReason());
            if (changes.isEmpty()) {
                return Uni.createFrom().item(MachineView.of(m));
            }
            m.updatedAt = now();
            return Panache.flush().call(() -> logged)
                    .call(() -> audit.record(actor, "machine.updated", m.subject(), changes.asPayload()))
                    .map(v -> MachineView.of(m));
        });
    }

    /**
     * Deletes a machine record that never held a tenant's data. A machine that did (or does), is in a lease,
     * or is covered by a hold is evidence: its record stays (RETIRE it instead); the refusal is audited.
     */
    public Uni<Void> delete(UUID id, String actor) {
        return Panache.withTransaction(() -> deleteStep(id, actor)).onFailure(ApiException.class).call(e -> {
            ApiException refused = (ApiException) e;
            if (!refused.problem().type().endsWith("machine-holds-data")) {
                return Uni.createFrom().voidItem();
            }
            return audit.append(actor, "machine.delete-refused", "machine:" + id, Map.of("refusal", refused.problem().detail()));
        });
    }

    private Uni<Void> deleteStep(UUID id, String actor) {
        return Panache.getSession().chain(s -> s.createNativeQuery("SELECT (SELECT count(*) FROM machine_custody c WHERE c.machine_id = m.id AND NOT c.never_started) "
                + "+ (SELECT count(*) FROM lease_machine lm WHERE lm.machine_id = m.id) "
                + "+ (SELECT count(*) FROM hold_machine hm WHERE hm.machine_id = m.id) "
                + "+ (CASE WHEN m.data_tenant_id IS NULL THEN 0 ELSE 1 END) FROM machine m WHERE m.id = :id FOR UPDATE", Long.class)
                .setParameter("id", id).getResultList()).chain(counts -> {
                    if (counts.isEmpty()) {
                        throw ApiException.notFound("machine", id);
                    }
                    if (counts.get(0) > 0) {
                        throw new ApiException(io.metalgate.common.Problem.of(409, "machine-holds-data", "Machine is evidence", "machine " + id
                                + " has held a tenant's data, is in a lease or is named by a hold; its record is kept (retire it instead)"));
                    }
                    // a custody record of a lease that never started says the machine never held its data (the audit keeps it)
                    return Panache.getSession().chain(s -> s.createNativeQuery("DELETE FROM machine_custody WHERE machine_id = :id "
                            + "AND never_started").setParameter("id", id).executeUpdate()).chain(() -> Machine.<Machine>findById(id));
                }).chain(found -> {
            Machine m = require(found, id);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("name", m.name);
            payload.put("bmc", bmcPayload(m));
            payload.put("state", m.lifecycleState.name());
            return m.delete().call(Panache::flush).call(() -> audit.record(actor, "machine.deleted", m.subject(), payload));
        });
    }

    /**
     * One BMC is one machine — unless it manages several systems (blades): then each system is one machine,
     * its identity the BMC's and the system id.
     */
    static String identity(BmcIdentity bmc, MachineApi.BmcOptions options) {
        return options == null || options.systemId() == null ? bmc.identity() : bmc.identity() + "#system=" + options.systemId();
    }

    /**
     * 409 when {@code identity} is already another machine's BMC — or the same system by another spelling: a BMC
     * enrolled without a system id manages one system only (the driver refuses a BMC of several without it), so a
     * record naming a system of that BMC and one naming none are one server, whatever the BMC tells (no UUID needed).
     */
    private static Uni<Void> refuseTwin(String identity, UUID self) {
        int cut = identity.indexOf("#system=");
        String base = cut < 0 ? identity : identity.substring(0, cut);
        // two enrolments of one BMC's spellings at once would each miss the other (they differ as strings, so no unique
        // index stops them): the BMC's address is locked for the rest of the transaction
        Uni<Object> locked = Panache.getSession().chain(s -> s.createNativeQuery("SELECT count(*) FROM (SELECT "
                + "pg_advisory_xact_lock(hashtext(:k))) AS l", Object.class).setParameter("k", "bmc:" + base).getSingleResult());
        Uni<Machine> found = cut < 0
                ? Machine.<Machine>find("(bmcIdentity = ?1 or locate(?2, bmcIdentity) = 1) and id <> ?3", identity, base + "#system=",
                        self == null ? new UUID(0, 0) : self).firstResult()
                : Machine.<Machine>find("(bmcIdentity = ?1 or bmcIdentity = ?2) and id <> ?3", identity, base,
                        self == null ? new UUID(0, 0) : self).firstResult();
        return locked.chain(() -> found).invoke(other -> {
            if (other != null && !other.id.equals(self)) {
                throw new ApiException(io.metalgate.common.Problem.of(409, "conflict", "Conflict", "this BMC (" + identity
                        + ") is already machine " + other.id + " (" + other.name + "); one BMC is one machine")
                        .withErrors(java.util.List.of(new io.metalgate.common.Problem.FieldError("bmc.host", "already enrolled as " + other.id))));
            }
        }).replaceWithVoid();
    }

    static Machine require(Machine m, UUID id) {
        if (m == null) {
            throw ApiException.notFound("machine", id);
        }
        return m;
    }

    private static Map<String, Object> bmcPayload(Machine m) {
        Map<String, Object> bmc = new LinkedHashMap<>();
        bmc.put("protocol", m.bmcProtocol.name());
        bmc.put("host", m.bmcHost);
        bmc.put("port", m.bmcPort);
        bmc.put("username", m.bmcUsername);
        bmc.put("tlsFingerprint", m.bmcTlsFingerprint);
        if (m.bmcOptions != null) {
            bmc.put("options", m.bmcOptions);
        }
        return bmc;
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
