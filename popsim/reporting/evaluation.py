"""Evaluate a run folder against the human reference: every number of the report, as one dict.

Reads the run's tables only (so `popsim report RUN` can always rebuild it) and calls the analysis
functions. Sections that do not apply to a run (no primes, no behaviour items, no game) are left out;
a section that cannot be computed (too few agents, constant answers) records why instead.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from .. import analysis, datasets
from ..errors import PopsimError
from ..instruments import load_instrument, score
from ..population import parse_population
from .run_folder import Run
from ..values import CODES10

SAMPLE_LABELS = {"SE_ESS1-8": "Sweden, ESS 1-8", "DE_ESS9": "Germany, ESS 9", "US_GSS2012": "USA, GSS 2012"}


def _f(x) -> float | int | None:
    """JSON-safe number (integers stay integers)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return int(x)
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return None if not np.isfinite(x) else round(x, 6)


def _records(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict("records"):
        out.append({k: (_f(v) if isinstance(v, (float, np.floating, int, np.integer)) and not isinstance(v, bool)
                        else (bool(v) if isinstance(v, (bool, np.bool_)) else v)) for k, v in rec.items()})
    return out


def _safe(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs), None
    except PopsimError as exc:
        return None, str(exc)


@lru_cache(maxsize=4)
def noise_ceiling_table(n_perm: int = 999) -> pd.DataFrame:
    return analysis.noise_ceiling("centered", n_perm=n_perm, seed=0)


@lru_cache(maxsize=4)
def human_randall(sample: str) -> dict:
    return analysis.randall(datasets.value_correlation_matrix(sample, "centered"), n_perm=2000, seed=0)


def evaluate(run: Run, *, n_boot: int = 500, n_perm: int = 999, seed: int = 0) -> dict:
    ident = run.config.get("identity", {})
    sample = parse_population(ident.get("population", "DE_ESS9"))[1]
    m: dict = {"run": {**ident, "n_agents": int(len(run.agents)), "backend_detail": run.config.get("backend", {}),
                       "engine": run.config.get("engine", {}), "seconds": run.config.get("seconds"),
                       "population_record": run.config.get("population", {})},
               "human_sample": sample}
    m["answers"] = _answers_section(run, n_boot, seed)
    if run.scores is not None and len(run.scores):
        m["values"] = _values_section(run, sample, n_boot, n_perm, seed)
    items = _items_section(run, sample, n_boot, seed)
    if items:
        m["items"] = items
    beh_items = run.config.get("scenario", {}).get("behaviour_items") or []
    if beh_items:
        m["behaviour"] = _behaviour_section(run, beh_items, n_boot, seed)
    if run.config.get("scenario", {}).get("outcome"):
        m["game"] = _game_section(run, n_boot, seed)
    if run.config.get("scenario", {}).get("statements"):
        m["statements"] = _statements_section(run)
    m["headline"] = headline(m)
    return m


# ------------------------------------------------------------------------------------------ answers


def _answers_section(run: Run, n_boot: int, seed: int) -> dict:
    a = run.answers
    missing = a["error"].notna()
    out = {"n": int(len(a)), "missing": int(missing.sum()),
           "missing_reasons": a.loc[missing, "error"].str.split(":").str[0].value_counts().to_dict(),
           "methods": a["method"].value_counts().to_dict()}
    v = a["validity"].astype(float)
    if v.notna().any():
        per_agent = a.assign(v=v).groupby("agent")["v"].mean().dropna().to_numpy()
        est, lo, hi = analysis.bootstrap_ci(per_agent, np.mean, n_boot=n_boot, rng=seed)
        out["validity"] = {"mean": _f(est), "low": _f(lo), "high": _f(hi), "median": _f(np.nanmedian(v)),
                           "share_below_half": _f((v < 0.5).mean()), "n_asks": int(v.notna().sum())}
    return out


# ------------------------------------------------------------------------------------------ values


def _values_section(run: Run, sample: str, n_boot: int, n_perm: int, seed: int) -> dict:
    out: dict = {"instrument": run.config.get("scenario", {}).get("instrument")}
    cen = run.centered("sampled").dropna()
    cen_e = run.centered("expected").dropna()
    agents = run.agents.set_index("agent")
    prime = agents["prime"].fillna("").astype(str).reindex(cen.index)
    policy = run.config.get("identity", {}).get("policy")
    style = run.config.get("identity", {}).get("prompt_style")
    out["n_scored"] = int(len(cen))
    out["means"] = _records(population_means(cen, run.config.get("identity", {}).get("population", sample), sample))

    # manipulation check: on sampled answers (population variance) and on expected answers (noise-free)
    if (prime != "").any():
        mc, err = _safe(analysis.manipulation_check, cen, prime, n_boot=n_boot, seed=seed)
        if mc is not None:
            mce, _ = _safe(analysis.manipulation_check, cen_e, prime.reindex(cen_e.index), n_boot=n_boot, seed=seed)
            sd_h = datasets.value_stats(sample).set_index("value")["centered_sd"]
            if mce is not None:
                mc = mc.merge(mce[["value", "diff"]].rename(columns={"diff": "diff_expected"}), on="value", how="left")
                mc["d_human"] = mc["diff_expected"] / mc["value"].map(sd_h)
            twins = twin_centered(run)
            if twins is not None and policy == "llm":
                tw, _ = _safe(analysis.manipulation_check, twins.reindex(cen.index), prime, n_boot=n_boot, seed=seed)
                if tw is not None:
                    mc = mc.merge(tw[["value", "diff", "d"]].rename(columns={"diff": "twin_diff", "d": "twin_d"}),
                                  on="value", how="left")
            out["manipulation"] = _records(mc)
            ok = mc.dropna(subset=["d"])
            out["manipulation_summary"] = {
                "values_primed": int(len(mc)), "values_testable": int(len(ok)),
                "baseline": str(mc["baseline"].iloc[0]) if len(mc) else None,
                "mean_diff": _f(mc["diff"].mean()), "mean_d": _f(ok["d"].mean()) if len(ok) else None,
                "mean_diff_expected": _f(mc["diff_expected"].mean()) if "diff_expected" in mc else None,
                "mean_d_human": _f(mc["d_human"].mean()) if "d_human" in mc else None,
                "n_significant": int(((mc["q"] < 0.05) & (mc["diff"] > 0)).sum()),
                "mean_hit_rate": _f(mc["hit_rate"].mean()),
                "twin_mean_diff": _f(mc["twin_diff"].mean()) if "twin_diff" in mc else None,
            }
        else:
            out["manipulation_error"] = err
    if style == "profile" and policy == "llm":
        induced = agents[list(CODES10)].reindex(cen_e.index)
        rec, err = _safe(analysis.profile_recovery, induced, cen_e)
        if rec is not None:
            table, summ = rec
            out["profile_recovery"] = {k: _f(v) if isinstance(v, (int, float, np.floating)) else v for k, v in summ.items()}
        else:
            out["profile_recovery_error"] = err

    # structure
    sim_corr, err = _safe(analysis.correlation_matrix, cen)
    human_corr = datasets.value_correlation_matrix(sample, "centered")
    if sim_corr is not None and np.isfinite(sim_corr.to_numpy()[np.triu_indices(10, 1)]).all():
        out["correlations"] = {"simulated": sim_corr.round(4).to_dict(), "human": human_corr.round(4).to_dict()}
        agr, err = _safe(analysis.matrix_agreement, sim_corr, human_corr, n_perm=n_perm, seed=seed)
        if agr is not None:
            lo, hi = _structure_ci(cen, human_corr, n_boot=min(n_boot, 300), seed=seed)
            out["agreement"] = {**{k: _f(v) for k, v in agr.items()}, "pearson_low": _f(lo), "pearson_high": _f(hi),
                                "sample": sample}
            table, _ = _safe(analysis.agreement_table, sim_corr, n_perm=n_perm, seed=seed)
            if table is not None:
                out["agreement_all"] = _records(table)
        else:
            out["agreement_error"] = err
        rd, err = _safe(analysis.randall, sim_corr, n_perm=2000, seed=seed)
        out["randall"] = {k: _f(v) for k, v in rd.items()} if rd else {"error": err}
        if rd:
            lo, hi = _randall_ci(cen, n_boot=min(n_boot, 200), seed=seed)
            out["randall"].update(low=_f(lo), high=_f(hi))
        out["randall_human"] = {k: _f(v) for k, v in human_randall(sample).items()}
        out["noise_ceiling"] = _records(noise_ceiling_table(n_perm))
        sim_xy, _ = _safe(analysis.mds, sim_corr)
        if sim_xy is not None:
            out["angular_order"] = analysis.angular_order(sim_xy)
    else:
        out["structure_error"] = err or ("some value correlations are undefined (a value with no variance across "
                                         "agents); use more agents or a temperature above 0")

    # reliability and item distributions
    inst = load_instrument(out["instrument"])
    items = run.answers[run.answers["item"].isin(inst.item_ids)]
    wide = items.pivot_table(index="agent", columns="item", values="answer", aggfunc="first")
    rel, err = _safe(analysis.reliability, wide, out["instrument"])
    if rel is not None:
        if out["instrument"] == "ess21":
            rel["human_alpha"] = rel["value"].map(human_alpha(sample))
        out["reliability"] = _records(rel)
    return out


def _items_section(run: Run, sample: str, n_boot: int, seed: int) -> dict:
    """ESS-21 items answered in the run (all or some) vs the human sample's answer shares."""
    ess = load_instrument("ess21").item_ids
    items = run.answers[run.answers["item"].isin(ess)]
    if items.empty:
        return {}
    comp, err = _safe(analysis.compare_distributions, items[["agent", "item", "answer"]],
                      analysis.value_item_shares(sample), n_boot=n_boot, seed=seed)
    if comp is None:
        return {"error": err}
    return {"sample": sample, "table": _records(comp),
            "summary": {"n_items": int(len(comp)), "mean_wasserstein": _f(comp["wasserstein"].mean()),
                        "mean_jensen_shannon": _f(comp["jensen_shannon"].mean()),
                        "mean_abs_mean_diff": _f((comp["sim_mean"] - comp["human_mean"]).abs().mean())}}


@lru_cache(maxsize=8)
def human_alpha(sample: str) -> dict[str, float]:
    """Cronbach's alpha of each value's ESS-21 items in a human sample, exactly from the item SDs and
    correlations of the reference pack: alpha = k/(k-1) (1 - sum var_i / var_total)."""
    sd = datasets.item_stats(sample).set_index("item")["sd"]
    r = datasets.item_correlation_matrix(sample)
    out = {}
    for value, items in load_instrument("ess21").key().items():
        s = sd[items].to_numpy(float)
        cov = r.loc[items, items].to_numpy(float) * np.outer(s, s)
        k = len(items)
        out[value] = float(k / (k - 1) * (1 - np.trace(cov) / cov.sum()))
    return out


def population_means(cen: pd.DataFrame, population: str, sample: str) -> pd.DataFrame:
    """Per value: the population's mean centered score (with a normal 95% CI) next to the human mean
    (the reference sample's, or the ESS11 country's)."""
    kind, _, country = parse_population(population)
    if country:
        human = datasets.ess11_country_means().set_index("cntry").loc[country, list(CODES10)].astype(float)
        source = f"ESS11 {country}"
    else:
        human = datasets.value_stats(sample).set_index("value")["centered_mean"]
        source = sample
    rows = []
    for c in CODES10:
        x = cen[c].dropna().to_numpy(float)
        m = float(x.mean()) if len(x) else float("nan")
        se = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
        rows.append({"value": c, "sim_mean": m, "low": m - 1.96 * se, "high": m + 1.96 * se,
                     "human_mean": float(human[c]), "human_source": source})
    return pd.DataFrame(rows)


def twin_centered(run: Run) -> pd.DataFrame | None:
    """Centered values of the agents' synthetic human twins (from responses.parquet)."""
    r = run.responses
    items = list(load_instrument("ess21").item_ids)
    if r is None or not set(items) <= set(r.columns):
        return None
    return score(r.set_index("agent")[items], "ess21").centered


def _structure_ci(cen: pd.DataFrame, human: pd.DataFrame, *, n_boot: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    x = cen.to_numpy(float)
    iu = np.triu_indices(10, 1)
    h = human.loc[list(CODES10), list(CODES10)].to_numpy()[iu]
    rs = []
    for _ in range(n_boot):
        s = x[rng.integers(0, len(x), len(x))]
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.corrcoef(s.T)[iu]
        if np.isfinite(c).all():
            rs.append(np.corrcoef(c, h)[0, 1])
    if len(rs) < 20:
        return float("nan"), float("nan")
    return tuple(np.percentile(rs, [2.5, 97.5]))


def _randall_ci(cen: pd.DataFrame, *, n_boot: int, seed: int) -> tuple[float, float]:
    """Percentile bootstrap (over agents) of the RANDALL correspondence index."""
    rng = np.random.default_rng(seed)
    x = cen[list(CODES10)].to_numpy(float)
    mats = []
    for _ in range(n_boot):
        s = x[rng.integers(0, len(x), len(x))]
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.corrcoef(s.T)
        if np.isfinite(c).all():
            mats.append(c)
    if len(mats) < 20:
        return float("nan"), float("nan")
    return tuple(np.percentile(analysis.correspondence_indices(np.stack(mats)), [2.5, 97.5]))


# ------------------------------------------------------------------------------------------ behaviour


def _behaviour_section(run: Run, items: list[str], n_boot: int, seed: int) -> dict:
    a = run.answers[run.answers["item"].isin(items)]
    out: dict = {}
    comp, err = _safe(analysis.compare_distributions, a[["agent", "item", "answer"]], analysis.attitude_item_shares(),
                      n_boot=n_boot, seed=seed)
    if comp is not None:
        out["items"] = _records(comp)
        out["items_summary"] = {"mean_jensen_shannon": _f(comp["jensen_shannon"].mean()),
                                "mean_wasserstein": _f(comp["wasserstein"].mean())}
    else:
        out["items_error"] = err
    if run.scores is not None:
        cen = run.centered("sampled")
        beh = a.pivot_table(index="agent", columns="item", values="answer", aggfunc="first")
        vb, err = _safe(analysis.value_behaviour_correlations, cen, beh)
        if vb is not None:
            res, err = _safe(analysis.compare_value_behaviour, vb)
            if res is not None:
                cells, summ = res
                out["value_behaviour"] = _records(cells)
                out["value_behaviour_summary"] = {k: _f(v) if not isinstance(v, str) else v for k, v in summ.items()}
        if err:
            out["value_behaviour_error"] = err
    return out


# ------------------------------------------------------------------------------------------ games


def _game_section(run: Run, n_boot: int, seed: int) -> dict:
    sc = run.config["scenario"]
    endowment = float(sc.get("endowment", 1) or 1)
    a = run.answers[run.answers["item"] == sc["outcome"]].copy()
    a["share"] = a["answer"] / endowment
    per_round = a.groupby("round")["share"].agg(["mean", "std", "count"]).reset_index()
    per_round["round"] = per_round["round"] + 1
    per_agent = a.groupby("agent")["share"].mean()
    est, lo, hi = analysis.bootstrap_ci(per_agent.dropna().to_numpy(), np.mean, n_boot=n_boot, rng=seed)
    out = {"outcome": sc["outcome"], "endowment": endowment, "rounds": int(a["round"].nunique()),
           "mean_share": _f(est), "low": _f(lo), "high": _f(hi),
           "per_round": _records(per_round.rename(columns={"mean": "mean_share", "std": "sd_share", "count": "n"})),
           "human_reference": sc.get("human_reference", {}), "expected_signs": sc.get("expected_signs", {})}
    if out["rounds"] > 1:
        slope = np.polyfit(per_round["round"], per_round["mean"], 1)[0]
        out["slope_per_round"] = _f(slope)
    agents = run.agents.set_index("agent").reindex(per_agent.index)
    rows = []
    from scipy import stats as st

    for c in CODES10:
        x, y = agents[c].to_numpy(float), per_agent.to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() >= 3 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
            r, p = st.pearsonr(x[ok], y[ok])
        else:
            r, p = float("nan"), float("nan")
        exp = sc.get("expected_signs", {}).get(c, 0)
        rows.append({"value": c, "r": r, "p": p, "expected_sign": exp,
                     "sign_ok": (bool(np.sign(r) == exp) if exp and np.isfinite(r) else None)})
    t = pd.DataFrame(rows)
    ok = t["p"].notna()
    t["q"] = np.nan
    if ok.any():
        t.loc[ok, "q"] = analysis.fdr_bh(t.loc[ok, "p"].to_numpy())
    out["value_correlations"] = _records(t)
    marked = t[t["expected_sign"] != 0]
    out["signs_as_expected"] = int(marked["sign_ok"].fillna(False).astype(bool).sum())
    out["signs_tested"] = int(len(marked))
    return out


# ------------------------------------------------------------------------------------------ statements


def _statements_section(run: Run) -> dict:
    meta = pd.DataFrame(run.config["scenario"]["statements"])
    a = run.answers.merge(meta, on="item")
    # P(answer matching the behaviour): expected is P(Yes) (Yes = 1, No = 0)
    a["match"] = np.where(a["answer_matching_behavior"] == "Yes", a["expected"], 1 - a["expected"])
    prime = run.agents.set_index("agent")["prime"].replace("", "none")
    a["prime"] = a["agent"].map(prime)
    table = a.groupby(["prime", "dimension"])["match"].mean().unstack("dimension")
    return {"endorsement": {p: {d: _f(v) for d, v in row.items()} for p, row in table.iterrows()},
            "n_statements": int(meta.shape[0])}


# ------------------------------------------------------------------------------------------ headline


def headline(m: dict) -> dict:
    """The few numbers a comparison table shows (None where a run has no such number)."""
    v = m.get("values", {})
    ms = v.get("manipulation_summary", {})
    ag = v.get("agreement", {})
    b = m.get("behaviour", {})
    g = m.get("game", {})
    means = pd.DataFrame(v.get("means") or [])
    means_r = (float(np.corrcoef(means["sim_mean"], means["human_mean"])[0, 1])
               if len(means) and means["sim_mean"].std() > 0 else None)
    return {
        "validity_mean": (m["answers"].get("validity") or {}).get("mean"),
        "means_r": _f(means_r),
        "means_abs_diff": _f((means["sim_mean"] - means["human_mean"]).abs().mean()) if len(means) else None,
        "missing": m["answers"].get("missing"),
        "manipulation_diff_expected": ms.get("mean_diff_expected"),
        "manipulation_d": ms.get("mean_d"),
        "manipulation_significant": ms.get("n_significant"),
        "hit_rate": ms.get("mean_hit_rate"),
        "profile_r": (v.get("profile_recovery") or {}).get("mean_r"),
        "structure_r": ag.get("pearson_r"),
        "structure_r_low": ag.get("pearson_low"),
        "structure_r_high": ag.get("pearson_high"),
        "tucker_phi": ag.get("tucker_phi"),
        "procrustes": ag.get("procrustes_disparity"),
        "randall_ci": (v.get("randall") or {}).get("ci"),
        "items_js": ((m.get("items") or {}).get("summary") or {}).get("mean_jensen_shannon"),
        "behaviour_js": (b.get("items_summary") or {}).get("mean_jensen_shannon"),
        "value_behaviour_r": (b.get("value_behaviour_summary") or {}).get("pearson_r"),
        "value_behaviour_sign": (b.get("value_behaviour_summary") or {}).get("sign_agreement"),
        "game_mean_share": g.get("mean_share"),
        "game_slope": g.get("slope_per_round"),
        "game_signs": (f"{g['signs_as_expected']}/{g['signs_tested']}" if g else None),
    }
