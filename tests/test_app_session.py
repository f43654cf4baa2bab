"""The page's plain-Python parts (no browser): settings, the stepping session with Cancel, the view helpers.

The session tests use the scripted backend (a deterministic test double) and the reference policy, so they
check the page's plumbing (build, step, cancel, evaluate into a temporary run folder), not the LLM; the
real embedded model is driven through the page in tests/test_app.py.
"""

from __future__ import annotations

import json
import tarfile
import io

import pytest

from popsim.errors import BackendUnavailable, PopsimError
from popsim.page import settings as S
from popsim.page.session import Cancelled, Session, describe_error, profile_table
from popsim.page.views import (comparison, find_runs, frame_markdown, markdown_html, read_report, run_figures,
                               split_markdown)


# ------------------------------------------------------------------------------------------ settings


@pytest.mark.parametrize("change, words", [
    ({"n_agents": 0}, "Number of agents must be a whole number of at least 1, got 0"),
    ({"n_agents": -3}, "at least 1"),
    ({"n_agents": S.MAX_AGENTS + 1}, "at most"),
    ({"temperature": 2.5}, "the Temperature must be a number between 0 and 2"),
    ({"scenario": "public_goods", "rounds": 0}, "Rounds must be"),
    ({"network": "small_world", "n_agents": 2}, "needs at least 3 agents"),
    ({"backend": "openai", "base_url": "localhost:8000"}, "not an http(s) URL"),
    ({"backend": "openai", "base_url": ""}, "needs a base URL"),
    ({"backend": "openai", "model": ""}, "needs a model name"),
    ({"backend": "openai", "model": "m", "api_key_env": "HOME"}, "not allowed"),
    ({"population": "FR"}, "unknown population 'FR'"),
])
def test_bad_settings_say_what_to_fix(change, words):
    """What the page shows (the check's message, flags worded as the page's controls)."""
    with pytest.raises(PopsimError) as exc:
        S.Settings(**change).check()
    assert words in describe_error(exc.value)


def test_settings_make_the_cli_keyword_arguments(tmp_path):
    s = S.Settings(n_agents=8, scenario="public_goods", rounds=3, network="small_world", backend="openai",
                   base_url=" http://127.0.0.1:8000/v1 ", model="m", seed=5, temperature=0.5).check()
    kw = s.model_kwargs(tmp_path / "c.sqlite")
    assert kw["n_agents"] == 8 and kw["rng"] == 5 and kw["temperature"] == 0.5
    assert kw["scenario_options"] == {"rounds": 3}
    assert kw["backend_options"] == {"base_url": "http://127.0.0.1:8000/v1", "model": "m", "api": "chat",
                                     "api_key_env": "OPENAI_API_KEY"}
    assert "api_key" not in json.dumps(kw, default=str).replace("api_key_env", "")
    assert S.Settings().model_kwargs(tmp_path / "c")["scenario_options"] == {}


def test_only_key_like_variables_may_name_the_api_key(monkeypatch):
    monkeypatch.setenv("MY_API_KEY", "secret")
    assert S.key_is_set("MY_API_KEY")
    assert not S.key_is_set("PATH")  # set, but not a key variable: never read
    assert S.KEY_ENV.match("HF_TOKEN") and not S.KEY_ENV.match("SECRET")


def test_errors_are_one_line_in_the_pages_words():
    assert describe_error(BackendUnavailable("cannot reach x; start the server or fix --base-url")) == \
        "cannot reach x; start the server or fix the Base URL"
    assert "--model-path" in describe_error(PopsimError("pass --model-path"))
    msg = describe_error(KeyError("mean_share"))
    assert "KeyError" in msg and "\n" not in msg and "Traceback" not in msg


# ------------------------------------------------------------------------------------------ session


@pytest.fixture
def session(tmp_path):
    s = Session(cache_path=tmp_path / "answers.sqlite")
    yield s
    s.close()


def test_a_session_steps_and_evaluates_into_a_temporary_run_folder(session):
    session.build(S.Settings(n_agents=12, backend="scripted"))
    first = session.snapshot()
    assert first.round == 0 and first.metrics is None and len(first.agents) == 12
    assert "measured_mean" not in profile_table(first)
    folder = session.folder
    session.step()
    snap = session.snapshot()
    assert snap.round == 1 and not snap.running
    assert snap.evaluation_error is None
    assert {"circumplex", "heatmaps", "manipulation"} <= set(snap.figures)
    assert all(png[:4] == b"\x89PNG" for png in snap.figures.values())
    assert "## Verdict" in snap.report_md
    table = profile_table(snap)
    assert list(table["value"]) == ["SD", "ST", "HE", "AC", "PO", "SE", "CO", "TR", "BE", "UN"]
    assert table[["human_mean", "population_mean", "measured_mean"]].notna().all().all()
    config = json.loads((folder / "config.json").read_text())
    assert config["identity"]["n_agents"] == 12 and config["identity"]["backend"] == "scripted"
    with pytest.raises(PopsimError, match="finished"):
        session.step()
    session.build(S.Settings(n_agents=5, policy="reference"))  # a new model removes the old temporary folder
    assert not folder.exists()


def test_cancel_stops_after_the_current_chunk_and_the_round_resumes_from_the_cache(session):
    session.build(S.Settings(n_agents=6, backend="scripted"))
    session.model.backend.chunk_size = 10
    seen = []

    def on_progress(p):
        seen.append((p.done, p.total))
        if p.done:
            session.cancel()  # the user presses Cancel during the first chunk

    with pytest.raises(Cancelled):
        session.step(on_progress)
    stats = session.model.engine.stats
    assert stats.calls == 10 and session.model.round == 0  # one chunk asked; the round not recorded
    assert seen[-1][0] == 10 and seen[-1][1] > 10
    session.clear_cancel()
    session.step()
    assert session.model.round == 1
    assert session.model.engine.stats.hits == 10  # the cancelled chunk's answers came from the cache


def test_a_game_on_a_network_gets_its_views_from_the_live_model(session):
    session.build(S.Settings(n_agents=8, backend="scripted", scenario="public_goods", rounds=2, network="small_world"))
    session.step()
    session.step()
    snap = session.snapshot()
    g = snap.game
    assert g is not None and g.outcome == "contribution"
    assert list(g.per_round["round"]) == [1, 2]
    assert g.per_round["mean_share"].between(0, 1).all()
    assert g.rounds_png[:4] == b"\x89PNG" and g.network_png[:4] == b"\x89PNG"
    assert set(g.value_r["value"]) >= {"UN", "PO"} and g.reference["mean_share"] == pytest.approx(0.377)
    # whatever the evaluation does with a multi-round game, the page gets a snapshot, never an exception
    assert snap.evaluation_error is None or "\n" not in snap.evaluation_error


def test_a_bad_setting_keeps_the_previous_model(session):
    session.build(S.Settings(n_agents=4, policy="reference"))
    model = session.model
    with pytest.raises(PopsimError, match="at least 1"):
        session.build(S.Settings(n_agents=0))
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        session.build(S.Settings(backend="openai", base_url="http://127.0.0.1:9/v1", model="m"))
    assert session.model is model and session.folder.exists()


# ------------------------------------------------------------------------------------------ views


def test_markdown_is_rendered_without_raw_html():
    html = markdown_html("# T\n\n<img src=x onerror=alert(1)> q < .05 `a<b`\n\n| a | b |\n|---|---|\n| 1 | 2.5 |")
    assert "<img" not in html and "&lt;img" in html
    assert "<table>" in html and "<td>2.5</td>" in html
    assert "<code>a&lt;b</code>" in html


def test_frame_markdown_rounds_numbers_and_marks_missing():
    import pandas as pd

    text = frame_markdown(pd.DataFrame({"value": ["SD", "ST"], "r": [0.12345, float("nan")], "n": [3, 4]}), 2)
    assert "| SD | 0.12 | 3 |" in text and "| ST | n/a | 4 |" in text


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A folder with two finished runs (scripted backend and reference policy) and a study report."""
    from popsim.reporting.runs import execute

    root = tmp_path_factory.mktemp("saved")
    cache = root / "answers.sqlite"
    execute(root / "study" / "llm", n_agents=12, backend="scripted", cache_path=cache, progress=False, rng=1)
    execute(root / "study" / "ref", n_agents=12, policy="reference", cache_path=cache, progress=False, rng=1)
    (root / "study" / "report.md").write_text("# study\n\nsee the runs\n")
    return root


def test_saved_runs_are_found_and_their_reports_split_at_figures(saved):
    entries = find_runs(saved)
    kinds = {e.path.name: e.kind for e in entries}
    assert kinds == {"study": "study", "llm": "run", "ref": "run"}
    run = next(e for e in entries if e.path.name == "llm")
    assert "ess21" in run.label and "12 agents" in run.label
    parts = split_markdown(read_report(run), run.path)
    imgs = [body for kind, body in parts if kind == "img"]
    assert len(imgs) >= 3 and all(png[:4] == b"\x89PNG" for _, png in imgs)
    assert any(kind == "md" and "Verdict" in body for kind, body in parts)
    names = list(run_figures(run.path))
    assert "circumplex" in names and names.index("circumplex") < names.index("heatmaps")


def test_a_report_cannot_pull_files_from_outside_its_run_folder(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "secret.png").write_bytes(b"\x89PNG not yours")
    parts = split_markdown("![x](../secret.png)\n\n![y](/etc/passwd)", tmp_path / "run")
    assert all(kind == "md" for kind, _ in parts)


def test_two_runs_compare_side_by_side(saved):
    t = comparison([saved / "study" / "llm", saved / "study" / "ref"])
    assert list(t.columns) == ["metric", "llm", "ref"]
    row = t.set_index("metric").loc["structure_r"]
    assert all(isinstance(x, float) for x in row)


def test_folders_without_runs_say_so(tmp_path):
    with pytest.raises(PopsimError, match="does not exist"):
        find_runs(tmp_path / "nope")
    with pytest.raises(PopsimError, match="no popsim run"):
        find_runs(tmp_path)


def test_asset_tarballs_cannot_write_outside_their_folder(tmp_path):
    from popsim.page.assets import _tarball_name, _unpack

    assert _tarball_name("@widgetti/solara-vuetify3-app@5.2.0") == "widgetti-solara-vuetify3-app-5.2.0.tgz"
    assert _tarball_name("requirejs@2.3.6") == "requirejs-2.3.6.tgz"
    good, bad = tmp_path / "good.tgz", tmp_path / "bad.tgz"
    for path, name in ((good, "package/dist/a.js"), (bad, "package/../../evil.js")):
        with tarfile.open(path, "w:gz") as tar:
            info = tarfile.TarInfo(name)
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    _unpack(good, tmp_path / "out" / "pkg@1")
    assert (tmp_path / "out" / "pkg@1" / "dist" / "a.js").read_bytes() == b"abc"
    with pytest.raises(RuntimeError, match="refusing"):
        _unpack(bad, tmp_path / "out" / "evil@1")
    assert not (tmp_path / "evil.js").exists()


def test_the_page_and_the_report_show_the_same_game_numbers(session):
    # one computation (popsim.analysis.games) behind the live view and the run report
    session.build(S.Settings(n_agents=12, backend="scripted", scenario="public_goods", rounds=2))
    session.step()
    session.step()
    snap = session.snapshot()
    assert snap.evaluation_error is None, snap.evaluation_error
    g = snap.metrics.game
    assert snap.game.per_round["mean_share"].tolist() == pytest.approx([r["mean_share"] for r in g.per_round],
                                                                       abs=1e-6)
    page_r = snap.game.value_r.set_index("value")["r"]
    for row in g.value_correlations:
        if row["r"] is not None:
            assert page_r[row["value"]] == pytest.approx(row["r"], abs=1e-6)
