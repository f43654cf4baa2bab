"""File layouts popsim recognises, and the coding rules of each: ESS, GSS 2012, or an explicit mapping.

A `Layout` says which column holds each item of an instrument, how the items are coded (`reverse`: the
file's 1 is "very much like me", as in the ESS and the GSS, so popsim stores 7 - code), which codes mean
"missing", where the weights and demographics are. The ESS layout is recognised by the 21 human values
variables `ipcrtiv` ... `impfun`; the GSS 2012 layout by `valorig` ... `valfun` (in ESS item order).

Value labels, where a file carries them, orient the scale: the code labelled "very much like me" must be
the end the layout assumes; a contradiction is an error, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import PopsimError

ESS_ITEMS = ("ipcrtiv", "imprich", "ipeqopt", "ipshabt", "impsafe", "impdiff", "ipfrule", "ipudrst", "ipmodst",
             "ipgdtim", "impfree", "iphlppl", "ipsuces", "ipstrgv", "ipadvnt", "ipbhprp", "iprspot", "iplylfr",
             "impenv", "imptrad", "impfun")
GSS_ITEMS = ("valorig", "valrich", "valeql", "valable", "valsafe", "valdiff", "valrule", "vallist", "valmod",
             "valspl", "valfree", "valcare", "valachv", "valdfnd", "valrisk", "valprpr", "valrspt", "valdvot",
             "valeco", "valtrdn", "valfun")
#: ESS missing codes: 6/7/8/9 (not applicable, refusal, don't know, no answer) on short scales, and the same
#: digits repeated on longer ones (66, 77, 88, 99; 666 ...; 6666 ...)
ESS_MISSING = tuple(float(d * k) for k in (1, 11, 111, 1111) for d in (6, 7, 8, 9))
#: GSS 2012: 0 inapplicable, 8 don't know, 9 no answer; current GSS files: -100 .. -97 (.i .n .d .s)
GSS_MISSING = (0.0, 8.0, 9.0, -97.0, -98.0, -99.0, -100.0)

_MISSING_LABEL = re.compile(r"refus|don.?t know|no answer|not applicable|inapplicable|\biap\b|\bdk\b|\bna\b|"
                            r"skipped|not available|missing|can.?t choose|no response", re.I)
_VERY_MUCH = re.compile(r"very much like me", re.I)
_NOT_AT_ALL = re.compile(r"not like me at all", re.I)


@dataclass
class Layout:
    name: str  # "ESS", "GSS" or "mapping"
    items: dict[str, str]  # instrument item id -> column (lower case)
    reverse: bool | None  # None: from the value labels, else not reversed
    missing: tuple[float, ...]  # codes meaning "no answer" on the value items
    weights: tuple[str, ...] = ()  # weight columns tried in order when the weight is "auto"
    demographics: dict[str, str] = field(default_factory=dict)  # gender/age/education/country -> column
    outcomes_known: bool = False  # the ESS round 9 attitude questions come in when present
    country: str | None = None  # the survey's country when the layout fixes it (GSS: US)


def ess_layout(columns) -> Layout:
    cols = set(columns)
    demo = {"gender": "gndr", "age": "agea", "education": "eisced" if "eisced" in cols else "eduyrs",
            "country": "cntry"}
    return Layout("ESS", dict(zip(ESS_ITEMS, ESS_ITEMS)), True, ESS_MISSING, ("anweight", "pspwght", "dweight"),
                  {k: v for k, v in demo.items() if v in cols}, outcomes_known=True)


def gss_layout(columns) -> Layout:
    cols = set(columns)
    demo = {"gender": "sex", "age": "age", "education": "educ"}
    return Layout("GSS", dict(zip(ESS_ITEMS, GSS_ITEMS)), True, GSS_MISSING, ("wtssps", "wtssall", "wtss"),
                  {k: v for k, v in demo.items() if v in cols}, country="US")


#: every column a layout may use besides its items (weights, demographics)
LAYOUT_COLUMNS = ("anweight", "pspwght", "dweight", "gndr", "agea", "eisced", "eduyrs", "cntry",
                  "wtssps", "wtssall", "wtss", "sex", "age", "educ")


def detect(columns, file: str) -> Layout | None:
    """The layout recognised by its variable names, or None. Half a layout is an error (say which items lack)."""
    cols = set(columns)
    for make, names, label in ((ess_layout, ESS_ITEMS, "ESS"), (gss_layout, GSS_ITEMS, "GSS 2012")):
        have = [c for c in names if c in cols]
        if len(have) == len(names):
            return make(cols)
        if len(have) >= 5:
            lack = [c for c in names if c not in cols]
            raise PopsimError(f"{file}: looks like the {label} layout but lacks the value items "
                              f"{', '.join(lack[:6])}{' ...' if len(lack) > 6 else ''}; give the full file, or map "
                              "the items present explicitly with --map ITEM=COLUMN")
    return None


def labelled_missing(labels: dict[float, str]) -> set[float]:
    """Codes whose value label says refusal, don't know, no answer, not applicable ..."""
    return {code for code, text in labels.items() if _MISSING_LABEL.search(text)}


def orientation(labels: dict[float, str]) -> bool | None:
    """From an item's value labels: True if the low code is "very much like me" (reverse coding), False if
    the high code is, None when the labels do not name the ends."""
    very = [c for c, t in labels.items() if _VERY_MUCH.search(t)]
    never = [c for c, t in labels.items() if _NOT_AT_ALL.search(t)]
    if not very and not never:
        return None
    if very and never:
        return min(very) < min(never)
    if very:
        return min(very) <= 1
    return min(never) > 1


def resolve_reverse(layout: Layout, labels: dict[str, dict[float, str]], file: str, reverse: bool | None) -> tuple[bool, str]:
    """(reverse, where the orientation came from). Labels that contradict the layout or `reverse` are an error."""
    said: dict[bool, list[str]] = {True: [], False: []}
    for item, col in layout.items.items():
        o = orientation(labels.get(col, {}))
        if o is not None:
            said[o].append(col)
    if said[True] and said[False]:
        raise PopsimError(f"{file}: the value labels code the items in both directions (column {said[True][0]} has "
                          f"1 = very much like me, column {said[False][0]} the opposite); recode the file so every "
                          "item runs the same way")
    from_labels = True if said[True] else False if said[False] else None
    assumed = reverse if reverse is not None else layout.reverse
    if from_labels is None:
        if assumed is None:
            return False, "assumed 1 = not like me at all ... 6 = very much like me (no value labels; --reverse if not)"
        return assumed, f"{layout.name} coding (no value labels to check)" if reverse is None else "--reverse"
    if assumed is not None and assumed != from_labels:
        col = (said[True] or said[False])[0]
        end = "1" if from_labels else "6"
        if reverse is None:
            who, fix = (f"the {layout.name} layout (1 = very much like me)",
                        "check that it is an {layout.name} file, or map its items with --map ITEM=COLUMN so the "
                        "labels orient the scale".format(layout=layout))
        else:
            who, fix = ("--reverse", "drop --reverse") if reverse else ("the mapping without --reverse", "add --reverse")
        raise PopsimError(f"{file}: column {col} labels code {end} 'very much like me', which contradicts {who}; {fix}")
    return from_labels, "value labels"
