"""What ``verify`` checks about witnesses' cosignatures (``ledger.witness``).

Inputs are untrusted: rows of the ``cosignatures`` table and any cosigned
checkpoint an auditor took from a witness (``verify --witnessed``). Each is
opened against the trust file: the ledger's signature, then each named
witness's cosignature; a line that claims to be a trusted witness's and does
not verify is named, a note no trusted witness cosigned is set aside.

For every checkpoint a trusted witness cosigned (size N, root R, time T):

- the log must still hold N entries and its root at N must be R: a history cut
  or rewritten after a witness saw it fails, whoever re-signed it;
- no entry before N may be recorded after T (plus the clock allowance): the
  witness saw them by then;
- no entry at N or after may be recorded before T (less the allowance): it
  was added after the witness saw the log, so an earlier time is back-dated.

With witnesses in the trust file, the entries not covered by a checkpoint that
a quorum cosigned must all be younger than ``witness_max_age``: deleting the
cosignature rows (or never asking a witness) does not hide a rewrite for long.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, select

from ledger import witness
from ledger.schema import cosignatures
from ledger.trust import Trust

#: How far a witness's clock and the ledger host's may disagree before a time is called wrong.
CLOCK_ALLOWANCE = dt.timedelta(minutes=5)


@dataclass
class _Seen:
    source: str
    witnessed: witness.Witnessed

    @property
    def latest(self) -> int:
        return max(self.witnessed.times.values())

    @property
    def earliest(self) -> int:
        return min(self.witnessed.times.values())

    def who(self) -> str:
        return ", ".join(sorted(self.witnessed.times))


class WitnessCheck:
    """One verification run's witness checks; the verifier calls it as it streams the log."""

    def __init__(self, trust: Trust, notes: Sequence[tuple[str, str]], add: Callable[[str, int | None], None],
                 now: dt.datetime) -> None:
        self.trust = trust
        self.add = add
        self.now = now
        self.seen: list[_Seen] = []
        self.ignored = 0
        for source, text in notes:
            try:
                opened = witness.open_witnessed(text, trust.origin, trust.ledger_public_key, trust.witnesses)
            except witness.WitnessError as exc:
                if "no witness the trust file names" in str(exc):
                    self.ignored += 1
                else:
                    add(f"{source}: {exc}; it is ignored", None)
                continue
            self.seen.append(_Seen(source, opened))
        self.by_size: dict[int, list[_Seen]] = {}
        for item in self.seen:
            self.by_size.setdefault(item.witnessed.checkpoint.size, []).append(item)
        self.quorum = self._quorum_size()
        self.active = bool(self.seen) or bool(trust.witnesses)
        self.floor: tuple[str, _Seen] | None = None
        self.roots: dict[int, bytes] = {}
        self.first_uncovered: str | None = None

    def _quorum_size(self) -> int:
        """The largest size whose checkpoint (same root) a quorum of distinct witnesses cosigned."""
        best = 0
        for size, items in self.by_size.items():
            by_root: dict[bytes, set[str]] = {}
            for item in items:
                by_root.setdefault(item.witnessed.checkpoint.root, set()).update(item.witnessed.times)
            if any(len(names) >= max(self.trust.witness_quorum, 1) for names in by_root.values()):
                best = max(best, size)
        return best

    def reached(self, size: int, root: bytes, last_time: str) -> None:
        """The stream has just appended leaf ``size - 1``; ``last_time`` is the newest time so far."""
        items = self.by_size.get(size)
        if not items or size in self.roots:
            return
        self.roots[size] = root
        for item in items:
            cp = item.witnessed.checkpoint
            if cp.root != root:
                self.add(f"{item.source}: witness {item.who()} cosigned checkpoint {size} at "
                         f"{_iso(item.earliest)}, but the log's root at that size differs: history was "
                         "rewritten after a witness saw it", None)
                continue
            # every witness saw these entries by its own time: the earliest bounds them all
            bound = _iso(item.earliest, CLOCK_ALLOWANCE + dt.timedelta(seconds=1))
            if last_time > bound:
                self.add(f"{item.source}: an entry before {size} is recorded at {last_time}, after witness "
                         f"{item.who()} saw the log at that size ({_iso(item.earliest)}): its time is false", size - 1)
            if self.floor is None or item.earliest > int(self.floor[1].earliest):
                self.floor = (_iso(item.earliest, -CLOCK_ALLOWANCE), item)

    def entry(self, position: int, recorded: str) -> None:
        """An entry at ``position`` recorded at ``recorded`` (the ledger's UTC form)."""
        if position == self.quorum:
            self.first_uncovered = recorded
        if self.floor is not None and recorded < self.floor[0]:
            item = self.floor[1]
            self.add(f"recorded at {recorded}, but it was added after witness {item.who()} saw the log at size "
                     f"{item.witnessed.checkpoint.size} ({_iso(item.earliest)}): back-dated", position)

    def finish(self, size: int) -> dict[str, Any]:
        """After the stream: checkpoints the log no longer reaches, and entries no quorum has seen."""
        for cosigned_size, items in sorted(self.by_size.items()):
            if cosigned_size > size:
                for item in items:
                    self.add(f"{item.source}: witness {item.who()} cosigned checkpoint {cosigned_size} at "
                             f"{_iso(item.earliest)}, but the log now holds {size} entries: history was "
                             "truncated after a witness saw it", None)
        if self.trust.witnesses and size > self.quorum and self.first_uncovered is not None:
            oldest = dt.datetime.fromisoformat(self.first_uncovered)
            if self.now - oldest > self.trust.witness_max_age:
                quorum = self.trust.witness_quorum
                self.add(f"no witness has seen entries {self.quorum}..{size - 1} (a quorum of {quorum} must "
                         f"cosign), though the oldest was recorded at {self.first_uncovered}, more than "
                         f"{_days(self.trust.witness_max_age)} before now: cosignatures were deleted, or the "
                         "witnesses are not being asked (`ledger witness request`)", self.quorum)
        newest = max(self.seen, key=lambda s: s.witnessed.checkpoint.size, default=None)
        quorum_items = self.by_size.get(self.quorum, [])
        return {
            "cosignatures": len({(s.witnessed.checkpoint.size, name, when) for s in self.seen
                                 for name, when in s.witnessed.times.items()}),
            "cosignatures_ignored": self.ignored,
            "witnessed_size": self.quorum if quorum_items else None,
            "witnessed_root": base64.b64encode(quorum_items[0].witnessed.checkpoint.root).decode()
            if quorum_items else None,
            "witnessed_at": _iso(max(i.latest for i in quorum_items)) if quorum_items else None,
            "newest_cosigned_size": newest.witnessed.checkpoint.size if newest else None,
        }


def _iso(timestamp: int, shift: dt.timedelta = dt.timedelta()) -> str:
    moment = witness.EPOCH + dt.timedelta(seconds=timestamp) + shift
    return moment.isoformat(timespec="microseconds")


def _days(delta: dt.timedelta) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:g} day{'s' if days != 1 else ''}"


def stored_cosignatures(conn: Connection) -> list[tuple[str, str]]:
    """Every cosignature row as ``(description, cosigned checkpoint)`` (none before the table existed)."""
    if not inspect(conn).has_table(cosignatures.name):
        return []
    rows = conn.execute(select(cosignatures.c.id, cosignatures.c.witness, cosignatures.c.cosigned)
                        .order_by(cosignatures.c.id)).all()
    return [(f"cosignature row {r.id} (witness {r.witness})", str(r.cosigned)) for r in rows]
