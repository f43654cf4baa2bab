"""The fidelity card of a run: where it stands on the field's scales, next to what a perfect simulator
of its size and naive baselines reach.

- marginal: distribution scores (SimBench, OpinionQA's W1 score, TV, Jensen-Shannon) of every item
  with human shares, against the sampling floor, the human ceiling and the baselines; dispersion
  (SD ratios per item and value, spread of value profiles);
- structural: the value-structure agreement the report computes (structure r, RANDALL, Tucker's phi,
  Procrustes) next to the human noise ceiling;
- behavioural: signs and sizes of value-outcome correlations against the human 95% intervals, game
  outcomes against the published human figures.

Reads the run's tables (and the evaluation's numbers) only; the analysis is in `popsim.analysis`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .. import analysis, datasets
from ..analysis.baselines import fidelity_scale
from ..analysis.dispersion import dispersion_items, dispersion_summary, dispersion_values, profile_spread
from ..analysis.fidelity import distribution_scores
from ..analysis.signs import sign_check
from ..errors import PopsimError
from ..instruments import load_instrument
from .run_folder import Run

VALUE_DATASET, ATTITUDE_DATASET = "ess21", "ess_attitudes"


@lru_cache(maxsize=8)
def human_item_n(sample: str) -> dict[str, int]:
    """Respondents per item: ESS-21 items of `sample` (item_stats), ESS attitude items of DE_ESS9 (the
    diagonal of the joint correlation table)."""
    out = {r.item: int(r.n) for r in datasets.item_stats(sample).itertuples()}
    j = datasets.joint_item_correlations()
    diag = j[j["var_a"] == j["var_b"]]
    ess = set(load_instrument("ess21").item_ids)
    out.update({r.var_a: int(r.n) for r in diag.itertuples() if r.var_a not in ess})
    return out


def scored_items(run: Run, sample: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """The run's answers to items with human shares, the human shares and each item's dataset.

    ESS-21 value items are compared with `sample`; the ESS round 9 attitude items with DE_ESS9.
    """
    ess = list(load_instrument("ess21").item_ids)
    beh = list(run.config.get("scenario", {}).get("behaviour_items") or [])
    a = run.answers
    value_items = [i for i in ess if i in set(a["item"])]
    beh_items = [i for i in beh if i in set(a["item"])]
    shares, names = [], {}
    if value_items:
        v = analysis.value_item_shares(sample)
        shares.append(v[v["item"].isin(value_items)])
        names.update({i: VALUE_DATASET for i in value_items})
    if beh_items:
        b = analysis.attitude_item_shares("DE_ESS9")
        shares.append(b[b["item"].isin(beh_items)])
        names.update({i: ATTITUDE_DATASET for i in beh_items})
    if not names:
        return a.iloc[0:0], pd.DataFrame(columns=["item", "answer", "share"]), {}
    answers = a.loc[a["item"].isin(list(names)), ["agent", "item", "answer"]]
    return answers, pd.concat(shares, ignore_index=True), names


def twin_answers(run: Run, items: list[str]) -> pd.DataFrame | None:
    """The reference twins' answers to `items` (long), from responses.parquet, when it holds them all."""
    r = run.responses
    if r is None or not set(items) <= set(r.columns):
        return None
    agents = set(run.answers["agent"])
    long = r[r["agent"].isin(agents)].melt(id_vars="agent", value_vars=items, var_name="item", value_name="answer")
    return long.dropna(subset=["answer"])


def marginal(run: Run, sample: str, *, n_boot: int, seed: int, n_draws: int = 200) -> dict:
    """Distribution scores with floor, ceiling and baselines; dispersion of items and values."""
    answers, human, names = scored_items(run, sample)
    if not names:
        return {"error": f"the run answered no item with human answer shares (ESS-21 value items, ESS round 9 "
                         f"attitude items); scenario {run.config.get('identity', {}).get('scenario')} has none"}
    answers = answers.dropna(subset=["answer"])
    if answers.empty:
        return {"error": "every answer of the scored items is missing; rerun the run (see its answers' errors)"}
    n_h = human_item_n(sample)
    twins = twin_answers(run, list(names)) if run.config.get("identity", {}).get("policy") == "llm" else None
    scale = fidelity_scale(answers, human, human_n=n_h, datasets=names, twins=twins, n_draws=n_draws, seed=seed)
    items = distribution_scores(answers, human, datasets=names)
    disp = dispersion_items(answers, human, human_n=n_h, n_boot=n_boot, seed=seed)
    out = {"scale": scale.to_dict("records"), "items": items.merge(disp, on=["item", "n"]).to_dict("records"),
           "datasets": sorted(set(names.values())), "n_items": int(len(items)),
           "simbench_by_dataset": items.groupby("dataset")["simbench"].mean().to_dict(),
           "dispersion_items": dispersion_summary(disp)}
    if run.scores is not None and run.config.get("scenario", {}).get("instrument") == "ess21":
        cen = run.centered("sampled").dropna()
        stats = datasets.value_stats(sample)
        n_scored = int(datasets.sample_sizes().set_index("sample").loc[sample, "n_scored"])
        if len(cen) >= 3:
            dv = dispersion_values(cen, stats, human_n=n_scored, n_boot=n_boot, seed=seed)
            out["values"] = dv.to_dict("records")
            out["dispersion_values"] = dispersion_summary(dv)
            out["profile_spread"] = profile_spread(cen, stats, n_boot=n_boot, seed=seed)
    return out


def behavioural(m: dict) -> dict:
    """Value-outcome signs against the human intervals; game outcome against the published figure."""
    out: dict = {}
    vb = (m.get("behaviour") or {}).get("value_behaviour")
    if vb:
        t = pd.DataFrame(vb)
        sim = t.rename(columns={"sim_n": "n", "sim_r": "r"})[["item", "value", "n", "r"]]
        hum = t.rename(columns={"human_n": "n", "human_r": "r"})[["item", "value", "n", "r"]]
        try:
            cells, summary = sign_check(sim.astype({"r": float}), hum.astype({"r": float}))
            out["signs"] = summary
            out["sign_cells"] = cells.to_dict("records")
        except PopsimError as exc:
            out["signs_error"] = str(exc)
    g = m.get("game")
    if g:
        ref = g.get("human_reference") or {}
        out["game"] = {"outcome": g.get("outcome"), "mean_share": g.get("mean_share"), "low": g.get("low"),
                       "high": g.get("high"), "human_mean_share": ref.get("mean_share"),
                       "human_source": ref.get("source"), "signs_as_expected": g.get("signs_as_expected"),
                       "signs_tested": g.get("signs_tested"), "slope_per_round": g.get("slope_per_round")}
        hm = ref.get("mean_share")
        if hm is not None and g.get("low") is not None:
            out["game"]["human_inside_ci"] = bool(g["low"] <= hm <= g["high"])
    return out


def structural(m: dict) -> dict:
    """The value-structure numbers of the evaluation next to the human noise ceiling."""
    v = m.get("values") or {}
    ag = v.get("agreement")
    if not ag:
        return {"error": v.get("structure_error")} if v.get("structure_error") else {}
    nc = pd.DataFrame(v.get("noise_ceiling") or [])
    rows = [{"metric": k, "run": ag.get(k), "higher_is_better": hib,
             "human_min": float(nc[k].min()) if k in nc else None, "human_max": float(nc[k].max()) if k in nc else None}
            for k, hib in (("pearson_r", True), ("tucker_phi", True), ("procrustes_disparity", False))]
    rd = v.get("randall") or {}
    rows.append({"metric": "randall_ci", "run": rd.get("ci"), "higher_is_better": True,
                 "human_min": (v.get("randall_human") or {}).get("ci"), "human_max": (v.get("randall_human") or {}).get("ci")})
    return {"sample": ag.get("sample"), "table": rows}


def fidelity_card(run: Run, m: dict, sample: str, *, n_boot: int = 500, seed: int = 0) -> dict:
    """The card's sections (marginal, structural, behavioural) as plain numbers for metrics.json."""
    return {"marginal": marginal(run, sample, n_boot=n_boot, seed=seed), "structural": structural(m),
            "behavioural": behavioural(m)}


def card_headline(card: dict) -> dict:
    """The card's few numbers under names that say what they are (for metrics.json's headline)."""
    mg = card.get("marginal") or {}
    scale = {r["metric"]: r for r in mg.get("scale") or []}
    out: dict = {}
    for metric, prefix, run_name in (("simbench", "simbench", "simbench_score"), ("w1_score", "w1", "w1_score"),
                                     ("tv", "tv", "tv_distance"), ("jensen_shannon", "js", "js_distance")):
        r = scale.get(metric)
        if r:
            out[run_name] = r["run"]
            out[f"{prefix}_floor"] = r["floor"]
            out[f"{prefix}_ceiling"] = r["ceiling"]
            out[f"{prefix}_normalised"] = r["normalised"]
    if scale.get("simbench"):
        out["simbench_best_naive"] = scale["simbench"]["best_naive_value"]
    out["dispersion_ratio"] = (mg.get("dispersion_items") or {}).get("dispersion_ratio")
    out["value_dispersion_ratio"] = (mg.get("dispersion_values") or {}).get("dispersion_ratio")
    out["profile_spread_ratio"] = (mg.get("profile_spread") or {}).get("ratio")
    sg = (card.get("behavioural") or {}).get("signs") or {}
    out["value_outcome_keep_sign"] = sg.get("share_keep_sign")
    out["value_outcome_flipped"] = sg.get("share_flipped")
    out["value_outcome_inside_ci"] = sg.get("share_inside_ci")
    return {k: (None if v is None or (isinstance(v, float) and not np.isfinite(v)) else v) for k, v in out.items()}


# ------------------------------------------------------------------------------------------ markdown

SCORE_LABELS = {"simbench": "SimBench score (100 = human shares, 0 = uniform)",
                "w1_score": "OpinionQA 1 - W1/(K-1)", "tv": "total variation (lower is better)",
                "jensen_shannon": "Jensen-Shannon distance (lower is better)"}


def _n(x, nd: int = 2) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    return f"{x:.{nd}f}"


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{100 * x:.0f}%"


def _rows(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|",
            *("| " + " | ".join(r) + " |" for r in rows), ""]


def card_md(card: dict, n_agents: int) -> list[str]:
    """The card as markdown lines (a `## Fidelity card` section of report.md)."""
    L = ["## Fidelity card", "",
         "Where the run stands on the scales the field uses, next to what a perfect simulator with the same "
         f"number of agents ({n_agents}) reaches by sampling alone (floor), how close two halves of the human "
         "sample are (ceiling) and naive baselines. `normalised` = (run - best naive baseline) / (floor - best "
         "naive baseline): 0 = no better than uniform or modal answers, 1 = as good as a perfect simulator of "
         "this size. Definitions: docs/analysis.md, section 7.", ""]
    mg = card.get("marginal") or {}
    L += ["### Marginal: answer distributions and dispersion", ""]
    if mg.get("error"):
        L += [f"Not computed: {mg['error']}", ""]
    else:
        scale = mg["scale"]
        method = scale[0]["ceiling_method"]
        L += [f"{mg['n_items']} items ({', '.join(mg['datasets'])}); ceiling: {method}"
              + (" (two draws of half the human n from the human shares: no respondent-level data)"
                 if method != "split-half" else " of the human respondents") + ".", ""]
        L += _rows(["score", "run", "floor", "ceiling", "uniform", "modal", "independent", "twins", "normalised"],
                   [[SCORE_LABELS[r["metric"]], *(_n(r[k], 1 if r["metric"] == "simbench" else 3)
                     for k in ("run", "floor", "ceiling", "uniform", "modal", "independent", "twins")),
                     _n(r["normalised"])] for r in scale])
        by = mg.get("simbench_by_dataset") or {}
        if len(by) > 1:
            L += ["SimBench score per dataset: " + ", ".join(f"{k} {_n(v, 1)}" for k, v in by.items()) + ".", ""]
        di = mg.get("dispersion_items") or {}
        text = (f"Dispersion: SD of the simulated answers / SD of the human answers, geometric mean over "
                f"{di.get('n')} items = {_n(di.get('dispersion_ratio'))} (1 = as spread out as humans); "
                f"{_pct(di.get('share_under'))} of the items under-dispersed and {_pct(di.get('share_over'))} "
                "over-dispersed (95% CI wholly below / above 1).")
        dv, sp = mg.get("dispersion_values"), mg.get("profile_spread")
        if dv:
            text += (f" Per value (centered scores): geometric mean ratio {_n(dv['dispersion_ratio'])}, "
                     f"{_pct(dv['share_under'])} of the values under-dispersed.")
        if sp:
            text += (f" Between-agent spread of value profiles (RMS distance from the mean profile): "
                     f"{_n(sp['sim_spread'])} vs {_n(sp['human_spread'])} in humans, ratio {_n(sp['ratio'])} "
                     f"(95% CI {_n(sp['low'])} to {_n(sp['high'])}).")
        L += [text, ""]
        L += _rows(["item", "dataset", "n", "SimBench", "W1 score", "TV", "JS", "SD ratio", "95% CI"],
                   [[r["item"], r["dataset"], str(int(r["n"])), _n(r["simbench"], 1), _n(r["w1_score"], 3),
                     _n(r["tv"], 3), _n(r["jensen_shannon"], 3), _n(r["ratio"]),
                     f"{_n(r['low'])} to {_n(r['high'])}"] for r in mg["items"]])
    st = card.get("structural") or {}
    if st.get("table"):
        L += ["### Structural: value structure", "",
              f"Centered value correlations vs {st['sample']}; human range = the same statistic between the "
              "human samples (noise ceiling; for RANDALL the human sample's own index).", ""]
        L += _rows(["metric", "run", "human range"],
                   [[r["metric"], _n(r["run"], 3), f"{_n(r['human_min'], 3)} to {_n(r['human_max'], 3)}"]
                    for r in st["table"]])
    elif st.get("error"):
        L += ["### Structural: value structure", "", f"Not computed: {st['error']}", ""]
    bh = card.get("behavioural") or {}
    if bh:
        L += ["### Behavioural", ""]
        sg = bh.get("signs")
        if sg:
            L += [f"Value x outcome correlations ({sg['n_pairs']} pairs with a human correlation): "
                  f"{_pct(sg['share_keep_sign'])} keep the human sign; of the {sg['n_human_nonzero']} pairs whose "
                  f"human 95% interval (Fisher z, human n) excludes 0, {_pct(sg['share_keep_sign_nonzero'])} keep "
                  f"it and {_pct(sg['share_flipped'])} flip it; {_pct(sg['share_inside_ci'])} of the simulated "
                  "correlations lie inside the human interval.", ""]
        elif bh.get("signs_error"):
            L += [f"Value x outcome signs not computed: {bh['signs_error']}", ""]
        g = bh.get("game")
        if g:
            hm = g.get("human_mean_share")
            L += [f"Game: mean share {_pct(g.get('mean_share'))} (95% CI {_pct(g.get('low'))} to "
                  f"{_pct(g.get('high'))})" + (f" vs {_pct(hm)} in humans ({(g.get('human_source') or '').split(',')[0]}; "
                                               f"{'inside' if g.get('human_inside_ci') else 'outside'} the CI)"
                                               if hm is not None else "")
                  + f"; {g.get('signs_as_expected')} of {g.get('signs_tested')} value correlations have the "
                  "published sign.", ""]
    return L
