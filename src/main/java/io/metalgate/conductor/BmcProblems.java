package io.metalgate.conductor;

import io.metalgate.common.Problem;
import io.metalgate.driver.api.DriverException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.Locale;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * A BMC that failed, as problem+json. Here rather than in {@code common.ProblemMappers}: only the conductor
 * calls drivers, so only its requests can end in a {@link DriverException}, and {@code common} stays below
 * the driver layer.
 */
public class BmcProblems {

    /**
     * 502 (504 for a timeout), the kind in the type (bmc-timeout, bmc-certificate-changed, …) and the driver's
     * message, which names the BMC and never holds a credential.
     */
    @ServerExceptionMapper
    public Response bmc(DriverException e, UriInfo uri) {
        int status = e.kind() == DriverException.Kind.TIMEOUT ? 504 : 502;
        String kind = "bmc-" + e.kind().name().toLowerCase(Locale.ROOT).replace('_', '-');
        Problem p = Problem.of(status, kind, "The BMC failed: " + e.kind(), e.getMessage());
        return Response.status(p.status()).type(Problem.MEDIA_TYPE).entity(p.withInstance(uri.getPath())).build();
    }
}
