"""`popsim data import | list | show | remove`: your own survey as a sample (see docs/samples.md).

    popsim data import ESS10.csv --name FR_ESS10 --filter cntry=FR --weight anweight
    popsim data import lab.sav --name LAB25 --instrument pvq_rr --map pvqrr_1=q1 ... --gender sex --age age
    popsim data list
    popsim data show FR_ESS10
    popsim data remove FR_ESS10

The respondent-level table stays in the user data folder (--data-dir, else $POPSIM_DATA, else the platform's);
every bad input is one line naming the file, column and fix, exit status 2, and nothing is written.
"""

from __future__ import annotations

import sys
import warnings

from ..errors import PopsimError
from .options import Parser, add_group, settings


def _pairs(values: list[str], flag: str, what: str) -> dict[str, str]:
    out = {}
    for text in values:
        key, sep, value = str(text).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise PopsimError(f"{flag} {text!r} is not {what}; write it as {flag} {what}")
        out[key.strip()] = value.strip()
    return out


def _codes(text: str | None) -> list[float]:
    if not text:
        return []
    try:
        return [float(c) for c in str(text).replace(" ", "").split(",") if c]
    except ValueError:
        raise PopsimError(f"--missing {text!r} is not a list of numeric codes; write e.g. --missing 7,8,9") from None


def cmd_import(args) -> int:
    from ..samples import import_sample

    s = settings(args, ("data", "import"))
    if not s.get("sample_name"):
        raise PopsimError("name the new sample: popsim data import FILE --name NAME (e.g. --name FR_ESS10)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sample = import_sample(
            args.file, s["sample_name"], instrument=s["instrument"],
            mapping=_pairs(s["mapping"], "--map", "ITEM=COLUMN") or None, reverse=True if s["reverse"] else None,
            missing=_codes(s["missing"]), filters=_pairs(s["filters"], "--filter", "COL=VAL") or None,
            weight=None if str(s["weight"]).lower() == "none" else s["weight"], gender=s["gender_column"],
            age=s["age_column"], education=s["education_column"], country=s["country_column"],
            outcomes=s["outcomes"], data_dir=s["data_dir"], overwrite=args.overwrite)
    for w in caught:
        print(f"popsim: warning: {w.message}", file=sys.stderr)
    p = sample.provenance
    print(f"imported {sample.name}: {p['rows_imported']} respondents of {p['rows_read']} rows ({p['layout']} layout, "
          f"{p['instrument']}; weights {(p['weights'] or {}).get('column', 'none')}; "
          f"{len(p['outcomes'])} outcomes; demographics: {', '.join(sample.demographics) or 'none'})")
    print(f"stored in {sample.data_dir / 'samples' / sample.name}; popsim data show {sample.name} for the record")
    return 0


def cmd_list(args) -> int:
    import pandas as pd

    from ..samples import list_samples

    s = settings(args, ("data",))
    with pd.option_context("display.max_colwidth", 40, "display.width", 220):
        print(list_samples(data_dir=s["data_dir"]).to_string(index=False))
    return 0


def cmd_show(args) -> int:
    from ..samples import describe

    s = settings(args, ("data",))
    print(describe(args.name, data_dir=s["data_dir"]))
    return 0


def cmd_remove(args) -> int:
    from ..samples import remove_sample

    s = settings(args, ("data",))
    print(f"removed {args.name} ({remove_sample(args.name, data_dir=s['data_dir'])})")
    return 0


def register(sub) -> None:
    d = sub.add_parser("data", help="import your own survey as a sample; list, show and remove samples")
    actions = d.add_subparsers(dest="action", parser_class=Parser, metavar="ACTION", required=True)
    im = actions.add_parser("import", help="read a respondent-level file (CSV, Parquet, Stata .dta, SPSS .sav) into "
                                           "a sample")
    im.add_argument("file", help="the file to import")
    add_group(im, "import")
    add_group(im, "data")
    im.add_argument("--overwrite", action="store_true", help="replace an imported sample of the same name")
    im.set_defaults(func=cmd_import)
    ls = actions.add_parser("list", help="shipped and imported samples: n, weights, source hash, date")
    add_group(ls, "data")
    ls.set_defaults(func=cmd_list)
    sh = actions.add_parser("show", help="a sample's record: source file and hash, rows, rules, mapping")
    sh.add_argument("name")
    add_group(sh, "data")
    sh.set_defaults(func=cmd_show)
    rm = actions.add_parser("remove", help="delete an imported sample (its tables and respondents)")
    rm.add_argument("name")
    add_group(rm, "data")
    rm.set_defaults(func=cmd_remove)
