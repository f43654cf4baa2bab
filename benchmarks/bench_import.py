"""Import time of a 40,000-row ESS-layout file (issue 12): CSV, SPSS .sav and Stata .dta, side by side.

The file is test-made (`tests/microdata.py`: drawn from the DE_ESS9 copula with ESS coding, missing codes,
weights and demographics; no real microdata). Each round imports the three files in rotating order into
a temporary data folder (read the columns it needs, recode, score, every table, the respondent table, the
provenance record), and also times reading every column of the file (what an import without column
selection would pay). Prints the median seconds per format and the .sav/.csv ratio. An ESS
integrated file has some 500-600 variables: `--extra-columns` (default 500) pads the file with that many
further integer columns (codes 0..10), which the import reads and ignores.

    .venv/bin/python benchmarks/bench_import.py [--rows 40000] [--extra-columns 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import header, median, save  # noqa: E402

import microdata  # noqa: E402
from popsim import samples  # noqa: E402
from popsim.samples.readers import read_file  # noqa: E402

FORMATS = ("csv", "sav", "dta")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=40_000)
    ap.add_argument("--extra-columns", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    info = header(f"import of a {args.rows:,}-row ESS-layout file", argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        frame = microdata.ess_frame(args.rows, seed=1)
        rng = np.random.default_rng(0)
        pad = pd.DataFrame(rng.integers(0, 11, (len(frame), args.extra_columns)),
                           columns=[f"var{i:03d}" for i in range(args.extra_columns)])
        frame = pd.concat([frame, pad], axis=1)
        files = {fmt: microdata.write(frame, tmp / f"ess.{fmt}") for fmt in FORMATS}
        print(f"   wrote {len(frame):,} rows x {frame.shape[1]} columns as {', '.join(FORMATS)} in "
              f"{time.perf_counter() - t:.1f} s ({', '.join(f'{p.stat().st_size / 2**20:.1f} MiB' for p in files.values())})")
        samples.import_sample(files["csv"], "WARMUP", data_dir=tmp / "data")  # imports, caches of the instruments
        total = {f: [] for f in FORMATS}
        read = {f: [] for f in FORMATS}
        for r in range(args.rounds):
            order = FORMATS[r % 3:] + FORMATS[: r % 3]
            for fmt in order:
                t = time.perf_counter()
                read_file(files[fmt])
                read[fmt].append(time.perf_counter() - t)
                t = time.perf_counter()
                s = samples.import_sample(files[fmt], f"B_{fmt}", data_dir=tmp / "data", overwrite=True)
                total[fmt].append(time.perf_counter() - t)
            print(f"   round {r + 1}: " + ", ".join(f"{f} {total[f][-1]:.2f} s" for f in FORMATS))
        n = s.n
    out = {f: {"import_s": median(total[f]), "read_all_columns_s": median(read[f]), "rounds": total[f]} for f in FORMATS}
    print(f"   respondents imported: {n:,} of {len(frame):,} rows")
    for f in FORMATS:
        print(f"   {f:>4}: import {out[f]['import_s']:.2f} s (median of {args.rounds}; reading all "
              f"{frame.shape[1]} columns alone: {out[f]['read_all_columns_s']:.2f} s)")
    ratio = median([a / b for a, b in zip(total["sav"], total["csv"])])
    print(f"   .sav / .csv: {ratio:.2f}x")
    save("import", {"machine": info, "rows": len(frame), "columns": frame.shape[1], "imported": n, "formats": out,
                    "sav_over_csv": ratio})


if __name__ == "__main__":
    main()
