package io.metalgate.common;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.util.Optional;

/** Everything under {@code metalgate.*}; see application.properties and README.md "Configuration". */
@ConfigMapping(prefix = "metalgate")
public interface MetalgateConfig {

    /** Where the appliance keeps its state: embedded PostgreSQL, keys, generated passwords. */
    @WithDefault("./metalgate-data")
    String dataDir();

    Secrets secrets();

    Audit audit();

    Database database();

    Http http();

    Log log();

    GatePolicy gate();

    /** The gate's policy values (domain.md defaults); see gate.Policy. */
    interface GatePolicy {
        @WithDefault("P30D")
        java.time.Duration retention();

        @WithDefault("P14D")
        java.time.Duration noticeLead();

        @WithDefault("3")
        int escalationAttempts();

        @WithDefault("2")
        int escalationChannels();

        @WithDefault("P30D")
        java.time.Duration escalationWait();

        @WithDefault("10")
        int bulkMachines();

        @WithDefault("0.25")
        double bulkTenantShare();

        @WithDefault("PT24H")
        java.time.Duration bulkWindow();

        /** How long an action request waits for its approval. */
        @WithDefault("PT72H")
        java.time.Duration approvalExpiry();
    }

    interface Secrets {
        /** Base64 of a 32-byte AES key for BMC secrets; when absent one is generated into the data directory. */
        Optional<String> key();
    }

    interface Audit {
        /** A signed checkpoint at least every this many entries. */
        @WithDefault("1000")
        int checkpointEvery();

        /** The most pending entries the sequencer chains in one transaction. */
        @WithDefault("2000")
        int batchLimit();
    }

    interface Database {
        /** The role the application connects as; migrations grant it its privileges. */
        @WithDefault("metalgate_app")
        String appRole();

        Embedded embedded();

        interface Embedded {
            /** Directory of the PostgreSQL server binaries (initdb, pg_ctl); found automatically when absent. */
            Optional<String> binDir();
        }
    }

    interface Http {
        @WithDefault("8080")
        int port();

        @WithDefault("0.0.0.0")
        String host();
    }

    interface Log {
        /** Structured JSON logs on the console. */
        @WithDefault("false")
        boolean json();
    }
}
