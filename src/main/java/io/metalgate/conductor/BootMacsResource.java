package io.metalgate.conductor;

import io.metalgate.boot.BootScripts;
import io.metalgate.common.ApiException;
import io.metalgate.machine.LifecycleState;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.annotation.security.RolesAllowed;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Size;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code /api/machines/{id}/boot-macs}: the MACs a machine network-boots with. Inspection finds them where the BMC
 * reports NICs (Redfish); an IPMI BMC reports none, so an operator names them. They decide which machine a booting
 * MAC is — which one gets the erase agent — so they are changed under the machine's lock, never while it is ERASING
 * (a token may be out), never to a MAC another machine has, and every change is audited. The agent then proves it
 * booted on this machine's hardware (its system UUID, {@link AgentDisks}): a wrong MAC cannot erase another server.
 */
@ApplicationScoped
@Path("/api/machines/{id}/boot-macs")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "boot")
public class BootMacsResource {

    public record BootMac(String mac, String source) {
    }

    public record BootMacsBody(@NotNull @Size(max = 16) List<@NotNull @Size(max = 32) String> macs) {
    }

    @Inject
    Pool pool;
    @Inject
    MachineTasks tasks;
    @Inject
    io.metalgate.evidence.AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @GET
    @RolesAllowed(Roles.VIEWER)
    @Operation(summary = "The MACs the machine is recognised by when it network-boots, found by inspection or named by an operator")
    public Uni<List<BootMac>> list(@PathParam("id") UUID id) {
        return pool.preparedQuery("SELECT m.id, mm.mac, mm.source FROM machine m LEFT JOIN machine_mac mm ON mm.machine_id = m.id WHERE m.id = $1 "
                + "ORDER BY mm.mac").execute(Tuple.of(id)).map(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("machine", id);
                    }
                    List<BootMac> out = new ArrayList<>();
                    rows.forEach(r -> {
                        if (r.getString("mac") != null) {
                            out.add(new BootMac(r.getString("mac"), r.getString("source")));
                        }
                    });
                    return out;
                });
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @RolesAllowed({ Roles.OPERATOR })
    @Operation(summary = "Names the machine's boot MACs (replacing those an operator named before; inspection's stay): 409 while ERASING or "
            + "for a MAC of another machine; audited")
    public Uni<List<BootMac>> put(@PathParam("id") UUID id, @Valid @NotNull BootMacsBody body) {
        TreeSet<String> macs = new TreeSet<>();
        for (String given : body.macs()) {
            macs.add(BootScripts.mac(given).orElseThrow(() -> ApiException.badRequest("macs", given + " is not a MAC (aa:bb:cc:dd:ee:ff)")));
        }
        String actor = identity.getPrincipal().getName();
        String[] array = macs.toArray(new String[0]);
        return tasks.withLock(id, m -> {
            if (m.state() == LifecycleState.ERASING) {
                return Uni.createFrom().failure(ApiException.conflict("machine " + id + " is ERASING: its boot MACs cannot change until the erase ends",
                        "macs"));
            }
            return m.tx().preparedQuery("SELECT mac, machine_id FROM machine_mac WHERE mac = ANY($1) AND machine_id <> $2")
                    .execute(Tuple.of(array, id)).chain(taken -> {
                        if (taken.rowCount() > 0) {
                            var r = taken.iterator().next();
                            return Uni.createFrom().failure(ApiException.conflict("MAC " + r.getString("mac") + " is machine "
                                    + r.getUUID("machine_id") + "'s", "macs"));
                        }
                        Map<String, Object> payload = new LinkedHashMap<>();
                        payload.put("macs", List.of(array));
                        return m.tx().preparedQuery("DELETE FROM machine_mac WHERE machine_id = $1 AND source = 'operator' RETURNING mac")
                                .execute(Tuple.of(id)).chain(old -> {
                                    List<String> before = new ArrayList<>();
                                    old.forEach(r -> before.add(r.getString("mac")));
                                    payload.put("before", before);
                                    return m.tx().preparedQuery("INSERT INTO machine_mac (mac, machine_id, source) SELECT unnest($1::varchar[]), $2, "
                                            + "'operator' ON CONFLICT (mac) DO NOTHING RETURNING mac").execute(Tuple.of(array, id));
                                })
                                .invoke(inserted -> {
                                    // a MAC taken by another machine since the check above (its inspection, a concurrent PUT):
                                    // refused as a whole, rolled back, never audited as set
                                    java.util.Set<String> got = new java.util.HashSet<>();
                                    inserted.forEach(r -> got.add(r.getString("mac")));
                                    payload.put("alreadyFromInspection", new ArrayList<>(macs.stream().filter(x -> !got.contains(x)).toList()));
                                })
                                .chain(ignored -> m.tx().preparedQuery("SELECT mac, machine_id FROM machine_mac WHERE mac = ANY($1) AND machine_id <> $2")
                                        .execute(Tuple.of(array, id)))
                                .invoke(raced -> {
                                    if (raced.rowCount() > 0) {
                                        var r = raced.iterator().next();
                                        throw ApiException.conflict("MAC " + r.getString("mac") + " is machine " + r.getUUID("machine_id") + "'s", "macs");
                                    }
                                })
                                .chain(() -> audit.record(m.tx(), actor, "machine.boot-macs-set", "machine:" + id, payload));
                    });
        }).chain(() -> list(id));
    }
}
