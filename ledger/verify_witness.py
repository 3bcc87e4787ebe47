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
- no entry at N or after may be recorded before checkpoint N's own signed
  time: it was added after the ledger signed that checkpoint. (Not before T:
  the witness saw only size N, not when entry N was written, so an honest
  entry may fall between the checkpoint and the witness's cosignature.)

With witnesses in the trust file:

- the entries not covered by a checkpoint that a quorum cosigned must all be
  younger than ``witness_max_age``: deleting the cosignature rows (or never
  asking a witness) does not hide a rewrite for long;
- the newest cosignatures of a quorum must themselves be younger than
  ``witness_max_age`` by the verifier's clock: a log cut back to an older
  cosigned size (and its newer cosignature rows deleted) has no fresh ones,
  because a witness never cosigns a smaller size. Witnesses therefore re-cosign
  the same size on a quiet ledger;
- a cosignature or entry dated after the verifier's own clock is named: the
  age checks mean nothing on a clock that is behind.
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
        self.latest_allowed = _iso_of(now + CLOCK_ALLOWANCE)
        self.reported_future = False
        for source, text in notes:
            try:
                opened = witness.open_witnessed(text, trust.origin, trust.ledger_public_key, trust.witnesses)
            except witness.WitnessError as exc:
                if "no witness the trust file names" in str(exc):
                    self.ignored += 1
                else:
                    add(f"{source}: {exc}; it is ignored", None)
                continue
            current = self._drop_future(source, opened)
            if current is not None:
                self.seen.append(_Seen(source, current))
        self.by_size: dict[int, list[_Seen]] = {}
        for item in self.seen:
            self.by_size.setdefault(item.witnessed.checkpoint.size, []).append(item)
        self.quorum = self._quorum_size()
        self.active = bool(self.seen) or bool(trust.witnesses)
        self.floor: tuple[str, _Seen] | None = None
        self.roots: dict[int, bytes] = {}
        self.first_uncovered: str | None = None

    def _drop_future(self, source: str, opened: witness.Witnessed) -> witness.Witnessed | None:
        """Cosignatures dated after this verifier's clock (plus the allowance) are named and not counted."""
        limit = int((self.now + CLOCK_ALLOWANCE - witness.EPOCH).total_seconds())
        future = {name: when for name, when in opened.times.items() if when > limit}
        for name, when in sorted(future.items()):
            self.add(f"{source}: witness {name}'s cosignature is dated {_shown(when)}, after this verifier's clock "
                     f"({_iso_of(self.now)}): the witness's clock or this machine's is wrong; it is not counted", None)
        kept = {name: when for name, when in opened.times.items() if name not in future}
        return witness.Witnessed(opened.checkpoint, kept) if kept else None

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
            signed = _utc(cp.time)
            if signed is not None and (self.floor is None or signed > self.floor[0]):
                self.floor = (signed, item)

    def entry(self, position: int, recorded: str) -> None:
        """An entry at ``position`` recorded at ``recorded`` (the ledger's UTC form)."""
        if position == self.quorum:
            self.first_uncovered = recorded
        if self.floor is not None and recorded < self.floor[0]:
            item = self.floor[1]
            self.add(f"recorded at {recorded}, but it was added after the ledger signed checkpoint "
                     f"{item.witnessed.checkpoint.size} at {self.floor[0]} (cosigned by witness {item.who()}): "
                     "back-dated", position)
        if self.trust.witnesses and not self.reported_future and recorded > self.latest_allowed:
            self.reported_future = True
            self.add(f"recorded at {recorded}, after this verifier's clock ({_iso_of(self.now)}): this machine's "
                     "clock is behind (set it right and verify again; until then the witness age checks mean "
                     "nothing), or the entry's time is false", position)

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
        self._check_fresh(size)
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


    def _check_fresh(self, size: int) -> None:
        """A quorum's newest cosignatures (of checkpoints this log still extends) are younger than the
        maximum age: a log cut back to an older cosigned size keeps only stale ones."""
        if not self.trust.witnesses or size == 0:
            return
        newest: dict[str, int] = {}
        for item in self.seen:
            cp = item.witnessed.checkpoint
            if cp.size > size or self.roots.get(cp.size) != cp.root:
                continue
            for name, when in item.witnessed.times.items():
                newest[name] = max(when, newest.get(name, when))
        needed = max(self.trust.witness_quorum, 1)
        if len(newest) < needed:
            return  # no quorum: the unwitnessed-entries rule above judges the log
        fresh = sorted(newest.values(), reverse=True)[needed - 1]
        if self.now - (witness.EPOCH + dt.timedelta(seconds=fresh)) > self.trust.witness_max_age:
            self.add(f"the newest cosignatures by a quorum of {needed} witness(es) are from {_iso(fresh)}, more "
                     f"than {_days(self.trust.witness_max_age)} before now: the log may have been cut back to an "
                     "older cosigned checkpoint (check with a witness: `ledger verify --witnessed "
                     "latest-cosigned.txt`), or the witnesses have stopped cosigning (they must re-cosign even "
                     "when nothing was written)", None)


def _iso_of(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _utc(text: str | None) -> str | None:
    """A checkpoint's signed time in the ledger's UTC form (None if absent or not a time)."""
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return _iso_of(moment) if moment.tzinfo is not None else None


def _shown(timestamp: int) -> str:
    try:
        return witness.posix_to_iso(timestamp)
    except witness.WitnessError:
        return f"POSIX time {timestamp}, after the year 9999"


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
