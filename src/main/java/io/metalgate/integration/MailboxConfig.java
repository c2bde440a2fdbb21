package io.metalgate.integration;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The inbound mailbox ({@code metalgate.integrations.imap.*}; docs/integrations.md "Mailbox"): unset url, no mailbox is watched. */
@ConfigMapping(prefix = "metalgate.integrations.imap")
public interface MailboxConfig {

    /** e.g. {@code imaps://mail.example:993/INBOX}; the password is not taken from here when a password file is given. */
    Optional<String> url();

    Optional<String> user();

    /** File holding the password (0600); never logged. */
    Optional<String> passwordFile();

    @WithDefault("PT60S")
    Duration pollInterval();

    /** When the first round runs after start. */
    @WithDefault("PT7S")
    Duration pollDelay();

    /** Most of a message kept as received (the rest is cut; its SHA-256 is of the whole). */
    @WithDefault("1048576")
    int maxStoredBytes();
}
