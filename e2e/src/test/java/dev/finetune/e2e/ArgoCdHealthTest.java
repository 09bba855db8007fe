package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Runs the FineTuneJob health check and actions of deploy/argocd/resource_customizations (as Argo CD would, with obj
 * set) under LuaJ: on FineTuneJobs in each state, and on every case of health_test.yaml and actions/action_test.yaml
 * (the e2e module's ArgoCdAdminE2E runs the same cases through Argo CD's own engine).
 */
class ArgoCdHealthTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final Path REPO = Path.of(System.getProperty("repo.root", ".."));
    static final Path CHECK = REPO.resolve("deploy/argocd/resource_customizations/finetune.dev/FineTuneJob");

    record Health(String status, String message) {
    }

    static Health health(String json) throws Exception {
        return health(JSON.readTree(json));
    }

    static Health health(JsonNode job) throws Exception {
        JsonNode result = LuaJ.run(CHECK.resolve("health.lua"), job);
        return new Health(result.path("status").asText(), result.path("message").asText());
    }

    static String job(String phase, String conditions, String display) {
        return """
                {"metadata": {"name": "j", "generation": 2},
                 "status": {"phase": "%s", "observedGeneration": 2, "conditions": [%s], "display": {%s}}}
                """.formatted(phase, conditions, display);
    }

    static String condition(String type, String status, String message) {
        return "{\"type\": \"%s\", \"status\": \"%s\", \"message\": \"%s\"}".formatted(type, status, message);
    }

    @Test
    void noStatusYetIsProgressing() throws Exception {
        assertThat(health("{\"metadata\": {\"generation\": 1}}").status()).isEqualTo("Progressing");
    }

    @Test
    void trainingIsProgressingWithTheNumbers() throws Exception {
        Health h = health(job("Training", condition("Stalled", "False", "ok"),
                "\"epoch\": \"3/10\", \"evalLoss\": \"2.573\", \"eta\": \"1h12m\""));
        assertThat(h.status()).isEqualTo("Progressing");
        assertThat(h.message()).isEqualTo("Training: epoch 3/10, eval loss 2.573, ETA 1h12m");
    }

    @Test
    void aPreferenceJobShowsItsRewardAccuracy() throws Exception {
        Health h = health(job("Training", condition("Stalled", "False", "ok"),
                "\"epoch\": \"1/2\", \"evalLoss\": \"0.4127\", \"rewardAccuracy\": \"0.9375\", \"eta\": \"4m\""));
        assertThat(h.status()).isEqualTo("Progressing");
        assertThat(h.message()).isEqualTo("Training: epoch 1/2, eval loss 0.4127, reward accuracy 0.9375, ETA 4m");
    }

    @Test
    void terminalPhasesMapToHealthyAndDegraded() throws Exception {
        assertThat(health(job("Succeeded", condition("Succeeded", "True", "Training finished with eval loss 1.5"), "")))
                .isEqualTo(new Health("Healthy", "Training finished with eval loss 1.5"));
        assertThat(health(job("Failed", condition("Failed", "True", "Attempt 1 failed: bad data"), "")))
                .isEqualTo(new Health("Degraded", "Attempt 1 failed: bad data"));
    }

    @Test
    void suspendedAndStalled() throws Exception {
        assertThat(health(job("Suspended", condition("Suspended", "True", "spec.suspend is true"), "")).status()).isEqualTo("Suspended");
        Health stalled = health(job("Pending", condition("Stalled", "True", "PersistentVolumeClaim \\\"data\\\" does not exist"), ""));
        assertThat(stalled.status()).isEqualTo("Degraded");
        assertThat(stalled.message()).contains("\"data\"");
        assertThat(health(job("Initializing", condition("Reconciling", "True", "Starting attempt 1"), "")))
                .isEqualTo(new Health("Progressing", "Starting attempt 1"));
    }

    @Test
    void anUnobservedGenerationIsProgressingEvenWhenTerminal() throws Exception {
        String json = job("Succeeded", condition("Succeeded", "True", "done"), "").replace("\"observedGeneration\": 2", "\"observedGeneration\": 1");
        assertThat(health(json).status()).isEqualTo("Progressing");
    }

    static JsonNode yamlFile(Path file) throws Exception {
        return YAML.readTree(Files.readString(file));
    }

    @Test
    void everyCaseOfHealthTestYamlGivesItsVerdict() throws Exception {
        JsonNode tests = yamlFile(CHECK.resolve("health_test.yaml")).get("tests");
        assertThat(tests).hasSizeGreaterThanOrEqualTo(10);
        for (JsonNode test : tests) {
            Path input = CHECK.resolve(test.get("inputPath").asText());
            JsonNode expected = test.get("healthStatus");
            assertThat(health(yamlFile(input))).as(input.toString())
                    .isEqualTo(new Health(expected.get("status").asText(), expected.get("message").asText()));
        }
    }

    @Test
    void everyCaseOfActionTestYamlDiscoversAndRunsItsActions() throws Exception {
        Path actions = CHECK.resolve("actions");
        JsonNode cases = yamlFile(actions.resolve("action_test.yaml"));
        for (JsonNode test : cases.get("discoveryTests")) {
            Path input = actions.resolve(test.get("inputPath").asText());
            JsonNode discovered = LuaJ.run(actions.resolve("discovery.lua"), yamlFile(input));
            var names = new TreeSet<String>();
            discovered.fieldNames().forEachRemaining(names::add);
            var expected = new TreeSet<String>();
            test.get("result").forEach(a -> expected.add(a.get("name").asText()));
            assertThat(names).as(input.toString()).isEqualTo(expected);
            test.get("result").forEach(a -> {
                JsonNode found = discovered.get(a.get("name").asText());
                assertThat(found.path("iconClass").asText()).as(input + " " + a.get("name")).isEqualTo(a.get("iconClass").asText());
                assertThat(found.path("disabled").asBoolean(false)).as(input + " " + a.get("name") + " disabled")
                        .isEqualTo(a.path("disabled").asBoolean(false));
            });
        }
        for (JsonNode test : cases.get("actionTests")) {
            Path input = actions.resolve(test.get("inputPath").asText());
            String action = test.get("action").asText();
            JsonNode result = ArgoCdTool.withAnyRestartTime(LuaJ.run(actions.resolve(action).resolve("action.lua"), yamlFile(input)));
            JsonNode expected = yamlFile(actions.resolve(test.get("expectedOutputPath").asText()));
            assertThat(result.get("spec")).as(action + " on " + input).isEqualTo(expected.get("spec"));
            assertThat(result.at("/metadata/annotations")).as(action + " on " + input + ": annotations")
                    .isEqualTo(expected.at("/metadata/annotations"));
        }
    }

    @Test
    void theArgoCdConfigMapPatchCarriesTheSameScripts() throws Exception {
        JsonNode data = yamlFile(REPO.resolve("deploy/argocd/argocd-cm-patch.yaml")).get("data");
        String regenerate = "deploy/argocd/argocd-cm-patch.yaml differs from " + CHECK + ": run bash deploy/argocd/generate-cm-patch.sh";
        assertThat(data.get("resource.customizations.health.finetune.dev_FineTuneJob").asText().strip()).as(regenerate)
                .isEqualTo(Files.readString(CHECK.resolve("health.lua")).strip());
        JsonNode actions = YAML.readTree(data.get("resource.customizations.actions.finetune.dev_FineTuneJob").asText());
        assertThat(actions.get("discovery.lua").asText().strip()).as(regenerate)
                .isEqualTo(Files.readString(CHECK.resolve("actions/discovery.lua")).strip());
        var definitions = new TreeMap<String, String>();
        actions.get("definitions").forEach(d -> definitions.put(d.get("name").asText(), d.get("action.lua").asText().strip()));
        var files = new TreeMap<String, String>();
        try (var dirs = Files.list(CHECK.resolve("actions"))) {
            for (Path dir : dirs.filter(d -> Files.isRegularFile(d.resolve("action.lua"))).toList()) {
                files.put(dir.getFileName().toString(), Files.readString(dir.resolve("action.lua")).strip());
            }
        }
        assertThat(files).containsOnlyKeys("suspend", "resume", "restart");
        assertThat(definitions).as(regenerate).isEqualTo(files);
    }

    @Test
    void restartWritesTheCurrentTimeAndKeepsOtherAnnotations() throws Exception {
        Path actions = CHECK.resolve("actions");
        JsonNode job = yamlFile(actions.resolve("testdata/training.yaml")).deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) job.get("metadata")).putObject("annotations")
                .put("team", "nlp").put(ArgoCdTool.RESTART_ANNOTATION, "2026-12-06T03:00:00Z");
        JsonNode restarted = LuaJ.run(actions.resolve("restart/action.lua"), job);
        assertThat(restarted.at("/metadata/annotations/team").asText()).isEqualTo("nlp");
        String written = restarted.at("/metadata/annotations").get(ArgoCdTool.RESTART_ANNOTATION).asText();
        assertThat(written).as("a new request, not the old one").isNotEqualTo("2026-12-06T03:00:00Z");
        assertThat(ArgoCdTool.anyRestartTime(written)).isEqualTo(ArgoCdTool.ANY_TIME);
    }
}
