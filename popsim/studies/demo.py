"""Studies made of several runs: the demo (README command 1) and helpers shared by sweeps.

The demo: agents from DE_ESS9 answer the ESS-21 under `value_prompt` (each agent primed with its own
single top value; tied agents unprimed) and under `none`, next to the same agents' synthetic human
twins (reference respondent). One combined report compares the three arms; each arm is a complete
run folder of its own.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import PopsimError
from ..reporting.record import Metrics
from ..reporting.report import compare_runs, fmt
from ..reporting.runs import execute, load_run

DEMO_ARMS = (("value_prompt", "llm"), ("none", "llm"), ("reference", "reference"))


def run_demo(out: str | Path = "runs/demo", *, overwrite: bool = False, **kwargs) -> Path:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for arm, policy in DEMO_ARMS:
        print(f"demo: {arm} arm ...", flush=True)
        args = dict(kwargs)
        args["policy"] = policy
        if policy == "llm":
            args["prompt_style"] = arm
        if arm == "none":  # no persona: the style has one (empty) template, whatever --variant the other arm uses
            args["template_variant"] = 0
        res = execute(out / arm, scenario="ess21", overwrite=overwrite, **args)
        paths.append(res.path)
    table, _ = compare_runs(paths, out=out / "compare.md")
    (out / "report.md").write_text(demo_report(out, paths), encoding="utf-8")
    return out / "report.md"


def demo_report(out: Path, paths: list[Path]) -> str:
    ms = {p.name: Metrics.load(p) for p in paths}
    vp, nn, ref = ms["value_prompt"], ms["none"], ms["reference"]
    model = (vp.run.backend_detail or {}).get("model")
    L = [f"# popsim demo: {vp.run.n_agents} agents from {vp.run.population} answer the ESS-21", "",
         f"Three arms over the same agents (seed {vp.run.seed}): `value_prompt` (each agent primed with its single "
         f"top value, agents with a tied top unprimed) and `none` (no persona) on {model}, and the agents' synthetic "
         "human twins (reference respondent: the human-calibrated baseline).", "",
         "## What it shows", "", vp_verdict(vp, nn, ref), "",
         "## Headline metrics", ""]
    L += (out / "compare.md").read_text().splitlines()[4:]
    L += ["", "## Fidelity card", ""] + card_table(ms)
    L += ["", "## The arms", ""]
    for p in paths:
        L.append(f"- [{p.name}]({p.name}/report.md): full report with figures")
    L += ["", "Metric definitions: validity_mean = probability on valid options; manipulation_diff_expected = "
          "primed value's centered score, primed minus unprimed agents (expected answers, scale points); "
          "structure_r = Pearson r of the 45 centered value correlations vs the human sample; randall_ci = "
          "correspondence index of the circular order; items_js = mean Jensen-Shannon distance of the item answer "
          "distributions from the human ones.", ""]
    return "\n".join(L)


#: the card's numbers the demo shows for each arm (each arm's report.md has the whole card)
CARD_COLUMNS = ("simbench_score", "simbench_floor", "simbench_ceiling", "simbench_normalised", "w1_score", "w1_floor",
                "w1_normalised", "tv_distance", "js_distance", "dispersion_ratio", "value_dispersion_ratio",
                "profile_spread_ratio", "structure_r", "randall_ci")


def card_table(ms: dict[str, Metrics]) -> list[str]:
    """The fidelity card of every arm, side by side (one row per number, one column per arm)."""
    from ..reporting.markdown import table_lines

    rows = [{"metric": k, **{arm: m.headline.as_dict().get(k) for arm, m in ms.items()}} for k in CARD_COLUMNS]
    text = ("The answer distributions of the 21 items on the field's scales (docs/analysis.md section 10): the SimBench "
            "score (100 = the human shares, 0 = uniform answers), OpinionQA's 1 - W1/(K-1), total variation and "
            "Jensen-Shannon distance; `floor` = what a perfect simulator with this many agents scores by sampling "
            "alone, `ceiling` = two halves of the human sample scored against each other; `normalised` = 0 at the "
            "best naive baseline (uniform or modal answers), 1 at the floor; dispersion = SD of the simulated / "
            "human answers (items), of the centered values, and the spread of the value profiles; structure_r "
            "and randall_ci as above (human noise ceiling 0.94-0.97; DE_ESS9 RANDALL 0.797). Each arm's report.md "
            "has the whole card with the baselines and every item.")
    return [text, ""] + table_lines(pd.DataFrame(rows), ["metric", *ms], 3)


def vp_verdict(vp: Metrics, nn: Metrics, ref: Metrics) -> str:
    from ..reporting.report import verdict

    text = verdict(vp)
    text += (f" For comparison, the unprimed model (`none`) reaches structure r = {fmt(nn.headline.structure_r)}"
             f" and the human twins r = {fmt(ref.headline.structure_r)} (RANDALL {fmt(ref.headline.randall_ci, 3)}): "
             "the twins show what a human-like population of this size gives.")
    return text


def accuracy_from_run(path: str | Path) -> dict[str, float]:
    """Per value, the share of agents primed with it whose measured top value is it (model_specific weights)."""
    load_run(path)  # a run folder, checked
    m = Metrics.load(path)
    rows = m.values.manipulation if m.values is not None else None
    if not rows:
        raise PopsimError(f"{path} has no manipulation check (it needs primed agents, e.g. --strategy uniform "
                          "--style value_prompt); model_specific weights come from such a run")
    return {r["value"]: float(r["hit_rate"] or 0.0) for r in rows}
