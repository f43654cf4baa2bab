"""The one markdown-table renderer (`popsim.reporting.markdown`) and its three users: run reports, study
summaries and the page. Expected texts are written out by hand from the rules in the module's docstring."""

import numpy as np
import pandas as pd
import pytest

from popsim.page.views import frame_markdown
from popsim.reporting.markdown import NO_ROWS, cell, markdown_table, table_lines


@pytest.mark.parametrize("value, digits, expected", [
    (None, 2, "n/a"), (float("nan"), 2, "n/a"), (float("inf"), 3, "n/a"), (np.float32("nan"), 2, "n/a"),
    (pd.NA, 2, "n/a"), (True, 2, "True"), (np.bool_(False), 2, "False"), (3, 2, "3"), (np.int64(-7), 3, "-7"),
    (0.12345, 2, "0.12"), (0.12345, 3, "0.123"), (np.float32(0.25), 3, "0.250"), (2.0, 0, "2"),
    (0.5, None, "0.5"), (1.0, None, "1.0"), ("SD", 2, "SD"), ("a|b", 2, "a/b"), ([1, 2], 2, "[1, 2]"),
])
def test_cell(value, digits, expected):
    assert cell(value, digits) == expected


def test_missing_text_is_configurable():
    assert cell(float("nan"), None, missing="") == "" and cell(None, 2, missing="-") == "-"


def test_table_lines_selects_columns_and_ends_with_a_blank_line():
    df = pd.DataFrame({"value": ["SD", "ST"], "r": [0.12345, np.nan], "n": [3, 4]})
    assert table_lines(df, ["value", "r", "absent"], 3) == [
        "| value | r | absent |", "|---|---|---|", "| SD | 0.123 | n/a |", "| ST | n/a | n/a |", ""]
    assert table_lines(df.iloc[:0], ["value"]) == ["| value |", "|---|", ""]  # a report keeps the header


def test_markdown_table_text_empty_and_max_rows():
    df = pd.DataFrame({"x": range(5), "y": [True, False, True, False, True]})
    assert markdown_table(df, max_rows=2) == "| x | y |\n|---|---|\n| 0 | True |\n| 1 | False |"
    assert markdown_table(None) == NO_ROWS == markdown_table(pd.DataFrame())
    assert markdown_table(pd.DataFrame(), empty="none") == "none"


def test_the_page_table_is_the_shared_renderer_with_the_page_defaults():
    df = pd.DataFrame({"value": ["SD", "ST"], "r": [0.12345, float("nan")], "n": [3, 4], "note": ["a|b", None]})
    assert frame_markdown(df) == markdown_table(df, digits=3) == (
        "| value | r | n | note |\n|---|---|---|---|\n| SD | 0.123 | 3 | a/b |\n| ST | n/a | 4 | n/a |")
    assert frame_markdown(pd.DataFrame({"x": range(100)})).count("\n") == 61  # header, separator, 60 rows


def test_sweep_summary_table(tmp_path):
    """Settings as given (0.5 stays 0.5), preformatted cells as they are, a metric a setting lacks left blank."""
    from popsim.studies.sweep import summary_markdown

    spec = {"name": "t", "scenario": "ess21", "fixed": {}, "grid": {"temperature": [0.5, 1.0], "seed": [1, 2]}}
    summary = pd.DataFrame([
        {"temperature": 0.5, "metric": "structure_r", "n_seeds": 2, "mean": 0.61, "low": 0.5, "high": 0.72},
        {"temperature": 1.0, "metric": "structure_r", "n_seeds": 2, "mean": 0.4, "low": np.nan, "high": np.nan},
        {"temperature": 1.0, "metric": "items_js", "n_seeds": 2, "mean": 0.2, "low": 0.1, "high": 0.3}])
    text = summary_markdown(spec, summary, pd.DataFrame({"status": ["done"] * 4}))
    assert ("| temperature | structure_r | seeds | items_js |\n|---|---|---|---|\n"
            "| 0.5 | 0.610 [0.500, 0.720] | 2 |  |\n| 1.0 | 0.400 | 2 | 0.200 [0.100, 0.300] |\n\n![summary]") in text


def test_run_report_tables_come_from_the_renderer(tmp_path):
    """A reference run's report shows its value means exactly as the renderer draws metrics.json's records."""
    from popsim.reporting.runs import execute

    res = execute(tmp_path / "run", scenario="ess21", policy="reference", n_agents=12, rng=1, progress=False,
                  figures=False)
    means = pd.DataFrame(res.metrics.values.means)
    expected = "\n".join(table_lines(means, ["value", "sim_mean", "low", "high", "human_mean"]))
    assert expected.startswith("| value | sim_mean |") and expected in res.report.read_text()
