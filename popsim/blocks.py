"""Many agents answering many items in blocks: the same answers without one Python object per agent x item.

A questionnaire poses every item to every agent: `QuestionGrid(agents, items, ...)` is that list of
`Question`s (agent-major, as a scenario would build it) without building them; any code that iterates it gets
the usual `Question` objects. The LLM policy answers a grid with a fixed option order in blocks
(`answer_grid`): the agents that share a persona and a gender ask the same asks (one ask per block x item,
in the order a question list would first name them, so the engine and the model see what they saw before),
each agent draws its uniform numbers for all its items at once from its own generator (the same numbers as one
draw per question: the draws come in question order), and every answer of a block x item is read from one
inverse-CDF search. The result, `AnswerBlock`, is the list of `Answer`s (built only where someone reads one)
and carries the answer table's columns for `PopulationModel._record`. Answers are identical to the
question-by-question path (tests/test_model.py, against tables written before blocks existed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import prompts
from .agents import draw_uniforms
from .questions import Answer, QuestionGrid, Reading



class AnswerBlock(Sequence):
    """The answers of a `QuestionGrid`, one per question in its order; `Answer` objects are made on access.
    `columns(round_)` gives the answer table's columns (see `PopulationModel.answers_frame`)."""

    def __init__(self, grid: QuestionGrid, readings: list[Reading], hashes: list[str], methods: list[str],
                 errors: list, which: np.ndarray, points: np.ndarray):
        self.grid, self.readings, self.hashes, self.methods, self.errors = grid, readings, hashes, methods, errors
        self.which, self.points = which, points  # per question: its reading (block x item), its sampled point

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        q, w = self.grid[i], int(self.which[i if i >= 0 else i + len(self)])
        r = self.readings[w]
        return Answer(q, float(self.points[i]), r.probs, r.validity, r.order, self.hashes[w], self.methods[w],
                      self.errors[w], r.mean)

    def columns(self, round_: int) -> dict[str, tuple]:
        """The answer table's columns, each as (values, codes): the column is `values[codes]` (its distinct values
        once, e.g. one per reading), or `values` itself where codes is None (see `PopulationModel.answers_frame`)."""
        n, k = len(self.grid.agents), len(self.grid.items)
        w = self.which
        probs = [list(r.probs) for r in self.readings]  # one list per reading, shared by its answers (as before)
        return {"agent": (np.repeat(np.array([a.index for a in self.grid.agents], dtype=np.int64), k), None),
                "round": (np.full(n * k, round_, dtype=np.int64), None),
                "item": ([it.id for it in self.grid.items], np.tile(np.arange(k), n)),
                "kind": (["item"], np.zeros(n * k, dtype=np.intp)), "answer": (self.points, None),
                "expected": ([r.mean for r in self.readings], w), "probs": (probs, w),
                "order": ([r.order for r in self.readings], w), "validity": ([r.validity for r in self.readings], w),
                "prompt_hash": (self.hashes, w), "method": (self.methods, w), "error": (self.errors, w)}


def answer_grid(policy: Any, grid: QuestionGrid, desc: str) -> AnswerBlock:
    """`policy.answer(grid)` in blocks of agents that ask the same asks (fixed option order). `policy` is the
    `LLMPolicy` that calls this (its persona, option order, country, temperature and engine; not imported here, so
    the dependency runs one way: policy -> blocks)."""
    items, k = grid.items, len(grid.items)
    fixed = [prompts.present_options(it, policy.option_order) for it in items]
    blocks: dict[tuple, int] = {}  # (persona, gender) -> block number, in order of first appearance
    block_of = np.empty(len(grid.agents), dtype=np.intp)
    asks = []
    for j, a in enumerate(grid.agents):
        persona = policy.persona(a)
        b = blocks.get((persona, a.gender))
        if b is None:
            b = blocks[(persona, a.gender)] = len(blocks)
            asks += [prompts.build_ask(persona, prompts.item_text(it, grid.instruction, grid.question, pres,
                                                                  gender=a.gender, country=policy.country), pres.labels)
                     for it, pres in zip(items, fixed)]
        block_of[j] = b
    sizes = np.bincount(block_of, minlength=len(blocks))
    dists = policy.engine.resolve(asks, desc=desc, repeats=np.repeat(sizes, k).tolist())
    # every agent's uniform numbers for its items, drawn as one draw per question would (question order)
    u = draw_uniforms(list(grid.agents), k)
    readings, read = [], {}
    for d, it, pres in zip(dists, items * len(blocks), fixed * len(blocks)):
        key = (id(d), pres.points, it.scale.points)
        if key not in read:
            read[key] = Reading.of(d, pres, it.scale.points, policy.temperature)
        readings.append(read[key])
    which = (block_of[:, None] * k + np.arange(k)[None, :]).ravel()
    points = np.full(len(which), np.nan)
    uu = u.ravel()
    order = np.argsort(which, kind="stable")  # the questions of each block x item, together
    ends = np.cumsum(np.bincount(which, minlength=len(readings)))
    for w, r in enumerate(readings):  # one inverse-CDF search per block x item (`policy.draw_point` for all)
        rows = order[(ends[w - 1] if w else 0):ends[w]]
        if r.cdf and len(rows):
            cdf = np.asarray(r.cdf)
            idx = np.minimum(np.searchsorted(cdf, uu[rows] * r.cdf[-1], side="right"), len(r.points) - 1)
            points[rows] = np.asarray(r.points, dtype=float)[idx]
    return AnswerBlock(grid, readings, [a.prompt_hash for a in asks], [d.method for d in dists],
                       [d.error for d in dists], which, points)
