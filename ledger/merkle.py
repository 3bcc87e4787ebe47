"""RFC 9162 (RFC 6962) Merkle tree over SHA-256: hashing, storage layout, proofs.

Hashes follow RFC 9162 §2.1.1: a leaf hash is ``SHA-256(0x00 || data)``, an
interior node is ``SHA-256(0x01 || left || right)`` and the empty tree's root is
``SHA-256("")``.

Storage layout. The caller persists *perfect aligned subtrees*: node
``(level L, index i)`` is the hash of the 2**L leaves ``[i * 2**L, (i+1) * 2**L)``.
Level 0 holds leaf hashes. Appending a leaf stores the leaf and every parent it
completes (:func:`append_nodes`), so the hash of any range that the RFC's
recursive definition visits is either one stored node or a split into at most
O(log n) stored nodes; nothing ever rehashes the log.

Proof generation implements RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1
(PROOF/SUBPROOF); verification implements the algorithms of §2.1.3.2 and
§2.1.4.2 and takes only hashes. Every verification failure raises
:class:`MerkleError` with a message naming the reason.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from typing import Protocol

from ledger.crypto import sha256

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"")

NodeGetter = Callable[[int, int], bytes]


class MerkleError(Exception):
    """A Merkle proof or tree operation failed (bad input, bad proof, missing node)."""


class NodeSource(Protocol):
    """Read access to stored perfect aligned subtree hashes."""

    def get(self, level: int, index: int) -> bytes:
        """Hash of the subtree covering leaves [index * 2**level, (index+1) * 2**level).

        Raises KeyError if that node is not stored.
        """
        ...


class MemoryNodes:
    """A dict-backed :class:`NodeSource` (for tests and small in-memory trees)."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[int, int], bytes] = {}

    def get(self, level: int, index: int) -> bytes:
        """Return the stored node; KeyError if absent."""
        return self._nodes[(level, index)]

    def put(self, level: int, index: int, node: bytes) -> None:
        """Store one node."""
        self._nodes[(level, index)] = node

    def append(self, leaf_index: int, leaf_hash: bytes) -> None:
        """Store the leaf ``leaf_index`` and every parent it completes."""
        for level, index, node in append_nodes(leaf_index, leaf_hash, self.get):
            self.put(level, index, node)

    def __len__(self) -> int:
        return len(self._nodes)


# -- hashing -----------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return sha256(b"\x00" + data)


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def root_from_leaf_hashes(leaves: Sequence[bytes]) -> bytes:
    """Reference MTH(D[n]) straight from the RFC's recursive definition (slow)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_from_leaf_hashes(leaves[:k]), root_from_leaf_hashes(leaves[k:]))


# -- building and reading the stored tree --------------------------------------


def append_nodes(leaf_index: int, leaf_hash: bytes, get: NodeGetter) -> list[tuple[int, int, bytes]]:
    """Nodes to store when leaf ``leaf_index`` (hash ``leaf_hash``) is appended.

    Returns ``(level, index, hash)`` for the leaf itself and each parent that
    the leaf completes, bottom up. ``get`` reads already stored nodes (the left
    siblings); at most log2(n) reads and hashes.
    """
    _check_non_negative("leaf index", leaf_index)
    _check_hash("leaf hash", leaf_hash)
    nodes = [(0, leaf_index, leaf_hash)]
    level, index, current = 0, leaf_index, leaf_hash
    while index & 1:
        current = node_hash(_fetch(get, level, index - 1), current)
        level, index = level + 1, index >> 1
        nodes.append((level, index, current))
    return nodes


def subtree_hash(start: int, end: int, source: NodeSource) -> bytes:
    """MTH of leaves ``[start, end)``, built from stored perfect aligned subtrees.

    Splits at the largest power of two smaller than the range size exactly as
    RFC 9162 defines MTH; a range that is itself a perfect aligned subtree is
    read as one node.
    """
    _check_non_negative("start", start)
    if end < start:
        raise MerkleError(f"empty range: end {end} < start {start}")
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if _is_power_of_two(n) and start % n == 0:
        return _fetch(source.get, n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(subtree_hash(start, start + k, source), subtree_hash(start + k, end, source))


def root(size: int, source: NodeSource) -> bytes:
    """Root hash MTH(D[size]) of the first ``size`` leaves."""
    _check_non_negative("tree size", size)
    return subtree_hash(0, size, source)


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size]), leaf sibling first."""
    _check_non_negative("leaf index", index)
    if index >= size:
        raise MerkleError(f"leaf index {index} is not below tree size {size}")
    return _path(index, 0, size, source)


def _path(m: int, start: int, end: int, source: NodeSource) -> list[bytes]:
    """PATH(m, D[start:end]) with ``m`` relative to ``start``."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return _path(m, start, start + k, source) + [subtree_hash(start + k, end, source)]
    return _path(m - k, start + k, end, source) + [subtree_hash(start, start + k, source)]


def consistency_proof(size1: int, size2: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(size1, D[size2]); empty when the sizes are equal.

    A proof from the empty tree is refused: it is trivially true and
    :func:`verify_consistency` rejects it.
    """
    _check_non_negative("size1", size1)
    if size1 > size2:
        raise MerkleError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == size2:
        return []
    if size1 == 0:
        raise MerkleError("no consistency proof from the empty tree (size1 = 0)")
    return _subproof(size1, 0, size2, True, source)


def _subproof(m: int, start: int, end: int, whole: bool, source: NodeSource) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) with ``m`` relative to ``start``."""
    n = end - start
    if m == n:
        return [] if whole else [subtree_hash(start, end, source)]
    k = _split(n)
    if m <= k:
        return _subproof(m, start, start + k, whole, source) + [subtree_hash(start + k, end, source)]
    return _subproof(m - k, start + k, end, False, source) + [subtree_hash(start, start + k, source)]


class _Recorder:
    """A :class:`NodeSource` that answers zeros and remembers what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    def get(self, level: int, index: int) -> bytes:
        self.asked.append((level, index))
        return bytes(HASH_SIZE)


def nodes_read(compute: Callable[[NodeSource], object]) -> list[tuple[int, int]]:
    """The stored nodes ``compute`` reads, found by running it once on zeros.

    Proofs and roots read the same nodes whatever their values, so a store can
    fetch them all in one query before the real run.
    """
    recorder = _Recorder()
    compute(recorder)
    return list(dict.fromkeys(recorder.asked))


# -- verification (hashes only) ---------------------------------------------------


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises MerkleError on any failure; returns None on success.
    """
    _check_non_negative("leaf index", index)
    _check_non_negative("tree size", size)
    if index >= size:
        raise MerkleError(f"leaf index {index} is not below tree size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_proof_hashes(proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise MerkleError(f"inclusion proof is too long ({len(proof)} hashes)")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise MerkleError(f"inclusion proof is too short ({len(proof)} hashes)")
    _check_root("root", r, root)


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree (size2, root2) extends the tree (size1, root1).

    RFC 9162 §2.1.4.2 for 0 < size1 < size2. Equal sizes need an empty proof
    and equal roots. A check from the empty tree proves nothing and is refused,
    except size 0 to size 0 where both roots must be the empty-tree root.
    Raises MerkleError on any failure; returns None on success.
    """
    _check_non_negative("size1", size1)
    _check_non_negative("size2", size2)
    if size1 > size2:
        raise MerkleError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == size2:
        _verify_equal_sizes(size1, root1, root2, proof)
        return
    if size1 == 0:
        raise MerkleError("consistency with the empty tree (size1 = 0) proves nothing; refused")
    if not proof:
        raise MerkleError(f"consistency proof from {size1} to {size2} is empty")
    _check_proof_hashes(proof)
    fr, sr = _consistency_roots(size1, size2, root1, proof)
    _check_root("root1", fr, root1)
    _check_root("root2", sr, root2)


def _verify_equal_sizes(size: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    if not isinstance(root1, bytes) or not isinstance(root2, bytes):
        raise MerkleError("roots must be bytes")
    if proof:
        raise MerkleError(f"sizes are equal ({size}) but the proof is not empty")
    if not hmac.compare_digest(root1, root2):
        raise MerkleError(f"sizes are equal ({size}) but the roots differ")
    if size == 0 and not hmac.compare_digest(root1, EMPTY_ROOT):
        raise MerkleError("tree size is 0 but the root is not the empty-tree root")


def _consistency_roots(size1: int, size2: int, root1: bytes, proof: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Recompute (old root, new root) from a non-empty proof (RFC 9162 §2.1.4.2 steps 2-6)."""
    path = list(proof)
    if _is_power_of_two(size1):
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise MerkleError(f"consistency proof is too long ({len(proof)} hashes)")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise MerkleError(f"consistency proof is too short ({len(proof)} hashes)")
    return fr, sr


# -- small checks ----------------------------------------------------------------


def _fetch(get: NodeGetter, level: int, index: int) -> bytes:
    try:
        return get(level, index)
    except KeyError as exc:
        raise MerkleError(f"tree node (level {level}, index {index}) is not stored") from exc


def _check_non_negative(what: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MerkleError(f"{what} must be a non-negative integer, got {value!r}")


def _check_hash(what: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise MerkleError(f"{what} must be {HASH_SIZE} bytes")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, item in enumerate(proof):
        if not isinstance(item, bytes) or len(item) != HASH_SIZE:
            raise MerkleError(f"proof hash {position} is not {HASH_SIZE} bytes (garbage in proof)")


def _check_root(what: str, computed: bytes, expected: bytes) -> None:
    if not isinstance(expected, bytes) or not hmac.compare_digest(computed, expected):
        raise MerkleError(f"computed {what} does not match the given {what}")
