package io.metalgate.integration.outbound;

import io.metalgate.security.SecretCipher;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/**
 * The signed, expiring link each notice carries to the tenant's page: {@code <base>/notice/<token>}, the token
 * {@code base64url(noticeId.expiresEpochSeconds).hmac}, the HMAC-SHA-256 keyed by the appliance's secrets key for this
 * purpose only ({@link SecretCipher#tag}). Nothing is stored: a token is good while its tag verifies and it has not
 * expired. It is the page's only credential, so it is never logged.
 */
@ApplicationScoped
public class NoticeLinks {

    static final String PURPOSE = "notice-link";

    /** What a valid token names. */
    public record Link(UUID noticeId, Instant expires) {
    }

    @Inject
    SecretCipher cipher;
    @Inject
    NoticesConfig config;

    public String token(UUID noticeId, Instant expires) {
        String claim = noticeId + "." + expires.getEpochSecond();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(claim.getBytes(StandardCharsets.UTF_8)) + "."
                + cipher.tag(PURPOSE, claim);
    }

    /** The link for a notice made now, when a base URL is configured. */
    public Optional<String> url(UUID noticeId, Instant now) {
        return config.linkBaseUrl().map(base -> base.replaceAll("/+$", "") + "/notice/" + token(noticeId, now.plus(config.linkTtl())));
    }

    /** The notice a token names, if its tag verifies and it has not expired at {@code now}. */
    public Optional<Link> verify(String token, Instant now) {
        if (token == null || token.length() > 300) {
            return Optional.empty();
        }
        int dot = token.lastIndexOf('.');
        if (dot <= 0) {
            return Optional.empty();
        }
        try {
            String claim = new String(Base64.getUrlDecoder().decode(token.substring(0, dot)), StandardCharsets.UTF_8);
            if (!cipher.verifyTag(PURPOSE, claim, token.substring(dot + 1))) {
                return Optional.empty();
            }
            int sep = claim.indexOf('.');
            Link link = new Link(UUID.fromString(claim.substring(0, sep)), Instant.ofEpochSecond(Long.parseLong(claim.substring(sep + 1))));
            return link.expires().isAfter(now) ? Optional.of(link) : Optional.empty();
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            return Optional.empty();
        }
    }
}
