"""One chronology of everything the ledger knows about an incident, a person or a period.

Entries are selected from the index (never by scanning the log): for an
incident (or any record), its own entries plus the records that point at it
(an alert linked to it, the access log of who read it, its erasure) and the
non-person records it points at; for a person, every entry naming them as a
subject plus their own record; for a period, every entry that happened in it.
``as_of`` keeps only what had been recorded by then: what the DSL knew when a
decision was taken. Each row is then opened with the reader's key ring.

Selection and ordering work on the entries' UTC times; each row then carries
its times as aware datetimes in the federation's time zone (the registry's
signed setting), for the skins to show.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, and_, select

from ledger import localtime
from ledger.errors import InvalidInput, LedgerError, NotFound, NotPermitted
from ledger.keystore import KeyRing
from ledger.registry import Registry
from projections import checked
from projections.base import ERASURE_EVENT, Entry, utc
from projections.checked import LogEntry
from projections.entries import UUID_PATTERN, aliases, aliases_of, entries, entry_links, entry_subjects, resolve
from projections.reading import ACTION_FIELDS, ERASED, MISSING, OUTCOME_FIELDS, SHOWN, UNKNOWN, UNVERIFIED, WITHHELD, Opened, Reader
from projections.records import records

#: Record classes of people: linked people are named, their records not pulled in.
PEOPLE_CLASSES = frozenset({"identity", "staff", "subject"})

#: ``--category`` names for families of record classes (a record class or a
#: record's own clear ``category`` claim also work).
FAMILIES: dict[str, tuple[str, ...]] = {
    "incident": ("incident", "safeguarding", "allegation"),
    "approval": ("approval", "device_approval", "permission"),
    "acknowledgement": ("acknowledgement", "policy", "policy_review"),
    "policy": ("policy", "policy_review"),
    "training": ("training",),
    "recruitment": ("recruitment",),
    "monitoring": ("monitoring", "monitoring_check", "monitoring_authorisation"),
    "access": ("access_log",),
    "export": ("export",),
    "erasure": ("erasure", "retention"),
    "people": ("identity", "staff", "subject"),
}

#: Claims (or decrypted fields) naming what a correction corrects or supersedes:
#: a version of the same record (an int), or another record's short id.
CORRECTION_FIELDS = ("corrects", "corrects_version", "corrected_version", "supersedes")

#: Events that correct an earlier event of the same record with the same clear
#: claims (a wrong link undone): event type -> the type it corrects.
REVERSALS: dict[str, str] = {"Alert.Unlinked": "Alert.Linked"}

#: Claims naming where a record came from (a monitoring system, a report channel).
SOURCE_FIELDS = ("source", "source_system", "channel")

COLUMNS = (
    "ref", "happened_at", "precision", "happened_until", "recorded_at", "late", "recorded_after",
    "recorded_by", "role", "signed_with", "source", "what", "details", "about", "action", "outcome", "corrects", "corrected_by",
    "status", "read_model", "record", "event", "version", "entry",
)


@dataclass(frozen=True)
class Selection:
    """Which part of the ledger a timeline covers, and as of when."""

    incident: str | None = None
    person: str | None = None
    start: str | None = None
    end: str | None = None
    categories: tuple[str, ...] = ()
    as_of: str | None = None
    family: bool = False

    def check(self) -> None:
        """Exactly one of an incident, a person or a period; InvalidInput otherwise."""
        chosen = [bool(self.incident), bool(self.person), bool(self.start or self.end)]
        if sum(chosen) != 1:
            raise InvalidInput(
                "choose one of --incident, --person or --from/--to",
                "e.g. `ledger timeline --incident inc-1a2b3c4d --reason …`",
            )
        if (self.start or self.end) and not (self.start and self.end):
            raise InvalidInput("a period needs both --from and --to")
        if self.family and not self.person:
            raise InvalidInput("--with-family is for a person's chronology", "add --person")
        if self.start and self.end and self.end <= self.start:
            raise InvalidInput("--to must be after --from")

    @property
    def without_access_only(self) -> bool:
        """Whether the only category filter is leaving out the access log (the chronology's default)."""
        return set(self.categories) == set(FAMILIES) - {"access"}

    def describe(self, zone: dt.tzinfo = localtime.UTC) -> str:
        """One line saying what the timeline covers (its times in ``zone``)."""
        if self.incident:
            what = f"record {self.incident}"
        elif self.person:
            what = f"person {self.person}" + (" with their linked family" if self.family else "")
        else:
            what = f"period {_shown(self.start, zone)} to {_shown(self.end, zone)}"
        if self.categories and not self.without_access_only:
            what += f", categories {', '.join(self.categories)}"
        if self.as_of:
            what += f", as known on {_shown(self.as_of, zone)}"
        return what


def _shown(value: str | None, zone: dt.tzinfo) -> str:
    return localtime.shown(localtime.local(value, zone)) if value else ""


@dataclass
class Timeline:
    """The rows of one timeline and what they cover."""

    selection: Selection
    rows: list[dict[str, Any]]
    reader: str
    generated_at: dt.datetime
    records: list[str] = field(default_factory=list)
    record_subjects: dict[str, list[str]] = field(default_factory=dict)
    #: id -> "Name (id)" of the recorders the reader may read the names of (the services fill it).
    names: dict[str, str] = field(default_factory=dict)
    #: The person a chronology is about, as their own signed record says (name, date of birth,
    #: school...), when the reader may open it; empty otherwise.
    person: dict[str, str] = field(default_factory=dict)
    #: With ``--with-family``: the people linked to the person, whose records are taken in too.
    family: list[str] = field(default_factory=list)

    @property
    def subjects(self) -> list[str]:
        """Every pseudonymous person named by the rows."""
        return sorted({s for names in self.record_subjects.values() for s in names})

    @property
    def zone(self) -> dt.tzinfo:
        """The time zone the rows' times are in (the federation's when it was built)."""
        return self.generated_at.tzinfo or localtime.UTC

    @property
    def covers(self) -> str:
        """What the timeline covers, its times in the timeline's zone."""
        return self.selection.describe(self.zone)

    @property
    def title(self) -> str:
        """A heading for the timeline."""
        return f"Timeline of {self.covers}"


def category_classes(categories: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(record classes, category claim values) matched by ``--category`` names."""
    classes: set[str] = set()
    values: set[str] = set()
    for name in categories:
        key = name.strip().lower()
        family = FAMILIES.get(key) or FAMILIES.get(key.rstrip("s"))
        classes |= set(family or (key,))
        values.add(key)
    return classes, values


def _people(conn: Connection, aggregates: set[str]) -> set[str]:
    if not aggregates:
        return set()
    rows = conn.execute(
        select(records.c.aggregate).where(records.c.aggregate.in_(aggregates), records.c.record_class.in_(PEOPLE_CLASSES))
    )
    return {str(a) for (a,) in rows}


#: The kind of record a file taken in from another ledger is (it carries the sender's ``tr-…`` id).
RECEIVED_KIND = "ReceivedFile"


def _received_under(conn: Connection, ref: str) -> list[str]:
    """The files taken in here under another ledger's transfer id ``ref`` (``ledger transfer
    received`` lists them by it), oldest first. The index only selects: :func:`build` holds the
    anchor to its signed ``transfer_id``."""
    rows = conn.execute(select(entries.c.aggregate, entries.c.notification_id).join(
        entry_links, entry_links.c.aggregate == entries.c.aggregate).where(
        entry_links.c.ref == ref.strip(), entries.c.kind == RECEIVED_KIND, entries.c.version == 1))
    return [str(a) for a, _ in sorted(set(rows), key=lambda row: row[1])]


def _resolve_record(conn: Connection, ref: str) -> str | None:
    """The record a short id or record id names; a transfer id names the first file taken in under it."""
    found = resolve(conn, ref)
    if found is None:
        found = next(iter(_received_under(conn, ref)), None)
    return found


def _record_scope(conn: Connection, ref: str) -> set[str]:
    """The record itself, records pointing at it, and non-person records it points at."""
    anchor = _resolve_record(conn, ref)
    if anchor is None:
        raise NotFound(f"no record {ref!r} in the ledger", "give the short id shown when it was recorded (e.g. "
                       "inc-1a2b3c4d, or a transfer's tr-1a2b3c4d from `ledger transfer list` or `transfer received`)")
    names = {anchor} | set(aliases_of(conn, [anchor]).values()) | ({ref.strip()} if resolve(conn, ref) is None else set())
    inbound = {str(a) for (a,) in conn.execute(select(entry_links.c.aggregate).where(entry_links.c.ref.in_(names)).distinct())}
    pointed = {str(r) for (r,) in conn.execute(select(entry_links.c.ref).where(entry_links.c.aggregate == anchor).distinct())}
    outbound = {p for p in pointed if UUID_PATTERN.match(p)}
    short = pointed - outbound
    if short:
        outbound |= {str(a) for (a,) in conn.execute(select(aliases.c.aggregate).where(aliases.c.alias.in_(short)))}
    linked = (inbound | outbound) - {anchor}
    return {anchor} | (linked - _people(conn, linked))


def _person_scope(conn: Connection, person: str) -> tuple[set[int], str | None]:
    ids = {int(n) for (n,) in conn.execute(select(entry_subjects.c.notification_id).where(entry_subjects.c.subject == person))}
    own = resolve(conn, person)
    if not ids and own is None:
        raise NotFound(f"no entries about {person!r}", "give a pseudonymous id from `ledger people list`")
    return ids, own


#: A person's own entries that carry their details, and the details a chronology's heading shows.
PERSON_DETAILS = frozenset({"Subject.Registered", "Subject.DetailsCorrected", "StaffMember.Registered",
                            "StaffMember.DetailsCorrected"})
PERSON_FIELDS = ("name", "date_of_birth", "school", "job_title")

#: Events linking family (on the child's record, naming both people) and ending a link.
FAMILY_LINKED, FAMILY_ENDED = "Subject.Related", "Subject.RelationEnded"


def linked_family(conn: Connection, events: Table, registry: Registry, logged: dict[str, list[LogEntry]],
                  person: str) -> list[str]:
    """The people linked to ``person`` as family now, from the checked link entries naming them
    (in log order: the last link or end naming someone decides); an entry that fails its checks
    (never sealed, a bad signature) or whose signer did not then hold a role that may link people
    (by the table in force) decides nothing."""
    links = sorted((e for items in logged.values() for e in items
                    if e.checked and e.event_type in (FAMILY_LINKED, FAMILY_ENDED)
                    and person in (e.header.get("subjects") or [])), key=lambda e: e.notification_id)
    checked.signer_roles(conn, events, registry, links)
    table = registry.permissions
    links = [e for e in links if table is not None
             and table.may_write(frozenset(r for r in (e.roles or "").split(",") if r), e.event_type)]
    linked: dict[str, bool] = {}
    for entry in links:
        for other in entry.header.get("subjects") or []:
            if other != person:
                linked[str(other)] = entry.event_type == FAMILY_LINKED
    return sorted(p for p, now in linked.items() if now)


def _person_records(conn: Connection, person: str) -> set[str]:
    ids, own = _person_scope(conn, person)
    found = {str(a) for start in range(0, len(ids), 500) for (a,) in conn.execute(
        select(entries.c.aggregate).where(entries.c.notification_id.in_(sorted(ids)[start:start + 500])).distinct())}
    return found | ({own} if own else set())


def select_records(conn: Connection, selection: Selection) -> set[str]:
    """The records a timeline covers, found through the index (which only selects)."""
    selection.check()
    if selection.incident:
        return _record_scope(conn, selection.incident)
    if selection.person:
        return _person_records(conn, selection.person)
    query = select(entries.c.aggregate).where(
        and_(entries.c.happened_at >= str(selection.start), entries.c.happened_at < str(selection.end))).distinct()
    return {str(a) for (a,) in conn.execute(query)}


def _index_rows(conn: Connection, aggregates: set[str]) -> dict[int, Any]:
    """Every index row of these records, with the record's short id and category."""
    found: dict[int, Any] = {}
    ordered = sorted(aggregates)
    for start in range(0, len(ordered), 500):
        query = select(entries, records.c.alias, records.c.category).select_from(
            entries.outerjoin(records, records.c.aggregate == entries.c.aggregate)
        ).where(entries.c.aggregate.in_(ordered[start:start + 500]))
        found.update({int(r.notification_id): r for r in conn.execute(query)})
    return found


def _selected(entry: LogEntry, selection: Selection, category: str | None) -> bool:
    """Whether a checked entry belongs in the timeline, judged on its signed facts."""
    if not entry.header:
        return True
    if selection.as_of and entry.recorded_at > selection.as_of:
        return False
    if selection.start and selection.end:
        happened = entry.occurrence()[0]
        if not selection.start <= happened < selection.end:
            return False
    if selection.categories:
        classes, values = category_classes(selection.categories)
        if not (entry.record_class in classes or (category or "") in values or entry.kind.lower() in values):
            return False
    return True


def words(name: str) -> str:
    """``AccessRecord.Recorded`` -> ``Access record: recorded``."""
    parts = [re.sub(r"(?<!^)(?=[A-Z])", " ", p).lower() for p in name.split(".")]
    text = ": ".join(p for p in parts if p)
    return text[:1].upper() + text[1:]


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours / 24:.1f} days later" if hours >= 48 else f"{hours:.0f} hours later"


def _correction_target(row: LogEntry, name: str, claims: dict[str, Any], opened: Opened) -> tuple[str, int] | None:
    """(record, version) this entry corrects or supersedes, if it says so."""
    sources = [claims] + ([vars(opened.event)] if opened.event is not None else [])
    for source in sources:
        for field_name in CORRECTION_FIELDS:
            value = source.get(field_name)
            if isinstance(value, dict):
                value = value.get("version")
            if isinstance(value, bool) or value in (None, ""):
                continue
            if isinstance(value, int) or (isinstance(value, str) and value.lstrip("v").isdigit()):
                target = int(str(value).lstrip("v"))
                return (name, target) if 0 < target < int(row.version) else None
            if isinstance(value, str) and value != name:
                return value, 1
    if str(row.event_type).endswith("Corrected") and int(row.version) > 1:
        return name, 1
    return None


@dataclass(frozen=True)
class _Erasure:
    on: str  # the local date it was recorded
    basis: str


def _what(entry: LogEntry, opened: Opened, erasure: _Erasure | None, zone: dt.tzinfo) -> tuple[str, str]:
    """(what the row says, any moment in it in ``zone``; its status)."""
    name = words(entry.event_type)
    if not entry.checked:
        return f"{name}: NOT VERIFIED, {entry.problem}; run `ledger verify`", UNVERIFIED
    if opened.status == SHOWN:
        return opened.description(zone) or name, SHOWN
    if opened.status == ERASED:
        if erasure is None:
            return (f"{name}: its content is gone but no signed erasure covers the record: "
                    "run `ledger verify`"), UNVERIFIED
        return f"{name}: erased on {erasure.on} under {erasure.basis}", ERASED
    if opened.status == UNVERIFIED:
        return f"{name}: body fails verification ({opened.problem}); run `ledger verify`", UNVERIFIED
    if opened.status == UNKNOWN:
        return f"{name}: event type unknown to this version of the ledger", UNKNOWN
    return f"{name}: withheld (not readable by your roles)", WITHHELD


def _row(entry: LogEntry, row: Any | None, opened: Opened, alias: str | None, erasure: _Erasure | None,
         zone: dt.tzinfo) -> dict[str, Any]:
    claims = entry.claims
    name = alias or entry.aggregate
    short = alias or entry.aggregate[:8]
    happened, precision, until, late = entry.occurrence() if entry.header else ("", "", None, False)
    recorded = entry.recorded_at
    delay = (dt.datetime.fromisoformat(recorded) - dt.datetime.fromisoformat(until or happened)).total_seconds() \
        if recorded and happened else 0.0
    source = words(entry.kind)
    origin = next((claims[f] for f in SOURCE_FIELDS if claims.get(f)), None)
    if origin:
        source += f" ({origin})"
    what, status = _what(entry, opened, erasure, zone)
    return {
        "ref": f"{short}/v{entry.version}",
        "happened_at": localtime.local_or_none(happened, zone),
        "precision": precision,
        "happened_until": localtime.local_or_none(until, zone),
        "recorded_at": localtime.local_or_none(recorded, zone),
        "late": bool(late),
        "recorded_after": _duration(delay) if late else "",
        "recorded_by": entry.actor,
        "role": entry.roles or "",
        "signed_with": entry.signed_with,
        "source": source,
        "what": what,
        "details": opened.details() if status == SHOWN else [],
        "action": opened.field(ACTION_FIELDS, claims) if status == SHOWN else "",
        "outcome": opened.field(OUTCOME_FIELDS, claims) if status == SHOWN else "",
        "corrects": "",
        "corrected_by": "",
        "status": status,
        "read_model": "; ".join(entry.drift),
        "record": name,
        "event": entry.event_type,
        "version": entry.version,
        "entry": entry.leaf,
    }


def _gap_row(aggregate: str, alias: str | None, version: int, why: str) -> dict[str, Any]:
    """A row for an entry that should be there and is not."""
    name = alias or aggregate
    return {
        "ref": f"{alias or aggregate[:8]}/v{version}", "happened_at": None, "precision": "", "happened_until": None,
        "recorded_at": None, "late": False, "recorded_after": "", "recorded_by": "", "role": "", "signed_with": "",
        "source": "", "what": f"version {version} of {name} is {why}: run `ledger verify`", "details": [], "about": [],
        "action": "",
        "outcome": "", "corrects": "", "corrected_by": "", "status": MISSING, "read_model": "",
        "record": name, "event": "", "version": version, "entry": None,
    }


def _place_corrections(rows: list[dict[str, Any]], targets: dict[int, tuple[str, int]]) -> list[dict[str, Any]]:
    """Move each correction right after the row it corrects (when that row is shown)."""
    by_key = {(r["record"], int(r["version"])): i for i, r in enumerate(rows)}
    following: dict[int, list[int]] = {}
    for index, key in sorted(targets.items()):
        target = by_key.get(key)
        if target is None:
            continue
        rows[index]["corrects"] = rows[target]["ref"]
        following.setdefault(target, []).append(index)
    moved = {i for group in following.values() for i in group}
    ordered: list[dict[str, Any]] = []

    def place(i: int) -> None:
        ordered.append(rows[i])
        for j in following.get(i, []):
            rows[i]["corrected_by"] = ", ".join(filter(None, [rows[i]["corrected_by"], rows[j]["ref"]]))
            place(j)

    for i in range(len(rows)):
        if i not in moved:
            place(i)
    return ordered


def _anchor(conn: Connection, selection: Selection) -> str | None:
    """The record a chronology is about: the incident (or record), or the person's own record."""
    if selection.incident:
        return _resolve_record(conn, selection.incident)
    if selection.person:
        return resolve(conn, selection.person)
    return None


def _may_read(conn: Connection, registry: Registry, keyring: KeyRing | None, reader: str,
              entries_of: list[LogEntry]) -> bool:
    """Whether ``reader`` may read this record: a role that reads its class, or a key that opens it."""
    first = next((e for e in entries_of if e.header), None)
    if first is None:
        return False
    perms = registry.permissions
    held = registry.roles_of(reader)
    if perms is not None and held & set(perms.readers_of(first.record_class)):
        return True
    if keyring is None:
        return False
    try:
        keyring.data_key(conn, str(first.header["data_key"]))
    except LedgerError:
        return False
    return True


def _require_reader(conn: Connection, registry: Registry, keyring: KeyRing | None, reader: str, anchor: str,
                    entries_of: list[LogEntry], selection: Selection) -> None:
    """Only someone who may read the record a chronology is about may open it.

    A chronology lists, even where it withholds their content, that other
    records exist and when; so a person's is for readers of their record, an
    incident's for readers of the incident (or its investigators).
    """
    if _may_read(conn, registry, keyring, reader, entries_of):
        return
    what = f"the chronology of {selection.person}" if selection.person else f"the chronology of {selection.incident}"
    raise NotPermitted(
        f"{reader} may not read {what}",
        "chronologies are for those who may read the record they are about; "
        "your own reports' status is under `ledger incidents mine`",
    )


def _signed_names(logged: dict[str, list[LogEntry]]) -> dict[str, str]:
    """Each record's short id as its checked first entry names it (never the index's word for it)."""
    found: dict[str, str] = {}
    for aggregate, items in logged.items():
        first = next((e for e in items if e.version == 1 and e.checked), None)
        named = Entry(first.notification_id, first.leaf, first.header, False).own_alias if first else None
        if named:
            found[aggregate] = named[0]
    return found


def _chronological(entry: LogEntry) -> tuple[str, str, int]:
    """Where an entry goes in a chronology: when it happened; for something known only by its
    day, when it was recorded if that was the same day (so an action recorded after the triage
    it followed comes after it), else the end of that day; then recorded time and log order."""
    if not entry.header:
        return "", "", entry.notification_id
    at, precision, until, _ = entry.occurrence()
    if precision == "day":
        end = until or (dt.datetime.fromisoformat(at) + dt.timedelta(days=1)).isoformat()
        at = min(entry.recorded_at, end, key=dt.datetime.fromisoformat)
    return dt.datetime.fromisoformat(at).astimezone(dt.timezone.utc).isoformat(), entry.recorded_at, \
        entry.notification_id


def build(
    conn: Connection,
    events: Table,
    ledger_id: str,
    keyring: KeyRing | None,
    selection: Selection,
    reader: str,
    now: str,
    registry: Registry,
) -> Timeline:
    """Select records through the index, then load, check, open and order their entries.

    Rows carry their times in the federation's zone, as ``registry`` names it.
    """
    zone = localtime.zone_named(registry.timezone)
    if selection.as_of:
        selection = dataclasses.replace(selection, as_of=utc(selection.as_of))
    scope = select_records(conn, dataclasses.replace(selection, family=False))
    anchor = _anchor(conn, selection)
    logged = checked.load(conn, events, registry, scope)
    family: list[str] = []
    if selection.person and selection.family:
        # who the family is comes from the checked, sealed link entries, never from the index alone
        family = linked_family(conn, events, registry, logged, selection.person)
        added = set().union(*(_person_records(conn, relative) for relative in family)) - scope
        logged.update(checked.load(conn, events, registry, added))  # only the family's own records
        scope |= added
    if anchor is not None:
        _require_reader(conn, registry, keyring, reader, anchor, logged.get(anchor, []), selection)
        if selection.incident and resolve(conn, selection.incident) is None and not any(
                e.checked and e.claims.get("transfer_id") == selection.incident.strip() for e in logged.get(anchor, [])):
            raise NotFound(f"no record {selection.incident!r} in the ledger: the index points it at a record whose "
                           "signed entries do not carry it", "rebuild the read models: `ledger projections rebuild`")
    else:
        logged = {a: items for a, items in logged.items() if _may_read(conn, registry, keyring, reader, items)}
        scope = set(logged)
    index = _index_rows(conn, scope)
    indexed = aliases_of(conn, sorted(scope))
    signed = _signed_names(logged)
    names = {**indexed, **signed}
    categories = {str(r.aggregate): r.category for r in index.values()}
    opener = Reader(conn, ledger_id, keyring)
    erasures = {
        str(target): _Erasure(localtime.today(e.recorded_at, zone), str(e.claims.get("basis") or "a signed erasure"))
        for items in logged.values() for e in items
        if e.checked and e.event_type == ERASURE_EVENT for target in (e.claims.get("records") or [])
    }
    rows: list[dict[str, Any]] = []
    targets: dict[int, tuple[str, int]] = {}
    seen: dict[tuple[str, str, str], list[int]] = {}
    shown: list[LogEntry] = []
    gaps: set[tuple[str, int]] = set()
    checked.signer_roles(conn, events, registry, [e for items in logged.values() for e in items])
    for aggregate, items in sorted(logged.items()):
        for entry in items:
            checked.compare(entry, index.get(entry.notification_id))
            if aggregate in signed and indexed.get(aggregate) != signed[aggregate]:
                entry.drift.append(f"the read model calls this record {indexed.get(aggregate)}, but its signed id "
                                   f"is {signed[aggregate]}")
            if _selected(entry, selection, categories.get(aggregate)):
                shown.append(entry)
        gaps |= {(aggregate, v) for v in checked.missing_versions(items)}
    in_log = {e.notification_id for items in logged.values() for e in items}
    gaps |= {(str(row.aggregate), int(row.version)) for nid, row in index.items() if nid not in in_log}
    for aggregate, version in sorted(gaps):
        rows.append(_gap_row(aggregate, names.get(aggregate), version, "missing from the log (deleted?)"))
    for entry in shown:
        if entry.event_type in REVERSALS.values():
            seen.setdefault((entry.aggregate, entry.event_type, repr(sorted(entry.claims.items()))), []).append(entry.version)
    person: dict[str, str] = {}
    for entry in sorted(shown, key=_chronological):
        opened = opener.open(entry.state, entry.aggregate, entry.version, entry.topic) if entry.checked else Opened(UNVERIFIED)
        if selection.person and entry.aggregate == anchor and opened.status == SHOWN \
                and entry.event_type in PERSON_DETAILS:
            person.update({k: str(v) for k, v in (getattr(opened.event, "details", None) or {}).items()
                           if k in PERSON_FIELDS and v})
        built = _row(entry, index.get(entry.notification_id), opened, names.get(entry.aggregate),
                     erasures.get(entry.aggregate), zone)
        built["about"] = [str(p) for p in (entry.header.get("subjects") or [])] if entry.header else []
        target = _correction_target(entry, built["record"], entry.claims, opened)
        reversed_type = REVERSALS.get(entry.event_type)
        earlier = [v for v in seen.get((entry.aggregate, str(reversed_type), repr(sorted(entry.claims.items()))), [])
                   if v < entry.version]
        if target is None and reversed_type and earlier:
            target = (built["record"], max(earlier))
        if target is not None:
            targets[len(rows)] = target
        rows.append(built)
    named: dict[str, set[str]] = {}
    for entry in shown:
        for subject in entry.header.get("subjects") or []:
            named.setdefault(entry.aggregate, set()).add(str(subject))
    return Timeline(
        selection=selection,
        rows=_place_corrections(rows, targets),
        reader=reader,
        generated_at=localtime.local(now, zone),
        records=sorted({e.aggregate for e in shown}),
        record_subjects={k: sorted(v) for k, v in sorted(named.items())},
        person=person,
        family=family,
    )


def shown_occurrence(at: dt.datetime | None, precision: str, until: dt.datetime | None) -> str:
    """When something happened (local times), as a person reads it: ``2026-06-01 12:30 BST``,
    the local date for day precision, ``~`` before an approximate time, ``… to …`` for a range."""
    if at is None:
        return ""
    if precision == "day":
        return at.date().isoformat()
    text = localtime.shown(at)
    if precision == "range" and until is not None:
        return f"{text} to {localtime.shown(until)}"
    return "~" + text if precision == "approximate" else text


def happened(row: dict[str, Any]) -> str:
    """When a timeline row's entry happened, as :func:`shown_occurrence` writes it."""
    return shown_occurrence(row["happened_at"], str(row["precision"]), row["happened_until"])


def detail_lines(row: dict[str, Any]) -> list[str]:
    """A row's readable text beyond its one line (facts, opinion, the child's words...), one
    ``label: text`` line each."""
    return [f"{d['label']}: {d['text']}" for d in row.get("details") or []]


def csv_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for CSV: the readable text in one cell, a passage per line."""
    return [{**row, "details": "\n".join(detail_lines(row)), "about": " ".join(row.get("about") or [])}
            for row in rows]


def about_line(row: dict[str, Any], timeline: Timeline) -> str:
    """Whose record a row of a family chronology is: ``[about sb-5e6f7a8b, their sibling]``."""
    about = [p for p in row.get("about") or [] if p in timeline.family] or list(row.get("about") or [])
    named = [timeline.names.get(p, p) for p in about]
    return f"[about {', '.join(named) or 'someone else'}: family of {timeline.selection.person}]"


def recorded_note(row: dict[str, Any]) -> str:
    """When and how a row's entry was recorded, for a reader: ``recorded 2026-06-02 09:00 BST,
    LATE: 2 days later · inc-1a2b3c4d/v3`` (the time left out when it is when it happened)."""
    parts = []
    if row["recorded_at"] and (row["precision"] != "recorded" or row["late"]):
        late = f", LATE: {row['recorded_after']}" if row["late"] else ""
        parts.append(f"recorded {localtime.shown(row['recorded_at'])}{late}")
    if row.get("signed_with"):
        parts.append(f"signed with {row['signed_with']}")
    if row["corrects"]:
        parts.append(f"corrects {row['corrects']}")
    if row["corrected_by"]:
        parts.append(f"corrected by {row['corrected_by']} (below)")
    if row.get("read_model"):
        parts.append(str(row["read_model"]))
    parts.append(str(row["ref"]))
    return " · ".join(parts)


def display_rows(timeline: Timeline) -> list[dict[str, Any]]:
    """Rows for a terminal: when it happened, who recorded it (and in which role), and what,
    the readable text and how it was recorded as the lines of one wrapped cell."""
    shown = []
    person = timeline.selection.person
    for row in timeline.rows:
        role = str(row["role"] or "")
        others = [about_line(row, timeline)] if timeline.family and person not in (row.get("about") or []) else []
        shown.append({
            "happened": happened(row) or "(unknown)",
            "by": (f"{timeline.names.get(row['recorded_by'], row['recorded_by'])} ({role})" if role
                   else timeline.names.get(row["recorded_by"], str(row["recorded_by"]))),
            "what": [*others, str(row["what"]), *detail_lines(row), recorded_note(row)],
        })
    return shown
