#!/usr/bin/env python3
"""Assertions of e2e/trainer/suite.sh on what the cluster returned (status JSON, ConfigMaps, files copied out of
the output volume through a pod). Each subcommand exits 0 when every assertion holds, else 1, and prints what it
compared, so a failure in CI says which value was wrong and what it was. Standard library only."""
import json
import math
import struct
import sys
from pathlib import Path


class Failed(Exception):
    pass


def expect(ok, message):
    if not ok:
        raise Failed(message)


def load(path):
    return json.loads(Path(path).read_text())


def same_float(a, b, ulps=2):
    """Equal up to a couple of ulps: Java's Math.exp and C's exp may round the last bit differently."""
    return abs(a - b) <= ulps * math.ulp(max(abs(a), abs(b)))


def history(status_file, epochs):
    """Eval loss falls every epoch; perplexity = exp(eval loss) for every entry and for status.progress."""
    status = load(status_file)["status"]
    rows = [r for r in status.get("history", []) if r.get("evalLoss") is not None]
    epochs = int(epochs)
    expect([r["epoch"] for r in rows] == list(range(1, epochs + 1)),
           f"history epochs {[r['epoch'] for r in rows]}, expected 1..{epochs} once each")
    losses = [r["evalLoss"] for r in rows]
    expect(all(b < a for a, b in zip(losses, losses[1:])), f"eval loss does not fall every epoch: {losses}")
    for r in rows:
        expect(same_float(r["perplexity"], math.exp(r["evalLoss"])),
               f"epoch {r['epoch']}: perplexity {r['perplexity']!r} != exp(eval loss {r['evalLoss']!r}) "
               f"= {math.exp(r['evalLoss'])!r}")
    p = status["progress"]
    expect(p["evalLoss"] == losses[-1], f"progress.evalLoss {p['evalLoss']!r} != last history entry {losses[-1]!r}")
    expect(same_float(p["perplexity"], math.exp(p["evalLoss"])),
           f"progress.perplexity {p['perplexity']!r} != exp({p['evalLoss']!r})")
    expect(p["epoch"] == epochs and p["totalEpochs"] == epochs,
           f"progress epoch {p['epoch']}/{p['totalEpochs']}, expected {epochs}/{epochs}")
    print("eval loss per epoch: " + " -> ".join(f"{x:.4f}" for x in losses)
          + f"; perplexity {p['perplexity']!r} = exp({p['evalLoss']!r})")


def columns(status_file, table_file):
    """`kubectl get finetunejob NAME` (header + one row) shows the final phase, epoch, eval loss and perplexity."""
    status = load(status_file)["status"]
    header, row = Path(table_file).read_text().splitlines()[:2]
    # columns are separated by runs of 2+ spaces; values have no spaces
    names, values = header.split(), row.split()
    table = dict(zip(names, values))
    print("columns: " + ", ".join(f"{k}={v}" for k, v in table.items()))
    for name in ["PHASE", "GPUS", "EPOCH", "EVAL-LOSS", "PPL"]:
        expect(name in table, f"no {name} column in: {header}")
    p = status["progress"]
    expect(table["PHASE"] == status["phase"], f"PHASE {table['PHASE']} != status.phase {status['phase']}")
    expect(table["GPUS"] == "cpu", f"GPUS {table['GPUS']}, expected cpu for a 1-worker CPU job")
    expect(table["EPOCH"] == f"{p['epoch']}/{p['totalEpochs']}", f"EPOCH {table['EPOCH']}")
    for name, exact in [("EVAL-LOSS", p["evalLoss"]), ("PPL", p["perplexity"])]:
        shown = float(table[name])
        # 4 significant digits of the exact value
        expect(abs(shown - exact) <= 5e-4 * abs(exact), f"{name} column {table[name]} does not show {exact!r}")


def progress_configmap(configmap_file, status_file):
    """<job>-progress holds rank 0's final report, written by the trainer's own HTTP client (not the operator)."""
    cm = load(configmap_file)
    status = load(status_file)["status"]
    report = json.loads(cm["data"]["progress.json"])
    expect(report["state"] == "SUCCEEDED", f"report state {report['state']}, expected SUCCEEDED")
    expect(report["attempt"] == status["attempt"], f"report attempt {report['attempt']} != status {status['attempt']}")
    expect(report["progress"]["evalLoss"] == status["progress"]["evalLoss"],
           f"report eval loss {report['progress']['evalLoss']!r} != status {status['progress']['evalLoss']!r}")
    writers = [m["manager"] for m in cm["metadata"].get("managedFields", [])
               if "f:progress.json" in m.get("fieldsV1", {}).get("f:data", {})]
    # the operator's Fabric8 client is "fabric8-kubernetes-client"; the trainer patches with java.net.http
    expect(writers == ["Java-http-client"], f"data.progress.json managed by {writers}, expected only the trainer "
                                            "(Java-http-client)")
    print(f"progress.json: sequence {report['sequence']}, state {report['state']}, written by {writers[0]}")


def safetensors_header(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    return header, raw[8 + n:]


def adapter(run_dir, model_dir, status_file):
    """A PEFT adapter (config + safetensors with lora_A [r, in] / lora_B [out, r] for every target module of every
    layer, lora_B trained away from zero), manifest.json and report.html, consistent with the job's status."""
    run, model = Path(run_dir), Path(model_dir)
    status = load(status_file)["status"]
    cfg = load(run / "adapter" / "adapter_config.json")
    expect(cfg.get("peft_type") == "LORA", f"peft_type {cfg.get('peft_type')}")
    r = cfg["r"]
    modules = sorted(cfg["target_modules"])
    m = load(model / "config.json")
    hidden, inter = m["hidden_size"], m["intermediate_size"]
    head_dim = m.get("head_dim") or hidden // m["num_attention_heads"]
    shapes = {"q_proj": (m["num_attention_heads"] * head_dim, hidden),
              "k_proj": (m["num_key_value_heads"] * head_dim, hidden),
              "v_proj": (m["num_key_value_heads"] * head_dim, hidden),
              "o_proj": (hidden, m["num_attention_heads"] * head_dim),
              "gate_proj": (inter, hidden), "up_proj": (inter, hidden), "down_proj": (hidden, inter)}
    header, data = safetensors_header(run / "adapter" / "adapter_model.safetensors")
    expected = {}
    for layer in range(m["num_hidden_layers"]):
        for mod in modules:
            block = "self_attn" if mod in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"
            prefix = f"base_model.model.model.layers.{layer}.{block}.{mod}"
            out_f, in_f = shapes[mod]
            expected[prefix + ".lora_A.weight"] = [r, in_f]
            expected[prefix + ".lora_B.weight"] = [out_f, r]
    expect(set(header) == set(expected), f"adapter keys differ: missing {sorted(set(expected) - set(header))[:4]}, "
                                         f"extra {sorted(set(header) - set(expected))[:4]}")
    for key, shape in expected.items():
        expect(header[key]["shape"] == shape, f"{key}: shape {header[key]['shape']}, expected {shape}")
    for key in (k for k in expected if k.endswith("lora_B.weight")):
        start, end = header[key]["data_offsets"]
        expect(any(data[start:end]), f"{key} is all zeros: the adapter was not trained")
    manifest = load(run / "manifest.json")
    text = json.dumps(manifest)
    final = status["progress"]["evalLoss"]
    expect(repr(final) in text or json.dumps(final) in text, f"manifest.json does not hold the final eval loss {final!r}")
    report = (run / "report.html").read_text()
    expect("<svg" in report, "report.html has no loss curve (<svg>)")
    print(f"adapter: r={r}, alpha={cfg.get('lora_alpha')}, {len(modules)} target modules x "
          f"{m['num_hidden_layers']} layers = {len(header)} tensors; manifest.json and report.html present")


def resumed_equals(reference_file, resumed_file):
    """The resumed run ends exactly where the uninterrupted run of the same spec ends, epoch by epoch."""
    ref = [(r["epoch"], r["evalLoss"]) for r in load(reference_file)["status"]["history"] if r.get("evalLoss") is not None]
    res = [(r["epoch"], r["evalLoss"]) for r in load(resumed_file)["status"]["history"] if r.get("evalLoss") is not None]
    print(f"uninterrupted: {ref}")
    print(f"resumed:       {res}")
    expect(res == ref, "the resumed run's eval losses differ from the uninterrupted run's")


def main():
    commands = {"history": history, "columns": columns, "progress-configmap": progress_configmap,
                "adapter": adapter, "resumed-equals": resumed_equals}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: check.py {'|'.join(commands)} ARGS...")
    try:
        commands[sys.argv[1]](*sys.argv[2:])
    except Failed as e:
        print(e)
        sys.exit(1)
    except (KeyError, ValueError, OSError, IndexError) as e:
        print(f"{type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
