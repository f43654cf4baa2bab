"""The data that flows between prompts, engine and backends: `Ask` in, `OptionDistribution` out."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .errors import PopsimError

#: the JSON of `Ask.canonical` (what cache keys hash: never change its output)
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_encode = json.encoder.encode_basestring  # a JSON string literal, as that encoder writes it (C implementation)


@lru_cache(maxsize=4096)
def _encoded_message(role: str, content: str) -> str:
    """A persona message as JSON (the same persona object comes back for each of its items)."""
    return f"[{_encode(role)},{_encode(content)}]"

try:  # answers to and from the cache: the fast parser when installed (any JSON reads back the same floats)
    import orjson

    _loads = orjson.loads

    def _dumps(obj) -> str:
        return orjson.dumps(obj).decode()
except ImportError:  # pragma: no cover
    _loads = json.loads

    def _dumps(obj) -> str:
        return json.dumps(obj, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Message:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Ask:
    """One question to one persona.

    `options` are the answers as the model must write them ("1".."6", "Yes"/"No"), in the order the
    prompt lists them. `answer_prefix` is the start of the assistant's turn ("Answer:"), used where the
    backend can prefill it (embedded model, completions endpoints). `sample` is a replicate index for
    free-text sampling; it enters the cache key.
    """

    messages: tuple[Message, ...]
    options: tuple[str, ...]
    answer_prefix: str = "Answer:"
    sample: int = 0

    def __post_init__(self):
        if len(self.options) < 2:
            raise PopsimError("an ask needs at least two answer options")
        if len(set(self.options)) != len(self.options):
            raise PopsimError(f"answer options must be distinct, got {self.options}")

    def canonical(self) -> str:
        """The ask as compact JSON (what its cache key hashes): `{"m":[[role,content],...],"o":[...],"p":...,"s":n}`.
        Written out by hand, byte for byte what `json.dumps(..., ensure_ascii=False, separators=(",", ":"))`
        gives (tests/test_cache_engine.py), with the persona's encoding reused across its items."""
        try:
            if type(self.sample) is int and self.messages:
                *head, last = self.messages
                parts = [_encoded_message(m.role, m.content) for m in head]
                parts.append(f"[{_encode(last.role)},{_encode(last.content)}]")
                return (f'{{"m":[{",".join(parts)}],"o":[{",".join(map(_encode, self.options))}],'
                        f'"p":{_encode(self.answer_prefix)},"s":{self.sample}}}')
        except TypeError:  # not text where text belongs: the general encoder decides
            pass
        return _CANONICAL.encode({"m": [[m.role, m.content] for m in self.messages], "o": list(self.options),
                                  "p": self.answer_prefix, "s": self.sample})

    @property
    def key(self) -> str:
        """Content hash of the ask (prompt, options, prefix, replicate)."""
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

    @property
    def prompt_hash(self) -> str:
        return self.key[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionDistribution:
    """What a backend says about one ask.

    `logprobs[i]` is the model's log-probability of answering `options[i]` (normalised over the whole
    vocabulary, so `validity_mass` = total probability on valid options). For the sampling fallback,
    `logprobs` are log shares of k parsed samples, `n_samples` = k and `n_invalid` the unparseable ones.
    `error` is set (and logprobs are NaN) when the ask could not be answered; the run records it
    as missing with the reason.
    """

    options: tuple[str, ...]
    logprobs: tuple[float, ...]
    method: str = "logprobs"  # "logprobs" | "sample" | "reference" | "missing"
    n_samples: int = 0
    n_invalid: int = 0
    error: str | None = None
    detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def validity_mass(self) -> float:
        if not self.ok:
            return float("nan")
        return float(sum(math.exp(lp) for lp in self.logprobs if lp > -math.inf))

    def probs(self, temperature: float = 1.0) -> np.ndarray:
        """Distribution over the options at `temperature` (0 = the most likely option)."""
        return option_probs(np.asarray(self.logprobs, dtype=float), temperature)

    def to_json(self) -> str:
        return _dumps({"options": list(self.options),
                       "logprobs": [x if type(x) is float and -math.inf < x < math.inf else _enc(x)
                                    for x in self.logprobs],
                       "method": self.method, "n_samples": self.n_samples, "n_invalid": self.n_invalid,
                       "error": self.error, "detail": self.detail})

    @classmethod
    def from_json(cls, text: str) -> "OptionDistribution":
        d = _loads(text)
        return cls(options=tuple(d["options"]), logprobs=tuple(x if type(x) is float else _dec(x) for x in d["logprobs"]),
                   method=d["method"], n_samples=d.get("n_samples", 0), n_invalid=d.get("n_invalid", 0),
                   error=d.get("error"), detail=d.get("detail") or {})

    @classmethod
    def missing(cls, options: tuple[str, ...], reason: str) -> "OptionDistribution":
        return cls(options=options, logprobs=tuple(float("nan") for _ in options), method="missing", error=reason)


def option_probs(logprobs: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Normalise option log-probabilities into a distribution at `temperature`.

    Options the model gave no probability (-inf) get 0. If no option has any mass, the result is
    uniform (and the caller's validity mass of 0 says the model did not answer).
    """
    lp = np.asarray(logprobs, dtype=float)
    if np.isnan(lp).any():
        raise PopsimError("cannot make a distribution from a missing answer")
    finite = np.isfinite(lp)
    if not finite.any():
        return np.full(lp.shape, 1.0 / lp.size)
    if temperature < 0:
        raise PopsimError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        out = np.zeros_like(lp)
        out[int(np.argmax(np.where(finite, lp, -np.inf)))] = 1.0
        return out
    z = np.where(finite, lp / temperature, -np.inf)
    z = z - z[finite].max()
    p = np.exp(z)
    return p / p.sum()


def _enc(x: float):
    return None if math.isnan(x) else ("-inf" if x == -math.inf else float(x))


def _dec(x) -> float:
    if x is None:
        return float("nan")
    if x == "-inf":
        return -math.inf
    return float(x)
