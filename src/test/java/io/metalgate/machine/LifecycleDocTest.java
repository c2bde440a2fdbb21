package io.metalgate.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.metalgate.lease.LeaseLifecycle;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/lifecycle.md is generated from the two tables and must not drift from them. To regenerate after a
 * change of a table: {@code WRITE_LIFECYCLE_DOC=1 ./mvnw test -Dtest=LifecycleDocTest}.
 */
class LifecycleDocTest {

    static String expected() {
        return "# Lifecycles\n\n"
                + "Generated from `machine.MachineLifecycle.TABLE` and `lease.LeaseLifecycle.TABLE` by `LifecycleDocTest`; do not edit by\n"
                + "hand. The same tables are served at `GET /api/lifecycle`. A guard `gate: X` means the step happens only when the\n"
                + "gate allows action X for that machine, decided under the machine's lock.\n\n"
                + "## Machine\n\n```mermaid\n" + MachineLifecycle.TABLE.mermaid() + "```\n\n"
                + "## Lease\n\n```mermaid\n" + LeaseLifecycle.TABLE.mermaid() + "```\n";
    }

    @Test
    void theDiagramsAreTheTables() throws Exception {
        Path doc = Path.of("docs", "lifecycle.md");
        if (System.getenv("WRITE_LIFECYCLE_DOC") != null) {
            Files.writeString(doc, expected());
        }
        assertEquals(expected(), Files.readString(doc), "docs/lifecycle.md differs from the tables: regenerate it (see this test)");
    }
}
