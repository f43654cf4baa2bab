"""`Sample`: one human sample, shipped or imported, behind one interface: its tables, its respondents
where they exist, its provenance. `list_samples()`, `load_sample(name)`, `describe(name)`.

The tables of both kinds are read by the same loaders (`popsim.datasets.value_stats(sample)` ...), which
is what the copula, the strategies, the evaluation and the reports use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import datasets
from ..errors import PopsimError
from .. import userdata

_SHIPPED_INFO = {
    "SE_ESS1-8": dict(survey="ESS cumulative rounds 1-8 (2002-2016), pooled", country="SE", weights=None,
                      citation=datasets.ESS18_CITE, license=datasets.ESS_LICENSE),
    "DE_ESS9": dict(survey="ESS round 9 (2018), edition 3.1", country="DE", weights="pspwght",
                    citation=datasets.ESS9_CITE, license=datasets.ESS_LICENSE),
    "US_GSS2012": dict(survey="General Social Survey 2012, Schwartz values module", country="US", weights=None,
                       citation=datasets.GSS_CITE, license="GSS public data"),
}


@dataclass(frozen=True)
class Sample:
    """A human sample. `kind` is 'shipped' (aggregates in human_data/, no respondents) or 'imported'."""

    name: str
    kind: str
    provenance: dict
    data_dir: Path | None = None

    def table(self, table: str) -> pd.DataFrame:
        """One aggregate table (the name of a human_data file without .csv, or 'demographics')."""
        return datasets.sample_table(table, self.name, data_dir=self.data_dir)

    @property
    def n(self) -> int:
        return int(self.table("sample_sizes")["n_scored"].iloc[0])

    @property
    def instrument(self) -> str:
        return self.provenance.get("instrument", "ess21")

    @property
    def outcomes(self) -> list[str]:
        return list(dict.fromkeys(self.table("behavior_distributions")["item"]))

    @property
    def demographics(self) -> list[str]:
        """The demographics its respondents carry (gender, age, education, country), in that order."""
        have = self.provenance.get("demographics", {})
        return [d for d in ("gender", "age", "education", "country") if d in have]

    @property
    def has_respondents(self) -> bool:
        return self.kind == "imported"

    def respondents(self) -> pd.DataFrame:
        """One row per scored respondent: respondent, source_row, weight, the value items (1..6, 6 = very much
        like me, NaN = no answer), the outcomes (own codes), gender, age, education, country where present."""
        if not self.has_respondents:
            raise PopsimError(f"{self.name} is a shipped sample: popsim ships its aggregates only (ESS terms), no "
                              "respondents; import a respondent-level file (popsim data import) for that")
        return userdata.read_respondents(self.name, self.data_dir)


def load_sample(name: str, *, data_dir=None) -> Sample:
    """A shipped sample (SE_ESS1-8, DE_ESS9, US_GSS2012) or an imported one from the data folder."""
    if name in datasets.SAMPLES:
        info = dict(_SHIPPED_INFO[name], name=name, kind="shipped", instrument="ess21",
                    source={"file": "human_data/ (aggregates only)"},
                    outcomes=["(the 14 ESS round 9 questions)"] if name == "DE_ESS9" else [])
        return Sample(name, "shipped", info)
    prov = userdata.read_provenance(name, data_dir)
    return Sample(name, "imported", prov, userdata.data_dir(data_dir))


def list_samples(*, data_dir=None) -> pd.DataFrame:
    """Shipped and imported samples. Columns: name, kind, n, weights, instrument, outcomes, demographics,
    source, sha256, imported_at."""
    rows = []
    for name in datasets.SAMPLES:
        s = load_sample(name)
        rows.append(dict(name=name, kind="shipped", n=s.n, weights=s.provenance["weights"] or "none",
                         instrument="ess21", outcomes=14 if name == "DE_ESS9" else 0, demographics="",
                         source=s.provenance["survey"], sha256="", imported_at=""))
    for name in userdata.imported_names(data_dir):
        try:
            s = load_sample(name, data_dir=data_dir)
            p = s.provenance
            rows.append(dict(name=name, kind="imported", n=p.get("rows_imported"),
                             weights=(p.get("weights") or {}).get("column") or "none", instrument=s.instrument,
                             outcomes=len(p.get("outcomes", [])), demographics=", ".join(s.demographics),
                             source=p["source"]["file"], sha256=p["source"]["sha256"][:12],
                             imported_at=p.get("imported_at", "")))
        except PopsimError as exc:  # a damaged folder is listed, not fatal
            rows.append(dict(name=name, kind="damaged", n=None, weights="", instrument="", outcomes=0,
                             demographics="", source=str(exc), sha256="", imported_at=""))
    return pd.DataFrame(rows)


def describe(name: str, *, data_dir=None) -> str:
    """A readable account of a sample: what it is, where it came from, the rules applied (`popsim data show`)."""
    s = load_sample(name, data_dir=data_dir)
    p = s.provenance
    if s.kind == "shipped":
        return (f"{name} (shipped): {p['survey']}; n scored {s.n}; weights {p['weights'] or 'none'}\n"
                f"  aggregates only (no respondents); citation: {p['citation']}; license: {p['license']}")
    w = p.get("weights")
    lines = [f"{name} (imported {p.get('imported_at', '?')} with popsim {p.get('popsim_version', '?')})",
             f"  source: {p['source']['file']} ({p['source']['format']}, {p['source']['bytes']:,} bytes)",
             f"  sha256: {p['source']['sha256']}",
             f"  layout: {p['layout']}; instrument {p['instrument']}; scale orientation: "
             f"{'reversed (7 - code)' if p['orientation']['reversed'] else 'as in the file'} ({p['orientation']['from']})",
             f"  filters: {_kv(p.get('filters')) or 'none'}",
             f"  weights: {w['column']} (sum {w['sum']:.1f}, range {w['min']:.3g}..{w['max']:.3g}, effective n "
             f"{w['effective_n']:.0f})" if w else "  weights: none",
             f"  rows read {p['rows_read']}, imported {p['rows_imported']}; dropped: "
             + ", ".join(f"{v} ({k})" for k, v in p["rows_dropped"].items()),
             f"  mapping: {'the ' + p['layout'] + ' variable names' if p['layout'] != 'mapping' else _kv(p['mapping'])}",
             f"  missing codes seen on value items: {_kv({k: v for k, v in p['missing_codes']['value_items'].items() if v}) or 'none'}",
             f"  outcomes: {', '.join(p.get('outcomes', [])) or 'none'}",
             f"  missing codes seen on outcomes: {_kv({k: v for k, v in p['missing_codes']['outcomes'].items() if v}) or 'none'}",
             f"  demographics: {_kv(p.get('demographics')) or 'none'}",
             f"  stored in {userdata.folder(name, data_dir)} (respondent-level: keep it on this machine)"]
    lines += [f"  note: {n}" for n in p.get("notes", [])]
    return "\n".join(lines)


def _kv(d) -> str:
    if not d:
        return ""
    return ", ".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in d.items())
