"""Human samples, shipped or imported, behind one interface.

    from popsim import samples
    s = samples.import_sample("ESS10.csv", "FR_ESS10", filters={"cntry": "FR"}, weight="anweight")
    samples.list_samples()                  # shipped and imported: n, weights, source hash, date
    s = samples.load_sample("FR_ESS10")     # a Sample: .table("value_stats"), .respondents(), .provenance
    print(samples.describe("FR_ESS10"))     # the import record
    samples.remove_sample("FR_ESS10")

An imported sample's tables have the columns of the shipped ones, so every loader of `popsim.datasets`
that takes a sample (value_stats, item_stats, value_correlations, ..., behavior_distributions,
joint_item_correlations) answers for it, and the copula, the strategies, the evaluation and the reports
use it unchanged. Modules: `readers` (file formats), `layouts` (ESS, GSS, mappings), `clean` (recoding and
checks), `tables` (the aggregates), `importer`, `sample` (`Sample`). Where imported samples are kept (the user
data folder) is `popsim.userdata`, below both this package and `popsim.datasets`, which reads imported tables
through it; the modules here build on `datasets` (attributes below load on first use).
"""

from __future__ import annotations

from ..userdata import data_dir, imported_names, remove_sample

_LAZY = {"Sample": "sample", "load_sample": "sample", "list_samples": "sample", "describe": "sample",
         "import_sample": "importer"}

__all__ = ["Sample", "data_dir", "describe", "import_sample", "imported_names", "list_samples", "load_sample",
           "remove_sample"]


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
