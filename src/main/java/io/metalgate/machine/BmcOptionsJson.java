package io.metalgate.machine;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** A machine's BMC options as stored in {@code machine.bmc_options}: sorted JSON, null for none. */
public final class BmcOptionsJson {

    private static final ObjectMapper MAPPER = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private BmcOptionsJson() {
    }

    public static String write(MachineApi.BmcOptions o) {
        if (o == null || o.isEmpty()) {
            return null;
        }
        try {
            return MAPPER.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static MachineApi.BmcOptions read(String json) {
        if (json == null) {
            return MachineApi.BmcOptions.NONE;
        }
        try {
            return MAPPER.readValue(json, MachineApi.BmcOptions.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("machine.bmc_options is not BMC options: " + e.getMessage(), e);
        }
    }
}
