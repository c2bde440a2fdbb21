package io.metalgate.security;

import io.metalgate.common.SecretFiles;
import java.util.Base64;

/** API token secrets: {@code mgt_} and 256 random bits, base64url. */
public final class ApiTokens {

    public static final String PREFIX = "mgt_";

    private ApiTokens() {
    }

    public static String newSecret() {
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(SecretFiles.randomBytes(32));
    }
}
