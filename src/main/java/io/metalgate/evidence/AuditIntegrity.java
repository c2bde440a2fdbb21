package io.metalgate.evidence;

import io.metalgate.common.DataDirectory;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

/**
 * The appliance's own memory of the last head it signed, kept outside the database
 * ({@code <data-dir>/audit-last-head}). Before each new checkpoint the chain must still hold that entry
 * with that hash: a database owner who cut the tail or rewrote the past (replica mode, or a restore from an
 * older backup) is caught here at the next checkpoint, while the appliance runs and after a restart. Then
 * the appliance stops signing (it would otherwise sign the shortened chain) and reports DOWN, until an
 * admin acknowledges the regression — which is itself an audit entry naming what was lost.
 * Witnesses catch the same outside the appliance's reach, and also what root can do.
 */
@ApplicationScoped
@Readiness
@jakarta.enterprise.inject.Default // also injectable as itself, not only as a health check
public class AuditIntegrity implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(AuditIntegrity.class);

    /** The last head signed: what must still be in the chain. */
    public record Head(long seq, String hash) {
    }

    private final Path file;
    private volatile Head lastSigned;
    private volatile String regression;

    public AuditIntegrity(DataDirectory dataDir) {
        this.file = dataDir.root().resolve("audit-last-head");
        Head h = null;
        try {
            if (Files.exists(file)) {
                String[] parts = Files.readString(file, StandardCharsets.US_ASCII).strip().split(" ");
                h = new Head(Long.parseLong(parts[0]), parts[1]);
            }
        } catch (IOException | RuntimeException e) {
            regression = "the last signed head in " + file + " is unreadable: " + e.getMessage();
        }
        this.lastSigned = h;
    }

    /** Null when the chain still holds the last signed head; otherwise what is wrong (and signing stops). */
    Uni<String> check(SqlConnection tx) {
        Head h = lastSigned;
        if (regression != null) {
            return Uni.createFrom().item(regression);
        }
        if (h == null) {
            return Uni.createFrom().nullItem();
        }
        return tx.preparedQuery("SELECT hash FROM audit_entry WHERE seq = $1").execute(Tuple.of(h.seq())).map(rows -> {
            String now = rows.rowCount() == 0 ? null : rows.iterator().next().getString("hash");
            if (h.hash().equals(now)) {
                return null;
            }
            String why = now == null
                    ? "entry seq " + h.seq() + ", signed by this appliance, is gone from the chain (the tail was cut)"
                    : "entry seq " + h.seq() + " has hash " + now + " but this appliance signed " + h.hash()
                            + " (the chain was rewritten)";
            regression = why;
            LOG.errorf("AUDIT CHAIN REGRESSION: %s. Checkpoints are no longer signed until an admin acknowledges it "
                    + "(POST /api/audit/integrity/acknowledgements); compare exports with the witnesses.", why);
            return why;
        });
    }

    /** Remembers a head just signed (after its transaction committed). */
    synchronized void signed(long seq, String hash) {
        Head h = lastSigned;
        if (h != null && h.seq() >= seq) {
            return;
        }
        try {
            Path tmp = file.resolveSibling("audit-last-head.tmp");
            Files.writeString(tmp, seq + " " + hash + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the last signed audit head in " + file, e);
        }
        lastSigned = new Head(seq, hash);
    }

    /**
     * Something that makes this appliance's signatures untrustworthy or impossible (a key it does not hold, a
     * checkpoint it did not sign, a last head it cannot record): reported DOWN like a regression, and
     * acknowledged the same way once understood (it comes back at the next checkpoint if the cause remains).
     */
    void alarm(String why) {
        if (regression == null) {
            regression = why;
            LOG.errorf("AUDIT CHAIN ALARM: %s", why);
        }
    }

    /** What is wrong, or null. */
    public String regression() {
        return regression;
    }

    public Head lastSigned() {
        return lastSigned;
    }

    /** After an admin acknowledged (and audited) the regression: sign again from the chain as it is. */
    synchronized void acknowledged() {
        regression = null;
        lastSigned = null;
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public HealthCheckResponse call() {
        String r = regression;
        var b = HealthCheckResponse.named("audit-chain").status(r == null);
        Head h = lastSigned;
        if (h != null) {
            b.withData("lastSignedSeq", h.seq());
        }
        if (r != null) {
            b.withData("regression", r);
        }
        return b.build();
    }
}
