"""The browser assets the Solara page needs, for machines without access to Solara's CDN.

Solara's server fetches its JavaScript app, require.js and Font Awesome from a CDN the first time a
page asks for them and keeps them in its proxy cache (`<venv>/share/solara/cdn/`). Where that CDN
cannot be reached the page stays blank. `ensure_assets()` fills the cache from the npm registry with
`npm pack` (the ordinary npm client) instead; it does nothing when the files are already there.

    python -m popsim.page.assets          # once per virtualenv (setup.sh can do it)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: the npm packages the page template loads, and a file of each that proves the package is in place
PACKAGES: dict[str, str] = {
    "@widgetti/solara-vuetify3-app@5.2.0": "dist/solara-vuetify-app8.min.js",
    "requirejs@2.3.6": "require.js",
    "font-awesome@4.5.0": "css/font-awesome.min.css",
}


def cache_dir() -> Path:
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing(folder: Path | None = None) -> list[str]:
    folder = folder or cache_dir()
    return [pkg for pkg, probe in PACKAGES.items() if not (folder / pkg / probe).is_file()]


def ensure_assets(folder: Path | None = None, *, timeout: float = 300) -> list[str]:
    """Put the missing packages into Solara's proxy cache; returns the names installed."""
    folder = folder or cache_dir()
    todo = missing(folder)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"the Solara page needs {', '.join(todo)} in {folder}, and npm is not installed to fetch "
                           "them (apt-get install npm), nor is Solara's CDN reachable")
    with tempfile.TemporaryDirectory() as tmp:
        res = subprocess.run([npm, "pack", "--silent", *todo], cwd=tmp, capture_output=True, text=True,
                             timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"npm pack {' '.join(todo)} failed: {res.stderr.strip()[-500:]}")
        for pkg in todo:
            tgz = Path(tmp) / _tarball_name(pkg)
            if not tgz.is_file():
                raise RuntimeError(f"npm pack did not write {tgz.name}: {res.stdout[-300:]}")
            _unpack(tgz, folder / pkg)
    still = missing(folder)
    if still:
        raise RuntimeError(f"after npm pack, {', '.join(still)} are still not complete in {folder}")
    return todo


def _tarball_name(spec: str) -> str:
    """'@widgetti/solara-vuetify3-app@5.2.0' -> 'widgetti-solara-vuetify3-app-5.2.0.tgz' (npm pack's name)."""
    name, version = spec.rsplit("@", 1)
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _unpack(tgz: Path, dest: Path) -> None:
    """Unpack an npm tarball (files under `package/`) into `dest`, refusing paths that leave it."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    root = tmp.resolve()
    with tarfile.open(tgz, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name.split("/", 1)[1] if "/" in member.name else member.name
            target = (tmp / name).resolve()
            if root not in target.parents:
                raise RuntimeError(f"{tgz.name}: refusing the path {member.name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def main() -> int:
    try:
        done = ensure_assets()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"popsim page assets: {exc}", file=sys.stderr)
        return 1
    print(f"popsim page assets: {'installed ' + ', '.join(done) if done else 'already in place'} ({cache_dir()})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
