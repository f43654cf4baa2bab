"""Scenarios: one file each. Loaded by name (popsim.scenarios.<name>) or from a path; never at import of popsim."""
