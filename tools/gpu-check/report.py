#!/usr/bin/env python3
"""Joins the GPU bring-up kit's parts into one result (tools/gpu-check/run calls it):

    report.py --checks java-checks.json --config MODEL/config.json --seqs 1024,2048 --dir DIR --out gpu-check.json

Reads the Java checks and, per sequence length, DIR/java-<seq>.json and DIR/hf-<seq>.json (the side-by-side),
asserts what the side-by-side must show on any machine (both sides trained the same model on the same tokens,
with the same parameter counts and the same loss before any update), computes MFU on a known GPU and prints one
line per check. Exit status 1 when any check failed; skipped checks (CUDA-only on a machine without a GPU) are
listed with their reason.

MFU = achieved FLOP/s / the GPU's dense bf16 peak. FLOPs per trained token (the same formula for both sides):
4 P (forward and input-gradient backward of the frozen linear layers and the LM head, P = their weights)
+ 6 L H d T / 2 (causal attention, forward QK^T and PV, backward twice that) + 6 P_lora (LoRA weights train).
"""
import argparse
import json
import math
import pathlib
import sys

# dense bf16 tensor-core peak, FLOP/s, by device name
PEAKS = [("H100 PCIe", 756e12), ("H100", 989.4e12), ("H200", 989.4e12), ("A100", 312e12)]
LOSS_AGREEMENT = 2e-2  # bf16 on both sides: the losses of the same model on the same tokens agree to 2 %


def flops_per_token(config, seq, lora_params):
    d, layers, vocab = config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]
    heads, kv = config["num_attention_heads"], config.get("num_key_value_heads", config["num_attention_heads"])
    head_dim = config.get("head_dim") or d // heads
    inter = config["intermediate_size"]
    linear = layers * (d * heads * head_dim * 2 + d * kv * head_dim * 2 + 3 * d * inter) + vocab * d
    attention = 6 * layers * heads * head_dim * seq / 2
    return 4 * linear + attention + 6 * lora_params


def peak_flops(gpu_name):
    for key, peak in PEAKS:
        if gpu_name and key in gpu_name:
            return peak
    return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--checks", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--seqs", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--checks-exit", type=int, default=0, help="the Java checks process's exit status")
    p.add_argument("--environment", default="{}", help="JSON object merged into the result's environment")
    a = p.parse_args()

    try:
        java = json.loads(pathlib.Path(a.checks).read_text())
    except (OSError, ValueError) as e:
        java = {"environment": {}, "checks": [{"name": "java checks ran", "status": "fail", "error": f"{a.checks}: {e}"}]}
    checks = list(java["checks"])
    if a.checks_exit not in (0, 1):  # 1: a check failed and says so; anything else: the JVM died or timed out
        checks.append({"name": "java checks process completed", "status": "fail",
                       "error": f"exit status {a.checks_exit} (124: the time limit; 134: a native abort) after "
                                f"{len(checks)} checks; see gpu-check.log"})
    environment = dict(java["environment"], **json.loads(a.environment))
    config = json.loads(pathlib.Path(a.config).read_text())
    side_by_side = []
    for seq in [int(s) for s in a.seqs.split(",")]:
        name = f"side-by-side seq {seq}: Java trainer vs HF Trainer + PEFT, same model and tokens"
        try:
            sides = {}
            for side in ("java", "hf"):
                f = pathlib.Path(a.dir) / f"{side}-{seq}.json"
                if not f.exists():
                    raise AssertionError(f"{f} is missing: the {side} side did not finish (see the log)")
                sides[side] = json.loads(f.read_text())
            j, h = sides["java"], sides["hf"]
            for side, r in sides.items():
                if not (r["tokensPerSecond"] > 0 and all(math.isfinite(x) for x in r["losses"])):
                    raise AssertionError(f"{side}: tokens/s {r['tokensPerSecond']}, losses {r['losses']}")
                if len(r["stepSeconds"]) != r["warmupSteps"] + r["steps"]:
                    raise AssertionError(f"{side}: {len(r['stepSeconds'])} steps timed, expected {r['warmupSteps'] + r['steps']}")
            if (j["parameters"], j["trainableParameters"]) != (h["parameters"], h["trainableParameters"]):
                raise AssertionError(f"parameters (frozen, LoRA): Java {j['parameters']}, {j['trainableParameters']};"
                                     f" HF {h['parameters']}, {h['trainableParameters']}")
            initial = abs(j["losses"][0] - h["initialLoss"]) / h["initialLoss"]
            if initial > LOSS_AGREEMENT:
                raise AssertionError(f"loss before any update: Java {j['losses'][0]:.5f}, HF {h['initialLoss']:.5f}"
                                     f" (relative {initial:.3g} > {LOSS_AGREEMENT})")
            peak = peak_flops(h.get("gpuName"))
            fpt = flops_per_token(config, seq, j["trainableParameters"])
            row = {"seq": seq, "batch": j["batch"], "steps": j["steps"], "flopsPerToken": fpt,
                   "initialLossRelativeDifference": initial, "gpu": h.get("gpuName"), "peakFlops": peak}
            for side, r in sides.items():
                row[side] = {k: r.get(k) for k in ("tokensPerSecond", "peakMemoryMiB", "memoryKind", "breakdown",
                                                    "loadSeconds", "losses")}
                row[side]["mfu"] = r["tokensPerSecond"] * fpt / peak if peak else None
            row["javaOverHfTokensPerSecond"] = j["tokensPerSecond"] / h["tokensPerSecond"]
            row["javaOverHfPeakMemory"] = j["peakMemoryMiB"] / h["peakMemoryMiB"]
            if peak:
                row["goals"] = {"tokensPerSecondAtLeast1.3xHf": row["javaOverHfTokensPerSecond"] >= 1.3,
                                "peakMemoryAtMostHf": row["javaOverHfPeakMemory"] <= 1.0}
            side_by_side.append(row)
            checks.append({"name": name, "status": "pass", "figures": {
                "javaTokensPerSecond": j["tokensPerSecond"], "hfTokensPerSecond": h["tokensPerSecond"],
                "ratio": row["javaOverHfTokensPerSecond"], "javaPeakMiB": j["peakMemoryMiB"],
                "hfPeakMiB": h["peakMemoryMiB"], "initialLossRelativeDifference": initial,
                "javaMfu": row["java"]["mfu"], "hfMfu": row["hf"]["mfu"]}})
        except (AssertionError, KeyError, ValueError, ZeroDivisionError) as e:
            checks.append({"name": name, "status": "fail", "error": f"{type(e).__name__}: {e}"})

    counts = {s: sum(1 for c in checks if c["status"] == s) for s in ("pass", "fail", "skipped")}
    result = {"environment": environment, "summary": counts, "checks": checks, "sideBySide": side_by_side}
    pathlib.Path(a.out).write_text(json.dumps(result, indent=2))
    for c in checks:
        detail = c.get("figures") if c["status"] == "pass" else c.get("error") or c.get("reason")
        print(f"{c['status'].upper():8} {c['name']}: {json.dumps(detail) if isinstance(detail, dict) else detail}")
    for row in side_by_side:
        j, h = row["java"], row["hf"]
        mfu = "" if row["peakFlops"] is None else f", MFU Java {j['mfu']:.1%} HF {h['mfu']:.1%}"
        print(f"side-by-side seq {row['seq']} x batch {row['batch']}: Java {j['tokensPerSecond']:.0f} tok/s, "
              f"HF {h['tokensPerSecond']:.0f} tok/s (x{row['javaOverHfTokensPerSecond']:.2f}); peak memory Java "
              f"{j['peakMemoryMiB']:.0f} MiB, HF {h['peakMemoryMiB']:.0f} MiB{mfu}")
    print(f"gpu-check: {counts['pass']} passed, {counts['skipped']} skipped, {counts['fail']} failed -> {a.out}")
    sys.exit(1 if counts["fail"] else 0)


if __name__ == "__main__":
    main()
