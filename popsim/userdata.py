"""Where imported samples live: a user data folder, one subfolder per sample.

    <data>/samples/<NAME>/provenance.json     the import record (source file, hash, rows, rules, mapping)
    <data>/samples/<NAME>/tables/<table>.csv   the aggregate tables, same columns as human_data/
    <data>/samples/<NAME>/respondents.parquet  the respondent-level table (stays on this machine)

<data> is, in order: the `data_dir` argument, the POPSIM_DATA environment variable, the platform's user
data folder (`platformdirs.user_data_dir("popsim")`, e.g. ~/.local/share/popsim). Never a run folder
and never the repository: survey microdata must not travel with results or code (ESS terms).

This module only moves files; it knows no file layouts and no statistics (so `datasets` can read
imported tables without importing the importer).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from .errors import PopsimError, unknown

SHIPPED: tuple[str, ...] = ("SE_ESS1-8", "DE_ESS9", "US_GSS2012")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
PROVENANCE = "provenance.json"
RESPONDENTS = "respondents.parquet"
TABLES = "tables"


def data_dir(path=None) -> Path:
    """The user data folder (not created here)."""
    if path is None:
        path = os.environ.get("POPSIM_DATA") or None
    if path is None:
        import platformdirs

        path = platformdirs.user_data_dir("popsim", appauthor=False)
    return Path(path).expanduser().resolve()


def samples_dir(path=None) -> Path:
    return data_dir(path) / "samples"


def _repository_root() -> Path | None:
    """The source checkout popsim runs from (a folder with pyproject.toml above the package), if any."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() and (root / "popsim").is_dir() else None


def check_location(path=None) -> Path:
    """The data folder, refused inside the repository or a run folder (microdata must stay apart)."""
    root = data_dir(path)
    repo = _repository_root()
    if repo is not None and (root == repo or repo in root.parents):
        raise PopsimError(f"data folder {root} is inside the popsim repository; imported survey data must not be "
                          "committed: choose a folder outside it with --data-dir or POPSIM_DATA")
    for folder in (root, *root.parents):
        if (folder / "config.json").is_file() and (folder / "answers.parquet").is_file():
            raise PopsimError(f"data folder {root} is inside the run folder {folder}; run folders are shared with "
                              "results: choose another folder with --data-dir or POPSIM_DATA")
    return root


def check_name(name: str, *, data_dir=None, overwrite: bool = False) -> str:
    """A valid name for a new sample: letters, digits, '_', '-', '.'; not a shipped sample's."""
    name = str(name)
    if not NAME_RE.match(name):
        raise PopsimError(f"sample name {name!r} is not valid; use letters, digits, '_', '-' or '.', starting with a "
                          "letter (e.g. --name FR_ESS10)")
    clash = [s for s in SHIPPED if s.lower() == name.lower()]
    if clash:
        raise PopsimError(f"sample name {name!r} clashes with the shipped sample {clash[0]}; choose another --name "
                          "(e.g. MY_ESS9)")
    if not overwrite and (samples_dir(data_dir) / name / PROVENANCE).is_file():
        raise PopsimError(f"a sample named {name!r} already exists in {samples_dir(data_dir)}; choose another --name "
                          f"or remove it first (popsim data remove {name})")
    return name


def imported_names(data_dir=None) -> list[str]:
    """Names of the imported samples in the data folder, sorted."""
    root = samples_dir(data_dir)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / PROVENANCE).is_file()
                  and NAME_RE.match(p.name))


def folder(name: str, data_dir=None) -> Path:
    """The folder of an imported sample (raises if there is none)."""
    path = samples_dir(data_dir) / str(name)
    if not NAME_RE.match(str(name)) or not (path / PROVENANCE).is_file():
        known = list(SHIPPED) + imported_names(data_dir)
        raise unknown("sample", name, known, hint=f"Imported samples are in {samples_dir(data_dir)}; "
                                                   "see popsim data list.")
    return path


def read_provenance(name: str, data_dir=None) -> dict:
    path = folder(name, data_dir) / PROVENANCE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PopsimError(f"the import record {path} is damaged ({exc}); remove the sample (popsim data remove "
                          f"{name}) and import it again") from None


def read_table(name: str, table: str, data_dir=None) -> pd.DataFrame:
    """One aggregate table of an imported sample (an empty frame when the sample has no such table)."""
    path = folder(name, data_dir) / TABLES / f"{table}.csv"
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise PopsimError(f"table {path} of sample {name} is damaged ({exc}); import the sample again") from None


def read_respondents(name: str, data_dir=None) -> pd.DataFrame:
    path = folder(name, data_dir) / RESPONDENTS
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise PopsimError(f"the respondent table {path} is damaged or missing ({exc}); import the sample "
                          "again") from None


def write_sample(name: str, tables: dict[str, pd.DataFrame], respondents: pd.DataFrame, provenance: dict,
                 *, data_dir=None, overwrite: bool = False) -> Path:
    """Write a sample's folder atomically: everything goes to a temporary folder that is renamed into place,
    so a failure leaves nothing behind."""
    root = check_location(data_dir) / "samples"
    check_name(name, data_dir=data_dir, overwrite=overwrite)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        (tmp / TABLES).mkdir()
        for tname, df in tables.items():
            df.to_csv(tmp / TABLES / f"{tname}.csv", index=False)
        respondents.to_parquet(tmp / RESPONDENTS, index=False)
        (tmp / PROVENANCE).write_text(json.dumps(provenance, indent=1, default=str), encoding="utf-8")
        final = root / name
        if final.exists():
            old = root / f".{name}.old"
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
            tmp.rename(final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def remove_sample(name: str, data_dir=None) -> Path:
    """Delete an imported sample's folder (shipped samples cannot be removed)."""
    if str(name) in SHIPPED:
        raise PopsimError(f"{name} is a shipped sample and cannot be removed; remove only imported samples "
                          "(popsim data list)")
    path = folder(name, data_dir)
    shutil.rmtree(path)
    return path
