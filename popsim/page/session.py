"""One browser session's simulation: build a model, step it (cancellable), evaluate it.

Pure Python (no solara), so it is testable without a browser. The page calls these methods from a
background thread and renders only the immutable `Snapshot`s they return, never the live model.

- `build(settings)` makes a `PopulationModel` from the settings' plain keyword arguments (the CLI's path);
- `step(on_progress)` runs one round; the engine reports after every chunk of model calls, and
  `cancel()` makes the step stop there (`Cancelled`): the chunk's answers are already cached, the round
  is not recorded, and the model stays as it was before the round, so stepping again resumes quickly;
- `snapshot()` writes the model's tables to a temporary run folder (`runs.write_tables` + a config like
  `runs.execute` writes), calls `report.build_report` on it (so every number and figure is the one the
  CLI report shows) and draws the game views straight from the model.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from typing import TYPE_CHECKING

from ..errors import PopsimError
from .settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from ..reporting.record import Metrics

log = logging.getLogger("popsim.page")

#: pyplot keeps global state: figures of concurrent sessions are drawn one at a time
PLOT_LOCK = threading.Lock()


#: asks per engine chunk for the embedded model on the page (progress is reported, and Cancel acts, per chunk)
CHUNK = 16


class Cancelled(Exception):
    """The user pressed Cancel; the step stopped after the current chunk of model calls."""


@dataclass(frozen=True)
class Progress:
    phase: str
    done: int = 0
    total: int | None = None  # None: not known yet (indeterminate)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass
class Snapshot:
    """What the page shows of a model after a round: plain data and PNG bytes only."""

    settings: Settings
    round: int
    rounds: int
    running: bool
    scenario: str
    engine: str
    agents: pd.DataFrame
    answers: pd.DataFrame
    measured: pd.DataFrame | None = None  # agents x 10 centered values measured in the run (questionnaires)
    metrics: "Metrics | None" = None  # the run's typed record (popsim.reporting.record)
    figures: dict[str, bytes] = field(default_factory=dict)
    report_md: str = ""
    folder: Path | None = None
    evaluation_error: str | None = None
    game: "GameView | None" = None
    stamp: float = field(default_factory=time.time)

    @property
    def sample(self) -> str:
        return self.settings.population


@dataclass
class GameView:
    outcome: str
    endowment: float
    per_round: pd.DataFrame  # round (1-based), mean_share, sd_share, n
    last: pd.DataFrame  # agent, top, share (last round)
    reference: dict
    value_r: pd.DataFrame | None = None  # analysis.value_share_correlations: value, r, p, q, expected_sign, sign_ok
    rounds_png: bytes | None = None
    network_png: bytes | None = None


#: CLI flags in library messages -> the page's controls
def _page_words() -> dict[str, str]:
    """The flags of the settings the page has controls for, as the page names those controls."""
    from dataclasses import fields

    from ..parameters import PARAMETERS

    words = {PARAMETERS[f.name].flag: PARAMETERS[f.name].label for f in fields(Settings) if f.name in PARAMETERS}
    words["--api-key-file"] = "the API key variable"  # the page reads keys from the environment only
    return words


PAGE_WORDS = _page_words()
_FLAG = re.compile(r"(?<![\w-])(" + "|".join(re.escape(f) for f in PAGE_WORDS) + r")(?![\w-])")


def describe_error(exc: BaseException) -> str:
    """One line for the page: a `PopsimError`'s own message (CLI flags named as the page's controls), else the
    exception type and text (no traceback)."""
    if isinstance(exc, PopsimError):
        return _FLAG.sub(lambda m: PAGE_WORDS[m.group(1)], str(exc))
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (f"unexpected error ({type(exc).__name__}{': ' + text[:300] if text else ''}); the page is still usable, "
            "and the details are in the server log")


class Session:
    def __init__(self, *, cache_path=None):
        self.cache_path = cache_path
        self.model = None
        self.settings: Settings | None = None
        self.folder: Path | None = None
        self.started = 0.0
        self._cancel = threading.Event()
        self._on_progress: Callable[[Progress], None] | None = None
        self._phase = ""

    # ------------------------------------------------------------------ lifecycle
    def build(self, settings: Settings) -> None:
        """A new model from `settings` (raises `PopsimError` for a bad setting; the old model then stays)."""
        from ..model import PopulationModel

        settings.check()
        kwargs = settings.model_kwargs(self.cache_path)
        cache = Path(kwargs["cache_path"])
        cache.parent.mkdir(parents=True, exist_ok=True)
        model = PopulationModel(**kwargs)
        if model.engine is not None:
            model.engine.on_progress = self._engine_progress
            if getattr(model.backend, "name", "") == "embedded" and getattr(model.backend, "chunk_size", 0) > CHUNK:
                model.backend.chunk_size = CHUNK  # finer progress, and Cancel acts sooner
        self.attach(model, settings)

    def attach(self, model, settings: Settings) -> None:
        """Take over a model built elsewhere (Mesa's SolaraViz builds its own) and evaluate it like a built one."""
        self.close()
        self.model, self.settings = model, settings
        self.folder = Path(tempfile.mkdtemp(prefix="popsim-page-"))
        self.started = time.time()

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.model = self.folder = None

    def cancel(self) -> None:
        self._cancel.set()

    def shutdown(self) -> None:
        """The browser session ended: stop a running step after its chunk, remove the temporary folder."""
        self.cancel()
        self.close()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self.model is not None and bool(self.model.running)

    # ------------------------------------------------------------------ stepping
    def _engine_progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(Progress(self._phase, done, total))
        if self._cancel.is_set():
            raise Cancelled()

    def step(self, on_progress: Callable[[Progress], None] | None = None) -> None:
        """One round. Raises `Cancelled` when cancelled (the round is then not recorded)."""
        if self.model is None:
            raise PopsimError("no model yet: press Reset (or Step) to build one from the settings")
        if not self.model.running:
            raise PopsimError(f"the scenario has finished ({self.model.round} of {self.model.scenario.rounds} rounds); "
                              "press Reset for a new run")
        self._on_progress = on_progress
        self._phase = f"round {self.model.round + 1} of {self.model.scenario.rounds}: asking the model"
        if on_progress is not None:
            on_progress(Progress(self._phase))
        if self._cancel.is_set():
            raise Cancelled()
        self.model.step()

    def clear_cancel(self) -> None:
        self._cancel.clear()

    # ------------------------------------------------------------------ evaluation
    def snapshot(self) -> Snapshot:
        from ..reporting.runs import load_run, write_tables

        m = self.model
        if m is None:
            raise PopsimError("no model yet: press Reset (or Step) to build one from the settings")
        answers = m.answers_frame()
        agents = m.agents_frame()
        snap = Snapshot(settings=self.settings, round=m.round, rounds=m.scenario.rounds, running=bool(m.running),
                        scenario=m.scenario.name, engine=m.engine.stats.line() if m.engine else
                        "no model calls (reference respondents)", agents=agents, answers=answers, folder=self.folder)
        if not len(answers):
            return snap
        try:
            write_tables(self.folder, m)
            (self.folder / "config.json").write_text(json.dumps(run_config(m, self.started, self.settings.scenario_options()), indent=2, default=str),
                                                     encoding="utf-8")
            run = load_run(self.folder)
            if run.scores is not None and len(run.scores):
                snap.measured = run.centered("sampled")
        except Exception as exc:  # noqa: BLE001 - shown in the page, logged in full
            log.exception("writing the run tables failed")
            snap.evaluation_error = describe_error(exc)
            return snap
        snap.game = game_view(m, self.folder / "live")
        try:
            from ..reporting.report import build_report

            with PLOT_LOCK:
                snap.metrics = build_report(self.folder)
            snap.report_md = (self.folder / "report.md").read_text(encoding="utf-8")
            for name, rel in (snap.metrics.figures or {}).items():
                f = self.folder / rel
                if f.exists():
                    snap.figures[name] = f.read_bytes()
        except Exception as exc:  # noqa: BLE001
            log.exception("evaluating the run failed")
            snap.evaluation_error = "the evaluation against the human reference failed: " + describe_error(exc)
        return snap


def run_config(model, started: float, scenario_options: dict | None = None) -> dict:
    """The config.json `runs.execute` writes, for a model the page is stepping."""
    from ..reporting.runs import run_identity, run_record

    return run_record(model, started, identity=run_identity(model, scenario_options),
                      command="solara run app.py (popsim page)")


def game_view(model, folder: Path) -> GameView | None:
    """Contribution per round and the network, drawn from the live model with `popsim.reporting.figures`
    (the numbers from `popsim.analysis.games`, as in the run report)."""
    from .. import analysis
    from ..reporting import figures

    d = model.scenario.describe()
    outcome = d.get("outcome")
    if not outcome:
        return None
    endowment = float(d.get("endowment") or 1)
    shares = analysis.game_shares(model.answers_frame(), outcome, endowment)
    if not len(shares):
        return None
    per_round = analysis.per_round_shares(shares)
    per_round["sd_share"] = per_round["sd_share"].fillna(0.0)  # one agent: no spread to draw
    agents = model.agents_frame()
    last_round = shares[shares["round"] == shares["round"].max()].set_index("agent")["share"]
    last = agents[["agent", "top"]].assign(share=agents["agent"].map(last_round))
    view = GameView(outcome=outcome, endowment=endowment, per_round=per_round, last=last,
                    reference=d.get("human_reference") or {},
                    value_r=analysis.value_share_correlations(agents, analysis.agent_shares(shares),
                                                              d.get("expected_signs") or {}))
    folder.mkdir(parents=True, exist_ok=True)
    with PLOT_LOCK:
        p = figures.rounds(per_round, folder / "rounds.png", reference=view.reference,
                           ylabel=f"share of endowment ({outcome})")
        view.rounds_png = p.read_bytes()
        if model.graph is not None and model.graph.number_of_nodes() <= 400:
            p = figures.network(model.graph, agents, {int(k): float(v) for k, v in last_round.items()},
                                folder / "network.png")
            view.network_png = p.read_bytes()
    return view


def profile_table(snap: Snapshot) -> pd.DataFrame:
    """Per value: the human centered mean and SD, the drawn population's profile mean, the measured mean."""
    from .. import datasets
    from ..values import CODES10, NAMES

    human = datasets.value_stats(snap.sample).set_index("value")
    out = pd.DataFrame({"value": list(CODES10), "name": [NAMES[c] for c in CODES10]})
    out["human_mean"] = out["value"].map(human["centered_mean"])
    out["human_sd"] = out["value"].map(human["centered_sd"])
    out["population_mean"] = [float(snap.agents[c].mean()) for c in CODES10]
    if snap.measured is not None and len(snap.measured):
        out["measured_mean"] = [float(np.nanmean(snap.measured[c])) for c in CODES10]
    return out
