package dev.finetune.operator.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.finetune.api.trainer.TrainerJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;
import org.luaj.vm2.lib.jse.JsePlatform;

/** Runs deploy/argocd/health.lua (as Argo CD would, with obj set) on FineTuneJobs in each state. */
class ArgoCdHealthTest {

    static final Path REPO = Path.of(System.getProperty("repo.root", ".."));

    record Health(String status, String message) {
    }

    static Health health(String json) throws Exception {
        Globals globals = JsePlatform.standardGlobals();
        globals.set("obj", toLua(TrainerJson.json().readTree(json)));
        LuaValue result = globals.load(Files.readString(REPO.resolve("deploy/argocd/health.lua")), "health.lua").call();
        return new Health(result.get("status").tojstring(), result.get("message").tojstring());
    }

    static LuaValue toLua(JsonNode node) {
        if (node.isObject()) {
            LuaTable table = new LuaTable();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                var e = it.next();
                table.set(e.getKey(), toLua(e.getValue()));
            }
            return table;
        }
        if (node.isArray()) {
            LuaTable table = new LuaTable();
            for (int i = 0; i < node.size(); i++) {
                table.set(i + 1, toLua(node.get(i)));
            }
            return table;
        }
        if (node.isNumber()) {
            return LuaValue.valueOf(node.asDouble());
        }
        if (node.isBoolean()) {
            return LuaValue.valueOf(node.asBoolean());
        }
        return node.isNull() ? LuaValue.NIL : LuaValue.valueOf(node.asText());
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

    @Test
    void theArgoCdConfigMapPatchCarriesTheSameScript() throws Exception {
        String lua = Files.readString(REPO.resolve("deploy/argocd/health.lua"));
        String patch = Files.readString(REPO.resolve("deploy/argocd/argocd-cm-patch.yaml"));
        String embedded = TrainerJson.yaml().readTree(patch).get("data").get("resource.customizations.health.finetune.dev_FineTuneJob").asText();
        assertThat(embedded.strip()).isEqualTo(lua.strip());
    }
}
