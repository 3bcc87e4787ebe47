"""Approvals on both backends: posts, photo devices and permissions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commands.services import approvals as service
from commands.services import people
from ledger import envelope
from ledger.domain.approvals import APPROVED, REJECTED, request_record_id
from ledger.errors import InvalidInput, NotFound, NotPermitted, RuleViolation
from ledger.trust import Trust
from ledger.verify import verify
from tests.conftest import Federation, local_today, module_federation, refused, row_counts

SENTINEL = "Philippa Ravenscroft-Adeyemi"
TODAY, TOMORROW, YESTERDAY = local_today(), local_today(1), local_today(-1)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """One federation per backend for this module: every test works on its own
    requests and pupils, and every refusal is checked to write nothing."""
    yield from module_federation(request, tmp_path_factory, "approvals")






def claims(fed: Federation, request_id: str) -> list[dict[str, Any]]:
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.state)
            .where(table.c.originator_id == request_record_id(request_id))
            .order_by(table.c.originator_version)
        )
        return [envelope.parse(bytes(s)).header["claims"] for (s,) in rows]


def row(fed: Federation, request_id: str, who: str = "head") -> dict[str, Any]:
    return next(r for r in service.list_approvals(fed.ledger, fed[who]) if r["id"] == request_id)


def pupils(fed: Federation, n: int = 2) -> list[str]:
    return [people.add_subject(fed.ledger, fed["dsl"], "pupil", f"Pupil {i}") for i in range(n)]


def propose(fed: Federation, children: list[str], tmp_path: Path, text: str = "Sports day!") -> str:
    image = tmp_path / "photo.jpg"
    image.write_bytes(b"a photo with blank certificates")
    return service.propose_post(fed.ledger, fed["teacher"], text, children, [image], "facebook")


def ready_post(fed: Federation, tmp_path: Path) -> tuple[str, list[str]]:
    """A post with permission for both children and a clean identifying check."""
    children = pupils(fed)
    post = propose(fed, children, tmp_path)
    for child in children:
        service.record_parental_permission(fed.ledger, fed["teacher"], post, child, YESTERDAY)
    service.check_identifying(fed.ledger, fed["poster"], post, found=False)
    return post, children


# -- posts --------------------------------------------------------------------


def test_a_post_is_recorded_with_image_hashes_and_children_in_clear_and_text_encrypted(
    fed: Federation, tmp_path: Path
) -> None:
    children = pupils(fed)
    post = propose(fed, children, tmp_path, text=f"Well done {SENTINEL}")
    first = claims(fed, post)[0]
    assert first["image_hashes"] == [hashlib.sha256(b"a photo with blank certificates").hexdigest()]
    assert first["requested_by"] == "teacher" and first["account"] == "facebook"
    assert row(fed, post)["subjects"] == [f"Pupil {children.index(c)} ({c})" for c in sorted(children)]
    assert row(fed, post, "teacher")["subjects"] == sorted(children)  # names only for those who read them
    table = fed.ledger.app.events_table
    with fed.ledger.engine.connect() as conn:
        stored = b"".join(bytes(s) for (s,) in conn.execute(select(table.c.state)))
    assert SENTINEL.encode() not in stored


def test_only_registered_pupils_can_be_the_children_in_a_post(fed: Federation, tmp_path: Path) -> None:
    parent = people.add_subject(fed.ledger, fed["dsl"], "parent", "A Parent")
    refused(fed, NotFound, lambda: propose(fed, ["sb-nobody"], tmp_path))
    refused(fed, InvalidInput, lambda: propose(fed, [parent], tmp_path))
    refused(fed, NotFound, lambda: service.propose_post(
        fed.ledger, fed["teacher"], "x", [], [tmp_path / "missing.jpg"], "facebook"))
    refused(fed, NotPermitted, lambda: service.propose_post(
        fed.ledger, fed["auditor"], "x", [], [], "facebook"))
    refused(fed, InvalidInput, lambda: service.propose_post(
        fed.ledger, fed["teacher"], "x", [], [], "Mrs Smith's page"))


def test_post_cannot_go_live_without_parental_permission(fed: Federation, tmp_path: Path) -> None:
    children = pupils(fed)
    post = propose(fed, children, tmp_path)
    service.record_parental_permission(fed.ledger, fed["teacher"], post, children[0], YESTERDAY)
    service.check_identifying(fed.ledger, fed["poster"], post, found=False)
    refused(fed, RuleViolation, lambda: service.decide(
        fed.ledger, fed["head"], post, APPROVED, "good news"), match=f"parental permission for {children[1]}")
    refused(fed, RuleViolation, lambda: service.publish_post(fed.ledger, fed["poster"], post))
    assert row(fed, post)["covered"] == [children[0]]
    assert row(fed, post)["blocked_by"] == f"parental permission for {children[1]}"


def test_post_cannot_go_live_before_the_identifying_check_or_when_a_child_is_identifiable(
    fed: Federation, tmp_path: Path
) -> None:
    children = pupils(fed, 1)
    post = propose(fed, children, tmp_path)
    service.record_parental_permission(fed.ledger, fed["teacher"], post, children[0], YESTERDAY)
    refused(fed, RuleViolation, lambda: service.decide(
        fed.ledger, fed["head"], post, APPROVED, "ok"), match="check that nothing identifies")
    refused(fed, InvalidInput, lambda: service.check_identifying(fed.ledger, fed["slt"], post, True))
    service.check_identifying(fed.ledger, fed["slt"], post, True, "name visible on a certificate")
    refused(fed, RuleViolation, lambda: service.decide(
        fed.ledger, fed["head"], post, APPROVED, "ok"), match="identifying information was found")
    service.decide(fed.ledger, fed["head"], post, REJECTED, "a child's name is visible")
    assert row(fed, post)["status"] == "rejected"


def test_only_roles_that_can_see_a_post_check_it(fed: Federation, tmp_path: Path) -> None:
    post = propose(fed, pupils(fed, 1), tmp_path)
    for who in ("teacher", "dsl", "admin"):
        refused(fed, NotPermitted, lambda: service.check_identifying(fed.ledger, fed[who], post, False))


def test_a_post_goes_live_through_every_step_and_its_dates_are_clear(fed: Federation, tmp_path: Path) -> None:
    post, children = ready_post(fed, tmp_path)
    assert row(fed, post)["blocked_by"] == "Headteacher's decision"
    refused(fed, RuleViolation, lambda: service.publish_post(fed.ledger, fed["poster"], post),
            match="the Headteacher's approval")
    assert service.decide(fed.ledger, fed["head"], post, APPROVED, "positive post") == "approved"
    assert row(fed, post)["blocked_by"] == "publication by a designated poster"
    refused(fed, InvalidInput, lambda: service.publish_post(
        fed.ledger, fed["poster"], post, on=YESTERDAY))
    service.publish_post(fed.ledger, fed["poster"], post, "https://example.org/p/1")
    refused(fed, RuleViolation, lambda: service.publish_post(fed.ledger, fed["poster"], post))
    service.remove_post(fed.ledger, fed["poster"], post, "end of term tidy-up")
    refused(fed, RuleViolation, lambda: service.remove_post(fed.ledger, fed["head"], post, "again"))
    listed = row(fed, post)
    assert (listed["status"], listed["published_on"], listed["removed_on"]) == ("removed", TODAY, TODAY)
    found = claims(fed, post)
    assert found[-2] == {"published_on": TODAY, "account": "facebook"} and found[-1] == {"removed_on": TODAY}


def test_only_the_headteacher_decides_and_only_a_designated_poster_publishes(
    fed: Federation, tmp_path: Path
) -> None:
    post, _ = ready_post(fed, tmp_path)
    for who in ("slt", "poster", "teacher", "admin"):
        refused(fed, NotPermitted, lambda: service.decide(fed.ledger, fed[who], post, APPROVED, "ok"))
    service.decide(fed.ledger, fed["head"], post, APPROVED, "ok")
    for who in ("head", "slt", "teacher"):
        refused(fed, NotPermitted, lambda: service.publish_post(fed.ledger, fed[who], post))


def test_a_decision_needs_a_reason_and_is_never_changed_only_revoked(fed: Federation, tmp_path: Path) -> None:
    post, _ = ready_post(fed, tmp_path)
    refused(fed, InvalidInput, lambda: service.decide(fed.ledger, fed["head"], post, APPROVED, " "))
    refused(fed, InvalidInput, lambda: service.decide(fed.ledger, fed["head"], post, "maybe", "x"))
    refused(fed, RuleViolation, lambda: service.revoke(fed.ledger, fed["head"], post, "nothing"),
            match="no standing decision")
    service.decide(fed.ledger, fed["head"], post, APPROVED, "ok")
    refused(fed, RuleViolation, lambda: service.decide(fed.ledger, fed["head"], post, REJECTED, "no"),
            match="already approved")
    service.revoke(fed.ledger, fed["head"], post, "the event was cancelled")
    assert row(fed, post)["status"] == "revoked"
    refused(fed, RuleViolation, lambda: service.publish_post(fed.ledger, fed["poster"], post))
    service.decide(fed.ledger, fed["head"], post, REJECTED, "no longer relevant")
    decisions = [c for c in claims(fed, post) if "decision_no" in c]
    assert [(c.get("outcome") or "revoked " + c["revoked_outcome"], c["decision_no"]) for c in decisions] == [
        ("approved", 1), ("revoked approved", 1), ("rejected", 2)]


def test_a_rejected_post_takes_no_further_steps(fed: Federation, tmp_path: Path) -> None:
    children = pupils(fed, 1)
    post = propose(fed, children, tmp_path)
    service.decide(fed.ledger, fed["head"], post, REJECTED, "not about achievements")
    refused(fed, RuleViolation, lambda: service.record_parental_permission(
        fed.ledger, fed["teacher"], post, children[0], YESTERDAY))
    refused(fed, RuleViolation, lambda: service.check_identifying(fed.ledger, fed["poster"], post, False))
    assert row(fed, post)["blocked_by"] == ""


def test_parental_permission_is_only_for_children_in_the_post_and_not_in_the_future(
    fed: Federation, tmp_path: Path
) -> None:
    children = pupils(fed, 2)
    post = propose(fed, children[:1], tmp_path)
    refused(fed, InvalidInput, lambda: service.record_parental_permission(
        fed.ledger, fed["teacher"], post, children[1], YESTERDAY))
    refused(fed, InvalidInput, lambda: service.record_parental_permission(
        fed.ledger, fed["teacher"], post, children[0], TOMORROW))
    refused(fed, InvalidInput, lambda: service.record_parental_permission(
        fed.ledger, fed["teacher"], post, children[0], YESTERDAY, parent=children[1]))
    refused(fed, RuleViolation, lambda: service.record_parental_permission(
        fed.ledger, fed["teacher"], post, children[0], YESTERDAY, withdrawn=True))
    refused(fed, NotPermitted, lambda: service.record_parental_permission(
        fed.ledger, fed["auditor"], post, children[0], YESTERDAY))
    service.record_parental_permission(fed.ledger, fed["teacher"], post, children[0], YESTERDAY)
    refused(fed, RuleViolation, lambda: service.record_parental_permission(
        fed.ledger, fed["teacher"], post, children[0], YESTERDAY))


def test_withdrawn_permission_blocks_publication_and_flags_a_published_post(fed: Federation, tmp_path: Path) -> None:
    post, children = ready_post(fed, tmp_path)
    service.decide(fed.ledger, fed["head"], post, APPROVED, "ok")
    service.record_parental_permission(fed.ledger, fed["teacher"], post, children[0], TODAY, withdrawn=True)
    refused(fed, RuleViolation, lambda: service.publish_post(fed.ledger, fed["poster"], post),
            match="withdrawn")
    service.record_parental_permission(fed.ledger, fed["teacher"], post, children[0], TODAY)
    service.publish_post(fed.ledger, fed["poster"], post)
    service.record_parental_permission(fed.ledger, fed["teacher"], post, children[0], TODAY, withdrawn=True)
    assert row(fed, post)["blocked_by"] == f"permission withdrawn for {children[0]}: remove the post"


def test_revoking_the_approval_of_a_published_post_asks_for_its_removal(fed: Federation, tmp_path: Path) -> None:
    post, _ = ready_post(fed, tmp_path)
    service.decide(fed.ledger, fed["head"], post, APPROVED, "ok")
    service.publish_post(fed.ledger, fed["poster"], post)
    refused(fed, RuleViolation, lambda: service.decide(fed.ledger, fed["head"], post, REJECTED, "x"))
    service.revoke(fed.ledger, fed["head"], post, "complaint received")
    assert row(fed, post)["blocked_by"] == "approval revoked: remove the post"
    assert post in {r["id"] for r in service.list_approvals(fed.ledger, fed["head"], pending=True)}
    service.remove_post(fed.ledger, fed["head"], post, "approval revoked")
    assert post not in {r["id"] for r in service.list_approvals(fed.ledger, fed["head"], pending=True)}


# -- devices ------------------------------------------------------------------


def test_a_device_is_approved_in_advance_until_an_end_date(fed: Federation) -> None:
    refused(fed, RuleViolation, lambda: service.request_device(
        fed.ledger, fed["teacher"], "phone", "trip", "2024-01-01", YESTERDAY), match="in advance")
    refused(fed, InvalidInput, lambda: service.request_device(
        fed.ledger, fed["teacher"], "phone", "trip", TOMORROW, TODAY))
    dev = service.request_device(fed.ledger, fed["teacher"], f"{SENTINEL}'s phone", "trip", TODAY, TOMORROW)
    refused(fed, InvalidInput, lambda: service.decide(
        fed.ledger, fed["head"], dev, APPROVED, "ok", valid_until=YESTERDAY))
    refused(fed, InvalidInput, lambda: service.decide(
        fed.ledger, fed["head"], dev, APPROVED, "ok", kind="post"))
    refused(fed, NotPermitted, lambda: service.decide(fed.ledger, fed["slt"], dev, APPROVED, "ok"))
    service.decide(fed.ledger, fed["head"], dev, APPROVED, "no school camera free")
    listed = row(fed, dev)
    assert (listed["status"], listed["valid_until"]) == ("approved", TOMORROW)
    assert claims(fed, dev)[0] == {
        "request_id": dev, "requested_by": "teacher", "needed_from": TODAY, "needed_until": TOMORROW,
        "school": None}
    assert listed["blocked_by"].startswith("confirmation that photos were deleted")
    later = service.request_device(fed.ledger, fed["teacher"], "phone", "concert", TOMORROW, TOMORROW)
    service.decide(fed.ledger, fed["head"], later, APPROVED, "ok")
    assert row(fed, later)["blocked_by"] == ""


def test_photo_deletion_is_confirmed_by_the_device_owner_after_upload(fed: Federation) -> None:
    dev = service.request_device(fed.ledger, fed["teacher"], "phone", "trip", TODAY, TODAY)
    refused(fed, RuleViolation, lambda: service.confirm_deleted(
        fed.ledger, fed["teacher"], dev, TODAY, TODAY, 3), match="never approved")
    service.decide(fed.ledger, fed["head"], dev, APPROVED, "ok")
    assert row(fed, dev)["blocked_by"].startswith("confirmation that photos were deleted")
    refused(fed, NotPermitted, lambda: service.confirm_deleted(
        fed.ledger, fed["poster"], dev, TODAY, TODAY, 3))
    refused(fed, InvalidInput, lambda: service.confirm_deleted(
        fed.ledger, fed["teacher"], dev, TODAY, YESTERDAY, 3))
    refused(fed, InvalidInput, lambda: service.confirm_deleted(
        fed.ledger, fed["teacher"], dev, TODAY, TOMORROW, 3))
    service.confirm_deleted(fed.ledger, fed["teacher"], dev, YESTERDAY, TODAY, 3)
    assert claims(fed, dev)[-1] == {
        "uploaded_on": YESTERDAY, "deleted_on": TODAY, "photo_count": 3, "deleted_late": True}
    listed = row(fed, dev)
    assert (listed["photos_deleted_on"], listed["blocked_by"]) == (TODAY, "")


def test_a_teacher_sees_only_their_own_requests_and_posters_see_posts(fed: Federation, tmp_path: Path) -> None:
    post = propose(fed, [], tmp_path)
    dev = service.request_device(fed.ledger, fed["slt"], "tablet", "concert", TODAY, TODAY)
    perm = service.request_permission(fed.ledger, fed["dsl"], "linkedin", "job title")
    ids = {who: {r["id"] for r in service.list_approvals(fed.ledger, fed[who])} & {post, dev, perm}
           for who in ("head", "slt", "poster", "teacher", "dsl")}
    assert ids == {"head": {post, dev, perm}, "slt": {post, dev, perm}, "poster": {post}, "teacher": {post},
                   "dsl": {perm}}
    linkedin = {r["id"] for r in service.list_approvals(fed.ledger, fed["head"], kind="linkedin")}
    assert perm in linkedin and not linkedin & {post, dev}


# -- permissions --------------------------------------------------------------


def test_posting_about_someone_needs_their_written_permission_first(fed: Federation, tmp_path: Path) -> None:
    parent = people.add_subject(fed.ledger, fed["dsl"], "parent", "A Parent")
    refused(fed, InvalidInput, lambda: service.request_permission(
        fed.ledger, fed["teacher"], "post-about", "thank-you post"))
    refused(fed, NotFound, lambda: service.request_permission(
        fed.ledger, fed["teacher"], "post-about", "x", ["nobody"]))
    refused(fed, InvalidInput, lambda: service.request_permission(
        fed.ledger, fed["teacher"], "brand", "logo", ["slt"]))
    refused(fed, InvalidInput, lambda: service.request_permission(
        fed.ledger, fed["teacher"], "gossip", "x"))
    perm = service.request_permission(fed.ledger, fed["teacher"], "post-about", "thank-you", ["slt", parent])
    refused(fed, RuleViolation, lambda: service.decide(
        fed.ledger, fed["head"], perm, APPROVED, "ok"), match="written permission of")
    form = tmp_path / "consent.pdf"
    form.write_bytes(b"signed")
    service.record_consent(fed.ledger, fed["teacher"], perm, "slt", YESTERDAY, evidence=form)
    refused(fed, RuleViolation, lambda: service.record_consent(
        fed.ledger, fed["teacher"], perm, "slt", YESTERDAY))
    refused(fed, NotPermitted, lambda: service.record_consent(
        fed.ledger, fed["poster"], perm, parent, YESTERDAY))
    refused(fed, InvalidInput, lambda: service.record_consent(
        fed.ledger, fed["teacher"], perm, "dsl", YESTERDAY))
    assert row(fed, perm)["blocked_by"] == f"written permission of {parent}"
    service.record_consent(fed.ledger, fed["slt"], perm, parent, YESTERDAY)
    service.decide(fed.ledger, fed["head"], perm, APPROVED, "ok", valid_until=TOMORROW)
    assert claims(fed, perm)[1]["evidence_hash"] == hashlib.sha256(b"signed").hexdigest()
    refused(fed, RuleViolation, lambda: service.record_consent(
        fed.ledger, fed["teacher"], perm, parent, YESTERDAY))


def test_speaking_for_the_federation_needs_training_unless_the_headteacher_waives_it(fed: Federation) -> None:
    speak = service.request_permission(fed.ledger, fed["teacher"], "speak", "parents' Q&A")
    refused(fed, RuleViolation, lambda: service.decide(
        fed.ledger, fed["head"], speak, APPROVED, "ok"), match="training")
    refused(fed, InvalidInput, lambda: service.record_training(
        fed.ledger, fed["teacher"], speak, TOMORROW, "course"))
    service.record_training(fed.ledger, fed["teacher"], speak, TODAY, "social media training")
    service.decide(fed.ledger, fed["head"], speak, APPROVED, "trained")
    assert claims(fed, speak)[-1]["waived"] == []
    other = service.request_permission(fed.ledger, fed["poster"], "speak", "sports report")
    service.decide(fed.ledger, fed["head"], other, APPROVED, "experienced", waive_training=True)
    assert claims(fed, other)[-1]["waived"] == ["training"]
    service.revoke(fed.ledger, fed["head"], other, "role changed")
    refused(fed, RuleViolation, lambda: service.decide(
        fed.ledger, fed["head"], other, APPROVED, "again"), match="training")
    media = service.request_permission(fed.ledger, fed["teacher"], "media", "local paper asked")
    refused(fed, InvalidInput, lambda: service.record_training(
        fed.ledger, fed["teacher"], media, TODAY, "course"))
    refused(fed, InvalidInput, lambda: service.decide(
        fed.ledger, fed["head"], media, APPROVED, "ok", waive_training=True))
    service.decide(fed.ledger, fed["head"], media, REJECTED, "the Headteacher will respond")
    assert row(fed, media)["status"] == "rejected"


def test_showing_a_request_needs_a_reader_role_and_is_logged(fed: Federation, tmp_path: Path) -> None:
    post, _ = ready_post(fed, tmp_path)
    refused(fed, NotPermitted, lambda: service.show(fed.ledger, fed["teacher"], post, "mine"))
    refused(fed, InvalidInput, lambda: service.show(fed.ledger, fed["head"], post, ""))
    refused(fed, NotFound, lambda: service.show(fed.ledger, fed["head"], "post-00000000", "x"))
    refused(fed, NotFound, lambda: service.show(fed.ledger, fed["head"], "nonsense", "x"))
    before = row_counts(fed)["events"]
    shown = service.show(fed.ledger, fed["poster"], post, "checking before publishing")
    assert row_counts(fed)["events"] == before + 1
    assert shown["history"][0].endswith("Sports day!") and len(shown["history"]) == 4


def test_the_approval_workflows_verify_end_to_end(fed: Federation, tmp_path: Path) -> None:
    post, _ = ready_post(fed, tmp_path)
    service.decide(fed.ledger, fed["head"], post, APPROVED, "ok")
    service.publish_post(fed.ledger, fed["poster"], post)
    dev = service.request_device(fed.ledger, fed["teacher"], "phone", "trip", TODAY, TODAY)
    service.decide(fed.ledger, fed["head"], dev, APPROVED, "ok")
    service.confirm_deleted(fed.ledger, fed["teacher"], dev, TODAY, TODAY, 0)
    service.revoke(fed.ledger, fed["head"], dev, "trip over")
    trust = Trust.load(fed.ledger.config.trust_path)
    with fed.ledger.engine.connect() as conn:
        result = verify(conn, fed.ledger.app.events_table, trust, None)
    assert result.ok, result.findings


def test_the_demo_chapter_walks_a_post_a_device_and_permissions(fed: Federation) -> None:
    actors = {
        "it-manager": fed["admin"], "head": fed["head"], "dsl": fed["dsl"],
        "slt": fed["slt"], "poster-1": fed["poster"], "teacher-1": fed["teacher"],
        "teacher-2": fed["investigator"], "investigator": fed["investigator"],
    }
    made = {f"pupil{i}": people.add_subject(fed.ledger, fed["dsl"], "pupil", f"P{i}") for i in (1, 2, 3)}
    made["parent1"] = people.add_subject(fed.ledger, fed["dsl"], "parent", "Parent")
    before = {r["id"] for r in service.list_approvals(fed.ledger, fed["head"])}
    lines = list(service.demo_chapter(fed.ledger, actors, made))
    assert any("poster-1 refused" in line for line in lines)
    assert any("could not approve yet" in line for line in lines)
    made_now = [r for r in service.list_approvals(fed.ledger, fed["head"]) if r["id"] not in before]
    assert sorted(r["status"] for r in made_now) == ["approved", "approved", "published", "rejected"]
