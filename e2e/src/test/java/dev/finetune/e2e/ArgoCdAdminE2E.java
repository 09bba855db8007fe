package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FineTuneJob health check and actions under Argo CD's own engine: {@code argocd admin settings
 * resource-overrides health|list-actions|run-action} (v3.6.2, gopher-lua) on every case of health_test.yaml and
 * actions/action_test.yaml, compared with the expected verdicts there and with LuaJ's (ArgoCdHealthTest, in this module's
 * default build, runs the same cases under LuaJ). Needs no cluster.
 */
class ArgoCdAdminE2E {

    private static Path repo;
    private static Path check;
    private static Path argocd;
    private static Path cm;

    @BeforeAll
    static void argocdAndItsConfigMap() {
        repo = E2eSettings.fromSystemProperties().repo();
        check = repo.resolve(ArgoCdTool.CHECK_DIR);
        argocd = ArgoCdTool.binary(repo);
        cm = ArgoCdTool.write(ArgoCdTool.argocdCm(repo), repo.resolve("e2e/target/argocd-admin/argocd-cm.yaml"));
    }

    private static String admin(String... args) {
        List<String> command = new ArrayList<>(List.of(argocd.toString(), "admin", "settings", "resource-overrides"));
        command.addAll(List.of(args));
        command.addAll(List.of("--argocd-cm-path", cm.toString()));
        return Processes.run(repo, Duration.ofMinutes(1), command);
    }

    /** "STATUS: x" and "MESSAGE: y" lines of {@code argocd admin settings resource-overrides health}. */
    private static String argoHealth(Path input) {
        String out = admin("health", input.toString());
        String status = null;
        String message = null;
        for (String line : out.split("\n")) {
            if (line.startsWith("STATUS: ")) {
                status = line.substring("STATUS: ".length());
            } else if (line.startsWith("MESSAGE: ")) {
                message = line.substring("MESSAGE: ".length());
            }
        }
        assertThat(status).as("argocd admin ... health " + input + " printed:\n" + out).isNotNull();
        return status + " | " + message;
    }

    @Test
    void healthVerdictsOfArgoCdEqualHealthTestYamlAndLuaJ() {
        JsonNode tests = ArgoCdTool.yaml(check.resolve("health_test.yaml")).get("tests");
        assertThat(tests).hasSizeGreaterThanOrEqualTo(10);
        for (JsonNode test : tests) {
            Path input = check.resolve(test.get("inputPath").asText());
            String expected = test.at("/healthStatus/status").asText() + " | " + test.at("/healthStatus/message").asText();
            JsonNode lua = LuaJ.run(check.resolve("health.lua"), ArgoCdTool.yaml(input));
            String luaj = lua.get("status").asText() + " | " + lua.get("message").asText();
            String argo = argoHealth(input);
            System.out.println("[argocd admin] " + check.relativize(input) + ": " + argo);
            assertThat(argo).as("argocd admin on " + input).isEqualTo(expected);
            assertThat(luaj).as("LuaJ on " + input).isEqualTo(argo);
        }
    }

    @Test
    void discoveredActionsOfArgoCdEqualActionTestYamlAndLuaJ() {
        Path actions = check.resolve("actions");
        for (JsonNode test : ArgoCdTool.yaml(actions.resolve("action_test.yaml")).get("discoveryTests")) {
            Path input = actions.resolve(test.get("inputPath").asText());
            TreeSet<String> expected = new TreeSet<>();
            test.get("result").forEach(a -> expected.add(a.get("name").asText()));
            TreeSet<String> argo = new TreeSet<>();
            String out = admin("list-actions", input.toString());
            for (String line : out.split("\n")) {
                String[] cells = line.trim().split("\\s+");
                if (cells.length == 2 && !cells[0].equals("NAME")) {
                    argo.add(cells[0]);
                    JsonNode wanted = null;
                    for (JsonNode a : test.get("result")) {
                        wanted = a.get("name").asText().equals(cells[0]) ? a : wanted;
                    }
                    assertThat(cells[1]).as("DISABLED of " + cells[0] + " on " + input)
                            .isEqualTo(String.valueOf(wanted != null && wanted.path("disabled").asBoolean(false)));
                }
            }
            TreeSet<String> luaj = new TreeSet<>();
            LuaJ.run(actions.resolve("discovery.lua"), ArgoCdTool.yaml(input)).fieldNames().forEachRemaining(luaj::add);
            System.out.println("[argocd admin] actions of " + check.relativize(input) + ": " + argo);
            assertThat(argo).as("argocd admin list-actions " + input + ":\n" + out).isEqualTo(expected);
            assertThat(luaj).as("LuaJ discovery on " + input).isEqualTo(argo);
        }
    }

    @Test
    void actionsRunByArgoCdChangeWhatActionTestYamlExpects() {
        Path actions = check.resolve("actions");
        JsonNode tests = ArgoCdTool.yaml(actions.resolve("action_test.yaml")).get("actionTests");
        assertThat(tests).hasSize(3);
        for (JsonNode test : tests) {
            String action = test.get("action").asText();
            Path input = actions.resolve(test.get("inputPath").asText());
            JsonNode expectedOutput = ArgoCdTool.yaml(actions.resolve(test.get("expectedOutputPath").asText()));
            List<String> expected = changedLeaves(ArgoCdTool.yaml(input), expectedOutput, "");
            assertThat(expected).as("action_test.yaml case " + action + " changes something").isNotEmpty();
            String diff = admin("run-action", input.toString(), action);
            List<String> argo = new ArrayList<>();
            // the diff(1) Argo CD runs: "< old" and "> new" lines (or "-"/"+" with a unified diff)
            for (String line : anyRestartTime(diff).split("\n")) {
                if (line.startsWith("< ") || line.startsWith("> ")) {
                    argo.add((line.charAt(0) == '<' ? "-" : "+") + line.substring(2).strip());
                } else if ((line.startsWith("-") || line.startsWith("+")) && !line.startsWith("---") && !line.startsWith("+++")) {
                    argo.add(line.charAt(0) + line.substring(1).strip());
                }
            }
            System.out.println("[argocd admin] " + action + " on " + check.relativize(input) + ": " + argo);
            assertThat(argo).as("argocd admin run-action " + action + " on " + input + ":\n" + diff)
                    .containsExactlyInAnyOrderElementsOf(expected);
            JsonNode luaj = ArgoCdTool.withAnyRestartTime(LuaJ.run(actions.resolve(action).resolve("action.lua"), ArgoCdTool.yaml(input)));
            assertThat(luaj.get("spec")).as("LuaJ " + action + " on " + input).isEqualTo(expectedOutput.get("spec"));
            assertThat(luaj.at("/metadata/annotations")).as("LuaJ " + action + " on " + input)
                    .isEqualTo(expectedOutput.at("/metadata/annotations"));
        }
    }

    /** Argo CD's diff with the restart time it wrote (quoted in YAML) checked and replaced by ArgoCdTool.ANY_TIME. */
    private static String anyRestartTime(String diff) {
        Matcher m = Pattern.compile("(" + Pattern.quote(ArgoCdTool.RESTART_ANNOTATION) + ": )\"?([^\"\\s]+)\"?").matcher(diff);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String time = m.group(2).equals(ArgoCdTool.ANY_TIME) ? ArgoCdTool.ANY_TIME : ArgoCdTool.anyRestartTime(m.group(2));
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + time));
        }
        return m.appendTail(out).toString();
    }

    /**
     * "-key: old" and "+key: new" for each scalar that differs between the two objects, and "+key:" ("-key:") for an
     * object only the second (first) has, followed by its scalars: as a YAML diff shows it.
     */
    private static List<String> changedLeaves(JsonNode before, JsonNode after, String path) {
        List<String> changes = new ArrayList<>();
        if ((before == null) != (after == null) && (before != null ? before : after).isObject()) {
            JsonNode present = before != null ? before : after;
            String sign = before != null ? "-" : "+";
            changes.add(sign + path + ":");
            present.fieldNames().forEachRemaining(key -> changes.addAll(before != null
                    ? changedLeaves(present.get(key), null, key) : changedLeaves(null, present.get(key), key)));
            return changes;
        }
        if (before != null && after != null && before.isObject() && after.isObject()) {
            TreeSet<String> keys = new TreeSet<>();
            before.fieldNames().forEachRemaining(keys::add);
            after.fieldNames().forEachRemaining(keys::add);
            for (String key : keys) {
                changes.addAll(changedLeaves(before.get(key), after.get(key), key));
            }
            return changes;
        }
        if (before == null || !before.equals(after)) {
            if (before != null) {
                changes.add("-" + path + ": " + before.asText());
            }
            if (after != null) {
                changes.add("+" + path + ": " + after.asText());
            }
        }
        return changes;
    }
}
