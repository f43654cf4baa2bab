"""A backend served by several Ray actors, each holding its own copy of another backend.

`make_backend("embedded", ray_workers=4, ray_address="HOST:PORT")` (CLI: `--ray-workers 4 --ray-address
HOST:PORT`) starts 4 actors on a Ray cluster (or on a local Ray instance without an address), each
running the embedded model in its own process on its own cores. The engine hands over chunks as
usual; the pool splits every chunk by persona (a persona's asks stay together, so each actor reuses
its prefix) over the actors, least-loaded first, and waits for all of them. One population's model
calls thus run on as many machines as the cluster has.

The pool answers under the inner backend's name, model and fingerprint: an answer does not depend on
which process computed it (tests/test_scaling.py), so cache keys, run identities and every number are
those of the inner backend alone.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

from ..asks import Ask, OptionDistribution
from ..errors import PopsimError

#: the options of the pool itself; everything else goes to the inner backend
POOL_OPTIONS: tuple[str, ...] = ("ray_workers", "ray_address", "ray_cpus")
POLL = 0.25  # seconds between fetching the answers that arrived on the actors


def init_ray(address: str | None, num_cpus: int, *, flag: str = "--address") -> bool:
    """Connect to the Ray cluster at `address` (or start a local instance with `num_cpus`); True if this call
    started Ray. An address that does not answer within 5 s is refused at once (Ray itself retries for minutes)."""
    import socket

    import ray

    if ray.is_initialized():
        return False
    if address and address != "auto":
        host, _, port = address.split("://")[-1].rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
        except (OSError, ValueError) as exc:
            raise PopsimError(f"cannot reach the Ray cluster at {address} ({exc}); check {flag} (HOST:PORT of the "
                              "head node, e.g. 10.0.0.5:6379)") from None
    try:
        ray.init(address=address, num_cpus=None if address else num_cpus, include_dashboard=False,
                 log_to_driver=False, ignore_reinit_error=True,
                 runtime_env={"env_vars": {k: v for k, v in os.environ.items() if k.startswith("POPSIM_")}})
    except ConnectionError as exc:
        raise PopsimError(f"cannot connect to the Ray cluster at {address}: {exc}; check {flag}") from None
    return True


class _Worker:
    """One actor: one inner backend, built in the actor's process. The actor runs two calls at once, so that
    `drain` can hand over the answers that arrived while `option_distributions` is still working."""

    def __init__(self, name: str, options: dict):
        import threading

        from . import make_backend

        self.backend, self.error = None, None
        self._arrived: list[tuple[int, str]] = []
        self._lock = threading.Lock()
        try:
            self.backend = make_backend(name, **options)
        except PopsimError as exc:  # reported by `info`, as one line, not as the actor's traceback
            self.error = str(exc)

    def info(self) -> dict:
        if self.error is not None:
            return {"error": self.error}
        b = self.backend
        return {"name": b.name, "model": b.model, "fingerprint": b.fingerprint(), "describe": b.describe(),
                "chunk_size": int(getattr(b, "chunk_size", 64))}

    def option_distributions(self, asks: list[Ask]) -> list[str] | PopsimError:
        def arrived(i: int, d: OptionDistribution) -> None:
            with self._lock:
                self._arrived.append((i, d.to_json()))

        with self._lock:
            self._arrived = []  # (the pool drained the last call to its end)

        try:
            return [d.to_json() for d in self.backend.option_distributions(asks, on_answer=arrived)]
        except PopsimError as exc:  # handed back as it is: the user's error, not a crash of the worker
            return exc

    def count_tokens(self, asks: list[Ask]) -> tuple[int, str] | PopsimError:
        try:
            return self.backend.count_tokens(asks)
        except PopsimError as exc:
            return exc

    def drain(self) -> list[tuple[int, str]]:
        """The answers (index in the last call, JSON) that arrived since the last drain."""
        with self._lock:
            out, self._arrived = self._arrived, []
        return out


class RayPool:
    def __init__(self, inner: str, *, ray_workers: int = 2, ray_address: str | None = None, ray_cpus: int = 1,
                 **inner_options):
        try:
            import ray
        except ImportError:
            raise PopsimError("--ray-workers needs Ray: pip install 'popsim[ray]' (or ray)") from None
        if not isinstance(ray_workers, int) or isinstance(ray_workers, bool) or ray_workers < 1:
            raise PopsimError(f"ray_workers must be a whole number of at least 1, got {ray_workers!r}")
        if not isinstance(ray_cpus, int) or isinstance(ray_cpus, bool) or ray_cpus < 1:
            raise PopsimError(f"ray_cpus must be a whole number of at least 1, got {ray_cpus!r}")
        if inner == "embedded":
            inner_options.setdefault("n_threads", ray_cpus)  # each actor uses the cores Ray gave it, no more
        self.ray, self.address = ray, ray_address
        self.started_here = init_ray(ray_address, ray_workers * ray_cpus, flag="--ray-address")
        actor = ray.remote(num_cpus=ray_cpus, max_concurrency=2)(_Worker)
        self.actors = [actor.remote(inner, inner_options) for _ in range(ray_workers)]
        infos = ray.get([a.info.remote() for a in self.actors])
        failed = [i["error"] for i in infos if "error" in i]
        if failed:
            self.close()
            raise PopsimError(f"the {inner} backend could not start on a Ray worker: {failed[0]}")
        first = infos[0]
        self.inner, self.workers, self.address = inner, ray_workers, ray_address
        self.name, self.model = first["name"], first["model"]
        self._fingerprint, self._describe = first["fingerprint"], first["describe"]
        if any(i["fingerprint"] != self._fingerprint or i["model"] != self.model for i in infos):
            raise PopsimError("the Ray workers do not run the same model build (fingerprints differ): install the "
                              "same popsim and llama-cpp-python on every node")
        self.chunk_size = first["chunk_size"] * ray_workers
        self.load = [0] * ray_workers  # asks given to each actor so far

    def fingerprint(self) -> dict:
        return dict(self._fingerprint)

    def describe(self) -> dict:
        return {**self._describe, "ray": {"workers": self.workers, "address": self.address or "local"}}

    def _split(self, asks: Sequence[Ask]) -> list[list[int]]:
        """Ask indices per actor: whole personas, the largest first, each to the actor with the least work."""
        groups: dict[tuple, list[int]] = {}
        for i, a in enumerate(asks):
            groups.setdefault(a.messages[:-1], []).append(i)
        share: list[list[int]] = [[] for _ in self.actors]
        work = [0] * len(self.actors)
        for idx in sorted(groups.values(), key=len, reverse=True):
            k = min(range(len(self.actors)), key=lambda j: (work[j], self.load[j]))
            share[k].extend(idx)
            work[k] += len(idx)
        for k, n in enumerate(work):
            self.load[k] += n
        return share

    def option_distributions(self, asks: Sequence[Ask], *,
                             on_answer: Callable[[int, OptionDistribution], None] | None = None
                             ) -> list[OptionDistribution]:
        """Each actor's share at once; with `on_answer`, the answers that arrived are fetched from the actors
        every `POLL` seconds and reported (so that the engine stores them while the actors work)."""
        asks = list(asks)
        share = self._split(asks)
        running = {actor.option_distributions.remote([asks[i] for i in idx]): (actor, idx)
                   for actor, idx in zip(self.actors, share) if idx}
        out: list[OptionDistribution | None] = [None] * len(asks)

        def report(idx: list[int], pairs) -> None:
            for j, text in pairs:
                if out[idx[j]] is None:
                    out[idx[j]] = OptionDistribution.from_json(text)
                    if on_answer is not None:
                        on_answer(idx[j], out[idx[j]])

        while running:
            done, _ = self.ray.wait(list(running), num_returns=len(running), timeout=POLL)
            for fut in done:
                actor, idx = running.pop(fut)
                report(idx, enumerate(_result(self.ray.get(fut))))
            if on_answer is not None and running:
                polls = [(idx, actor.drain.remote()) for actor, idx in running.values()]
                for idx, fut in polls:
                    report(idx, self.ray.get(fut))
        return out

    def count_tokens(self, asks: Sequence[Ask]) -> tuple[int, str]:
        """Counted by one actor (every actor runs the same model)."""
        return tuple(_result(self.ray.get(self.actors[0].count_tokens.remote(list(asks)))))

    def close(self):
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self.started_here and self.address is None:
            self.ray.shutdown()


def _result(value):
    if isinstance(value, PopsimError):
        raise value
    return value
