"""The report of a run folder: `report.md`, `metrics.json` (every number of the report) and figures.

`build_report(path)` reads the run folder only, so `popsim report RUN` rebuilds everything from it: it evaluates
the run (`evaluation`), types the numbers (`record.Metrics`), draws the figures (`run_figures`) and writes the
sections (`sections`). `compare_runs(paths)` writes a side-by-side table of the headline metrics.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import PopsimError
from .evaluation import evaluate, sample_label
from .markdown import table_lines
from .record import Metrics
from .run_figures import make_figures, n_human
from .run_folder import Run, load_run
from .card_sections import card_md
from .sections import (answers_md, behaviour_md, ci, fmt, game_md, individual_md, items_md,  # noqa: F401 (fmt, ci:
                       statements_md, subgroups_md, transform_md, values_md)                 # the report's formats)

#: verdict thresholds on the noise-free prime effect (expected answers, centered scale points)
STEERABLE_DIFF = 0.2
WEAK_DIFF = 0.05


def build_report(path: str | Path, *, n_boot: int = 500, n_perm: int = 999, seed: int = 0,
                 figures: bool = True, ppi_labelled: int | None = None) -> Metrics:
    """Evaluate the run folder and write metrics.json, report.md and (unless `figures=False`, as sweeps do
    to save time; `popsim report RUN` adds them later) the figures. Returns the typed record. `ppi_labelled`: how
    many real respondents prediction-powered inference labels (runs whose agents are respondents; checked before
    anything is written)."""
    path = Path(path)
    run = load_run(path)
    if figures and (path / "figures").exists() and not (path / "figures").is_dir():
        raise PopsimError(f"{path / 'figures'} is a file, not the run's figures folder; move it away and run "
                          f"popsim report {path} again")
    if ppi_labelled is not None:
        from .card import check_ppi_request

        check_ppi_request(run, ppi_labelled)
    m = Metrics.of(evaluate(run, n_boot=n_boot, n_perm=n_perm, seed=seed, ppi_labelled=ppi_labelled),
                   str(path / "metrics.json"))
    figs = make_figures(run, m, path / "figures") if figures else {}
    m.figures = {k: str(v.relative_to(path)) for k, v in figs.items()}
    m.save(path)
    (path / "report.md").write_text(render(run, m), encoding="utf-8")
    return m


def render(run: Run, m: Metrics) -> str:
    r = m.run
    be = r.backend_detail or {}
    twins = "the real respondents' own answers" if r.strategy == "respondents" else "synthetic human twins"
    who = (f"{twins} (reference respondent, no LLM)" if r.policy == "reference"
           else f"{be.get('model')} via {be.get('backend')} backend, prompt style `{r.prompt_style}` "
                f"(variant {r.template_variant})")
    L = [f"# popsim report: {r.scenario} answered by {r.n_agents} agents", ""]
    L += [f"Agents drawn from **{r.population}** ({sample_label(r.population)}) with strategy "
          f"`{r.strategy}`; answers from {who}; option order {r.option_order}; temperature {r.temperature}; seed "
          f"{r.seed}; network {r.network}.", ""]
    L += ["## Verdict", "", verdict(m), ""]
    L += answers_md(m)
    if m.transform is not None:
        L += transform_md(m)
    for section, writer in (("values", values_md), ("items", items_md), ("behaviour", behaviour_md),
                            ("game", game_md), ("statements", statements_md), ("subgroups", subgroups_md),
                            ("individual", individual_md)):
        if getattr(m, section) is not None:
            L += writer(m)
    if m.card is not None:
        L += card_md(m)
    L += ["## Reproduce", "",
          f"- settings: `config.json` (package versions, git revision {run.config.get('git') or 'n/a'}); every answer "
          f"is in the cache `{run.config.get('cache') or 'in memory'}` keyed by backend, model and prompt;",
          f"- engine: {_engine_line(r.engine or {})}; run time {r.seconds} s;",
          *([f"- tokens the server reported: {_usage_line(r.usage, r.cost)};"] if r.usage else []),
          "- tables: `agents.parquet`, `answers.parquet`, `scores.parquet`, `metrics.json` (every number above);",
          "- rebuild this report from the folder alone: `popsim report " + str(run.path) + "`.", ""]
    return "\n".join(L)


def _usage_line(usage: dict, cost: dict | None) -> str:
    line = f"{usage.get('prompt_tokens', 0):,} prompt, {usage.get('completion_tokens', 0):,} completion"
    if cost and cost.get("usd") is not None:
        p = cost["price_per_mtok"]
        line += f"; cost ${cost['usd']:,.4f} at ${p['prompt']:g} / ${p['completion']:g} per million tokens"
    return line


def _engine_line(e: dict) -> str:
    if not e:
        return "no model calls (reference respondents)"
    return (f"{e.get('asks')} asks, {e.get('unique')} distinct, {e.get('hits')} from the cache, "
            f"{e.get('calls')} model calls, {e.get('failed')} failed")


def verdict(m: Metrics) -> str:
    """The report's verdict in words: validity, steerability, structure, value-behaviour, game."""
    parts = []
    a, v = m.answers, m.values
    if a.validity is not None:
        va = a.validity
        parts.append(f"The model put {ci(va.mean, va.low, va.high, 1, True)} of its probability on the valid "
                     f"answer options (mean over agents; {va.n_asks} asks); "
                     + ("it was answering the questions." if (va.mean or 0) >= 0.5 else
                        "**it mostly was not answering the questions**, so its answers say little."))
    if a.missing:
        parts.append(f"{a.missing} of {a.n} asks got no answer (recorded with their reasons).")
    ms = v.manipulation_summary if v is not None else None
    if ms is not None and m.run.policy == "llm":
        de = ms.mean_diff_expected
        steer = ("steerable" if de is not None and de >= STEERABLE_DIFF and ms.n_significant >= ms.values_testable / 2
                 else "weakly steerable" if de is not None and de >= WEAK_DIFF and ms.n_significant > 0
                 else "**not steerable**")
        parts.append(
            f"Value prompting: the primed value's centered score moved by {fmt(de)} scale points on average over "
            f"{ms.values_primed} primed values (expected answers, noise-free; {fmt(ms.mean_d_human)} human SDs), "
            f"Cohen's d = {fmt(ms.mean_d)} on sampled answers, {ms.n_significant} of {ms.values_testable} "
            f"testable values rose significantly (Benjamini-Hochberg q < .05); the human twins of the same agents differ "
            f"by {fmt(ms.twin_mean_diff)} points. At this scale the model is {steer} by these prompts.")
    if v is not None and v.profile_recovery is not None:
        pr = v.profile_recovery
        parts.append(f"Profile induction: per-agent correlation between induced and measured profile, mean r = "
                     f"{fmt(pr.mean_r)} over {pr.n_agents if pr.n_agents is not None else 'n/a'} agents.")
    if v is not None and v.agreement is not None:
        ag, rd, nc = v.agreement, v.randall, v.noise_ceiling.frame()
        parts.append(
            f"Value structure: the simulated centered value correlations agree with {ag.sample} at Pearson r = "
            f"{ci(ag.pearson_r, ag.pearson_low, ag.pearson_high)} over 45 cells ({v.n_scored} agents; Mantel "
            f"p = {fmt(ag.mantel_p, 3)}); human samples agree with each other at r = {fmt(nc['pearson_r'].min())} to "
            f"{fmt(nc['pearson_r'].max())} (the noise ceiling). RANDALL correspondence index of the theoretical circular "
            f"order: {ci(rd.ci, rd.low, rd.high, 3)} (permutation p = {fmt(rd.p, 3)}) vs {fmt(v.randall_human.ci, 3)} in "
            f"{ag.sample} (n = {n_human(ag.sample)}).")
    elif v is not None and v.structure_error:
        parts.append(f"Value structure: not computed ({v.structure_error}).")
    s = m.behaviour.value_behaviour_summary if m.behaviour is not None else None
    if s is not None:
        parts.append(f"Value-behaviour: the simulated value x attitude correlations agree with "
                     f"{m.behaviour.sample or 'DE_ESS9'} at cell-wise r = "
                     f"{fmt(s.pearson_r)} over {int(s.n_cells or 0)} cells, same sign in "
                     f"{fmt(s.sign_agreement, 1, True)} of them.")
    h = m.headline
    if h.simbench_score is not None:
        parts.append(f"Answer distributions: SimBench score {fmt(h.simbench_score, 1)} (a perfect simulator with this many "
                     f"agents: {fmt(h.simbench_floor, 1)}; uniform answers: 0), normalised {fmt(h.simbench_normalised)} "
                     "(0 = the best naive baseline, 1 = a perfect simulator of this size); answer SDs "
                     f"{fmt(h.dispersion_ratio)} times the human ones.")
    g = m.game
    if g is not None:
        ref = g.human_reference or {}
        ref_txt = (f" vs {fmt(ref['mean_share'], 3, True)} in humans ({ref.get('source', '').split(',')[0]})"
                   if "mean_share" in ref else "")
        slope = (f"; change per round {fmt(g.slope_per_round, 3)} (humans decline without punishment)"
                 if g.slope_per_round is not None else "")
        parts.append(f"Game: mean share given {ci(g.mean_share, g.low, g.high, 1, True)}{ref_txt}{slope}; "
                     f"{g.signs_as_expected} of {g.signs_tested} value correlations have the published sign.")
    return " ".join(parts) if parts else "No outcome to judge."


# ------------------------------------------------------------------------------------------ compare


COMPARE_COLUMNS = ["validity_mean", "manipulation_diff_expected", "manipulation_d", "manipulation_significant",
                   "structure_r", "structure_r_low", "structure_r_high", "randall_ci", "items_js", "behaviour_js",
                   "value_behaviour_r", "game_mean_share", "game_slope", "game_signs",
                   # the fidelity card
                   "simbench_score", "simbench_floor", "simbench_normalised", "w1_score", "dispersion_ratio",
                   "profile_spread_ratio", "value_outcome_keep_sign", "value_outcome_flipped"]


def headline_table(paths: list[Path]) -> pd.DataFrame:
    """One row per run: what it was and its headline metrics (a run without a record gets one made)."""
    rows = []
    for p in paths:
        run = load_run(p)
        m = Metrics.load(p) if (Path(p) / "metrics.json").exists() else build_report(p)
        h = m.headline.as_dict()
        i = run.config["identity"]
        rows.append({"run": Path(p).name, "scenario": i.get("scenario"), "policy": i.get("policy"),
                     "style": i.get("prompt_style") if i.get("policy") == "llm" else "-",
                     "strategy": i.get("strategy"), "n": len(run.agents), "model": i.get("model"),
                     **{k: h.get(k) for k in COMPARE_COLUMNS}})
    df = pd.DataFrame(rows)
    return df.dropna(axis=1, how="all")


def compare_runs(paths: list[Path], *, out: Path | None = None) -> tuple[str, Path]:
    df = headline_table(paths)
    md = ["# popsim comparison", "", "Headline metrics per run (see each run's report.md for definitions and CIs).", ""]
    md += table_lines(df, list(df.columns), 3)
    text = "\n".join(md)
    out = out or Path(paths[0]).parent / "compare.md"
    out.write_text(text, encoding="utf-8")
    df.to_csv(out.with_suffix(".csv"), index=False)
    return df.to_string(index=False), out
