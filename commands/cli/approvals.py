"""``ledger approvals …``: posts, photo devices and permissions the Headteacher decides."""

from __future__ import annotations


from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, as_json, emit, output_options, pass_state
from ledger.text import shown as one_line

if TYPE_CHECKING:
    from commands.services import approvals as service
    from ledger.domain import approvals as domain
else:
    service = lazy.module("commands.services.approvals")
    domain = lazy.module("ledger.domain.approvals")


REASON = click.option("--reason", required=True, help="Why (stored encrypted).")


@click.group("approvals")
def approvals() -> None:
    """Social media posts, photo devices and permissions: staff ask, the Headteacher decides.

    \b
    Example:
      ledger --as head approvals list --pending
    """


@approvals.command("list")
@click.option("--kind", type=lazy.Choice(lambda: ("post", "device", *domain.PERMISSION_KINDS)), help="Only this kind.")
@click.option("--pending", is_flag=True, help="Only requests still waiting for something.")
@click.option("--school", help="Only this school.")
@output_options
@pass_state
def list_requests(state: State, kind: str | None, pending: bool, school: str | None) -> list[dict[str, Any]]:
    """List requests you may see, their status and what blocks each one (no names or text).

    \b
    Example:
      ledger --as head approvals list --pending
    """
    return service.list_approvals(state.ledger(), state.actor(), kind, pending, school)


@approvals.command("show")
@click.argument("request_id")
@click.option("--reason", required=True, help="Why you need to see it (recorded in the access log).")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@pass_state
def show(state: State, request_id: str, reason: str, fmt: str) -> None:
    """Show a request's decrypted history, if your roles may read it.

    \b
    Example:
      ledger --as head approvals show post-1a2b3c4d --reason "deciding whether it can go live"
    """
    shown = service.show(state.ledger(), state.actor(), request_id, reason)
    if fmt == "json":
        emit(as_json(shown))
        return
    emit(f"{shown['id']} ({shown['kind']}): {shown['status']}")
    if shown["blocked_by"]:
        emit(f"waiting for: {one_line(shown['blocked_by'])}")
    for line in shown["history"]:
        emit(f"  {one_line(line)}")


def _decision_commands(group: click.Group, kind: str, example_id: str) -> None:
    """Add approve / reject / revoke for one kind of request to ``group``."""
    example = f"\n\n\b\nExample:\n  ledger --as head approvals {group.name} {{}} {example_id} --reason \"…\""

    def approve(state: State, request_id: str, reason: str, conditions: tuple[str, ...] = (),
                condition_details: str | None = None, valid_until: str | None = None,
                waive_training: bool = False) -> None:
        status = service.decide(state.ledger(), state.actor(), request_id, domain.APPROVED, reason, valid_until,
                                waive_training, kind, list(conditions), condition_details)
        emit(f"{request_id} {status}")

    command: Any = pass_state(approve)
    command = click.option("--condition", "conditions", multiple=True, type=lazy.Choice(lambda: domain.CONDITIONS),
                           help="A requirement or restriction the approval carries (repeatable).")(command)
    command = click.option("--condition-details", help="The conditions in words (stored encrypted).")(command)
    if kind == "perm":
        command = click.option("--waive-training", is_flag=True,
                               help="Approve speaking for the Federation without recorded training.")(command)
    if kind != "post":
        command = click.option("--until", "valid_until", help="Last day the approval holds, YYYY-MM-DD.")(command)
    command = REASON(click.argument("request_id")(command))
    group.command("approve", help="The Headteacher approves, with a reason." + example.format("approve"))(command)

    @group.command("reject", help="The Headteacher rejects, with a reason." + example.format("reject"))
    @click.argument("request_id")
    @REASON
    @pass_state
    def reject(state: State, request_id: str, reason: str) -> None:
        status = service.decide(state.ledger(), state.actor(), request_id, domain.REJECTED, reason, kind=kind)
        emit(f"{request_id} {status}")

    @group.command("revoke", help="The Headteacher revokes the standing decision by a later event; "
                                  "the decision stays on record." + example.format("revoke"))
    @click.argument("request_id")
    @REASON
    @pass_state
    def revoke(state: State, request_id: str, reason: str) -> None:
        service.revoke(state.ledger(), state.actor(), request_id, reason, kind)
        emit(f"decision on {request_id} revoked")


# -- posts --------------------------------------------------------------------


@approvals.group("post")
def post() -> None:
    """Posts on the Federation's own social media accounts.

    \b
    Example:
      ledger --as teacher-1 approvals post propose --text "Sports day!" --child sb-1a2b3c4d --image photo.jpg --account facebook
    """


@post.command("propose")
@click.option("--text", required=True, help="The post's text (stored encrypted).")
@click.option("--child", "children", multiple=True,
              help="A pupil in the post: id, or a name naming one pupil you may see (repeatable).")
@click.option("--image", "images", multiple=True, type=click.Path(path_type=Path),
              help="Image file (only its SHA-256 is recorded; repeatable).")
@click.option("--account", default="facebook", show_default=True, help="Which Federation account.")
@click.option("--school", help="The school it concerns (default: the only school, if the federation has one).")
@pass_state
def propose(state: State, text: str, children: tuple[str, ...], images: tuple[Path, ...], account: str,
            school: str | None) -> None:
    """Propose a post; prints its id.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals post propose --text "Sports day!" \\
        --child sb-11111111 --image photo1.jpg
    """
    emit(service.propose_post(state.ledger(), state.actor(), text, list(children), list(images), account,
                                   school))


@post.command("permission")
@click.argument("post_id")
@click.option("--child", required=True, help="The pupil's id.")
@click.option("--given-on", required=True, help="Day the parent gave (or withdrew) permission, YYYY-MM-DD.")
@click.option("--parent", help="The parent's or carer's subject id.")
@click.option("--withdrawn", is_flag=True, help="The parent withdrew permission.")
@click.option("--evidence", type=click.Path(path_type=Path), help="Signed form (only its hash is kept).")
@click.option("--note", help="Note (stored encrypted).")
@pass_state
def permission(state: State, post_id: str, child: str, given_on: str, parent: str | None, withdrawn: bool,
               evidence: Path | None, note: str | None) -> None:
    """Record a parent's permission (or its withdrawal) for one child in a post.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals post permission post-1a2b3c4d --child sb-11111111 --given-on 2025-01-10
    """
    service.record_parental_permission(state.ledger(), state.actor(), post_id, child, given_on, parent, withdrawn,
                                       evidence, note)
    emit(f"permission {'withdrawn' if withdrawn else 'granted'} for {child} on {post_id}")


@post.command("check-identifying")
@click.argument("post_id")
@click.option("--found", is_flag=True, help="Something identifies a child (say what in --note).")
@click.option("--note", help="What was checked or found (stored encrypted).")
@pass_state
def check_identifying(state: State, post_id: str, found: bool, note: str | None) -> None:
    """Record the check that no name or other detail identifies a child.

    \b
    Example:
      ledger --as poster approvals post check-identifying post-1a2b3c4d --note "certificates blank"
    """
    service.check_identifying(state.ledger(), state.actor(), post_id, found, note)
    emit(f"{post_id}: {'identifying information found' if found else 'nothing identifies a child'}")


@post.command("publish")
@click.argument("post_id")
@click.option("--link", help="Where it was published (stored encrypted).")
@click.option("--on", help="Day published, YYYY-MM-DD (default: today).")
@pass_state
def publish(state: State, post_id: str, link: str | None, on: str | None) -> None:
    """A designated poster publishes an approved post.

    \b
    Example:
      ledger --as poster approvals post publish post-1a2b3c4d --link https://facebook.com/…
    """
    service.publish_post(state.ledger(), state.actor(), post_id, link, on)
    emit(f"{post_id} published")


@post.command("remove")
@click.argument("post_id")
@REASON
@click.option("--on", help="Day removed, YYYY-MM-DD (default: today).")
@pass_state
def remove(state: State, post_id: str, reason: str, on: str | None) -> None:
    """Record that a published post was taken down.

    \b
    Example:
      ledger --as poster approvals post remove post-1a2b3c4d --reason "parent asked"
    """
    service.remove_post(state.ledger(), state.actor(), post_id, reason, on)
    emit(f"{post_id} removed")


_decision_commands(post, "post", "post-1a2b3c4d")


# -- devices ------------------------------------------------------------------


@approvals.group("device")
def device() -> None:
    """Taking photos on a device the Federation does not own.

    \b
    Example:
      ledger --as teacher-2 approvals device request --device "own phone" --purpose "sports day" --from 2026-06-01 --until 2026-06-01
    """


@device.command("request")
@click.option("--device", "description", required=True, help="Which device (stored encrypted).")
@click.option("--purpose", required=True, help="What for (stored encrypted).")
@click.option("--from", "needed_from", required=True, help="First day, YYYY-MM-DD.")
@click.option("--until", "needed_until", required=True, help="Last day, YYYY-MM-DD.")
@click.option("--school", help="The school it concerns (default: the only school, if the federation has one).")
@pass_state
def request_device(state: State, description: str, purpose: str, needed_from: str, needed_until: str,
                   school: str | None) -> None:
    """Ask in advance to use your own device for photos; prints the request id.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals device request --device "my phone" \\
        --purpose "school trip" --from 2025-06-10 --until 2025-06-10
    """
    emit(service.request_device(state.ledger(), state.actor(), description, purpose, needed_from,
                                needed_until, school))


@device.command("confirm-deleted")
@click.argument("request_id")
@click.option("--uploaded-on", required=True, help="Day the photos were uploaded to a Federation device.")
@click.option("--deleted-on", help="Day they were deleted from this device (default: today).")
@click.option("--photos", "photo_count", required=True, type=click.IntRange(min=0), help="How many (0: none taken).")
@click.option("--note", help="Note (stored encrypted).")
@pass_state
def confirm_deleted(state: State, request_id: str, uploaded_on: str, deleted_on: str | None, photo_count: int,
                    note: str | None) -> None:
    """Confirm photos were deleted from the device after upload.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals device confirm-deleted dev-1a2b3c4d --uploaded-on 2025-06-10 --photos 24
    """
    service.confirm_deleted(state.ledger(), state.actor(), request_id, uploaded_on, deleted_on, photo_count, note)
    emit(f"deletion of {photo_count} photo(s) confirmed for {request_id}")


_decision_commands(device, "dev", "dev-1a2b3c4d")


# -- permissions --------------------------------------------------------------


@approvals.group("permission")
def permission_group() -> None:
    """LinkedIn, brand, media, speaking for the Federation, posting about others, copyright, personal views.

    \b
    Example:
      ledger --as teacher-1 approvals permission request linkedin --details "mention my role at Oak Primary"
    """


@permission_group.command("request")
@click.argument("kind", type=lazy.Choice(lambda: domain.PERMISSION_KINDS))
@click.option("--details", required=True, help="What exactly you want to do (stored encrypted).")
@click.option("--about", multiple=True, help="For post-about: id of each person the post is about.")
@click.option("--school", help="The school it concerns (default: the only school, if the federation has one).")
@pass_state
def request_permission(state: State, kind: str, details: str, about: tuple[str, ...], school: str | None) -> None:
    """Ask the Headteacher's permission; prints the request id.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals permission request linkedin --details "list my job at the Federation"
    """
    emit(service.request_permission(state.ledger(), state.actor(), kind, details, list(about), school))


@permission_group.command("consent")
@click.argument("request_id")
@click.option("--person", required=True, help="Who the post is about.")
@click.option("--given-on", required=True, help="Day their written permission was given, YYYY-MM-DD.")
@click.option("--given-by", help="Parent or carer who gave it for a pupil.")
@click.option("--evidence", type=click.Path(path_type=Path), help="The written permission (only its hash is kept).")
@click.option("--note", help="Note (stored encrypted).")
@pass_state
def consent(state: State, request_id: str, person: str, given_on: str, given_by: str | None,
            evidence: Path | None, note: str | None) -> None:
    """Record the advance written permission of someone a post is about.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals permission consent perm-1a2b3c4d --person st-9f8e7d6c --given-on 2025-02-01
    """
    service.record_consent(state.ledger(), state.actor(), request_id, person, given_on, given_by, evidence, note)
    emit(f"written permission of {person} recorded on {request_id}")


@permission_group.command("training")
@click.argument("request_id")
@click.option("--completed-on", required=True, help="Day the training was completed, YYYY-MM-DD.")
@click.option("--course", required=True, help="Which training (stored encrypted).")
@pass_state
def training(state: State, request_id: str, completed_on: str, course: str) -> None:
    """Record training completed before speaking on behalf of the Federation.

    \b
    Example:
      ledger --as st-1a2b3c4d approvals permission training perm-1a2b3c4d --completed-on 2025-02-01 \\
        --course "Federation social media training"
    """
    service.record_training(state.ledger(), state.actor(), request_id, completed_on, course)
    emit(f"training recorded on {request_id}")


@permission_group.command("discussed")
@click.argument("request_id")
@click.option("--with", "discussed_with", type=lazy.Choice(lambda: domain.DISCUSSED_WITH), default="line-manager",
              show_default=True, help="Your part: line manager, head of department or SLT.")
@click.option("--own-views-stated/--no-own-views-statement", required=True,
              help="Whether the post will say the views are the author's own, not the Federation's.")
@click.option("--on", "on", help="Day of the discussion, YYYY-MM-DD (default: today).")
@click.option("--note", help="Note (stored encrypted).")
@pass_state
def discussed(state: State, request_id: str, discussed_with: str, own_views_stated: bool, on: str | None,
              note: str | None) -> None:
    """As the line manager, record (and sign) the discussion before a personal-views post.

    \b
    Example:
      ledger --as st-manager approvals permission discussed perm-1a2b3c4d --own-views-stated
    """
    service.record_discussion(state.ledger(), state.actor(), request_id, discussed_with, own_views_stated, on, note)
    emit(f"discussion recorded on {request_id}")


_decision_commands(permission_group, "perm", "perm-1a2b3c4d")


COMMANDS = (approvals,)
