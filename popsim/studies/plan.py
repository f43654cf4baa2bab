"""Study plans as data: a TOML file of scales, named lists and run templates, expanded into the runs of a study.

The paper's replication ships its plan as `replicate_plan.toml` next to this module (read by
`studies/replicate.py`); the format is described at the top of that file. `load_plan()` reads and checks it;
`StudyPlan.tasks(scale, stage=..., **values)` expands its run templates into tasks, the dicts
`{"name", "point", "scenario_options"}` that `sweep.run_point` runs.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import PopsimError, unknown

REPLICATE_PLAN = "replicate_plan.toml"
RUN_KEYS = {"name", "stage", "for", "point", "with", "scenario_options"}
_MISSING = object()
_FIELD = re.compile(r"\{([\w.]+)\}")


@dataclass(frozen=True)
class StudyPlan:
    """A plan read from TOML: `scales` (name -> sizes), `values` (the file's other top-level entries: named
    lists and tables such as the paper's figures), `base` (settings every run starts from), `runs` (templates)."""

    scales: dict[str, dict]
    values: dict
    base: dict
    runs: list[dict]
    source: str = REPLICATE_PLAN

    def tasks(self, scale: str, *, stage: int = 1, **values) -> list[dict]:
        """The runs of `stage` at `scale`, in the file's order. `values` are what the templates may name besides
        the scale and the file's lists (e.g. `backend`, `seeds`, `accuracy`); they take precedence."""
        if scale not in self.scales:
            raise unknown("scale", scale, self.scales)
        env = {**self.values, **self.scales[scale], **values}
        out = []
        for run in self.runs:
            if run.get("stage", 1) != stage:
                continue
            loops = {var: self._resolve(ref, env, run) for var, ref in run.get("for", {}).items()}
            for combo in itertools.product(*loops.values()):
                local = {**env, **dict(zip(loops, combo))}
                point = {**self._table(self.base, local, run), **self._table(run.get("point", {}), local, run)}
                if "with" in run:
                    change = self._resolve(run["with"], local, run)
                    if not isinstance(change, dict):
                        raise PopsimError(f"{self.source}: run {run['name']!r}: `with` must name a table of settings, "
                                          f"got {change!r}")
                    point.update(change)
                name = _FIELD.sub(lambda m: str(self._resolve("$" + m.group(1), local, run)), run["name"])
                out.append({"name": name, "point": point,
                            "scenario_options": self._table(run.get("scenario_options", {}), local, run)})
        return out

    def _table(self, table: dict, env: dict, run: dict) -> dict:
        """A table with its references resolved; an entry whose value is absent (or None) is left out."""
        resolved = {k: self._resolve(v, env, run, optional=True) for k, v in table.items()}
        return {k: v for k, v in resolved.items() if v is not _MISSING and v is not None}

    def _resolve(self, value, env: dict, run: dict, *, optional: bool = False):
        if isinstance(value, dict):
            return self._table(value, env, run)
        if isinstance(value, list):
            return [self._resolve(v, env, run) for v in value]
        if not (isinstance(value, str) and value.startswith("$")):
            return value
        head, *fields = value[1:].split(".")
        got = env.get(head, _MISSING)
        for f in fields:
            got = got.get(f, _MISSING) if isinstance(got, dict) else _MISSING
        if got is _MISSING:
            known = set(env).union(*self.scales.values())
            if optional and head in known:  # defined, but not here (e.g. at another scale): the entry is left out
                return _MISSING
            raise PopsimError(f"{self.source}: run {run.get('name')!r} refers to {value}, which is not defined here; "
                              f"name one of: {', '.join(sorted(known))}")
        return self._resolve(got, env, run, optional=optional)


def load_plan(source: str | Path | None = None) -> StudyPlan:
    """Read a plan file (default: the replication's, shipped in the package) and check its shape."""
    if source is None:
        text, where = resources.files(__package__).joinpath(REPLICATE_PLAN).read_text(encoding="utf-8"), REPLICATE_PLAN
    else:
        text, where = Path(source).read_text(encoding="utf-8"), str(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PopsimError(f"study plan {where} is not valid TOML ({exc}); fix that line") from None
    scales, base, runs = data.pop("scales", None), data.pop("base", {}), data.pop("runs", None)
    if not isinstance(scales, dict) or not scales or not all(isinstance(s, dict) for s in scales.values()):
        raise PopsimError(f"study plan {where} has no [scales.NAME] tables; add at least one")
    if not isinstance(runs, list) or not runs:
        raise PopsimError(f"study plan {where} has no [[runs]]; add at least one")
    for i, run in enumerate(runs, 1):
        extra = sorted(set(run) - RUN_KEYS)
        if extra:
            raise unknown(f"key in [[runs]] number {i} of {where}:", extra[0], sorted(RUN_KEYS))
        if not isinstance(run.get("name"), str):
            raise PopsimError(f"study plan {where}: [[runs]] number {i} needs a name, e.g. name = \"rq1-{{style}}\"")
    return StudyPlan(scales=scales, values=data, base=base, runs=runs, source=where)
