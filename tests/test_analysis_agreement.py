"""popsim.analysis.agreement against hand-checkable values."""

import numpy as np
import pandas as pd
import pytest

from popsim import datasets
from popsim.analysis import agreement_table, correlation_matrix, matrix_agreement, noise_ceiling, randall
from popsim.errors import PopsimError
from popsim.values import CODES10


def sym(cells, labels="ABC"):
    m = pd.DataFrame(np.eye(len(labels)), index=list(labels), columns=list(labels))
    for (a, b), v in cells.items():
        m.loc[a, b] = m.loc[b, a] = v
    return m


def test_identical_matrices_agree_perfectly():
    de = datasets.value_correlation_matrix("DE_ESS9")
    res = matrix_agreement(de, de, n_perm=99, seed=0)
    assert res["n_cells"] == 45 and res["n_perm"] == 99
    assert res["pearson_r"] == pytest.approx(1.0)
    assert res["spearman_rho"] == pytest.approx(1.0)
    assert res["tucker_phi"] == pytest.approx(1.0)
    assert res["procrustes_disparity"] == pytest.approx(0.0, abs=1e-12)
    # no relabeling of DE's values reproduces DE: both permutation p-values are at their floor 1/(1+99)
    assert res["mantel_p"] == pytest.approx(0.01)
    assert res["procrustes_p"] == pytest.approx(0.01)


def test_matrices_are_aligned_by_label():
    de = datasets.value_correlation_matrix("DE_ESS9")
    shuffled = de.loc[list(reversed(CODES10)), list(reversed(CODES10))]
    res = matrix_agreement(shuffled, de, n_perm=19)
    assert res["pearson_r"] == pytest.approx(1.0)
    assert res["procrustes_disparity"] == pytest.approx(0.0, abs=1e-12)


def test_hand_computed_three_variable_agreement():
    # cells (AB, AC, BC): sim x = (.5, .5, 0), human y = (.5, 0, .5)
    # Tucker phi = x.y / sqrt(x.x y.y) = .25 / .5 = 0.5
    # Pearson: centered x = (1/6, 1/6, -1/3), y = (1/6, -1/3, 1/6): r = (-3/36) / (6/36) = -0.5
    # Spearman: ranks (2.5, 2.5, 1) and (2.5, 1, 2.5) have the same pattern: rho = -0.5
    sim = sym({("A", "B"): .5, ("A", "C"): .5, ("B", "C"): 0.0})
    human = sym({("A", "B"): .5, ("A", "C"): 0.0, ("B", "C"): .5})
    res = matrix_agreement(sim, human, n_perm=50, seed=1)
    assert res["n_cells"] == 3
    assert res["tucker_phi"] == pytest.approx(0.5)
    assert res["pearson_r"] == pytest.approx(-0.5)
    assert res["spearman_rho"] == pytest.approx(-0.5)
    # sim is human with A and B swapped: relabelings can reach r = 1, so the Mantel p is large,
    # while the MDS maps (right isosceles triangles) differ in which point is the right-angle corner
    assert res["mantel_p"] > 0.3
    assert res["procrustes_disparity"] > 0.01


def test_matrix_agreement_is_seeded():
    se, us = datasets.value_correlation_matrix("SE_ESS1-8"), datasets.value_correlation_matrix("US_GSS2012")
    assert matrix_agreement(se, us, n_perm=30, seed=3) == matrix_agreement(se, us, n_perm=30, seed=3)


def test_matrix_agreement_rejects_bad_input():
    de = datasets.value_correlation_matrix("DE_ESS9")
    with pytest.raises(PopsimError, match="same variables"):
        matrix_agreement(de.iloc[:9, :9], de)
    broken = de.copy()
    broken.loc["SD", "ST"] = broken.loc["ST", "SD"] = np.nan
    with pytest.raises(PopsimError, match="missing correlation"):
        matrix_agreement(broken, de)
    flat = pd.DataFrame(np.full((10, 10), 0.2) + 0.8 * np.eye(10), index=list(CODES10), columns=list(CODES10))
    with pytest.raises(PopsimError, match="same correlation in every cell"):
        matrix_agreement(flat, de)
    with pytest.raises(PopsimError, match="n_perm"):
        matrix_agreement(de, de, n_perm=0)


def test_noise_ceiling_raw_scoring_and_errors():
    table = noise_ceiling("raw", samples=["SE_ESS1-8", "DE_ESS9"], n_perm=9)
    assert len(table) == 1 and (table["n_cells"] == 45).all()
    assert -1 <= table.loc[0, "pearson_r"] <= 1
    with pytest.raises(PopsimError, match="unknown scoring"):
        noise_ceiling("mrat")
    with pytest.raises(PopsimError, match="at least two"):
        noise_ceiling(samples=["DE_ESS9"])


def test_agreement_table_accepts_an_array_in_circular_order():
    de = datasets.value_correlation_matrix("DE_ESS9")
    table = agreement_table(de.to_numpy(), samples="DE_ESS9", n_perm=9)
    assert list(table.columns[:2]) == ["sample", "n_cells"]
    assert table.loc[0, "pearson_r"] == pytest.approx(1.0)
    with pytest.raises(PopsimError, match="unknown sample"):
        agreement_table(de, samples=["FR_ESS9"])


def test_population_drawn_from_de_reproduces_its_structure():
    # 3000 agents drawn from a normal distribution with DE's centered correlations: the sample matrix
    # estimates DE's (sampling error of r about 1/sqrt(3000) = .018), so it agrees with DE at least as
    # well as another human sample does (SE-DE r = .966) and keeps the circular order.
    de = datasets.value_correlation_matrix("DE_ESS9")
    x = np.random.default_rng(0).multivariate_normal(np.zeros(10), de.to_numpy(), size=3000, method="eigh")
    sim = correlation_matrix(pd.DataFrame(x, columns=list(CODES10)))
    res = matrix_agreement(sim, de, n_perm=49)
    assert res["pearson_r"] > 0.97
    assert abs(randall(sim, n_perm=10)["ci"] - randall(de, n_perm=10)["ci"]) < 0.1


def test_aligned_maps_superimpose_a_matrix_on_itself():
    from popsim.analysis import aligned_maps, mds

    h = datasets.value_correlation_matrix("DE_ESS9", "centered")
    sim_xy, hum_xy = aligned_maps(h, h)
    assert list(sim_xy.columns) == ["value", "x", "y"] and list(sim_xy["value"]) == list(CODES10)
    np.testing.assert_allclose(sim_xy[["x", "y"]], hum_xy[["x", "y"]], atol=1e-12)
    # scipy.spatial.procrustes scales the human map to unit Frobenius norm after centring
    assert np.linalg.norm(hum_xy[["x", "y"]].to_numpy()) == pytest.approx(1.0)
    assert hum_xy[["x", "y"]].mean().abs().max() < 1e-12
    # a mirrored map aligns back onto the human one (reflection allowed)
    raw = mds(h)
    assert not np.allclose(raw[["x", "y"]], hum_xy[["x", "y"]])
