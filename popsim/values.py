"""The Schwartz values: 10 basic and 19 refined, circular order, higher-order groups, profiles.

Codes follow the literature (SD ST HE AC PO SE CO TR BE UN; SDT SDA ... UNT). Definitions are
Schwartz's (1992, 2012) as shipped in `human_data/values.json`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from . import datasets
from .errors import PopsimError, unknown

_DOC = datasets.values_json()

#: the 10 basic values in circular order (Schwartz 1992): SD ST HE AC PO SE CO TR BE UN
CODES10: tuple[str, ...] = tuple(_DOC["circular_order_10"])
#: the 19 refined values in circular order (Schwartz et al. 2012)
CODES19: tuple[str, ...] = tuple(_DOC["circular_order_19"])

NAMES: dict[str, str] = {v["code"]: v["name"] for v in _DOC["values10"]}
NAMES19: dict[str, str] = {v["code"]: v["name"] for v in _DOC["values19"]}
DEFINITIONS: dict[str, str] = {v["code"]: v["definition"] for v in _DOC["values10"]}
DEFINITIONS19: dict[str, str] = {v["code"]: v["definition"] for v in _DOC["values19"]}
#: 19-value code -> its 10-value parent (Face has none)
PARENT10: dict[str, str | None] = {v["code"]: v["parent10"] for v in _DOC["values19"]}

#: the four higher-order values; HE is grouped with Openness to Change as ESS and the PVQ-40 key do
HIGHER_ORDER: dict[str, tuple[str, ...]] = {
    k: tuple(v) for k, v in _DOC["higher_order_10"].items() if k != "note"
}

#: the value primed in the paper's prompt, as a noun phrase ("a person who greatly values power")
VALUE_NOUNS: dict[str, str] = {
    "SD": "self-direction", "ST": "stimulation", "HE": "hedonism", "AC": "achievement", "PO": "power",
    "SE": "security", "CO": "conformity", "TR": "tradition", "BE": "benevolence", "UN": "universalism",
}


def check_value(code: str, *, level: int = 10) -> str:
    codes = CODES10 if level == 10 else CODES19
    if code not in codes:
        raise unknown("value code", code, codes, hint="Value codes follow Schwartz: SD ST HE AC PO SE CO TR BE UN.")
    return code


def definition_phrase(code: str) -> str:
    """Definition as a phrase to follow 'You value ...' (lower-case start, no final period)."""
    text = DEFINITIONS[check_value(code)].rstrip(".")
    # 'Independent thought and action: choosing, ...' -> 'independent thought and action: choosing, ...'
    return text[0].lower() + text[1:]


def circular_distance(a: str, b: str) -> int:
    """Steps between two values around the 10-value circle (0..5)."""
    i, j = CODES10.index(check_value(a)), CODES10.index(check_value(b))
    d = abs(i - j)
    return min(d, len(CODES10) - d)


@dataclass(frozen=True, slots=True)
class ValueProfile:
    """A person's 10 centered value scores (value score minus the person's mean rating, MRAT).

    `scores[i]` belongs to `CODES10[i]`. Positive = more important than the person's average value.
    """

    scores: tuple[float, ...]
    mrat: float = float("nan")
    codes: tuple[str, ...] = field(default=CODES10)

    def __post_init__(self):
        if len(self.scores) != len(self.codes):
            raise PopsimError(f"a value profile needs {len(self.codes)} scores, got {len(self.scores)}")
        if not all(map(math.isfinite, self.scores)):
            raise PopsimError("a value profile has a missing or non-finite score; give all 10 values a number")

    @classmethod
    def from_mapping(cls, scores: Mapping[str, float], mrat: float = float("nan")) -> "ValueProfile":
        missing = [c for c in CODES10 if c not in scores]
        extra = [c for c in scores if c not in CODES10]
        if extra:
            raise unknown("value code", extra[0], CODES10)
        if missing:
            raise PopsimError(f"value profile is missing {', '.join(missing)}; give all 10 values")
        return cls(tuple(float(scores[c]) for c in CODES10), mrat)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.codes, self.scores))

    def dominant(self, tol: float = 1e-9) -> str | None:
        """The single highest value, or None when the top is tied (no single dominant value)."""
        s = np.asarray(self.scores)
        top = s.max()
        if np.sum(s >= top - tol) > 1:
            return None
        return self.codes[int(s.argmax())]

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.as_dict().items(), key=lambda kv: -kv[1])


def dominant_values(centered: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Row-wise single top value code of an (n, 10) centered matrix; '' where the top is tied."""
    centered = np.asarray(centered, dtype=float)
    top = centered.max(axis=1, keepdims=True)
    n_top = (centered >= top - tol).sum(axis=1)
    codes = np.array(CODES10, dtype=object)[centered.argmax(axis=1)]
    codes[n_top > 1] = ""
    return codes
