"""popsim: simulate human populations with value-prompted LLM agents on Mesa, and compare them with human data.

The public API (docs/api.md); everything else is reachable through its module. Names load when first used
(PEP 562), so `import popsim` stays light: pandas, Mesa and the model load with the first name that needs them.

- `PopulationModel`, `ValueAgent`: the Mesa model and its agents (configured by plain keyword arguments);
- `ValueProfile`, `draw_population`: value profiles and populations drawn from human survey distributions;
- `load_scenario`: a built-in scenario by name, or a scenario file;
- `make_backend`, `Engine`, `Cache`: where answers come from (embedded model, OpenAI-compatible server, scripted
  test double), the engine that deduplicates and batches a step's asks, and the answer cache;
- `run` (`popsim.reporting.runs.execute`): run a scenario on a population and write its run folder;
  `load_run` reads one back (`Run`); `build_report`, `compare_runs`: its report, several runs side by side;
- `run_sweep`: a sensitivity study (a grid of settings x seeds);
- `analysis`, `datasets`: analysis functions (tidy DataFrames in and out) and the human reference data;
- `samples`: every human sample, shipped or imported (`samples.import_sample`, `list_samples`, `load_sample`);
- `PopsimError`: what every user error raises (its message says what to fix).
"""

from importlib import import_module

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (type checkers read this name)

#: public name -> (module, attribute; None: the module itself)
_EXPORTS: dict[str, tuple[str, str | None]] = {
    "PopulationModel": ("popsim.model", "PopulationModel"),
    "ValueAgent": ("popsim.agents", "ValueAgent"),
    "ValueProfile": ("popsim.values", "ValueProfile"),
    "draw_population": ("popsim.population", "draw_population"),
    "load_scenario": ("popsim.scenario", "load_scenario"),
    "make_backend": ("popsim.backends", "make_backend"),
    "Engine": ("popsim.engine", "Engine"),
    "Cache": ("popsim.cache", "Cache"),
    "run": ("popsim.reporting.runs", "execute"),
    "load_run": ("popsim.reporting.run_folder", "load_run"),
    "Run": ("popsim.reporting.run_folder", "Run"),
    "build_report": ("popsim.reporting.report", "build_report"),
    "compare_runs": ("popsim.reporting.report", "compare_runs"),
    "run_sweep": ("popsim.studies.sweep", "run_sweep"),
    "analysis": ("popsim.analysis", None),
    "datasets": ("popsim.datasets", None),
    "samples": ("popsim.samples", None),
    "PopsimError": ("popsim.errors", "PopsimError"),
}

__all__ = ["Cache", "Engine", "PopsimError", "PopulationModel", "Run", "ValueAgent", "ValueProfile", "analysis",
           "build_report", "compare_runs", "datasets", "draw_population", "load_run", "load_scenario",
           "make_backend", "run", "run_sweep", "samples"]


def __getattr__(name: str):
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'popsim' has no attribute {name!r}") from None
    value = import_module(module) if attr is None else getattr(import_module(module), attr)
    globals()[name] = value  # the next look-up is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from . import analysis, datasets, samples
    from .agents import ValueAgent
    from .backends import make_backend
    from .cache import Cache
    from .engine import Engine
    from .errors import PopsimError
    from .model import PopulationModel
    from .population import draw_population
    from .reporting.report import build_report, compare_runs
    from .reporting.run_folder import Run, load_run
    from .reporting.runs import execute as run
    from .scenario import load_scenario
    from .studies.sweep import run_sweep
    from .values import ValueProfile
