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
    public Uni<TenantView> create(TenantCreate req, String actor, boolean recordOfContact) {
        Tenant t = new Tenant();
        t.id = UUID.randomUUID();
        t.name = req.name();
        t.externalRef = req.externalRef();
        if (recordOfContact || req.contactEmail() == null) {
            t.contactEmail = req.contactEmail();
        } else {
            // an operator onboarding a tenant with a mailbox of their own would receive its notices and links
            t.contactEmailProposed = req.contactEmail();
            t.contactEmailProposedBy = io.metalgate.security.Actors.person(actor);
            t.contactEmailProposedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        }
        t.createdAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
        t.updatedAt = t.createdAt;
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("name", t.name);
        payload.put("externalRef", t.externalRef);
        payload.put("contactEmail", t.contactEmail);
        payload.put("proposedContactEmail", t.contactEmailProposed);
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
            if (req.contactEmail() != null && !req.contactEmail().equals(t.contactEmail)) {
                // where notices (and the tenant's link) go is a proposal until a second person confirms it
                t.contactEmailProposed = changes.apply("contactEmailProposed", t.contactEmailProposed, req.contactEmail());
                if (changes.changed("contactEmailProposed")) {
                    t.contactEmailProposedBy = io.metalgate.security.Actors.person(actor);
                    t.contactEmailProposedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
                }
            }
            if (changes.isEmpty()) {
                return Uni.createFrom().item(TenantView.of(t));
            }
            t.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            return Panache.flush().call(() -> audit.record(actor, "tenant.updated", t.subject(), changes.asPayload()))
                    .map(v -> TenantView.of(t));
        });
    }

    /** A second, different person puts the proposed contact address in force; audited with both addresses. */
    @WithTransaction
    public Uni<TenantView> confirmContact(UUID id, String expected, String reason, String person) {
        return Tenant.<Tenant>findById(id).chain(found -> {
            Tenant t = require(found, id);
            if (t.contactEmailProposed == null) {
                throw ApiException.conflict("no change of tenant " + id + "'s contact address waits for a confirmation", "id");
            }
            if (!t.contactEmailProposed.equals(expected)) {
                throw ApiException.conflict("the proposed contact address is " + t.contactEmailProposed + " (by " + t.contactEmailProposedBy
                        + "), not " + expected + ": it changed since you read it", "contactEmail");
            }
            if (t.contactEmailProposedBy.equals(person)) {
                throw ApiException.conflict(person + " proposed this contact address; a second, different person confirms it", "id");
            }
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("from", t.contactEmail);
            payload.put("to", t.contactEmailProposed);
            payload.put("proposedBy", t.contactEmailProposedBy);
            payload.put("proposedAt", t.contactEmailProposedAt.toString());
            payload.put("reason", reason);
            t.contactEmail = t.contactEmailProposed;
            t.contactEmailProposed = null;
            t.contactEmailProposedBy = null;
            t.contactEmailProposedAt = null;
            t.updatedAt = Instant.now().truncatedTo(ChronoUnit.MICROS);
            return Panache.flush().call(() -> audit.record(person, "tenant.contact-confirmed", t.subject(), payload))
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
