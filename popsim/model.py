"""`PopulationModel`: a Mesa model of value-profiled agents answering a scenario, batch-first.

Built from keyword arguments with plain values (the CLI, the Solara page, sweeps and tests all build
it the same way). A step: the scenario states every agent's questions, the policy answers them all
at once (one engine call: deduplicated, cached, batched), agents sample their answers with their
own RNGs, the scenario applies them (games), the DataCollector records the round.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from .agents import ValueAgent
from .errors import PopsimError
from .network import build_network
from .parameters import check_all
from .policy import Answer, LLMPolicy, ReferencePolicy
from .population import country_label, country_name, draw_population
from .population.respondents import DEMOGRAPHICS
from .prompts import DEMOGRAPHIC_STYLES
from .scenario import call as call_scenario, load_scenario
from .seeds import stream
from .values import CODES10, ValueProfile

ANSWER_COLUMNS = ["agent", "round", "item", "kind", "answer", "expected", "probs", "order", "validity",
                  "prompt_hash", "method", "error"]


#: peak memory per agent of a run, with room to spare: 100,000 reference-respondent agents on ESS-21 peaked at
#: 2.3 GiB with the report, the LLM policy's own work at 1.9 GiB (docs/reliability.md, benchmarks/README.md)
BYTES_PER_AGENT = 36 * 1024


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation now (Linux MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def check_memory(n_agents: int) -> None:
    """Refuse, before anything is drawn, a population that cannot fit in this machine's memory."""
    need, avail = n_agents * BYTES_PER_AGENT, available_memory()
    if avail is not None and need > avail:
        raise PopsimError(f"--agents {n_agents:,} needs about {need / 2**30:,.1f} GiB of memory (about "
                          f"{BYTES_PER_AGENT // 1024} KB per agent) and {avail / 2**30:.1f} GiB are available; use at "
                          f"most about {avail // BYTES_PER_AGENT:,} agents, or run several seeds of a smaller "
                          "population (popsim sweep) and pool them")


class PopulationModel(mesa.Model):
    """A population of `ValueAgent`s answering a scenario. Every keyword is a plain value (see
    `popsim.parameters` for each one's meaning, range and choices) except `scenario`, `backend`, `profiles` and
    `engine`, which may also be objects. `rng` is the run's seed (Mesa's keyword); `seed` is accepted as its
    alias, for `mesa.batch_run` and readers of other Mesa models."""

    def __init__(self, *, n_agents: int = 30, population: str = "DE_ESS9", strategy: str = "empirical",
                 scenario: Any = "ess21", backend: Any = "embedded", prompt_style: str = "value_prompt",
                 policy: str = "llm", temperature: float = 1.0, option_order: str = "ascending",
                 template_variant: int = 0, network: str = "none", network_options: dict | None = None,
                 scenario_options: dict | None = None, backend_options: dict | None = None,
                 no_dominant_share: float | None = None, accuracy: dict | None = None, profiles: Any = None,
                 country: str | None = None, female_share: float = 0.5, transforms: dict | None = None,
                 rng: int | None = None,
                 seed: int | None = None, cache_path: Any = None,
                 refresh: bool = False, progress: bool = False, engine: Any = None):
        if rng is None:
            rng = seed if seed is not None else secrets.randbelow(2**31)
        if not isinstance(rng, (int, np.integer)) or isinstance(rng, bool):
            raise PopsimError(f"--seed must be a whole number, got {rng!r}")
        super().__init__(rng=int(rng))
        self.seed = int(rng)
        plain = dict(n_agents=n_agents, population=population, strategy=strategy, prompt_style=prompt_style,
                     policy=policy, temperature=temperature, option_order=option_order,
                     template_variant=template_variant, no_dominant_share=no_dominant_share,
                     female_share=female_share, transforms=transforms)
        if isinstance(network, str) or network is None:
            plain["network"] = "none" if network is None else network
        if isinstance(backend, str):
            plain["backend"] = backend
        if country is not None:
            plain["country"] = country
        checked = check_all(plain)  # the one validation of every setting (same message as the CLI and the page)
        n_agents = checked["n_agents"]
        check_memory(n_agents)
        self.scenario = load_scenario(scenario, **(scenario_options or {}))
        if checked["transforms"]:
            from .population import check_honoured

            check_honoured(checked["transforms"], strategy=checked["strategy"], policy=checked["policy"],
                           prompt_style=checked["prompt_style"], sample=population,
                           items=tuple(call_scenario(self.scenario, "describe").get("behaviour_items") or ()))
        self.country = country or country_name(population)
        self.settings = dict(checked, network=network, seed=self.seed, country=self.country,
                             network_options=dict(network_options or {}), scenario_options=dict(scenario_options or {}),
                             profiles=str(profiles) if isinstance(profiles, (str, Path)) else
                             (None if profiles is None else "a table of profiles"),
                             accuracy=dict(accuracy) if accuracy else None)

        pop = draw_population(n_agents, strategy=checked["strategy"], sample=population,
                              rng=self.stream("population"), no_dominant_share=checked["no_dominant_share"],
                              accuracy=accuracy, profiles=profiles, female_share=checked["female_share"],
                              transforms=checked["transforms"])
        self.population = pop
        responses = pop.responses.set_index("agent")
        twins = responses.to_dict("index") if len(responses.columns) else {}
        demo = [d for d in DEMOGRAPHICS if d in pop.agents.columns]  # real respondents' (strategy respondents)
        for row in pop.agents.itertuples(index=False):
            prof = ValueProfile(tuple(float(getattr(row, c)) for c in CODES10), float(row.mrat))
            resp = twins.get(row.agent)
            person = {d: getattr(row, d) for d in demo}
            if person.get("country") is not None and person["country"] == person["country"]:
                person["country"] = country_label(person["country"])
            ValueAgent(self, index=int(row.agent), profile=prof, prime=row.prime or None, gender=row.gender,
                       respondent=resp, demographics=person)
        self.ordered_agents = sorted(self.agents, key=lambda a: a.index)
        if policy == "llm" and prompt_style in DEMOGRAPHIC_STYLES and not any(a.demographics for a in self.agents):
            raise PopsimError(f"--style {prompt_style} states the agents' demographics, and these agents have none "
                              f"(population {population}, strategy {checked['strategy']}); use an imported sample with "
                              "demographics and --strategy respondents (popsim data list), or another --style")
        self.graph = build_network(network, self.ordered_agents, rng=self.stream("network"),
                                   **(network_options or {}))

        self.engine = None
        if policy == "reference":
            self.policy = ReferencePolicy()
            self.backend = None
        else:
            from .backends import make_backend
            from .cache import Cache
            from .engine import Engine

            if engine is not None:
                self.engine = engine
            else:
                self.backend = backend if not isinstance(backend, str) else make_backend(backend, **(backend_options or {}))
                self.engine = Engine(self.backend, Cache(cache_path) if cache_path is not None else None,
                                     refresh=refresh, progress=progress)
            self.backend = self.engine.backend
            self.policy = LLMPolicy(self.engine, style=prompt_style, temperature=temperature,
                                    option_order=option_order, variant=template_variant, country=self.country)

        self.round = 0
        self._parts: list[dict[str, tuple]] = []  # the answer table's columns, one dict per step (answers_frame)
        self._answered = 0
        reporters = {"round": lambda m: m.round, "answered": lambda m: m._answered}
        reporters.update(call_scenario(self.scenario, "model_reporters"))
        self.datacollector = mesa.DataCollector(model_reporters=reporters,
                                                tables={"choices": ["round", "agent", "item", "choice"]})
        self.running = True

    def stream(self, name: str, *index: int) -> np.random.Generator:
        """A named random stream of this run (`popsim.seeds`): 'population', 'agent' (per index), 'network', ..."""
        return stream(self.seed, name, *index)

    # ------------------------------------------------------------------ network
    def neighbors(self, agent: ValueAgent) -> list[ValueAgent]:
        if self.graph is None:
            return []
        return [self.ordered_agents[j] for j in self.graph.neighbors(agent.index)]

    # ------------------------------------------------------------------ stepping
    def step(self):
        if not self.running:  # all rounds done (Mesa's runners may step once more): nothing is asked again
            return
        questions = call_scenario(self.scenario, "questions", self, self.round)
        answers = self.policy.answer(questions, desc=f"{self.scenario.name} round {self.round + 1}")
        self._record(answers)
        call_scenario(self.scenario, "apply", self, self.round, answers)
        self.round += 1
        self.datacollector.collect(self)
        if self.round >= self.scenario.rounds:
            self.running = False

    def run(self):
        while self.running:
            self.step()
        return self

    def _record(self, answers: list[Answer]):
        self._answered += len(answers)
        if hasattr(answers, "columns"):  # an AnswerBlock (blocks.py): its columns, no Answer objects
            self._parts.append(answers.columns(self.round))
            return
        lists: dict[int, list] = {}  # answers read from one distribution share their probabilities
        for a in answers:
            if id(a.probs) not in lists:
                lists[id(a.probs)] = list(a.probs)
        qs = [a.question for a in answers]
        r = {"agent": [q.agent.index for q in qs], "round": [self.round] * len(answers), "item": [q.item.id for q in qs],
             "kind": [q.kind for q in qs], "answer": [a.point for a in answers],
             "expected": [a.expected for a in answers], "probs": [lists[id(a.probs)] for a in answers],
             "order": [a.order for a in answers], "validity": [a.validity for a in answers],
             "prompt_hash": [a.prompt_hash for a in answers], "method": [a.method for a in answers],
             "error": [a.error for a in answers]}
        self._parts.append({c: (v, None) for c, v in r.items()})
        for q, a in zip(qs, answers):
            if q.kind == "decision":
                self.datacollector.add_table_row("choices", {"round": self.round, "agent": q.agent.index,
                                                             "item": q.item.id, "choice": a.point})

    # ------------------------------------------------------------------ tables
    def answers_frame(self) -> pd.DataFrame:
        """One row per agent x item x round: the sampled answer, expected answer, option distribution in
        scale order, option order shown, validity mass, prompt hash, method, error.

        Each column is what pandas makes of the list of all its values: a coded column (`AnswerBlock.columns`) is
        built from its distinct values (the same type inferred) and taken by its codes, without a Python object
        per row; steps whose pieces come out with different types are joined as one list (as before)."""
        cols = {}
        for c in ANSWER_COLUMNS:
            pieces = [_column(*p[c]) for p in self._parts]
            if len({str(s.dtype) for s in pieces}) == 1:
                cols[c] = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
            else:  # nothing recorded, or types that differ between steps: the values as one list
                cols[c] = [v for p in self._parts for v in _values(*p[c])]
        df = pd.DataFrame(cols, columns=ANSWER_COLUMNS)
        df["agent"] = df["agent"].astype(int)
        return df

    def agents_frame(self) -> pd.DataFrame:
        return self.population.agents.copy()

    def backend_record(self) -> dict:
        if self.policy.name == "reference":
            return {"backend": "none (reference respondent)", "model": "synthetic human respondents"}
        return self.backend.describe()


def _column(values, codes) -> pd.Series:
    """`values[codes]` (or `values`) as pandas makes it of the whole list: its type inferred from the distinct values."""
    s = pd.Series(values)
    return s if codes is None else pd.Series(s.array.take(np.asarray(codes, dtype=np.intp)))


def _values(values, codes) -> list:
    """`values[codes]` (or `values`) as a list of Python objects."""
    values = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return values if codes is None else [values[x] for x in np.asarray(codes).tolist()]

