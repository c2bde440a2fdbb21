package io.metalgate.security;

import io.quarkus.security.AuthenticationFailedException;
import io.quarkus.security.identity.AuthenticationRequestContext;
import io.quarkus.security.identity.IdentityProvider;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.security.identity.request.TokenAuthenticationRequest;
import io.quarkus.security.runtime.QuarkusPrincipal;
import io.quarkus.security.runtime.QuarkusSecurityIdentity;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

/**
 * Resolves an API token by its SHA-256 (tokens are 256 random bits, so a fast hash is enough; the clear
 * token is shown once at creation and never stored). The principal is {@code user/token-name}.
 */
@ApplicationScoped
public class TokenIdentityProvider implements IdentityProvider<TokenAuthenticationRequest> {

    @Inject
    UserStore users;

    @Override
    public Class<TokenAuthenticationRequest> getRequestType() {
        return TokenAuthenticationRequest.class;
    }

    @Override
    public Uni<SecurityIdentity> authenticate(TokenAuthenticationRequest request, AuthenticationRequestContext context) {
        String secret = request.getToken().getToken();
        if (!secret.startsWith(ApiTokens.PREFIX)) {
            return Uni.createFrom().failure(new AuthenticationFailedException("not a metalgate API token"));
        }
        return users.findLiveToken(secret).map(found -> {
            var token = found.orElseThrow(() -> new AuthenticationFailedException("unknown, expired or revoked token"));
            return QuarkusSecurityIdentity.builder()
                    .setPrincipal(new QuarkusPrincipal(token.username() + "/" + token.name()))
                    .addRoles(token.roles()).addAttribute("auth", "token").addAttribute("token-id", token.id().toString())
                    .build();
        });
    }
}
