"""The report of a run folder: `report.md`, `metrics.json` (every number of the report) and figures.

`build_report(path)` reads the run folder only, so `popsim report RUN` rebuilds everything from it.
`compare_runs(paths)` writes a side-by-side table of the headline metrics.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .. import analysis, datasets
from . import figures
from ..errors import PopsimError
from .evaluation import SAMPLE_LABELS, evaluate
from .markdown import table_lines
from .run_folder import Run, load_run
from ..values import CODES10

#: verdict thresholds on the noise-free prime effect (expected answers, centered scale points)
STEERABLE_DIFF = 0.2
WEAK_DIFF = 0.05


def fmt(x, nd: int = 2, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "n/a"
    if pct:
        return f"{100 * x:.{max(0, nd - 1)}f}%"
    return f"{x:.{nd}f}"


def ci(est, lo, hi, nd: int = 2, pct: bool = False) -> str:
    return f"{fmt(est, nd, pct)} (95% CI {fmt(lo, nd, pct)} to {fmt(hi, nd, pct)})"


def build_report(path: str | Path, *, n_boot: int = 500, n_perm: int = 999, seed: int = 0,
                 figures: bool = True) -> dict:
    """Evaluate the run folder and write metrics.json, report.md and (unless `figures=False`, as sweeps do
    to save time; `popsim report RUN` adds them later) the figures."""
    path = Path(path)
    run = load_run(path)
    if figures and (path / "figures").exists() and not (path / "figures").is_dir():
        raise PopsimError(f"{path / 'figures'} is a file, not the run's figures folder; move it away and run "
                          f"popsim report {path} again")
    m = evaluate(run, n_boot=n_boot, n_perm=n_perm, seed=seed)
    figs = make_figures(run, m, path / "figures") if figures else {}
    m["figures"] = {k: str(v.relative_to(path)) for k, v in figs.items()}
    (path / "metrics.json").write_text(json.dumps(m, indent=2, default=str), encoding="utf-8")
    (path / "report.md").write_text(render(run, m), encoding="utf-8")
    return m


# ------------------------------------------------------------------------------------------ figures


def make_figures(run: Run, m: dict, folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    v = m.get("values", {})
    sample = m["human_sample"]
    if "means" in v:
        t = _frame(v["means"])
        out["means"] = figures.value_means(t, folder / "means.png", human_label=f"human ({t['human_source'].iloc[0]})")
    if "correlations" in v:
        sim = pd.DataFrame(v["correlations"]["simulated"]).loc[list(CODES10), list(CODES10)]
        hum = pd.DataFrame(v["correlations"]["human"]).loc[list(CODES10), list(CODES10)]
        label = f"simulated (n = {v['n_scored']} agents)"
        hlabel = f"human {sample} (n = {_n_human(sample)})"
        sim_xy, hum_xy = analysis.aligned_maps(sim, hum)
        out["circumplex"] = figures.circumplex(sim_xy, hum_xy, folder / "circumplex.png", sim_label=label,
                                               human_label=hlabel)
        out["heatmaps"] = figures.heatmaps(sim, hum, folder / "heatmaps.png", sim_label=label, human_label=hlabel)
    if "manipulation" in v:
        t = _frame(v["manipulation"])
        human = None
        if "twin_diff" in t:
            human = t[["value"]].assign(diff=t["twin_diff"])
        out["manipulation"] = figures.manipulation(t, folder / "manipulation.png", human=human)
    if (m.get("items") or {}).get("table"):
        out["items"] = figures.item_means(_frame(m["items"]["table"]), folder / "items.png",
                                          title=f"ESS-21 item means: simulated vs {sample} (1-6, 6 = very much like me)")
    b = m.get("behaviour", {})
    if "items" in b:
        out["behaviour_items"] = figures.item_means(_frame(b["items"]), folder / "behaviour_items.png",
                                                    title="ESS attitude items: simulated vs DE_ESS9 (ESS codes)")
    if "value_behaviour" in b:
        out["value_behaviour"] = figures.value_behaviour(_frame(b["value_behaviour"]),
                                                         folder / "value_behaviour.png")
    g = m.get("game")
    if g:
        pr = _frame(g["per_round"])
        out["rounds"] = figures.rounds(pr, folder / "rounds.png", reference=g.get("human_reference"),
                                       ylabel=f"share of endowment ({g['outcome']})")
        if run.config["identity"].get("network") not in (None, "none") and len(run.agents) <= 400:
            last = run.answers[run.answers["item"] == g["outcome"]]
            last = last[last["round"] == last["round"].max()].set_index("agent")["answer"] / g["endowment"]
            graph = _graph(run)
            if graph is not None:
                out["network"] = figures.network(graph, run.agents, last.to_dict(), folder / "network.png")
    st = m.get("statements")
    if st:
        t = pd.DataFrame(st["endorsement"]).T
        out["statements"] = figures.heatmap_table(t, folder / "statements.png",
                                                  title="Share answered in the behaviour's direction, by prime")
    return out


def _graph(run: Run):
    """Rebuild the run's network from its settings (deterministic in the seed)."""
    from ..network import build_network
    from ..seeds import stream
    from ..values import ValueProfile

    ident = run.config["identity"]

    class _A:  # the network needs agents' profiles only
        def __init__(self, row):
            self.profile = ValueProfile(tuple(float(row[c]) for c in CODES10))

    agents = [_A(r) for r in run.agents.to_dict("records")]
    try:
        return build_network(ident["network"], agents, rng=stream(ident["seed"], "network"),
                             **(ident.get("network_options") or {}))
    except Exception:  # an edge-list file that moved: skip the picture, not the report
        return None


def _img(m: dict, key: str) -> list[str]:
    """Markdown image line for a figure the report made (none when figures were skipped)."""
    path = (m.get("figures") or {}).get(key)
    return [f"![{key}]({path})", ""] if path else []


def _frame(records) -> pd.DataFrame:
    """Records from metrics.json as a DataFrame, None (JSON null) read as NaN in numeric columns."""
    df = pd.DataFrame(records)
    for c in df.columns:
        if df[c].map(lambda x: x is None or isinstance(x, (int, float))).all():
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def _n_human(sample: str) -> int:
    return int(datasets.sample_sizes().set_index("sample").loc[sample, "n_scored"])


# ------------------------------------------------------------------------------------------ markdown


def render(run: Run, m: dict) -> str:
    r = m["run"]
    be = r.get("backend_detail", {})
    policy = r.get("policy")
    who = ("synthetic human twins (reference respondent, no LLM)" if policy == "reference"
           else f"{be.get('model')} via {be.get('backend')} backend, prompt style `{r.get('prompt_style')}` "
                f"(variant {r.get('template_variant')})")
    L = [f"# popsim report: {r.get('scenario')} answered by {r['n_agents']} agents", ""]
    L += [f"Agents drawn from **{r.get('population')}** ({SAMPLE_LABELS.get(r.get('population'), '')}) with strategy "
          f"`{r.get('strategy')}`; answers from {who}; option order {r.get('option_order')}; temperature "
          f"{r.get('temperature')}; seed {r.get('seed')}; network {r.get('network')}.", ""]
    L += ["## Verdict", "", verdict(m), ""]
    L += _answers_md(m)
    if "values" in m:
        L += _values_md(m)
    if "items" in m:
        L += _items_md(m)
    if "behaviour" in m:
        L += _behaviour_md(m)
    if "game" in m:
        L += _game_md(m)
    if "statements" in m:
        L += _statements_md(m)
    L += ["## Reproduce", "",
          f"- settings: `config.json` (package versions, git revision {run.config.get('git') or 'n/a'}); every answer "
          f"is in the cache `{run.config.get('cache') or 'in memory'}` keyed by backend, model and prompt;",
          f"- engine: {_engine_line(r.get('engine') or {})}; run time {r.get('seconds')} s;",
          "- tables: `agents.parquet`, `answers.parquet`, `scores.parquet`, `metrics.json` (every number above);",
          "- rebuild this report from the folder alone: `popsim report " + str(run.path) + "`.", ""]
    return "\n".join(L)


def _engine_line(e: dict) -> str:
    if not e:
        return "no model calls (reference respondents)"
    return (f"{e.get('asks')} asks, {e.get('unique')} distinct, {e.get('hits')} from the cache, "
            f"{e.get('calls')} model calls, {e.get('failed')} failed")


def verdict(m: dict) -> str:
    parts = []
    a = m["answers"]
    if a.get("validity"):
        va = a["validity"]
        parts.append(f"The model put {ci(va['mean'], va['low'], va['high'], 1, True)} of its probability on the valid "
                     f"answer options (mean over agents; {va['n_asks']} asks); "
                     + ("it was answering the questions." if (va["mean"] or 0) >= 0.5 else
                        "**it mostly was not answering the questions**, so its answers say little."))
    if a.get("missing"):
        parts.append(f"{a['missing']} of {a['n']} asks got no answer (recorded with their reasons).")
    v = m.get("values", {})
    ms = v.get("manipulation_summary")
    if ms and m["run"].get("policy") == "llm":
        de = ms.get("mean_diff_expected")
        steer = ("steerable" if de is not None and de >= STEERABLE_DIFF and ms["n_significant"] >= ms["values_testable"] / 2
                 else "weakly steerable" if de is not None and de >= WEAK_DIFF and ms["n_significant"] > 0
                 else "**not steerable**")
        parts.append(
            f"Value prompting: the primed value's centered score moved by {fmt(de)} scale points on average over "
            f"{ms['values_primed']} primed values (expected answers, noise-free; {fmt(ms.get('mean_d_human'))} human SDs), "
            f"Cohen's d = {fmt(ms.get('mean_d'))} on sampled answers, {ms['n_significant']} of {ms['values_testable']} "
            f"testable values rose significantly (Benjamini-Hochberg q < .05); the human twins of the same agents differ "
            f"by {fmt(ms.get('twin_mean_diff'))} points. At this scale the model is {steer} by these prompts.")
    pr = v.get("profile_recovery")
    if pr:
        parts.append(f"Profile induction: per-agent correlation between induced and measured profile, mean r = "
                     f"{fmt(pr.get('mean_r'))} over {pr.get('n_agents', 'n/a')} agents.")
    ag = v.get("agreement")
    if ag:
        nc = pd.DataFrame(v["noise_ceiling"])
        parts.append(
            f"Value structure: the simulated centered value correlations agree with {ag['sample']} at Pearson r = "
            f"{ci(ag['pearson_r'], ag['pearson_low'], ag['pearson_high'])} over 45 cells ({v['n_scored']} agents; Mantel "
            f"p = {fmt(ag['mantel_p'], 3)}); human samples agree with each other at r = {fmt(nc['pearson_r'].min())} to "
            f"{fmt(nc['pearson_r'].max())} (the noise ceiling). RANDALL correspondence index of the theoretical circular "
            f"order: {ci(v['randall'].get('ci'), v['randall'].get('low'), v['randall'].get('high'), 3)} (permutation "
            f"p = {fmt(v['randall'].get('p'), 3)}) vs {fmt(v['randall_human']['ci'], 3)} in {ag['sample']} "
            f"(n = {_n_human(ag['sample'])}).")
    elif v.get("structure_error"):
        parts.append(f"Value structure: not computed ({v['structure_error']}).")
    b = m.get("behaviour", {})
    if b.get("value_behaviour_summary"):
        s = b["value_behaviour_summary"]
        parts.append(f"Value-behaviour: the simulated value x attitude correlations agree with DE_ESS9 at cell-wise r = "
                     f"{fmt(s.get('pearson_r'))} over {int(s.get('n_cells') or 0)} cells, same sign in "
                     f"{fmt(s.get('sign_agreement'), 1, True)} of them.")
    g = m.get("game")
    if g:
        ref = g.get("human_reference", {})
        ref_txt = (f" vs {fmt(ref['mean_share'], 3, True)} in humans ({ref.get('source', '').split(',')[0]})"
                   if "mean_share" in ref else "")
        slope = (f"; change per round {fmt(g.get('slope_per_round'), 3)} (humans decline without punishment)"
                 if g.get("slope_per_round") is not None else "")
        parts.append(f"Game: mean share given {ci(g['mean_share'], g['low'], g['high'], 1, True)}{ref_txt}{slope}; "
                     f"{g['signs_as_expected']} of {g['signs_tested']} value correlations have the published sign.")
    return " ".join(parts) if parts else "No outcome to judge."


def _answers_md(m: dict) -> list[str]:
    a = m["answers"]
    L = ["## Answers", ""]
    L.append(f"{a['n']} answers ({', '.join(f'{k}: {v}' for k, v in a['methods'].items())}); missing: {a['missing']}"
             + (f" ({', '.join(f'{k}: {v}' for k, v in a['missing_reasons'].items())})" if a["missing"] else "") + ".")
    if a.get("validity"):
        va = a["validity"]
        L.append(f"Validity mass (probability the model put on the valid options, 0-1): mean "
                 f"{ci(va['mean'], va['low'], va['high'], 3)}, median {fmt(va['median'], 3)}, share of asks below 0.5: "
                 f"{fmt(va['share_below_half'], 1, True)}.")
    return L + [""]


def _values_md(m: dict) -> list[str]:
    v = m["values"]
    sample = m["human_sample"]
    L = ["## Values", "", f"{v['n_scored']} agents scored on the {v['instrument']} (centered scores: value mean minus "
         "the person's mean rating, MRAT; scale points of the 1-6 answer scale).", ""]
    if "means" in v:
        t = _frame(v["means"])
        prof = analysis.profile_agreement(t)
        L += ["### Population value profile", "",
              f"Mean centered score per value (95% CI over agents) vs the human means of {t['human_source'].iloc[0]}: "
              f"profile correlation r = {fmt(prof['means_r'])} over the 10 values, mean |difference| = "
              f"{fmt(prof['means_abs_diff'])} scale points.", ""]
        L += table_lines(t, ["value", "sim_mean", "low", "high", "human_mean"])
        L += _img(m, "means")
    if "manipulation" in v:
        t = _frame(v["manipulation"])
        base = v["manipulation_summary"]["baseline"]
        L += ["### Manipulation check", "",
              f"Agents primed with a value vs {base} agents, on that value's centered score. `diff`: sampled answers "
              "(scale points, BCa bootstrap 95% CI); `d`: Cohen's d; `diff_expected`: expected answers (noise-free); "
              "`d_human`: diff_expected in human SDs of that value; `hit_rate`: share of primed agents whose top value is "
              "the primed one; `twin_diff`: the same difference in the agents' synthetic human twins.", ""]
        cols = [c for c in ["value", "n_primed", "n_unprimed", "diff", "low", "high", "d", "q", "diff_expected",
                            "d_human", "hit_rate", "twin_diff"] if c in t]
        L += table_lines(t, cols)
        L += _img(m, "manipulation")
    elif v.get("manipulation_error"):
        L += [f"Manipulation check not computed: {v['manipulation_error']}", ""]
    if v.get("profile_recovery"):
        pr = v["profile_recovery"]
        L += ["### Profile recovery", "", "Per-agent Pearson r between the induced 10-value profile and the measured "
              f"one (expected answers): {', '.join(f'{k} = {fmt(x) if isinstance(x, float) else x}' for k, x in pr.items())}.", ""]
    if "agreement" in v:
        ag = v["agreement"]
        L += ["### Value structure", "",
              f"Centered 10 x 10 value correlations of the simulated population vs {sample} ({SAMPLE_LABELS[sample]}, "
              f"n = {_n_human(sample)}): Pearson r = {ci(ag['pearson_r'], ag['pearson_low'], ag['pearson_high'], 3)} over "
              f"the 45 off-diagonal cells (CI: bootstrap over agents, for the r expected at this many agents; sampling "
              f"noise lowers r), Spearman rho = {fmt(ag['spearman_rho'], 3)}, Mantel "
              f"p = {fmt(ag['mantel_p'], 4)} ({int(ag['n_perm'])} permutations), Tucker's phi = {fmt(ag['tucker_phi'], 3)}, "
              f"Procrustes disparity of the 2-D MDS maps = {fmt(ag['procrustes_disparity'], 3)} (0 = same map; "
              f"permutation p = {fmt(ag['procrustes_p'], 4)}).", ""]
        if v.get("agreement_all"):
            L += ["Against every human sample:", ""]
            L += table_lines(pd.DataFrame(v["agreement_all"]),
                             [c for c in ["sample", "pearson_r", "spearman_rho", "mantel_p", "tucker_phi",
                                          "procrustes_disparity"] if c in pd.DataFrame(v["agreement_all"])], 3)
        L += ["Human noise ceiling (the same statistics between the human samples):", ""]
        nc = pd.DataFrame(v["noise_ceiling"])
        L += table_lines(nc, [c for c in ["sample_a", "sample_b", "pearson_r", "spearman_rho", "tucker_phi",
                                          "procrustes_disparity"] if c in nc], 3)
        rd, rh = v["randall"], v["randall_human"]
        L += [f"RANDALL test of the circular order SD-ST-HE-AC-PO-SE-CO-TR-BE-UN (Hubert & Arabie 1987): correspondence "
              f"index {ci(rd.get('ci'), rd.get('low'), rd.get('high'), 3)} ({int(rd.get('agreements') or 0)} agreements, {int(rd.get('violations') or 0)} "
              f"violations of {int(rd.get('predictions') or 0)} predictions, p = {fmt(rd.get('p'), 4)}); {sample}: "
              f"{fmt(rh['ci'], 3)} ({int(rh['agreements'])} agreements, {int(rh['violations'])} violations). Angular order "
              f"of the simulated MDS map: {'-'.join(v.get('angular_order', []))}.", "",
              ] + _img(m, "circumplex") + _img(m, "heatmaps")
    elif v.get("structure_error"):
        L += ["### Value structure", "", f"Not computed: {v['structure_error']}", ""]
    if v.get("reliability"):
        t = pd.DataFrame(v["reliability"])
        L += ["### Reliability", "", f"Cronbach's alpha of each value's items (sampled answers, {v['n_scored']} agents) "
              f"next to the same statistic in {sample} (`human_alpha`, exact from the item SDs and correlations; ESS "
              "values have 2-3 items, so alphas are modest in humans too).", ""]
        L += table_lines(t, [c for c in ["value", "n_items", "alpha", "human_alpha"] if c in t])
    return L


def _items_md(m: dict) -> list[str]:
    it = m["items"]
    if it.get("error"):
        return ["## Item answer distributions", "", f"Not computed: {it['error']}", ""]
    s = it["summary"]
    L = ["## Item answer distributions", "",
         f"Per ESS-21 item ({s['n_items']} items), simulated vs {it['sample']} (answers 1-6): mean |difference of "
         f"means| = {fmt(s['mean_abs_mean_diff'])} scale points, mean Wasserstein-1 = {fmt(s['mean_wasserstein'])} scale "
         f"points, mean Jensen-Shannon distance = {fmt(s['mean_jensen_shannon'], 3)} (0 = same, 1 = disjoint).", ""]
    L += table_lines(_frame(it["table"]), ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean", "wasserstein",
                                           "jensen_shannon"])
    return L + _img(m, "items")


def _behaviour_md(m: dict) -> list[str]:
    b = m["behaviour"]
    L = ["## Attitudes and behaviour (ESS round 9 questions)", ""]
    if b.get("items"):
        L += [f"Answer distributions vs DE_ESS9 (ESS codes; mean Jensen-Shannon distance "
              f"{fmt(b['items_summary']['mean_jensen_shannon'], 3)}):", ""]
        L += table_lines(_frame(b["items"]), ["item", "n", "sim_mean", "sim_low", "sim_high", "human_mean",
                                                     "wasserstein", "jensen_shannon"])
        L += _img(m, "behaviour_items")
    if b.get("value_behaviour_summary"):
        s = b["value_behaviour_summary"]
        L += [f"Value x behaviour correlations (centered values measured in this run x ESS codes) vs DE_ESS9 "
              f"(n = {_n_human('DE_ESS9')}): cell-wise Pearson r = {fmt(s.get('pearson_r'), 3)} over "
              f"{int(s.get('n_cells') or 0)} cells; same sign in {fmt(s.get('sign_agreement'), 1, True)}; "
              f"{int(s.get('n_significant') or 0)} cells differ significantly (Fisher z, BH q < .05). "
              "Mind the ESS code directions (e.g. rlgatnd 1 = every day).", "",
              ] + _img(m, "value_behaviour")
    elif b.get("value_behaviour_error"):
        L += [f"Value-behaviour correlations not computed: {b['value_behaviour_error']}", ""]
    return L


def _game_md(m: dict) -> list[str]:
    g = m["game"]
    ref = g.get("human_reference", {})
    L = ["## Game outcome", "",
         f"Outcome `{g['outcome']}` as a share of the endowment ({g['endowment']:g}); {g['rounds']} round(s). Mean over "
         f"agents: {ci(g['mean_share'], g['low'], g['high'], 1, True)}."
         + (f" Human reference: {fmt(ref['mean_share'], 3, True)} ({ref.get('source')})." if "mean_share" in ref else "")
         + (f" Change per round: {fmt(g.get('slope_per_round'), 3)} (humans: decline; {ref.get('decline_source')})."
            if g.get("slope_per_round") is not None else ""), ""]
    L += table_lines(_frame(g["per_round"]), ["round", "mean_share", "sd_share", "n"], 3)
    L += _img(m, "rounds") + _img(m, "network")
    L += ["Correlation of each value (agent profile, centered) with the agent's mean share; `expected_sign` from "
          f"{ref.get('source', 'the literature').split(',')[0]} / Sagiv et al. 2011 (+1 up, -1 down, 0 no claim); "
          "q: Benjamini-Hochberg over the 10 values.", ""]
    vc = _frame(g["value_correlations"])
    if "sign_ok" in vc:  # as published: yes / no; n/a where the literature makes no claim
        vc["sign_ok"] = [("n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else "yes" if x else "no")
                         for x in vc["sign_ok"].astype(object)]
    L += table_lines(vc, ["value", "r", "p", "q", "expected_sign", "sign_ok"], 3)
    return L


def _statements_md(m: dict) -> list[str]:
    st = m["statements"]
    t = pd.DataFrame(st["endorsement"]).T
    L = ["## Persona statements", "", f"{st['n_statements']} statements; share answered in the behaviour's direction "
         "(expected answers), by prime (rows) and dimension (columns).", "",
         ] + _img(m, "statements")
    t = t.reset_index().rename(columns={"index": "prime"})
    L += table_lines(t, list(t.columns), 2)
    return L


# ------------------------------------------------------------------------------------------ compare


COMPARE_COLUMNS = ["validity_mean", "manipulation_diff_expected", "manipulation_d", "manipulation_significant",
                   "structure_r", "structure_r_low", "structure_r_high", "randall_ci", "items_js", "behaviour_js",
                   "value_behaviour_r", "game_mean_share", "game_slope", "game_signs"]


def headline_table(paths: list[Path]) -> pd.DataFrame:
    rows = []
    for p in paths:
        run = load_run(p)
        mfile = Path(p) / "metrics.json"
        m = json.loads(mfile.read_text()) if mfile.exists() else build_report(p)
        i = run.config["identity"]
        rows.append({"run": Path(p).name, "scenario": i.get("scenario"), "policy": i.get("policy"),
                     "style": i.get("prompt_style") if i.get("policy") == "llm" else "-",
                     "strategy": i.get("strategy"), "n": len(run.agents), "model": i.get("model"),
                     **{k: m["headline"].get(k) for k in COMPARE_COLUMNS}})
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
