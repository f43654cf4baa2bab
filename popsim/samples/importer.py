"""Import a respondent-level file as a sample: read, recognise or map the layout, filter, recode, score by
the rules of the shipped samples, compute every table, record where it all came from, store it locally.

Rules (as `human_data/README.md`): value items on 1 = not like me at all ... 6 = very much like me (ESS and
GSS files are reversed as 7 - code); respondents with more than 5 of 21 items missing (scaled to the
instrument's length) are dropped; value score = mean of its items; MRAT = the person's mean over all items;
centered value = value score - MRAT; weights where given. Every check runs before anything is written.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from .. import datasets
from ..errors import PopsimError
from ..instruments import INSTRUMENTS, load_instrument, score
from . import clean, layouts, tables
from .. import userdata
from .readers import read_file

#: the instruments a sample's value items can come from
VALUE_INSTRUMENTS: tuple[str, ...] = ("ess21", "pvq40", "pvq_rr")
MIN_RESPONDENTS = 100
WARN_RESPONDENTS = 300


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("popsim")
    except metadata.PackageNotFoundError:
        return "unknown"


def _mapping_layout(raw, mapping: dict, instrument: str) -> layouts.Layout:
    inst = load_instrument(instrument)
    file = raw.path.name
    unknown_items = [k for k in mapping if k not in inst.item_ids]
    if unknown_items:
        raise PopsimError(f"--map {unknown_items[0]}=...: {unknown_items[0]!r} is not an item of {instrument} "
                          f"({', '.join(inst.item_ids[:4])}, ...); map each item id of --instrument to a column")
    lack = [i for i in inst.item_ids if i not in mapping]
    if lack:
        raise PopsimError(f"{file}: the mapping lacks items {', '.join(lack[:5])}{' ...' if len(lack) > 5 else ''} of "
                          f"{instrument}; add --map ITEM=COLUMN for every item")
    cols = {item: clean.column(raw, col, f"item {item}") for item, col in mapping.items()}
    twice = pd.Series(list(cols.values())).duplicated()
    if twice.any():
        dup = list(cols.values())[int(np.flatnonzero(twice.to_numpy())[0])]
        raise PopsimError(f"{file}: column {raw.columns[dup]} is mapped to two items; map each item to its own column")
    return layouts.Layout("mapping", {i: cols[i] for i in inst.item_ids}, None, ())


def import_sample(path, name: str, *, instrument: str | None = None, mapping: dict | None = None,
                  reverse: bool | None = None, missing=None, filters: dict | None = None, weight="auto",
                  gender: str | None = None, age: str | None = None, education: str | None = None,
                  country: str | None = None, outcomes=(), data_dir=None, overwrite: bool = False):
    """Import `path` as the sample `name` and return it (`popsim.samples.Sample`).

    - ESS and GSS 2012 files are recognised by their variable names; any other file needs `mapping`
      (item id -> column; `instrument` ess21, pvq40 or pvq_rr, default ess21), `reverse` when the file's 1 is
      "very much like me" (value labels decide where present), `missing` (codes meaning no answer).
    - `filters` {'cntry': 'FR'} keeps matching rows; `weight` 'auto' (ESS anweight, pspwght, dweight; GSS
      wtssps, wtssall, wtss: first present), a column name, or None; `gender`/`age`/`education`/`country`
      name demographic columns (the layout's are found by name); `outcomes` names further numeric columns.
    - Stored in the user data folder (`data_dir`, else POPSIM_DATA, else the platform's); `overwrite`
      replaces a sample of the same name. Raises `PopsimError` (one line: file, column, fix) on bad input,
      before anything is written.
    """
    userdata.check_location(data_dir)
    userdata.check_name(name, data_dir=data_dir, overwrite=overwrite)
    named = [*(mapping or {}).values(), *(filters or {}), *(outcomes or ()), gender, age, education, country,
             weight if isinstance(weight, str) else None]
    wanted = ({str(v).strip().lower() for v in named if v} | set(layouts.ESS_ITEMS) | set(layouts.GSS_ITEMS)
              | set(layouts.LAYOUT_COLUMNS) | set(datasets.behavior_items()["var"]))
    raw = read_file(path, keep=lambda names: wanted)
    file = raw.path.name
    if mapping:
        layout = _mapping_layout(raw, dict(mapping), instrument or "ess21")
        instrument = instrument or "ess21"
    else:
        layout = layouts.detect(raw.data.columns, file)
        if layout is None:
            raise PopsimError(f"{file}: no known layout (neither the ESS items ipcrtiv ... impfun nor the GSS items "
                              "valorig ... valfun); map the items with --map ITEM=COLUMN (and --instrument)")
        if instrument not in (None, "ess21"):
            raise PopsimError(f"{file} is in the {layout.name} layout, which holds the ess21 items; drop "
                              f"--instrument {instrument} or map the items with --map")
        instrument = "ess21"
    if instrument not in INSTRUMENTS or load_instrument(instrument).kind != "values":
        raise PopsimError(f"--instrument {instrument!r} is not a value instrument; choose ess21, pvq40 or pvq_rr")
    inst = load_instrument(instrument)
    rev, orientation = layouts.resolve_reverse(layout, raw.labels, file, reverse)

    keep, used_filters = clean.apply_filters(raw, filters)
    w_all, weight_col = clean.weights(raw, layout, weight, keep)
    answers, item_missing = clean.items(raw, layout, inst.items[0].scale.points, keep, missing, rev)

    known = {}
    if layout.outcomes_known:
        beh = datasets.behavior_items()
        known = {v: list(c) for v, c in zip(beh["var"], beh["codes"]) if v in raw.data.columns}
    out_cols = list(known)
    for o in outcomes or ():
        col = clean.column(raw, o, f"the outcome --outcome {o}")
        if col in layout.items.values():
            raise PopsimError(f"{file}: --outcome {o} is a value item of the layout; name another column")
        if col not in out_cols:
            out_cols.append(col)
    outcome_df, codes, outcome_missing = clean.outcomes(raw, layout, out_cols, keep, known, missing)
    codes = {raw.columns[c]: v for c, v in codes.items()}

    spec = dict(layout.demographics)
    spec.update({k: v for k, v in dict(gender=gender, age=age, education=education, country=country).items() if v})
    demo, demo_notes = clean.demographics(raw, layout, spec, keep)
    demo_cols = {k: raw.columns.get(v.lower(), v) for k, v in spec.items()}
    if layout.country and "country" not in demo:
        demo["country"] = layout.country
        demo_cols["country"] = f"({layout.country}: the {layout.name} surveys that country)"

    scores = score(answers, inst)
    scored = scores.mrat.notna().to_numpy()
    n_scored = int(scored.sum())
    limit = int(np.floor(5 * len(inst.items) / 21))
    if n_scored < MIN_RESPONDENTS:
        raise PopsimError(f"{file}: only {n_scored} respondents have at most {limit} of {len(inst.items)} value items "
                          f"missing; popsim needs at least {MIN_RESPONDENTS} (check the filters and the missing codes)")
    notes = []
    if n_scored < WARN_RESPONDENTS:
        notes.append(f"only {n_scored} scored respondents: tables and subgroups are imprecise (under {WARN_RESPONDENTS})")
        warnings.warn(f"{file}: {notes[-1]}", stacklevel=2)

    rows = np.flatnonzero(keep)[scored]
    w = w_all[scored]
    answers, outcome_df, demo = (answers[scored].reset_index(drop=True), outcome_df[scored].reset_index(drop=True),
                                 demo[scored].reset_index(drop=True))
    scores = score(answers, inst)
    result = tables.value_tables(name, answers, scores, w, inst)
    result.update(tables.outcome_tables(name, answers, scores.centered, outcome_df, w, codes))
    if len(demo.columns):
        result["demographics"] = tables.demographic_table(name, demo, w)
    _check_tables(result, file, layout, raw.columns)

    respondents = pd.concat([pd.DataFrame({"respondent": np.arange(n_scored), "source_row": rows + 1, "weight": w}),
                             answers, outcome_df, demo], axis=1)
    fingerprint = pd.util.hash_pandas_object(respondents, index=False).sum()
    provenance = {
        "name": name, "kind": "imported", "popsim_version": _version(),
        "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source": {"file": file, "sha256": raw.sha256, "format": raw.format, "bytes": raw.path.stat().st_size},
        "layout": layout.name, "instrument": instrument,
        "mapping": {item: raw.columns[col] for item, col in layout.items.items()},
        "orientation": {"reversed": bool(rev), "from": orientation},
        "missing_codes": {"value_items": item_missing, "outcomes": outcome_missing,
                          "declared": sorted(float(c) for c in (missing or ()))},
        "filters": used_filters, "weights": _weight_record(weight_col, w),
        "rows_read": int(len(raw.data)), "rows_imported": n_scored,
        "rows_dropped": {"filters": int((~keep).sum()),
                         f"more than {limit} of {len(inst.items)} value items missing": int((~scored).sum())},
        "outcomes": list(outcome_df.columns), "outcome_codes": codes,
        "demographics": demo_cols, "demographic_coding": demo_notes,
        "notes": notes, "tables": sorted(result), "fingerprint": f"{int(fingerprint) & (2**64 - 1):016x}",
    }
    userdata.write_sample(name, result, respondents, provenance, data_dir=data_dir, overwrite=overwrite)
    from .sample import load_sample

    return load_sample(name, data_dir=data_dir)


def _check_tables(result: dict, file: str, layout, columns: dict) -> None:
    """Every correlation the copula needs must exist: no constant column, no pair never answered together."""
    sd = result["item_stats"].set_index("item")["sd"]
    for item, v in sd.items():
        if not v > 0:
            col = columns.get(layout.items[item], layout.items[item])
            raise PopsimError(f"{file}: column {col} (item {item}) has the same answer for every imported respondent; "
                              "its correlations are undefined: check the column, the mapping and the filters")
    joint = result.get("joint_item_correlations")
    if joint is not None and joint["r"].isna().any():
        a, b, n = joint.loc[joint["r"].isna(), ["var_a", "var_b", "n"]].iloc[0]
        outcome = b if b in set(result["behavior_distributions"]["item"]) else a
        raise PopsimError(f"{file}: outcome {outcome} has no correlation with {a if outcome == b else b} (answered "
                          f"together by {int(n)} respondents); drop --outcome {outcome} or check the column")


def _weight_record(col: str | None, w: np.ndarray) -> dict | None:
    if col is None:
        return None
    return {"column": col, "sum": float(w.sum()), "min": float(w.min()), "max": float(w.max()),
            "effective_n": float(w.sum() ** 2 / np.sum(w**2))}
