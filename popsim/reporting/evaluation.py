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
from .card import card_headline, fidelity_card, outcome_sample
from .people import people_sections
from .record import SCHEMA
from .run_folder import Run
from ..values import CODES10

SAMPLE_LABELS = {"SE_ESS1-8": "Sweden, ESS 1-8", "DE_ESS9": "Germany, ESS 9", "US_GSS2012": "USA, GSS 2012"}


def sample_label(name: str) -> str:
    """A few words on a sample: the shipped ones' survey, an imported one's source file ('' if unknown)."""
    if name in SAMPLE_LABELS:
        return SAMPLE_LABELS[name]
    try:
        from ..samples import load_sample

        return f"imported from {load_sample(name).provenance['source']['file']}"
    except (PopsimError, KeyError):
        return ""


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


def evaluate(run: Run, *, n_boot: int = 500, n_perm: int = 999, seed: int = 0, ppi_labelled: int | None = None) -> dict:
    ident = run.config.get("identity", {})
    sample = parse_population(ident.get("population", "DE_ESS9"))[1]
    m: dict = {"schema": SCHEMA, "run": {**ident, "n_agents": int(len(run.agents)), "backend_detail": run.config.get("backend", {}),
                       "engine": run.config.get("engine", {}), "seconds": run.config.get("seconds"),
                       "usage": run.config.get("usage"), "cost": run.config.get("cost"),
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
        m["behaviour"] = _behaviour_section(run, beh_items, n_boot, seed, sample)
    if run.config.get("scenario", {}).get("outcome"):
        m["game"] = _game_section(run, n_boot, seed)
    if run.config.get("scenario", {}).get("statements"):
        m["statements"] = _statements_section(run)
    m.update(people_sections(run, sample, n_boot, seed))  # agents that are real respondents
    if (run.config.get("population") or {}).get("transform"):
        m["transform"] = run.config["population"]["transform"]
    m["card"] = fidelity_card(run, m, sample, twins=twin_centered(run), n_boot=n_boot, seed=seed,
                              ppi_labelled=ppi_labelled)
    m["headline"] = headline(m)
    m["intervals"] = interval_methods(n_boot)
    if "individual" in m:
        m["intervals"].update(people_interval_methods(n_boot))
    return m


def interval_methods(n_boot: int) -> dict[str, str]:
    """How each interval in metrics.json is computed (the reasons per statistic: docs/analysis.md)."""
    expected = (f"bootstrap over agents ({n_boot} resamples, scipy.stats.bootstrap): basic interval of the value a "
                "population of this many agents gives in expectation, on the Fisher z scale")
    return {"answers.validity": f"BCa bootstrap over agents ({n_boot} resamples, scipy.stats.bootstrap)",
            "values.means": "normal theory: mean -+ 1.96 SD / sqrt(n)",
            "values.manipulation": f"BCa bootstrap within the two groups ({n_boot} resamples, scipy.stats.bootstrap)",
            "values.agreement.pearson": expected, "values.randall": expected,
            "items.table": f"percentile bootstrap over agents ({n_boot} resamples, scipy.stats.bootstrap)",
            "behaviour.items": f"percentile bootstrap over agents ({n_boot} resamples, scipy.stats.bootstrap)",
            "game.mean_share": f"BCa bootstrap over agents ({n_boot} resamples, scipy.stats.bootstrap)",
            "card.marginal.scale": "floor: mean over 200 multinomial draws of the run's size from the human shares; "
                                   "ceiling: split-half over respondents, or two multinomial draws of half the human n",
            "card.marginal.items": f"SD ratio: percentile bootstrap, both sides redrawn as multinomial counts ({n_boot})",
            "card.marginal.profile_spread": f"percentile bootstrap over agents ({n_boot} resamples, "
                                            "scipy.stats.bootstrap)"}


def people_interval_methods(n_boot: int) -> dict[str, str]:
    """How the intervals of the sections on real respondents are computed (only runs that have them)."""
    return {"subgroups.means": "normal theory: mean -+ 1.96 SD / sqrt(n); human side weighted, n = Kish's effective n",
            "individual.summary": f"percentile bootstrap over agents ({n_boot} resamples, scipy.stats.bootstrap)"}


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
        if len(per_agent) >= 2:
            est, lo, hi = analysis.bootstrap_ci(per_agent, lambda d: d.mean(axis=-1), n_boot=n_boot, method="BCa",
                                                vectorized=True, rng=seed)
        else:  # one agent: its mean, no interval
            est, lo, hi = float(per_agent.mean()), float("nan"), float("nan")
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
            iv, _ = _safe(analysis.agreement_interval, cen, human_corr, n_boot=n_boot, seed=seed)
            iv = iv or {}
            out["agreement"] = {**{k: _f(v) for k, v in agr.items()}, "pearson_low": _f(iv.get("low")),
                                "pearson_high": _f(iv.get("high")), "sample": sample}
            table, _ = _safe(analysis.agreement_table, sim_corr, n_perm=n_perm, seed=seed)
            if table is not None:
                out["agreement_all"] = _records(table)
        else:
            out["agreement_error"] = err
        rd, err = _safe(analysis.randall, sim_corr, n_perm=2000, seed=seed)
        out["randall"] = {k: _f(v) for k, v in rd.items()} if rd else {"error": err}
        if rd:
            iv, _ = _safe(analysis.randall_interval, cen, n_boot=n_boot, seed=seed)
            out["randall"].update(low=_f((iv or {}).get("low")), high=_f((iv or {}).get("high")))
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
            rel["human_alpha"] = rel["value"].map(analysis.human_reliability(sample).set_index("value")["alpha"])
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
    return analysis.value_means(cen, human).assign(human_source=source)


def twin_centered(run: Run) -> pd.DataFrame | None:
    """Centered values of the agents' synthetic human twins (from responses.parquet)."""
    r = run.responses
    items = list(load_instrument("ess21").item_ids)
    if r is None or not set(items) <= set(r.columns):
        return None
    return score(r.set_index("agent")[items], "ess21").centered


# ------------------------------------------------------------------------------------------ behaviour


def _behaviour_section(run: Run, items: list[str], n_boot: int, seed: int, sample: str = "DE_ESS9") -> dict:
    a = run.answers[run.answers["item"].isin(items)]
    human = outcome_sample(sample)
    out: dict = {"sample": human}
    comp, err = _safe(analysis.compare_distributions, a[["agent", "item", "answer"]],
                      analysis.attitude_item_shares(human), n_boot=n_boot, seed=seed)
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
            res, err = _safe(analysis.compare_value_behaviour, vb, datasets.value_behavior_correlations(human))
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
    shares = analysis.game_shares(run.answers, sc["outcome"], endowment)
    per_round = analysis.per_round_shares(shares)
    est, lo, hi = analysis.mean_share(shares, n_boot=n_boot, seed=seed)
    out = {"outcome": sc["outcome"], "endowment": endowment, "rounds": int(shares["round"].nunique()),
           "mean_share": _f(est), "low": _f(lo), "high": _f(hi), "per_round": _records(per_round),
           "human_reference": sc.get("human_reference", {}), "expected_signs": sc.get("expected_signs", {})}
    if out["rounds"] > 1:
        out["slope_per_round"] = _f(analysis.share_trend(per_round))
    t = analysis.value_share_correlations(run.agents, analysis.agent_shares(shares), sc.get("expected_signs", {}))
    out["value_correlations"] = _records(t)
    out["signs_as_expected"], out["signs_tested"] = analysis.signs_as_expected(t)
    return out


# ------------------------------------------------------------------------------------------ statements


def _statements_section(run: Run) -> dict:
    meta = pd.DataFrame(run.config["scenario"]["statements"])
    table = analysis.endorsement(run.answers, meta, run.agents.set_index("agent")["prime"])
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
    prof = analysis.profile_agreement(means.astype({"sim_mean": float, "human_mean": float})) if len(means) else {}
    return {
        "validity_mean": (m["answers"].get("validity") or {}).get("mean"),
        "means_r": _f(prof.get("means_r")),
        "means_abs_diff": _f(prof.get("means_abs_diff")),
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
        **card_headline(m.get("card") or {}),
    }
