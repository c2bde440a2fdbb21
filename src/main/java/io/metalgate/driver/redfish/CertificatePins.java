package io.metalgate.driver.redfish;

import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Trust on first use for BMC certificates, which are self-signed: the first certificate a BMC presents is
 * accepted and remembered (the caller stores it with the machine); from then on only that certificate
 * (SHA-256 of its DER form) is accepted, and any other fails the TLS handshake — before a password or
 * token is sent. Pins are keyed by host:port, the peer the TLS engine was created for.
 */
public final class CertificatePins extends X509ExtendedTrustManager {

    /** The pin a handshake found for a BMC that had none (to be stored), or the mismatch that failed it. */
    public record Seen(String presentedSha256, String pinnedSha256) {
        public boolean changed() {
            return pinnedSha256 != null && !pinnedSha256.equals(presentedSha256);
        }
    }

    private final Map<String, String> pins = new ConcurrentHashMap<>();
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();

    /**
     * Expect {@code sha256} from {@code key} (host:port). Without a stored pin, the one learned on first use
     * in this process stays in force (it is never replaced by a later, different certificate).
     */
    public void expect(String key, Optional<String> sha256) {
        sha256.ifPresent(p -> pins.put(key, p.toLowerCase(java.util.Locale.ROOT)));
    }

    /** Forgets the pin of {@code key}: an operator accepted a new certificate; the next one is trusted on first use. */
    public void forget(String key) {
        pins.remove(key);
        seen.remove(key);
    }

    /** What the last handshake with {@code key} presented, if any handshake happened. */
    public Optional<Seen> seen(String key) {
        return Optional.ofNullable(seen.get(key));
    }

    public static String sha256(X509Certificate cert) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        check(chain, engine == null ? null : engine.getPeerHost() + ":" + engine.getPeerPort());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        check(chain, socket == null ? null : socket.getInetAddress().getHostAddress() + ":" + socket.getPort());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a BMC certificate is checked only with its peer known");
    }

    private void check(X509Certificate[] chain, String key) throws CertificateException {
        if (key == null || chain == null || chain.length == 0) {
            throw new CertificateException("no peer or no certificate to check");
        }
        String presented = sha256(chain[0]);
        org.jboss.logging.Logger.getLogger(CertificatePins.class).tracef("TLS peer %s presents %s", key, presented);
        String pinned = pins.putIfAbsent(key, presented); // first use: this one is the pin from now on
        seen.put(key, new Seen(presented, pinned));
        if (pinned != null && !pinned.equals(presented)) {
            throw new CertificateException("certificate changed: pinned SHA-256 " + pinned + ", presented " + presented);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("not a server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("not a server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("not a server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
