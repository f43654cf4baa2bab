"""Studies made of many runs: sensitivity sweeps (`sweep`), the paper's replication (`replicate`) and the demo."""
