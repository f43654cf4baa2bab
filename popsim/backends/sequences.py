"""Several token sequences in one llama.cpp decode call, for the embedded model's `batch_sequences=k > 1`.

A second llama.cpp context on the loaded weights holds the persona prefix once and a copy of it per ask; the
asks' own tokens are evaluated together (see `embedded.py` for when this pays, and
tests/test_embedded_batching.py for the proof that the numbers are the sequential path's).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import BackendUnavailable, PopsimError

_CONTEXTS: list = []  # extra contexts (batched scoring) on loaded models: freed before their models (embedded.py)


def common_prefix(a, b) -> int:
    """Length of the common prefix of two token sequences."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    neq = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return int(neq[0]) if neq.size else n


def _log_softmax(ptr, n_vocab: int) -> np.ndarray:
    logits = np.ctypeslib.as_array(ptr, shape=(n_vocab,)).astype(np.float64)
    return logits - np.logaddexp.reduce(logits)


def _sequences(llm, k: int, need: int, n_threads: int) -> "_Sequences":
    """The multi-sequence context for `llm` and k, shared by every backend on that model (one per process,
    like the model): reused while its KV streams are long enough, replaced by a larger one otherwise."""
    for seqs in _CONTEXTS:
        if seqs.llm is llm and seqs.k == k:
            if seqs.n_ctx_seq >= need:
                return seqs
            seqs.close()
            _CONTEXTS.remove(seqs)
            break
    # k sequences for the asks, k // 2 spare for the option walk's side branches; cells in steps of 256
    seqs = _Sequences(llm, n_seq=k + 1 + max(1, k // 2), n_threads=n_threads, n_ctx_seq=-(-need // 256) * 256)
    seqs.k = k
    _CONTEXTS.append(seqs)
    return seqs


class _Sequences:
    """A second llama.cpp context on the loaded weights that holds several token sequences at once.

    Sequence 0 holds the shared prefix (`base`); each ask of a window gets its own sequence, a copy of
    sequence 0's KV cells (`llama_memory_seq_cp`), and the asks' own tokens are evaluated together in
    one `llama_decode` call. Each sequence has its own KV stream of `n_ctx_seq` cells (`kv_unified =
    false`): with a unified KV cache, llama-cpp-python 0.3.16's llama.cpp gave wrong logits to the
    second and later sequences sharing copied cells (off by up to 0.6 in log-probability), while
    separate streams agree exactly with a one-sequence evaluation.
    """

    def __init__(self, llm, *, n_seq: int, n_threads: int, n_ctx_seq: int, n_batch: int = 2048):
        import llama_cpp

        self.lib = llama_cpp
        self.llm = llm
        self.k = n_seq
        p = llama_cpp.llama_context_default_params()
        p.n_ctx = n_ctx_seq * n_seq
        p.n_batch = n_batch
        p.n_ubatch = min(512, n_batch)
        p.n_seq_max = n_seq
        p.n_threads = n_threads
        p.n_threads_batch = n_threads
        p.kv_unified = False
        p.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(llm.model, p)
        if not self.ctx:
            raise BackendUnavailable(f"llama.cpp could not create a context with {n_seq} sequences")
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self.n_ctx_seq, self.n_batch, self.n_seq = n_ctx_seq, n_batch, n_seq
        self.n_vocab = llm.n_vocab()
        self.base: list[int] = []  # the tokens sequence 0 holds
        self.seq_of: dict[tuple, int] = {}  # evaluated state -> a sequence that holds it at positions [0, len)
        self.tip: dict[int, int] = {}  # sequence -> number of positions it holds
        self.decodes = 0

    def close(self) -> None:
        if self.ctx is not None:
            self.lib.llama_batch_free(self.batch)
            self.lib.llama_free(self.ctx)
            self.ctx = None

    def decode(self, entries: list[tuple[int, int, int, bool]]) -> list[np.ndarray]:
        """Evaluate (token, position, sequence, want logits) entries; log-softmax rows for the wanted ones."""
        out = []
        for start in range(0, len(entries), self.n_batch):
            part = entries[start:start + self.n_batch]
            b = self.batch
            b.n_tokens = len(part)
            for j, (tok, pos, seq, want) in enumerate(part):
                b.token[j] = tok
                b.pos[j] = pos
                b.n_seq_id[j] = 1
                b.seq_id[j][0] = seq
                b.logits[j] = want
            if not any(e[3] for e in part):
                b.logits[len(part) - 1] = True
            rc = self.lib.llama_decode(self.ctx, b)
            if rc != 0:
                raise PopsimError(f"llama.cpp could not evaluate a batch of {len(part)} tokens (llama_decode "
                                  f"returned {rc}); use a smaller batch_sequences or a larger n_ctx")
            self.decodes += 1
            out.extend(_log_softmax(self.lib.llama_get_logits_ith(self.ctx, j), self.n_vocab)
                       for j, e in enumerate(part) if e[3])
        return out

    def set_base(self, prefix: Sequence[int]) -> int:
        """Make sequence 0 hold exactly `prefix`, evaluating only what it does not hold yet (returned)."""
        prefix = list(prefix)
        keep = common_prefix(self.base, prefix)
        if keep == len(self.base) == len(prefix):
            return 0
        self.lib.llama_memory_seq_rm(self.mem, 0, keep, -1)
        if len(prefix) > keep:
            self.decode([(t, keep + j, 0, False) for j, t in enumerate(prefix[keep:])])
        self.base = prefix
        return len(prefix) - keep

    def start_window(self, roots: list[tuple], known: dict) -> int:
        """Evaluate each root (a full prompt starting with `base`) as its own sequence, in one call.

        Every sequence is padded to the longest one's length (repeating its last token after the scored
        position, then removed): llama.cpp splits a multi-sequence batch into micro-batches of equal length
        per sequence, and with unequal lengths it gave wrong logits at the last token of some sequences.
        """
        n = len(self.base)
        for s in range(1, self.n_seq):
            self.lib.llama_memory_seq_rm(self.mem, s, -1, -1)
        self.seq_of, self.tip = {}, {}
        states = list(dict.fromkeys(roots))  # identical prompts (other options) are evaluated once
        width = max(len(r) for r in states)
        entries = []
        for s, root in enumerate(states, 1):
            self.lib.llama_memory_seq_cp(self.mem, 0, s, -1, -1)  # streams are copied whole
            padded = root[n:] + (root[-1],) * (width - len(root))
            entries += [(t, n + j, s, n + j == len(root) - 1) for j, t in enumerate(padded)]
            self.seq_of[root], self.tip[s] = s, len(root)
        known.update(zip(states, self.decode(entries)))
        for s, root in enumerate(states, 1):
            if len(root) < width:
                self.lib.llama_memory_seq_rm(self.mem, s, len(root), -1)
        return len(entries)

    def extend_states(self, pending: list[tuple], known: dict) -> int:
        """Evaluate states that extend evaluated ones by one token, all in one call.

        A state goes onto its parent's sequence when that sequence ends at the parent; otherwise onto a
        free sequence that first gets the parent's cells. Sequences no pending state descends from are free.
        """
        needed = {self.seq_of[st[:-1]] for st in pending}
        free = [s for s in range(1, self.n_seq) if s not in needed]
        entries, states = [], []
        for st in pending:
            parent = st[:-1]
            ps = self.seq_of[parent]
            if self.tip[ps] == len(parent):
                s = ps
            elif free:
                s = free.pop(0)
                self.lib.llama_memory_seq_rm(self.mem, s, -1, -1)
                self.lib.llama_memory_seq_cp(self.mem, ps, s, -1, -1)  # streams are copied whole: then cut
                self.lib.llama_memory_seq_rm(self.mem, s, len(parent), -1)
            else:
                continue  # no sequence free this round: evaluated in the next one
            entries.append((st[-1], len(parent), s, True))
            self.seq_of[st], self.tip[s] = s, len(st)
            states.append(st)
        if not entries:
            raise PopsimError("internal error: the batched option walk made no progress")
        known.update(zip(states, self.decode(entries)))
        return len(entries)
