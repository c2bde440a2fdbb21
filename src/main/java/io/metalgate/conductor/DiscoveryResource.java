package io.metalgate.conductor;

import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.driver.redfish.RedfishDriver;
import io.metalgate.evidence.AuditLog;
import io.metalgate.machine.BmcProtocol;
import io.metalgate.machine.MachineApi;
import io.metalgate.security.Actors;
import io.metalgate.security.Roles;
import io.quarkus.security.identity.SecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.annotation.security.RolesAllowed;
import jakarta.inject.Inject;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;

/**
 * {@code POST /api/bmc-discovery}: what systems a BMC manages, before enrolment — a blade chassis's BMC
 * manages several, and each becomes one machine ({@code bmc.options.systemId}). Reads only; the probe is
 * audited (who asked which BMC), its credentials never.
 */
@Path("/api/bmc-discovery")
@Tag(name = "machines")
public class DiscoveryResource {

    /** One system the BMC manages, and the enrolment options that address it. */
    public record DiscoveredSystem(String systemId, String manufacturer, String model, String serialNumber, String uuid,
            String powerState) {
    }

    public record Discovery(String bmc, List<DiscoveredSystem> systems) {
    }

    @Inject
    RedfishDriver redfish;
    @Inject
    AuditLog audit;
    @Inject
    SecurityIdentity identity;

    @POST
    @RolesAllowed(Roles.OPERATOR)
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @Operation(summary = "List the systems a Redfish BMC manages (enrol one machine per system with bmc.options.systemId)")
    public Uni<Discovery> discover(@Valid @NotNull MachineApi.BmcSpec bmc) {
        if (bmc.protocol() != BmcProtocol.REDFISH) {
            throw new io.metalgate.common.ApiException(io.metalgate.common.Problem.of(400, "bad-request", "Bad request",
                    "discovery lists the systems of a Redfish BMC; an IPMI BMC manages one system"));
        }
        int port = bmc.port() != null ? bmc.port() : bmc.protocol().defaultPort();
        BmcEndpoint ep = new BmcEndpoint(UUID.randomUUID(), bmc.host(), port, bmc.username(), bmc.password(),
                Optional.ofNullable(bmc.tlsFingerprint()).map(f -> f.replace(":", "").toLowerCase(java.util.Locale.ROOT)));
        String actor = Actors.person(identity);
        return redfish.systems(ep)
                .map(list -> new Discovery(bmc.host() + ":" + port, list.stream().map(s -> new DiscoveredSystem(s.systemId(),
                        s.manufacturer(), s.model(), s.serialNumber(), s.uuid(), s.powerState())).toList()))
                .eventually(() -> redfish.release(ep))
                .call(d -> audit.append(actor, "bmc.discovered", "bmc:" + d.bmc(), Map.of("systems",
                        d.systems().stream().map(DiscoveredSystem::systemId).toList())));
    }
}
