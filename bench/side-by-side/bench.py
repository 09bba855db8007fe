#!/usr/bin/env python3
"""Side-by-side CPU benchmark: the Java trainer (`finetune run`) vs HF Trainer + PEFT on the same
model (by default a ~30M-parameter random Llama; with --model DIR a pretrained Hugging Face model directory,
e.g. SmolLM2-135M-Instruct imported by `finetune import-gguf --dtype fp32`), the same data, the same
hyperparameters and the same thread count.

Run through bench/side-by-side/run.sh (builds the trainer, the venv, then calls this file):

    bash bench/side-by-side/run.sh            # defaults: --threads 1 --repeats 2 --train-samples 128
    bash bench/side-by-side/run.sh --model runs/models/smollm2-135m-instruct   # the real model

What is measured, per side, in separate processes started the same way:
  - training throughput: real (non-padding) tokens of the training set x epochs / training time
    (Java: manifest.json trainSeconds; HF: train_runtime), both including the per-epoch evaluation;
  - peak resident memory of the whole process (/usr/bin/time %M);
  - the loss of every optimizer step and the eval loss of every epoch.
The sides alternate (Java, HF, Java, HF, ...) so that load from other processes hits both alike; the
ratio is Java / HF of the medians. Results go to bench/side-by-side/results/ (JSON + PNG).
"""
import argparse
import json
import math
import os
import pathlib
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
END_OF_TURN = "<|im_end|>"  # the ChatML end of a turn: the random model's Qwen3 tokenizer and SmolLM2's

# One configuration for both sides.
MODEL = dict(vocab_size=151936, hidden_size=192, intermediate_size=768, num_hidden_layers=8, num_attention_heads=3,
             num_key_value_heads=1, head_dim=64, rope_theta=500000.0, rms_norm_eps=1e-5, max_position_embeddings=512,
             tie_word_embeddings=True, initializer_range=0.05)
HP = dict(rank=16, alpha=32, dropout=0.0, target="all-linear", epochs=2, lr=1e-3, warmup=4, batch=8, max_grad_norm=1.0,
          weight_decay=0.0, seed=13, max_len=128)

JOB = """apiVersion: finetune.dev/v1alpha1
kind: FineTuneJob
metadata:
  name: side-by-side
spec:
  model:
    pvc: {{claimName: models, path: bench-llama}}
  dataset:
    pvc: {{claimName: data, path: train.jsonl}}
    evalPath: eval.jsonl
    format: messages
    maxSeqLength: {max_len}
    packing: false   # HF Trainer pads each batch: both sides train on the same batches, whatever the size
  lora:
    rank: {rank}
    alpha: {alpha}
    dropout: {dropout}
    targetModules: [{target}]
  training:
    epochs: {epochs}
    learningRate: {lr}
    scheduler: cosine
    warmupSteps: {warmup}
    batchSize: {batch}
    gradientAccumulationSteps: 1
    maxGradNorm: {max_grad_norm}
    weightDecay: {weight_decay}
    precision: fp32
    gradientCheckpointing: false
    seed: {seed}
    logEverySteps: 1
    samplePrompts: 0
  resources:
    gpus: 0
  output:
    pvc: {{claimName: outputs, path: run}}
    merge: false
    keepCheckpoints: 1
"""

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def spell(n):
    return " ".join(WORDS[int(d)] for d in str(n))


def make_rows(n, seed):
    import random
    rnd = random.Random(seed)
    rows = []
    for _ in range(n):
        kind = rnd.randrange(3)
        if kind == 0:
            a, b = rnd.randrange(1000), rnd.randrange(1000)
            q, ans = f"What is {a} plus {b}?", f"{a} plus {b} is {a + b}."
        elif kind == 1:
            x = rnd.randrange(100000)
            q, ans = f"Spell the digits of {x}.", f"The digits of {x} are: {spell(x)}."
        else:
            items = rnd.sample(["red", "green", "blue", "yellow", "purple", "orange", "black", "white", "pink", "brown"],
                               rnd.randrange(3, 8))
            q, ans = f"Reverse this list: {', '.join(items)}.", f"Reversed: {', '.join(reversed(items))}."
        rows.append({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": ans}]})
    return rows


def prepare(work, tok_dir, n_train, n_eval, pretrained=None):
    """The model directory both sides train (a random Llama, or a link to --model) and the data."""
    models = work / "models"
    data = work / "data"
    d = models / "bench-llama"
    models.mkdir(parents=True)
    data.mkdir(parents=True)
    if pretrained:
        d.symlink_to(pretrained.resolve(), target_is_directory=True)
        params = parameter_count(d)
    else:
        params = random_llama(d, tok_dir)
    (data / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in make_rows(n_train, 1)))
    (data / "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in make_rows(n_eval, 2)))
    (work / "job.yaml").write_text(JOB.format(**HP))
    return d, data, params


def random_llama(d, tok_dir):
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    d.mkdir()
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tok_dir / f, d / f)
    tok = AutoTokenizer.from_pretrained(d)
    config = LlamaConfig(**MODEL, bos_token_id=None, eos_token_id=tok.convert_tokens_to_ids(END_OF_TURN),
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(HP["seed"])
    model = LlamaForCausalLM(config).float()
    model.save_pretrained(d, safe_serialization=True)
    return sum(p.numel() for p in model.parameters())


def parameter_count(d):
    from safetensors import safe_open
    total = 0
    for f in sorted(d.glob("*.safetensors")):
        with safe_open(str(f), framework="pt") as st:
            for name in st.keys():
                total += math.prod(st.get_slice(name).get_shape())
    return total


def encode(tok, rows):
    """HF side of the data: the model's chat template, learn the assistant turn through <|im_end|>
    (what the Java pipeline's allAssistantTurns does for one-turn conversations)."""
    eos = tok.convert_tokens_to_ids(END_OF_TURN)
    out = []
    for r in rows:
        msgs = r["messages"]
        full = tok.apply_chat_template(msgs, tokenize=True)
        prompt = tok.apply_chat_template(msgs[:-1], tokenize=True, add_generation_prompt=True)
        assert full[:len(prompt)] == prompt, "chat template is not prefix-stable"
        end = len(full) - 1 - full[::-1].index(eos)  # the assistant's <|im_end|>
        labels = [-100] * len(prompt) + full[len(prompt):end + 1] + [-100] * (len(full) - end - 1)
        full, labels = full[:HP["max_len"]], labels[:HP["max_len"]]
        out.append({"input_ids": full, "labels": labels})
    return out


def hf_side(args):
    """The HF Trainer + PEFT run (its own process, started under /usr/bin/time like the Java one)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    work = args.workdir
    model_dir = work / "models" / "bench-llama"
    tok = AutoTokenizer.from_pretrained(model_dir)
    read = lambda p: [json.loads(line) for line in p.read_text().splitlines() if line.strip()]
    train = encode(tok, read(work / "data" / "train.jsonl"))
    evals = encode(tok, read(work / "data" / "eval.jsonl"))

    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.convert_tokens_to_ids(END_OF_TURN)

    def collate(rows):
        t = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), t), pad)
        lab = torch.full((len(rows), t), -100)
        att = torch.zeros((len(rows), t), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = torch.tensor(r["input_ids"])
            lab[i, :n] = torch.tensor(r["labels"])
            att[i, :n] = 1
        return {"input_ids": ids, "attention_mask": att, "labels": lab}

    from transformers import set_seed
    set_seed(HP["seed"])  # LoRA A's kaiming init draws from torch's RNG: same seed, same start, every run
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=HP["rank"], lora_alpha=HP["alpha"], lora_dropout=HP["dropout"],
                                             target_modules=HP["target"], task_type="CAUSAL_LM"))
    targs = TrainingArguments(output_dir=str(work / "hf-out"), per_device_train_batch_size=HP["batch"],
                              per_device_eval_batch_size=HP["batch"], num_train_epochs=HP["epochs"],
                              learning_rate=HP["lr"], lr_scheduler_type="cosine", warmup_steps=HP["warmup"],
                              max_grad_norm=HP["max_grad_norm"], weight_decay=HP["weight_decay"], logging_steps=1,
                              eval_strategy="epoch", save_strategy="no", report_to=[], use_cpu=True, seed=HP["seed"],
                              dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True,
                              optim="adamw_torch", gradient_checkpointing=False)
    trainer = Trainer(model=model, args=targs, train_dataset=train, eval_dataset=evals, data_collator=collate)
    result = trainer.train()
    steps = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    evals_log = [{"epoch": h["epoch"], "eval_loss": h["eval_loss"]} for h in trainer.state.log_history if "eval_loss" in h]
    # exact (token-weighted) eval loss too, for a like-for-like comparison with the Java trainer's
    model.eval()
    nll, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(evals), HP["batch"]):
            b = collate(evals[s:s + HP["batch"]])
            logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"], use_cache=False).logits
            sl = b["labels"][:, 1:].reshape(-1)
            nll += float(torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)).float(), sl,
                                                           ignore_index=-100, reduction="sum"))
            count += int((sl != -100).sum())
    out = {"train_runtime": result.metrics["train_runtime"], "steps": steps, "evals": evals_log,
           "final_exact_eval_loss": nll / count,
           "real_tokens": sum(len(r["input_ids"]) for r in train), "label_tokens": sum(
               sum(1 for x in r["labels"][1:] if x != -100) for r in train),
           "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad)}
    (work / "hf-result.json").write_text(json.dumps(out, indent=2))


STEP = re.compile(r"step (\d+)/(\d+) \| epoch .*?\| loss ([0-9.]+)")
LABELS = re.compile(r"label tokens\s+([\d,]+) of ([\d,]+)")


def timed(cmd, env, log):
    t = time.time()
    with open(log, "w") as f:
        r = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KB %M", *cmd], env=env, stdout=f, stderr=subprocess.STDOUT)
    wall = time.time() - t
    text = pathlib.Path(log).read_text()
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} ... failed ({r.returncode}); see {log}")
    rss = int(re.findall(r"MAXRSS_KB (\d+)", text)[-1])
    return wall, rss * 1024, text


def run_java(args, cp, work, i):
    out = work / f"java-out-{i}"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads), DJL_OFFLINE="true")
    cmd = ["java", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Dai.djl.offline=true", "-Dai.djl.pytorch.graph_optimizer=false",
           f"-Dai.djl.pytorch.num_threads={args.threads}", "-Dai.djl.pytorch.num_interop_threads=1",
           "-cp", cp, "dev.finetune.trainer.cli.FinetuneCli", "run", str(work / "job.yaml"), "--resume", "none",
           "--volume", f"models={work / 'models'}", "--volume", f"data={work / 'data'}", "--volume", f"outputs={out}"]
    wall, rss, text = timed(cmd, env, work / f"java-{i}.log")
    manifest = json.loads((out / "run" / "manifest.json").read_text())
    steps = [{"step": int(m.group(1)), "loss": float(m.group(3))} for m in STEP.finditer(text)]
    labels = LABELS.search(text)
    return {"wall": wall, "rss": rss, "train_seconds": manifest["trainSeconds"], "steps": steps,
            "evals": [{"epoch": h["epoch"], "eval_loss": h["evalLoss"]} for h in manifest["history"]],
            "label_tokens": int(labels.group(1).replace(",", "")) if labels else None,
            "real_tokens": int(labels.group(2).replace(",", "")) if labels else None,
            "trainable": manifest.get("trainableParameters")}


def run_hf(args, work, i):
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads),
               TOKENIZERS_PARALLELISM="false", HF_HUB_OFFLINE="1")
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--hf-side", "--workdir", str(work),
           "--threads", str(args.threads)]
    wall, rss, _ = timed(cmd, env, work / f"hf-{i}.log")
    r = json.loads((work / "hf-result.json").read_text())
    return {"wall": wall, "rss": rss, "train_seconds": r["train_runtime"], "steps": r["steps"], "evals": r["evals"],
            "final_exact_eval_loss": r["final_exact_eval_loss"], "label_tokens": r["label_tokens"],
            "real_tokens": r["real_tokens"], "trainable": r["trainable"]}


def plot(java, hf, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    ax.plot([s["step"] for s in java["steps"]], [s["loss"] for s in java["steps"]], label="Java trainer (train, per step)",
            color="tab:blue")
    ax.plot([s["step"] for s in hf["steps"]], [s["loss"] for s in hf["steps"]], label="HF Trainer + PEFT (train, per step)",
            color="tab:orange", linestyle="--")
    steps_per_epoch = len(java["steps"]) / HP["epochs"]
    ax.scatter([e["epoch"] * steps_per_epoch for e in java["evals"]], [e["eval_loss"] for e in java["evals"]],
               color="tab:blue", marker="o", zorder=3, label="Java eval loss (token-weighted)")
    ax.scatter([e["epoch"] * steps_per_epoch for e in hf["evals"]], [e["eval_loss"] for e in hf["evals"]],
               color="tab:orange", marker="s", zorder=3, label="HF eval_loss (batch-mean)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (nats / label token)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classpath-file", type=pathlib.Path)
    ap.add_argument("--workdir", type=pathlib.Path, default=pathlib.Path("/tmp/finetune-side-by-side"))
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads per side (1: on a shared 2-core machine more threads only spin)")
    ap.add_argument("--repeats", type=int, default=2, help="alternating Java/HF pairs")
    ap.add_argument("--train-samples", type=int, default=128)
    ap.add_argument("--eval-samples", type=int, default=32)
    ap.add_argument("--results", type=pathlib.Path, default=HERE / "results")
    ap.add_argument("--tokenizers", type=pathlib.Path,
                    default=pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "finetune/tokenizers")
    ap.add_argument("--model", type=pathlib.Path,
                    help="a pretrained Hugging Face model directory (fp32 safetensors, tokenizer files) instead of the random Llama")
    ap.add_argument("--hf-side", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hf_side:
        hf_side(args)
        return
    cp = args.classpath_file.read_text().strip()
    work = args.workdir.resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    tok_dir = args.tokenizers / "tokenizer-qwen3@3.7.2"
    if args.model and not (args.model / "config.json").is_file():
        sys.exit(f"--model {args.model}: no config.json; give a Hugging Face model directory (e.g. from finetune import-gguf)")
    model_dir, data_dir, params = prepare(work, tok_dir, args.train_samples, args.eval_samples, args.model)
    described = (f"{args.model.name}, {params / 1e6:.1f}M parameters" if args.model
                 else f"Llama {params / 1e6:.1f}M parameters ({MODEL})")
    print(f"model: {described}; data: {args.train_samples} train / "
          f"{args.eval_samples} eval conversations; threads {args.threads}", flush=True)
    runs = {"java": [], "hf": []}
    loads = []
    for i in range(args.repeats):
        for side in ("java", "hf"):
            loads.append(os.getloadavg()[0])
            r = run_java(args, cp, work, i) if side == "java" else run_hf(args, work, i)
            runs[side].append(r)
            print(f"{side} run {i + 1}: train {r['train_seconds']:.1f} s, wall {r['wall']:.1f} s, peak RSS "
                  f"{r['rss'] / 2**20:.0f} MiB, final step loss {r['steps'][-1]['loss']:.4f}", flush=True)
    j0, h0 = runs["java"][0], runs["hf"][0]
    tokens = h0["real_tokens"] * HP["epochs"]
    med = lambda side, key: statistics.median(r[key] for r in runs[side])
    jt, ht = tokens / med("java", "train_seconds"), tokens / med("hf", "train_seconds")
    summary = {
        "command": "bash bench/side-by-side/run.sh " + " ".join(sys.argv[1:]).replace(str(args.classpath_file), "<cp>"),
        "machine": {"cpus": os.cpu_count(), "threads_per_side": args.threads, "platform": platform.platform(),
                    "load_average_before_each_run": loads},
        "model": ({"path": str(args.model), "parameters": params,
                   "config": json.loads((args.model / "config.json").read_text())} if args.model
                  else {"type": "llama", "parameters": params, **MODEL}),
        "hyperparameters": HP,
        "data": {"train_samples": args.train_samples, "eval_samples": args.eval_samples,
                 "hf_real_tokens_per_epoch": h0["real_tokens"], "java_real_tokens_per_epoch": j0["real_tokens"],
                 "hf_label_tokens_per_epoch": h0["label_tokens"], "java_label_tokens_per_epoch": j0["label_tokens"]},
        "trainable_parameters": {"java": j0["trainable"], "hf": h0["trainable"]},
        "java": {"tokens_per_second": jt, "train_seconds": [r["train_seconds"] for r in runs["java"]],
                 "wall_seconds": [r["wall"] for r in runs["java"]], "peak_rss_bytes": [r["rss"] for r in runs["java"]]},
        "hf": {"tokens_per_second": ht, "train_seconds": [r["train_seconds"] for r in runs["hf"]],
               "wall_seconds": [r["wall"] for r in runs["hf"]], "peak_rss_bytes": [r["rss"] for r in runs["hf"]]},
        "ratio_tokens_per_second_java_over_hf": jt / ht,
        "ratio_peak_rss_java_over_hf": med("java", "rss") / med("hf", "rss"),
        "ratio_wall_java_over_hf": med("java", "wall") / med("hf", "wall"),
        "loss": {"java_steps": j0["steps"], "hf_steps": h0["steps"], "java_evals": j0["evals"], "hf_evals": h0["evals"],
                 "hf_final_exact_eval_loss": h0["final_exact_eval_loss"]},
    }
    js, hs = [s["loss"] for s in j0["steps"]], [s["loss"] for s in h0["steps"]]
    if len(js) == len(hs):
        summary["loss"]["mean_abs_step_difference"] = statistics.mean(abs(a - b) for a, b in zip(js, hs))
        summary["loss"]["last_10_steps_mean"] = {"java": statistics.mean(js[-10:]), "hf": statistics.mean(hs[-10:])}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "side-by-side.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(j0, h0, args.results / "loss-curves.png",
         f"{args.model.name if args.model else 'Llama'} {params / 1e6:.1f}M, LoRA r{HP['rank']} all-linear, {args.threads} thread(s) each: "
         "Java trainer vs HF Trainer + PEFT")
    print(json.dumps({k: summary[k] for k in ("ratio_tokens_per_second_java_over_hf", "ratio_peak_rss_java_over_hf",
                                               "ratio_wall_java_over_hf")}, indent=2))
    print(f"Java {jt:.0f} tok/s, HF {ht:.0f} tok/s; results in {args.results}")


if __name__ == "__main__":
    main()
