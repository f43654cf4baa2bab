"""A wheel built from the repo is complete: installed into a fresh virtual environment outside the checkout, every
module imports, `popsim datasets` runs, and `popsim page` serves the installed page, which the browser test drives.

The fresh environment gets popsim from the wheel only; its dependencies are borrowed from this environment's
site-packages through a path entry, and their data files (etc/, share/) through links (so the test needs no
downloads; the checkout's editable install is not activated there, because path entries do not run .pth files)."""

import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh venv's bin folder, a working folder outside the checkout) with the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp.glob("popsim-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    package_dirs = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "popsim").rglob("__init__.py")}
    for folder in package_dirs:  # every package of the source tree (the page included) is in the wheel
        assert f"{folder}/__init__.py" in names, folder
    for f in ("popsim/human_data/values.json", "popsim/human_data/README.md", "popsim/scenarios/public_goods.py",
              "popsim/scenarios/TEMPLATE.py", "popsim/page/app.py", "popsim/studies/replicate_plan.toml"):
        assert f in names, f
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    for data in ("etc", "share"):  # the dependencies' data files (Jupyter's config for Solara, its asset cache)
        if (Path(sys.prefix) / data).is_dir():
            (venv / data).symlink_to(Path(sys.prefix) / data)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True, timeout=300)
    work = tmp / "elsewhere"
    work.mkdir()
    return venv / "bin", work


@pytest.mark.slow
def test_every_module_imports_from_the_installed_wheel(installed):
    bin_, work = installed
    code = ("import importlib, pkgutil, popsim; assert 'site-packages' in popsim.__file__, popsim.__file__; "
            "mods = [m.name for m in pkgutil.walk_packages(popsim.__path__, 'popsim.') if '__main__' not in m.name]; "
            "[importlib.import_module(m) for m in mods]; "
            "from popsim.model import PopulationModel; "
            "m = PopulationModel(n_agents=3, policy='reference', scenario='ess21', rng=1).run(); "
            "print(len(mods), len(m.answers_frame()))")
    res = subprocess.run([str(bin_ / "python"), "-c", code], capture_output=True, text=True, cwd=work, timeout=300,
                         env={**os.environ, "PYTHONPATH": ""})
    assert res.returncode == 0, res.stderr[-2000:]
    n_modules, n_answers = map(int, res.stdout.split())
    assert n_modules > 60 and n_answers == 63


@pytest.mark.slow
def test_popsim_datasets_runs_from_the_installed_wheel(installed):
    bin_, work = installed
    res = subprocess.run([str(bin_ / "popsim"), "datasets"], capture_output=True, text=True, cwd=work, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "value_stats" in res.stdout and "persona_statements" in res.stdout


@pytest.mark.browser
def test_popsim_page_serves_the_installed_page_and_the_browser_test_runs_against_it(installed, tmp_path):
    bin_, work = installed
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    log = open(tmp_path / "page.log", "w")
    proc = subprocess.Popen([str(bin_ / "popsim"), "page", "--port", str(port)], cwd=work, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, "POPSIM_CACHE": str(tmp_path / "c.sqlite")})
    try:
        deadline, status = time.time() + 120, None
        while status != 200:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    status = r.status
            except OSError:
                assert proc.poll() is None and time.time() < deadline, (tmp_path / "page.log").read_text()[-2000:]
                time.sleep(0.5)
        browser = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                  str(ROOT / "tests" / "test_app.py"), "-k", "bad_settings"],
                                 capture_output=True, text=True, cwd=ROOT, timeout=900,
                                 env={**os.environ, "POPSIM_PAGE_URL": url})
        assert browser.returncode == 0, browser.stdout[-3000:]
        assert "1 passed" in browser.stdout
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
