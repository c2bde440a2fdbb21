package io.metalgate.integration.outbound;

import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.URLName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * One IMAP mailbox as the appliance reads it (the bounce mailbox, the inbound mailbox): a URL
 * ({@code imap://host:143/INBOX} or {@code imaps://host:993/INBOX}), a user, and the password from a file (0600),
 * never logged; with timeouts, so a silent server cannot hold a poller forever.
 */
public record ImapMailbox(String url, Optional<String> user, Optional<String> passwordFile) {

    /** The folder's name in the URL (INBOX when none). */
    public String folder() {
        URLName u = new URLName(url);
        return u.getFile() == null || u.getFile().isEmpty() ? "INBOX" : u.getFile();
    }

    /** Where the mailbox is, without any password a URL might carry: {@code user@host:port/folder}. */
    public String key() {
        URLName u = new URLName(url);
        return user.orElse(u.getUsername() == null ? "" : u.getUsername()) + "@" + u.getHost() + ":" + u.getPort() + "/" + folder();
    }

    /** A connected store (close it). Blocking: not on an event loop. */
    public Store connect() throws MessagingException {
        URLName u = new URLName(url);
        Properties props = new Properties();
        for (String p : new String[] {"imap", "imaps"}) {
            props.put("mail." + p + ".connectiontimeout", "10000");
            props.put("mail." + p + ".timeout", "30000");
        }
        Session session = Session.getInstance(props);
        String password = passwordFile.map(f -> {
            try {
                return Files.readString(Path.of(f)).strip();
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the IMAP password file " + f, e);
            }
        }).orElse(u.getPassword());
        Store store = session.getStore(u.getProtocol());
        store.connect(u.getHost(), u.getPort(), user.orElse(u.getUsername()), password);
        return store;
    }
}
