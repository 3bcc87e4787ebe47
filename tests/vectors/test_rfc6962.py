"""RFC 6962 / RFC 9162 conformance: every transparency-dev/merkle proof vector file.

The vectors folder is ``$LEDGER_VECTORS`` or else ``../shared/vectors`` beside
the repository root. Each JSON file under ``rfc6962/inclusion`` and
``rfc6962/consistency`` is its own test. Without the folder the suite skips
with a reason, except under CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ledger.merkle import (
    MemoryNodes,
    MerkleError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

EXPECTED_FILES = 196
KINDS = ("inclusion", "consistency")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Leaf data of the eight-leaf tree most vector files use (vectors README).
README_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]


def vectors_dir() -> Path:
    """Where the vectors are expected: $LEDGER_VECTORS, else ../shared/vectors."""
    configured = os.environ.get("LEDGER_VECTORS")
    if configured:
        return Path(configured).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "vectors").resolve()


def rfc6962_dir() -> Path:
    return vectors_dir() / "rfc6962"


def vector_files() -> list[Path]:
    """All inclusion and consistency JSON files, sorted; empty if the folder is missing."""
    base = rfc6962_dir()
    return sorted(path for kind in KINDS if (base / kind).is_dir() for path in (base / kind).rglob("*.json"))


def missing_vectors() -> None:
    """Fail under CI, otherwise skip, saying where the vectors were looked for."""
    where = rfc6962_dir()
    message = (
        f"RFC 6962 test vectors not found at {where} "
        "(set LEDGER_VECTORS to the folder holding rfc6962/, or place it at ../shared/vectors)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must not skip the conformance vectors")
    pytest.skip(message)


FILES = vector_files()
CASES = (
    [pytest.param(path, id=path.relative_to(rfc6962_dir()).as_posix()) for path in FILES]
    if FILES
    else [pytest.param(None, id="vectors-missing")]
)


def decode(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def proof_of(case: dict[str, Any]) -> list[bytes]:
    return [decode(item) for item in case.get("proof") or []]


def run_case(kind: str, case: dict[str, Any]) -> None:
    """Run the verifier a vector file describes; MerkleError means rejected."""
    if kind == "inclusion":
        verify_inclusion(
            case["leafIdx"], case["treeSize"], decode(case["leafHash"]), proof_of(case), decode(case["root"])
        )
    else:
        verify_consistency(case["size1"], case["size2"], decode(case["root1"]), decode(case["root2"]), proof_of(case))


def test_vector_file_count() -> None:
    if not FILES:
        missing_vectors()
    counts = {kind: sum(1 for p in FILES if p.relative_to(rfc6962_dir()).parts[0] == kind) for kind in KINDS}
    assert len(FILES) == EXPECTED_FILES, f"expected {EXPECTED_FILES} vector files, found {len(FILES)}: {counts}"


@pytest.mark.parametrize("path", CASES)
def test_vector(path: Path | None) -> None:
    if path is None:
        missing_vectors()
        return
    kind = path.relative_to(rfc6962_dir()).parts[0]
    case = json.loads(path.read_text(encoding="utf-8"))
    if case["wantErr"]:
        with pytest.raises(MerkleError):
            run_case(kind, case)
    else:
        run_case(kind, case)


def readme_tree() -> MemoryNodes:
    store = MemoryNodes()
    for index, data in enumerate(README_LEAVES):
        store.append(index, leaf_hash(bytes.fromhex(data)))
    return store


def test_generated_proofs_match_happy_paths() -> None:
    """Our PATH/PROOF generation reproduces every happy-path proof over the README tree."""
    if not FILES:
        missing_vectors()
    store, matched = readme_tree(), 0
    for path in FILES:
        kind = path.relative_to(rfc6962_dir()).parts[0]
        case = json.loads(path.read_text(encoding="utf-8"))
        if case["wantErr"] or path.name != "happy-path.json":
            continue
        if kind == "inclusion" and decode(case["root"]) == root(case["treeSize"], store):
            assert inclusion_proof(case["leafIdx"], case["treeSize"], store) == proof_of(case)
            matched += 1
        elif kind == "consistency" and decode(case["root2"]) == root(case["size2"], store):
            assert consistency_proof(case["size1"], case["size2"], store) == proof_of(case)
            matched += 1
    assert matched == 10, f"{matched} of the 10 happy-path vectors use the README tree"


CONSISTENCY = [case for case in CASES if case.values[0] is not None
               and case.values[0].relative_to(rfc6962_dir()).parts[0] == "consistency"]


@pytest.mark.parametrize("path", CONSISTENCY or [pytest.param(None, id="vectors-missing")])
def test_the_standalone_bundle_verifier_agrees_on_consistency_vectors(path: Path | None) -> None:
    """The bundle verifier's own consistency check (it cannot import ledger.merkle) on the same vectors."""
    if path is None:
        missing_vectors()
        return
    from ledger.verify_bundle import consistent

    case = json.loads(path.read_text(encoding="utf-8"))
    result = consistent(case["size1"], case["size2"], decode(case["root1"]), decode(case["root2"]), proof_of(case))
    assert result is not case["wantErr"], path.name
