"""What a run or a study would cost before it asks anything (`popsim run ... --dry-run`, `popsim sweep ... --dry-run`).

A run's model is built as it would run (population, agents, prompts, the backend with its settings, the cache),
every ask of its first round is made and planned by `Engine.plan`, and nothing is asked: distinct asks after
dedupe and cache, the prompt tokens of the rest (the backend's tokenizer, or an estimate said as such) and,
with a price per million tokens, the cost (one completion token per call). Rounds after the first (games) are
counted like the first, as new asks: their prompts depend on the answers. In a study, asks that an earlier run
of it needs are counted once (the cache shares them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import Plan


@dataclass
class RunPlan:
    name: str
    plan: Plan
    rounds: int

    def cost(self, price: tuple[float, float] | None) -> float | None:
        return None if price is None else self.plan.cost(*price)


def plan_run(*, scenario: str = "ess21", backend: Any = "embedded", backend_options: dict | None = None,
             cache_path: Any = None, refresh: bool = False, planned: set[str] | None = None, name: str = "run",
             **model_kwargs) -> RunPlan:
    """The plan of one run (the keywords of `reporting.runs.execute`, without its output options)."""
    from ..backends import make_backend
    from ..cache import Cache
    from ..engine import Engine
    from ..model import PopulationModel
    from ..scenario import call as call_scenario

    model_kwargs.pop("progress", None)
    engine = None
    if model_kwargs.get("policy", "llm") != "reference":  # (a cache file that does not exist yet is not created)
        be = make_backend(backend, **(backend_options or {})) if isinstance(backend, str) else backend
        exists = cache_path is not None and Path(cache_path).is_file()
        engine = Engine(be, Cache(cache_path, create=False) if exists else Cache(None), refresh=refresh)
    model = PopulationModel(scenario=scenario, backend=backend, backend_options=backend_options, engine=engine,
                            progress=False, **model_kwargs)
    rounds = int(model.scenario.rounds)
    if model.engine is None:  # the reference policy asks no model
        return RunPlan(name, Plan(0, 0, 0, 0, 0, "no model (reference respondents)"), rounds)
    asks = [b[2] for b in model.policy.build(call_scenario(model.scenario, "questions", model, 0))]
    first = model.engine.plan(asks, planned=planned)
    if rounds == 1 or not first.distinct:
        return RunPlan(name, first, rounds)
    # later rounds: every distinct ask again, new (their prompts depend on the answers)
    per_round = first.prompt_tokens if first.to_ask == first.distinct else _all_tokens(model.engine, asks)
    extra = rounds - 1
    return RunPlan(name, Plan(asks=first.asks * rounds, distinct=first.distinct * rounds, cached=first.cached,
                              to_ask=first.to_ask + extra * first.distinct,
                              prompt_tokens=first.prompt_tokens + extra * per_round,
                              tokens_how=f"{first.tokens_how}; rounds 2-{rounds} estimated like round 1",
                              shared=first.shared), rounds)


def _all_tokens(engine, asks) -> int:
    unique = list({id(a): a for a in asks}.values())
    count = getattr(engine.backend, "count_tokens", None)
    if count is None:
        from ..backends.tokens import estimate

        return estimate([a.canonical() for a in unique])
    return count(unique)[0]


def plan_study(study: str | Path | dict, *, cache: str | Path | None = None) -> list[RunPlan]:
    """The plan of every run of a study (its points, `sweep.points`), asks shared between runs counted once."""
    from ..cache import default_cache_path
    from .sweep import load_study, points, slug

    spec = load_study(study)
    cache_path = Path(cache or spec.get("cache") or default_cache_path())
    planned: set[str] = set()
    out = []
    for p in points(spec):
        kwargs = dict(p)
        seed, scenario = kwargs.pop("seed", 0), kwargs.pop("scenario", "ess21")
        out.append(plan_run(scenario=scenario, backend=kwargs.pop("backend", "embedded"),
                            backend_options=dict(spec.get("backend_options") or {}), cache_path=cache_path,
                            planned=planned, name=slug(p), rng=seed,
                            scenario_options=spec.get("scenario_options") or {},
                            network_options=spec.get("network_options") or {}, **kwargs))
    return out


def plan_lines(plans: list[RunPlan], price: tuple[float, float] | None) -> list[str]:
    """What --dry-run prints: one line per run (and a total for several), the tokens' source, the cost."""
    lines = ["dry run: nothing was asked and nothing written"]
    total = Plan(0, 0, 0, 0, 0, "", 0)
    for rp in plans:
        p = rp.plan
        total = Plan(total.asks + p.asks, total.distinct + p.distinct, total.cached + p.cached,
                     total.to_ask + p.to_ask, total.prompt_tokens + p.prompt_tokens, p.tokens_how or total.tokens_how,
                     total.shared + p.shared)
        shared = f", {p.shared:,} asked by an earlier run" if p.shared else ""
        lines.append(f"{rp.name}: {p.asks:,} asks ({rp.rounds} round{'s' * (rp.rounds > 1)}), {p.distinct:,} distinct "
                     f"after dedupe, {p.cached:,} in the cache{shared}, {p.to_ask:,} to ask, {p.prompt_tokens:,} "
                     f"prompt tokens" + (f", ${rp.cost(price):,.4f}" if price else ""))
    if len(plans) > 1:
        lines.append(f"total: {total.asks:,} asks, {total.distinct:,} distinct, {total.cached:,} in the cache, "
                     f"{total.shared:,} shared between runs, {total.to_ask:,} to ask, {total.prompt_tokens:,} prompt "
                     "tokens")
    lines.append(f"prompt tokens counted with {total.tokens_how or 'nothing (no model calls)'}")
    if price:
        lines.append(f"cost: ${total.cost(*price):,.4f} at ${price[0]:g} per million prompt tokens and ${price[1]:g} per "
                     f"million completion tokens ({total.prompt_tokens:,} prompt tokens, {total.to_ask:,} completion "
                     "tokens: one per call)")
    else:
        lines.append("cost: pass --price-per-mtok IN[,OUT] (dollars per million tokens) for it")
    return lines
