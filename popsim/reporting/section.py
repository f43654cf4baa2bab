"""The base of every part of the run record (`record.py`, `card_record.py`): `Section`, a dataclass read from and
written back to a JSON table (typed fields, None where a run has no such number, undeclared keys kept in `extra`),
and `Rows`, a table of the record (a list of row dicts; `rows.frame()` is the tidy DataFrame).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

import pandas as pd

from ..errors import PopsimError


class Rows(list):
    """A table of the record: a list of row dicts."""

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame; None (JSON null) is NaN in numeric columns."""
        df = pd.DataFrame(list(self))
        for c in df.columns:
            if df[c].map(lambda x: x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))).all():
                df[c] = pd.to_numeric(df[c], errors="coerce")
        return df


@dataclass(kw_only=True)
class Section:
    """Base of every section: typed fields (None where a run has no such number) and the undeclared rest."""

    extra: dict = field(default_factory=dict)
    #: the declared keys the source had (a key written as null is written back as null)
    present: frozenset = field(default=frozenset(), repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Any, where: str = "metrics.json"):
        if data is None:
            return None
        if not isinstance(data, dict):
            raise PopsimError(f"{where} is not a table in the record; rebuild the run's metrics with popsim report RUN")
        hints = _hints(cls)
        known = {f.name for f in fields(cls)} - {"extra", "present"}
        kwargs = {name: _typed(hints[name], data[name], f"{where}.{name}") for name in known if name in data}
        return cls(**kwargs, extra={k: v for k, v in data.items() if k not in known},
                   present=frozenset(k for k in data if k in known))

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):
            if f.name in ("extra", "present"):
                continue
            value = getattr(self, f.name)
            if value is not None or f.name in self.present:
                out[f.name] = value.to_dict() if isinstance(value, Section) else (
                    list(value) if isinstance(value, Rows) else value)
        return {**out, **self.extra}


@lru_cache(maxsize=None)
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _typed(hint, value, where: str):
    """A raw JSON value as the field's type: a Section, Rows, or the value itself."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
        else (hint,)
    for t in options:
        if isinstance(t, type) and issubclass(t, Section):
            return t.from_dict(value, where)
        if t is Rows:
            return None if value is None else Rows(value)
    return value
