"""Named random streams of a run: one seed, and an independent generator per use, by name.

Every random draw of a run comes from one of these streams (NumPy `SeedSequence` entropy `[seed, stream, *index]`),
so one seed reproduces the run, and adding draws to one stream never shifts another's. The Mesa model's own
`rng` (`mesa.Model(rng=seed)`) is seeded with the same seed and is what Mesa's own methods use (e.g.
`AgentSet.shuffle_do`); popsim's draws use the named streams below, whose numbers must never change (the
answers of every earlier run depend on them).
"""

from __future__ import annotations

import numpy as np

#: stream name -> its fixed number (the second entropy word)
STREAMS: dict[str, int] = {
    "population": 0,  # who the agents are: strategy draws, synthetic twins, genders
    "agent": 1,  # one per agent (index): option orders and answer draws
    "network": 2,  # the social network
    "groups": 3,  # the public goods game's fixed groups when there is no network
}


def stream(seed: int, name: str, *index: int) -> np.random.Generator:
    """The generator of stream `name` (and `index`, e.g. the agent's) of a run with `seed`."""
    if name not in STREAMS:
        from .errors import unknown

        raise unknown("random stream", name, STREAMS)
    return np.random.default_rng([int(seed), STREAMS[name], *(int(i) for i in index)])


# ---------------------------------------------------------------------------------------------- many streams at once
# `uniforms` computes what `stream(seed, name, i).random(k)` gives for many indices i in NumPy, without one
# `Generator` per index (100,000 of them took 9 s): NumPy's `SeedSequence` (its pool of 4 words, hashmix and mix),
# the seeding of `PCG64` from 4 words of its state and PCG64's XSL-RR output, bit for bit (tests/test_seeds.py).
_POOL, _XSHIFT, _M32, _M64 = 4, 16, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = (2549297995355413924, 4865540595714422341)  # PCG's default 128-bit multiplier (high, low words)


def _words(n: int) -> list[int]:
    """An entropy integer as SeedSequence takes it: 32-bit words, least significant first ([0] for 0)."""
    out = [n & _M32]
    while n > _M32:
        n >>= 32
        out.append(n & _M32)
    return out


def _hashmix(value: np.ndarray, const: list[int]) -> np.ndarray:
    value = value ^ np.uint32(const[0])
    const[0] = (const[0] * _MULT_A) & _M32
    value = value * np.uint32(const[0])
    return value ^ (value >> np.uint32(_XSHIFT))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
    return r ^ (r >> np.uint32(_XSHIFT))


def _mul128(hi, lo, b_hi: int, b_lo: int):
    """(hi, lo) * (b_hi, b_lo) modulo 2**128, on uint64 arrays."""
    m, s = np.uint64(_M32), np.uint64(32)
    a0, a1, b0, b1 = lo & m, lo >> s, np.uint64(b_lo & _M32), np.uint64(b_lo >> 32)
    p00, p01, p10 = a0 * b0, a0 * b1, a1 * b0
    mid = (p00 >> s) + (p10 & m) + (p01 & m)
    carry_hi = a1 * b1 + (p10 >> s) + (p01 >> s) + (mid >> s)
    return carry_hi + hi * np.uint64(b_lo) + lo * np.uint64(b_hi), lo * np.uint64(b_lo)


def _add128(a_hi, a_lo, b_hi, b_lo):
    lo = a_lo + b_lo
    return a_hi + b_hi + (lo < a_lo).astype(np.uint64), lo


def uniforms(seed: int, name: str, indices, k: int) -> np.ndarray:
    """Row r: `stream(seed, name, indices[r]).random(k)`, the first `k` uniform numbers of each index's stream,
    computed for all indices at once (identical numbers; indices are whole numbers in [0, 2**32))."""
    idx = np.asarray(indices, dtype=np.int64)
    if name not in STREAMS or int(seed) < 0 or (idx.size and (idx.min() < 0 or idx.max() > _M32)):
        return np.array([stream(seed, name, int(i)).random(k) for i in idx]).reshape(len(idx), k)
    entropy = [np.full(len(idx), w, dtype=np.uint32) for w in _words(int(seed)) + [STREAMS[name]]]
    entropy.append(idx.astype(np.uint32))
    const = [_INIT_A]  # SeedSequence.mix_entropy
    zero = np.zeros(len(idx), dtype=np.uint32)
    pool = [_hashmix(entropy[i] if i < len(entropy) else zero, const) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], const))
    for src in range(_POOL, len(entropy)):
        for dst in range(_POOL):
            pool[dst] = _mix(pool[dst], _hashmix(entropy[src], const))
    hash_b, state = _INIT_B, []  # SeedSequence.generate_state(4, uint64)
    for i in range(8):
        v = pool[i % _POOL] ^ np.uint32(hash_b)
        hash_b = (hash_b * _MULT_B) & _M32
        v = v * np.uint32(hash_b)
        state.append((v ^ (v >> np.uint32(_XSHIFT))).astype(np.uint64))
    w = [state[2 * j] | (state[2 * j + 1] << np.uint64(32)) for j in range(4)]
    # PCG64 seeding: state 0, increment (initseq << 1) | 1, one step, add initstate, one step
    inc_hi, inc_lo = (w[2] << np.uint64(1)) | (w[3] >> np.uint64(63)), (w[3] << np.uint64(1)) | np.uint64(1)
    hi, lo = inc_hi, inc_lo  # 0 * multiplier + inc
    hi, lo = _add128(hi, lo, w[0], w[1])
    hi, lo = _add128(*_mul128(hi, lo, *_PCG_MULT), inc_hi, inc_lo)
    out = np.empty((len(idx), k))
    for j in range(k):  # each number: one step, the XSL-RR output, its top 53 bits
        hi, lo = _add128(*_mul128(hi, lo, *_PCG_MULT), inc_hi, inc_lo)
        x, r = hi ^ lo, hi >> np.uint64(58)
        x = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
        out[:, j] = (x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return out
