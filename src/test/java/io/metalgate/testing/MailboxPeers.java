package io.metalgate.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * {@link OutboundPeers} (GreenMail SMTP + IMAP, the HTTP receiver) plus the inbound mailbox the watcher reads:
 * {@value #INBOX} on the same GreenMail, its password in a file, polled only when a test asks.
 */
public class MailboxPeers extends OutboundPeers {

    public static final String INBOX = "legal@provider.test";
    public static final String INBOX_PASSWORD = "legal-box-password";

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        try {
            mail().setUser(INBOX, INBOX, INBOX_PASSWORD);
            Path password = Files.createTempFile("inbox", ".pw");
            Files.writeString(password, INBOX_PASSWORD);
            config.put("metalgate.integrations.imap.url", "imap://127.0.0.1:" + mail().getImap().getPort() + "/INBOX");
            config.put("metalgate.integrations.imap.user", INBOX);
            config.put("metalgate.integrations.imap.password-file", password.toString());
            // the tests read the mailbox themselves (readOnce): the schedule must not read it between a send and their read
            config.put("metalgate.integrations.imap.poll-interval", "PT1H");
            config.put("metalgate.integrations.imap.poll-delay", "PT1H");
            return config;
        } catch (Exception e) {
            throw new IllegalStateException("cannot set up the inbound mailbox", e);
        }
    }
}
