"""Markdown tables: the one renderer behind run reports, comparisons, study summaries and the page's tables.

`markdown_table(df)` gives the table as text; `table_lines(df)` gives its lines followed by a blank line, to
extend a list of report lines. Cells: a missing value (None, NaN, NA, infinity) is `missing` ("n/a"); booleans
read True / False; integers print as they are (2, not 2.00); other numbers are rounded to `digits` decimals
(`digits=None` prints them as Python does, for settings such as a temperature of 0.5); text keeps its
characters except `|`, which would end the cell, written as `/`.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd

NO_ROWS = "_(no rows)_"


def cell(value, digits: int | None = 2, *, missing: str = "n/a") -> str:
    """One value as the text of a table cell (see the module's docstring)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return missing
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        if not math.isfinite(value):
            return missing
        return str(value) if digits is None else f"{float(value):.{digits}f}"
    return str(value).replace("|", "/")


def table_lines(df: pd.DataFrame, columns: list[str] | None = None, digits: int | None = 2, *,
                missing: str = "n/a", max_rows: int | None = None) -> list[str]:
    """The table's lines (header, separator, one per row), then a blank line.

    `columns`: which columns, in which order (default: all; a column the frame lacks is shown as missing);
    `max_rows`: show only the first rows."""
    cols = [str(c) for c in df.columns] if columns is None else list(columns)
    rows = df.head(max_rows) if max_rows is not None else df
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for rec in rows.to_dict("records"):
        if columns is None:
            values = rec.values()
        else:
            values = [rec.get(c) for c in cols]
        lines.append("| " + " | ".join(cell(v, digits, missing=missing) for v in values) + " |")
    return [*lines, ""]


def markdown_table(df: pd.DataFrame | None, columns: list[str] | None = None, digits: int | None = 2, *,
                   missing: str = "n/a", max_rows: int | None = None, empty: str = NO_ROWS) -> str:
    """The table as markdown text (no trailing newline); `empty` when the frame is None or has no rows."""
    if df is None or not len(df):
        return empty
    return "\n".join(table_lines(df, columns, digits, missing=missing, max_rows=max_rows)[:-1])
