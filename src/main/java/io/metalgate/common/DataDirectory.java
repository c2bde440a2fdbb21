package io.metalgate.common;

import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/** The appliance's data directory ({@code metalgate.data-dir}) and the secret files in it. */
@ApplicationScoped
public class DataDirectory {

    private final Path root;

    public DataDirectory(MetalgateConfig config) {
        this.root = Path.of(config.dataDir()).toAbsolutePath().normalize();
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + root, e);
        }
    }

    public Path root() {
        return root;
    }

    /** A 0600 file under the data directory, created with {@code content} on first use. */
    public byte[] secret(String name, Supplier<byte[]> content) {
        return SecretFiles.readOrCreate(root.resolve(name), content);
    }
}
