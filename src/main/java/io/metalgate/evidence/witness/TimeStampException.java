package io.metalgate.evidence.witness;

/**
 * A time-stamp reply or token that must not be relied on. Checked, so that no caller can keep a token it
 * has not looked at; the message names the first check that failed.
 */
public final class TimeStampException extends Exception {

    private static final long serialVersionUID = 1L;

    public TimeStampException(String message) {
        super(message);
    }

    public TimeStampException(String message, Throwable cause) {
        super(message, cause);
    }
}
