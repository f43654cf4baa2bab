"""The fidelity card's section of a run's report.md (and of the page's Fidelity view), written from the typed
record (`record.Metrics.card`, `card_record.py`)."""

from __future__ import annotations

from .markdown import table_lines
from .record import Metrics
from .sections import ci, fmt

SCORE_LABELS = {"simbench": "SimBench score (100 = human shares, 0 = uniform)",
                "w1_score": "OpinionQA 1 - W1/(K-1)", "tv": "total variation (lower is better)",
                "jensen_shannon": "Jensen-Shannon distance (lower is better)"}


def card_md(m: Metrics) -> list[str]:
    """The card as markdown lines (the `## Fidelity card` section of report.md)."""
    c = m.card
    L = ["## Fidelity card", "",
         "Where the run stands on the scales the field uses, next to what a perfect simulator with the same "
         f"number of agents ({m.run.n_agents}) reaches by sampling alone (floor), how close two halves of the human "
         "sample are (ceiling) and naive baselines. `normalised` = (run - best naive baseline) / (floor - best "
         "naive baseline): 0 = no better than uniform or modal answers, 1 = as good as a perfect simulator of "
         "this size. Definitions: docs/analysis.md, section 10.", ""]
    twins = ("the agents' own respondents (their real answers)" if m.run.strategy == "respondents"
             else "the run's reference twins (a human-like population of this size)")
    if c.marginal is not None and c.marginal.scale and m.run.policy == "llm":
        L += [f"`twins`: {twins}, scored the same way.", ""]
    L += _marginal_md(c.marginal) + _structural_md(c.structural, twins) + _behavioural_md(c.behavioural, twins)
    return L + _individual_card_md(c.individual) + _ppi_md(c.ppi)


def _individual_card_md(ind) -> list[str]:
    if ind is None:
        return []
    L = ["### Individual", ""]
    if ind.error:
        return L + [f"Not computed: {ind.error}", ""]
    t = ind.summary.frame().set_index("predictor")
    a = t.loc["agent"]
    others = "; ".join(f"{p}: {fmt(r['accuracy'], 3)}, {fmt(r['mae'], 3)}, {fmt(r['r'], 3)}"
                       for p, r in t.drop(index="agent").iterrows())
    return L + [f"{ind.n_agents} agents against their own respondents on {ind.n_items} items (section Individual-level "
                f"fidelity): exact-answer accuracy {fmt(a['accuracy'], 3)}, mean absolute error {fmt(a['mae'], 3)} of "
                f"the answer range, per-person r {fmt(a['r'], 3)}; baselines (accuracy, error, r) {others}. The agents' "
                f"accuracy is {fmt(ind.accuracy_gain, 3)} above the better baseline ({ind.best_baseline}).", ""]


def _ppi_md(p) -> list[str]:
    if p is None:
        return []
    L = ["### Prediction-powered inference", ""]
    if p.error:
        return L + [f"Not computed: {p.error}", ""]
    L += [f"{p.n_labelled} of the {p.n_respondents} respondents are labelled (their real answers and their agents' "
          f"simulated ones); the simulated answers of the other {p.n_unlabelled_agents} agents are the large "
          "population. Per item, the PPI++ estimate of the human mean with its 95% interval (Angelopoulos et al. "
          "2023), the classical interval from the labelled respondents alone, the whole sample's weighted mean, and "
          "`effective_n`: how many respondents a classical interval would need to be as narrow (`gain` = effective_n "
          f"/ labelled). Median effective n {fmt(p.median_effective_n, 1)} (gain {fmt(p.median_gain)}x; mean lambda "
          f"{fmt(p.mean_lam)}: 0 = the simulation is ignored, 1 = plain PPI); the intervals hold the sample mean for "
          f"{fmt(p.ppi_coverage, 1, True)} (PPI) and {fmt(p.classical_coverage, 1, True)} (classical) of the items."
          + (f" Skipped (too few labelled answers): {', '.join(p.skipped_items)}." if p.skipped_items else ""), ""]
    return L + table_lines(p.items.frame(), ["item", "n_labelled", "ppi_mean", "ppi_low", "ppi_high", "classical_low",
                                             "classical_high", "sample_mean", "lam", "effective_n", "gain"], 3)


def _marginal_md(mg) -> list[str]:
    L = ["### Marginal: answer distributions and dispersion", ""]
    if mg is None or mg.error:
        return L + [f"Not computed: {mg.error if mg is not None else 'no items'}", ""]
    scale = mg.scale.frame()
    method = scale["ceiling_method"].iloc[0]
    L += [f"{mg.n_items} items ({', '.join(mg.datasets)}); ceiling: {method}"
          + (" of the human respondents" if method == "split-half" else
             " (two draws of half the human n from the human shares: no respondent-level data)") + ".", ""]
    scale["score"] = scale["metric"].map(SCORE_LABELS)
    sb = scale["metric"] == "simbench"
    shown = scale.copy()
    for col in ("run", "floor", "ceiling", "uniform", "modal", "independent", "twins"):
        shown[col] = [fmt(x, 1 if is_sb else 3) for x, is_sb in zip(scale[col], sb)]
    L += table_lines(shown, ["score", "run", "floor", "ceiling", "uniform", "modal", "independent", "twins",
                             "normalised"])
    if mg.simbench_by_dataset and len(mg.simbench_by_dataset) > 1:
        L += ["SimBench score per dataset: " + ", ".join(f"{k} {fmt(v, 1)}" for k, v in mg.simbench_by_dataset.items())
              + ".", ""]
    di = mg.dispersion_items
    text = (f"Dispersion: SD of the simulated answers / SD of the human answers, geometric mean over {di.n} items = "
            f"{fmt(di.dispersion_ratio)} (1 = as spread out as humans); {fmt(di.share_under, 1, True)} of the items "
            f"under-dispersed and {fmt(di.share_over, 1, True)} over-dispersed (95% CI wholly below / above 1).")
    if mg.dispersion_values is not None:
        dv = mg.dispersion_values
        text += (f" Per value (centered scores): geometric mean ratio {fmt(dv.dispersion_ratio)}, "
                 f"{fmt(dv.share_under, 1, True)} of the values under-dispersed.")
    if mg.profile_spread is not None:
        sp = mg.profile_spread
        text += (f" Between-agent spread of value profiles (RMS distance from the mean profile): "
                 f"{fmt(sp.sim_spread)} vs {fmt(sp.human_spread)} in humans, ratio {ci(sp.ratio, sp.low, sp.high)}.")
    L += [text, ""]
    items = mg.items.frame().rename(columns={"ratio": "sd_ratio", "low": "sd_low", "high": "sd_high"})
    L += table_lines(items, ["item", "dataset", "n", "simbench", "w1_score", "tv", "jensen_shannon", "sd_ratio",
                             "sd_low", "sd_high"], 3)
    return L


def _structural_md(st, twins: str) -> list[str]:
    if st is None or (st.table is None and not st.error):
        return []
    L = ["### Structural: value structure", ""]
    if st.table is None:
        return L + [f"Not computed: {st.error}", ""]
    t = st.table.frame()
    L += [f"Centered value correlations vs {st.sample}; `human_min`/`human_max` = the same statistic between the human "
          "samples (the noise ceiling; for RANDALL the human sample's own index)"
          + (f"; `twins` = {twins}" if "twins" in t and t["twins"].notna().any() else "") + ".", ""]
    return L + table_lines(t, ["metric", "run"] + (["twins"] if "twins" in t and t["twins"].notna().any() else [])
                           + ["human_min", "human_max"], 3)


def _behavioural_md(bh, twins: str) -> list[str]:
    if bh is None or (bh.signs is None and bh.game is None and not bh.signs_error):
        return []
    L = ["### Behavioural", ""]
    sg = bh.signs
    if sg is not None:
        L += [f"Value x outcome correlations ({sg.n_pairs} pairs with a human correlation): "
              f"{fmt(sg.share_keep_sign, 1, True)} keep the human sign; of the {sg.n_human_nonzero} pairs whose human "
              f"95% interval (Fisher z, human n) excludes 0, {fmt(sg.share_keep_sign_nonzero, 1, True)} keep it and "
              f"{fmt(sg.share_flipped, 1, True)} flip it; {fmt(sg.share_inside_ci, 1, True)} of the simulated "
              "correlations lie inside the human interval."
              + (f" {twins[0].upper() + twins[1:]}: {fmt(bh.twin_signs.share_keep_sign, 1, True)}"
                 f" keep the sign, {fmt(bh.twin_signs.share_flipped, 1, True)} flip, "
                 f"{fmt(bh.twin_signs.share_inside_ci, 1, True)} inside." if bh.twin_signs is not None else ""), ""]
    elif bh.signs_error:
        L += [f"Value x outcome signs not computed: {bh.signs_error}", ""]
    g = bh.game
    if g is not None:
        hm = g.human_mean_share
        L += [f"Game: mean share {ci(g.mean_share, g.low, g.high, 1, True)}"
              + (f" vs {fmt(hm, 1, True)} in humans ({(g.human_source or '').split(',')[0]}; "
                 f"{'inside' if g.human_inside_ci else 'outside'} the interval)" if hm is not None else "")
              + f"; {g.signs_as_expected} of {g.signs_tested} value correlations have the published sign.", ""]
    return L
