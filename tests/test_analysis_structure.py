"""popsim.analysis.structure against hand-checkable values."""

import numpy as np
import pandas as pd
import pytest

from popsim.analysis import angular_order, correlation_matrix, distances, higher_order_scores, mds, randall
from popsim.errors import PopsimError
from popsim.values import CODES10


def circulant(k=10, labels=CODES10):
    """r_ij = cos(2 pi (i - j) / k): the correlations of k points evenly spaced on a circle (a perfect
    circumplex). Its distances sqrt(2 (1 - r)) are the chords of the unit circle."""
    i = np.arange(k)
    r = np.cos(2 * np.pi * (i[:, None] - i[None, :]) / k)
    return pd.DataFrame(r, index=list(labels)[:k], columns=list(labels)[:k])


def scores(**cols):
    return pd.DataFrame({c: cols.get(c, [0.0, 1.0, 0.0, 1.0, 0.5]) for c in CODES10})


def test_correlation_matrix_known_cells_and_order():
    u = [1.0, 2.0, 3.0, 4.0, 5.0]
    df = scores(SD=u, ST=[2.0, 4.0, 6.0, 8.0, 10.0], UN=[5.0, 4.0, 3.0, 2.0, 1.0],
                HE=[1.0, -1.0, 0.0, 1.0, -1.0])  # HE: sum of (u - 3) * HE = -2 + 1 + 0 + 1 - 2 = -2
    df = df[list(reversed(CODES10))]  # column order of the input does not matter
    m = correlation_matrix(df)
    assert list(m.index) == list(CODES10) and list(m.columns) == list(CODES10)
    assert m.loc["SD", "ST"] == pytest.approx(1.0)
    assert m.loc["SD", "UN"] == pytest.approx(-1.0)
    # r = -2 / sqrt(10 * 4) = -0.316228
    assert m.loc["SD", "HE"] == pytest.approx(-2 / np.sqrt(40))
    np.testing.assert_allclose(np.diag(m), 1.0)


def test_correlation_matrix_is_pairwise_complete():
    df = scores(SD=[1.0, 2.0, 3.0, 4.0, 5.0], AC=[2.0, 4.0, 6.0, 8.0, np.nan], PO=[9.0, 4.0, 6.0, 8.0, 1.0])
    m = correlation_matrix(df)
    assert m.loc["SD", "AC"] == pytest.approx(1.0)  # the 4 agents with both values lie on a line
    # a value without variance has no correlations
    assert np.isnan(correlation_matrix(scores(SE=[1.0] * 5)).loc["SE", "SD"])


@pytest.mark.parametrize("bad, message", [
    (scores().assign(XX=1.0), "unknown value code 'XX'"),
    (scores().drop(columns="TR"), "lacks the values TR"),
    (scores().assign(CO=np.nan), "NaN-only"),
    (scores().iloc[:2], "at least 3"),
    (scores(SD=["a", 1.0, 2.0, 3.0, 4.0]), "non-numeric"),
])
def test_correlation_matrix_rejects_bad_tables(bad, message):
    with pytest.raises(PopsimError, match=message):
        correlation_matrix(bad)


def test_higher_order_scores_are_group_means():
    # values 1..10 in circular order: Openness (SD ST HE) = 2, Self-Enhancement (AC PO) = 4.5,
    # Conservation (SE CO TR) = 7, Self-Transcendence (BE UN) = 9.5
    one = pd.DataFrame([np.arange(1.0, 11.0)], columns=list(CODES10), index=["a1"])
    out = higher_order_scores(one)
    assert out.loc["a1"].to_dict() == {"Openness to Change": 2.0, "Self-Enhancement": 4.5,
                                       "Conservation": 7.0, "Self-Transcendence": 9.5}


def test_distances_formula():
    d = distances(circulant())
    # neighbours on the 10-gon: chord 2 sin(pi/10) = sqrt(2 (1 - cos 36 deg)) = 0.618034
    assert d.loc["SD", "ST"] == pytest.approx(2 * np.sin(np.pi / 10))
    assert d.loc["SD", "SE"] == pytest.approx(2.0)  # opposite points: r = -1 -> d = 2


@pytest.mark.parametrize("method", ["classical", "smacof"])
def test_mds_recovers_the_regular_decagon(method):
    out = mds(circulant(), method=method, seed=0)
    assert list(out.columns) == ["value", "x", "y"] and list(out["value"]) == list(CODES10)
    radius = np.hypot(out["x"] - out["x"].mean(), out["y"] - out["y"].mean())
    np.testing.assert_allclose(radius, 1.0, atol=1e-3 if method == "smacof" else 1e-9)
    assert angular_order(out) == list(CODES10)
    key = "eigenvalues" if method == "classical" else "stress"
    assert key in out.attrs


def test_mds_classical_eigenvalues_of_decagon():
    # 10 unit-circle points: the double-centered matrix has two eigenvalues k/2 = 5 (sum of cos^2 = 5)
    out = mds(circulant(), method="classical")
    np.testing.assert_allclose(out.attrs["eigenvalues"], [5.0, 5.0])


def test_mds_on_matrices_that_are_not_positive_semidefinite():
    # r13 = -.9 while r12 = r23 = .9 breaks the triangle inequality (d13 = 1.95 > d12 + d23 = 0.89):
    # classical MDS has one positive dimension (a line, flat y); SMACOF, from seeded random starts, uses both
    r = np.array([[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]])
    assert (mds(r)["y"] == 0).all()
    smacof = mds(r, method="smacof", seed=1)
    assert smacof["y"].abs().max() > 0.1
    pd.testing.assert_frame_equal(smacof, mds(r, method="smacof", seed=1))
    # two negative eigenvalues: no real 4-D configuration of these 5 variables
    five = np.array([[1.0, 0.6, -0.6, 0.6, -0.6], [0.6, 1.0, 0.7, 0.8, -0.1], [-0.6, 0.7, 1.0, 0.4, 0.7],
                     [0.6, 0.8, 0.4, 1.0, 0.9], [-0.6, -0.1, 0.7, 0.9, 1.0]])
    with pytest.raises(PopsimError, match="negative eigenvalues"):
        mds(five, n_components=4)


def test_mds_rejects_bad_input():
    with pytest.raises(PopsimError, match="unknown MDS method"):
        mds(circulant(), method="tsne")
    with pytest.raises(PopsimError, match="n_components"):
        mds(circulant(), n_components=10)
    with pytest.raises(PopsimError, match="square"):
        mds(np.ones((3, 4)))


def test_angular_order_orientation_and_start():
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False) + 1.0  # SD is not at angle 0
    ccw = pd.DataFrame({"value": list(CODES10), "x": np.cos(angles), "y": np.sin(angles)})
    assert angular_order(ccw) == list(CODES10)
    mirrored = ccw.assign(y=-ccw["y"])  # clockwise: reversed, and oriented back to the theory
    assert angular_order(mirrored) == list(CODES10)
    # swap SE and CO: the order shows the swap, and still starts at SD
    swapped = ccw.copy()
    swapped.loc[[5, 6], "value"] = ["CO", "SE"]
    assert angular_order(swapped) == ["SD", "ST", "HE", "AC", "PO", "CO", "SE", "TR", "BE", "UN"]
    # indexed by value works too
    assert angular_order(ccw.set_index("value")) == list(CODES10)


def test_randall_perfect_circumplex_has_ci_one():
    res = randall(circulant(), n_perm=200, seed=0)
    assert (res["ci"], res["agreements"], res["violations"], res["ties"], res["predictions"]) == (1.0, 800, 0, 0, 800)
    # 800 = pairs of cells at different circular distances: 6 pairs of the four 10-cell classes (d = 1..4)
    # x 100 + 4 x 10 x 5 against the 5 cells at d = 5
    assert res["p"] == pytest.approx(1 / 201)
    assert randall(circulant(), n_perm=200, seed=0) == res  # seeded


def test_randall_hand_computed_four_variables():
    # Order A B C D. Neighbours (d = 1): AB .5, BC .5, CD .5, DA .1; opposite (d = 2): AC .3, BD .1.
    # 4 x 2 = 8 predictions: 6 agree (.5 > .3 and .5 > .1, three times), DA .1 < AC .3 violates,
    # DA .1 = BD .1 is a tie. CI = (6 - 1) / 8 = 0.625.
    r = pd.DataFrame(np.eye(4), index=list("ABCD"), columns=list("ABCD"))
    for (a, b), v in {("A", "B"): .5, ("B", "C"): .5, ("C", "D"): .5, ("D", "A"): .1,
                      ("A", "C"): .3, ("B", "D"): .1}.items():
        r.loc[a, b] = r.loc[b, a] = v
    res = randall(r, list("ABCD"), n_perm=100)
    assert (res["agreements"], res["violations"], res["ties"], res["predictions"]) == (6, 1, 1, 8)
    assert res["ci"] == pytest.approx(0.625)
    # reversing the order describes the same circle
    assert randall(r, list("DCBA"), n_perm=100)["ci"] == pytest.approx(0.625)


def test_randall_exact_permutation_p():
    # 5 variables on a perfect circle: 5! = 120 relabelings, of which the 10 symmetries of the pentagon
    # (5 rotations x 2 directions) keep CI = 1; exact p = 10/120.
    res = randall(circulant(5, "ABCDE"), list("ABCDE"), n_perm=1000)
    assert res["predictions"] == 25 and res["ci"] == 1.0
    assert res["n_perm"] == 120
    assert res["p"] == pytest.approx(10 / 120)


def test_randall_rejects_bad_input():
    with pytest.raises(PopsimError, match="unknown variable"):
        randall(circulant(), ["SD", "ST", "HE", "XX"])
    with pytest.raises(PopsimError, match="at least 4"):
        randall(circulant(), ["SD", "ST", "HE"])
    with pytest.raises(PopsimError, match="symmetric"):
        randall(circulant() + np.triu(np.full((10, 10), 0.01), 1))
