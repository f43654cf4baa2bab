"""The page's settings: the choices its controls offer, and the model keyword arguments they make.

Pure Python (no solara): the same plain keyword arguments the CLI passes to `PopulationModel`. The choices
and ranges are those of `popsim.parameters` (read from their owners), and `Settings.check()` checks with the
same function as the command line and study files, so a bad value gets the same message everywhere (the page
words the flags it names as its own controls, `session.describe_error`); the page adds its own limits.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

from ..cache import default_cache_path
from ..errors import PopsimError

#: the page's controls, in the order shown; their choices and ranges come from `popsim.parameters` (`choices`)
CHOICE_FIELDS: tuple[str, ...] = ("population", "strategy", "network", "scenario", "policy", "prompt_style", "backend",
                                  "api", "option_order")


def choices(name: str) -> tuple[str, ...]:
    """What a select control offers: its owner's choices (`popsim.parameters`)."""
    from ..parameters import parameter

    return parameter(name).known()


LABELS = {
    "DE_ESS9": "Germany, ESS 9 (DE_ESS9)", "SE_ESS1-8": "Sweden, ESS 1-8 (SE_ESS1-8)",
    "US_GSS2012": "USA, GSS 2012 (US_GSS2012)",
    "empirical": "empirical (human joint distribution)", "uniform": "uniform over dominant values",
    "h_norm": "h_norm (human dominant-value shares)", "h_even": "h_even (even shares of human-like dominants)",
    "h_np": "h_np (with unprimed agents)", "model_specific": "model_specific (human shares x the model's accuracy)",
    "custom": "custom (your profiles file)", "panel": "panel (each value and unprimed equally often)",
    "respondents": "respondents (the real people of an imported sample)",
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
    template_variant: int = 0
    female_share: float = 0.5
    transforms: str = ""  # transforms of the value distribution, e.g. "shift.UN=0.5, spread=0.8"
    profiles: str = ""  # custom strategy: a CSV of profiles on the server
    accuracy_from: str = ""  # model_specific strategy: a run folder on the server
    seed: int = 0

    def replace(self, **changes) -> "Settings":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    def check(self) -> "Settings":
        """Raise a `PopsimError` that says what to fix: the settings' own messages (`popsim.parameters`, the same
        as the command line's; the page words the flags as its controls), and the page's own limits."""
        from ..parameters import check

        n = self.n_agents
        check("n_agents", n)
        if n > MAX_AGENTS:
            raise PopsimError(f"Number of agents is at most {MAX_AGENTS} on the page, got {n}; run larger populations "
                              "with the CLI (popsim run)")
        for name in ("population", "strategy", "scenario", "network", "prompt_style", "policy", "backend",
                     "option_order", "temperature", "seed", "template_variant", "female_share"):
            check(name, getattr(self, name))
        if self.seed is None:
            raise PopsimError("Seed must be a whole number, got None")
        check("transforms", self.transform_items())
        if self.strategy == "custom" and not self.profiles.strip():
            raise PopsimError("the custom strategy needs a profiles file (columns SD..UN): set the Profiles file")
        if self.strategy == "model_specific" and not self.accuracy_from.strip():
            raise PopsimError("the model_specific strategy needs a previous run with a manipulation check: set the "
                              "Accuracy run")
        if self.scenario == "public_goods":
            check("rounds", self.rounds)
        if self.network != "none" and n < 3:
            raise PopsimError(f"a {self.network} network needs at least 3 agents, got {n}")
        if self.policy == "llm" and self.backend == "openai":
            from ..backends.http import check_base_url

            if not (self.base_url or "").strip():
                raise PopsimError("the OpenAI-compatible backend needs a base URL, e.g. http://127.0.0.1:8000/v1")
            for url in self.base_url.split(","):
                check_base_url(url.strip())
            if not (self.model or "").strip():
                raise PopsimError("the OpenAI-compatible backend needs a model name (the name the server serves)")
            check("api", self.api)
            if not KEY_ENV.match(self.api_key_env or ""):
                raise PopsimError(f"API key variable {self.api_key_env!r} is not allowed: name an environment variable "
                                  "ending in API_KEY or _TOKEN (e.g. OPENAI_API_KEY), set on the server")
        return self

    def transform_items(self) -> list[str]:
        """The Transforms text as KEY=NUMBER items (separated by commas, semicolons or new lines)."""
        return [x.strip() for x in re.split(r"[,;\n]", self.transforms or "") if x.strip()]

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
        accuracy = None
        if self.strategy == "model_specific" and self.accuracy_from.strip():
            from ..studies.demo import accuracy_from_run

            accuracy = accuracy_from_run(self.accuracy_from.strip())
        return dict(n_agents=int(self.n_agents), population=self.population, strategy=self.strategy,
                    scenario=self.scenario, scenario_options=self.scenario_options(), network=self.network,
                    prompt_style=self.prompt_style, policy=self.policy, option_order=self.option_order,
                    temperature=float(self.temperature), template_variant=int(self.template_variant),
                    female_share=float(self.female_share), transforms=self.transform_items() or None,
                    profiles=self.profiles.strip() or None if self.strategy == "custom" else None, accuracy=accuracy,
                    backend=self.backend, backend_options=self.backend_options(), rng=int(self.seed),
                    cache_path=cache_path)

    def summary(self) -> str:
        who = ("synthetic human twins" if self.policy == "reference" else
               f"{self.backend}{' ' + self.model if self.backend == 'openai' else ''}, {self.prompt_style}")
        rounds = f", {self.rounds} rounds" if self.scenario == "public_goods" else ""
        net = f", network {self.network}" if self.network != "none" else ""
        shifted = f" transformed by {', '.join(self.transform_items())}" if self.transform_items() else ""
        return (f"{self.n_agents} agents from {self.population}{shifted} ({self.strategy}) answer {self.scenario}{rounds}{net}; "
                f"{who}; temperature {self.temperature:g}; seed {self.seed}")


def key_is_set(env: str) -> bool:
    """Whether the server has the API key variable set (the key itself never leaves the server)."""
    import os

    return bool(KEY_ENV.match(env or "")) and bool(os.environ.get(env))
