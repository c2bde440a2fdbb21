package io.metalgate.conductor;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlClient;
import io.vertx.mutiny.sqlclient.Tuple;
import java.util.Optional;
import java.util.UUID;

/**
 * One server is one machine: every identity its hardware tells (a system UUID or GUID when its BMC is verified,
 * manufacturer and serial number when it is inspected) is claimed for one machine in
 * {@code machine_hardware_id}, whose primary key settles two claims that race. A machine that shows an
 * identity another machine holds is that machine's twin (the same server behind another address, port,
 * protocol or system id) and is refused.
 */
final class HardwareIdentity {

    private HardwareIdentity() {
    }

    /**
     * Gives up the machine's claims of a system at a BMC address ({@code redfish-system:}) it no longer shows (its BMC
     * moved), so that address can be another server's; identities of the hardware itself are kept.
     */
    static Uni<Void> releaseMovedAddresses(SqlClient tx, UUID machineId, java.util.List<String> shown) {
        return tx.preparedQuery("DELETE FROM machine_hardware_id WHERE machine_id = $1 AND hardware_id LIKE 'redfish-system:%' "
                + "AND NOT (hardware_id = ANY($2))").execute(Tuple.of(machineId, shown.toArray(new String[0]))).replaceWithVoid();
    }

    /** Claims each of {@code hardwareIds} (spellings of one identity); the first other machine that holds one, if any. */
    static Uni<Optional<UUID>> claimAll(SqlClient tx, UUID machineId, java.util.List<String> hardwareIds) {
        // held by another machine already: a twin, and none of them is claimed for this one
        Uni<Optional<UUID>> out = tx.preparedQuery("SELECT machine_id FROM machine_hardware_id WHERE hardware_id = ANY($1) AND machine_id <> $2 "
                + "LIMIT 1").execute(Tuple.of(hardwareIds.toArray(new String[0]), machineId))
                .map(rows -> rows.rowCount() == 0 ? Optional.<UUID>empty() : Optional.of(rows.iterator().next().getUUID("machine_id")));
        for (String id : hardwareIds) {
            out = out.chain(found -> found.isPresent() ? Uni.createFrom().item(found) : claim(tx, machineId, id));
        }
        return out;
    }

    /** Claims {@code hardwareId} for the machine in the caller's transaction; the other machine that holds it, if one does. */
    static Uni<Optional<UUID>> claim(SqlClient tx, UUID machineId, String hardwareId) {
        return tx.preparedQuery("INSERT INTO machine_hardware_id (hardware_id, machine_id) VALUES ($1, $2) ON CONFLICT (hardware_id) DO NOTHING")
                .execute(Tuple.of(hardwareId, machineId))
                .chain(() -> tx.preparedQuery("SELECT machine_id FROM machine_hardware_id WHERE hardware_id = $1").execute(Tuple.of(hardwareId)))
                .map(rows -> {
                    UUID holder = rows.iterator().next().getUUID("machine_id");
                    return holder.equals(machineId) ? Optional.<UUID>empty() : Optional.of(holder);
                });
    }
}
