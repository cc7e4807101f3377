"""The seeded randomness of the balanced schedules (imbalance_core.schedule and .stream):
generators keyed by integers, a keyed 64-bit hash, Feistel bijections of range(n) evaluated
element by element, and uniform permutations of large ranges.

Every random stream is keyed by the seed and a salt of its own, so the streams stay
independent for the same seed; the salts are listed here together so that no two coincide.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Salts keep the random streams independent for the same seed.
SALT_POOL = 0x706F6F6C
SALT_SLOTS = 0x736C6F74
SALT_STEP = 0x73746570
SALT_ORDER = 0x6F726472
SALT_REPEAT = 0x72657074
SALT_TIE = 0x74696573
SALT_SPLIT = 0x73706C74
SALT_STREAM = 0x7374726D

U64 = np.uint64
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ROUND_OFFSETS = [np.uint64(((i + 1) * 0x9E3779B97F4A7C15) % 2**64) for i in range(4)]


def seeded_rng(*entropy: int) -> np.random.Generator:
    """A PCG64 generator keyed by non-negative integers (seed, epoch, ..., salt)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([int(e) for e in entropy])))


def mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijective mix of 64-bit words (wrapping arithmetic)."""
    z = np.asarray(z, dtype=U64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> U64(30))) * _MIX1
        z = (z ^ (z >> U64(27))) * _MIX2
    return z ^ (z >> U64(31))


def hash_key(*parts: Any) -> np.ndarray:
    """A 64-bit key from non-negative integers or integer arrays (broadcast together).

    >>> int(hash_key(7)) == int(hash_key(7)) != int(hash_key(8))
    True
    """
    h = np.asarray(0x6A09E667F3BCC909, dtype=U64)
    with np.errstate(over="ignore"):
        for part in parts:
            h = mix64(h ^ (np.asarray(part).astype(U64) + GOLDEN))
    return h


def weyl(classes: np.ndarray, step: int) -> np.ndarray:
    """An order of the classes that changes with the step, without hashing: a Weyl sequence
    (class * odd + step * odd) mod 2**32, distinct for distinct classes."""
    return (np.asarray(classes, dtype=np.int64) * 0x9E3779B1 + int(step) * 0x85EBCA77) & 0xFFFFFFFF


def _bit_widths(n: np.ndarray) -> np.ndarray:
    """The bit width of n - 1 (at least 1), per element: the Feistel domain is [0, 2**width)."""
    n = np.asarray(n, dtype=np.int64)
    bits = np.ones(n.shape, dtype=np.int64)
    big = n > 2
    # log2 is exact at powers of two and rounds up just below them: the domain is never short.
    bits[big] = np.floor(np.log2((n[big] - 1).astype(np.float64))).astype(np.int64) + 1
    return bits


def _round(v: np.ndarray, key: np.ndarray) -> np.ndarray:
    """The Feistel round function: a multiply-xorshift of v + key (the high bits of the product
    depend on every bit of the input)."""
    z = (v + key) * _MIX1
    return z ^ (z >> U64(29))


def _feistel_pass(x: np.ndarray, bits: np.ndarray, round_keys: list[np.ndarray], inverse: bool) -> np.ndarray:
    # An unbalanced Feistel network on [0, 2**bits): x = left * 2**a + right with `right` of a
    # bits and `left` of b = bits - a bits; a round maps (left, right) to (right, left ^
    # F(right)), which swaps the widths, so after the four rounds they are back.
    a = bits >> U64(1)
    b = bits - a
    widths = [(a, b), (b, a), (a, b), (b, a)]
    one = U64(1)
    if not inverse:
        for (ra, rb), key in zip(widths, round_keys):
            right = x & ((one << ra) - one)
            left = x >> ra
            x = (right << rb) | (left ^ (_round(right, key) & ((one << rb) - one)))
        return x
    for (ra, rb), key in zip(reversed(widths), reversed(round_keys)):
        new_right = x & ((one << rb) - one)
        right = x >> rb
        left = new_right ^ (_round(right, key) & ((one << rb) - one))
        x = (left << ra) | right
    return x


def feistel(x: Any, n: Any, key: Any, *, inverse: bool = False) -> np.ndarray:
    """A keyed bijection of range(n), evaluated element by element: a four-round unbalanced
    Feistel network on [0, 2**ceil(log2 n)), with cycle walking (values that land outside
    [0, n) are mapped again until they are inside).

    Args:
        x: integers in [0, n) (an array).
        n: the domain size, a scalar or one per element of `x`.
        key: a 64-bit key (see `hash_key`), a scalar or one per element of `x`.
        inverse: evaluate the inverse bijection.

    Returns:
        int64 array shaped like `x`: pi(x), or pi^-1(x) with `inverse=True`.

    >>> import numpy as np
    >>> y = feistel(np.arange(10), 10, hash_key(7))
    >>> sorted(y.tolist()) == list(range(10))
    True
    >>> feistel(y, 10, hash_key(7), inverse=True).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    x = np.asarray(x, dtype=np.int64)
    shape = x.shape
    y = x.reshape(-1).astype(U64)
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), shape).reshape(-1).astype(U64)
    keys = np.broadcast_to(np.asarray(key, dtype=U64), shape).reshape(-1)
    bits = _bit_widths(n.astype(np.int64)).astype(U64)
    round_keys = [mix64(keys + offset) for offset in _ROUND_OFFSETS]
    y = _feistel_pass(y, bits, round_keys, inverse)
    outside = np.flatnonzero(y >= n)
    while outside.size:
        y[outside] = _feistel_pass(y[outside], bits[outside], [k[outside] for k in round_keys], inverse)
        outside = outside[y[outside] >= n[outside]]
    return y.astype(np.int64).reshape(shape)


def pass_keys(pool_keys: np.ndarray, passes: Any) -> np.ndarray:
    """The Feistel key of pass `passes` of each class's pool, from the classes' pool keys."""
    return mix64(pool_keys ^ (np.asarray(passes).astype(U64) + GOLDEN))


def permutation(rng: np.random.Generator, n: int, dtype: Any) -> np.ndarray:
    """A uniform random permutation of range(n) in `dtype`.

    Large n: scatter into random buckets (a radix sort of small keys), then shuffle each
    bucket in cache (Rao-Sandelius); still exactly uniform, and several times faster than one
    Fisher-Yates pass whose random writes miss the cache on tens of millions of elements.

    >>> sorted(permutation(seeded_rng(0), 5, np.int64).tolist())
    [0, 1, 2, 3, 4]
    """
    if n <= 1 << 20:
        perm = np.arange(n, dtype=dtype)
        rng.shuffle(perm)
        return perm
    # Buckets of ~2**17 elements fit in cache; one-byte keys make the scatter one radix pass.
    buckets = -(-n // (1 << 17))
    key_dtype = np.uint8 if buckets <= 1 << 8 else np.uint16 if buckets <= 1 << 16 else np.int64
    keys = rng.integers(0, buckets, size=n, dtype=key_dtype)
    perm = np.argsort(keys, kind="stable").astype(dtype, copy=False)
    bounds = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=buckets))]).tolist()
    del keys
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        rng.shuffle(perm[lo:hi])
    return perm
