#!/usr/bin/env python3
"""Writes the HF Transformers + PEFT parity goldens the Java trainer's tests compare against.

Run it through tools/reference/generate.sh (creates the pinned venv, then calls this file):

    bash tools/reference/generate.sh

Everything is computed on CPU, in fp32, with one thread and fixed seeds, by Hugging Face's own
classes (LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM, PEFT's LoRA layers,
torch.optim.AdamW, transformers' schedule functions, transformers.Trainer.evaluate). Every tensor is
also recomputed in fp64 and the fp32-vs-fp64 deviation is recorded next to it: that is the size of
fp32 rounding on this exact computation, the yardstick for the tolerances (docs/parity.md).

Output layout (under --out, normally trainer-image/src/test/resources/goldens/parity):

    index.json                      versions, command, cases, tolerances
    schedules.json                  lr multipliers of HF's warmup + cosine/linear/constant schedules
    <arch>/model/                   the tiny random model (HF save_pretrained: config.json, model.safetensors)
    <arch>/base.json|.safetensors   logits (single, padded batch, packed), loss with -100 labels, rope inv_freq
    <arch>/<lora case>/adapter/     PEFT save_pretrained of the fixed, non-zero adapter
    <arch>/<lora case>/golden.*     LoRA logits, loss, gradient of every adapter tensor, merged weights
    train-<case>/golden.*           AdamW + warmup/cosine + global-norm clipping + grad accumulation, 5 steps
    eval-llama/golden.*             exact token-weighted eval loss vs HF Trainer's eval_loss
"""
import argparse
import copy
import json
import math
import pathlib
import platform
import shutil
import sys
import tempfile

import numpy as np
import peft
import safetensors
import torch
import transformers
from peft import LoraConfig, get_peft_model
from peft.tuners.lora import LoraLayer
from safetensors.torch import save_file
from transformers import (
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
    Qwen3Config,
    Qwen3ForCausalLM,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_linear_schedule_with_warmup,
)

IGNORE = -100
PAD = 0
EOS_ID = 2
GEN_TOKENS = 16

# Tiny models: hidden 64, 2 layers, GQA everywhere, each family's own quirks switched on.
ARCHS = {
    # untied, GQA 4/2, Llama-3 rope theta
    "llama": (LlamaConfig, LlamaForCausalLM, 1001, dict(
        vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rope_theta=500000.0, rms_norm_eps=1e-5,
        max_position_embeddings=256, tie_word_embeddings=False)),
    # tied embeddings, llama3 rope scaling (high / medium / low frequency bands all populated),
    # attention_bias (q, k, v and o biases) and mlp_bias
    "llama-tied-rope3": (LlamaConfig, LlamaForCausalLM, 1002, dict(
        vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rope_theta=500000.0, rms_norm_eps=1e-5,
        max_position_embeddings=2048, tie_word_embeddings=True, attention_bias=True, mlp_bias=True,
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 256})),
    # q/k/v biases (no o bias), tied, linear rope scaling
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, 1003, dict(
        vocab_size=144, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, rope_theta=1000000.0, rms_norm_eps=1e-6,
        max_position_embeddings=512, tie_word_embeddings=True, use_sliding_window=False,
        rope_scaling={"rope_type": "linear", "factor": 2.0})),
    # qk-norm, head_dim 32 != hidden/heads (q width 128 != hidden 64), tied
    "qwen3": (Qwen3Config, Qwen3ForCausalLM, 1004, dict(
        vocab_size=160, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, rope_theta=1000000.0,
        rms_norm_eps=1e-6, max_position_embeddings=512, tie_word_embeddings=True,
        use_sliding_window=False)),
    # untied, GQA 4/1
    "mistral": (MistralConfig, MistralForCausalLM, 1005, dict(
        vocab_size=136, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, rope_theta=1000000.0, rms_norm_eps=1e-5,
        max_position_embeddings=512, tie_word_embeddings=False, sliding_window=None)),
}

ALL_LINEAR = "all-linear"
QV = ["q_proj", "v_proj"]

# (arch, case name, variant, targets, r, alpha)
LORA_CASES = [
    ("llama", "lora-all-linear", "lora", ALL_LINEAR, 4, 8),
    ("llama", "lora-qv", "lora", QV, 4, 8),
    ("llama", "rslora-all-linear", "rslora", ALL_LINEAR, 4, 8),
    ("llama", "rslora-qv", "rslora", QV, 4, 8),
    ("llama", "dora-all-linear", "dora", ALL_LINEAR, 4, 8),
    ("llama", "dora-qv", "dora", QV, 4, 8),
    ("llama-tied-rope3", "lora-all-linear", "lora", ALL_LINEAR, 4, 8),
    ("llama-tied-rope3", "dora-all-linear", "dora", ALL_LINEAR, 4, 8),  # DoRA on biased layers
    ("qwen2", "dora-all-linear", "dora", ALL_LINEAR, 8, 16),  # DoRA with q/k/v biases
    ("qwen3", "rslora-all-linear", "rslora", ALL_LINEAR, 8, 16),
    ("mistral", "lora-qv", "lora", QV, 4, 8),
]

# (name, arch, lora case whose adapter is the starting point)
TRAIN_CASES = [
    ("train-llama-lora", "llama", "lora-all-linear"),
    ("train-llama-dora", "llama", "dora-qv"),
]
TRAIN = dict(steps=5, micro_batches_per_step=2, micro_batch_size=2, seq_len=10, learning_rate=2e-3,
             warmup_steps=2, scheduler="cosine", weight_decay=0.01, betas=[0.9, 0.999], eps=1e-8,
             max_grad_norm=3.1)

# Tolerances the Java tests apply (docs/parity.md explains each). Elementwise checks are
# |java - golden| <= atol + rtol * |golden|; "scaled" checks are
# max|java - golden| <= rtol * max|golden| + atol over the whole tensor.
TOLERANCES = {
    "logits": {"atol": 2e-5, "rtol": 1e-5, "kind": "elementwise"},
    "loss": {"atol": 1e-5, "rtol": 1e-5, "kind": "elementwise"},
    "rope_inv_freq": {"atol": 0.0, "rtol": 1e-6, "kind": "elementwise"},
    "lora_grad": {"atol": 1e-7, "rtol": 1e-4, "kind": "scaled"},
    "merged_weight": {"atol": 1e-6, "rtol": 1e-6, "kind": "elementwise"},
    "adamw_param": {"atol": 1e-6, "rtol": 1e-5, "kind": "elementwise"},
    "adamw_exp_avg": {"atol": 1e-8, "rtol": 1e-4, "kind": "scaled"},
    "adamw_exp_avg_sq": {"atol": 1e-12, "rtol": 1e-4, "kind": "scaled"},
    "lr": {"atol": 1e-12, "rtol": 1e-9, "kind": "elementwise"},
    "grad_norm": {"atol": 1e-7, "rtol": 1e-5, "kind": "elementwise"},
    "eval_loss": {"atol": 1e-5, "rtol": 1e-6, "kind": "elementwise"},
    # bf16 has 8 mantissa bits: two correct bf16 implementations differ by bf16 rounding, not fp32's.
    # Java's bf16 logits must be as close to the fp32 truth as HF's bf16 logits are (within `factor`),
    # in max abs and in RMS over the tensor.
    "logits_bf16": {"factor": 1.5, "kind": "java_bf16_vs_fp32 <= factor * hf_bf16_vs_fp32 (max abs and rms)"},
}


def versions():
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "device": "cpu",
    }


def gen(seed):
    return torch.Generator().manual_seed(seed)


def max_dev(a, b):
    """max |a - b| of an fp32 result against its fp64 recomputation."""
    return float((a.double() - b.double()).abs().max())


def build_model(arch):
    cfg_cls, model_cls, seed, kw = ARCHS[arch]
    config = cfg_cls(**kw, bos_token_id=1, eos_token_id=2, pad_token_id=PAD, initializer_range=0.08,
                     attn_implementation="sdpa")
    torch.manual_seed(seed)
    model = model_cls(config).float().eval()
    g = gen(seed + 7)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                # HF initialises RMSNorm weights to ones; random ones prove the weight is applied
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return model


def inputs(arch_seed, vocab):
    g = gen(arch_seed + 11)
    single = torch.randint(3, vocab, (1, 12), generator=g)
    lengths = [10, 7, 4]
    t = max(lengths)
    batch = torch.randint(3, vocab, (len(lengths), t), generator=g)
    attn = (torch.arange(t).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).long()
    batch = batch.masked_fill(attn == 0, PAD)
    labels = batch.clone()
    labels[:, :3] = IGNORE  # a "prompt" of 3 tokens per row is not learned
    labels = labels.masked_fill(attn == 0, IGNORE)
    positions = torch.arange(t).unsqueeze(0).expand(len(lengths), t).contiguous()
    seg = [5, 7]
    packed = torch.randint(3, vocab, (1, sum(seg)), generator=g)
    packed_pos = torch.cat([torch.arange(n) for n in seg]).unsqueeze(0)
    packed_seg = torch.cat([torch.full((n,), i) for i, n in enumerate(seg)]).unsqueeze(0)
    return dict(single_ids=single, batch_ids=batch, batch_attention_mask=attn, batch_labels=labels,
                batch_positions=positions, packed_ids=packed, packed_positions=packed_pos,
                packed_segments=packed_seg)


def nll_sum_and_count(logits, labels):
    """sum of token NLL over shifted labels != -100, and their count (HF ForCausalLMLoss numerator)."""
    shift_logits = logits[:, :-1, :].reshape(-1, logits.size(-1)).to(torch.float64 if logits.dtype == torch.float64 else torch.float32)
    shift_labels = labels[:, 1:].reshape(-1)
    nll = torch.nn.functional.cross_entropy(shift_logits, shift_labels, ignore_index=IGNORE, reduction="sum")
    return nll, int((shift_labels != IGNORE).sum())


def base_outputs(model, x):
    with torch.no_grad():
        single = model(x["single_ids"], use_cache=False).logits
        batch_out = model(x["batch_ids"], attention_mask=x["batch_attention_mask"], labels=x["batch_labels"],
                          use_cache=False)
        packed = model(x["packed_ids"], position_ids=x["packed_positions"], use_cache=False).logits
        nll, count = nll_sum_and_count(batch_out.logits, x["batch_labels"])
    return dict(single=single, batch=batch_out.logits, loss=batch_out.loss, packed=packed, nll=nll, count=count)


def write_base(model, arch, out):
    seed = ARCHS[arch][2]
    d = out / arch
    if d.exists():
        shutil.rmtree(d)
    (d / "model").mkdir(parents=True)
    model.save_pretrained(d / "model", safe_serialization=True)
    x = inputs(seed, model.config.vocab_size)
    r32 = base_outputs(model, x)
    r64 = base_outputs(copy.deepcopy(model).double(), x)

    # HF's mean over label tokens is what we record as "loss"; check it is sum/count
    assert abs(float(r32["loss"]) - float(r32["nll"]) / r32["count"]) < 1e-6, "HF loss is not sum NLL / label tokens"
    # packed rows (position_ids restart, no attention mask) must equal the segments run alone
    with torch.no_grad():
        start = 0
        for n in [5, 7]:
            alone = model(x["packed_ids"][:, start:start + n], use_cache=False).logits
            assert torch.allclose(alone, r32["packed"][:, start:start + n], atol=1e-5), \
                "HF did not treat restarting position_ids as separate sequences"
            start += n

    # greedy decoding with HF's KV cache; every step's top-1 must beat top-2 clearly, so that fp32
    # noise between two correct implementations cannot flip a token
    with torch.no_grad():
        gen_out = model.generate(x["single_ids"], attention_mask=torch.ones_like(x["single_ids"]), max_new_tokens=GEN_TOKENS,
                                 do_sample=False, eos_token_id=EOS_ID, pad_token_id=PAD, output_scores=True,
                                 return_dict_in_generate=True)
    greedy = gen_out.sequences[0, x["single_ids"].shape[1]:].contiguous()
    margins = [float(v[0] - v[1]) for v in (sc[0].topk(2).values for sc in gen_out.scores)]
    assert min(margins) > 1e-3, f"greedy decoding of {arch} has a near-tie ({min(margins)}); change the seed"

    # bf16: the same model cast to bf16 (HF keeps RMSNorm statistics and rotary tables in fp32 and
    # casts back); its distance from the fp32 logits is the yardstick for the Java bf16 path
    with torch.no_grad():
        bf16 = copy.deepcopy(model).to(torch.bfloat16)(x["single_ids"], use_cache=False).logits.float()
    bf16_dev = (bf16.double() - r32["single"].double())

    rotary = model.model.rotary_emb
    tensors = {k: v.contiguous() for k, v in x.items()}
    tensors["logits_single_bf16"] = bf16.contiguous()
    tensors["greedy_new_tokens"] = greedy
    tensors.update({
        "logits_single": r32["single"].float().contiguous(),
        "logits_batch": r32["batch"].float().contiguous(),
        "logits_packed": r32["packed"].float().contiguous(),
        "loss": r32["loss"].float().reshape(1),
        "nll_sum": r32["nll"].float().reshape(1),
        "rope_inv_freq": rotary.inv_freq.float().contiguous(),
    })
    save_file(tensors, str(d / "base.safetensors"), metadata={"format": "pt"})
    meta = {
        "arch": arch,
        "model_dir": "model",
        "model_type": model.config.model_type,
        "hf_class": type(model).__name__,
        "attn_implementation": model.config._attn_implementation,
        "config": {k: v for k, v in ARCHS[arch][3].items()},
        "rope_attention_scaling": float(rotary.attention_scaling),
        "inputs": {
            "single_ids": "int64 [1, 12]; positions 0..11, no mask",
            "batch_ids": "int64 [3, 10], right-padded with pad id 0 to lengths [10, 7, 4]",
            "batch_attention_mask": "int64 [3, 10], 1 = real token (HF attention_mask)",
            "batch_positions": "int64 [3, 10] = arange(10) per row (HF's default position_ids; padding is on the right)",
            "batch_labels": "int64 [3, 10] = ids with -100 on the first 3 tokens and on padding; HF shifts inside the loss",
            "packed_ids": "int64 [1, 12], two sequences of 5 and 7 tokens packed in one row",
            "packed_positions": "int64 [1, 12], restarting at 0 per sequence (HF builds a block-diagonal causal mask from them)",
            "packed_segments": "int64 [1, 12], sequence index per token",
        },
        "outputs": {
            "logits_single": "fp32 [1, 12, V]",
            "logits_batch": "fp32 [3, 10, V]; compare rows only where attention_mask is 1",
            "logits_packed": "fp32 [1, 12, V]; equals each sequence run alone",
            "loss": "fp32 [1]; HF model(..., labels=batch_labels).loss = nll_sum / label_tokens",
            "nll_sum": "fp32 [1]; sum over shifted label tokens of -log softmax(logits)[label]",
            "rope_inv_freq": "fp32 [head_dim/2]; model.model.rotary_emb.inv_freq (after rope_scaling)",
            "greedy_new_tokens": f"int64 [<= {GEN_TOKENS}]; model.generate(single_ids, do_sample=False, "
                                 f"max_new_tokens={GEN_TOKENS}, eos_token_id={EOS_ID}) new tokens (KV-cached decoding; "
                                 "stops after eos, which is included)",
        },
        "greedy_min_top1_top2_margin": min(margins),
        "bf16": {
            "logits_single_bf16": "fp32 [1, 12, V] holding HF's bf16 logits (model.to(torch.bfloat16), same input)",
            "hf_bf16_vs_fp32_max_abs": float(bf16_dev.abs().max()),
            "hf_bf16_vs_fp32_rms": float(bf16_dev.pow(2).mean().sqrt()),
        },
        "tolerances": {k: TOLERANCES[k] for k in ['logits', 'loss', 'rope_inv_freq', 'logits_bf16']},
        "label_tokens": r32["count"],
        "loss": float(r32["loss"]),
        "nll_sum": float(r32["nll"]),
        "fp32_vs_fp64_max_abs": {
            "logits_single": max_dev(r32["single"], r64["single"]),
            "logits_batch_valid_rows": max_dev(r32["batch"][x["batch_attention_mask"] == 1],
                                               r64["batch"][x["batch_attention_mask"] == 1]),
            "logits_packed": max_dev(r32["packed"], r64["packed"]),
            "loss": abs(float(r32["nll"]) - float(r64["nll"])) / r32["count"],
        },
    }
    (d / "base.json").write_text(json.dumps(meta, indent=2) + "\n")
    return x


def adapter_key(param_name):
    """PEFT parameter name -> the key PEFT writes in adapter_model.safetensors."""
    k = param_name.replace(".default", "")
    if ".lora_magnitude_vector" in k:
        k = k[: k.index(".lora_magnitude_vector")] + ".lora_magnitude_vector"
    return k


def make_peft(model, variant, targets, r, alpha, seed):
    cfg = LoraConfig(r=r, lora_alpha=alpha, lora_dropout=0.0, target_modules=targets, bias="none",
                     use_rslora=variant == "rslora", use_dora=variant == "dora", task_type="CAUSAL_LM")
    pm = get_peft_model(copy.deepcopy(model), cfg)
    g = gen(seed)
    with torch.no_grad():
        for _, module in pm.named_modules():
            if isinstance(module, LoraLayer) and "default" in module.lora_A:
                a = module.lora_A["default"].weight
                b = module.lora_B["default"].weight
                a.copy_(0.15 * torch.randn(a.shape, generator=g))
                b.copy_(0.1 * torch.randn(b.shape, generator=g))  # non-zero: the adapter does something
                if variant == "dora":
                    m = module.lora_magnitude_vector["default"].weight
                    # PEFT set m = ||W|| row norms at init (B was 0); perturb it too so m != ||W + s B A||
                    m.mul_(1.0 + 0.1 * torch.randn(m.shape, generator=g))
    pm.eval()
    return pm


def lora_forward_backward(pm, x):
    pm.zero_grad(set_to_none=True)
    out = pm(x["batch_ids"], attention_mask=x["batch_attention_mask"], labels=x["batch_labels"], use_cache=False)
    # HF's loss upcasts logits to fp32; for the fp64 recomputation take the same mean in the model's dtype
    nll, count = nll_sum_and_count(out.logits, x["batch_labels"])
    loss = nll / count
    assert abs(float(loss) - float(out.loss)) < 1e-5
    loss.backward()
    grads = {adapter_key(n): p.grad.detach().clone() for n, p in pm.named_parameters() if p.requires_grad}
    return out.logits.detach(), (out.loss if out.logits.dtype == torch.float32 else loss).detach(), grads


def write_lora(model, arch, case, variant, targets, r, alpha, x, out, index):
    d = out / arch / case
    seed = ARCHS[arch][2] * 100 + index
    pm = make_peft(model, variant, targets, r, alpha, seed)
    pm.peft_config["default"].base_model_name_or_path = f"finetune-parity/{arch}"
    pm.save_pretrained(str(d / "adapter"), save_embedding_layers=False)
    (d / "adapter" / "README.md").unlink()  # PEFT's model-card stub, not part of the format
    saved = safetensors.torch.load_file(str(d / "adapter" / "adapter_model.safetensors"))

    logits, loss, grads = lora_forward_backward(pm, x)
    assert set(grads) == set(saved), f"gradient keys {sorted(set(grads) ^ set(saved))} differ from saved keys"
    pm64 = copy.deepcopy(pm).double()
    x64 = x
    logits64, loss64, grads64 = lora_forward_backward(pm64, x64)

    with torch.no_grad():
        single = pm(x["single_ids"], use_cache=False).logits.detach()

    # merged weights of layer 0's targeted projections (W + s B A; DoRA: m / ||W + s B A|| * (W + s B A))
    merged_model = copy.deepcopy(pm).merge_and_unload()
    merged = {}
    sd = merged_model.state_dict()
    for name in ["self_attn.q_proj"]:
        key = f"model.layers.0.{name}.weight"
        if f"base_model.model.model.layers.0.{name}.lora_A.weight" in saved:
            merged["merged." + key] = sd[key].float().contiguous()
    with torch.no_grad():
        merged_logits = merged_model(x["single_ids"], use_cache=False).logits
    assert torch.allclose(merged_logits, single, atol=1e-4), "PEFT merge_and_unload changed the logits"

    valid = x["batch_attention_mask"] == 1
    tensors = {
        "logits_batch": logits.float().contiguous(),
        "loss": loss.float().reshape(1),
    }
    for k, g in grads.items():
        tensors["grad." + k] = g.float().contiguous()
    tensors.update(merged)
    save_file(tensors, str(d / "golden.safetensors"), metadata={"format": "pt"})
    scaling = alpha / math.sqrt(r) if variant == "rslora" else alpha / r
    targeted = sorted({k.split(".")[-3] if k.endswith(".weight") else k.split(".")[-2] for k in saved})
    meta = {
        "arch": arch,
        "case": case,
        "model_dir": "../model",
        "base_inputs": "../base.safetensors",
        "adapter_dir": "adapter",
        "variant": variant,
        "r": r,
        "lora_alpha": alpha,
        "use_rslora": variant == "rslora",
        "use_dora": variant == "dora",
        "target_modules": targets,
        "targeted_module_names": targeted,
        "scaling": scaling,
        "lora_dropout": 0.0,
        "adapter_tensors": {k: list(v.shape) for k, v in sorted(saved.items())},
        "outputs": {
            "logits_batch": "fp32 [3, 10, V] of the adapted model on base batch_ids/attention_mask; compare where mask is 1",
            "loss": "fp32 [1]; mean NLL over the label tokens of batch_labels",
            "grad.<adapter key>": "fp32, same shape as the adapter tensor: d loss / d tensor after one backward of loss",
            "merged.<weight>": "fp32 layer-0 q_proj weight after PEFT merge_and_unload (W + s B A; DoRA: m / ||W + s B A||_row * (W + s B A))",
        },
        "tolerances": {k: TOLERANCES[k] for k in ['logits', 'loss', 'lora_grad', 'merged_weight']},
        "loss": float(loss),
        "fp32_vs_fp64_max_abs": {
            "logits_batch_valid_rows": max_dev(logits[valid], logits64[valid]),
            "loss": abs(float(loss) - float(loss64)),
            "grad_max": max(max_dev(grads[k], grads64[k]) for k in grads),
            "grad_max_abs_value": max(float(g.abs().max()) for g in grads.values()),
        },
    }
    if variant == "dora":
        meta["dora_note"] = ("PEFT computes ||W + s B A|| per output row with B A detached and the norm detached "
                             "(DoRA paper 4.3): no gradient flows through the norm. Biases are added after the "
                             "magnitude scaling (not scaled).")
    (d / "golden.json").write_text(json.dumps(meta, indent=2) + "\n")
    return pm


def train_batches(vocab, seed):
    t = TRAIN
    n = t["steps"] * t["micro_batches_per_step"]
    g = gen(seed)
    ids = torch.randint(3, vocab, (n, t["micro_batch_size"], t["seq_len"]), generator=g)
    lengths = torch.randint(4, t["seq_len"] + 1, (n, t["micro_batch_size"]), generator=g)
    attn = (torch.arange(t["seq_len"]).view(1, 1, -1) < lengths.unsqueeze(-1)).long()
    ids = ids.masked_fill(attn == 0, PAD)
    prompt = torch.randint(1, 4, (n, t["micro_batch_size"]), generator=g)
    labels = ids.masked_fill((attn == 0) | (torch.arange(t["seq_len"]).view(1, 1, -1) < prompt.unsqueeze(-1)), IGNORE)
    return ids, attn, labels


def run_training(pm, ids, attn, labels, dtype):
    """HF Trainer's inner loop, spelled out: token-normalised gradient accumulation, clip_grad_norm_,
    torch AdamW, scheduler.step() after optimizer.step()."""
    t = TRAIN
    pm = pm.to(dtype)
    pm.train()  # dropout is 0; train() only to be faithful
    params = [p for _, p in pm.named_parameters() if p.requires_grad]
    names = [adapter_key(n) for n, p in pm.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t["learning_rate"], betas=tuple(t["betas"]), eps=t["eps"],
                            weight_decay=t["weight_decay"])
    sched = get_cosine_schedule_with_warmup(opt, num_warmup_steps=t["warmup_steps"], num_training_steps=t["steps"])
    log = []
    snapshots = {}
    mb = t["micro_batches_per_step"]
    for step in range(t["steps"]):
        lr = opt.param_groups[0]["lr"]
        sl = slice(step * mb, (step + 1) * mb)
        # HF Trainer: num_items_in_batch = label tokens (after the shift) across the step's micro-batches
        n_items = int((labels[sl][:, :, 1:] != IGNORE).sum())
        total_nll = 0.0
        for i in range(step * mb, (step + 1) * mb):
            logits = pm(ids[i], attention_mask=attn[i], use_cache=False).logits
            nll, _ = nll_sum_and_count(logits, labels[i])
            (nll / n_items).backward()
            total_nll += float(nll)
        norm = torch.nn.utils.clip_grad_norm_(params, t["max_grad_norm"])
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        log.append({"step": step + 1, "lr": lr, "loss": total_nll / n_items, "label_tokens": n_items,
                    "grad_norm_before_clip": float(norm), "clipped": bool(float(norm) > t["max_grad_norm"])})
        if step + 1 in (1, t["steps"]):
            snap = {}
            for n, p in zip(names, params):
                st = opt.state[p]
                snap[f"param.{n}"] = p.detach().clone()
                snap[f"exp_avg.{n}"] = st["exp_avg"].detach().clone()
                snap[f"exp_avg_sq.{n}"] = st["exp_avg_sq"].detach().clone()
            snapshots[step + 1] = snap
    return log, snapshots


def write_train(model, name, arch, case, out):
    variant, targets, r, alpha = next((v, tg, rr, a) for (ar, c, v, tg, rr, a) in LORA_CASES if ar == arch and c == case)
    index = next(i for i, lc in enumerate(LORA_CASES) if lc[0] == arch and lc[1] == case)
    seed = ARCHS[arch][2] * 100 + index
    d = out / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    ids, attn, labels = train_batches(model.config.vocab_size, ARCHS[arch][2] + 99)
    pm = make_peft(model, variant, targets, r, alpha, seed)  # same start as <arch>/<case>/adapter
    log32, snaps32 = run_training(copy.deepcopy(pm), ids, attn, labels, torch.float32)
    log64, snaps64 = run_training(copy.deepcopy(pm), ids, attn, labels, torch.float64)
    tensors = {"ids": ids.contiguous(), "attention_mask": attn.contiguous(), "labels": labels.contiguous()}
    for step, snap in snaps32.items():
        for k, v in snap.items():
            tensors[f"step{step}.{k}"] = v.float().contiguous()
    save_file(tensors, str(d / "golden.safetensors"), metadata={"format": "pt"})
    dev = {}
    for step in snaps32:
        for kind in ("param", "exp_avg", "exp_avg_sq"):
            dev[f"step{step}.{kind}"] = max(max_dev(snaps32[step][k], snaps64[step][k])
                                            for k in snaps32[step] if k.startswith(kind + "."))
    meta = {
        "arch": arch,
        "model_dir": f"../{arch}/model",
        "initial_adapter_dir": f"../{arch}/{case}/adapter",
        "variant": variant,
        "target_modules": targets,
        "r": r,
        "lora_alpha": alpha,
        "hyperparameters": TRAIN,
        "procedure": [
            "optimizer: torch.optim.AdamW(trainable adapter tensors, lr, betas, eps, weight_decay) - one group, "
            "every adapter tensor decayed (HF Trainer decays all of them: none is a bias or a norm)",
            "schedule: transformers.get_cosine_schedule_with_warmup(warmup_steps, num_training_steps=steps); "
            "the lr of step k (1-based) is base_lr * lambda(k-1); scheduler.step() after optimizer.step()",
            "step k uses micro-batches 2(k-1) and 2(k-1)+1 of ids/attention_mask/labels [10, 2, 10]",
            "each micro-batch loss = sum NLL(shifted labels != -100) / label tokens of BOTH micro-batches "
            "(HF Trainer's num_items_in_batch), backward per micro-batch, gradients summed",
            "torch.nn.utils.clip_grad_norm_(adapter tensors, max_grad_norm): global L2 norm, scale by "
            "max_norm / (norm + 1e-6) when norm > max_norm",
            "optimizer.step(), scheduler.step(), zero_grad",
        ],
        "tolerances": {k: TOLERANCES[k] for k in ['adamw_param', 'adamw_exp_avg', 'adamw_exp_avg_sq', 'lr', 'grad_norm', 'loss']},
        "log": log32,
        "outputs": {
            "step{1,5}.param.<adapter key>": "adapter tensor after that many optimizer steps",
            "step{1,5}.exp_avg.<adapter key>": "AdamW first moment (torch state 'exp_avg')",
            "step{1,5}.exp_avg_sq.<adapter key>": "AdamW second moment (torch state 'exp_avg_sq')",
        },
        "fp32_vs_fp64_max_abs": dev,
        "fp32_vs_fp64_log": [{"step": a["step"], "loss": abs(a["loss"] - b["loss"]),
                              "grad_norm": abs(a["grad_norm_before_clip"] - b["grad_norm_before_clip"])}
                             for a, b in zip(log32, log64)],
    }
    (d / "golden.json").write_text(json.dumps(meta, indent=2) + "\n")


def write_schedules(out):
    from transformers import TrainingArguments

    def multipliers(fn, warmup, total, **kw):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        s = fn(opt, num_warmup_steps=warmup, num_training_steps=total, **kw) if fn is not get_constant_schedule_with_warmup \
            else fn(opt, num_warmup_steps=warmup)
        vals = []
        for _ in range(total):
            vals.append(opt.param_groups[0]["lr"])
            opt.step()
            s.step()
        return vals

    cases = []
    for warmup, total in [(0, 7), (2, 5), (3, 10), (10, 100), (1, 1)]:
        for name, fn in [("cosine", get_cosine_schedule_with_warmup), ("linear", get_linear_schedule_with_warmup),
                         ("constant", get_constant_schedule_with_warmup)]:
            cases.append({"scheduler": name, "warmup_steps": warmup, "total_steps": total,
                          "multipliers": multipliers(fn, warmup, total)})
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for ratio, total in [(0.1, 100), (0.03, 1000), (0.05, 7), (0.1, 25), (0.0, 10)]:
            args = TrainingArguments(output_dir=tmp, warmup_ratio=ratio, report_to=[], use_cpu=True)
            ratios.append({"warmup_ratio": ratio, "total_steps": total, "warmup_steps": args.get_warmup_steps(total)})
    doc = {
        "source": "transformers.get_{cosine,linear,constant}_schedule_with_warmup (num_cycles=0.5) and "
                  "TrainingArguments.get_warmup_steps",
        "semantics": "multipliers[k] is the lr factor used by optimizer step k+1 (LambdaLR: lambda(k)); "
                     "warmup: k / max(1, warmup); cosine: 0.5 * (1 + cos(pi * progress)), "
                     "progress = (k - warmup) / max(1, total - warmup); linear: max(0, (total - k) / max(1, total - warmup))",
        "schedules": cases,
        "warmup_ratio_to_steps": ratios,
    }
    (out / "schedules.json").write_text(json.dumps(doc, indent=2) + "\n")


def write_eval(model, out):
    """Exact eval loss (sum NLL / label tokens over the whole set) vs HF Trainer.evaluate()'s eval_loss."""
    from torch.utils.data import Dataset
    from transformers import Trainer, TrainingArguments

    d = out / "eval-llama"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    g = gen(4242)
    lengths = [9, 3, 6, 12, 5]
    prompts = [2, 1, 3, 2, 1]
    samples = []
    for n, p in zip(lengths, prompts):
        ids = torch.randint(3, model.config.vocab_size, (n,), generator=g)
        labels = ids.clone()
        labels[:p] = IGNORE
        samples.append({"input_ids": ids, "labels": labels})
    batch_size = 2

    def collate(rows):
        t = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), t), PAD)
        lab = torch.full((len(rows), t), IGNORE)
        att = torch.zeros((len(rows), t), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = r["input_ids"]
            lab[i, :n] = r["labels"]
            att[i, :n] = 1
        return {"input_ids": ids, "attention_mask": att, "labels": lab}

    class Rows(Dataset):
        def __len__(self):
            return len(samples)

        def __getitem__(self, i):
            return samples[i]

    per_batch = []
    total_nll, total_tokens = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(samples), batch_size):
            b = collate(samples[s:s + batch_size])
            out_b = model(**b, use_cache=False)
            nll, count = nll_sum_and_count(out_b.logits, b["labels"])
            per_batch.append({"samples": len(b["input_ids"]), "label_tokens": count, "nll_sum": float(nll),
                              "mean": float(out_b.loss)})
            total_nll += float(nll)
            total_tokens += count
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_eval_batch_size=batch_size, report_to=[], use_cpu=True,
                                 dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True)
        trainer = Trainer(model=model, args=args, eval_dataset=Rows(), data_collator=collate)
        hf = trainer.evaluate()
    hf_loss = float(hf["eval_loss"])
    sample_weighted = sum(b["samples"] * b["mean"] for b in per_batch) / sum(b["samples"] for b in per_batch)
    assert abs(hf_loss - sample_weighted) < 1e-5, f"HF eval_loss {hf_loss} is not the sample-weighted batch mean {sample_weighted}"
    exact = total_nll / total_tokens
    tensors = {}
    for i, s in enumerate(samples):
        tensors[f"sample{i}.input_ids"] = s["input_ids"].contiguous()
        tensors[f"sample{i}.labels"] = s["labels"].contiguous()
    save_file(tensors, str(d / "golden.safetensors"), metadata={"format": "pt"})
    meta = {
        "model_dir": "../llama/model",
        "samples": len(samples),
        "batch_size": batch_size,
        "batching": "samples in order, right-padded per batch with pad id 0, attention_mask, labels -100 on padding",
        "per_batch": per_batch,
        "label_tokens": total_tokens,
        "nll_sum": total_nll,
        "exact_eval_loss": exact,
        "exact_perplexity": math.exp(exact),
        "hf_trainer_eval_loss": hf_loss,
        "hf_trainer_perplexity": math.exp(hf_loss),
        "hf_trainer_formula": "mean over batches of the batch's token-mean loss, each batch weighted by its sample "
                              "count (Trainer.evaluation_loop: loss.repeat(batch_size), then mean)",
        "difference": exact - hf_loss,
        "tolerances": {k: TOLERANCES[k] for k in ['eval_loss']},
    }
    (d / "golden.json").write_text(json.dumps(meta, indent=2) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()

    models = {}
    cases = []
    for arch in ARCHS:
        model = build_model(arch)
        x = write_base(model, arch, out)
        models[arch] = model
        for i, (a, case, variant, targets, r, alpha) in enumerate(LORA_CASES):
            if a == arch:
                write_lora(model, arch, case, variant, targets, r, alpha, x, out, i)
                cases.append(f"{arch}/{case}")
        print(f"{arch}: base + {sum(1 for c in LORA_CASES if c[0] == arch)} LoRA cases", file=sys.stderr)
    for name, arch, case in TRAIN_CASES:
        write_train(models[arch], name, arch, case, out)
        print(f"{name}: 5 AdamW steps", file=sys.stderr)
    write_schedules(out)
    write_eval(models["llama"], out)

    index = {
        "generator": "tools/reference/generate_parity.py",
        "command": "bash tools/reference/generate.sh",
        "versions": versions(),
        "archs": list(ARCHS),
        "lora_cases": cases,
        "train_cases": [n for n, _, _ in TRAIN_CASES],
        "eval_cases": ["eval-llama"],
        "tolerances": TOLERANCES,
        "notes": "fp32 goldens; each *.json records fp32_vs_fp64_max_abs, the fp32 rounding of that computation",
    }
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    total = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"wrote {out} ({total / 1e6:.2f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
