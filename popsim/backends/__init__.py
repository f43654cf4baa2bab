"""Backends: where option distributions come from. One small protocol, three implementations.

- `embedded`: SmolLM2-135M-Instruct in-process through llama.cpp (`EmbeddedBackend`);
- `openai`: any OpenAI-compatible server (vLLM, Ollama, llama.cpp server, hosted APIs) (`OpenAIBackend`);
- `scripted`: a deterministic test double (`ScriptedBackend`), never evidence that the LLM path works.

Any of them can be served by several Ray actors on a cluster (`ray_workers=N`: `ray_pool.RayPool`).

`make_backend(name, **settings)` builds one from plain values (the path the CLI, Solara page and
sweeps use). Implementations are imported lazily so that `import popsim` stays light.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

from ..asks import Ask, OptionDistribution
from ..errors import unknown

BACKENDS: tuple[str, ...] = ("embedded", "openai", "scripted")


@runtime_checkable
class Backend(Protocol):
    name: str  # "embedded", "openai", "scripted": enters cache keys and run records
    model: str  # the model's identity (file or served name)
    chunk_size: int  # how many asks the engine hands over at once (progress is reported after each chunk)

    def fingerprint(self) -> dict:
        """Everything besides the ask that changes an answer (enters the cache key)."""

    def option_distributions(self, asks: Sequence[Ask], *,
                             on_answer: Callable[[int, OptionDistribution], None] | None = None
                             ) -> list[OptionDistribution]:
        """The probability of each option of each ask, in the order given. `on_answer(i, distribution)` is
        called as each answer arrives (from any thread), so that the engine can store it at once; a backend
        without the keyword is cached chunk by chunk."""

    def describe(self) -> dict:
        """What the run record says about this backend (never a secret)."""


def backend_class(name: str) -> type:
    if name == "embedded":
        from .embedded import EmbeddedBackend

        return EmbeddedBackend
    if name == "openai":
        from .openai_compat import OpenAIBackend

        return OpenAIBackend
    if name == "scripted":
        from .scripted import ScriptedBackend

        return ScriptedBackend
    raise unknown("backend", name, BACKENDS)


def backend_options(name: str) -> list[str]:
    """The options (keyword arguments) a backend takes."""
    import inspect

    params = inspect.signature(backend_class(name).__init__).parameters.values()
    return [p.name for p in params if p.name != "self" and p.kind is not p.VAR_KEYWORD]


def check_backend_options(name: str, options: dict) -> None:
    """Refuse an option the backend does not take, by name, without building the backend (no model loaded).
    The Ray pool's options (`ray_workers`, `ray_address`, `ray_cpus`) go with any backend."""
    from .ray_pool import POOL_OPTIONS

    known = backend_options(name) + list(POOL_OPTIONS)
    for key in options:
        if key not in known:
            raise unknown(f"{name} backend option", key, known)


def make_backend(name: str = "embedded", **settings) -> Backend:
    """A backend from plain values; with `ray_workers` (and optionally `ray_address`, `ray_cpus`), a pool of
    that many Ray actors each running the backend (`ray_pool.RayPool`)."""
    cls = backend_class(name)
    check_backend_options(name, settings)
    if settings.get("ray_workers"):
        from .ray_pool import RayPool

        return RayPool(name, **settings)
    for key in ("ray_workers", "ray_address", "ray_cpus"):
        settings.pop(key, None)
    return cls(**settings)


__all__ = ["Backend", "BACKENDS", "make_backend", "Ask", "OptionDistribution"]
