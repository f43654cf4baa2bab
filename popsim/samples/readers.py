"""Read a respondent-level file into a table and its value labels: CSV, Parquet, Stata .dta, SPSS .sav.

`read_file(path)` returns a `RawFile`: the data (one row per respondent, column names lower-cased as the
ESS and GSS publish them in some formats and not others), the value labels per column where the format
carries them (.sav, .dta: code -> label), and the format. Stata files are read by pandas, their value
labels by pyreadstat; SPSS files by pyreadstat (user-missing codes arrive as missing).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import PopsimError

FORMATS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
           ".dta": "stata", ".sav": "spss", ".zsav": "spss"}


@dataclass
class RawFile:
    path: Path
    format: str
    data: pd.DataFrame
    labels: dict[str, dict[float, str]] = field(default_factory=dict)
    sha256: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # lower-case name -> name in the file

    def label_of(self, column: str) -> dict[float, str]:
        return self.labels.get(column, {})


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _not_table(path: Path, why: object) -> PopsimError:
    return PopsimError(f"{path.name} is not a readable table ({str(why).splitlines()[0][:160]}); give a CSV, "
                       "Parquet, Stata .dta or SPSS .sav file of respondents (one row per person)")


def _csv_separator(path: Path) -> str:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head:
        raise _not_table(path, "binary content, not text")
    text = head.decode("utf-8", errors="replace")
    try:
        return csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _header(path: Path, fmt: str) -> tuple[list[str], dict]:
    """Column names (as in the file) and value labels, without reading the data."""
    if fmt == "csv":
        return [str(c) for c in pd.read_csv(path, sep=_csv_separator(path), nrows=0, encoding="utf-8",
                                            encoding_errors="replace").columns], {}
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names), {}
    import pyreadstat

    meta = (pyreadstat.read_dta if fmt == "stata" else pyreadstat.read_sav)(str(path), metadataonly=True)[1]
    return list(meta.column_names), meta.variable_value_labels


def _read(path: Path, fmt: str, usecols: list[str]) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, sep=_csv_separator(path), usecols=usecols, low_memory=False, encoding="utf-8",
                           encoding_errors="replace")
    if fmt == "parquet":
        return pd.read_parquet(path, columns=usecols)
    if fmt == "stata":
        return pd.read_stata(path, columns=usecols, convert_categoricals=False, convert_missing=False,
                             preserve_dtypes=False)
    import pyreadstat

    return pyreadstat.read_sav(str(path), usecols=usecols, user_missing=False)[0]


def _number_labels(labels: dict) -> dict[str, dict[float, str]]:
    out: dict[str, dict[float, str]] = {}
    for col, mapping in (labels or {}).items():
        clean = {}
        for code, label in mapping.items():
            try:
                clean[float(code)] = str(label)
            except (TypeError, ValueError):
                continue
        if clean:
            out[str(col)] = clean
    return out


def read_file(path, keep=None) -> RawFile:
    """Read a respondent-level file (format from its extension). `keep(names)`, given the lower-case column
    names, returns the ones to read (survey files have hundreds of columns; the import needs a few dozen)."""
    path = Path(path)
    if not path.is_file():
        raise PopsimError(f"{path} does not exist; give the path of a CSV, Parquet, .dta or .sav file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise PopsimError(f"{path.name}: unknown file type {path.suffix or '(none)'!r}; give a .csv, .parquet, .dta "
                          "or .sav file")
    try:
        names, labels = _header(path, fmt)
        columns: dict[str, str] = {}
        for c in names:
            low = str(c).strip().lower()
            if low in columns:
                raise PopsimError(f"{path.name}: columns {columns[low]!r} and {c!r} differ only in case; rename one")
            columns[low] = str(c)
        if not columns:
            raise _not_table(path, "no columns")
        wanted = set(columns) if keep is None else set(keep(list(columns))) & set(columns)
        usecols = [columns[c] for c in columns if c in wanted] or [names[0]]
        data = _read(path, fmt, usecols)
    except PopsimError:
        raise
    except Exception as exc:  # every reader has its own error types for a damaged or foreign file
        raise _not_table(path, exc) from None
    if not isinstance(data, pd.DataFrame) or data.shape[1] == 0:
        raise _not_table(path, "no columns")
    if len(data) == 0:
        raise PopsimError(f"{path.name} has no rows; give a file with one row per respondent")
    data = data.rename(columns={c: str(c).strip().lower() for c in data.columns})
    labels = {str(k).strip().lower(): v for k, v in _number_labels(labels).items()}
    return RawFile(path=path, format=fmt, data=data.reset_index(drop=True), labels=labels, sha256=sha256(path),
                   columns=columns)
