"""Tests for ledger.merkle: known answers, incremental build, every proof up to 64 leaves."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    EMPTY_ROOT,
    MemoryNodes,
    MerkleError,
    append_nodes,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_leaf_hashes,
    subtree_hash,
    verify_consistency,
    verify_inclusion,
)

MAX_SIZE = 64

# Leaf data of the eight-leaf tree of RFC 6962 test vectors (see shared/vectors/README.md).
RFC_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
RFC_ROOT_8 = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def leaves(n: int) -> list[bytes]:
    """Distinct leaf hashes for a tree of ``n`` leaves."""
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def build(hashes: list[bytes]) -> MemoryNodes:
    """Append every leaf hash to a fresh in-memory store."""
    store = MemoryNodes()
    for index, item in enumerate(hashes):
        store.append(index, item)
    return store


@pytest.fixture(scope="module")
def big() -> tuple[list[bytes], MemoryNodes]:
    hashes = leaves(MAX_SIZE)
    return hashes, build(hashes)


def flip(data: bytes, bit: int = 0) -> bytes:
    """``data`` with one bit inverted."""
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# -- known answers -------------------------------------------------------------


def test_empty_tree_root() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root(0, MemoryNodes()) == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_empty_leaf_hash() -> None:
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


def test_rfc_eight_leaf_root() -> None:
    hashes = [leaf_hash(d) for d in RFC_LEAVES]
    assert root_from_leaf_hashes(hashes).hex() == RFC_ROOT_8
    assert root(8, build(hashes)).hex() == RFC_ROOT_8


def test_node_hash_is_domain_separated() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) != node_hash(b, a)
    assert node_hash(a, b) != leaf_hash(a + b)


# -- incremental building ------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=300))
def test_incremental_root_matches_reference(n: int) -> None:
    hashes = leaves(n)
    store = build(hashes)
    assert root(n, store) == root_from_leaf_hashes(hashes)
    assert len(store) == 2 * n - bin(n).count("1")


def test_every_prefix_root_matches_reference(big: tuple[list[bytes], MemoryNodes]) -> None:
    hashes, store = big
    for size in range(MAX_SIZE + 1):
        assert root(size, store) == root_from_leaf_hashes(hashes[:size])


def test_append_nodes_is_logarithmic() -> None:
    reads: list[tuple[int, int]] = []
    store = build(leaves(1023))

    def get(level: int, index: int) -> bytes:
        reads.append((level, index))
        return store.get(level, index)

    nodes = append_nodes(1023, leaf_hash(b"x"), get)
    assert [(level, index) for level, index, _ in nodes] == [(lvl, 1023 >> lvl) for lvl in range(11)]
    assert len(reads) == 10


def test_append_nodes_rejects_missing_sibling() -> None:
    with pytest.raises(MerkleError, match="not stored"):
        append_nodes(1, leaf_hash(b"x"), MemoryNodes().get)


def test_subtree_hash_of_unaligned_ranges(big: tuple[list[bytes], MemoryNodes]) -> None:
    hashes, store = big
    for start in range(0, 20):
        for end in range(start, 40):
            assert subtree_hash(start, end, store) == root_from_leaf_hashes(hashes[start:end])


# -- all proofs up to 64 leaves -------------------------------------------------------


def test_all_inclusion_proofs(big: tuple[list[bytes], MemoryNodes]) -> None:
    hashes, store = big
    for size in range(1, MAX_SIZE + 1):
        tree_root = root_from_leaf_hashes(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, store)
            verify_inclusion(index, size, hashes[index], proof, tree_root)


def test_all_consistency_proofs(big: tuple[list[bytes], MemoryNodes]) -> None:
    hashes, store = big
    roots = [root_from_leaf_hashes(hashes[:size]) for size in range(MAX_SIZE + 1)]
    for size2 in range(1, MAX_SIZE + 1):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(size1, size2, store)
            verify_consistency(size1, size2, roots[size1], roots[size2], proof)


def test_rfc_example_proof_lengths() -> None:
    store = build([leaf_hash(d) for d in RFC_LEAVES[:7]])
    assert len(inclusion_proof(0, 7, store)) == 3
    assert len(inclusion_proof(6, 7, store)) == 2
    assert len(consistency_proof(3, 7, store)) == 4
    assert len(consistency_proof(4, 7, store)) == 1
    assert len(consistency_proof(6, 7, store)) == 3


# -- tampering -------------------------------------------------------------------------------


TAMPER_CASES = [(index, size) for size in (2, 5, 8, 13, 64) for index in (0, size // 2, size - 1)]


@pytest.mark.parametrize(("index", "size"), TAMPER_CASES)
def test_inclusion_tampering_rejected(index: int, size: int, big: tuple[list[bytes], MemoryNodes]) -> None:
    hashes, store = big
    tree_root = root_from_leaf_hashes(hashes[:size])
    proof = inclusion_proof(index, size, store)
    leaf = hashes[index]
    for position in range(len(proof)):
        for bit in (0, 255):
            bad = list(proof)
            bad[position] = flip(bad[position], bit)
            with pytest.raises(MerkleError):
                verify_inclusion(index, size, leaf, bad, tree_root)
    with pytest.raises(MerkleError):
        verify_inclusion((index + 1) % size, size, leaf, proof, tree_root)
    with pytest.raises(MerkleError):
        verify_inclusion(index, size, leaf, proof, flip(tree_root))
    with pytest.raises(MerkleError):
        verify_inclusion(index, size, flip(leaf), proof, tree_root)
    with pytest.raises(MerkleError, match="too long"):
        verify_inclusion(index, size, leaf, proof + [leaf], tree_root)
    with pytest.raises(MerkleError, match="too short"):
        verify_inclusion(index, size, leaf, proof[:-1], tree_root)
    with pytest.raises(MerkleError, match="bytes"):
        verify_inclusion(index, size, leaf, [b"garbage", *proof], tree_root)
    with pytest.raises(MerkleError, match="not below"):
        verify_inclusion(size, size, leaf, proof, tree_root)


CONSISTENCY_TAMPER = [(1, 2), (3, 7), (4, 8), (6, 8), (7, 64), (32, 64), (33, 63)]


@pytest.mark.parametrize(("size1", "size2"), CONSISTENCY_TAMPER)
def test_consistency_tampering_rejected(size1: int, size2: int, big: tuple[list[bytes], MemoryNodes]) -> None:
    hashes, store = big
    root1 = root_from_leaf_hashes(hashes[:size1])
    root2 = root_from_leaf_hashes(hashes[:size2])
    proof = consistency_proof(size1, size2, store)
    for position in range(len(proof)):
        bad = list(proof)
        bad[position] = flip(bad[position], 7)
        with pytest.raises(MerkleError):
            verify_consistency(size1, size2, root1, root2, bad)
    # The root alone does not commit to the tree size (checkpoints sign it), so
    # only size changes that alter the proof's shape are detectable here.
    for args in [
        (size1, size2, flip(root1), root2, proof),
        (size1, size2, root1, flip(root2), proof),
        (size1, size2, root2, root1, proof),
        (size1 + 1, size2, root1, root2, proof),
        (size1, size2 * 2, root1, root2, proof),
        (size1, max(size1, size2 // 2), root1, root2, proof),
        (size1, size2, root1, root2, proof[:-1]),
        (size1, size2, root1, root2, proof + [root1]),
        (size1, size2, root1, root2, []),
        (size2, size1, root2, root1, proof),
    ]:
        with pytest.raises(MerkleError):
            verify_consistency(*args)


def test_consistency_edge_cases() -> None:
    other = leaf_hash(b"other")
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(5, 5, other, other, [])
    cases = [
        ((0, 0, other, other, []), "empty-tree root"),
        ((0, 0, EMPTY_ROOT, EMPTY_ROOT, [other]), "not empty"),
        ((0, 3, EMPTY_ROOT, other, []), "empty tree"),
        ((5, 5, other, EMPTY_ROOT, []), "roots differ"),
        ((5, 4, other, other, []), "greater"),
        ((-1, 4, other, other, []), "non-negative"),
    ]
    for args, message in cases:
        with pytest.raises(MerkleError, match=message):
            verify_consistency(*args)


def test_proof_generation_rejects_bad_ranges(big: tuple[list[bytes], MemoryNodes]) -> None:
    _, store = big
    with pytest.raises(MerkleError):
        inclusion_proof(4, 4, store)
    with pytest.raises(MerkleError):
        consistency_proof(5, 4, store)
    with pytest.raises(MerkleError):
        consistency_proof(0, 4, store)
    assert consistency_proof(4, 4, store) == []
    with pytest.raises(MerkleError, match="not stored"):
        root(MAX_SIZE + 1, store)


class _OnlyThese:
    """A node store that holds only the nodes it was given (a missing one raises KeyError)."""

    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self.nodes = nodes

    def get(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]


def test_the_nodes_a_proof_reads_are_known_before_it_is_built(big: tuple[list[bytes], MemoryNodes]) -> None:
    """A store fetches exactly ``nodes_read`` in one query, then builds the proof from those alone."""
    from ledger.merkle import consistency_proof, nodes_read

    hashes, store = big
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            wanted = nodes_read(lambda source: inclusion_proof(index, size, source))
            assert len(wanted) == len(set(wanted))
            only = _OnlyThese({key: store.get(*key) for key in wanted})
            assert inclusion_proof(index, size, only) == inclusion_proof(index, size, store)
        for old in range(1, size):
            wanted = nodes_read(lambda source: consistency_proof(old, size, source))
            only = _OnlyThese({key: store.get(*key) for key in wanted})
            assert consistency_proof(old, size, only) == consistency_proof(old, size, store)
