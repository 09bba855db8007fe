package dev.finetune.api.trainer;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.finetune.api.v1alpha1.FineTuneJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The one JSON and YAML setup for the contract: nulls left out, unknown fields tolerated (an older
 * trainer can read a newer operator's config), timestamps as RFC 3339 strings.
 */
public final class TrainerJson {

    private static final ObjectMapper JSON = configure(JsonMapper.builder().build());
    private static final ObjectMapper YAML = configure(new YAMLMapper(new YAMLFactory()));

    private TrainerJson() {
    }

    private static ObjectMapper configure(ObjectMapper mapper) {
        return mapper.registerModule(new JavaTimeModule())
                .setSerializationInclusion(JsonInclude.Include.NON_NULL)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    }

    public static ObjectMapper json() {
        return JSON;
    }

    public static ObjectMapper yaml() {
        return YAML;
    }

    public static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static <T> T read(String json, Class<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (IOException e) {
            throw new UncheckedIOException("not a valid " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    public static TrainerConfig readConfig(Path file) throws IOException {
        return JSON.readValue(Files.readString(file), TrainerConfig.class);
    }

    /** Reads a FineTuneJob manifest (YAML or JSON), as {@code kubectl apply -f} would get it. */
    public static FineTuneJob readJob(Path file) throws IOException {
        return YAML.readValue(Files.readString(file), FineTuneJob.class);
    }
}
