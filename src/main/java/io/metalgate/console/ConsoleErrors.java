package io.metalgate.console;

import io.metalgate.common.ProblemMappers;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** A console form without its session's CSRF token: 403, nothing done. */
public class ConsoleErrors {

    @ServerExceptionMapper
    public Response csrf(ConsoleResource.CsrfRefused e) {
        return ProblemMappers.consoleRefusal(403, "This form was not sent from your console session (its CSRF token is missing or stale). "
                + "Nothing was done. Reload the page and try again.");
    }
}
