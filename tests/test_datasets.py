"""The human_data API: every dataset listed with provenance, every file loads tidy, bad names list choices."""

import pandas as pd
import pytest

from popsim import datasets
from popsim.errors import PopsimError


def test_list_datasets_has_provenance_for_every_file():
    df = datasets.list_datasets()
    assert list(df.columns) == ["name", "description", "sample", "n", "file", "source", "citation", "license"]
    assert (df[["source", "citation", "license"]] != "").all().all()
    shipped = {p.name for p in datasets.data_path("values.json").parent.iterdir()
               if p.suffix in (".csv", ".json", ".jsonl")}
    assert set(df["file"]) == shipped  # nothing shipped without an entry
    assert "PVQ" in df.set_index("name").loc["instrument_items", "license"]


@pytest.mark.parametrize("name", list(datasets.list_datasets()["name"]))
def test_every_dataset_loads_as_a_tidy_frame(name):
    df = datasets.load(name)
    assert isinstance(df, pd.DataFrame) and len(df) > 0


def test_loaders_by_sample_and_known_facts():
    assert len(datasets.value_stats("DE_ESS9")) == 10
    m = datasets.value_correlation_matrix("SE_ESS1-8", "raw")
    assert m.shape == (10, 10) and (m.to_numpy().diagonal() == 1).all()
    shares = datasets.item_answer_shares("US_GSS2012")
    assert shares.groupby("item")["share"].sum().between(0.99, 1.01).all()
    top = datasets.top_value_shares("DE_ESS9").set_index("top_value")["share"]
    assert top["TIED"] == pytest.approx(0.434)
    beh = datasets.behavior_items().set_index("var")
    assert beh.loc["lrscale", "codes"] == list(range(11)) and len(beh) == 14
    assert len(datasets.persona_statements()) == 1600
    assert len(datasets.ess11_country_means()) == 23


def test_bad_names_list_what_exists():
    with pytest.raises(PopsimError, match="unknown dataset 'value_stat'.*did you mean 'value_stats'.*choose one of"):
        datasets.load("value_stat")
    with pytest.raises(PopsimError, match="unknown sample 'DE_ESS8'.*DE_ESS9"):
        datasets.value_stats("DE_ESS8")
    with pytest.raises(PopsimError, match="unknown scoring"):
        datasets.value_correlations("DE_ESS9", "centred")
