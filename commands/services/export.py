"""Evidence bundles for a third party: select, decide what to disclose, pack, record.

Who may export: the Headteacher (any incident, any person); the DSL
(safeguarding incidents, and a person's safeguarding records); an
investigator (the incidents assigned to them). The entries are the ones the
timeline selects for the incident or person (``projections.timeline``), up
to the latest signed checkpoint. The export is recorded, in the same
transaction, as an ``EvidenceExport.Exported`` entry (with the bundle's
SHA-256) and an access-log entry; the zip is written to a temporary file and
renamed into place only once that commit succeeded, so a refused or failed
export leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.utils import TopicError, resolve_topic
from sqlalchemy import select

from commands.services import evidence
from commands.services.access import record_access
from commands.services.incidents import load_incident
from commands.services.readside import ACCESS_CHUNK, ensure_current
from ledger import bundle, canonical, files, localtime, roles, text
from ledger import verify_bundle as checker
from ledger.domain.base import require_text
from ledger.domain.export import REDACTIONS, EvidenceExport
from ledger.domain.incidents import Incident
from ledger.domain.people import staff_record_id, subject_record_id
from ledger.errors import InvalidInput, LedgerError, NotFound, NotPermitted
from ledger.schema import actors
from ledger.store import Actor, Ledger, Unit
from projections import timeline_html
from projections.reading import ACTION_FIELDS, OUTCOME_FIELDS, SHOWN, WITHHELD, Opened
from projections.timeline import COLUMNS, Selection, Timeline, build, csv_rows, words

#: The standalone verifier: part of the installed package, and shipped inside every bundle.
VERIFIER = Path(checker.__file__)

EXPORTERS = ("headteacher", "dsl", "investigator")
EVIDENCE_EVENT = "Incident.EvidenceAdded"
PUPIL, REPORTER = "Pupil", "Reporter"


@dataclass(frozen=True)
class ExportRequest:
    """What to export, why, where, and for whom (redactions)."""

    reason: str
    out: Path
    incident: str | None = None
    person: str | None = None
    redact: tuple[str, ...] = ()
    force: bool = False
    #: Record families to hold (None: the exporter's default; a transfer holds safeguarding only).
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ExportResult:
    """What was written and recorded."""

    export_id: str
    path: Path
    sha256: str
    size: int
    entries: int
    disclosed: int
    withheld: int
    erased: int
    attachments: int
    checkpoint_size: int
    fingerprint: str
    notes: tuple[str, ...] = ()


# -- checks before anything is read -----------------------------------------------------


def _check_request(actor: Actor, request: ExportRequest) -> str:
    if not (request.reason or "").strip():
        raise InvalidInput(
            "an export needs a reason: it is recorded with the export (chain of custody)",
            'give --reason, e.g. --reason "disciplinary hearing, panel of 3 March"',
        )
    reason = require_text("reason", request.reason, 2000)
    unknown = sorted(set(request.redact) - set(REDACTIONS))
    if unknown:
        raise InvalidInput(f"cannot redact {', '.join(unknown)}", f"--redact takes: {', '.join(REDACTIONS)}")
    if bool(request.incident) == bool(request.person):
        raise InvalidInput("choose one of --incident or --person", "e.g. `ledger export --incident inc-1a2b3c4d …`")
    if not set(EXPORTERS) & actor.roles:
        raise NotPermitted(
            f"{actor.actor_id} may not export evidence bundles",
            "only the Headteacher, the DSL (safeguarding records) or an investigator assigned to the case may",
        )
    if request.person and not {"headteacher", "dsl"} & actor.roles:
        raise NotPermitted(
            "an investigator exports the cases assigned to them, not everything about a person",
            "use --incident INC_ID, or ask the Headteacher for a bundle about a person",
        )
    files.check_target(request.out, request.force)
    return reason


def _check_incident(actor: Actor, incident: Incident) -> None:
    if "headteacher" in actor.roles:
        return
    if "dsl" in actor.roles and incident.record_class == "safeguarding":
        return
    if "investigator" in actor.roles and actor.actor_id in incident.investigators:
        return
    raise NotPermitted(
        f"{actor.actor_id} may not export {incident.inc_id} ({incident.record_class} record)",
        "the Headteacher may export any incident, the DSL safeguarding incidents, "
        "and an investigator the incidents assigned to them",
    )


# -- what each entry discloses --------------------------------------------------------------


def _open(work: Unit, actor: Actor, items: list[bundle.Item]) -> None:
    for item in items:
        if item.entry.erased:
            item.status = bundle.ERASED
            continue
        try:
            key = actor.keyring.data_key(work.conn, item.header["data_key"])
        except NotPermitted:
            continue
        except NotFound:  # RecordErased: its keys were destroyed
            item.status = bundle.ERASED
            continue
        item.key, item.plaintext, item.status = key, bundle.disclose(item.entry, key), bundle.DISCLOSED


def _kinds(work: Unit, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = work.conn.execute(select(actors.c.actor_id, actors.c.kind).where(actors.c.actor_id.in_(sorted(ids))))
    return {str(a): str(k) for a, k in rows}


def _body(item: bundle.Item) -> dict[str, Any]:
    if item.plaintext is None:
        return {}
    value = json.loads(item.plaintext)
    return value if isinstance(value, dict) else {}


def _redacted_people(work: Unit, items: list[bundle.Item], redact: tuple[str, ...], target: str | None) -> dict[str, str]:
    """Person id -> label kind, for everyone the redactions cover."""
    named = {target} if target else set()
    reporters: set[str] = set()
    for item in items:
        header, claims = item.header, item.header.get("claims") or {}
        named |= set(header["subjects"])
        event = roles.event_name(header["topic"])
        if event == "Incident.Reported":
            reporters.add(str(claims.get("reporter")))
            reporters |= {p["id"] for p in _body(item).get("people") or [] if p.get("part") == "reporter"}
        elif event == "Incident.PersonLinked" and _body(item).get("part") == "reporter":
            reporters.add(str(claims.get("person")))
    kinds = _kinds(work, named | reporters)
    chosen: dict[str, str] = {}
    if "reporters" in redact:
        chosen.update({p: REPORTER for p in reporters if p in kinds})
    if "pupils" in redact:
        chosen.update({p: PUPIL for p, kind in kinds.items() if kind == "pupil"})
    return chosen


def _names(work: Unit, person: str) -> list[str] | None:
    """Every way the person's recorded name (and any correction of it) can be written,
    or None when the exporter may not read their details."""
    for record in (staff_record_id(person), subject_record_id(person)):
        if not work.exists(record):
            continue
        forms: set[str] = set()
        try:
            for event in work.ledger.app.events.get(record):
                details = getattr(event, "details", None) or {}
                name = str(details.get("name") or "")
                forms |= {name, *name.split(), str(details.get("email") or "")}
        except (NotPermitted, NotFound):
            return None
        return sorted(f for f in forms if len(f.strip()) >= 2)
    return None


def _linked(items: list[bundle.Item], redacted: dict[str, str]) -> dict[str, set[str]]:
    """Record (aggregate) -> the redacted people its entries name (subjects, signer,
    clear claims) or who reported it."""
    found: dict[str, set[str]] = {}
    for item in items:
        header = item.header
        probe = bundle.Pseudonyms(redacted)
        probe.see([header["actor"], header["subjects"], header.get("claims") or {}])
        found.setdefault(header["aggregate"], set()).update(probe.labels)
    return found


def _redact(work: Unit, items: list[bundle.Item], redacted: dict[str, str], linked: dict[str, set[str]]) -> list[str]:
    """Withhold every disclosed entry that names, mentions or was written by a redacted person.

    Mentions are the person's id or name (each part of it) anywhere in the
    decrypted body. When the exporter may not read a redacted person's name,
    every entry of a record naming that person is withheld.
    """
    if not redacted:
        return []
    notes = []
    names = {p: _names(work, p) for p in sorted(redacted)}
    unknown = {p for p, n in names.items() if n is None}
    for person in sorted(unknown):
        notes.append(
            f"you may not read the details of {person}, so their name cannot be looked for: every entry of a "
            "record that names them is withheld (the Headteacher can make a finer redaction)"
        )
    ids = re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in redacted) + r")(?![\w-])")
    words_ = [re.compile(r"(?<!\w)" + re.escape(n) + r"(?!\w)", re.IGNORECASE) for p in names for n in names[p] or []]
    for item in items:
        if item.status != bundle.DISCLOSED or item.plaintext is None:
            continue
        text = item.plaintext.decode("utf-8")
        if (set(item.header["subjects"]) & set(redacted) or item.header["actor"] in redacted or ids.search(text)
                or any(w.search(text) for w in words_) or linked.get(item.header["aggregate"], set()) & unknown):
            item.status, item.key, item.plaintext = bundle.REDACTED, None, None
    return notes


def _attachments(work: Unit, actor: Actor, items: list[bundle.Item], linked: dict[str, set[str]]) -> list[bundle.Attachment]:
    """Evidence files of the selected entries: included when their entry is disclosed
    and their record names no redacted person (an image cannot be redacted)."""
    incidents: dict[str, Incident] = {}
    found = []
    for item in items:
        if roles.event_name(item.header["topic"]) != EVIDENCE_EVENT:
            continue
        claims = item.header.get("claims") or {}
        attachment = bundle.Attachment(str(claims["attachment_id"]), item.leaf, str(claims["sha256"]),
                                       int(claims["size"]), item.status)
        found.append(attachment)
        if item.status != bundle.DISCLOSED:
            continue
        if linked.get(item.header["aggregate"]):
            attachment.status = bundle.REDACTED
            continue
        aggregate = item.header["aggregate"]
        try:
            if aggregate not in incidents:
                incidents[aggregate] = work.get(Incident, uuid.UUID(aggregate), "incident")
            attachment.content = evidence.read(work, actor, incidents[aggregate], attachment.attachment_id)
        except NotPermitted:
            attachment.status = bundle.NOT_READABLE
            continue
        except NotFound:
            attachment.status = bundle.ERASED
            continue
        attachment.filename = str(_body(item).get("filename") or "") or None
    return found


# -- the readable files ----------------------------------------------------------------------


def _readable(found: Timeline, items: dict[int, bundle.Item], scrub: bundle.Pseudonyms, exporter: str) -> dict[str, bytes]:
    rows = []
    for row in found.rows:
        item = items.get(row["entry"]) if row["entry"] is not None else None
        if item is None:
            continue
        row = dict(row)
        claims = item.header.get("claims") or {}
        if item.status == bundle.REDACTED:
            about = [scrub.label(p) for p in item.header["subjects"] if p in scrub.kinds]
            why = f"redacted; about {', '.join(about)}" if about else "redacted"
            row.update(status=WITHHELD, what=f"{words(row['event'])}: withheld ({why})", details=[],
                       action=Opened(WITHHELD).field(ACTION_FIELDS, claims),
                       outcome=Opened(WITHHELD).field(OUTCOME_FIELDS, claims))
        elif item.status == bundle.NOT_READABLE:
            row["what"] = f"{words(row['event'])}: withheld (not readable by {exporter}, who exported it)"
            row["details"] = []
        if item.header["actor"] in scrub.kinds:
            row["role"] = ""
        rows.append(scrub.scrub(row))
    selection = dataclasses.replace(found.selection, incident=scrub.scrub(found.selection.incident),
                                    person=scrub.scrub(found.selection.person))
    shown = Timeline(selection, rows, exporter, found.generated_at)
    return {
        "timeline.html": timeline_html.render(shown).encode("utf-8"),
        "timeline.csv": text.csv_table(csv_rows(rows), COLUMNS).encode("utf-8"),
    }


# -- the use case --------------------------------------------------------------------------


def export(ledger: Ledger, actor: Actor, request: ExportRequest) -> ExportResult:
    """Write an evidence bundle and record its export; nothing is written on any error."""
    reason = _check_request(actor, request)
    if request.person:
        from commands.services.directory import resolve

        request = dataclasses.replace(request, person=resolve(ledger, actor, request.person))
    verifier = _verifier_bytes()
    ensure_current(ledger)
    meta = ledger.meta()
    trust = _trust_bytes(ledger, meta)
    with files.private_file(request.out, request.force) as part:
        with ledger.unit(actor, write=True) as work:
            made = _make(work, actor, request, meta, trust, reason, verifier, part.handle)
        part.commit()
    return made


def _verifier_bytes() -> bytes:
    """The standalone verifier the bundle's README tells the recipient to run."""
    try:
        return VERIFIER.read_bytes()
    except OSError:
        raise NotFound(f"the bundle verifier {VERIFIER} is missing, so a bundle would be incomplete",
                       "reinstall policy-ledger") from None


def _trust_bytes(ledger: Ledger, meta: dict[str, str]) -> bytes:
    path = ledger.config.trust_path
    try:
        data = files.read_regular(path, 1024 * 1024)
    except NotFound:
        raise NotFound(f"the trust file {path} is missing", "restore it from the copy given to the auditors") from None
    try:
        document = canonical.strict_loads(data.decode("utf-8"))
        matches = document["ledger_id"] == meta["ledger_id"] and document["ledger_public_key"] == meta["ledger_public_key"]
    except (ValueError, KeyError, TypeError):
        matches = False
    if not matches:
        raise InvalidInput(f"{path} is not this ledger's trust file", "restore it from the copy given to the auditors")
    return data


def _make(work: Unit, actor: Actor, request: ExportRequest, meta: dict[str, str], trust: bytes,
          reason: str, verifier: bytes, stream: Any) -> ExportResult:
    events = work.ledger.app.events_table
    record: str | None
    if request.incident:
        incident = load_incident(work, actor, request.incident)
        _check_incident(actor, incident)
        selection, target, record = Selection(incident=incident.inc_id), incident.inc_id, str(incident.id)
    else:
        target = str(request.person)
        categories: tuple[str, ...] = () if "headteacher" in actor.roles else ("safeguarding",)
        if request.categories:  # only ever narrows what the exporter may export (empty means everything)
            narrowed = tuple(c for c in request.categories if not categories or c in categories)
            if not narrowed:
                raise NotPermitted(f"{actor.actor_id} may not export {', '.join(request.categories)} records")
            categories = narrowed
        selection = Selection(person=target, categories=categories)
        own = [r for r in (staff_record_id(target), subject_record_id(target)) if work.exists(r)]
        record = str(own[0]) if own else None
    snap = bundle.snapshot(work.conn)
    found = build(work.conn, events, meta["ledger_id"], actor.keyring, selection, actor.actor_id, work.now,
                  work.registry)
    leaves = sorted({int(r["entry"]) for r in found.rows if r["entry"] is not None and int(r["entry"]) < snap.size})
    if not leaves:
        raise NotFound(f"there is nothing about {target} that you may export",
                       "the DSL exports safeguarding records; the Headteacher exports everything")
    items = [bundle.Item(leaf, entry) for leaf, entry in sorted(bundle.load(work.conn, events, leaves).items())]
    _open(work, actor, items)
    redacted = _redacted_people(work, items, tuple(request.redact), request.person)
    linked = _linked(items, redacted)
    notes = _redact(work, items, redacted, linked)
    scrub = bundle.Pseudonyms(redacted)
    for item in items:
        scrub.see([item.header["actor"], item.header["subjects"], item.header.get("claims") or {}])
    scrub.see(sorted(redacted))
    attachments = _attachments(work, actor, items, linked)
    contents = bundle.Contents(
        ledger_id=meta["ledger_id"], origin=meta["origin"], ledger_public_key=bytes.fromhex(meta["ledger_public_key"]),
        trust=trust, snapshot=snap, items=items,
        registry=bundle.registry_entries(work.conn, events, snap.size, {str(i.header["actor"]) for i in items},
                                         _table_versions(work)),
        attachments=attachments, covers=found.covers, exporter=actor.actor_id, generated_at=work.now,
        redacted=sorted(request.redact), labels=dict(scrub.labels), zone=work.registry.timezone,
    )
    contents.readable = _readable(found, {i.leaf: i for i in items}, scrub, actor.actor_id)
    contents.readable["README.txt"] = bundle.readme(contents, scrub)
    contents.readable["verify_bundle.py"] = verifier
    sealed = bundle.seal(bundle.files(work.conn, contents, scrub), work.ledger.ledger_signing_key())
    bundle.write_zip(sealed, stream, work.now)
    stream.flush()
    stream.seek(0)
    hashed = hashlib.sha256()
    while chunk := stream.read(1024 * 1024):
        hashed.update(chunk)
    digest, size = hashed.hexdigest(), stream.tell()
    records = sorted({i.header["aggregate"] for i in items})
    subjects = sorted({s for i in items for s in i.header["subjects"]})
    exported = EvidenceExport.record(target, record, leaves, snap.size, sorted(request.redact), digest, size,
                                     reason, subjects)
    work.save(exported)
    for start in range(0, len(records), ACCESS_CHUNK):
        chunk = records[start : start + ACCESS_CHUNK]
        named = sorted({s for i in items if i.header["aggregate"] in chunk for s in i.header["subjects"]})
        record_access(work, actor.actor_id, "export", chunk, named, reason)
    statuses = [i.status for i in items]
    return ExportResult(
        export_id=exported.export_id, path=request.out, sha256=digest, size=size, entries=len(items),
        disclosed=statuses.count(bundle.DISCLOSED), withheld=len([s for s in statuses if s.startswith("withheld")]),
        erased=statuses.count(bundle.ERASED), attachments=sum(1 for a in attachments if a.content is not None),
        checkpoint_size=snap.size, fingerprint=bundle.fingerprint(sealed[bundle.PUBLIC_KEY]), notes=tuple(notes),
    )


def verify_bundle(path: Path, trust_file: Path | None = None) -> Any:
    """Run the standalone verifier's checks on a bundle, and rebuild the timeline's wording of
    each disclosed entry from its checked plaintext (which the script alone cannot); returns its report."""
    try:
        return checker.verify(path, trust_file, wording=_Wording())
    except checker.Unreadable as exc:
        raise InvalidInput(str(exc), "give the bundle's zip file, or the folder it was unpacked into") from None


class _Wording:
    """How the timeline words a disclosed entry, for the bundle checker (which imports nothing
    from this package): the event's own ``describe()``, rebuilt from the signed header and the
    plaintext the checker has proved, as the event store rebuilds it; and how the HTML timeline
    escapes those words."""

    escape = staticmethod(timeline_html.escape)

    def __call__(self, header: dict[str, Any], plaintext: Any, zone: str) -> dict[str, Any]:
        """The readable columns of a disclosed row: ``what``, ``action``, ``outcome`` (text) and
        ``details`` ((label, text) pairs), as the timeline makes them from the opened event."""
        found = header.get("claims")
        claims: dict[str, Any] = found if isinstance(found, dict) else {}
        name = words(roles.event_name(str(header.get("topic"))))
        state = dict(plaintext) if isinstance(plaintext, dict) else {}
        try:
            for field in header.get("lifted") or []:
                state[field] = header[field]
            state.update(claims)
            state.update(originator_id=uuid.UUID(str(header["aggregate"])), originator_version=header["version"],
                         timestamp=dt.datetime.fromisoformat(str(header["recorded_at"])))
            event = object.__new__(resolve_topic(str(header["topic"])))
            object.__setattr__(event, "__dict__", state)
        except (KeyError, TypeError, ValueError, ImportError, AttributeError, TopicError, LedgerError):
            return {"what": name, "action": "", "outcome": "", "details": []}
        opened = Opened(SHOWN, event)
        return {"what": opened.description(localtime.zone_named(zone)) or name,
                "action": opened.field(ACTION_FIELDS, claims), "outcome": opened.field(OUTCOME_FIELDS, claims),
                "details": [(d["label"], d["text"]) for d in opened.details()]}


def verifier_module() -> Any:
    """The standalone verifier (a module of this package that imports nothing from it)."""
    return checker


# -- demo ---------------------------------------------------------------------------------------


def _table_versions(work: Unit) -> int:
    """The highest permission table version adopted or proposed (each has its own record)."""
    registry = work.registry
    versions = [int(registry.table["version"])] if registry.table else []
    if registry.proposal:
        versions.append(int(registry.proposal["table"]["version"]))
    return max(versions, default=0)


def demo_chapter(ledger: Ledger, actors: dict[str, Actor], subjects: dict[str, str]) -> Iterator[str]:
    """A safeguarding incident exported twice by the DSL (in full, and redacted for an
    outside party), each bundle checked by the standalone verifier."""
    from commands.services import incidents

    yesterday = (dt.date.fromisoformat(ledger.today()) - dt.timedelta(days=1)).isoformat()
    dsl = actors["dsl"]
    inc = incidents.report(ledger, actors["teacher-1"], incidents.IncidentReport(
        "child-on-child", f"{yesterday}T10:15", "Unkind messages in a class chat",
        "Pupil showed me messages about another pupil.", people=(f"{subjects['pupil1']}:victim",),
        school="Oak Primary",
        evidence=(evidence.EvidenceFile("chat.png", b"\x89PNG demo screenshot", "teacher-1", f"{yesterday}T10:30",
                                        "screenshot", "school iPad"),),
    ))
    incidents.triage(ledger, dsl, inc, "Online bullying between pupils: safeguarding")
    folder = ledger.config.home / "exports"
    folder.mkdir(exist_ok=True)
    checker = verifier_module()
    yield f"Evidence bundles (written to {folder}):"
    for name, redact in (("full", ()), ("redacted", ("pupils",))):
        out = folder / f"{inc}-{name}.zip"
        done = export(ledger, dsl, ExportRequest("Referral to the local authority", out, incident=inc,
                                                 redact=redact, force=True))
        report = checker.verify(out)
        verdict = "verifies" if report.ok else "FAILS"
        yield (f"  {out.name}: {done.entries} entries ({done.withheld} withheld), {done.attachments} evidence "
               f"file(s), sha256 {done.sha256[:16]}…, exported by dsl; the standalone verifier says it {verdict}")
    yield f"  each export is an entry in the ledger: `ledger timeline --incident {inc} --reason …` shows them"
