"""Human reference data (aggregates only). Provenance: README.md in this folder; API: popsim.datasets."""
