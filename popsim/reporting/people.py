"""Evaluation sections that need the real people of an imported sample: subgroups and individual fidelity.

- Subgroups (agents that carry demographics, i.e. strategy `respondents`): per gender, age band, education
  and country (when the sample holds several), the simulated population's value means, value structure and
  answer distributions next to the human subgroup's (weighted), where the group has enough agents and
  respondents (`popsim.analysis.subgroups`).
- Individual fidelity (strategy `respondents`): each agent's answers against its own respondent's, next to
  the population-mean and random same-subgroup respondent baselines (`popsim.analysis.fidelity`).

Both read the run's tables and the sample's respondent table only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import analysis, datasets
from ..errors import PopsimError
from ..instruments import load_instrument, score
from .run_folder import Run

GROUPS = ("gender", "age_band", "education", "country")
MIN_AGENTS, MIN_RESPONDENTS = 20, 50  # means and distributions
MIN_AGENTS_STRUCTURE, MIN_RESPONDENTS_STRUCTURE = 30, 100
BASELINE_NOTE = ("Park et al. (2024) divide individual accuracy by human test-retest agreement (0.85 on the GSS); "
                 "this survey has no retest, so two baselines stand in: the population's mean answer (knows the "
                 "population, nothing of the person) and a random other respondent of the same gender and age band.")


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else
                 int(v) if isinstance(v, (np.integer,)) else float(v) if isinstance(v, np.floating) else v)
             for k, v in rec.items()} for rec in df.to_dict("records")]


def _people(sample: str):
    from ..samples import load_sample

    s = load_sample(sample)
    return s, s.respondents()


def _group_table(df: pd.DataFrame) -> pd.DataFrame:
    """gender, age_band, education, country labels from a table with gender, age, education, country columns."""
    from ..samples.tables import age_band
    from ..samples.tables import AGE_BANDS, level_order

    out = pd.DataFrame(index=df.index)
    for col in GROUPS:
        if col == "age_band":
            if "age" in df:
                out[col] = pd.Categorical(age_band(pd.to_numeric(df["age"], errors="coerce")),
                                          categories=[b for _, _, b in AGE_BANDS])
        elif col in df:
            labels = df[col].astype(object).where(df[col].notna(), None)
            out[col] = pd.Categorical(labels, categories=sorted(labels.dropna().astype(str).unique(), key=level_order))
    if "country" in out and out["country"].dropna().nunique() < 2:
        out = out.drop(columns="country")  # one country: no subgroups by country
    return out


def has_people(run: Run) -> bool:
    return "respondent" in run.agents.columns


def subgroups_section(run: Run, sample: str, n_boot: int, seed: int) -> dict:
    s, people = _people(sample)
    agents = run.agents.set_index("agent")
    sim_groups = _group_table(agents)
    human_groups = _group_table(people)
    w = people["weight"]
    out: dict = {"sample": sample, "variables": [c for c in sim_groups.columns if c in human_groups.columns],
                 "min_agents": MIN_AGENTS, "min_respondents": MIN_RESPONDENTS}
    items = load_instrument(s.instrument).item_ids
    human_cen = score(people[list(items)], s.instrument).centered
    if run.scores is not None and len(run.scores):
        cen = run.centered("sampled").dropna()
        t = analysis.subgroup_means(cen, sim_groups.reindex(cen.index), human_cen, human_groups,
                                    human_weights=w, min_agents=MIN_AGENTS, min_respondents=MIN_RESPONDENTS)
        out["means"] = _records(t)
        t = analysis.subgroup_structure(cen, sim_groups.reindex(cen.index), human_cen, human_groups,
                                        human_weights=w, min_agents=MIN_AGENTS_STRUCTURE,
                                        min_respondents=MIN_RESPONDENTS_STRUCTURE)
        out["structure"] = _records(t)
    a = run.answers[run.answers["item"].isin([c for c in people.columns if c in set(run.answers["item"])])]
    if len(a):
        t = analysis.subgroup_distributions(a[["agent", "item", "answer"]], sim_groups, people, human_groups,
                                            human_weights=w, min_agents=MIN_AGENTS, min_respondents=MIN_RESPONDENTS,
                                            n_boot=min(n_boot, 200), seed=seed)
        out["distributions"] = _records(t)
    return out


def _scales(sample: str, items: list[str]) -> dict[str, tuple[float, float]]:
    dist = datasets.behavior_distributions(sample)
    out = {}
    for it in items:
        codes = dist.loc[dist["item"] == it, "code"]
        out[it] = (float(codes.min()), float(codes.max())) if len(codes) else (1.0, 6.0)
    return out


def individual_section(run: Run, sample: str, n_boot: int, seed: int) -> dict:
    truth = run.responses
    if truth is None:
        raise PopsimError("the run has no respondents' answers (responses.parquet)")
    truth = truth.set_index("agent")
    asked = [i for i in run.answers["item"].unique().tolist() if i in truth.columns]
    if not asked:
        raise PopsimError("the agents answered no item their respondents answered in the survey")
    sim = run.answers[run.answers["item"].isin(asked)][["agent", "item", "answer"]]
    sim = sim.drop_duplicates(["agent", "item"], keep="last")
    agents = run.agents.set_index("agent")
    groups = _group_table(agents)
    cols = [c for c in ("gender", "age_band") if c in groups]
    label = pd.Series([", ".join("unknown" if x is None or x != x else str(x) for x in row)
                       for row in groups[cols].itertuples(index=False)], index=groups.index)
    per, summary = analysis.individual_fidelity(sim, truth[asked], respondent=agents["respondent"], group=label,
                                                scales=_scales(sample, asked), n_boot=n_boot, seed=seed)
    return {"items": asked, "n_agents": int(per["agent"].nunique()), "summary": _records(summary),
            "baseline_note": BASELINE_NOTE}


def people_sections(run: Run, sample: str, n_boot: int, seed: int) -> dict:
    """{'subgroups': ..., 'individual': ...} for a run whose agents are real respondents (else {})."""
    if not has_people(run):
        return {}
    out = {}
    for key, fn in (("subgroups", subgroups_section), ("individual", individual_section)):
        try:
            out[key] = fn(run, sample, n_boot, seed)
        except PopsimError as exc:
            out[key] = {"error": str(exc)}
    return out
