"""Evidence bundles on both backends: contents, redaction, chain of custody, who may export."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from commands.services import export as service
from commands.services import incidents, people, readside, retention
from commands.services.evidence import EvidenceFile
from ledger import envelope
from ledger.domain.export import EvidenceExport
from ledger.errors import AlreadyExists, InvalidInput, LedgerError, NotFound, NotPermitted
from tests.conftest import Federation, module_federation

PUPIL_NAME = "Zebedee Quillfeather"
WITNESS_NAME = "Ottoline Brackenbury"
SHOT = b"\x89PNG screenshot of the group chat"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation per backend for this module: each test makes its own incident."""
    yield from module_federation(request, tmp_path_factory, "bundle")


def case(fed: Federation) -> tuple[str, str, str]:
    """A safeguarding incident about a pupil, with a witness and a screenshot; (incident, pupil, witness)."""
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", PUPIL_NAME)
    witness = people.add_subject(fed.ledger, fed["dsl"], "pupil", WITNESS_NAME)
    shot = EvidenceFile("chat.png", SHOT + uuid.uuid4().bytes, "teacher", "2026-01-10T09:00", "screenshot", "iPad")
    inc = incidents.report(fed.ledger, fed["teacher"], incidents.IncidentReport(
        "child-on-child", "2026-01-10T08:30", "Image shared in a group chat", "The pupil showed me the chat",
        people=(f"{pupil}:victim",), child_words="everyone has seen it", evidence=(shot,),
    ))
    incidents.triage(fed.ledger, fed["dsl"], inc, "Sharing of images: safeguarding")
    incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", "Both families were called.")
    incidents.add_note(fed.ledger, fed["dsl"], inc, "fact", f"{PUPIL_NAME.split()[0]} is being supported.")
    incidents.link_person(fed.ledger, fed["dsl"], inc, f"{witness}:witness", "was in the chat")
    return inc, pupil, witness


def conduct(fed: Federation) -> str:
    """A staff phone-use incident (record class incident), triaged by SLT."""
    inc = incidents.report(fed.ledger, fed["slt"], incidents.IncidentReport(
        "staff-phone-use", "2026-01-10T08:30", "Phone in class", "Phone used in the lesson",
        people=("teacher:alleged",),
    ))
    incidents.triage(fed.ledger, fed["slt"], inc, "phone use around children")
    return inc


def run(fed: Federation, who: str, out: Path, reason: str = "disciplinary hearing", **kw: Any) -> service.ExportResult:
    return service.export(fed.ledger, fed[who], service.ExportRequest(reason, out, **kw))


def unzip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def events_count(fed: Federation) -> int:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def refused(fed: Federation, folder: Path, error: type[LedgerError], call: Callable[[], Any], match: str | None = None) -> None:
    """``call`` raises ``error``, appends no entry and leaves no file behind."""
    before, files = events_count(fed), sorted(folder.iterdir())
    with pytest.raises(error, match=match):
        call()
    assert events_count(fed) == before
    assert sorted(folder.iterdir()) == files


def exports_of(fed: Federation) -> list[dict[str, Any]]:
    """Headers of every export entry, oldest first."""
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(select(table.c.state).where(table.c.topic.like("%EvidenceExport.Exported")).order_by(table.c.id))
        return [envelope.parse(bytes(s)).header for (s,) in rows]


def test_a_bundle_holds_every_part_and_verifies(fed: Federation, tmp_path: Path) -> None:
    inc, pupil, _ = case(fed)
    done = run(fed, "head", tmp_path / "case.zip", incident=inc)
    files = unzip(done.path)
    index = json.loads(files["entries/index.json"])
    leaves = [row["leaf"] for row in index["entries"]]
    assert done.entries == len(leaves) and done.disclosed == len(leaves) and done.attachments == 1
    for leaf in leaves:
        assert f"entries/{leaf}.bin" in files and f"proofs/{leaf}.json" in files and f"plaintext/{leaf}.json" in files
    assert any(name.startswith("keys/dk") for name in files)
    assert any(name.startswith("registry/") and name.endswith(".bin") for name in files)
    for name in ("checkpoint.txt", "trust.json", "ledger-public-key.pem", "timeline.html", "timeline.csv",
                 "README.txt", "SHA256SUMS", "SHA256SUMS.sig", "attachments/index.json", "verify_bundle.py"):
        assert name in files, name
    listed = {line.split("  ", 1)[1] for line in files["SHA256SUMS"].decode().splitlines()}
    assert listed == set(files) - {"SHA256SUMS", "SHA256SUMS.sig"}
    report = service.verify_bundle(done.path)
    assert report.ok, report.lines()


def test_the_plaintext_and_evidence_are_exactly_what_was_recorded(fed: Federation, tmp_path: Path) -> None:
    inc, _, witness = case(fed)
    files = unzip(run(fed, "dsl", tmp_path / "case.zip", incident=inc).path)
    index = json.loads(files["entries/index.json"])
    reported = next(r for r in index["entries"] if r["event"] == "Incident.Reported")
    entry = envelope.parse(files[reported["file"]])
    key = bytes.fromhex(files[reported["key"]].decode().strip())
    assert envelope.open_body(entry, key)["child_words"] == "everyone has seen it"
    assert json.loads(files[reported["plaintext"]]) == envelope.open_body(entry, key)
    attachment = json.loads(files["attachments/index.json"])[0]
    content = files[attachment["file"]]
    assert content.startswith(SHOT) and hashlib.sha256(content).hexdigest() == attachment["sha256"]
    assert attachment["file"].endswith(".png") and attachment["filename"] == "chat.png"
    assert PUPIL_NAME.split()[0].encode() in files["timeline.html"] and witness.encode() in files["timeline.csv"]


def test_every_export_is_recorded_with_its_hash_entries_and_reason(fed: Federation, tmp_path: Path) -> None:
    inc, _, _ = case(fed)
    done = run(fed, "dsl", tmp_path / "case.zip", reason="referral to the LADO", incident=inc)
    header = exports_of(fed)[-1]
    claims = header["claims"]
    index = json.loads(unzip(done.path)["entries/index.json"])
    assert claims["sha256"] == hashlib.sha256(done.path.read_bytes()).hexdigest() == done.sha256
    assert claims["entries"] == sorted(r["leaf"] for r in index["entries"])
    assert claims["target"] == inc and claims["export_id"] == done.export_id
    assert claims["checkpoint_size"] == index["checkpoint_size"] == done.checkpoint_size
    assert header["actor"] == "dsl" and header["record_class"] == "export"
    assert "referral to the LADO" not in json.dumps(header)
    shown = readside.timeline(fed.ledger, fed["head"], "audit of exports", incident=inc)
    row = next(r for r in shown.rows if r["event"] == "EvidenceExport.Exported")
    assert done.sha256[:16] in row["what"] and "referral to the LADO" in row["what"]
    access = readside.register(fed.ledger, fed["head"], "access", reason="audit", record=inc)
    assert any(r["action"] == "export" and r["reader"] == "dsl" for r in access)


def test_a_later_bundle_carries_the_earlier_export(fed: Federation, tmp_path: Path) -> None:
    inc, _, _ = case(fed)
    first = run(fed, "dsl", tmp_path / "first.zip", incident=inc)
    files = unzip(run(fed, "dsl", tmp_path / "second.zip", incident=inc).path)
    rows = json.loads(files["entries/index.json"])["entries"]
    earlier = [r for r in rows if r["event"] == "EvidenceExport.Exported"]
    assert len(earlier) == 1 and earlier[0]["content"] == "disclosed"
    assert first.sha256[:16] in files["timeline.csv"].decode()


def test_redacting_pupils_withholds_what_names_them_and_still_proves_it_exists(fed: Federation, tmp_path: Path) -> None:
    inc, pupil, witness = case(fed)
    done = run(fed, "dsl", tmp_path / "outside.zip", incident=inc, redact=("pupils",))
    files = unzip(done.path)
    readable = {n: files[n] for n in ("timeline.html", "timeline.csv", "entries/index.json", "README.txt")}
    for name, data in files.items():
        for secret in (PUPIL_NAME, PUPIL_NAME.split()[0], WITNESS_NAME, "everyone has seen it"):
            assert secret.encode() not in data, (name, secret)
    for name, data in readable.items():
        assert pupil.encode() not in data and witness.encode() not in data, name
    rows = {r["event"] + str(r["version"]): r for r in json.loads(files["entries/index.json"])["entries"]}
    assert rows["Incident.Reported1"]["content"] == "withheld (redacted)"
    assert rows["Incident.Reported1"]["subjects"] == ["Pupil A"]
    assert rows["Incident.PersonLinked6"]["subjects"] == ["Pupil B"]
    assert rows["Incident.NoteAdded5"]["content"] == "withheld (redacted)"  # names the pupil in its text
    assert rows["Incident.NoteAdded4"]["content"] == "disclosed"
    assert rows["Incident.Triaged3"]["content"] == "disclosed"
    withheld = rows["Incident.Reported1"]
    assert files[withheld["file"]] == envelope.MAGIC + envelope.parse(files[withheld["file"]]).leaf_data
    assert "key" not in withheld and withheld["proof"] in files
    attachment = json.loads(files["attachments/index.json"])[0]
    assert attachment["content"] == "withheld (redacted)" and attachment["file"] is None
    assert b"Pupil A" in files["timeline.html"] and b"withheld (redacted)" in files["timeline.csv"]
    assert b"REDACTION" in files["README.txt"] and b"pseudonymous already" in files["README.txt"]
    assert done.withheld == 3 and done.attachments == 0
    report = service.verify_bundle(done.path)
    assert report.ok, report.lines()


def test_pseudonyms_follow_the_order_people_first_appear(fed: Federation, tmp_path: Path) -> None:
    inc, pupil, witness = case(fed)
    csv_text = unzip(run(fed, "head", tmp_path / "r.zip", incident=inc, redact=("pupils",)).path)["timeline.csv"].decode()
    assert csv_text.index("Pupil A") < csv_text.index("Pupil B")
    assert "Pupil C" not in csv_text


def test_redacting_reporters_withholds_the_report_and_labels_the_reporter(fed: Federation, tmp_path: Path) -> None:
    inc, _, _ = case(fed)
    files = unzip(run(fed, "head", tmp_path / "r.zip", incident=inc, redact=("reporters",)).path)
    rows = json.loads(files["entries/index.json"])["entries"]
    reported = next(r for r in rows if r["event"] == "Incident.Reported")
    assert reported["actor"] == "Reporter A" and reported["content"] == "withheld (redacted)"
    triaged = next(r for r in rows if r["event"] == "Incident.Triaged")
    assert triaged["content"] == "disclosed" and triaged["actor"] == "dsl"
    assert b"Reporter A" in files["timeline.csv"] and b",teacher," not in files["timeline.csv"]


def test_redaction_the_exporter_cannot_check_withholds_the_whole_record(fed: Federation, tmp_path: Path) -> None:
    inc, _, _ = case(fed)  # reported by a member of staff, whose name the DSL may not read
    done = run(fed, "dsl", tmp_path / "r.zip", incident=inc, redact=("reporters",))
    rows = json.loads(unzip(done.path)["entries/index.json"])["entries"]
    assert {r["content"] for r in rows if r["aggregate"] == rows[0]["aggregate"]} == {"withheld (redacted)"}
    assert any("cannot be looked for" in note for note in done.notes)


def test_entries_the_exporter_may_not_read_are_listed_as_withheld(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    incidents.assign(fed.ledger, fed["head"], inc, "investigator", "what happened in the lesson")
    incidents.show(fed.ledger, fed["slt"], inc, "oversight")  # an access record the investigator may not read
    done = run(fed, "investigator", tmp_path / "case.zip", incident=inc)
    rows = json.loads(unzip(done.path)["entries/index.json"])["entries"]
    access = [r for r in rows if r["event"] == "AccessRecord.Recorded"]
    assert access and {r["content"] for r in access} == {"withheld (not readable by the exporter)"}
    assert {r["content"] for r in rows if r["event"].startswith("Incident.")} == {"disclosed"}
    assert service.verify_bundle(done.path).ok


def test_an_erased_record_is_in_the_bundle_without_content(fed: Federation, tmp_path: Path) -> None:
    pupil = people.add_subject(fed.ledger, fed["dsl"], "pupil", "Erin Erased")
    retention.erase(fed.ledger, fed["head"], pupil, "data-subject-request", "the family asked")
    done = run(fed, "head", tmp_path / "p.zip", person=pupil)
    files = unzip(done.path)
    rows = json.loads(files["entries/index.json"])["entries"]
    assert [r["content"] for r in rows if r["event"] == "Subject.Registered"] == ["erased"]
    assert not any(name.startswith("keys/") for name in files) and done.erased >= 1
    assert service.verify_bundle(done.path).ok


def test_the_dsl_exports_only_the_safeguarding_records_of_a_person(fed: Federation, tmp_path: Path) -> None:
    inc, pupil, _ = case(fed)
    files = unzip(run(fed, "dsl", tmp_path / "p.zip", person=pupil).path)
    classes = {r["record_class"] for r in json.loads(files["entries/index.json"])["entries"]}
    assert classes == {"safeguarding"}
    everything = unzip(run(fed, "head", tmp_path / "all.zip", person=pupil).path)
    classes = {r["record_class"] for r in json.loads(everything["entries/index.json"])["entries"]}
    assert {"safeguarding", "subject"} <= classes


# -- who may export ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["teacher", "slt", "admin", "auditor", "poster"])
def test_only_investigators_the_headteacher_and_the_dsl_may_export(fed: Federation, tmp_path: Path, who: str) -> None:
    inc = conduct(fed)
    refused(fed, tmp_path, NotPermitted, lambda: run(fed, who, tmp_path / "x.zip", incident=inc))


def test_the_dsl_may_export_safeguarding_incidents_only(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    refused(fed, tmp_path, NotPermitted, lambda: run(fed, "dsl", tmp_path / "x.zip", incident=inc))
    assert run(fed, "head", tmp_path / "x.zip", incident=inc).entries > 0


def test_an_investigator_exports_only_the_cases_assigned_to_them(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    refused(fed, tmp_path, NotPermitted, lambda: run(fed, "investigator", tmp_path / "x.zip", incident=inc))
    incidents.assign(fed.ledger, fed["head"], inc, "investigator", "find out")
    assert run(fed, "investigator", tmp_path / "x.zip", incident=inc).disclosed > 0
    incidents.unassign(fed.ledger, fed["head"], inc, "investigator", "finished")
    refused(fed, tmp_path, NotPermitted, lambda: run(fed, "investigator", tmp_path / "y.zip", incident=inc))
    refused(fed, tmp_path, NotPermitted, lambda: run(fed, "investigator", tmp_path / "z.zip", person="teacher"),
            "cases assigned")


# -- mistakes --------------------------------------------------------------------------------


def test_an_export_needs_a_reason(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    refused(fed, tmp_path, InvalidInput, lambda: run(fed, "head", tmp_path / "x.zip", reason="  ", incident=inc),
            "needs a reason")


def test_an_unknown_incident_or_person_is_refused(fed: Federation, tmp_path: Path) -> None:
    refused(fed, tmp_path, NotFound, lambda: run(fed, "head", tmp_path / "x.zip", incident="inc-00000000"))
    refused(fed, tmp_path, NotFound, lambda: run(fed, "head", tmp_path / "x.zip", person="sb-00000000"))


def test_exactly_one_of_incident_or_person_is_given(fed: Federation, tmp_path: Path) -> None:
    refused(fed, tmp_path, InvalidInput, lambda: run(fed, "head", tmp_path / "x.zip"))
    refused(fed, tmp_path, InvalidInput, lambda: run(fed, "head", tmp_path / "x.zip", incident="a", person="b"))


def test_an_existing_file_is_not_overwritten_without_force(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    out = tmp_path / "case.zip"
    out.write_bytes(b"precious")
    refused(fed, tmp_path, AlreadyExists, lambda: run(fed, "head", out, incident=inc), "already exists")
    assert out.read_bytes() == b"precious"
    done = run(fed, "head", out, incident=inc, force=True)
    assert out.read_bytes()[:2] == b"PK" and service.verify_bundle(out).ok and done.path == out


def test_a_missing_folder_is_refused(fed: Federation, tmp_path: Path) -> None:
    inc = conduct(fed)
    refused(fed, tmp_path, NotFound, lambda: run(fed, "head", tmp_path / "nowhere" / "x.zip", incident=inc))


def test_a_failure_after_packing_leaves_no_file_and_no_entry(
    fed: Federation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inc = conduct(fed)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise InvalidInput("disk full (simulated)")

    monkeypatch.setattr(EvidenceExport, "record", broken)
    refused(fed, tmp_path, InvalidInput, lambda: run(fed, "head", tmp_path / "x.zip", incident=inc), "simulated")
