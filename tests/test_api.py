"""The public API (`popsim/__init__.py`) and its page, docs/api.md, whose example is run here."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import popsim

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)


def test_the_documented_examples_run_and_print_what_the_page_shows(tmp_path, monkeypatch, capsys):
    text = DOC.read_text(encoding="utf-8")
    code, shown = blocks(text, "python"), blocks(text, "text")
    assert len(code) == len(shown) == 2, "docs/api.md: each python example is followed by a text block of its output"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__api_example__"}
    for example, output in zip(code, shown):  # the second example continues the first
        exec(compile(example, str(DOC), "exec"), namespace)
        assert capsys.readouterr().out == output
    assert (tmp_path / "runs" / "api-example" / "report.md").is_file() and (tmp_path / "answers.sqlite").is_file()


def test_every_public_name_loads_and_is_documented():
    first_cells = re.findall(r"^\| (.+?) \|", DOC.read_text(encoding="utf-8"), flags=re.M)
    documented = {name for cell in first_cells for name in re.findall(r"`(\w+)", cell)}
    assert set(popsim.__all__) <= documented, set(popsim.__all__) - documented
    assert sorted(popsim.__all__) == sorted(popsim._EXPORTS)
    for name in popsim.__all__:
        assert getattr(popsim, name) is not None and name in dir(popsim)
    from popsim.reporting.runs import execute

    assert popsim.run is execute and popsim.analysis.correlation_matrix and popsim.datasets.list_datasets


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Model'"):
        popsim.Model  # noqa: B018
    assert not hasattr(popsim, "execute")


def test_import_popsim_stays_light():
    """The names load on first use: importing the package loads none of pandas, numpy, Mesa or the model."""
    code = ("import sys, popsim; heavy = [m for m in ('pandas', 'numpy', 'mesa', 'popsim.model', 'llama_cpp') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "import popsim; popsim.PopulationModel; import sys; print('mesa' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "True"
