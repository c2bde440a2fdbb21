package io.metalgate.appliance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CommandLineTest {

    @Test
    void noArgumentsRunWithTheConfiguration() throws Exception {
        CommandLine.Options o = CommandLine.parse();
        assertFalse(o.help());
        assertEquals(Optional.empty(), o.port());
        assertEquals(Map.of(), o.systemProperties());
    }

    @Test
    void portAndDataDirBecomeTheirConfigurationKeys() throws Exception {
        CommandLine.Options o = CommandLine.parse("--port", "18100", "--data-dir", "/var/lib/mg");
        assertEquals(Optional.of(18100), o.port());
        assertEquals(Optional.of(Path.of("/var/lib/mg")), o.dataDir());
        assertEquals(Map.of("quarkus.http.port", "18100", "metalgate.data-dir", "/var/lib/mg"), o.systemProperties());
        assertEquals(o, CommandLine.parse("--data-dir=/var/lib/mg", "--port=18100"));
    }

    @Test
    void helpIsHelp() throws Exception {
        assertTrue(CommandLine.parse("--help").help());
        assertTrue(CommandLine.parse("-h").help());
        assertTrue(CommandLine.USAGE.contains("--port PORT"));
        assertTrue(CommandLine.USAGE.contains("audit verify"));
    }

    @ParameterizedTest
    @ValueSource(strings = { "-Dquarkus.http.port=18100", "--bogus", "run", "serve", "--port", "--port=", "--port=abc", "--port=0",
            "--port=65536", "--port=-1", "--port=99999999999", "--data-dir", "--data-dir=", "--help=yes", "-p" })
    void anythingElseIsAUsageError(String arg) {
        CommandLine.UsageException e = assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse(arg));
        assertFalse(e.getMessage().isBlank());
    }

    @Test
    void anOptionTwiceOrAStrayValueIsAUsageError() {
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--port", "1", "--port", "2"));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--port", "1", "2"));
        assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("--data-dir", "a", "--data-dir", "b"));
        CommandLine.UsageException d = assertThrows(CommandLine.UsageException.class, () -> CommandLine.parse("-Dx=y"));
        assertTrue(d.getMessage().contains("before -jar"), d.getMessage());
    }
}
