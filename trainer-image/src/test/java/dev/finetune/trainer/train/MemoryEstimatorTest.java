package dev.finetune.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.finetune.api.trainer.MemoryEstimate;
import dev.finetune.trainer.model.ModelConfig;
import org.junit.jupiter.api.Test;

class MemoryEstimatorTest {

    /** Qwen3-0.6B's config.json shape. */
    static ModelConfig qwen3() throws Exception {
        return ModelConfig.parse(new ObjectMapper().readTree("""
                {"model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024, "intermediate_size": 3072,
                 "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
                 "tie_word_embeddings": true}"""), "config.json");
    }

    @Test
    void eachTermFollowsFromTheModelShapeAndTheRunSettings() throws Exception {
        // weights 596,049,920 x 2; trainable 10,092,544 x 16; per layer (2048 tokens x (6*1024 + 2*8*128 + 4*3072)
        // + 4 sequences x 2*16*512^2) x 2 bytes, 28 layers; logits 3 x 2048 x 151,936 x 4; runtime 768 MiB
        MemoryEstimate e = MemoryEstimator.estimate(new MemoryEstimator.Run(qwen3(), 596_049_920L, 2, 10_092_544L, 4, 512,
                false, false));
        assertThat(e.bytes()).isEqualTo(1_192_099_840L + 161_480_704L + 4_227_858_432L + 3_733_979_136L + 805_306_368L);
        assertThat(MemoryEstimate.human(e.bytes())).isEqualTo("9.4 GiB");
        assertThat(e.breakdown()).isEqualTo("weights 1.1 GiB (16-bit) + trainable parameters with gradients and AdamW "
                + "moments 154 MiB + activations 3.9 GiB (4 sequences × 512 tokens) + logits 3.5 GiB + runtime 768 MiB");
    }

    @Test
    void gradientCheckpointingKeepsLayerInputsAndPreferencePairsDoubleTheSequences() throws Exception {
        MemoryEstimate plain = MemoryEstimator.estimate(new MemoryEstimator.Run(qwen3(), 596_049_920L, 2, 10_092_544L, 4,
                512, false, false));
        MemoryEstimate checkpointed = MemoryEstimator.estimate(new MemoryEstimator.Run(qwen3(), 596_049_920L, 2,
                10_092_544L, 4, 512, true, false));
        // 28 layer inputs (2048 x 1024 x 2 bytes) plus one layer's full set instead of 28 full sets
        assertThat(plain.bytes() - checkpointed.bytes()).isEqualTo(4_227_858_432L - (117_440_512L + 150_994_944L));
        assertThat(checkpointed.breakdown()).contains("(4 sequences × 512 tokens, gradient checkpointing)");
        MemoryEstimate dpo = MemoryEstimator.estimate(new MemoryEstimator.Run(qwen3(), 596_049_920L, 2, 10_092_544L, 4,
                512, false, true));
        assertThat(dpo.breakdown()).contains("(8 sequences × 512 tokens)");
        assertThat(dpo.bytes()).isGreaterThan(plain.bytes() + 4_000_000_000L);
    }
}
