package io.metalgate.conductor;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.driver.api.BootOverride;
import io.metalgate.driver.api.PowerAction;
import io.metalgate.machine.BmcProtocol;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The BMC side of an allowed action: only {@link BmcIntents} calls it, for an intent recorded after the gate
 * allowed. Power (forced off: Redfish ForceOff or IPMI Chassis Control power down; graceful off, on, cycle,
 * warm reset), the boot override, virtual media.
 */
@ApplicationScoped
class BmcOperations {

    /** What an intent asks of the BMC; the parameters only its operation uses are set. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Params(BootOverride boot, String ifMatch, String imageUrl) {

        static final Params NONE = new Params(null, null, null);
    }

    @Inject
    BmcEndpoints endpoints;
    @Inject
    Drivers drivers;
    @Inject
    io.vertx.mutiny.sqlclient.Pool pool;

    /** Carries out {@code op} on the machine's BMC; what was done, for the audit. Fails with the driver's exception. */
    Uni<String> run(UUID machineId, BmcIntents.Operation op, Params params, String decidedTarget) {
        return endpoints.of(machineId).chain(t -> {
            if (decidedTarget != null && !decidedTarget.equals(t.target())) {
                throw ApiException.conflict("the BMC of machine " + machineId + " changed since the decision (" + decidedTarget + " then, "
                        + t.target() + " now): the " + op + " is not carried out", "bmc");
            }
            var driver = drivers.of(t.protocol());
            var bmc = t.endpoint();
            boolean ipmi = t.protocol() == BmcProtocol.IPMI;
            return switch (op) {
                case POWER_OFF -> driver.setPower(bmc, PowerAction.OFF).replaceWith(ipmi ? "IPMI Chassis Control power down" : "REDFISH ForceOff");
                case GRACEFUL_OFF -> driver.setPower(bmc, PowerAction.GRACEFUL_OFF)
                        .replaceWith(ipmi ? "IPMI Chassis Control soft shutdown" : "REDFISH GracefulShutdown");
                case POWER_ON -> driver.setPower(bmc, PowerAction.ON).replaceWith(t.protocol() + " power on");
                case POWER_CYCLE -> driver.setPower(bmc, PowerAction.CYCLE).replaceWith(t.protocol() + " power cycle");
                case RESET -> driver.setPower(bmc, PowerAction.RESET).replaceWith(t.protocol() + " warm reset");
                case SET_BOOT -> {
                    Uni<Void> checked = params.ifMatch() == null ? Uni.createFrom().voidItem()
                            : driver.bootDevice(bmc).map(now -> {
                                if (!etag(now).equals(params.ifMatch())) {
                                    throw preconditionFailed(machineId, params.ifMatch(), now);
                                }
                                return null;
                            });
                    yield checked.chain(() -> driver.setBootDevice(bmc, params.boot())).replaceWith(t.protocol() + " boot override "
                            + params.boot().device() + (params.boot().persistent() ? " (persistent, " : " (next boot, ") + params.boot().mode() + ")");
                }
                case MEDIA_INSERT -> driver.insert(bmc, params.imageUrl()).replaceWith(t.protocol() + " virtual media inserted");
                case MEDIA_EJECT -> driver.eject(bmc).replaceWith(t.protocol() + " virtual media ejected");
            };
        });
    }

    /** The boot override the BMC reports now, with its entity tag. */
    Uni<BootOverride> bootDevice(UUID machineId) {
        // reading drives the BMC too: not one that is not verified as this machine's (it may be another server's)
        return pool.preparedQuery("SELECT lifecycle_state FROM machine WHERE id = $1").execute(io.vertx.mutiny.sqlclient.Tuple.of(machineId))
                .chain(rows -> {
                    if (rows.rowCount() == 0) {
                        throw ApiException.notFound("machine", machineId);
                    }
                    String state = rows.iterator().next().getString("lifecycle_state");
                    if (!io.metalgate.gate.Gate.bmcVerified(io.metalgate.gate.Facts.MachineState.valueOf(state))) {
                        throw ApiException.conflict("machine " + machineId + " is " + state + ": its BMC is not verified as this machine's, "
                                + "so it is not asked", "state");
                    }
                    return endpoints.of(machineId).chain(t -> drivers.of(t.protocol()).bootDevice(t.endpoint()));
                });
    }

    /**
     * The entity tag of a boot override as read from the BMC: the same settings give the same tag, whatever the
     * protocol (a Redfish BMC's own ETag changes with every property of the system, not only its boot).
     */
    static String etag(BootOverride o) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest((o.device() + "/" + o.persistent() + "/" + o.mode())
                    .getBytes(StandardCharsets.US_ASCII));
            return "\"" + HexFormat.of().formatHex(d, 0, 8) + "\"";
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A boot override read after the caller's: 412, with what the BMC reports now. */
    static ApiException preconditionFailed(UUID machineId, String ifMatch, BootOverride now) {
        return new ApiException(Problem.of(412, "precondition-failed", "Precondition failed", "the boot override of machine " + machineId
                + " changed since " + ifMatch + " was read: the BMC reports " + now.device() + (now.persistent() ? " (persistent, " : " (next boot, ")
                + now.mode() + "), tag " + etag(now) + "; read it again"));
    }
}
