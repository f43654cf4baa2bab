"""The page's settings: the choices its controls offer, and the model keyword arguments they make.

Pure Python (no solara): the same plain keyword arguments the CLI passes to `PopulationModel`.
`Settings.check()` turns a bad setting into a `PopsimError` worded for the page (the model's own
messages name CLI flags); everything else is validated by the model itself.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from ..cache import default_cache_path
from ..errors import PopsimError

POPULATIONS: tuple[str, ...] = ("DE_ESS9", "SE_ESS1-8", "US_GSS2012")
STRATEGIES: tuple[str, ...] = ("empirical", "uniform", "h_norm", "h_even", "h_np")
#: the issue's five scenarios first, then the other built-ins
SCENARIOS: tuple[str, ...] = ("ess21", "ess_attitudes", "dictator", "charity_game", "public_goods", "pvq40", "pvq_rr",
                              "persona_statements")
GAMES: tuple[str, ...] = ("dictator", "charity_game", "public_goods")
NETWORKS: tuple[str, ...] = ("none", "complete", "small_world", "scale_free", "value_homophily")
STYLES: tuple[str, ...] = ("value_prompt", "value_anchor", "profile", "name_only", "none")
POLICIES: tuple[str, ...] = ("llm", "reference")
BACKENDS: tuple[str, ...] = ("embedded", "openai", "scripted")
ORDERS: tuple[str, ...] = ("ascending", "descending", "random")
APIS: tuple[str, ...] = ("chat", "completions")

LABELS = {
    "DE_ESS9": "Germany, ESS 9 (DE_ESS9)", "SE_ESS1-8": "Sweden, ESS 1-8 (SE_ESS1-8)",
    "US_GSS2012": "USA, GSS 2012 (US_GSS2012)",
    "empirical": "empirical (human joint distribution)", "uniform": "uniform over dominant values",
    "h_norm": "h_norm (human dominant-value shares)", "h_even": "h_even (even shares of human-like dominants)",
    "h_np": "h_np (with unprimed agents)",
    "ess21": "ESS-21 value questionnaire", "ess_attitudes": "ESS attitudes and behaviour (+ ESS-21)",
    "dictator": "dictator game", "charity_game": "charity game", "public_goods": "public goods game (rounds)",
    "pvq40": "PVQ-40 questionnaire", "pvq_rr": "PVQ-RR questionnaire", "persona_statements": "persona statements",
    "embedded": "embedded (SmolLM2-135M in-process)", "openai": "OpenAI-compatible server",
    "scripted": "scripted (test double, not a language model)",
    "llm": "llm (value-prompted model)", "reference": "reference (synthetic human twins, no LLM)",
}

#: an API key may be read from an environment variable with one of these names only (the page must not let a
#: browser send an arbitrary server-side variable to a URL of its choice)
KEY_ENV = re.compile(r"^[A-Z][A-Z0-9_]*(API_KEY|_TOKEN)$")
MAX_AGENTS = 2000


@dataclass(frozen=True)
class Settings:
    n_agents: int = 6
    population: str = "DE_ESS9"
    strategy: str = "empirical"
    scenario: str = "ess21"
    rounds: int = 5
    network: str = "none"
    prompt_style: str = "value_prompt"
    policy: str = "llm"
    option_order: str = "ascending"
    backend: str = "embedded"
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = ""
    api: str = "chat"
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 1.0
    seed: int = 0

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    def check(self) -> "Settings":
        """Raise a `PopsimError` that says what to fix, in the page's words."""
        n = self.n_agents
        if n is None or isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise PopsimError(f"Number of agents must be a whole number of at least 1, got {n!r}")
        if n > MAX_AGENTS:
            raise PopsimError(f"Number of agents is at most {MAX_AGENTS} on the page, got {n}; run larger populations "
                              "with the CLI (popsim run)")
        for name, value, known in (("population", self.population, POPULATIONS), ("strategy", self.strategy, STRATEGIES),
                                   ("scenario", self.scenario, SCENARIOS), ("network", self.network, NETWORKS),
                                   ("prompt style", self.prompt_style, STYLES), ("policy", self.policy, POLICIES),
                                   ("backend", self.backend, BACKENDS), ("option order", self.option_order, ORDERS)):
            if value not in known:
                raise PopsimError(f"unknown {name} {value!r}; choose one of: {', '.join(known)}")
        if self.temperature is None or not 0.0 <= float(self.temperature) <= 2.0:
            raise PopsimError(f"Temperature must be between 0 and 2, got {self.temperature!r}")
        if self.seed is None or isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise PopsimError(f"Seed must be a whole number, got {self.seed!r}")
        if self.scenario == "public_goods" and (not isinstance(self.rounds, int) or self.rounds < 1):
            raise PopsimError(f"Rounds must be a whole number of at least 1, got {self.rounds!r}")
        if self.network != "none" and n < 3:
            raise PopsimError(f"a {self.network} network needs at least 3 agents, got {n}")
        if self.policy == "llm" and self.backend == "openai":
            from ..backends.openai_compat import check_base_url

            if not (self.base_url or "").strip():
                raise PopsimError("the OpenAI-compatible backend needs a base URL, e.g. http://127.0.0.1:8000/v1")
            for url in self.base_url.split(","):
                check_base_url(url.strip())
            if not (self.model or "").strip():
                raise PopsimError("the OpenAI-compatible backend needs a model name (the name the server serves)")
            if self.api not in APIS:
                raise PopsimError(f"unknown API {self.api!r}; choose one of: {', '.join(APIS)}")
            if not KEY_ENV.match(self.api_key_env or ""):
                raise PopsimError(f"API key variable {self.api_key_env!r} is not allowed: name an environment variable "
                                  "ending in API_KEY or _TOKEN (e.g. OPENAI_API_KEY), set on the server")
        return self

    def backend_options(self) -> dict:
        if self.backend == "openai":
            return {"base_url": self.base_url.strip(), "model": self.model.strip(), "api": self.api,
                    "api_key_env": self.api_key_env}
        return {}

    def scenario_options(self) -> dict:
        return {"rounds": int(self.rounds)} if self.scenario == "public_goods" else {}

    def model_kwargs(self, cache_path=None) -> dict:
        """Keyword arguments of `PopulationModel` (the CLI's path): plain values only."""
        if cache_path is None:
            cache_path = default_cache_path()
        return dict(n_agents=int(self.n_agents), population=self.population, strategy=self.strategy,
                    scenario=self.scenario, scenario_options=self.scenario_options(), network=self.network,
                    prompt_style=self.prompt_style, policy=self.policy, option_order=self.option_order,
                    temperature=float(self.temperature), backend=self.backend, backend_options=self.backend_options(),
                    rng=int(self.seed), cache_path=cache_path)

    def summary(self) -> str:
        who = ("synthetic human twins" if self.policy == "reference" else
               f"{self.backend}{' ' + self.model if self.backend == 'openai' else ''}, {self.prompt_style}")
        rounds = f", {self.rounds} rounds" if self.scenario == "public_goods" else ""
        net = f", network {self.network}" if self.network != "none" else ""
        return (f"{self.n_agents} agents from {self.population} ({self.strategy}) answer {self.scenario}{rounds}{net}; "
                f"{who}; temperature {self.temperature:g}; seed {self.seed}")


def key_is_set(env: str) -> bool:
    """Whether the server has the API key variable set (the key itself never leaves the server)."""
    import os

    return bool(KEY_ENV.match(env or "")) and bool(os.environ.get(env))
