"""Package discovery for the wheel: every package under popsim/ (found, never listed by hand), plus the two
top-level folders installed inside it (`human_data/` as popsim.human_data, `scenarios/` as popsim.scenarios).
Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["popsim", "popsim.*"]) + ["popsim.human_data", "popsim.scenarios"])
