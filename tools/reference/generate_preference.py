#!/usr/bin/env python3
"""Writes the preference-loss goldens the Java trainer's PreferenceLossParityTest compares against.

Run it through tools/reference/generate_preference.sh (pinned venv with TRL, then this file):

    bash tools/reference/generate_preference.sh

TRL's own code computes every value: DPOTrainer.dpo_loss (sigmoid with and without label smoothing,
ipo, hinge) and ORPOTrainer.odds_ratio_loss, called on fixed log-probabilities in fp64 on CPU. The
gradients are torch autograd's, of the batch loss TRL optimises (the mean over pairs; for ORPO the
mean SFT loss, not part of these inputs, contributes nothing to them). The Java side must match in
fp64 to 1e-12 relative (docs/parity.md).

The model cases run TRL's whole DPO batch path, DPOTrainer.get_batch_loss_metrics (concatenated
forward of chosen and rejected, completion-only log-prob sums, the reference as the PEFT model with its
adapter disabled, the loss and its metrics), on the tiny Llama fixture of the HF parity goldens with
its fixed non-zero PEFT adapter (goldens/parity/llama/lora-all-linear/adapter), in fp32 on CPU, and
record the policy and reference log-probs, rewards, loss and the gradient of every LoRA tensor. The ORPO
model cases run ORPOTrainer.concatenated_forward (one forward of chosen and rejected, token-averaged
completion log-probs) and odds_ratio_loss on the same model and pairs. The SFT term is the trainer's
(docs/trainer.md, "Preference training"): the token-mean NLL of the chosen rows over their learned tokens,
here the completion (the prompt is unlearned), computed with torch's CrossEntropyLoss on the shifted logits
concatenated_forward returns, as TRL's own cross_entropy_loss does; TRL takes it over prompt and
completion instead, and the golden records that value and TRL's full loss too (trlNllLoss, trlLoss,
checked against ORPOTrainer.get_batch_loss_metrics), for comparison only.

Output: trainer-image/src/test/resources/goldens/preference/losses.json and model.json
"""
import argparse
import json
import pathlib
import types

import torch
import trl
from trl.trainer.dpo_trainer import DPOTrainer, FDivergenceType
from trl.trainer.orpo_trainer import ORPOTrainer

# Eight pairs: policy/reference log-probs from confident to unsure, pairs ranked right and wrong,
# a pair at the hinge's kink is avoided on purpose (its subgradient is a convention).
CHOSEN = [-12.5, -3.25, -40.0, -7.0, -0.75, -20.0, -5.5, -15.0]
REJECTED = [-14.0, -2.0, -38.5, -9.5, -1.5, -19.0, -8.0, -15.0]
REF_CHOSEN = [-13.0, -3.0, -39.0, -7.25, -1.0, -21.5, -5.0, -14.0]
REF_REJECTED = [-13.5, -2.5, -39.5, -9.0, -1.25, -18.0, -7.5, -16.0]
# ORPO takes token-averaged log-probs, always below 0
ORPO_CHOSEN = [-1.25, -0.05, -3.0, -0.6, -2.2, -0.01, -0.9, -4.5]
ORPO_REJECTED = [-1.5, -0.04, -2.0, -1.1, -2.2, -0.3, -0.7, -6.0]

DPO_CASES = [
    {"name": "sigmoid", "lossType": "sigmoid", "beta": 0.1, "labelSmoothing": 0.0},
    {"name": "sigmoid-smoothed", "lossType": "sigmoid", "beta": 0.5, "labelSmoothing": 0.2},
    {"name": "ipo", "lossType": "ipo", "beta": 0.1, "labelSmoothing": 0.0},
    {"name": "ipo-strong", "lossType": "ipo", "beta": 2.0, "labelSmoothing": 0.0},
    {"name": "hinge", "lossType": "hinge", "beta": 0.1, "labelSmoothing": 0.0},
]
ORPO_CASES = [{"name": "orpo", "beta": 0.1}, {"name": "orpo-strong", "beta": 1.0}]


def t(values):
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def dpo_case(case):
    trainer = types.SimpleNamespace(
        accelerator=types.SimpleNamespace(device=torch.device("cpu")),
        beta=case["beta"], label_smoothing=case["labelSmoothing"], loss_type=[case["lossType"]],
        reference_free=False, f_divergence_type=FDivergenceType.REVERSE_KL, f_divergence_params={},
        args=types.SimpleNamespace())
    c, r, rc, rr = t(CHOSEN), t(REJECTED), t(REF_CHOSEN), t(REF_REJECTED)
    losses, chosen_rewards, rejected_rewards = DPOTrainer.dpo_loss(trainer, c, r, rc, rr, case["lossType"])
    losses.mean().backward()
    return dict(case, inputs={"chosen": CHOSEN, "rejected": REJECTED, "refChosen": REF_CHOSEN,
                              "refRejected": REF_REJECTED},
                losses=losses.tolist(), rewardsChosen=chosen_rewards.tolist(),
                rewardsRejected=rejected_rewards.tolist(),
                gradChosen=c.grad.tolist(), gradRejected=r.grad.tolist())


def orpo_case(case):
    trainer = types.SimpleNamespace(accelerator=types.SimpleNamespace(device=torch.device("cpu")), beta=case["beta"])
    c, r = t(ORPO_CHOSEN), t(ORPO_REJECTED)
    losses, chosen_rewards, rejected_rewards, _, _ = ORPOTrainer.odds_ratio_loss(trainer, c, r)
    # ORPOTrainer's loss is nll - losses.mean(): the preference term of each pair is -losses
    (-losses.mean()).backward()
    return dict(case, lossType="orpo", inputs={"chosen": ORPO_CHOSEN, "rejected": ORPO_REJECTED},
                losses=(-losses).tolist(), rewardsChosen=chosen_rewards.tolist(),
                rewardsRejected=rejected_rewards.tolist(),
                gradChosen=c.grad.tolist(), gradRejected=r.grad.tolist())


# Two pairs on the tiny model (vocab 128): prompt, chosen completion, rejected completion
PAIRS = [([5, 6, 7], [8, 9], [11, 12, 13, 14]),
         ([20, 21], [22, 23, 24, 25], [30])]


def dpo_trainer_for(model, loss_type, beta):
    """A DPOTrainer with exactly the state its batch path reads, without the dataset machinery of __init__."""
    trainer = DPOTrainer.__new__(DPOTrainer)
    accelerator = types.SimpleNamespace(device=torch.device("cpu"), unwrap_model=lambda m: m,
                                        gather_for_metrics=lambda x: x)
    args = types.SimpleNamespace(rpo_alpha=None, ld_alpha=None, use_liger_loss=False, precompute_ref_log_probs=False,
                                 use_weighting=False, padding_free=False, loss_weights=None)
    state = dict(model=model, ref_model=None, accelerator=accelerator, args=args, beta=beta, label_smoothing=0.0,
                 loss_type=[loss_type], loss_weights=None, reference_free=False,
                 f_divergence_type=FDivergenceType.REVERSE_KL, f_divergence_params={}, is_encoder_decoder=False,
                 label_pad_token_id=-100, padding_value=0, pad_token_id=0, max_length=None, truncation_mode="keep_end",
                 use_logits_to_keep=False, padding_free=False, use_weighting=False, aux_loss_enabled=False,
                 aux_loss_coef=0.0, is_peft_model=True, ref_adapter_name=None, model_adapter_name=None,
                 _peft_has_been_casted_to_bf16=False, precompute_ref_log_probs=False, is_vision_model=False)
    trainer.__dict__.update(state)
    return trainer


def pad(rows, left):
    width = max(len(r) for r in rows)
    ids = [([0] * (width - len(r)) + r) if left else (r + [0] * (width - len(r))) for r in rows]
    mask = [([0] * (width - len(r)) + [1] * len(r)) if left else ([1] * len(r) + [0] * (width - len(r))) for r in rows]
    return torch.tensor(ids), torch.tensor(mask)


# The tiny Llama fixture and its fixed PEFT adapter, from the HF parity goldens (tools/reference/generate.sh)
PARITY_LLAMA = (pathlib.Path(__file__).resolve().parents[2]
                / "trainer-image" / "src" / "test" / "resources" / "goldens" / "parity" / "llama")


def peft_model():
    import peft
    import transformers
    base = transformers.AutoModelForCausalLM.from_pretrained(PARITY_LLAMA / "model", dtype=torch.float32)
    model = peft.PeftModel.from_pretrained(base, PARITY_LLAMA / "lora-all-linear" / "adapter", is_trainable=True)
    model.eval()  # no dropout (the fixture adapter has none anyway)
    return model


def lora_grads(model):
    return {n.replace("base_model.model.", "").replace(".default", ""): p.grad.flatten().tolist()
            for n, p in model.named_parameters() if p.requires_grad}


def model_case(loss_type, beta):
    model = peft_model()
    batch = {}
    for name, k in (("prompt", 0), ("chosen", 1), ("rejected", 2)):
        ids, mask = pad([list(p[k]) for p in PAIRS], left=(name == "prompt"))
        batch[name + "_input_ids"], batch[name + "_attention_mask"] = ids, mask
    trainer = dpo_trainer_for(model, loss_type, beta)
    out = trainer.concatenated_forward(model, batch)
    ref_chosen, ref_rejected = trainer.compute_ref_log_probs(batch)
    losses, chosen_rewards, rejected_rewards = trainer.dpo_loss(out["chosen_logps"], out["rejected_logps"],
                                                                ref_chosen, ref_rejected, loss_type)
    loss = losses.mean()
    loss.backward()
    grads = lora_grads(model)
    return {"name": loss_type, "lossType": loss_type, "beta": beta,
            "pairs": [{"prompt": p[0], "chosen": p[1], "rejected": p[2]} for p in PAIRS],
            "chosenLogps": out["chosen_logps"].tolist(), "rejectedLogps": out["rejected_logps"].tolist(),
            "refChosenLogps": ref_chosen.tolist(), "refRejectedLogps": ref_rejected.tolist(),
            "losses": losses.tolist(), "loss": loss.item(),
            "rewardsChosen": chosen_rewards.tolist(), "rewardsRejected": rejected_rewards.tolist(),
            "grads": grads}


def orpo_trainer_for(beta):
    """An ORPOTrainer with exactly the state its batch path reads, without the dataset machinery of __init__."""
    trainer = ORPOTrainer.__new__(ORPOTrainer)
    accelerator = types.SimpleNamespace(device=torch.device("cpu"), unwrap_model=lambda m: m,
                                        gather_for_metrics=lambda x: x)
    trainer.__dict__.update(accelerator=accelerator, beta=beta, is_encoder_decoder=False, label_pad_token_id=-100,
                            padding_value=0, aux_loss_enabled=False, aux_loss_coef=0.0)
    return trainer


def orpo_model_case(beta):
    """ORPO through the tiny Llama with its adapter: TRL's forward, log-probs and odds-ratio term, our SFT term."""
    model = peft_model()
    batch = {}
    for name, k in (("chosen", 1), ("rejected", 2)):
        rows = [list(p[0]) + list(p[k]) for p in PAIRS]
        ids, mask = pad(rows, left=False)
        labels = torch.full_like(ids, -100)
        for i, p in enumerate(PAIRS):
            labels[i, len(p[0]):len(rows[i])] = ids[i, len(p[0]):len(rows[i])]
        batch[name + "_input_ids"], batch[name + "_attention_mask"], batch[name + "_labels"] = ids, mask, labels
    trainer = orpo_trainer_for(beta)
    chosen_logps, rejected_logps, chosen_logits, _, trl_nll = trainer.concatenated_forward(model, batch)
    losses, chosen_rewards, rejected_rewards, _, _ = trainer.odds_ratio_loss(chosen_logps, rejected_logps)
    # the trainer's SFT term: the chosen rows' learned (completion) tokens, shifted as TRL's cross_entropy_loss does;
    # concatenated_forward pads chosen and rejected to one width, so the labels are padded (with -100) to it
    width = chosen_logits.shape[1] + 1
    labels = torch.nn.functional.pad(batch["chosen_labels"], (0, width - batch["chosen_labels"].shape[1]), value=-100)
    labels = labels[:, 1:]
    sft = torch.nn.CrossEntropyLoss()(chosen_logits.reshape(-1, chosen_logits.shape[-1]), labels.reshape(-1))
    loss = sft - losses.mean()  # ORPOTrainer.get_batch_loss_metrics: nll - losses.mean()
    trl_loss, metrics = trainer.get_batch_loss_metrics(model, batch)
    assert abs(trl_loss.item() - (trl_nll - losses.mean()).item()) < 1e-6, "TRL's loss is its nll - mean(losses)"
    assert abs(metrics["logps/chosen"] - chosen_logps.mean().item()) < 1e-6
    model.zero_grad()
    loss.backward()
    return {"name": "orpo" if beta == 0.1 else "orpo-beta-" + str(beta), "lossType": "orpo", "beta": beta,
            "pairs": [{"prompt": p[0], "chosen": p[1], "rejected": p[2]} for p in PAIRS],
            "chosenLogps": chosen_logps.tolist(), "rejectedLogps": rejected_logps.tolist(),
            "losses": (-losses).tolist(), "sftLoss": sft.item(), "loss": loss.item(),
            "rewardsChosen": chosen_rewards.tolist(), "rewardsRejected": rejected_rewards.tolist(),
            "trlNllLoss": trl_nll.item(), "trlLoss": trl_loss.item(), "grads": lora_grads(model)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = pathlib.Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    golden = {
        "versions": {"trl": trl.__version__, "torch": torch.__version__.split("+")[0]},
        "command": "bash tools/reference/generate_preference.sh",
        "note": "gradients are of the mean over the pairs, with respect to the policy log-probs",
        "cases": [dpo_case(c) for c in DPO_CASES] + [orpo_case(c) for c in ORPO_CASES],
    }
    (out / "losses.json").write_text(json.dumps(golden, indent=1) + "\n")
    torch.manual_seed(0)
    models = {
        "versions": golden["versions"],
        "command": golden["command"],
        "model": "goldens/parity/llama/model with goldens/parity/llama/lora-all-linear/adapter",
        "note": "gradients are of the mean loss over the pairs (ORPO: plus the token-mean SFT loss); fp32",
        "cases": [model_case("sigmoid", 0.1), model_case("ipo", 0.1), model_case("hinge", 0.1),
                  orpo_model_case(0.1), orpo_model_case(1.0)],
    }
    (out / "model.json").write_text(json.dumps(models, indent=1) + "\n")


if __name__ == "__main__":
    main()
