package io.metalgate.integration.outbound;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.lease.NoticeService;
import io.quarkus.mailer.Mail;
import io.quarkus.mailer.reactive.ReactiveMailer;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * Sends a notice e-mail through quarkus-mailer (SMTP: {@code quarkus.mailer.*}) with the Message-ID the relay stored
 * before the first try, so a resend is recognisably the same message. The mail client completes only when the server
 * answered the end of DATA with a 2xx reply (anything else fails the attempt, which is retried); the proof records that,
 * the Message-ID and the recipient. The Vert.x mail client does not hand back the reply's text (a queue id).
 */
@ApplicationScoped
public class EmailSender {

    @Inject
    ReactiveMailer mailer;
    @Inject
    OutboundConfig config;
    @Inject
    ObjectMapper mapper;

    Uni<OutboxRelay.Sent> send(OutboxRelay.Due d) {
        Mail mail = Mail.withText(d.recipient(), d.title(), d.body()).setFrom(config.email().from())
                .addHeader("Message-ID", d.messageId())
                .addHeader("X-Metalgate-Idempotency-Key", d.key());
        config.email().bounceAddress().ifPresent(mail::setBounceAddress);
        String server = ConfigProvider.getConfig().getOptionalValue("quarkus.mailer.host", String.class).orElse("localhost") + ":"
                + ConfigProvider.getConfig().getOptionalValue("quarkus.mailer.port", String.class).orElse("25");
        return mailer.send(mail).map(v -> {
            Map<String, Object> proof = new LinkedHashMap<>();
            proof.put("smtp", "2xx to end of DATA");
            proof.put("server", server);
            proof.put("messageId", d.messageId());
            proof.put("to", d.recipient());
            proof.put("idempotencyKey", d.key());
            try {
                return new OutboxRelay.Sent(mapper.writeValueAsString(proof), NoticeService.Outcome.SENT);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
