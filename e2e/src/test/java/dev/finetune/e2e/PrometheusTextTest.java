package dev.finetune.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.NavigableMap;
import org.junit.jupiter.api.Test;

/** The load benchmark's reading of Prometheus text: labels with escapes, sums, bucket deltas and quantiles. */
class PrometheusTextTest {

    private static final String BEFORE = """
            # HELP apiserver_request_duration_seconds [STABLE] Response latency
            # TYPE apiserver_request_duration_seconds histogram
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="GET",le="0.1"} 10
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="GET",le="0.2"} 10
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="GET",le="+Inf"} 10
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="WATCH",le="0.1"} 0
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="WATCH",le="0.2"} 0
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="WATCH",le="+Inf"} 5
            jvm_memory_used_bytes{area="heap",id="Tenured Gen"} 1.5E7
            jvm_memory_used_bytes{area="heap",id="Eden Space"} 5000000
            jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 9.0E7
            odd{path="a\\"b,c=d",x="y"} 3 1712345678000
            up 1
            """;
    private static final String AFTER = """
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="GET",le="0.1"} 60
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="GET",le="0.2"} 110
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="GET",le="+Inf"} 111
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="WATCH",le="0.1"} 0
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="WATCH",le="0.2"} 0
            apiserver_request_duration_seconds_bucket{resource="finetunejobs",verb="WATCH",le="+Inf"} 900
            """;

    @Test
    void sumsTheSamplesWhoseLabelsPass() {
        PrometheusText text = PrometheusText.parse(BEFORE);
        assertThat(text.sum("jvm_memory_used_bytes", l -> "heap".equals(l.get("area")))).isEqualTo(2.0e7);
        assertThat(text.sum("odd", l -> "a\"b,c=d".equals(l.get("path")) && "y".equals(l.get("x")))).isEqualTo(3);
        assertThat(text.sum("up", l -> true)).isEqualTo(1);
        assertThat(text.sum("missing", l -> true)).isZero();
        assertThat(text.labelValues("jvm_memory_used_bytes", "id")).containsExactly("Eden Space", "Metaspace", "Tenured Gen");
        assertThat(text.labelValues("up", "id")).containsExactly("");
    }

    @Test
    void quantilesOfTheObservationsBetweenTwoScrapesInterpolateLikePromQl() {
        var notWatch = (java.util.function.Predicate<java.util.Map<String, String>>) l -> !"WATCH".equals(l.get("verb"));
        String metric = "apiserver_request_duration_seconds";
        NavigableMap<Double, Double> delta = PrometheusText.delta(PrometheusText.parse(AFTER).buckets(metric, notWatch),
                PrometheusText.parse(BEFORE).buckets(metric, notWatch));
        // 101 observations: 50 in (0, 0.1], 50 in (0.1, 0.2], 1 above 0.2
        assertThat(delta).containsEntry(0.1, 50.0).containsEntry(0.2, 100.0).containsEntry(Double.POSITIVE_INFINITY, 101.0);
        assertThat(PrometheusText.quantile(0.5, delta)).isCloseTo(0.1 + 0.1 * 0.5 / 50, within(1e-12));
        assertThat(PrometheusText.quantile(0.25, delta)).isCloseTo(0.1 * 25.25 / 50, within(1e-12));
        assertThat(PrometheusText.quantile(0.999, delta)).as("rank in +Inf: the highest finite bound").isEqualTo(0.2);
        assertThat(PrometheusText.quantile(0.5, new java.util.TreeMap<>())).isNaN();
    }
}
