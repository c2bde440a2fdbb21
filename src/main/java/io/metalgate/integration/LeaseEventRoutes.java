package io.metalgate.integration;

import static io.metalgate.integration.UniSteps.step;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.metalgate.common.ApiException;
import io.metalgate.common.Problem;
import io.metalgate.common.ProblemMappers;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;

/**
 * The lease-event intake route ({@value #INTAKE}): the one route every channel that carries lease events
 * feeds (HTTP, signed webhooks, Kafka, MQTT, the mailbox, a dead letter's replay). It parses and
 * validates, lets Camel's idempotent consumer ({@link InboundEventRepository}: the stored events
 * themselves) tell a repeat from a new event, stores a new one before anything acts on it, then acts on
 * it. The reply's body is an {@link IntakeResult}; each channel's edge turns it into its own answer.
 *
 * <p>Nothing that arrives is dropped: a message that is not a valid event, or reuses an event's id for
 * other content, goes to the dead letters at once ({@link RejectedInput}); one whose processing fails
 * for any other reason is retried twice (asynchronously, with back-off), then kept as a dead letter
 * with the reason. Only when even that cannot be written does the exchange fail, so the channel refuses
 * the message and its sender keeps it. The reactive steps never block the route's thread
 * ({@link UniSteps}).
 */
@ApplicationScoped
public class LeaseEventRoutes extends RouteBuilder {

    /** The route's endpoint. Headers: {@link #ACTOR} (who sent it), {@link #CHANNEL} (where it came from). */
    public static final String INTAKE = "direct:lease-event-intake";
    public static final String ACTOR = "MetalgateActor";
    public static final String CHANNEL = "MetalgateChannel";
    /** Where the intake's failures go: stores the message as it came, with the reason. */
    static final String DEAD_LETTER = "direct:intake-dead-letter";
    /** The idempotency key of the message being processed (see {@link InboundEventRepository#key}). */
    static final String KEY = "MetalgateEventKey";
    /** The message as it was received, when a channel reshaped it before the intake (a webhook's field map). */
    static final String RAW = "MetalgateRawBody";
    /** The dead letter a message is a replay of: a failed replay is recorded on it, not kept twice. */
    static final String REPLAY_OF = "MetalgateReplayOf";
    private static final String EVENT = "MetalgateEvent";
    private static final String STORED = "MetalgateStoredEvent";

    /** Header: a batch left this message to the route (it is not offered to a batch again). */
    static final String ALONE = "MetalgateAlone";

    @Inject
    LeaseEventIntake intake;
    @Inject
    GroupCommit groupCommit;
    @Inject
    InboundEventRepository repository;
    @Inject
    ObjectMapper mapper;
    @Inject
    Validator validator;

    @Override
    public void configure() {
        from(DEAD_LETTER).routeId("intake-dead-letter")
                .process(step(this::deadLetter));

        from(INTAKE).routeId("lease-event-intake")
                .errorHandler(deadLetterChannel(DEAD_LETTER).useOriginalMessage().maximumRedeliveries(2).redeliveryDelay(200)
                        .useExponentialBackOff().backOffMultiplier(4).asyncDelayedRedelivery().logExhausted(true).logStackTrace(false))
                .onException(RejectedInput.class).handled(true).maximumRedeliveries(0).useOriginalMessage().to(DEAD_LETTER).end()
                .convertBodyTo(String.class)
                .process(this::parse).id("parse")
                .process(new GroupCommitStep()).id("group-commit")
                .idempotentConsumer(header(KEY), repository).eager(false).skipDuplicate(false)
                    .choice()
                        .when(exchangeProperty(Exchange.DUPLICATE_MESSAGE).isEqualTo(true))
                            .process(step(ex -> intake.repeat(event(ex), actor(ex)).invoke(r -> ex.getMessage().setBody(r)))).id("repeat")
                        .otherwise()
                            .process(step(this::store)).id("store")
                            .process(step(this::apply)).id("apply")
                    .end()
                .end();
    }

    /**
     * A plain lease event is settled with the others arriving at the same time ({@link GroupCommit}); what the batch
     * settled ends the route here, what it left goes on, one by one. Any other event (not batchable, left by a batch
     * before: {@link #ALONE}, or group commit off) goes on at once on the caller's own thread, as if the step were not
     * there. An event a batch left goes on on a thread of the group commit's own: the next step's idempotency lookup
     * blocks, and may run neither on the event loop that completed the batch nor on a worker pool whose threads may
     * all be callers waiting for it.
     */
    private final class GroupCommitStep extends org.apache.camel.support.AsyncProcessorSupport {
        @Override
        public boolean process(Exchange ex, org.apache.camel.AsyncCallback callback) {
            if (!groupCommit.offered(event(ex), Boolean.TRUE.equals(ex.getMessage().getHeader(ALONE, Boolean.class)))) {
                callback.done(true);
                return true;
            }
            groupCommit.settle(event(ex), actor(ex)).whenComplete((settled, failure) -> {
                if (failure == null && settled.isPresent()) {
                    ex.getMessage().setBody(settled.get());
                    ex.setRouteStop(true);
                    callback.done(false);
                    return;
                }
                if (failure != null) {
                    ex.setException(failure);
                }
                try {
                    groupCommit.continuation().execute(() -> callback.done(false));
                } catch (java.util.concurrent.RejectedExecutionException stopping) {
                    ex.setException(stopping);
                    callback.done(false);
                }
            });
            return false;
        }

        @Override
        public String toString() {
            return "group-commit";
        }
    }

    /** Stores a new event (or finds it stored, when a copy raced this one) before anything acts on it. */
    private Uni<LeaseEventIntake.Stored> store(Exchange ex) {
        return intake.accept(event(ex), actor(ex)).invoke(stored -> ex.setProperty(STORED, stored));
    }

    /** Acts on the stored event, unless it was acted on already or names no known lease. */
    private Uni<IntakeResult> apply(Exchange ex) {
        LeaseEvent event = event(ex);
        LeaseEventIntake.Stored stored = ex.getProperty(STORED, LeaseEventIntake.Stored.class);
        Uni<IntakeResult> result;
        if (stored.duplicate() && !LeaseEventIntake.STATUS_RECEIVED.equals(stored.status())) {
            result = Uni.createFrom().item(new IntakeResult(IntakeResult.Outcome.DUPLICATE, stored.eventId(), null, stored.status(), null));
        } else if (LeaseEventIntake.STATUS_UNKNOWN_LEASE.equals(stored.status())) {
            Problem p = LeaseEventIntake.unknownTarget(event, stored.eventId());
            result = Uni.createFrom().item(new IntakeResult(IntakeResult.Outcome.UNKNOWN_LEASE, stored.eventId(), null, stored.status(), p));
        } else {
            result = intake.apply(stored.eventId(), event, actor(ex)).map(r -> stored.duplicate()
                    ? new IntakeResult(IntakeResult.Outcome.DUPLICATE, r.eventId(), null, r.status(), r.problem()) : r);
        }
        return result.invoke(r -> ex.getMessage().setBody(r));
    }

    private Uni<IntakeResult> deadLetter(Exchange ex) {
        Throwable cause = ex.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        String raw = ex.getMessage().getHeader(RAW, String.class);
        String body = raw != null ? raw : ex.getMessage().getBody(String.class);
        java.util.UUID replayOf = ex.getMessage().getHeader(REPLAY_OF, java.util.UUID.class);
        IntakeResult.Outcome outcome;
        Problem problem;
        if (cause instanceof RejectedInput rejected) {
            outcome = rejected.outcome();
            problem = rejected.problem();
        } else {
            outcome = IntakeResult.Outcome.FAILED;
            problem = Problem.of(500, "intake-failed", "Processing failed", "the message could not be processed ("
                    + (cause == null ? "unknown cause" : cause.getClass().getSimpleName() + ": " + cause.getMessage())
                    + "); it is kept as a dead letter, to be replayed");
        }
        Problem reason = problem;
        return intake.deadLetter(channel(ex), body == null ? "" : body, reason.detail(), actor(ex), replayOf)
                .map(id -> new IntakeResult(outcome, null, id, null, reason))
                .invoke(r -> {
                    ex.getMessage().setBody(r);
                    ex.setRouteStop(true);
                });
    }

    private void parse(Exchange ex) {
        String body = ex.getMessage().getBody(String.class);
        LeaseEvent event;
        try {
            event = parse(body == null ? "" : body);
        } catch (ApiException invalid) {
            throw new RejectedInput(IntakeResult.Outcome.INVALID, invalid.problem());
        }
        ex.setProperty(EVENT, event);
        ex.getMessage().setHeader(KEY, InboundEventRepository.key(event.source(), event.externalId()));
    }

    private static LeaseEvent event(Exchange ex) {
        return ex.getProperty(EVENT, LeaseEvent.class);
    }

    private static String actor(Exchange ex) {
        return ex.getMessage().getHeader(ACTOR, "integration", String.class);
    }

    private static String channel(Exchange ex) {
        return ex.getMessage().getHeader(CHANNEL, "unknown", String.class);
    }

    /** Parses and validates an event; an ApiException (400) names the field or says why the JSON is malformed. */
    LeaseEvent parse(String body) {
        LeaseEvent event;
        try {
            event = mapper.readValue(body, LeaseEvent.class);
        } catch (JsonMappingException e) {
            Problem.FieldError f = ProblemMappers.describe(e);
            throw ApiException.badRequest(f.field(), f.message());
        } catch (com.fasterxml.jackson.core.JsonParseException e) {
            throw new ApiException(ProblemMappers.malformedProblem(e));
        } catch (JsonProcessingException e) {
            throw new ApiException(Problem.of(400, "malformed-json", "Malformed JSON", "the body is not valid JSON: "
                    + e.getOriginalMessage()).withErrors(List.of(new Problem.FieldError("body", "malformed JSON"))));
        }
        if (event == null) {
            throw ApiException.badRequest("body", "an event is required");
        }
        Set<ConstraintViolation<LeaseEvent>> violations = validator.validate(event);
        List<Problem.FieldError> together = event.crossFieldErrors();
        if (!violations.isEmpty() || !together.isEmpty()) {
            List<Problem.FieldError> errors = java.util.stream.Stream.concat(violations.stream()
                    .map(v -> new Problem.FieldError(v.getPropertyPath().toString(), v.getMessage())), together.stream())
                    .sorted(Comparator.comparing(Problem.FieldError::field)).toList();
            throw new ApiException(Problem.of(400, "validation", "Invalid request",
                    errors.stream().map(f -> f.field() + ": " + f.message()).collect(Collectors.joining("; "))).withErrors(errors));
        }
        return event;
    }

}
