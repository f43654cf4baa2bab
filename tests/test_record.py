"""The typed run record (`popsim.reporting.record`): sections by attribute, a schema version, and one-line errors for
older or foreign records."""

import json

import pytest

from popsim.errors import PopsimError
from popsim.reporting.evaluation import evaluate
from popsim.reporting.record import SCHEMA, Metrics, Rows
from popsim.reporting.run_folder import load_run
from popsim.reporting.runs import execute

from cli_run import run_cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("rec") / "r"
    execute(path, scenario="ess_attitudes", policy="reference", n_agents=60, rng=4, progress=False, figures=False)
    return path


def test_the_record_round_trips_and_reads_by_attribute(run):
    raw = evaluate(load_run(run), n_boot=50, n_perm=49)
    m = Metrics.of(raw)
    assert m.to_dict() == raw  # nothing lost, nothing added
    assert m.schema == SCHEMA == raw["schema"]
    assert m.values.agreement.pearson_r == raw["values"]["agreement"]["pearson_r"]
    assert isinstance(m.values.means, Rows) and list(m.values.means.frame()["value"])[:2] == ["SD", "ST"]
    assert m.behaviour.value_behaviour_summary.pearson_r > 0.5
    assert m.game is None and m.statements is None  # sections a run does not have
    assert m.headline.as_dict()["structure_r"] == m.values.agreement.pearson_r


def test_keys_a_newer_writer_adds_are_kept(run):
    data = json.loads((run / "metrics.json").read_text())
    data["values"]["agreement"]["new_statistic"] = 0.5
    data["fidelity"] = {"simbench_score": 42.0}
    m = Metrics.of(data)
    assert m.values.agreement.extra == {"new_statistic": 0.5} and m.extra["fidelity"]["simbench_score"] == 42.0
    assert m.to_dict() == data


@pytest.mark.parametrize("change, words", [
    (lambda d: d.pop("schema"), "has metrics schema 1 (this popsim reads schema 2)"),
    (lambda d: d.update(schema=99), "has metrics schema 99"),
    (lambda d: d.clear() or d.update(name="something else"), "is not a popsim run record"),
])
def test_older_or_foreign_records_are_refused_in_one_line(run, tmp_path, change, words, capsys):
    other = tmp_path / "old"
    other.mkdir()
    for f in run.iterdir():
        if f.is_file():
            (other / f.name).write_bytes(f.read_bytes())
    data = json.loads((other / "metrics.json").read_text())
    change(data)
    (other / "metrics.json").write_text(json.dumps(data))
    with pytest.raises(PopsimError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Metrics.load(other)
    code, _, err = run_cli(["compare", str(run), str(other)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and f"popsim report {other}" in err
    code, _, _ = run_cli(["report", str(other)], capsys)  # the fix the message names works
    assert code == 0 and Metrics.load(other).schema == SCHEMA


def test_a_missing_or_damaged_record(tmp_path):
    with pytest.raises(PopsimError, match="has no metrics.json"):
        Metrics.load(tmp_path)
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(PopsimError, match="is damaged"):
        Metrics.load(tmp_path)
