"""Networks over agents: kinds, options, determinism, edge-list files, bad parameters."""

import numpy as np
import pytest

from popsim.errors import PopsimError
from popsim.network import NETWORKS, build_network
from popsim.values import ValueProfile


class A:
    def __init__(self, scores):
        self.profile = ValueProfile(tuple(scores))


def agents(n, seed=0):
    rng = np.random.default_rng(seed)
    return [A(rng.normal(size=10)) for _ in range(n)]


@pytest.mark.parametrize("kind", NETWORKS)
def test_every_kind_is_deterministic_under_a_seed(kind):
    ag = agents(30)
    g1 = build_network(kind, ag, rng=np.random.default_rng(5))
    g2 = build_network(kind, ag, rng=np.random.default_rng(5))
    if kind == "none":
        assert g1 is None and g2 is None
        return
    assert sorted(g1.edges) == sorted(g2.edges) and g1.number_of_nodes() == 30
    if kind == "complete":
        assert g1.number_of_edges() == 30 * 29 // 2
    if kind in ("small_world", "scale_free", "value_homophily"):
        g3 = build_network(kind, ag, rng=np.random.default_rng(6))
        assert sorted(g1.edges) != sorted(g3.edges)


def test_small_world_degree_and_scale_free_hubs():
    ag = agents(200)
    sw = build_network("small_world", ag, rng=np.random.default_rng(1), k=6, p=0.0)
    assert all(d == 6 for _, d in sw.degree)
    sf = build_network("scale_free", ag, rng=np.random.default_rng(1), m=2)
    degrees = sorted((d for _, d in sf.degree), reverse=True)
    assert degrees[0] > 4 * np.median(degrees)  # hubs


def test_value_homophily_ties_similar_profiles():
    ag = agents(150, seed=3)
    prof = np.array([a.profile.scores for a in ag])
    prof = prof - prof.mean(1, keepdims=True)
    sim = np.corrcoef(prof)

    def mean_tie_similarity(g):
        return np.mean([sim[i, j] for i, j in g.edges])

    strong = build_network("value_homophily", ag, rng=np.random.default_rng(1), k=4, strength=8.0)
    none = build_network("value_homophily", ag, rng=np.random.default_rng(1), k=4, strength=0.0)
    assert mean_tie_similarity(strong) > mean_tie_similarity(none) + 0.3
    assert abs(mean_tie_similarity(none)) < 0.1


def test_edge_list_file(tmp_path):
    f = tmp_path / "edges.txt"
    f.write_text("source,target\n0 1\n1,2\n# comment\n2 3\n")
    g = build_network(str(f), agents(4), rng=np.random.default_rng(0))
    assert sorted(g.edges) == [(0, 1), (1, 2), (2, 3)]
    f.write_text("0 1\n1 9\n")
    with pytest.raises(PopsimError, match="line 2: agent index out of range"):
        build_network(str(f), agents(4), rng=np.random.default_rng(0))
    f.write_text("0 1\n1 x\n")
    with pytest.raises(PopsimError, match="line 2: expected two agent indices"):
        build_network(str(f), agents(4), rng=np.random.default_rng(0))


@pytest.mark.parametrize("kind,opts,msg", [
    ("small_world", {"k": 1}, "2 <= k"), ("small_world", {"p": 2}, "rewiring probability"),
    ("scale_free", {"m": 0}, "1 <= m"), ("value_homophily", {"strength": -1}, "strength must be >= 0"),
    ("complete", {"k": 3}, "takes no option 'k'"), ("ring", {}, "unknown network 'ring'"),
])
def test_bad_network_parameters(kind, opts, msg):
    with pytest.raises(PopsimError, match=msg):
        build_network(kind, agents(10), rng=np.random.default_rng(0), **opts)
