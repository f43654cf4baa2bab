"""Column by column: filters, weights, value items, outcomes and demographics of a respondent-level file,
checked and recoded to popsim's conventions. Every problem is a `PopsimError` naming file, column and fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PopsimError
from .layouts import ESS_MISSING, Layout, labelled_missing
from .readers import RawFile

_BLANK = {"", ".", "na", "n/a", "nan", "none", "null"}
#: ESS refusal/don't know/no answer codes (7, 8, 9 repeated); 6 (not applicable) only counts when labelled
_ESS_NO_ANSWER = tuple(c for c in ESS_MISSING if str(int(c))[0] != "6")
#: ES-ISCED levels (ESS variable eisced), as a person would say them
ES_ISCED = {1: "less than lower secondary education", 2: "lower secondary education",
            3: "lower tier upper secondary education", 4: "upper tier upper secondary education",
            5: "advanced vocational, sub-degree education", 6: "a bachelor's degree or equivalent",
            7: "a master's degree or higher"}
#: no-answer codes of the layouts' demographic variables (ESS agea 999; eduyrs/eisced 77/88/99, eisced 55 'other';
#: GSS age 98/99, educ 97/98/99)
_DEMO_MISSING = {"ESS": {"age": {999.0}, "education": {55.0, 77.0, 88.0, 99.0}},
                 "GSS": {"age": {98.0, 99.0}, "education": {97.0, 98.0, 99.0}}}
_MALE, _FEMALE = {"m", "male", "man", "men", "mann", "männlich"}, {"f", "female", "woman", "women", "frau", "weiblich", "w"}


def numeric(raw: RawFile, col: str, what: str) -> pd.Series:
    """A column as floats (blank strings as NaN); text is an error."""
    s = raw.data[col]
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    text = s.astype("string").str.strip()
    blank = text.isna() | text.str.lower().isin(_BLANK)
    num = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = num.isna() & ~blank
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise PopsimError(f"{raw.path.name}: column {raw.columns.get(col, col)} ({what}) holds text "
                          f"({text.iloc[row]!r} in row {row + 1}); give numeric codes")
    return num.astype(float)


def column(raw: RawFile, name: str, role: str) -> str:
    """The file's column for a user-given name (case-insensitive), or an error naming the choices."""
    low = str(name).strip().lower()
    if low not in raw.data.columns:
        from difflib import get_close_matches

        close = get_close_matches(low, list(raw.columns), n=1)
        hint = f" (did you mean {raw.columns[close[0]]!r}?)" if close else ""
        raise PopsimError(f"{raw.path.name} has no column {name!r} for {role}{hint}; name a column of the file")
    return low


def apply_filters(raw: RawFile, filters: dict | None) -> tuple[np.ndarray, dict]:
    """Boolean mask of the rows every filter keeps ({'cntry': 'FR'}, values may be lists or 'FR,DE')."""
    keep = np.ones(len(raw.data), bool)
    used = {}
    for name, value in (filters or {}).items():
        col = column(raw, name, f"the filter {name}={value}")
        wanted = value if isinstance(value, (list, tuple, set)) else str(value).split(",")
        wanted = [str(v).strip() for v in wanted]
        s = raw.data[col]
        if pd.api.types.is_numeric_dtype(s):
            try:
                hit = s.isin([float(v) for v in wanted]).to_numpy()
            except ValueError:
                hit = np.zeros(len(s), bool)
        else:
            hit = s.astype("string").str.strip().str.upper().isin([v.upper() for v in wanted]).fillna(False).to_numpy()
        if not (hit & keep).any():
            seen = ", ".join(sorted(s.dropna().astype(str).str.strip().unique())[:12])
            raise PopsimError(f"{raw.path.name}: the filter {name}={value} matches no row (column {raw.columns[col]} "
                              f"holds {seen}); give a value that occurs")
        keep &= hit
        used[raw.columns[col]] = wanted if len(wanted) > 1 else wanted[0]
    return keep, used


def weights(raw: RawFile, layout: Layout, weight, keep: np.ndarray) -> tuple[np.ndarray, str | None]:
    """Weights of the kept rows: 'auto' (the layout's weight columns, first present), a column, or None."""
    n = int(keep.sum())
    if weight is None or weight is False or str(weight).lower() == "none":
        return np.ones(n), None
    if weight == "auto":
        found = [c for c in layout.weights if c in raw.data.columns]
        if not found:
            return np.ones(n), None
        col = found[0]
    else:
        col = column(raw, weight, "the weights (--weight)")
    w = numeric(raw, col, "weights")[keep].to_numpy(float)
    name = raw.columns[col]
    if np.isnan(w).any():
        raise PopsimError(f"{raw.path.name}: weight column {name} is empty in {int(np.isnan(w).sum())} of {n} rows; "
                          "fill the gaps, or import without weights (--weight none)")
    if (w < 0).any():
        raise PopsimError(f"{raw.path.name}: weight column {name} has {int((w < 0).sum())} negative values; weights "
                          "must be >= 0 (check the column, or import without weights: --weight none)")
    if w.sum() <= 0:
        raise PopsimError(f"{raw.path.name}: weight column {name} sums to 0; give positive weights or --weight none")
    return w, name


def items(raw: RawFile, layout: Layout, points: tuple[int, ...], keep: np.ndarray, user_missing, reverse: bool):
    """Value item answers of the kept rows on 1..6 (6 = very much like me), NaN for no answer; the missing
    codes used per column."""
    out, used = {}, {}
    valid = np.asarray(points, float)
    user = {float(c) for c in (user_missing or ())}
    clash = sorted(user & set(valid))
    if clash:
        raise PopsimError(f"{raw.path.name}: --missing {_fmt(clash[0])} is a valid answer of the value items "
                          f"({points[0]}..{points[-1]}); drop it from --missing")
    for item, col in layout.items.items():
        x = np.array(numeric(raw, col, f"item {item}")[keep], dtype=float)
        miss = ({c for c in layout.missing if c not in valid} | user | labelled_missing(raw.label_of(col))) - set(valid)
        present = ~np.isnan(x)
        is_missing = present & np.isin(x, list(miss))
        bad = present & ~is_missing & ~np.isin(x, valid)
        name = raw.columns[col]
        if bad.any():
            code = x[bad][0]
            row = int(np.flatnonzero(keep)[np.flatnonzero(bad)[0]])
            known = ", ".join(_fmt(c) for c in sorted(miss)) or "none"
            raise PopsimError(f"{raw.path.name}: column {name} (item {item}) has code {_fmt(code)} in {int(bad.sum())} "
                              f"rows (first: row {row + 1}) outside the scale {points[0]}..{points[-1]} and the "
                              f"missing codes ({known}); recode it, or declare it missing with --missing")
        used[name] = [_fmt(c) for c in np.unique(x[is_missing])]
        x[is_missing] = np.nan
        if np.isnan(x).all():
            raise PopsimError(f"{raw.path.name}: column {name} (item {item}) has no valid answer in any imported row; "
                              "check the mapping (--map) and the filters")
        out[item] = (valid[0] + valid[-1]) - x if reverse else x
    return pd.DataFrame(out), used


def outcomes(raw: RawFile, layout: Layout, names: list[str], keep: np.ndarray, known: dict[str, list[int]],
             user_missing) -> tuple[pd.DataFrame, dict[str, list], dict[str, list]]:
    """Outcome columns of the kept rows in their own codes, NaN for no answer; (table, codes per outcome,
    missing codes applied per outcome). `known`: outcome -> its valid codes (the ESS round 9 questions)."""
    out, codes, used = {}, {}, {}
    user = {float(c) for c in (user_missing or ())}
    for col in names:
        name = raw.columns[col]
        y = np.array(numeric(raw, col, f"outcome {name}")[keep], dtype=float)
        miss = user | labelled_missing(raw.label_of(col))
        if col in known:
            valid = np.asarray(known[col], float)
            miss = (miss | set(ESS_MISSING)) - set(valid)  # an ESS code of the question is never missing
        elif layout.name == "ESS":  # refusal/don't know/no answer codes above every other code
            present = set(np.unique(y[~np.isnan(y)]))
            top = max((v for v in present if v not in _ESS_NO_ANSWER), default=-np.inf)
            miss |= {c for c in _ESS_NO_ANSWER if c > top}
        is_missing = np.isin(y, list(miss))
        used[name] = [_fmt(c) for c in np.unique(y[is_missing])]
        y = np.where(is_missing, np.nan, y)
        if col in known:
            bad = ~np.isnan(y) & ~np.isin(y, valid)
            if bad.any():
                raise PopsimError(f"{raw.path.name}: column {name} has code {_fmt(y[bad][0])} outside its ESS codes "
                                  f"{_fmt(valid[0])}..{_fmt(valid[-1])} and the missing codes; recode it or declare it "
                                  "missing with --missing")
            codes[col] = [float(v) for v in valid]
        else:
            codes[col] = sorted(float(v) for v in np.unique(y[~np.isnan(y)]))
            if any(not c.is_integer() for c in codes[col]):
                frac = next(c for c in codes[col] if not c.is_integer())
                raise PopsimError(f"{raw.path.name}: outcome column {name} has the value {frac}; outcomes are whole "
                                  "answer codes: round or bin the column first")
            if len(codes[col]) == 1:
                raise PopsimError(f"{raw.path.name}: outcome column {name} has one answer ({_fmt(codes[col][0])}) in every "
                                  "imported row; drop --outcome " + name)
            if len(codes[col]) > 101:
                raise PopsimError(f"{raw.path.name}: outcome column {name} has {len(codes[col])} distinct values; "
                                  "outcomes are answer codes (at most 101): bin the column first")
        if np.isnan(y).all():
            raise PopsimError(f"{raw.path.name}: outcome column {name} has no valid answer in any imported row; drop "
                              "--outcome " + name + " or check the filters")
        out[name] = y
    return pd.DataFrame(out, index=range(int(keep.sum()))), codes, used


def demographics(raw: RawFile, layout: Layout, spec: dict[str, str], keep: np.ndarray) -> tuple[pd.DataFrame, dict]:
    """gender ('male'/'female'), age (years), education (words), country of the kept rows; NaN where unknown.
    `spec`: demographic -> column (the layout's, overridden by the user's). Returns (table, notes per column)."""
    out, notes = {}, {}
    for what, name in spec.items():
        col = column(raw, name, f"--{what}")
        labels = raw.label_of(col)
        miss = labelled_missing(labels)
        shown = raw.columns[col]
        if what == "country" or (what == "education" and not pd.api.types.is_numeric_dtype(raw.data[col])):
            s = raw.data[col][keep]
            if labels and pd.api.types.is_numeric_dtype(s):
                s = s.map(lambda v: labels.get(float(v)) if v == v else None)
            s = s.astype("string").str.strip()
            out[what] = s.where(s.notna() & ~s.str.lower().isin(_BLANK), None).astype(object).to_numpy()
            notes[shown] = what if what == "country" else "words"
            continue
        s = raw.data[col][keep]
        if what == "gender":
            out[what], notes[shown] = _gender(raw, col, s, labels, miss, layout)
            continue
        x = np.array(numeric(raw, col, what)[keep], dtype=float)
        family = _DEMO_MISSING.get(layout.name, {}).get(what, set()) | miss
        x = np.where(np.isin(x, list(family)), np.nan, x)
        if what == "age":
            bad = ~np.isnan(x) & ((x < 0) | (x > 120))
            if bad.any():
                raise PopsimError(f"{raw.path.name}: column {shown} (age) has {_fmt(x[bad][0])}, not an age in years; "
                                  "recode it or set it missing")
            out[what], notes[shown] = x, "age in years"
        elif col == "eisced" and layout.name == "ESS":
            out[what], notes[shown] = [ES_ISCED.get(int(v)) if v == v else None for v in x], "ES-ISCED level"
        elif labels:
            out[what], notes[shown] = [labels.get(v) if v == v else None for v in x], "value labels"
        else:
            out[what], notes[shown] = [_years(v) for v in x], "years of education"
    return pd.DataFrame(out, index=range(int(keep.sum()))), notes


YEAR_BANDS = ((9, "up to 9 years"), (12, "10-12 years"), (15, "13-15 years"))


def _years(v: float):
    if v != v:
        return None
    for hi, band in YEAR_BANDS:
        if v <= hi:
            return f"{band} of education"
    return "16 or more years of education"


def _gender(raw, col, s, labels, miss, layout):
    shown = raw.columns[col]
    if labels and pd.api.types.is_numeric_dtype(s):
        words = s.map(lambda v: None if v != v or float(v) in miss else labels.get(float(v), v))
        how = "value labels"
    elif pd.api.types.is_numeric_dtype(s):
        codes = {1.0: "male", 2.0: "female"}
        gone = {9.0, 7.0, 8.0} if layout.name == "ESS" else set(miss)
        words = s.map(lambda v: None if v != v or float(v) in gone else codes.get(float(v), v))
        how = "codes 1 = male, 2 = female (ESS/GSS)"
    else:
        words, how = s, "words"
    out = []
    for i, v in enumerate(words):
        if v is None or (isinstance(v, float) and v != v) or str(v).strip().lower() in _BLANK:
            out.append(None)
            continue
        t = str(v).strip().lower()
        if t in _MALE:
            out.append("male")
        elif t in _FEMALE:
            out.append("female")
        else:
            raise PopsimError(f"{raw.path.name}: column {shown} (gender) has {v!r} (row {i + 1} of the imported rows); "
                              "use 1 = male, 2 = female, the words male/female, or set it missing")
    return out, how


def _fmt(code) -> str:
    code = float(code)
    return str(int(code)) if code.is_integer() else str(code)
