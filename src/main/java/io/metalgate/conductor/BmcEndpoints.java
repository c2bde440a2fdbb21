package io.metalgate.conductor;

import io.metalgate.common.ApiException;
import io.metalgate.driver.api.BmcEndpoint;
import io.metalgate.security.SecretCipher;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import java.util.UUID;

/** A machine's BMC endpoint from its row: the one place the BMC password is decrypted for a driver. */
@ApplicationScoped
class BmcEndpoints {

    /** The columns {@link #of(Row)} reads. */
    static final String COLUMNS = "id, bmc_protocol, bmc_host, bmc_port, bmc_username, bmc_secret, bmc_tls_fingerprint, bmc_options";

    @Inject
    Pool pool;
    @Inject
    SecretCipher cipher;

    BmcEndpoint of(Row r) {
        UUID id = r.getUUID("id");
        return new BmcEndpoint(id, r.getString("bmc_host"), r.getInteger("bmc_port"), r.getString("bmc_username"),
                cipher.decrypt(r.getString("bmc_secret"), id.toString()), Optional.ofNullable(r.getString("bmc_tls_fingerprint")),
                options(io.metalgate.machine.BmcOptionsJson.read(r.getString("bmc_options"))));
    }

    /** The machine's options in the drivers' terms. */
    static BmcEndpoint.Options options(io.metalgate.machine.MachineApi.BmcOptions o) {
        if (o.isEmpty()) {
            return BmcEndpoint.Options.NONE;
        }
        java.util.Map<io.metalgate.driver.api.PowerAction, String> reset = new java.util.EnumMap<>(io.metalgate.driver.api.PowerAction.class);
        if (o.resetTypes() != null) {
            o.resetTypes().forEach((action, type) -> reset.put(io.metalgate.driver.api.PowerAction.valueOf(action.name()), type));
        }
        return new BmcEndpoint.Options(Optional.ofNullable(o.systemId()),
                Optional.ofNullable(o.ipmiPrivilege()).map(p -> BmcEndpoint.IpmiPrivilege.valueOf(p.name())), reset);
    }

    /**
     * What a machine's BMC is, as {@link #TARGET} computes it in SQL: protocol, address, port and options (no
     * credential). An intent keeps the one its decision saw; a BMC changed since is not driven for it.
     */
    static final String TARGET = "(bmc_protocol || ' ' || bmc_host || ':' || bmc_port || ' ' || coalesce(bmc_options, ''))";

    static String targetOf(Row r) {
        return r.getString("bmc_protocol") + " " + r.getString("bmc_host") + ":" + r.getInteger("bmc_port") + " "
                + (r.getString("bmc_options") == null ? "" : r.getString("bmc_options"));
    }

    /** A machine's BMC: its protocol, endpoint, and what it is ({@link #TARGET}). */
    record Target(io.metalgate.machine.BmcProtocol protocol, BmcEndpoint endpoint, String target) {
    }

    /** The machine's BMC; 404 for an unknown machine. */
    Uni<Target> of(UUID machineId) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM machine WHERE id = $1").execute(Tuple.of(machineId)).map(rows -> {
            if (rows.rowCount() == 0) {
                throw ApiException.notFound("machine", machineId);
            }
            Row r = rows.iterator().next();
            return new Target(io.metalgate.machine.BmcProtocol.valueOf(r.getString("bmc_protocol")), of(r), targetOf(r));
        });
    }

    /** The machine's endpoint if its BMC speaks Redfish, empty for another protocol; 404 for an unknown machine. */
    Uni<Optional<BmcEndpoint>> redfish(UUID machineId) {
        return of(machineId).map(t -> t.protocol() == io.metalgate.machine.BmcProtocol.REDFISH ? Optional.of(t.endpoint()) : Optional.empty());
    }
}
