package io.metalgate.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.UsernamePasswordAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Set;

/** HTTP Basic against the users table (Argon2id). The password is never logged or kept in clear. */
@ApplicationScoped
public class BasicIdentityProvider implements IdentityProvider<UsernamePasswordAuthenticationRequest> {

    // Verified against when the user does not exist, so that response time does not reveal user names.
    private static final String DUMMY_HASH = PasswordHasher.hash("metalgate-no-such-user");

    @Inject
    UserStore users;

    @Override
    public Class<UsernamePasswordAuthenticationRequest> getRequestType() {
        return UsernamePasswordAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(UsernamePasswordAuthenticationRequest request, AuthenticationRequestContext context) {
        String username = request.getUsername();
        String password = new String(request.getPassword().getPassword());
        var cached = users.cachedRoles(username, password);
        if (cached.isPresent()) {
            return Uni.createFrom().item(identity(username, cached.get()));
        }
        // the same credentials arriving together are checked once (an expired remembered check, a burst of requests)
        return checks.run(UserStore.cacheKey(username, password), () -> users.find(username).chain(found -> context.runBlocking(() -> {
            boolean ok = found.isPresent() && !found.get().disabled()
                    && PasswordHasher.verify(password, found.get().passwordHash());
            if (found.isEmpty()) {
                PasswordHasher.verify(password, DUMMY_HASH);
            }
            if (!ok) {
                throw new AuthenticationFailedException("invalid credentials");
            }
            users.remember(username, password, found.get().roles());
            return identity(username, found.get().roles());
        })));
    }

    private final SingleFlight<String, SecurityIdentity> checks = new SingleFlight<>();

    private static SecurityIdentity identity(String username, Set<String> roles) {
        return QuarkusSecurityIdentity.builder().setPrincipal(new QuarkusPrincipal(username)).addRoles(roles)
                .addAttribute("auth", "basic").build();
    }
}
