"""Every setting a user can give a run, defined once: its keyword, flag, type, range or choices, default and help.

The choices themselves stay with the module that owns them (`population.STRATEGIES`, `prompts.STYLES`,
`network.NETWORKS`, `backends.BACKENDS`, `openai_compat.APIS`, ...): a `Parameter` reads them from there. The
command line builds its options from these parameters, the Solara page its controls and checks, study files
their validation, and `PopulationModel` checks its own keywords with them, so the same bad value gets the same
message everywhere (`Parameter.check`). The message names the command-line flag; the page words it as its own
control (`page.session.describe_error`), a study file prefixes its own name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .errors import PopsimError, unknown


def _owner(module: str, name: str) -> Callable[[], tuple[str, ...]]:
    def read() -> tuple[str, ...]:
        import importlib

        return tuple(getattr(importlib.import_module(f"popsim.{module}"), name))

    return read


def _sample_names() -> tuple[str, ...]:
    """The shipped samples and those imported into the data folder (read when asked: imports come and go)."""
    from .datasets import sample_names

    return sample_names()


@dataclass(frozen=True)
class Parameter:
    """One setting. `kind` is int, float, str or bool; `choices` reads the allowed names from their owner;
    `low`/`high` bound numbers (`high_open`: the upper bound itself is excluded); `paths`: a file path is
    accepted besides the choices (scenario and network files); `none_ok`: None means "not set"."""

    name: str  # the PopulationModel keyword (also the key in study files)
    flag: str  # the command-line option
    group: str  # which concern it belongs to (one argparse group each)
    kind: type
    default: Any
    help: str
    label: str = ""  # the page's words for it
    choices: Callable[[], tuple[str, ...]] | None = None
    low: float | None = None
    high: float | None = None
    high_open: bool = False
    paths: bool = False
    none_ok: bool = False
    metavar: str | None = None
    noun: str = ""  # what an unknown choice is called in messages ("strategy", "prompt style")
    aliases: tuple[str, ...] = field(default=())
    parse: Callable[["Parameter", Any], Any] | None = None  # a value with its own format (checked and converted)
    repeat: bool = False  # the flag may be given several times (transforms: KEY=VALUE; others: a list, each checked)

    def known(self) -> tuple[str, ...]:
        return self.choices() if self.choices else ()

    def range_text(self) -> str:
        """'between 0 and 2', 'in [0, 1)', 'at least 1' or ''."""
        if self.low is not None and self.high is not None:
            return f"in [{self.low:g}, {self.high:g})" if self.high_open else f"between {self.low:g} and {self.high:g}"
        if self.low is not None:
            return f"at least {self.low:g}"
        return ""

    def expects(self) -> str:
        """What a value must be, in words ('a whole number of at least 1', 'one of: a, b')."""
        if self.kind in (int, float):
            what = "a whole number" if self.kind is int else "a number"
            rng = self.range_text()
            return f"{what} {'of ' if rng.startswith('at') else ''}{rng}".strip()
        if self.kind is bool:
            return "true or false"
        if self.kind is dict:
            return "KEY=NUMBER, repeatable (e.g. shift.UN=0.5)"
        known = self.known()
        return ("one of: " + ", ".join(known) + (", or a file path" if self.paths else "")) if known else "a text"

    def check(self, value: Any) -> Any:
        """The value converted to `kind` and checked; a `PopsimError` naming the flag and the fix otherwise."""
        if self.repeat and self.kind is not dict:
            return [self._check_one(v) for v in (value or ())]
        return self._check_one(value)

    def _check_one(self, value: Any) -> Any:
        if value is None:
            if self.none_ok:
                return None
            raise PopsimError(f"{self.flag} needs a value: {self.expects()}")
        if self.parse is not None:
            return self.parse(self, value)
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            raise PopsimError(f"{self.flag} must be true or false, got {value!r}")
        if self.kind is dict:  # transforms: validated by their owner, one place
            from .population.transforms import parse_transforms

            try:
                return parse_transforms(value)
            except PopsimError as exc:
                raise PopsimError(f"{self.flag}: {exc}") from None
        if self.kind in (int, float):
            return self._number(value)
        text = str(value)
        known = self.known()
        if known and text not in known:
            if self.paths and (text.endswith((".py", ".txt", ".csv", ".edges", ".edgelist")) or "/" in text):
                return text
            raise unknown(self.noun or self.name, text, known, hint="Or pass the path of a file." if self.paths else "")
        return text

    def _number(self, value: Any) -> int | float:
        shown = value if isinstance(value, str) and value.strip() else repr(value)
        bad = PopsimError(f"{self.flag} must be {self.expects()}, got {shown}")
        if isinstance(value, bool):
            raise bad
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise bad from None
        if not math.isfinite(number):
            raise bad
        if self.kind is int:
            if number != int(number):
                raise bad
            number = int(number)
        too_low = self.low is not None and number < self.low
        too_high = self.high is not None and (number >= self.high if self.high_open else number > self.high)
        if too_low or too_high:
            raise bad
        return number


def _batch_prompts(prm: Parameter, value: Any) -> int | str:
    """A whole number of prompts per request, or "auto"."""
    from .backends.prompt_lists import MAX

    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        n = int(str(value).strip()) if not isinstance(value, (bool, float)) else None
    except ValueError:
        n = None
    if n is None or not 1 <= n <= MAX:
        raise PopsimError(f"{prm.flag} must be a whole number from 1 to {MAX} or auto, got {value!r}; e.g. "
                          f"{prm.flag} 32")
    return n


def _price(prm: Parameter, value: Any) -> tuple[float, float]:
    """(prompt, completion) dollars per million tokens from "IN" or "IN,OUT" (OUT defaults to IN)."""
    parts = [v.strip() for v in str(value).split(",")] if not isinstance(value, (list, tuple)) else list(value)
    try:
        prices = [float(v) for v in parts]
    except (TypeError, ValueError):
        prices = []
    if not 1 <= len(parts) <= 2 or len(prices) != len(parts) or not all(math.isfinite(x) and x >= 0 for x in prices):
        raise PopsimError(f"{prm.flag} must be IN or IN,OUT: dollars per million prompt (and completion) tokens, "
                          f"numbers of at least 0, got {value!r}; e.g. {prm.flag} 0.15,0.60")
    return prices[0], prices[-1]


P = Parameter
PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    # ------------------------------------------------------------------ population
    P("n_agents", "--agents", "population", int, 30, "number of agents", "Number of agents", low=1),
    P("population", "--population", "population", str, "DE_ESS9",
      "the human sample the profiles come from: a shipped or imported sample (popsim data list), or "
      "ESS11:<country>[@<sample>]", "the Population sample", choices=_sample_names, noun="population"),
    P("strategy", "--strategy", "population", str, "empirical", "how agents are drawn (see docs/populations.md)",
      "the Strategy", choices=_owner("population", "STRATEGIES"), noun="strategy"),
    P("no_dominant_share", "--no-dominant-share", "population", float, None,
      "h_np: share of unprimed agents (default: the sample's tied-top share; 0.53 = Witte et al. 2020)",
      "the No-dominant share", low=0.0, high=1.0, high_open=True, none_ok=True),
    P("female_share", "--female-share", "population", float, 0.5,
      "share of agents who get the female item wording", "the Female share", low=0.0, high=1.0),
    P("transforms", "--transform", "population", dict, None,
      "a transform of the value distribution the twins are drawn from: shift.<VALUE>, shift_only.<VALUE>, spread, "
      "spread.<VALUE>, coupling, mix.<SAMPLE> (docs/populations.md)", "the Transforms", none_ok=True,
      metavar="KEY=NUMBER", repeat=True),
    P("profiles", "--profiles", "population", str, None, "custom: CSV of profiles (columns SD..UN, optional gender, "
      "prime)", "the Profiles file", none_ok=True, metavar="FILE"),
    P("accuracy_from", "--accuracy-from", "population", str, None,
      "model_specific: a previous run folder with a manipulation check", "the Accuracy run", none_ok=True,
      metavar="RUN"),
    P("country", "--country", "population", str, None,
      "the country the questions name ('[country]' in ESS wording; default: the sample's)", "the Country",
      none_ok=True),
    # ------------------------------------------------------------------ network
    P("network", "--network", "network", str, "none", "social network of the agents, or an edge-list file",
      "the Network", choices=_owner("network", "NETWORKS"), paths=True, noun="network"),
    # ------------------------------------------------------------------ scenario
    P("scenario", "scenario", "scenario", str, "ess21", "scenario name or path of a scenario .py file",
      "the Scenario", choices=_owner("scenario", "BUILTIN"), paths=True, noun="scenario"),
    P("rounds", "--rounds", "scenario", int, None, "rounds of a repeated game", "Rounds", low=1, none_ok=True),
    # ------------------------------------------------------------------ prompts (the LLM policy)
    P("policy", "--policy", "prompts", str, "llm", "llm (value-prompted model) or reference (synthetic human twin)",
      "the Policy", choices=_owner("policy", "POLICIES"), noun="policy"),
    P("prompt_style", "--style", "prompts", str, "value_prompt", "persona prompt style (popsim prompts list)",
      "the Prompt style", choices=_owner("prompts", "STYLES"), noun="prompt style"),
    P("template_variant", "--variant", "prompts", int, 0, "persona template variant (paraphrase) of the style",
      "the Template variant", low=0),
    P("option_order", "--option-order", "prompts", str, "ascending", "order the answer options are shown in",
      "the Option order", choices=_owner("prompts", "ORDERS"), noun="option order"),
    P("temperature", "--temperature", "prompts", float, 1.0,
      "sampling temperature applied to the option distribution", "the Temperature", low=0.0, high=2.0),
    # ------------------------------------------------------------------ backend
    P("backend", "--backend", "backend", str, "embedded", "where answers come from", "the Backend",
      choices=_owner("backends", "BACKENDS"), noun="backend"),
    P("model_path", "--model-path", "backend", str, None,
      "embedded: a .gguf file instead of the bundled SmolLM2-135M", "the Model file", none_ok=True, metavar="FILE"),
    P("base_url", "--base-url", "backend", str, None,
      "openai: server URL(s), comma separated for several (e.g. http://127.0.0.1:8000/v1)", "the Base URL",
      none_ok=True, metavar="URL"),
    P("model", "--model", "backend", str, None, "openai: the model name the server serves", "the Model name",
      none_ok=True),
    P("api", "--api", "backend", str, "chat", "openai: chat, or completions (exact option scoring)", "the API",
      choices=_owner("backends.openai_compat", "APIS"), noun="API"),
    P("chat_template", "--chat-template", "backend", str, None,
      "openai --api completions: chatml or a Jinja template file", "the Chat template", none_ok=True),
    P("api_key_env", "--api-key-env", "backend", str, "OPENAI_API_KEY",
      "environment variable holding the API key", "the API key variable"),
    P("api_key_file", "--api-key-file", "backend", str, None, "file holding the API key (instead of the environment)",
      "the API key file", none_ok=True, metavar="FILE"),
    P("concurrency", "--concurrency", "backend", int, 8, "openai: requests in flight", "the Concurrency", low=1),
    P("batch_prompts", "--batch-prompts", "backend", str, 1,
      "openai --api completions: asks per request as a list of prompts; auto = 32 where the server takes lists "
      "(tried first: a server that refuses or mangles lists is asked one prompt per request)",
      "the Prompts per request", metavar="N|auto", parse=_batch_prompts),
    P("ray_workers", "--ray-workers", "backend", int, None,
      "serve the backend from N Ray actors (a local Ray instance, or the cluster of --ray-address)",
      "the Ray workers", low=1, none_ok=True, metavar="N"),
    P("ray_address", "--ray-address", "backend", str, None, "with --ray-workers: the Ray cluster's HOST:PORT",
      "the Ray address", none_ok=True),
    # ------------------------------------------------------------------ run
    P("seed", "--seed", "run", int, None, "seed of the population and of every agent's draws", "the Seed",
      none_ok=True),
    P("cache", "--cache", "run", str, None, "answer cache file (default $POPSIM_CACHE or "
      "~/.cache/popsim/answers.sqlite)", "the Cache file", none_ok=True, metavar="FILE"),
    # ------------------------------------------------------------------ cost
    P("price_per_mtok", "--price-per-mtok", "cost", str, None,
      "dollars per million tokens, IN (prompt) or IN,OUT (prompt, completion), for the cost of --dry-run and of "
      "the run record", "the Price per million tokens", none_ok=True, metavar="IN[,OUT]", parse=_price),
    # ------------------------------------------------------------------ studies
    P("workers", "--workers", "sweep", int, None, "parallel local processes (default: the cores)", "Workers", low=1,
      none_ok=True, metavar="N"),
    P("executor", "--executor", "sweep", str, "process", "where the runs execute", "the Executor",
      choices=_owner("studies.sweep", "EXECUTORS"), noun="executor"),
    P("address", "--address", "sweep", str, None, "ray: the cluster's address (default: start a local instance)",
      "the Ray address", none_ok=True),
    P("scale", "--scale", "replicate", str, "small", "size of the replication (tiny: a pipeline check; small: "
      "minutes on a laptop; paper: a GPU server)", "the Scale", choices=_owner("studies.replicate", "SCALES"),
      noun="scale"),
    P("seeds", "--seeds", "replicate", int, None, "seeds per population strategy (default: the scale's)", "Seeds",
      low=1, none_ok=True, metavar="N"),
    # ------------------------------------------------------------------ samples (popsim data)
    P("data_dir", "--data-dir", "data", str, None, "folder of imported samples (default $POPSIM_DATA, else the user "
      "data folder, e.g. ~/.local/share/popsim)", "the Data folder", none_ok=True, metavar="DIR"),
    P("sample_name", "--name", "import", str, None, "name of the new sample (letters, digits, _ - .; e.g. FR_ESS10)",
      "the Sample name", metavar="NAME"),
    P("instrument", "--instrument", "import", str, None, "value instrument of a mapped file (default ess21)",
      "the Instrument", choices=_owner("samples.importer", "VALUE_INSTRUMENTS"), none_ok=True, noun="instrument"),
    P("mapping", "--map", "import", str, None, "ITEM=COLUMN for every item of the instrument (a file in no known "
      "layout)", "the Mapping", repeat=True, none_ok=True, metavar="ITEM=COLUMN"),
    P("reverse", "--reverse", "import", bool, False, "the file codes 1 = very much like me (value labels decide "
      "where the file has them)", "Reverse"),
    P("missing", "--missing", "import", str, None, "codes meaning no answer, comma separated (e.g. 7,8,9)",
      "the Missing codes", none_ok=True, metavar="CODES"),
    P("filters", "--filter", "import", str, None, "keep the rows where COL=VAL (VAL may list several: cntry=FR,BE)",
      "the Filters", repeat=True, none_ok=True, metavar="COL=VAL"),
    P("weight", "--weight", "import", str, "auto", "weight column, or none (auto: ESS anweight, pspwght, dweight; "
      "GSS wtssps, wtssall, wtss; the first present)", "the Weight", metavar="COL"),
    P("gender_column", "--gender", "import", str, None, "column of the respondents' gender (codes 1 = male, "
      "2 = female, or words)", "the Gender column", none_ok=True, metavar="COL"),
    P("age_column", "--age", "import", str, None, "column of the respondents' age in years", "the Age column",
      none_ok=True, metavar="COL"),
    P("education_column", "--education", "import", str, None, "column of the respondents' education",
      "the Education column", none_ok=True, metavar="COL"),
    P("country_column", "--country", "import", str, None, "column of the respondents' country", "the Country column",
      none_ok=True, metavar="COL"),
    P("outcomes", "--outcome", "import", str, None, "a further numeric column to import as an outcome (repeat for "
      "several)", "the Outcomes", repeat=True, none_ok=True, metavar="COL"),
    # ------------------------------------------------------------------ report
    P("ppi_labelled", "--ppi-labelled", "report", int, None, "runs of real respondents (--strategy respondents): "
      "how many respondents prediction-powered inference labels (default: a fifth of the distinct respondents, at "
      "least 30; the normal interval needs 30, analysis.ppi.MIN_LABELLED)", "the PPI labelled respondents", low=30,
      none_ok=True, metavar="N"),
    # ------------------------------------------------------------------ export
    P("format", "--format", "export", str, "simbench", "layout of the exported file (simbench: SimBench's results "
      "pickle, scored by its calculate_simbench_score.py)", "the Export format",
      choices=_owner("reporting.export", "FORMATS"), noun="export format"),
    P("label", "--label", "export", str, None, "the name the file gives the simulator (SimBench's Model column; "
      "default: popsim, the model and the prompt style of the run)", "the Label", none_ok=True),
    # ------------------------------------------------------------------ the page
    P("host", "--host", "page", str, "127.0.0.1", "address to serve the page on (keep it on loopback: the page runs "
      "models and reads folders of this machine)", "the Host"),
    P("port", "--port", "page", int, 8765, "port to serve the page on", "the Port", low=1, high=65535),
)}

#: the backend options each backend takes from the `backend` group (besides the Ray pool's)
BACKEND_OPTIONS: dict[str, tuple[str, ...]] = {
    "embedded": ("model_path",),
    "openai": ("base_url", "model", "api", "chat_template", "api_key_env", "api_key_file", "concurrency",
               "batch_prompts"),
    "scripted": (),
}
RAY_OPTIONS: tuple[str, ...] = ("ray_workers", "ray_address")

#: PopulationModel keywords a study file may set in [fixed] or [grid] (the model's own settings)
MODEL_KEYS: tuple[str, ...] = ("n_agents", "population", "strategy", "no_dominant_share", "female_share",
                               "country", "network", "scenario", "policy", "prompt_style", "template_variant",
                               "option_order", "temperature", "backend", "seed")
#: besides MODEL_KEYS, a study's [fixed]/[grid]/[ranges] may name transform keys ("shift.UN", "spread", ...):
#: `population.transforms.is_transform_key`; the model takes them together as `transforms`


def parameter(name: str) -> Parameter:
    if name not in PARAMETERS:
        raise unknown("setting", name, PARAMETERS)
    return PARAMETERS[name]


def check(name: str, value: Any) -> Any:
    """`PARAMETERS[name].check(value)`; the population also accepts ESS11 countries (checked by its owner)."""
    if name == "population":
        from .population import parse_population

        parse_population(value)
        return str(value)
    return parameter(name).check(value)


def check_all(settings: dict, names: Iterable[str] | None = None) -> dict:
    """Each setting checked (`check`), in order; unknown names are refused."""
    keys = list(settings) if names is None else [k for k in names if k in settings]
    return {k: check(k, settings[k]) for k in keys}


def groups() -> dict[str, list[Parameter]]:
    out: dict[str, list[Parameter]] = {}
    for p in PARAMETERS.values():
        out.setdefault(p.group, []).append(p)
    return out
