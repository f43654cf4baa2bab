"""A wheel built from the repo carries human_data and scenarios and works outside the checkout."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_includes_data_and_scenarios_and_runs(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("popsim-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for f in ("popsim/human_data/values.json", "popsim/human_data/README.md", "popsim/human_data/persona_statements.jsonl",
              "popsim/scenarios/public_goods.py", "popsim/scenarios/TEMPLATE.py", "popsim/cli/__init__.py"):
        assert f in names, f
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    code = ("import popsim.datasets as d, popsim.scenario as s; from popsim.model import PopulationModel;"
            "assert 'site' in d.data_path('values.json').parts;"
            "m = PopulationModel(n_agents=3, policy='reference', scenario='ess21', rng=1).run();"
            "print(len(m.answers_frame()), s.load_scenario('public_goods').name)")
    # the installed wheel first on the path, then the venv's dependencies; run outside the checkout
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-S", "-c", f"import site; site.main(); import sys; "
                          f"sys.path.insert(0, {str(target)!r}); {code}"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["63", "public_goods"]
