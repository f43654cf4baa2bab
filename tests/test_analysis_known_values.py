"""Known-value tests of popsim.analysis against the human reference pack (human_data/).

The expected numbers were computed independently from the same ESS/GSS microdata that produced
the reference pack (centered scores, theoretical order SD-ST-HE-AC-PO-SE-CO-TR-BE-UN, classical
MDS on distances sqrt(2(1-r))), and the human-to-human agreement is quoted from
/work/shared/reference/SOURCES.md ("Facts worth knowing").
"""

import pytest

from popsim import datasets
from popsim.analysis import agreement_table, matrix_agreement, noise_ceiling, randall
from popsim.values import CODES10


def test_randall_de_ess9_centered():
    # Source: independent recomputation from ESS round 9 microdata (DE, centered matrix):
    # CI = 0.797 with 719 agreements and 81 violations of 800 predictions (638/800 = 0.7975).
    res = randall(datasets.value_correlation_matrix("DE_ESS9", "centered"), CODES10, n_perm=5000, seed=0)
    assert (res["agreements"], res["violations"], res["ties"], res["predictions"]) == (719, 81, 0, 800)
    assert res["ci"] == pytest.approx(638 / 800)
    assert round(res["ci"], 3) == 0.797
    # no random relabeling of 10 values fits the circle this well (Hubert & Arabie 1987 test)
    assert res["p"] == pytest.approx(1 / 5001)


def test_randall_se_ess1_8_centered():
    # Source: independent recomputation from the ESS cumulative file rounds 1-8 (SE, centered): CI = 0.748.
    res = randall(datasets.value_correlation_matrix("SE_ESS1-8", "centered"), n_perm=2000, seed=0)
    assert round(res["ci"], 3) == 0.748
    assert res["predictions"] == 800
    assert res["agreements"] - res["violations"] == pytest.approx(0.748 * 800, abs=0.5)
    assert res["p"] < 0.001


def test_se_vs_de_pearson_and_procrustes():
    # Source: independent recomputation from the microdata: Pearson r over the 45 off-diagonal cells of
    # the centered matrices SE vs DE = 0.966; scipy.spatial.procrustes disparity of the 2-D classical MDS
    # configurations SE vs DE = 0.021.
    res = matrix_agreement(datasets.value_correlation_matrix("SE_ESS1-8"),
                           datasets.value_correlation_matrix("DE_ESS9"), n_perm=199, seed=0)
    assert res["n_cells"] == 45
    assert res["pearson_r"] == pytest.approx(0.966, abs=5e-4)
    assert res["procrustes_disparity"] == pytest.approx(0.021, abs=5e-4)
    assert res["mantel_p"] == pytest.approx(1 / 200)
    assert res["procrustes_p"] == pytest.approx(1 / 200)


def test_noise_ceiling_matches_sources_md():
    # Source: SOURCES.md, "Facts worth knowing": human-to-human agreement of the centered 10x10 matrices
    # (Pearson r over the 45 off-diagonal cells): SE-DE .97, DE-US .96, SE-US .94.
    table = noise_ceiling("centered", n_perm=99, seed=0)
    got = {(r.sample_a, r.sample_b): round(r.pearson_r, 2) for r in table.itertuples()}
    assert got == {("SE_ESS1-8", "DE_ESS9"): 0.97, ("DE_ESS9", "US_GSS2012"): 0.96,
                   ("SE_ESS1-8", "US_GSS2012"): 0.94}
    assert list(table.columns[:2]) == ["sample_a", "sample_b"]


def test_agreement_table_with_a_human_matrix_as_sim():
    # A "simulation" that reproduces DE exactly agrees perfectly with DE and reaches the SE-DE noise
    # ceiling (0.966 above) against SE.
    table = agreement_table(datasets.value_correlation_matrix("DE_ESS9"), n_perm=49, seed=0).set_index("sample")
    assert list(table.index) == list(datasets.SAMPLES)
    assert table.loc["DE_ESS9", "pearson_r"] == pytest.approx(1.0)
    assert table.loc["DE_ESS9", "procrustes_disparity"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["SE_ESS1-8", "pearson_r"] == pytest.approx(0.966, abs=5e-4)
