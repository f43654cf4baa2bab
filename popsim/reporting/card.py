"""The fidelity card of a run: where it stands on the field's scales, next to what a perfect simulator
of its size and naive baselines reach.

- marginal: distribution scores (SimBench, OpinionQA's W1 score, TV, Jensen-Shannon) of every item
  with human shares, against the sampling floor, the human ceiling and the baselines; dispersion
  (SD ratios per item and value, spread of value profiles);
- structural: the value-structure agreement the report computes (structure r, RANDALL, Tucker's phi,
  Procrustes) next to the human noise ceiling;
- behavioural: signs and sizes of value-outcome correlations against the human 95% intervals, game
  outcomes against the published human figures.

Reads the run's tables (and the evaluation's numbers) only; the analysis is in `popsim.analysis`, the
record's sections in `card_record`, the markdown in `sections.card_md`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .. import analysis, datasets
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
    scale = analysis.fidelity_scale(answers, human, human_n=n_h, datasets=names, twins=twins, n_draws=n_draws, seed=seed)
    items = analysis.distribution_scores(answers, human, datasets=names)
    disp = analysis.dispersion_items(answers, human, human_n=n_h, n_boot=n_boot, seed=seed)
    out = {"scale": scale.to_dict("records"), "items": items.merge(disp, on=["item", "n"]).to_dict("records"),
           "datasets": sorted(set(names.values())), "n_items": int(len(items)),
           "simbench_by_dataset": items.groupby("dataset")["simbench"].mean().to_dict(),
           "dispersion_items": analysis.dispersion_summary(disp)}
    if run.scores is not None and run.config.get("scenario", {}).get("instrument") == "ess21":
        cen = run.centered("sampled").dropna()
        stats = datasets.value_stats(sample)
        n_scored = int(datasets.sample_sizes().set_index("sample").loc[sample, "n_scored"])
        if len(cen) >= 3:
            dv = analysis.dispersion_values(cen, stats, human_n=n_scored, n_boot=n_boot, seed=seed)
            out["values"] = dv.to_dict("records")
            out["dispersion_values"] = analysis.dispersion_summary(dv)
            out["profile_spread"] = analysis.profile_spread(cen, stats, n_boot=n_boot, seed=seed)
    return out


def behavioural(m: dict, run: Run, twins: pd.DataFrame | None = None) -> dict:
    """Value-outcome signs against the human intervals (and the reference twins' signs at this size); the
    game outcome against the published figure."""
    out: dict = {}
    vb = (m.get("behaviour") or {}).get("value_behaviour")
    if vb:
        t = pd.DataFrame(vb)
        sim, hum = (t.rename(columns={f"{s}_n": "n", f"{s}_r": "r"})[["item", "value", "n", "r"]].astype({"r": float})
                    for s in ("sim", "human"))
        try:
            cells, out["signs"] = analysis.sign_check(sim, hum)
            out["sign_cells"] = cells.to_dict("records")
        except PopsimError as exc:
            out["signs_error"] = str(exc)
        beh = twin_answers(run, sorted(set(t["item"])))
        if twins is not None and beh is not None and "signs" in out:
            tw = analysis.value_behaviour_correlations(twins, beh)
            out["twin_signs"] = analysis.sign_check(tw, hum)[1]
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


STRUCTURE_METRICS = (("pearson_r", True), ("tucker_phi", True), ("procrustes_disparity", False))


def structural(m: dict, sample: str, twins: pd.DataFrame | None = None) -> dict:
    """The value-structure numbers of the evaluation next to the human noise ceiling and, for LLM runs, the
    same numbers of the run's reference twins (what a human-like population of this size gives)."""
    v = m.get("values") or {}
    ag = v.get("agreement")
    if not ag:
        return {"error": v.get("structure_error")} if v.get("structure_error") else {}
    nc = pd.DataFrame(v.get("noise_ceiling") or [])
    tw, rt = {}, {}
    if twins is not None and len(twins.dropna()) >= 3:
        human = datasets.value_correlation_matrix(sample, "centered")
        try:
            tc = analysis.correlation_matrix(twins.dropna())
            tw = analysis.matrix_agreement(tc, human, n_perm=1, seed=0)
            rt = analysis.randall(tc, n_perm=1, seed=0)
        except PopsimError:  # twins without variance on a value: no twin column
            tw, rt = {}, {}
    rows = [{"metric": k, "run": ag.get(k), "higher_is_better": hib, "twins": tw.get(k),
             "human_min": float(nc[k].min()) if k in nc else None, "human_max": float(nc[k].max()) if k in nc else None}
            for k, hib in STRUCTURE_METRICS]
    rd, rh = v.get("randall") or {}, v.get("randall_human") or {}
    rows.append({"metric": "randall_ci", "run": rd.get("ci"), "higher_is_better": True, "twins": rt.get("ci"),
                 "human_min": rh.get("ci"), "human_max": rh.get("ci")})
    return {"sample": ag.get("sample"), "table": rows}


def fidelity_card(run: Run, m: dict, sample: str, *, twins: pd.DataFrame | None = None, n_boot: int = 500,
                  seed: int = 0) -> dict:
    """The card's sections (marginal, structural, behavioural) as plain JSON values for metrics.json.
    `twins`: the centered values of the run's reference twins (LLM runs), for the size-matched baselines."""
    twins = twins if run.config.get("identity", {}).get("policy") == "llm" else None
    return _plain({"marginal": marginal(run, sample, n_boot=n_boot, seed=seed),
                   "structural": structural(m, sample, twins), "behavioural": behavioural(m, run, twins)})


def _plain(x):
    """JSON values: numpy numbers as Python ones rounded to 6 decimals, NaN and infinities as None."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return round(float(x), 6) + 0.0 if np.isfinite(x) else None  # + 0.0: no "-0.0"
    return x


def card_headline(card: dict) -> dict:
    """The card's few numbers under names that say what they are (the `Headline` fields of the card)."""
    mg = card.get("marginal") or {}
    scale = {r["metric"]: r for r in mg.get("scale") or []}
    out: dict = {}
    sb, w1 = scale.get("simbench", {}), scale.get("w1_score", {})
    out.update(simbench_score=sb.get("run"), simbench_floor=sb.get("floor"), simbench_ceiling=sb.get("ceiling"),
               simbench_normalised=sb.get("normalised"), w1_score=w1.get("run"), w1_floor=w1.get("floor"),
               w1_normalised=w1.get("normalised"), tv_distance=scale.get("tv", {}).get("run"),
               js_distance=scale.get("jensen_shannon", {}).get("run"))
    out["dispersion_ratio"] = (mg.get("dispersion_items") or {}).get("dispersion_ratio")
    out["value_dispersion_ratio"] = (mg.get("dispersion_values") or {}).get("dispersion_ratio")
    out["profile_spread_ratio"] = (mg.get("profile_spread") or {}).get("ratio")
    sg = (card.get("behavioural") or {}).get("signs") or {}
    out["value_outcome_keep_sign"] = sg.get("share_keep_sign")
    out["value_outcome_flipped"] = sg.get("share_flipped")
    out["value_outcome_inside_ci"] = sg.get("share_inside_ci")
    return out


def ppi_section(run: Run, *, n_labelled: int | None = None, level: float = 0.95, seed: int = 0) -> dict:
    """Prediction-powered inference of each item's human mean from a run whose agents are real respondents.

    `n_labelled` distinct respondents (seeded draw; default a fifth of the distinct respondents, at least
    `analysis.ppi.MIN_LABELLED`) are the labelled set: their real answers (responses.parquet) and their agents'
    simulated answers; the agents of every other respondent are the simulated population. The items are those
    the run asked that the respondents answered. Raises a `PopsimError` when the run has no respondents or the
    request cannot be met (see `check_ppi_request`).
    """
    from ..analysis.ppi import MIN_LABELLED

    agents = run.agents
    if "respondent" not in agents.columns or run.responses is None or agents["respondent"].isna().all():
        raise PopsimError(f"run {run.path} has no agents that are real respondents (PPI needs their real answers): "
                          "run --strategy respondents on an imported sample (popsim data import)")
    people = agents.drop_duplicates("respondent")
    n_people = len(people)
    if n_labelled is None:
        n_labelled = max(MIN_LABELLED, n_people // 5)
    if n_labelled < MIN_LABELLED:
        raise PopsimError(f"{n_labelled} labelled respondents are too few: PPI's normal interval needs at least "
                          f"{MIN_LABELLED}; label more respondents")
    if n_labelled >= n_people:
        raise PopsimError(f"the run has {n_people} distinct respondents, so {n_labelled} labelled ones leave no simulated "
                          f"population; label fewer than {n_people}, or run more agents (at least "
                          f"{2 * MIN_LABELLED} for the default)")
    gen = np.random.default_rng(seed)
    chosen = set(people["respondent"].to_numpy()[gen.choice(n_people, n_labelled, replace=False)])
    lab_agents = people.loc[people["respondent"].isin(chosen), ["agent", "respondent"]]
    unl_agents = agents.loc[~agents["respondent"].isin(chosen), "agent"]
    answers = run.answers[["agent", "item", "answer"]]
    truth = run.responses.set_index("agent")
    items = [i for i in dict.fromkeys(answers["item"]) if i in truth.columns]
    sim = answers[answers["agent"].isin(lab_agents["agent"])].rename(columns={"answer": "sim"})
    real = truth.loc[lab_agents["agent"], items].rename_axis("agent").reset_index().melt(
        id_vars="agent", var_name="item", value_name="human")
    labelled = sim.merge(real, on=["agent", "item"]).merge(lab_agents, on="agent").dropna(subset=["human", "sim"])
    counts = labelled.groupby("item").size().reindex(items, fill_value=0)
    skipped = [i for i in items if counts[i] < MIN_LABELLED]  # too many labelled respondents without an answer
    labelled = labelled[~labelled["item"].isin(skipped)]
    unlabelled = answers[answers["agent"].isin(unl_agents)]
    if labelled.empty:
        raise PopsimError(f"no item has {MIN_LABELLED} labelled respondents with an answer; label more respondents")
    table = analysis.ppi_item_means(labelled[["respondent", "item", "human", "sim"]], unlabelled, level=level)
    return {"skipped_items": skipped, "n_labelled": int(n_labelled), "n_respondents": int(n_people), "n_unlabelled_agents": int(len(unl_agents)),
            "items": table.to_dict("records"), "median_effective_n": float(table["effective_n"].median()),
            "median_gain": float(table["gain"].median()), "mean_lam": float(table["lam"].mean())}
