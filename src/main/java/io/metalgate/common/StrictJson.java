package io.metalgate.common;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.quarkus.jackson.ObjectMapperCustomizer;
import jakarta.inject.Singleton;
import java.io.IOException;

/**
 * JSON as the API reads it, for the whole application: a key given twice in one object is refused (not
 * "last wins"); a value of the wrong JSON type is refused rather than coerced (no number or boolean
 * read as a string, no string read as a number or boolean, no float read as an integer, no number read
 * as an enum; enums are read from their names, in any case); every string is checked by {@link Text#refusedAnywhere}
 * (NUL, control characters, unpaired surrogates); trailing content after the document is refused.
 * The errors are {@link JsonMappingException}s with the field's path, which {@link ProblemMappers}
 * turns into a 400 naming the field.
 */
@Singleton
public class StrictJson implements ObjectMapperCustomizer {

    /** Applied after every other customizer (Quarkus's Java time support among them), so its Instant rule wins. */
    @Override
    public int priority() {
        return MINIMUM_PRIORITY;
    }

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        mapper.enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS, DeserializationFeature.FAIL_ON_TRAILING_TOKENS,
                DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        mapper.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        // an enum's name in any case ("redfish" is REDFISH): a name is a name, whoever typed it; still only names
        mapper.enable(com.fasterxml.jackson.databind.MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS);
        for (LogicalType type : new LogicalType[] { LogicalType.Integer, LogicalType.Float, LogicalType.Boolean, LogicalType.Textual,
                LogicalType.Enum }) {
            var config = mapper.coercionConfigFor(type);
            for (CoercionInputShape shape : new CoercionInputShape[] { CoercionInputShape.String, CoercionInputShape.EmptyString,
                    CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean }) {
                boolean natural = switch (type) {
                    case Integer -> shape == CoercionInputShape.Integer;
                    case Float -> shape == CoercionInputShape.Float || shape == CoercionInputShape.Integer;
                    case Textual -> shape == CoercionInputShape.String || shape == CoercionInputShape.EmptyString;
                    case Enum -> shape == CoercionInputShape.String;
                    default -> false;
                };
                if (!natural) {
                    config.setCoercion(shape, CoercionAction.Fail);
                }
            }
        }
        mapper.registerModule(new SimpleModule("metalgate-strict-json").addDeserializer(String.class, new StrictStringDeserializer())
                .addDeserializer(java.time.Instant.class, new BoundedInstantDeserializer()));
    }

    /**
     * Instants between 1970 and 9999 only: PostgreSQL keeps a later one as "infinity" (and the JSON of a year past 9999
     * is not ISO-8601's basic form), so such a value would be kept as something other than what was sent.
     */
    static final class BoundedInstantDeserializer extends StdScalarDeserializer<java.time.Instant> {

        private static final long serialVersionUID = 1L;
        static final java.time.Instant EARLIEST = java.time.Instant.parse("1970-01-01T00:00:00Z");
        static final java.time.Instant LATEST = java.time.Instant.parse("9999-12-31T23:59:59.999999Z");

        BoundedInstantDeserializer() {
            super(java.time.Instant.class);
        }

        @Override
        public java.time.Instant deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            java.time.Instant i = com.fasterxml.jackson.datatype.jsr310.deser.InstantDeserializer.INSTANT.deserialize(p, ctxt);
            if (i != null && (i.isBefore(EARLIEST) || i.isAfter(LATEST))) {
                throw JsonMappingException.from(p, "must be between 1970 and 9999");
            }
            return i;
        }
    }

    /** Strings only from JSON strings, and only acceptable text (see {@link Text#refusedAnywhere}). */
    static final class StrictStringDeserializer extends StdScalarDeserializer<String> {

        private static final long serialVersionUID = 1L;

        StrictStringDeserializer() {
            super(String.class);
        }

        @Override
        public LogicalType logicalType() {
            return LogicalType.Textual;
        }

        @Override
        public boolean isCachable() {
            return true;
        }

        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (p.hasToken(JsonToken.VALUE_STRING)) {
                String s = p.getText();
                String why = Text.refusedAnywhere(s);
                if (why != null) {
                    throw JsonMappingException.from(p, why);
                }
                return s;
            }
            if (p.hasToken(JsonToken.VALUE_EMBEDDED_OBJECT) && p.getEmbeddedObject() instanceof String s) {
                return s; // from a TokenBuffer (convertValue): already Java, not sent by anyone
            }
            return (String) ctxt.handleUnexpectedToken(String.class, p);
        }
    }
}
