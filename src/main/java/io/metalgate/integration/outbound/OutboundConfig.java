package io.metalgate.integration.outbound;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/**
 * Everything under {@code metalgate.outbound.*} (the style of {@code common.MetalgateConfig}, kept beside the code that
 * reads it): the relay that follows the audit chain, its retries, and the e-mail channel. See docs/integrations.md
 * "Outbound".
 */
@ConfigMapping(prefix = "metalgate.outbound")
public interface OutboundConfig {

    /** The relay runs (e-mail notices, webhooks, tickets). Off: nothing leaves; the cursors wait where they are. */
    @WithDefault("true")
    boolean enabled();

    /** How often the relay reads the chain and sends what is due. */
    @WithDefault("PT2S")
    Duration pollInterval();

    /** Most deliveries claimed in one round. */
    @WithDefault("200")
    int batch();

    /** Most audit entries one fan-out pass reads. */
    @WithDefault("5000")
    int window();

    /** Deliveries in flight at once. */
    @WithDefault("16")
    int concurrency();

    /** A claimed delivery that is neither recorded nor failed within this time (a crash) is sent again, with the same key. */
    @WithDefault("PT60S")
    Duration claim();

    /** Attempts before a delivery is given up (status FAILED, visible in /api/outbound/deliveries). */
    @WithDefault("8")
    int maxAttempts();

    /** The first retry waits about this long; each further one twice as long (with ±25 % jitter)... */
    @WithDefault("PT2S")
    Duration initialBackoff();

    /** ... up to this. */
    @WithDefault("PT10M")
    Duration maxBackoff();

    /** HTTP deliveries (webhooks, tickets): no answer within this time is a failed attempt. */
    @WithDefault("PT15S")
    Duration httpTimeout();

    Email email();

    /** Notices by e-mail (SMTP: quarkus.mailer.*), bounces read back over IMAP. */
    interface Email {
        /** Each notice goes to its tenant's contact address. */
        @WithDefault("true")
        boolean enabled();

        @WithDefault("metalgate@localhost")
        String from();

        /** The right-hand side of the Message-IDs this appliance makes. */
        @WithDefault("metalgate.invalid")
        String messageIdDomain();

        /** The envelope sender (Return-Path) of notices: where bounces go; the mailbox {@code imap-url} reads. */
        Optional<String> bounceAddress();

        /** The mailbox bounces and auto-replies come back to, e.g. {@code imap://127.0.0.1:143/INBOX}; unset: none is read. */
        Optional<String> imapUrl();

        Optional<String> imapUser();

        /** File holding the IMAP password (0600); never logged. */
        Optional<String> imapPasswordFile();

        @WithDefault("PT60S")
        Duration imapPollInterval();
    }
}
