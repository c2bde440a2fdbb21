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
