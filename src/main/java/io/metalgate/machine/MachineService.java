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

    @WithTransaction
    public Uni<MachineView> enroll(Enrollment req, String actor) {
        Machine m = new Machine();
        m.id = UUID.randomUUID();
        m.name = req.name();
        m.rack = req.rack();
        m.location = req.location();
        m.bmcProtocol = req.bmc().protocol();
        m.bmcHost = req.bmc().host().toLowerCase(java.util.Locale.ROOT);
        m.bmcPort = req.bmc().port() != null ? req.bmc().port() : req.bmc().protocol().defaultPort();
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
        return m.<Machine>persist().call(Panache::flush)
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

    @WithTransaction
    public Uni<MachineView> update(UUID id, Update req, String actor) {
        return Machine.<Machine>findById(id).chain(found -> {
            Machine m = require(found, id);
            ChangeSet changes = new ChangeSet();
            m.name = changes.apply("name", m.name, req.name());
            m.rack = changes.apply("rack", m.rack, req.rack());
            m.location = changes.apply("location", m.location, req.location());
            if (req.bmc() != null) {
                var b = req.bmc();
                m.bmcProtocol = changes.apply("bmc.protocol", m.bmcProtocol, b.protocol());
                m.bmcHost = changes.apply("bmc.host", m.bmcHost, b.host() == null ? null : b.host().toLowerCase(java.util.Locale.ROOT));
                m.bmcPort = changes.apply("bmc.port", m.bmcPort, b.port());
                m.bmcUsername = changes.apply("bmc.username", m.bmcUsername, b.username());
                m.bmcTlsFingerprint = changes.apply("bmc.tlsFingerprint", m.bmcTlsFingerprint,
                        MachineApi.normaliseFingerprint(b.tlsFingerprint()));
                if (b.password() != null) {
                    m.bmcSecret = cipher.encrypt(b.password(), m.id.toString());
                    changes.changedSecret("bmc.password"); // the fact, never the value
                }
            }
            m.maintenance = changes.apply("maintenance", m.maintenance, req.maintenance());
            m.maintenanceReason = changes.apply("maintenanceReason", m.maintenanceReason, req.maintenanceReason());
            if (changes.isEmpty()) {
                return Uni.createFrom().item(MachineView.of(m));
            }
            m.updatedAt = now();
            return Panache.flush()
                    .call(() -> audit.record(actor, "machine.updated", m.subject(), changes.asPayload()))
                    .map(v -> MachineView.of(m));
        });
    }

    @WithTransaction
    public Uni<Void> delete(UUID id, String actor) {
        return Machine.<Machine>findById(id).chain(found -> {
            Machine m = require(found, id);
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("name", m.name);
            payload.put("bmc", bmcPayload(m));
            payload.put("state", m.lifecycleState.name());
            return m.delete().call(Panache::flush).call(() -> audit.record(actor, "machine.deleted", m.subject(), payload));
        });
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
        return bmc;
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
