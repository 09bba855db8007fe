#!/usr/bin/env python3
"""Writes the preference-loss goldens the Java trainer's PreferenceLossParityTest compares against.

Run it through tools/reference/generate_preference.sh (pinned venv with TRL, then this file):

    bash tools/reference/generate_preference.sh

TRL's own code computes every value: DPOTrainer.dpo_loss (sigmoid with and without label smoothing,
ipo, hinge) and ORPOTrainer.odds_ratio_loss, called on fixed log-probabilities in fp64 on CPU. The
gradients are torch autograd's, of the batch loss TRL optimises (the mean over pairs; for ORPO the
mean SFT loss, not part of these inputs, contributes nothing to them). The Java side must match in
fp64 to 1e-12 relative (docs/parity.md).

Output: trainer-image/src/test/resources/goldens/preference/losses.json
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


if __name__ == "__main__":
    main()
