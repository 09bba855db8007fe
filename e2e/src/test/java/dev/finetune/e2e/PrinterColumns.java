package dev.finetune.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What {@code kubectl get finetunejob NAME} prints, read the way kubectl reads it: the API server's Table
 * rendering of the CRD's additionalPrinterColumns ({@code Accept: application/json;as=Table;g=meta.k8s.io;v=v1}).
 * Column names are upper-cased, as kubectl shows them; cells are the API server's text.
 */
final class PrinterColumns {

    private static final String TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

    private PrinterColumns() {
    }

    /** Column name (PHASE, GPUS, EPOCH, EVAL-LOSS, PPL, AGE, and the wide ones) to the cell kubectl shows. */
    static Map<String, String> of(KubernetesClient client, String namespace, String job) {
        String url = client.getMasterUrl().toString().replaceAll("/$", "")
                + "/apis/finetune.dev/v1alpha1/namespaces/" + namespace + "/finetunejobs/" + job;
        HttpClient http = client.getHttpClient();
        HttpRequest request = http.newHttpRequestBuilder().uri(url).header("Accept", TABLE).build();
        HttpResponse<String> response;
        try {
            response = http.sendAsync(request, String.class).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted reading " + url, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("GET " + url + " as a Table failed: " + e, e);
        }
        if (response.code() != 200) {
            throw new IllegalStateException("GET " + url + " as a Table: HTTP " + response.code() + ": " + response.body());
        }
        JsonNode table = Serialization.unmarshal(response.body(), JsonNode.class);
        if (!"Table".equals(table.path("kind").asText())) {
            throw new IllegalStateException("GET " + url + " did not answer a Table: " + response.body());
        }
        JsonNode cells = table.path("rows").path(0).path("cells");
        Map<String, String> columns = new LinkedHashMap<>();
        int i = 0;
        for (JsonNode definition : table.path("columnDefinitions")) {
            JsonNode cell = cells.path(i++);
            columns.put(definition.path("name").asText().toUpperCase(Locale.ROOT), cell.isNull() ? "" : cell.asText());
        }
        return columns;
    }
}
