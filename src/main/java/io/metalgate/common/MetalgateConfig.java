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

    Redfish redfish();

    PowerSync powerSync();

    Conductor conductor();

    Boot boot();

    Erase erase();

    Integrations integrations();

    Console console();

    Demo demo();

    /** The demo lab ({@code ./metalgate run --demo}; README "Demo lab"): seeded once into an empty data directory. */
    interface Demo {
        @WithDefault("false")
        boolean enabled();

        /** The Redfish emulator's port; BMC i answers on 127.1.0.i. */
        @WithDefault("18443")
        int redfishPort();

        @WithDefault("40")
        int redfishBmcs();

        /** The IPMI simulator's port; BMC i answers on 127.2.0.(i+1). */
        @WithDefault("16230")
        int ipmiPort();

        @WithDefault("8")
        int ipmiBmcs();

        /** The password of the demo's people (olivia operator, alan approver, lena legal, bill billing, vera viewer). */
        @WithDefault("metalgate-demo")
        String password();
    }

    /** The web console (issue 15; README "The console"). */
    interface Console {
        /** A session unused this long ends (the NOC screen left signed in overnight signs out). */
        @WithDefault("PT30M")
        java.time.Duration sessionIdle();

        /** A session ends this long after sign-in, however busy. */
        @WithDefault("PT12H")
        java.time.Duration sessionMax();

        /**
         * The cookie's Secure flag: {@code auto} sets it when the request came over TLS (or through a proxy that said
         * so with X-Forwarded-Proto: https and {@code quarkus.http.proxy.proxy-address-forwarding}); {@code always},
         * {@code never}.
         */
        @WithDefault("auto")
        String secureCookie();
    }

    /** Inbound integrations (issue 14; docs/integrations.md). */
    interface Integrations {
        /** How often events stored but not acted on (a crash, a failure) are looked for and applied. */
        @WithDefault("60s")
        java.time.Duration recoveryInterval();

        /** When the first look for them runs after start (all of them, however young). */
        @WithDefault("2s")
        java.time.Duration recoveryDelay();

        Kafka kafka();

        Mqtt mqtt();

        /** A directory of site-specific Camel routes in YAML DSL ({@code *.yaml}), loaded at start (docs/integrations.md). */
        Optional<String> dir();

        /** Lease events from a Kafka topic (absent brokers: no Kafka route). */
        interface Kafka {
            /** Bootstrap servers, host:port[,host:port]. */
            Optional<String> brokers();

            @WithDefault("metalgate.lease-events")
            String topic();

            @WithDefault("metalgate")
            String groupId();

            /** Consumers in parallel (one per partition at most is useful). */
            @WithDefault("4")
            int consumers();

            @WithDefault("500")
            int maxPollRecords();

            /** How long a poll waits to fill a batch before the records it has are settled. */
            @WithDefault("PT0.2S")
            java.time.Duration pollTimeout();
        }

        /** Lease events from an MQTT 3.1.1 topic, QoS 1 (absent broker URL: no MQTT route). */
        interface Mqtt {
            /** e.g. tcp://broker:1883 or ssl://broker:8883. */
            Optional<String> brokerUrl();

            @WithDefault("metalgate/lease-events")
            String topic();

            /** The persistent session's client id: stable across restarts, so unacknowledged messages come again. */
            @WithDefault("metalgate")
            String clientId();

            Optional<String> userName();

            Optional<String> password();
        }

        /**
         * Plain lease events arriving one per message while a batch is written are settled together in the next one (one
         * transaction for many: integration.GroupCommit); false: each alone through the route's steps.
         */
        @WithDefault("true")
        boolean groupCommit();

        /** A signed webhook's timestamp may be this far from the appliance's time (the replay window), unless its integration says otherwise. */
        @WithDefault("PT5M")
        java.time.Duration webhookTolerance();
    }

    /** The erase policy (issue 13): which method a disk must get, and how the agent proves it. */
    interface Erase {
        /** CLEAR or PURGE (NIST SP 800-88): the method every disk must get. */
        @WithDefault("PURGE")
        String minimumMethod();

        /** A disk that offers only a weaker method: erased with it, recorded as weaker (true), or failed (false). */
        @WithDefault("false")
        boolean allowWeaker();

        /** An ERASING machine whose agent said nothing for this long (since the erase started or its last word) is ERASE_FAILED. */
        @WithDefault("PT2H")
        java.time.Duration reportTimeout();

        /**
         * Trust a discard (blkdiscard) to erase a device that supports discards but does not promise zeroes after one
         * (virtual disks, some SSDs): false by default; when true the read-back is what shows whether it did.
         */
        @WithDefault("false")
        boolean trustDiscard();

        /**
         * Whether the agent may restore a Device Configuration Overlay to its factory configuration to reach the sectors it
         * hides (hdparm --dco-restore); otherwise a disk whose DCO hides sectors fails, naming how many.
         */
        @WithDefault("false")
        boolean restoreDco();

        /**
         * How far an agent's reported start and end of a disk may lie outside the window the appliance saw (its token
         * issued .. its report received): the agent sets its times from the appliance's clock, to the second.
         */
        @WithDefault("PT2M")
        java.time.Duration clockSkew();

        /** Random blocks the agent reads back per disk, besides the first and last MiB and the partition table areas. */
        @WithDefault("256")
        int verifySampleBlocks();

        /**
         * Most machines ERASING at once (all of them, however started) before a bulk plan starts another: the plan's
         * other machines wait on it (QUEUED) and are started, each decided again under its lock, as erases end.
         */
        @WithDefault("16")
        @jakarta.validation.constraints.Min(1)
        int maxConcurrent();
    }

    Ipmi ipmi();

    /** The IPMI 2.0 (RMCP+) client. */
    interface Ipmi {
        /** Cipher suites to propose, in order of preference; only 3 and 17 exist here (others are refused). */
        @WithDefault("17,3")
        java.util.List<Integer> cipherSuites();

        /** Wait for an answer before a retransmission. */
        @WithDefault("PT1S")
        java.time.Duration timeout();

        /** Retransmissions after the first try. */
        @WithDefault("3")
        int retries();

        /** A session idle this long is opened afresh (BMCs drop idle sessions after about a minute). */
        @WithDefault("PT30S")
        java.time.Duration sessionIdle();
    }

    /** The Redfish client: per-BMC limits, timeouts, retries and the circuit breaker. */
    interface Redfish {
        /** Concurrent connections to one BMC (real BMCs serve few). */
        @WithDefault("2")
        int connectionsPerBmc();

        @WithDefault("PT5S")
        java.time.Duration connectTimeout();

        /** No answer within this time is a timeout. */
        @WithDefault("PT30S")
        java.time.Duration requestTimeout();

        /** Further attempts after a timeout, an unreachable BMC or a 5xx. */
        @WithDefault("2")
        int retries();

        /** The first wait before a retry; it doubles each time. */
        @WithDefault("PT0.5S")
        java.time.Duration retryBackoff();

        /** Consecutive failures after which calls to the BMC fail fast. */
        @WithDefault("5")
        int breakerFailures();

        /** How long they fail fast before one trial call. */
        @WithDefault("PT30S")
        java.time.Duration breakerCooldown();

        /** PEM file of a CA that signs the BMCs' certificates; when set it replaces trust on first use. */
        Optional<String> trustCa();

        /** TLS through BoringSSL (netty-tcnative) where the platform has it; false, or no native library: the JDK's TLS. */
        @WithDefault("true")
        boolean openssl();

        /**
         * Base URL at which the BMCs reach this appliance (e.g. {@code https://metalgate.example:8443}). When
         * set, power sync subscribes each BMC that has an EventService to push power events to
         * {@code <url>/api/redfish-events/<machine>}, and a pushed event refreshes that machine at once; the
         * periodic sweep goes on either way. Unset: polling only.
         */
        Optional<String> eventDestination();
    }

    /** Keeping every machine's observed power state fresh. */
    interface PowerSync {
        @WithDefault("true")
        boolean enabled();

        @WithDefault("PT60S")
        java.time.Duration interval();

        /**
         * BMCs asked at once in a sweep. Enough to keep the event loops busy; more only queues TLS handshakes
         * (2,048 at once made the cold 10,000-BMC benchmark collapse into timeouts: docs/benchmarks.md).
         */
        @WithDefault("256")
        int concurrency();
    }

    /** Network boot services. */
    interface Boot {
        Tftp tftp();

        Dnsmasq dnsmasq();

        /** DHCP for network boot through dnsmasq (docs/network-boot.md): off unless configured. */
        interface Dnsmasq {
            @WithDefault("false")
            boolean enabled();

            /** FULL (the provisioning network's DHCP server) or PROXY (beside an existing DHCP server). */
            @WithDefault("PROXY")
            String mode();

            /** The interface it answers on. */
            Optional<String> iface();

            /** FULL: "first,last[,lease]"; PROXY: the subnet's network address. */
            Optional<String> range();

            /** The appliance's address as machines reach it (its TFTP and HTTP). */
            Optional<String> applianceAddress();

            /** The appliance's HTTP port as machines reach it. */
            @WithDefault("8080")
            int httpPort();

            @WithDefault("dnsmasq")
            String binary();

            /** How often the host file is brought up to date with the machines' MACs. */
            @WithDefault("30s")
            java.time.Duration refresh();

            /** A dnsmasq run by someone else, reading the files this appliance writes: signalled (SIGHUP) instead of started. */
            Optional<String> externalPidFile();
        }

        /**
         * Hand an erase agent's token only to the address DHCP (the appliance's dnsmasq, FULL mode) leased to the
         * machine's MAC: anyone else asking for an ERASING machine's script gets its local disk. Turn off only where
         * another DHCP server hands out the addresses (PROXY mode), and keep that network closed (docs/network-boot.md).
         */
        @WithDefault("true")
        boolean requireLease();

        /** How long the token an ERASING machine's boot script hands its agent is good for. */
        @WithDefault("PT30M")
        java.time.Duration tokenTtl();

        /** Where the erase agent's kernel (vmlinuz) and initramfs (initrd.img) are, as iso-builder/ writes them; default {@code <data-dir>/agent}. */
        Optional<String> agentDir();

        /** TFTP (read-only): serves the iPXE binaries machines chain-load. */
        interface Tftp {
            @WithDefault("true")
            boolean enabled();

            /** 69 where firmware looks; 0 picks a free port (tests). A port that cannot be bound is logged, not fatal. */
            @WithDefault("69")
            int port();

            @WithDefault("0.0.0.0")
            String host();

            /** The directory served: Debian's ipxe package (undionly.kpxe, ipxe.efi, snponly.efi). */
            @WithDefault("/usr/lib/ipxe")
            String root();

            /** The largest block a client may negotiate (blksize, RFC 2348): one Ethernet frame's worth by default. */
            @WithDefault("1468")
            int maxBlksize();

            /** Transfers one client address may have at once; more are refused (a boot needs one or two). */
            @WithDefault("4")
            int perClientTransfers();

            /** Re-sends of a block before a transfer is given up. */
            @WithDefault("5")
            int retries();

            /** Largest file served (iPXE binaries are well under a MiB; kernels go over HTTP). */
            @WithDefault("33554432")
            long maxFileBytes();
        }
    }

    /** How the conductor acts on many machines at once (bulk plans, a lease's machines). */
    interface Conductor {
        /**
         * Most machines acted on at once: each is decided under its lock (a short transaction), then its BMC is driven.
         * The number in flight starts at 16 and adapts between 4 and this to the BMCs' answers (common.AdaptiveConcurrency):
         * a BMC timeout cuts it, answers in time raise it.
         */
        @WithDefault("128")
        int actionConcurrency();
    }

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

        /**
         * A signed checkpoint at most this long after an entry was appended, however few entries came: a small
         * or quiet log is anchored (and witnessed) too.
         */
        @WithDefault("PT60S")
        java.time.Duration checkpointInterval();

        SigningKey signingKey();

        Witness witness();

        /** Where the private key that signs checkpoints, seals and hand-overs lives: never in the database. */
        interface SigningKey {
            /**
             * The key file (mode 0600 or stricter, else the appliance refuses to start); may be on another mount.
             * Default {@code <data-dir>/audit-signing.key}.
             */
            Optional<String> file();

            /**
             * A SunPKCS11 configuration file (name, library, slot): the key is then an EC P-256 key in that token,
             * found by {@code pkcs11-alias}, and never leaves it.
             */
            Optional<String> pkcs11Config();

            /** File holding the token's user PIN (0600). */
            Optional<String> pkcs11PinFile();

            /** The key's alias (label) in the token. */
            @WithDefault("metalgate-audit")
            String pkcs11Alias();
        }

        /**
         * Witnesses: every signed checkpoint head is also delivered out of the appliance's reach; each one that
         * is configured here gets every head (outbox, retried with backoff until delivered).
         */
        interface Witness {
            /** A JSON Lines file the heads are appended to (put it on another mount or a write-once share). */
            Optional<String> file();

            /** An HTTP(S) endpoint each head is POSTed to as JSON. */
            Optional<String> webhookUrl();

            /** HMAC-SHA256 secret for the webhook's {@code Metalgate-Signature: t=...,v1=...} header. */
            Optional<String> webhookSecret();

            /** Auditors' addresses that receive each head by e-mail (SMTP: quarkus.mailer.*). */
            Optional<java.util.List<String>> emailTo();

            @WithDefault("metalgate@localhost")
            String emailFrom();

            /** An RFC 3161 time-stamp authority's URL: each head is time-stamped, and the token kept. */
            Optional<String> tsaUrl();

            /** PEM certificate(s) of the TSA; when set a token not signed by them is refused. */
            Optional<String> tsaCert();

            /** Where the TSA tokens are appended (JSON Lines); default {@code <data-dir>/witness/tsa-tokens.jsonl}. */
            Optional<String> tsaTokensFile();

            /** How often due deliveries are looked for. */
            @WithDefault("PT2S")
            java.time.Duration pollInterval();

            /** The longest wait between two attempts of a failing delivery. */
            @WithDefault("PT10M")
            java.time.Duration maxBackoff();
        }
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
