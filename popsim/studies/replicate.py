"""`popsim replicate`: the paper's three research questions, with the baselines its reviewers asked for.

A plan of ordinary runs (each a run folder under OUT/runs/, reused when rerun), then one report. The plan is
data: `replicate_plan.toml` next to this module (scales, conditions, the paper's figures, the runs), read by
`plan.py`.

- RQ1 (does value prompting induce coherent, value-specific behaviour?): the persona statements of
  Perez et al. 2023 answered under each induction (10 values + unprimed) for the styles
  `value_prompt`, `value_anchor`, `name_only` and `none`; endorsement per dimension; a permutation
  test of whether values adjacent on the circle behave more alike than distant ones.
- RQ2 (value structure and value-behaviour relations vs humans): ESS-21 (with the ESS attitude
  questions) and PVQ-40 under `value_prompt`; agreement with each human sample, the noise ceiling,
  RANDALL; value x attitude correlations vs DE_ESS9; value-giving correlations in the dictator and
  charity games vs the published directions.
- RQ3 (population simulation): `uniform`, `h_norm`, `h_even`, `h_np`, `model_specific`, `empirical`
  answering the same instruments with the same style and sampling (only the value distribution
  varies), several seeds, CIs across seeds; each with its reference-respondent twin population.
- Robustness: option order (descending, random), male vs female wording, paraphrased templates.
- The paper's reported figures next to this run's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import analysis
from ..errors import PopsimError, unknown
from ..reporting.markdown import table_lines
from ..reporting.record import Metrics
from ..reporting.report import fmt
from .plan import load_plan
from .sweep import run_point
from ..values import CODES10

#: the study plan, as data: popsim/studies/replicate_plan.toml (scales, conditions, the paper's figures, the runs)
PLAN = load_plan()
SCALES: dict[str, dict] = {name: {**s, "seeds": tuple(s["seeds"]), "robust_items": s.get("robust_items")}
                           for name, s in PLAN.scales.items()}
RQ1_STYLES = tuple(PLAN.values["rq1_styles"])
RQ3_STRATEGIES = tuple(PLAN.values["rq3_strategies"])  # + model_specific (needs accuracy)
ROBUSTNESS = {r["condition"]: r["change"] for r in PLAN.values["robustness"]}
#: the paper's headline figures: from its earlier ICLR 2026 version, as reported second-hand
PAPER = [(p["statistic"], p["paper"], p["ours"], p["note"]) for p in PLAN.values["paper"]]


def plan(scale: str, *, backend: str, seeds: int | None = None) -> list[dict]:
    """The runs of a replication (stage 1 of the plan): (name, point, scenario options) dicts."""
    if scale not in SCALES:
        raise unknown("scale", scale, SCALES)
    seed_list = list(SCALES[scale]["seeds"])[: seeds] if seeds else list(SCALES[scale]["seeds"])
    if seeds and seeds > len(seed_list):
        seed_list = list(range(1, seeds + 1))
    return PLAN.tasks(scale, backend=backend, seeds=seed_list)


def model_specific_tasks(scale: str, *, backend: str, accuracy: dict, seeds: list[int]) -> list[dict]:
    """Stage 2 of the plan: the model-specific populations, drawn with the accuracy stage 1 measured."""
    return PLAN.tasks(scale, stage=2, backend=backend, accuracy=accuracy, seeds=list(seeds))


def replicate(*, out: str | Path = "runs/replicate", scale: str = "small", backend: str = "embedded",
              backend_options: dict | None = None, cache_path: str | Path | None = None, seeds: int | None = None,
              progress: bool = True, overwrite: bool = False, refresh: bool = False) -> Path:
    from ..cache import default_cache_path

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    cache = Path(cache_path) if cache_path else default_cache_path()
    cache.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    tasks = plan(scale, backend=backend, seeds=seeds)
    seed_list = sorted({t["point"]["seed"] for t in tasks if t["name"].startswith("rq3-")})
    statuses = _execute(root, tasks, cache, backend_options, progress, overwrite, refresh)
    _check_failed(statuses)  # model_specific needs the uniform run's manipulation check
    acc = accuracy_from(root / "runs" / f"rq3-uniform-s{seed_list[0]}")
    tasks2 = model_specific_tasks(scale, backend=backend, accuracy=acc, seeds=seed_list)
    statuses += _execute(root, tasks2, cache, backend_options, progress, overwrite, refresh)
    _check_failed(statuses)
    results = analyze(root, scale=scale, seeds=seed_list, accuracy=acc)
    results["seconds"] = round(time.time() - started, 1)
    results["runs"] = statuses
    results["engine"] = engine_totals(root / "runs", [s["id"] for s in statuses])
    (root / "replicate.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    (root / "report.md").write_text(render(results), encoding="utf-8")
    return root / "report.md"


def _check_failed(statuses: list[dict]) -> None:
    failed = [s for s in statuses if s["status"] == "failed"]
    if failed:
        raise PopsimError(f"{len(failed)} replication runs failed (first: {failed[0]['id']}: {failed[0]['error']}); "
                          "fix the cause and rerun: finished runs and cached answers are reused")


def _execute(root: Path, tasks: list[dict], cache: Path, backend_options: dict | None, progress: bool,
             overwrite: bool = False, refresh: bool = False) -> list[dict]:
    """Each run in turn; finished run folders are reused unless `overwrite` or `refresh`; cached answers are reused
    unless `refresh` (then every question is asked again and the cache updated). When the first run fails, the
    plan stops there (the backend or the settings are wrong for every run: the error says which)."""
    out = []
    for i, t in enumerate(tasks, 1):
        if progress:
            print(f"replicate: [{i}/{len(tasks)}] {t['name']}", flush=True)
        res = run_point({"out": str(root / "runs" / t["name"]), "point": t["point"], "cache": str(cache),
                         "backend_options": backend_options, "scenario_options": t["scenario_options"],
                         "redo": overwrite or refresh, "refresh": refresh})
        out.append(res)
        if res["status"] == "failed" and all(r["status"] == "failed" for r in out):
            break
    return out


def engine_totals(runs: Path, names: list[str]) -> dict:
    """Asks, model calls and cache hits summed over the runs' records (what this invocation's runs did when
    they were made; a reused run counts what it did then)."""
    tot = {"asks": 0, "calls": 0, "hits": 0, "failed": 0}
    for name in names:
        eng = json.loads((runs / name / "config.json").read_text()).get("engine") or {}
        for k in tot:
            tot[k] += int(eng.get(k) or 0)
    return tot


def accuracy_from(run_dir: Path) -> dict[str, float]:
    m = Metrics.load(run_dir)
    rows = (m.values.manipulation if m.values is not None else None) or []
    acc = {r["value"]: float(r.get("hit_rate") or 0.0) for r in rows}
    return {c: acc.get(c, 0.0) for c in CODES10}


def count_plan(scale: str, *, seeds: int | None = None) -> pd.DataFrame:
    """Model calls a replication needs, before and after deduplication, without calling a model.

    Builds every run's population and every ask of its first round (one-round scenarios: all of them);
    `distinct_new` counts asks not already needed by an earlier run (the cache shares them)."""
    from ..backends.scripted import ScriptedBackend
    from ..engine import Engine
    from ..model import PopulationModel

    seen: set[str] = set()
    rows = []
    tasks = plan(scale, backend="scripted", seeds=seeds)
    seed_list = sorted({t["point"]["seed"] for t in tasks if t["name"].startswith("rq3-")})
    tasks += model_specific_tasks(scale, backend="scripted", accuracy={c: 0.5 for c in CODES10}, seeds=seed_list)
    for t in tasks:
        p = dict(t["point"])
        if p.get("policy") == "reference":
            rows.append({"run": t["name"], "asks": 0, "distinct": 0, "distinct_new": 0})
            continue
        seed, scenario = p.pop("seed"), p.pop("scenario")
        p.pop("backend", None)
        model = PopulationModel(scenario=scenario, scenario_options=t["scenario_options"], rng=seed,
                                engine=Engine(ScriptedBackend()), **p)
        keys = [ask.key for _, _, ask in model.policy.build(model.scenario.questions(model, 0))]
        uniq = set(keys)
        new = uniq - seen
        seen |= uniq
        rows.append({"run": t["name"], "asks": len(keys) * model.scenario.rounds, "distinct": len(uniq),
                     "distinct_new": len(new)})
    return pd.DataFrame(rows)


def rebuild(root: str | Path) -> Path:
    """Regenerate every run's report and the replication report from the folder alone (no model)."""
    from ..reporting.report import build_report

    root = Path(root)
    old = json.loads((root / "replicate.json").read_text())
    for d in sorted((root / "runs").iterdir()):
        if (d / "config.json").exists():
            build_report(d, figures=False)
    res = analyze(root, scale=old["scale"], seeds=old["seeds"], accuracy=old["model_specific_accuracy"])
    res["seconds"], res["runs"] = old.get("seconds"), old.get("runs")
    (root / "replicate.json").write_text(json.dumps(res, indent=2, default=str), encoding="utf-8")
    (root / "report.md").write_text(render(res), encoding="utf-8")
    return root / "report.md"


# ------------------------------------------------------------------------------------------ analysis


def _metrics(root: Path, name: str) -> Metrics:
    return Metrics.load(root / "runs" / name)


def _dict(section) -> dict | None:
    """A record section as the plain dict replicate.json stores."""
    return None if section is None else section.to_dict()


def analyze(root: Path, *, scale: str, seeds: list[int], accuracy: dict) -> dict:
    res = {"scale": scale, "seeds": seeds, "model_specific_accuracy": accuracy}
    res["rq1"] = {style: rq1_style(root / "runs" / f"rq1-{style}") for style in RQ1_STYLES}
    tests = [(s, k) for s in RQ1_STYLES for k in ("circle_p", "randall_p") if res["rq1"][s].get(k) is not None]
    if tests:
        q = analysis.fdr_bh(np.array([res["rq1"][s][k] for s, k in tests]))
        for (s, k), qq in zip(tests, q):
            res["rq1"][s][k.replace("_p", "_q")] = float(qq)
    m = _metrics(root, "rq2-values")
    mr = _metrics(root, "rq2-values-reference")
    res["rq2"] = {
        "values": _structure(m), "values_reference": _structure(mr),
        "pvq40": _structure(_metrics(root, "rq2-pvq40")),
        "noise_ceiling": list(m.values.noise_ceiling or []) if m.values is not None else None,
        "value_behaviour": _dict(m.behaviour.value_behaviour_summary) if m.behaviour is not None else None,
        "value_behaviour_reference": (_dict(mr.behaviour.value_behaviour_summary) if mr.behaviour is not None
                                      else None),
        "manipulation": _dict(m.values.manipulation_summary) if m.values is not None else None,
        "validity": m.answers.validity.mean if m.answers.validity is not None else None,
        "games": {g: _game(_metrics(root, f"rq2-{g}")) for g in ("dictator", "charity")},
    }
    rows = []
    for strat in RQ3_STRATEGIES + ("model_specific",):
        for s in seeds:
            for policy, name in (("llm", f"rq3-{strat}-s{s}"), ("reference", f"rq3-reference-{strat}-s{s}")):
                h = _metrics(root, name).headline.as_dict()
                for k in ("structure_r", "randall_ci", "items_js", "behaviour_js", "value_behaviour_r", "means_r"):
                    if h.get(k) is not None:
                        rows.append({"strategy": strat, "policy": policy, "seed": s, "metric": k, "value": h[k]})
    t = pd.DataFrame(rows)
    res["rq3"] = analysis.summarize_seeds(t, ["strategy", "policy"]).to_dict("records") if len(t) else []
    rob = {}
    for cond in ROBUSTNESS:
        h = _metrics(root, f"rob-{cond}").headline.as_dict()
        rob[cond] = {k: h.get(k) for k in ("validity_mean", "manipulation_diff_expected", "structure_r", "items_js",
                                           "means_r")}
    res["robustness"] = rob
    res["paper"] = paper_table(res)
    return res


def rq1_style(run_dir: Path) -> dict:
    """Endorsement per induction x dimension, and the circumplex test of the values' behaviour profiles."""
    from ..reporting.run_folder import load_run

    run = load_run(run_dir)
    meta = pd.DataFrame(run.config["scenario"]["statements"])
    table = analysis.endorsement(run.answers, meta, run.agents.set_index("agent")["prime"])
    a = run.answers[run.answers["item"].isin(meta["item"])]
    return {"endorsement": {i: {d: float(v) for d, v in row.items()} for i, row in table.iterrows()},
            "validity": float(a["validity"].mean()) if a["validity"].notna().any() else None,
            **analysis.induction_effects(table)}


def _structure(m: Metrics) -> dict:
    v = m.values
    if v is None:
        return {"agreement": None, "agreement_all": None, "randall": None, "randall_human": None, "n": None,
                "error": None}
    return {"agreement": _dict(v.agreement), "agreement_all": list(v.agreement_all or []) or None,
            "randall": _dict(v.randall), "randall_human": _dict(v.randall_human), "n": v.n_scored,
            "error": v.structure_error}


def _game(m: Metrics) -> dict:
    g = m.game
    if g is None:
        return {}
    return {"mean_share": g.mean_share, "low": g.low, "high": g.high, "signs_as_expected": g.signs_as_expected,
            "signs_tested": g.signs_tested, "value_correlations": list(g.value_correlations or []),
            "human_reference": g.human_reference}


def paper_table(res: dict) -> list[dict]:
    rq3 = pd.DataFrame(res["rq3"])
    ours = {"rq2_structure_r": ((res["rq2"]["values"].get("agreement") or {}).get("pearson_r")),
            "rq2_value_behaviour_r": (res["rq2"]["value_behaviour"] or {}).get("pearson_r")}
    for strat in RQ3_STRATEGIES + ("model_specific",):
        r = rq3[(rq3["strategy"] == strat) & (rq3["policy"] == "llm") & (rq3["metric"] == "structure_r")] if len(rq3) else rq3
        ours[f"rq3_{strat}"] = float(r["mean"].iloc[0]) if len(r) else None
    return [{"statistic": s, "paper (ICLR 2026 version, second-hand)": p, "this run": ours.get(k), "note": n}
            for s, p, k, n in PAPER]


# ------------------------------------------------------------------------------------------ report


def render(res: dict) -> str:
    rq1, rq2 = res["rq1"], res["rq2"]
    L = [f"# popsim replicate ({res['scale']} scale)", "",
         "The three research questions of Yehudai, Rozen & Gera (GEM 2026) with the baselines and controls its "
         f"reviewers asked for. Seeds {res['seeds']}; run time {res.get('seconds')} s"
         + (f" ({res['engine']['asks']:,} asks: {res['engine']['calls']:,} model calls, "
            f"{res['engine']['hits']:,} cache hits, {res['engine']['failed']:,} failed)" if res.get("engine") else "")
         + "; every run folder is under "
         "`runs/` and every number below is in `replicate.json`.", ""]
    # RQ1
    L += ["## RQ1: does value prompting induce coherent, value-specific behaviour?", "",
          _rq1_paragraph(rq1), ""]
    rows = []
    for s in RQ1_STYLES:
        r = rq1[s]
        rows.append({"style": s, "validity": r.get("validity"), "specificity": r.get("specificity"),
                     "distance_from_unprimed": r.get("distance_from_unprimed"), "circle_rho": r.get("circle_rho"),
                     "circle_p": r.get("circle_p"), "circle_q": r.get("circle_q"), "randall_ci": r.get("randall_ci"),
                     "randall_q": r.get("randall_q")})
    L += table_lines(pd.DataFrame(rows), list(rows[0]), 3)
    L += ["`specificity`: mean absolute deviation of a value's endorsement from the mean over the 10 values "
          "(share of statements answered in the behaviour's direction, 0-1); `distance_from_unprimed`: mean "
          "|value - unprimed|; `circle_rho`: Spearman r between two values' behaviour-profile similarity and their "
          "distance on the circle (negative = adjacent values behave more alike), one-sided permutation p over value "
          "labels; `randall_ci`: RANDALL index of the similarity matrix; q: Benjamini-Hochberg over the family.", ""]
    # RQ2
    L += ["## RQ2: value structure and value-behaviour relations vs humans", "", _rq2_paragraph(rq2), ""]
    ag = rq2["values"].get("agreement_all") or []
    if ag:
        t = pd.DataFrame(ag)
        t.insert(0, "population", "LLM (value_prompt, h_np)")
        tr = pd.DataFrame(rq2["values_reference"].get("agreement_all") or [])
        if len(tr):
            tr.insert(0, "population", "reference twins (h_np)")
            t = pd.concat([t, tr])
        tp = pd.DataFrame(rq2["pvq40"].get("agreement_all") or [])
        if len(tp):
            tp.insert(0, "population", "LLM PVQ-40 (vs ESS-21 humans)")
            t = pd.concat([t, tp])
        L += table_lines(t, ["population", "sample", "pearson_r", "spearman_rho", "mantel_p", "tucker_phi",
                             "procrustes_disparity"], 3)
    nc = rq2.get("noise_ceiling") or []
    if nc:
        L += ["Human noise ceiling:", ""] + table_lines(pd.DataFrame(nc), ["sample_a", "sample_b", "pearson_r",
                                                                           "tucker_phi", "procrustes_disparity"], 3)
    L += ["Value-giving correlations (agent profile x share given) with the published signs (+ up, - down):", ""]
    for g, d in rq2["games"].items():
        vc = pd.DataFrame(d.get("value_correlations") or [])
        if len(vc):
            marked = vc[vc["expected_sign"] != 0]
            L.append(f"- {g}: mean share {fmt(d['mean_share'], 3)}; " + ", ".join(
                f"{r.value} r = {fmt(r.r)} (expected {'+' if r.expected_sign > 0 else '-'})" for r in marked.itertuples())
                + f"; {d['signs_as_expected']} of {d['signs_tested']} as published.")
    L += ["", "## RQ3: population simulation (only the value distribution varies)", "", _rq3_paragraph(res), ""]
    t = pd.DataFrame(res["rq3"])
    if len(t):
        wide = []
        for (strat, pol), g in t.groupby(["strategy", "policy"], sort=False):
            row = {"strategy": strat, "policy": pol}
            for _, r in g.iterrows():
                row[r["metric"]] = (f"{r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]" if np.isfinite(r["low"])
                                    else f"{r['mean']:.3f}")
            wide.append(row)
        w = pd.DataFrame(wide)
        L += table_lines(w, list(w.columns), 3)
        L += ["Mean over seeds [95% t interval across seeds, on the Fisher z scale for the correlations and RANDALL, "
              "the logit scale for the Jensen-Shannon distances, so every interval stays in range]. structure_r: vs "
              "DE_ESS9 (noise ceiling 0.94-0.97); items_js / "
              "behaviour_js: mean Jensen-Shannon distance of value-item / attitude answer distributions (0 = same); "
              "value_behaviour_r: cell-wise r of value x attitude correlations vs DE_ESS9; means_r: r of the "
              "population's mean value profile with the human one. `reference` rows: the synthetic human twins of "
              "the same populations (the human-like ceiling).", ""]
    L += ["## Robustness", "", "Headline numbers of the same population (h_np, value_prompt, ESS-21) under other "
          "option orders, item wordings and persona paraphrases:", ""]
    rob = pd.DataFrame([{"condition": k, **v} for k, v in res["robustness"].items()])
    L += table_lines(rob, list(rob.columns), 3)
    L += ["## Side by side with the paper", "",
          "The paper's figures below come from its earlier ICLR 2026 version, as reported second-hand; they are "
          "not re-read from the paper here.", ""]
    pt = pd.DataFrame(res["paper"])
    L += table_lines(pt, list(pt.columns), 3)
    return "\n".join(L)


def _rq1_paragraph(rq1: dict) -> str:
    vp = rq1["value_prompt"]
    if vp.get("circle_rho") is None:
        return ("The 10 value inductions gave identical endorsement profiles: the model's behaviour did not depend on "
                "the induced value, so there is no value-specific behaviour to arrange on the circle.")
    verdict = ("adjacent values behave more alike than distant ones" if (vp.get("circle_q") or 1) < 0.05 else
               "the behaviour profiles do not follow the circle beyond chance")
    return (f"Under `value_prompt` the induced value changed the share of behaviour-matching answers by "
            f"{fmt(vp.get('distance_from_unprimed'), 3)} on average relative to the unprimed model (share units, 0-1), "
            f"and values differed from their mean by {fmt(vp.get('specificity'), 3)}. Similarity of the 10 values' "
            f"40-dimension behaviour profiles vs circular distance: Spearman r = {fmt(vp.get('circle_rho'))} "
            f"(permutation p = {fmt(vp.get('circle_p'), 4)}, BH q = {fmt(vp.get('circle_q'), 4)}); RANDALL index of the "
            f"similarities {fmt(vp.get('randall_ci'), 3)}: {verdict}. Baselines in the table: `value_anchor`, "
            "`name_only`, and `none` (no induction).")


def _rq2_paragraph(rq2: dict) -> str:
    ag = rq2["values"].get("agreement") or {}
    agr = rq2["values_reference"].get("agreement") or {}
    nc = pd.DataFrame(rq2.get("noise_ceiling") or [])
    vb = rq2.get("value_behaviour") or {}
    vbr = rq2.get("value_behaviour_reference") or {}
    ms = rq2.get("manipulation") or {}
    rd = rq2["values"].get("randall") or {}
    return (f"The value-prompted population ({rq2['values'].get('n')} agents, h_np) answered with validity mass "
            f"{fmt(rq2.get('validity'), 2)}; the primed value moved by {fmt(ms.get('mean_diff_expected'))} scale points. "
            f"Its centered value correlations agree with DE_ESS9 at r = {fmt(ag.get('pearson_r'))} (95% CI "
            f"{fmt(ag.get('pearson_low'))} to {fmt(ag.get('pearson_high'))}), RANDALL {fmt(rd.get('ci'), 3)} vs "
            f"{fmt((rq2['values'].get('randall_human') or {}).get('ci'), 3)} in humans; the human twins of the same "
            f"agents reach r = {fmt(agr.get('pearson_r'))}, human samples agree with each other at "
            f"{fmt(nc['pearson_r'].min() if len(nc) else None)} to {fmt(nc['pearson_r'].max() if len(nc) else None)}. "
            f"PVQ-40: r = {fmt((rq2['pvq40'].get('agreement') or {}).get('pearson_r'))} against the ESS-21 human "
            f"structure. Value x attitude correlations agree with DE_ESS9 at cell-wise r = {fmt(vb.get('pearson_r'))} "
            f"(same sign in {fmt(vb.get('sign_agreement'), 2)} of cells; twins: r = {fmt(vbr.get('pearson_r'))}).")


def _rq3_paragraph(res: dict) -> str:
    t = pd.DataFrame(res["rq3"])
    if t.empty:
        return "No population runs finished."
    s = t[(t["metric"] == "structure_r") & (t["policy"] == "llm")].sort_values("mean", ascending=False)
    ref = t[(t["metric"] == "structure_r") & (t["policy"] == "reference")]
    best = s.iloc[0]
    overlap = all(r["low"] <= best["high"] for _, r in s.iterrows() if np.isfinite(r["low"]))
    return (f"Holding style (value_prompt) and sampling fixed, the value distribution ranks the populations by "
            f"structure agreement as {', '.join(f'{r.strategy} {r.mean:.2f}' for r in s.itertuples())} (mean over "
            f"{int(best['n_seeds'])} seeds); " + ("the 95% intervals overlap, so the strategies are not distinguishable "
                                                  "at this scale" if overlap else "the best is ahead beyond the "
                                                  "intervals") +
            f". Their human-twin populations reach {fmt(ref['mean'].min())} to {fmt(ref['mean'].max())}.")
