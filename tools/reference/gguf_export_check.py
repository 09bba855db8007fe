"""Checks `finetune export-gguf` with readers that are not ours (docs/models.md): Transformers + PyPI gguf load the
original GGUF and the exported ones. An f32 export of an fp32 import must give bit-identical weights (the import
dequantised exactly and export wrote the values back in llama.cpp's layout); f16 and q8_0 exports must give
logits close to the original's, and every export the same token ids, chat template and special tokens.

    python tools/reference/gguf_export_check.py --original ORIGINAL.gguf --exported A.gguf [B.gguf ...]
"""
import argparse
import pathlib

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

PROMPT = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"


def load(path):
    p = pathlib.Path(path)
    tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
    model = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name, dtype=torch.float32).eval()
    return tok, model


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--original", required=True)
    a.add_argument("--exported", required=True, nargs="+")
    args = a.parse_args()
    torch.set_num_threads(1)
    tok, model = load(args.original)
    ids = tok(PROMPT, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0]
    ref_state = model.state_dict()
    failed = False
    for path in args.exported:
        etok, emodel = load(path)
        same_ids = etok(PROMPT, add_special_tokens=False)["input_ids"] == ids
        same_template = etok.chat_template == tok.chat_template
        same_special = (etok.bos_token, etok.eos_token, etok.unk_token) == (tok.bos_token, tok.eos_token, tok.unk_token)
        state = emodel.state_dict()
        identical = sum(1 for k in ref_state if torch.equal(ref_state[k], state[k]))
        with torch.no_grad():
            logits = emodel(torch.tensor([ids])).logits[0]
        diff = (logits - ref).abs().max().item()
        same_top = torch.equal(logits.argmax(-1), ref.argmax(-1))
        print(f"{pathlib.Path(path).name}: token ids {'same' if same_ids else 'DIFFER'}, chat template "
              f"{'same' if same_template else 'DIFFERS'}, special tokens {'same' if same_special else 'DIFFER'}, "
              f"{identical}/{len(ref_state)} weights bit-identical, max |logit diff| {diff:.3g}, "
              f"argmax at every position {'same' if same_top else 'DIFFERS'}")
        failed |= not (same_ids and same_template and same_special)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
