"""Custom profiles: a CSV (or DataFrame) of centered value scores, one row per agent, validated."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from ..errors import PopsimError
from ..values import CODES10, check_value


def _check_fields(path) -> None:
    """Every row has as many fields as the header (pandas would shift or drop extra fields silently)."""
    with open(path, encoding="utf-8", newline="") as fh:
        width = None
        for i, fields in enumerate(csv.reader(fh)):
            if width is None:
                width = len(fields)
            elif fields and len(fields) != width:
                raise PopsimError(f"profiles file {path}: row {i} has {len(fields)} fields, the header has {width}; "
                                  "give every row the same columns as the header")


def read_profiles(source) -> pd.DataFrame:
    """Validate custom profiles (a CSV path or a DataFrame): columns SD..UN (centered scores, each in
    [-5, 5]), optional `gender` (male/female) and `prime` (a value code or empty)."""
    from pathlib import Path

    if source is None:
        raise PopsimError("the custom strategy needs profiles: pass --profiles FILE.csv (columns SD..UN)")
    if isinstance(source, pd.DataFrame):
        df, name = source.copy(), "the profiles table"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise PopsimError(f"profiles file {path} does not exist; pass a CSV with columns SD..UN")
        try:
            _check_fields(path)
            df = pd.read_csv(path, encoding="utf-8", index_col=False)
        except UnicodeDecodeError as exc:
            raise PopsimError(f"profiles file {path} is not UTF-8 text; save it as UTF-8 CSV") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise PopsimError(f"profiles file {path} is not a readable CSV ({exc}); fix the file") from exc
        except PopsimError:
            raise
        except (ValueError, csv.Error) as exc:  # e.g. NUL bytes
            raise PopsimError(f"profiles file {path} is not a readable CSV ({exc}); fix the file") from exc
    if len(df) == 0:
        raise PopsimError(f"{name} has no rows; give one row per agent")
    allowed = set(CODES10) | {"gender", "prime", "agent"}
    extra = [c for c in df.columns if c not in allowed]
    if extra:
        raise PopsimError(f"{name} has unknown column {extra[0]!r}; allowed: {', '.join(CODES10)}, gender, prime "
                          "(value codes: SD ST HE AC PO SE CO TR BE UN)")
    missing = [c for c in CODES10 if c not in df.columns]
    if missing:
        raise PopsimError(f"{name} lacks columns {', '.join(missing)}; give all 10 centered values")
    for c in CODES10:
        vals = pd.to_numeric(df[c], errors="coerce")
        if vals.isna().any():
            row = int(np.flatnonzero(vals.isna().to_numpy())[0])
            raise PopsimError(f"{name}: column {c} row {row + 1} is missing or not a number ({df[c].iloc[row]!r})")
        if (vals.abs() > 5).any():
            row = int(np.flatnonzero((vals.abs() > 5).to_numpy())[0])
            raise PopsimError(f"{name}: column {c} row {row + 1} = {vals.iloc[row]} is out of range; centered "
                              "scores lie in [-5, 5] (value score minus the person's mean rating)")
        df[c] = vals.astype(float)
    if "gender" in df:
        bad = sorted(set(df["gender"].astype(str)) - {"male", "female"})
        if bad:
            raise PopsimError(f"{name}: gender {bad[0]!r} is not male or female")
    if "prime" in df:
        for row, p in enumerate(df["prime"].fillna("").astype(str), start=1):
            if p:
                try:
                    check_value(p)
                except PopsimError as exc:
                    raise PopsimError(f"{name}: column prime row {row}: {exc}") from None
    return df.reset_index(drop=True)
