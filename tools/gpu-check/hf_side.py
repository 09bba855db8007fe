#!/usr/bin/env python3
"""The HF half of the GPU bring-up kit's side-by-side (tools/gpu-check/run calls it; docs/benchmarks.md).

    hf_side.py model  --config CONFIG.json [--set key=value ...] --out DIR    random-weight model, bf16 safetensors
    hf_side.py tokens --model DIR --count N --out FILE                         int32 little-endian token ids
    hf_side.py bench  --model DIR --tokens FILE --seq N --batch N --warmup N --steps N --out FILE

`bench` is HF Trainer + PEFT as a user runs them: LoRA r16, alpha 32, dropout 0, target "all-linear", the
model loaded in bf16 with SDPA attention, TrainingArguments(bf16=True), AdamW at a constant learning rate,
no gradient checkpointing, the batches of FILE in order (the Java side reads the same file in the same
order). Step times come from a callback that synchronises CUDA at each step's start and end; memory is the
peak of (total - free) device memory sampled every millisecond with torch.cuda.mem_get_info, as the Java
side samples cudaMemGetInfo (on CPU: the peak resident set, ru_maxrss). Works with transformers 4.57 and 5.x.
"""
import argparse
import json
import pathlib
import resource
import statistics
import sys
import tempfile
import threading
import time

import torch


def make_model(args):
    from transformers import AutoConfig, AutoModelForCausalLM

    config_dict = json.loads(pathlib.Path(args.config).read_text())
    for item in args.set or []:
        key, _, value = item.partition("=")
        if key not in config_dict:
            sys.exit(f"hf_side.py model: --set {item}: {args.config} has no key {key!r}")
        config_dict[key] = json.loads(value)
    config = AutoConfig.for_model(**config_dict)
    torch.manual_seed(1234)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config)
    model = model.to(torch.bfloat16)
    model.save_pretrained(args.out, safe_serialization=True)
    (pathlib.Path(args.out) / "config.json").write_text(json.dumps(dict(config_dict, torch_dtype="bfloat16"), indent=2))
    count = sum(p.numel() for p in model.parameters())
    print(json.dumps({"model": args.out, "parameters": count, "device": device}))


def make_tokens(args):
    config = json.loads((pathlib.Path(args.model) / "config.json").read_text())
    generator = torch.Generator().manual_seed(4321)
    ids = torch.randint(0, config["vocab_size"], (args.count,), generator=generator, dtype=torch.int32)
    ids.numpy().astype("<i4").tofile(args.out)


class MemorySampler:
    """Peak of total - free device memory, polled every millisecond (context, allocator cache and tensors)."""

    def __init__(self):
        free, total = torch.cuda.mem_get_info()
        self.baseline = self.peak = total - free
        self.running = True
        self.thread = threading.Thread(target=self._poll, daemon=True)
        self.thread.start()

    def _poll(self):
        while self.running:
            free, total = torch.cuda.mem_get_info()
            self.peak = max(self.peak, total - free)
            time.sleep(0.001)

    def stop(self):
        self.running = False
        self.thread.join()
        free, total = torch.cuda.mem_get_info()
        self.peak = max(self.peak, total - free)


def bench(args):
    from peft import LoraConfig, get_peft_model
    from torch.utils.data import DataLoader
    from transformers import AutoModelForCausalLM, Trainer, TrainerCallback, TrainingArguments

    cuda = torch.cuda.is_available()
    sampler = MemorySampler() if cuda else None
    per_batch = args.batch * args.seq
    batches = args.warmup + args.steps
    tokens = torch.from_numpy(__import__("numpy").fromfile(args.tokens, dtype="<i4").astype("int64"))
    if tokens.numel() < per_batch * batches:
        sys.exit(f"hf_side.py bench: {args.tokens} holds {tokens.numel()} tokens, {batches} batches of "
                 f"{args.batch} x {args.seq} need {per_batch * batches}")
    rows = tokens[: per_batch * batches].view(batches * args.batch, args.seq)
    dataset = [{"input_ids": r, "labels": r.clone(), "attention_mask": torch.ones_like(r)} for r in rows]

    started = time.perf_counter()
    try:
        model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16, attn_implementation="sdpa")
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.bfloat16, attn_implementation="sdpa")
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules="all-linear",
                                             task_type="CAUSAL_LM"))
    if cuda:
        model.to("cuda")  # Trainer would move it at train(); the loss before training runs on the GPU too
    load_seconds = time.perf_counter() - started
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    parameters = sum(p.numel() for p in model.parameters()) - trainable

    def sync():
        if cuda:
            torch.cuda.synchronize()

    class Timing(TrainerCallback):
        def __init__(self):
            self.step_seconds, self.losses, self.began = [], [], None

        def on_step_begin(self, a, state, control, **kw):
            sync()
            self.began = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            sync()
            self.step_seconds.append(time.perf_counter() - self.began)

        def on_log(self, a, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.losses.append(float(logs["loss"]))

    class InOrder(Trainer):  # the batches of the token file in file order, as the Java side reads them
        def get_train_dataloader(self):
            return DataLoader(dataset, batch_size=args.batch, shuffle=False)

    def forward_loss():  # mean NLL over the shifted tokens of the first batch, no grad, bf16 autocast
        ids = rows[: args.batch].to(model.device)
        with torch.no_grad(), torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16):
            return model(input_ids=ids, labels=ids).loss.item()

    # before any update (LoRA B is zero): the base model's loss, which the Java side's first step reports too
    initial_loss = forward_loss()
    timing = Timing()
    with tempfile.TemporaryDirectory() as out:
        training = TrainingArguments(output_dir=out, per_device_train_batch_size=args.batch, max_steps=batches,
                                     learning_rate=1e-4, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0,
                                     max_grad_norm=1.0, logging_steps=1, save_strategy="no", report_to=[], bf16=True,
                                     use_cpu=not cuda, dataloader_num_workers=0, seed=1, disable_tqdm=True,
                                     gradient_checkpointing=False)
        InOrder(model=model, args=training, train_dataset=dataset, callbacks=[timing]).train()

    forward = []
    batch0 = rows[: args.batch].to(model.device)
    with torch.no_grad(), torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16):
        for _ in range(3):
            sync()
            began = time.perf_counter()
            model(input_ids=batch0, labels=batch0).loss.item()
            forward.append(time.perf_counter() - began)
    timed = timing.step_seconds[args.warmup:]
    median = statistics.median(timed)
    result = {
        "side": "hf", "device": "cuda" if cuda else "cpu", "precision": "bf16", "seq": args.seq, "batch": args.batch,
        "warmupSteps": args.warmup, "steps": args.steps, "loadSeconds": load_seconds, "parameters": parameters,
        "trainableParameters": trainable, "losses": timing.losses, "stepSeconds": timing.step_seconds,
        "tokensPerSecond": args.steps * per_batch / sum(timed),
        "breakdown": {"firstStepSeconds": timing.step_seconds[0], "medianStepSeconds": median,
                      "forwardSeconds": statistics.median(forward),
                      "backwardAndOptimizerSeconds": median - statistics.median(forward)},
        "initialLoss": initial_loss,
    }
    import transformers, peft
    result["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}
    if sampler:
        sampler.stop()
        result.update(memoryKind="peak device memory in use (mem_get_info total - free, sampled every 1 ms)",
                      peakMemoryMiB=sampler.peak / 1048576, memoryBeforeModelMiB=sampler.baseline / 1048576,
                      maxMemoryAllocatedMiB=torch.cuda.max_memory_allocated() / 1048576,
                      gpuName=torch.cuda.get_device_name())
    else:
        result.update(memoryKind="peak resident set of the process (ru_maxrss)",
                      peakMemoryMiB=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    print("hf side:", json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("model")
    m.add_argument("--config", required=True)
    m.add_argument("--set", action="append", help="override a config key: key=JSON value")
    m.add_argument("--out", required=True)
    t = sub.add_parser("tokens")
    t.add_argument("--model", required=True)
    t.add_argument("--count", type=int, required=True)
    t.add_argument("--out", required=True)
    b = sub.add_parser("bench")
    b.add_argument("--model", required=True)
    b.add_argument("--tokens", required=True)
    for name in ("seq", "batch", "warmup", "steps"):
        b.add_argument("--" + name, type=int, required=True)
    b.add_argument("--out", required=True)
    args = parser.parse_args()
    {"model": make_model, "tokens": make_tokens, "bench": bench}[args.command](args)


if __name__ == "__main__":
    main()
