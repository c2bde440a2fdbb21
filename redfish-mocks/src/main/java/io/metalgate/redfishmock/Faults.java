package io.metalgate.redfishmock;

/**
 * What a BMC does wrong, set by a test (or on the command line) while the emulator runs. Every field is
 * read on each request, so a fault can be switched on and off mid-test.
 */
public final class Faults {

    /** Delay before every answer, in milliseconds. */
    public volatile long latencyMillis;
    /** The next this-many requests answer 503 (then the BMC recovers). */
    public volatile int serverErrors;
    /** Every request answers 500 until cleared. */
    public volatile boolean brokenForever;
    /** Requests are read and never answered (the connection stays open). */
    public volatile boolean hang;
    /** Authenticated GETs answer truncated JSON. */
    public volatile boolean malformedJson;
    /** GETs of the ComputerSystem leave out PowerState (a required property for us). */
    public volatile boolean missingPowerState;
    /** Every login is refused as if the session table were full. */
    public volatile boolean sessionsExhausted;
    /** Tokens issued before now are forgotten (a BMC reboot): the next request with one answers 401. */
    public volatile boolean forgetSessions;
    /** The ETag changes behind the client's back once (another writer), so its If-Match PATCH gets 412. */
    public volatile boolean concurrentWriter;
    /** The next request with a valid token answers 401 while its session stays open (the client must delete it). */
    public volatile boolean rejectTokenOnce;
    /** Basic authentication is refused (only sessions work). */
    public volatile boolean basicRefused;
    /** The system links only SimpleStorage (as older BMCs do), no Storage. */
    public volatile boolean onlySimpleStorage;

    /** The system reports the all-zero placeholder UUID (boards whose SMBIOS UUID was never set). */
    public volatile boolean noSystemUuid;

    /** The drives report no serial number (null), as some older BMCs do. */
    public volatile boolean driveSerialsMissing;

    public void clear() {
        rejectTokenOnce = false;
        latencyMillis = 0;
        serverErrors = 0;
        brokenForever = false;
        hang = false;
        malformedJson = false;
        missingPowerState = false;
        sessionsExhausted = false;
        forgetSessions = false;
        concurrentWriter = false;
        onlySimpleStorage = false;
        basicRefused = false;
    }
}
