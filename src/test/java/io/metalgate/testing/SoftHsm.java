package io.metalgate.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A fresh token in a real SoftHSM2 (Debian package softhsm2), with EC P-256 key entries and their
 * self-signed certificates made by {@code keytool} through the JDK's SunPKCS11 provider, as an operator
 * would make them. {@link #config} is the SunPKCS11 configuration file, {@link #pinFile} the user PIN
 * (mode 0600): what {@code metalgate.audit.signing-key.pkcs11-config} and {@code pkcs11-pin-file} name.
 *
 * <p>Where the token lives, and why not in a directory under {@code target/} of its own: the tests open
 * the token in-process (SunPKCS11 loads {@code libsofthsm2.so} into this JVM), and SoftHSM2 2.6 finds its
 * configuration only through the environment: {@code $SOFTHSM2_CONF}, else
 * {@code $HOME/.config/softhsm2/softhsm2.conf}, else {@code /etc/softhsm/softhsm2.conf} (read at
 * {@code C_Initialize}). A running JVM cannot change its own environment, and SunPKCS11's configuration
 * has no way to pass one to the library, so a {@code softhsm2.conf} under {@code target/} given to the
 * subprocesses only would describe tokens this JVM never sees. The token is therefore created in the
 * token directory of the configuration this JVM's SoftHSM2 reads (on Debian, as root:
 * {@code /var/lib/softhsm/tokens}, group softhsm), with a label unique to the run, and deleted again by
 * {@link #close()} (or at JVM exit). The subprocesses ({@code softhsm2-util}, {@code keytool}) inherit
 * this JVM's environment, so they see the same configuration. Exporting {@code SOFTHSM2_CONF} before
 * Maven starts (inherited by Surefire's fork) moves all of it elsewhere.
 *
 * <p>SunPKCS11 has no {@code tokenLabel} setting ("Unknown keyword"), and {@code slotListIndex} moves as
 * other tokens come and go (another build may create some), so the configuration names the token by
 * {@code slot}: the slot ID {@code softhsm2-util --init-token} reassigns the token to (derived from its
 * serial, stable across processes).
 *
 * <p>Two more things SoftHSM2 and SunPKCS11 do inside one JVM, which this class works around:
 * <ul>
 * <li>SunPKCS11 initialises a PKCS#11 library once per JVM and library path, and SoftHSM2 looks for tokens
 * only at {@code C_Initialize}: a token created after the first open in this JVM is not there
 * ({@code CKR_SLOT_ID_INVALID}); keys added to an existing token later are seen. A symlink to the library
 * is the same loaded library; a copy of the file is a library of its own. So each token's configuration
 * names its own copy of {@code libsofthsm2.so} in {@link #dir}, which makes every token independent of
 * what else this JVM opened before.</li>
 * <li>A PKCS#11 login is the application's, not the session's: once one provider logged in to a token,
 * SunPKCS11 skips {@code C_Login} for every later one ("already logged in") and any PIN, even a wrong
 * one, opens the token. A test of the PIN check needs a token of its own, opened with the wrong PIN
 * first.</li>
 * </ul>
 */
public final class SoftHsm implements AutoCloseable {

    /** Debian's arch-independent path (libsofthsm2 links it to {@code /usr/lib/<triplet>/softhsm/}). */
    public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");

    private static final String INSTALL_HINT = "SoftHSM2 is not installed: apt-get install softhsm2 "
            + "(./metalgate test installs it with the other test peers)";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern SLOT = Pattern.compile("reassigned to slot (\\d+)");

    /** Where this token's SunPKCS11 configuration, PIN file and library copy are (under {@code target/softhsm}). */
    public final Path dir;
    public final String label;
    public final long slot;
    public final String pin;
    /** The SunPKCS11 configuration file of this token. */
    public final Path config;
    /** The user PIN, mode 0600. */
    public final Path pinFile;
    private final Thread cleanup;
    private boolean closed;

    private SoftHsm(Path dir, String label, long slot, String pin, Path config, Path pinFile) {
        this.dir = dir;
        this.label = label;
        this.slot = slot;
        this.pin = pin;
        this.config = config;
        this.pinFile = pinFile;
        this.cleanup = new Thread(this::deleteToken, "softhsm-cleanup-" + label);
    }

    /** A fresh, initialised token with an EC P-256 key and certificate for each of {@code aliases}. */
    public static SoftHsm create(String... aliases) throws IOException, InterruptedException {
        requireInstalled();
        Path tokenDir = tokenDirectory();
        String label = "metalgate-test-" + HexFormat.of().formatHex(bytes(6));
        String pin = digits(8);
        String soPin = digits(8);
        Path dir = Files.createDirectories(Path.of("target", "softhsm", label).toAbsolutePath());
        Path library = dir.resolve("libsofthsm2.so");
        Files.copy(LIBRARY, library); // follows the symlink: a file of its own, loaded as a library of its own
        String out = run(List.of("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin));
        Matcher m = SLOT.matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("softhsm2-util --init-token did not say which slot the token " + label
                    + " went to (token directory " + tokenDir + "): " + out);
        }
        long slot = Long.parseLong(m.group(1));
        Path config = dir.resolve("pkcs11.cfg");
        Files.writeString(config, """
                # SunPKCS11 configuration of the SoftHSM2 token %s (test)
                name = %s
                library = %s
                slot = %d
                """.formatted(label, label, library, slot), StandardCharsets.UTF_8);
        Path pinFile = dir.resolve("pin");
        Files.createFile(pinFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(pinFile, pin + "\n", StandardCharsets.UTF_8);
        SoftHsm hsm = new SoftHsm(dir, label, slot, pin, config, pinFile);
        Runtime.getRuntime().addShutdownHook(hsm.cleanup);
        try {
            for (String alias : aliases) {
                hsm.addEcKey(alias);
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            hsm.close();
            throw e;
        }
        return hsm;
    }

    /** A new EC P-256 key pair in the token, with a self-signed certificate {@code CN=alias}, made by keytool. */
    public void addEcKey(String alias) throws IOException, InterruptedException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        run(List.of(keytool.toString(), "-genkeypair", "-keystore", "NONE", "-storetype", "PKCS11", "-providerclass",
                "sun.security.pkcs11.SunPKCS11", "-providerarg", config.toString(), "-alias", alias, "-keyalg", "EC",
                "-groupname", "secp256r1", "-dname", "CN=" + alias, "-validity", "3650", "-storepass", pin));
    }

    /** Another PIN file (mode 0600) next to the right one, e.g. with a wrong PIN. */
    public Path pinFile(String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }

    /** Deletes the token from SoftHSM2 and this token's files under {@code target/softhsm}. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs anyway
        }
        deleteToken();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p); // the library copy may stay mapped in this JVM: unlinking it is fine
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void deleteToken() {
        try {
            run(List.of("softhsm2-util", "--delete-token", "--token", label));
        } catch (IOException | RuntimeException e) {
            System.err.println("SoftHsm: could not delete the token " + label + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void requireInstalled() {
        if (!Files.isRegularFile(LIBRARY)) {
            throw new IllegalStateException(INSTALL_HINT + " (no " + LIBRARY + ")");
        }
        try {
            Process p = new ProcessBuilder("softhsm2-util", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException(INSTALL_HINT + " (no softhsm2-util on the PATH)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * The token directory of the configuration SoftHSM2 reads in this JVM and its subprocesses (its own
     * search order), which must be writable: else the test fails here, saying so.
     */
    private static Path tokenDirectory() throws IOException {
        Map<String, String> env = System.getenv();
        Path conf;
        if (env.get("SOFTHSM2_CONF") != null) {
            conf = Path.of(env.get("SOFTHSM2_CONF"));
        } else {
            Path user = Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".config", "softhsm2",
                    "softhsm2.conf");
            conf = Files.isReadable(user) ? user : Path.of("/etc/softhsm/softhsm2.conf");
        }
        if (!Files.isReadable(conf)) {
            throw new IllegalStateException("SoftHSM2's configuration " + conf + " is missing or unreadable: " + INSTALL_HINT
                    + ", or export SOFTHSM2_CONF=<a softhsm2.conf> before running the tests");
        }
        Path tokenDir = null;
        for (String line : Files.readAllLines(conf, StandardCharsets.UTF_8)) {
            String l = line.replaceFirst("#.*", "").strip();
            if (l.startsWith("directories.tokendir")) {
                tokenDir = Path.of(l.substring(l.indexOf('=') + 1).strip());
            }
        }
        if (tokenDir == null || !Files.isDirectory(tokenDir) || !Files.isWritable(tokenDir)) {
            throw new IllegalStateException("SoftHSM2's token directory " + tokenDir + " (directories.tokendir of " + conf
                    + ") is missing or not writable by this user: run the tests as root or as a member of group softhsm "
                    + "(adduser $USER softhsm), or export SOFTHSM2_CONF=<a softhsm2.conf with a writable "
                    + "directories.tokendir> before running them");
        }
        return tokenDir;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command.get(0) + " " + command.get(1) + " did not finish: " + out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(command.get(0) + " " + command.get(1) + " failed (exit " + p.exitValue() + "): "
                    + out.strip());
        }
        return out;
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private static String digits(int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('0' + RANDOM.nextInt(10)));
        }
        return sb.toString();
    }
}
