"""Run by bench_peer.py in a separate virtualenv that has EDSL (never the project's): administer the
questionnaire in SPEC (personas x items, JSON) to EDSL agents through an OpenAI-compatible server.

    /tmp/peer/bin/python benchmarks/peer_edsl.py --base-url http://127.0.0.1:PORT/v1 --spec spec.json

Prints one JSON line: answers, failures (no valid option), seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def _exceptions(results) -> list[str]:
    """The first few exceptions EDSL recorded (it catches them and leaves the answer empty)."""
    out = []
    try:
        for interview in results.task_history.total_interviews:
            for name, entries in interview.exceptions.items():
                for e in entries:
                    out.append(f"{name}: {getattr(e, 'name', '')} {str(getattr(e, 'exception', e))[:300]}")
    except Exception as exc:  # noqa: BLE001 - diagnostics only
        out.append(f"(could not read the task history: {exc!r})")
    return out[:5]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--spec", required=True)
    args = ap.parse_args()
    os.environ["OPENAI_COMPATIBLE_BASE_URL"] = args.base_url
    os.environ.setdefault("OPENAI_COMPATIBLE_API_KEY", "local")
    spec = json.loads(open(args.spec, encoding="utf-8").read())

    t_import = time.perf_counter()
    from edsl import Agent, AgentList, Model, QuestionMultipleChoice, Survey

    import_seconds = time.perf_counter() - t_import
    agents = AgentList([Agent(name=f"persona{i}", traits={"persona": p or "none"}, instruction=p or "")
                        for i, p in enumerate(spec["personas"])])
    questions = [QuestionMultipleChoice(question_name=f"q{j}", question_text=it["text"], question_options=it["options"])
                 for j, it in enumerate(spec["items"])]
    model = Model(args.model, service_name="openai_compatible", temperature=0.0, max_tokens=200)
    t = time.perf_counter()
    results = Survey(questions).by(agents).by(model).run(disable_remote_cache=True, disable_remote_inference=True,
                                                         cache=False, print_exceptions=False, progress_bar=False)
    seconds = time.perf_counter() - t
    answers = failures = 0
    examples = []
    for row in results:
        if len(examples) < 3:
            examples.append({k: str(v)[:300] for k, v in row.get("raw_model_response", {}).items()
                             if k.endswith("raw_model_response")} or str(row["answer"])[:300])
        for j, it in enumerate(spec["items"]):
            answers += 1
            a = row["answer"].get(f"q{j}")
            if a not in it["options"]:
                failures += 1
    print(json.dumps({"answers": answers, "failures": failures, "seconds": seconds, "import_seconds": import_seconds,
                      "examples": examples, "exceptions": _exceptions(results),
                      "edsl": __import__("edsl").__version__}))


if __name__ == "__main__":
    main()
