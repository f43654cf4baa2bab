"""Social networks over the agents (networkx graphs on agent indices 0..n-1).

- `none`: no ties (scenarios that need groups fall back to fixed groups);
- `complete`: everybody is tied to everybody;
- `small_world`: Watts-Strogatz, `k` neighbours (default 4), rewiring probability `p` (default 0.1);
- `scale_free`: Barabasi-Albert, `m` edges per new node (default 2);
- `value_homophily`: each agent gets ties to `k` others (default 4) drawn with probability
  proportional to exp(`strength` x similarity), similarity = Pearson r of the two centered value
  profiles; strength 0 is a random graph of the same density;
- a path to an edge list (two columns of agent indices, whitespace or comma separated, # comments).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import networkx as nx
import numpy as np

from .errors import PopsimError, unknown

NETWORKS: tuple[str, ...] = ("none", "complete", "small_world", "scale_free", "value_homophily")

_OPTIONS = {"none": set(), "complete": set(), "small_world": {"k", "p"}, "scale_free": {"m"},
            "value_homophily": {"k", "strength"}, "file": set()}


def build_network(kind: str, agents: Sequence, *, rng: np.random.Generator, **options) -> nx.Graph | None:
    n = len(agents)
    is_file = kind not in NETWORKS and (kind.endswith((".txt", ".csv", ".edges", ".edgelist")) or "/" in kind)
    if kind not in NETWORKS and not is_file:
        raise unknown("network", kind, NETWORKS, hint="Or pass the path of an edge-list file.")
    allowed = _OPTIONS["file" if is_file else kind]
    extra = sorted(set(options) - allowed)
    if extra:
        raise PopsimError(f"network {kind!r} takes no option {extra[0]!r}; it takes: {', '.join(sorted(allowed)) or 'none'}")
    for key, value in options.items():
        want = float if key in ("p", "strength") else int
        try:
            number = want(value)
            if want is int and number != float(value):
                raise ValueError
        except (TypeError, ValueError):
            kind_word = "a number" if want is float else "a whole number"
            raise PopsimError(f"network option {key}={value!r} of {kind!r} must be {kind_word}, e.g. "
                              f"{key}={'0.1' if want is float else '4'}") from None
        options[key] = number
    seed = int(rng.integers(2**31))
    if kind == "none":
        return None
    if kind == "complete":
        return nx.complete_graph(n)
    if kind == "small_world":
        k, p = int(options.get("k", 4)), float(options.get("p", 0.1))
        if not 2 <= k < n:
            raise PopsimError(f"small_world needs 2 <= k < number of agents ({n}), got k={k}")
        if not 0 <= p <= 1:
            raise PopsimError(f"small_world rewiring probability p must be in [0, 1], got {p}")
        return nx.connected_watts_strogatz_graph(n, k, p, tries=200, seed=seed)
    if kind == "scale_free":
        m = int(options.get("m", 2))
        if not 1 <= m < n:
            raise PopsimError(f"scale_free needs 1 <= m < number of agents ({n}), got m={m}")
        return nx.barabasi_albert_graph(n, m, seed=seed)
    if kind == "value_homophily":
        return homophily_graph(agents, k=int(options.get("k", 4)), strength=float(options.get("strength", 5.0)),
                               rng=rng)
    return read_edge_list(Path(kind), n)


def homophily_graph(agents: Sequence, *, k: int, strength: float, rng: np.random.Generator) -> nx.Graph:
    n = len(agents)
    if not 1 <= k < n:
        raise PopsimError(f"value_homophily needs 1 <= k < number of agents ({n}), got k={k}")
    if strength < 0:
        raise PopsimError(f"value_homophily strength must be >= 0, got {strength}")
    prof = np.array([a.profile.scores for a in agents], dtype=float)
    prof = prof - prof.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(prof, axis=1, keepdims=True)
    norm[norm == 0] = 1
    sim = (prof / norm) @ (prof / norm).T
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for i in range(n):
        w = np.exp(strength * sim[i])
        w[i] = 0
        need = k - g.degree(i)
        if need <= 0:
            continue
        w[[j for j in g.neighbors(i)]] = 0
        choose = rng.choice(n, size=min(need, int((w > 0).sum())), replace=False, p=w / w.sum())
        g.add_edges_from((i, int(j)) for j in choose)
    return g


def read_edge_list(path: Path, n: int) -> nx.Graph:
    if not path.is_file():
        raise PopsimError(f"edge-list file {path} does not exist; pass none, complete, small_world, scale_free, "
                          "value_homophily or a file of 'i j' lines")
    g = nx.Graph()
    g.add_nodes_from(range(n))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise PopsimError(f"edge-list file {path} is not UTF-8 text") from exc
    for lineno, line in enumerate(lines, 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        parts = line.replace(",", " ").split()
        try:
            i, j = int(parts[0]), int(parts[1])
        except (ValueError, IndexError):
            if lineno == 1:
                continue  # a header line
            raise PopsimError(f"{path} line {lineno}: expected two agent indices, got {line!r}") from None
        if not (0 <= i < n and 0 <= j < n):
            raise PopsimError(f"{path} line {lineno}: agent index out of range 0..{n - 1} ({i}, {j}); "
                              "use as many agents as the file names or fix the file")
        if i != j:
            g.add_edge(i, j)
    return g
