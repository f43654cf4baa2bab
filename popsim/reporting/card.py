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
from ..analysis.ppi import MIN_LABELLED
from ..errors import PopsimError
from ..samples import load_sample
from .run_folder import Run

ATTITUDE_DATASET = "ess_attitudes"


def outcome_sample(sample: str) -> str:
    """The human sample outcomes are compared with: the run's own when it holds outcomes, else DE_ESS9."""
    return sample if datasets.outcome_items(sample) else "DE_ESS9"


@lru_cache(maxsize=8)
def human_item_n(sample: str) -> dict[str, int]:
    """Respondents per item: the value items of `sample` (item_stats), the outcomes of `outcome_sample(sample)`
    (the diagonal of its joint correlation table)."""
    out = {r.item: int(r.n) for r in datasets.item_stats(sample).itertuples()}
    j = datasets.joint_item_correlations(outcome_sample(sample))
    out.update({r.var_a: int(r.n) for r in j[j["var_a"] == j["var_b"]].itertuples() if r.var_a not in out})
    return out


def sample_instrument(sample: str) -> str:
    """The value instrument a human sample's tables are scored on (ess21 for the shipped samples)."""
    return load_sample(sample).instrument


def scored_items(run: Run, sample: str) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """The run's answers to items with human shares, the human shares and each item's dataset.

    Value items are compared with `sample` (dataset: its instrument, e.g. ess21), the outcome items the scenario
    asks (the ESS round 9 questions) with `outcome_sample(sample)` (dataset ess_attitudes).
    """
    beh = list(run.config.get("scenario", {}).get("behaviour_items") or [])
    a = run.answers
    asked = set(a["item"].unique().tolist())
    v = analysis.value_item_shares(sample)
    value_items = [i for i in v["item"].unique().tolist() if i in asked]
    beh_items = [i for i in beh if i in asked]
    shares, names = [], {}
    if value_items:
        shares.append(v[v["item"].isin(value_items)])
        names.update({i: sample_instrument(sample) for i in value_items})
    if beh_items:
        b = analysis.attitude_item_shares(outcome_sample(sample))
        shares.append(b[b["item"].isin(beh_items)])
        names.update({i: ATTITUDE_DATASET for i in beh_items if i in set(b["item"])})
    if not names:
        return a.iloc[0:0], pd.DataFrame(columns=["item", "answer", "share"]), {}
    answers = a.loc[a["item"].isin(list(names)), ["agent", "item", "answer"]]
    return answers, pd.concat(shares, ignore_index=True), names


def respondent_answers(sample: str, items: list[str]) -> tuple[pd.DataFrame, pd.Series] | None:
    """The respondents of an imported sample (wide: one row per respondent, the `items`) and their weights, for
    the split-half ceiling; None for a shipped sample (aggregates only) or when the respondents lack an item
    (outcomes compared with another sample)."""
    s = load_sample(sample)
    if not s.has_respondents:
        return None
    people = s.respondents().set_index("respondent")
    if not set(items) <= set(people.columns):
        return None
    return people[items], people["weight"]


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
    people = respondent_answers(sample, list(names))
    resp, weights = people if people is not None else (None, None)
    scale = analysis.fidelity_scale(answers, human, human_n=n_h, datasets=names, twins=twins, respondents=resp,
                                    weights=weights, n_draws=n_draws, seed=seed)
    items = analysis.distribution_scores(answers, human, datasets=names)
    disp = analysis.dispersion_items(answers, human, human_n=n_h, n_boot=n_boot, seed=seed)
    out = {"scale": scale.to_dict("records"), "items": items.merge(disp, on=["item", "n"]).to_dict("records"),
           "datasets": sorted(set(names.values())), "n_items": int(len(items)),
           "simbench_by_dataset": items.groupby("dataset")["simbench"].mean().to_dict(),
           "dispersion_items": analysis.dispersion_summary(disp)}
    if run.scores is not None and run.config.get("scenario", {}).get("instrument") == sample_instrument(sample):
        cen = run.centered("sampled").dropna()
        stats = datasets.value_stats(sample)
        n_scored = int(datasets.sample_sizes(sample)["n_scored"].iloc[0])
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


def individual(m: dict) -> dict | None:
    """The card's individual part, from the evaluation's individual-level fidelity (`people.individual_section`):
    the agents' accuracy, error and per-person correlation next to the two baselines, and how far the agents'
    accuracy is above the better baseline."""
    ind = m.get("individual")
    if not ind:
        return None
    if ind.get("error"):
        return {"error": ind["error"]}
    t = pd.DataFrame(ind["summary"]).set_index("predictor")
    base = t.drop(index="agent")
    best = base["accuracy"].idxmax()
    return {"n_agents": ind.get("n_agents"), "n_items": len(ind.get("items") or []),
            "summary": t[["accuracy", "mae", "r"]].reset_index().to_dict("records"), "best_baseline": best,
            "accuracy_gain": float(t.loc["agent", "accuracy"] - base.loc[best, "accuracy"])}


def fidelity_card(run: Run, m: dict, sample: str, *, twins: pd.DataFrame | None = None, n_boot: int = 500,
                  seed: int = 0, ppi_labelled: int | None = None) -> dict:
    """The card's sections (marginal, structural, behavioural; for agents that are real respondents, individual
    and prediction-powered inference) as plain JSON values for metrics.json. `twins`: the centered values of the
    run's reference twins (LLM runs), for the size-matched baselines; `ppi_labelled`: how many respondents PPI
    labels (default: `ppi_section`'s)."""
    twins = twins if run.config.get("identity", {}).get("policy") == "llm" else None
    card = {"marginal": marginal(run, sample, n_boot=n_boot, seed=seed), "structural": structural(m, sample, twins),
            "behavioural": behavioural(m, run, twins), "individual": individual(m)}
    if "respondent" in run.agents.columns:
        try:
            card["ppi"] = ppi_section(run, sample, n_labelled=ppi_labelled, seed=seed)
        except PopsimError as exc:
            card["ppi"] = {"error": str(exc)}
    return _plain(card)


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
    out["individual_accuracy_gain"] = (card.get("individual") or {}).get("accuracy_gain")
    ppi = card.get("ppi") or {}
    out["ppi_effective_n"], out["ppi_gain"] = ppi.get("median_effective_n"), ppi.get("median_gain")
    return out


def check_ppi_request(run: Run, n_labelled: int | None) -> int:
    """The number of respondents PPI labels in `run` (default: a fifth of the distinct respondents, at least
    `MIN_LABELLED`), or a `PopsimError` naming what is missing and the fix: a run whose agents are not real
    respondents, too few labelled respondents, or so many that no simulated population is left."""
    agents = run.agents
    if "respondent" not in agents.columns or run.responses is None or agents["respondent"].isna().all():
        pop = run.config.get("identity", {}).get("population")
        raise PopsimError(f"--ppi-labelled needs agents that are real respondents, and run {run.path} has none "
                          f"(population {pop}, strategy {run.config.get('identity', {}).get('strategy')}); run "
                          "--strategy respondents on a sample with respondent-level data (popsim data import FILE "
                          "--name NAME): the shipped samples hold aggregates only")
    n_people = int(agents["respondent"].nunique())
    n = max(MIN_LABELLED, n_people // 5) if n_labelled is None else int(n_labelled)
    if n < MIN_LABELLED:
        raise PopsimError(f"--ppi-labelled {n} is too few: PPI's normal interval needs at least {MIN_LABELLED} "
                          f"labelled respondents; give {MIN_LABELLED} or more")
    if n >= n_people:
        raise PopsimError(f"--ppi-labelled {n} leaves no simulated population: run {run.path} has {n_people} distinct "
                          f"respondents; label fewer (e.g. {max(MIN_LABELLED, n_people // 5)}), or run more agents "
                          f"(at least {2 * MIN_LABELLED})")
    return n


def sample_means(sample: str, items: list[str]) -> dict[str, float]:
    """Each item's (weighted) mean answer over the whole human sample: value items from its item statistics,
    outcomes from its answer shares."""
    out = datasets.item_stats(sample).set_index("item")["mean"].to_dict()
    b = datasets.behavior_distributions(sample)
    if len(b):
        out.update((b.assign(x=b["code"] * b["share"]).groupby("item")["x"].sum()
                    / b.groupby("item")["share"].sum()).to_dict())
    return {i: float(out[i]) for i in items if i in out}


def ppi_section(run: Run, sample: str, *, n_labelled: int | None = None, level: float = 0.95, seed: int = 0) -> dict:
    """Prediction-powered inference of each item's human mean from a run whose agents are real respondents.

    `n_labelled` distinct respondents (a seeded draw; `check_ppi_request`) are the labelled set: their real
    answers (responses.parquet) and their agents' simulated answers; the agents of every other respondent are
    the simulated population. Items: those the run asked that at least `MIN_LABELLED` labelled respondents
    answered. For comparison, `sample_mean`: the item's weighted mean over the whole human sample (what the
    agents, a weighted bootstrap of its respondents, estimate), and `covered`: whether each interval holds it.
    """
    n_labelled = check_ppi_request(run, n_labelled)
    agents = run.agents
    people = agents.drop_duplicates("respondent")
    gen = np.random.default_rng([seed, 14])
    chosen = set(people["respondent"].to_numpy()[gen.choice(len(people), n_labelled, replace=False)])
    lab_agents = people.loc[people["respondent"].isin(chosen), ["agent", "respondent"]]
    unl_agents = agents.loc[~agents["respondent"].isin(chosen), "agent"]
    answers = run.answers[["agent", "item", "answer"]]
    truth = run.responses.set_index("agent")
    items = [i for i in answers["item"].unique().tolist() if i in truth.columns]
    sim = answers[answers["agent"].isin(lab_agents["agent"])].rename(columns={"answer": "sim"})
    real = truth.loc[lab_agents["agent"], items].rename_axis("agent").reset_index().melt(
        id_vars="agent", var_name="item", value_name="human")
    labelled = sim.merge(real, on=["agent", "item"]).merge(lab_agents, on="agent").dropna(subset=["human", "sim"])
    counts = labelled.groupby("item").size().reindex(items, fill_value=0)
    skipped = [i for i in items if counts[i] < MIN_LABELLED]  # too many labelled respondents without an answer
    labelled = labelled[~labelled["item"].isin(skipped)]
    if labelled.empty:
        raise PopsimError(f"no item has {MIN_LABELLED} labelled respondents with an answer; label more respondents")
    table = analysis.ppi_item_means(labelled[["respondent", "item", "human", "sim"]],
                                    answers[answers["agent"].isin(unl_agents)], level=level)
    table["sample_mean"] = table["item"].map(sample_means(sample, list(table["item"])))
    table["ppi_covered"] = (table["ppi_low"] <= table["sample_mean"]) & (table["sample_mean"] <= table["ppi_high"])
    table["classical_covered"] = ((table["classical_low"] <= table["sample_mean"])
                                  & (table["sample_mean"] <= table["classical_high"]))
    return {"n_labelled": int(n_labelled), "n_respondents": int(len(people)), "n_unlabelled_agents": int(len(unl_agents)),
            "level": level, "skipped_items": skipped, "items": table.to_dict("records"),
            "median_effective_n": float(table["effective_n"].median()), "median_gain": float(table["gain"].median()),
            "mean_lam": float(table["lam"].mean()), "ppi_coverage": float(table["ppi_covered"].mean()),
            "classical_coverage": float(table["classical_covered"].mean())}
