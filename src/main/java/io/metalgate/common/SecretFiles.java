package io.metalgate.common;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.function.Supplier;

/**
 * Files in the data directory that hold secrets (keys, generated passwords): created once, mode 0600
 * from the first byte (never world-readable, not even briefly), and read back on every later start.
 */
public final class SecretFiles {

    private static final SecureRandom RANDOM = new SecureRandom();

    private SecretFiles() {
    }

    /** Reads {@code file}, or creates it with {@code content} when it does not exist yet. */
    public static byte[] readOrCreate(Path file, Supplier<byte[]> content) {
        try {
            if (Files.exists(file)) {
                return Files.readAllBytes(file);
            }
            Files.createDirectories(file.getParent());
            byte[] bytes = content.get();
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, bytes, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                Files.deleteIfExists(tmp);
            }
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create secret file " + file, e);
        }
    }

    /** A URL-safe random password of 32 characters (192 bits). */
    public static String randomPassword() {
        byte[] b = new byte[24];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }
}
