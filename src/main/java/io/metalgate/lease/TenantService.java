package io.metalgate.lease;

import io.metalgate.common.ApiException;
import io.metalgate.common.ChangeSet;
import io.metalgate.common.PageView;
import io.metalgate.evidence.AuditLog;
import io.metalgate.lease.LeaseApi.TenantCreate;
import io.metalgate.lease.LeaseApi.TenantUpdate;
import io.metalgate.lease.LeaseApi.TenantView;
import io.quarkus.hibernate.reactive.panache.Panache;
import io.quarkus.hibernate.reactive.panache.common.WithSession;
import io.quarkus.hibernate.reactive.panache.common.WithTransaction;
import io.quarkus.panache.common.Sort;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** Tenants; every change audited in its transaction. */
@ApplicationScoped
public class TenantService {

    @Inject
    AuditLog audit;

    @WithTransaction
    public Uni<TenantView> create(TenantCreate req, String actor) {
        Tenant t = new Tenant();
        t.id = UUID.randomUUID();
        t.name = req.name();
        t.externalRef = req.externalRef();
        t.contactEmail = req.contactEmail();
        t.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        t.updatedAt = t.createdAt;
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("name", t.name);
        payload.put("externalRef", t.externalRef);
        payload.put("contactEmail", t.contactEmail);
        return t.<Tenant>persist().call(Panache::flush)
                .call(() -> audit.record(actor, "tenant.created", t.subject(), payload))
                .map(TenantView::of);
    }

    @WithSession
    public Uni<TenantView> get(UUID id) {
        return Tenant.<Tenant>findById(id).map(t -> TenantView.of(require(t, id)));
    }

    @WithSession
    public Uni<PageView<TenantView>> list(String name, int page, int size) {
        var q = name == null ? Tenant.<Tenant>findAll(Sort.by("name"))
                : Tenant.<Tenant>find("lower(name) like ?1", Sort.by("name"), "%" + name.toLowerCase(java.util.Locale.ROOT) + "%");
        return PageView.fetch(q, page, size, items -> Uni.createFrom().item(items.stream().map(TenantView::of).toList()));
    }

    @WithTransaction
    public Uni<TenantView> update(UUID id, TenantUpdate req, String actor) {
        return Tenant.<Tenant>findById(id).chain(found -> {
            Tenant t = require(found, id);
            ChangeSet changes = new ChangeSet();
            t.name = changes.apply("name", t.name, req.name());
            t.externalRef = changes.apply("externalRef", t.externalRef, req.externalRef());
            t.contactEmail = changes.apply("contactEmail", t.contactEmail, req.contactEmail());
            if (changes.isEmpty()) {
                return Uni.createFrom().item(TenantView.of(t));
            }
            t.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            return Panache.flush().call(() -> audit.record(actor, "tenant.updated", t.subject(), changes.asPayload()))
                    .map(v -> TenantView.of(t));
        });
    }

    @WithTransaction
    public Uni<Void> delete(UUID id, String actor) {
        return Tenant.<Tenant>findById(id).chain(found -> {
            Tenant t = require(found, id);
            return t.delete().call(Panache::flush)
                    .call(() -> audit.record(actor, "tenant.deleted", t.subject(), Map.of("name", t.name)));
        });
    }

    static Tenant require(Tenant t, UUID id) {
        if (t == null) {
            throw ApiException.notFound("tenant", id);
        }
        return t;
    }
}
