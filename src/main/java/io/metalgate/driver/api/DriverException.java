package io.metalgate.driver.api;

/** Why a BMC operation failed, in terms an operator can act on; the message names the BMC and the detail. */
public final class DriverException extends RuntimeException {

    public enum Kind {
        /** Connection refused, no route, DNS: the BMC is not reachable. */
        UNREACHABLE,
        /** Connected, but no answer within the timeout (after the retries). */
        TIMEOUT,
        /** The BMC refused the credentials. */
        AUTHENTICATION,
        /** The BMC presented a certificate other than the pinned one: refused, nothing was sent. */
        CERTIFICATE_CHANGED,
        /** The BMC's session table is full and Basic authentication was refused too. */
        SESSION_LIMIT,
        /** The BMC answered an error (status and Redfish message in the text). */
        BMC_ERROR,
        /** The answer is not JSON, or lacks a property the operation needs. */
        MALFORMED_RESPONSE,
        /** The BMC does not offer this operation. */
        UNSUPPORTED,
        /** Too many failures in a row: calls to this BMC fail fast until it cools down. */
        CIRCUIT_OPEN,
        /** A conditional change kept losing to another writer (ETag mismatch after the retries). */
        CONFLICT
    }

    private final Kind kind;
    private final int status;

    public DriverException(Kind kind, String message) {
        this(kind, 0, message, null);
    }

    public DriverException(Kind kind, int status, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.status = status;
    }

    public Kind kind() {
        return kind;
    }

    /** The HTTP status the BMC answered, 0 if none. */
    public int status() {
        return status;
    }

    /** Worth retrying: the BMC may answer next time (timeouts, unreachable, 5xx). */
    public boolean transient_() {
        return kind == Kind.TIMEOUT || kind == Kind.UNREACHABLE || kind == Kind.BMC_ERROR && status >= 500;
    }
}
