"""The rest of the policy's duties on the command line.

New groups: ``ledger training …`` (the training register) and ``ledger
recruitment …`` (pre-employment internet searches). New commands in existing
groups: ``people add-covered``, ``people worker-type``, ``people workers``;
``policy acknowledge-for``, ``policy review``, ``policy reviews``;
``monitoring authorise``, ``monitoring withdraw-authorisation``,
``monitoring authorisations``; ``incidents cooperation request|answer|list``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commands.cli import lazy
from commands.cli.base import State, emit, output_options, pass_state
from commands.cli.incidents import incidents
from commands.cli.monitoring import monitoring
from commands.cli.people import people
from commands.cli.policy import policy

if TYPE_CHECKING:
    from commands.services import authorisations, cooperation, recruitment as recruitment_service, reviews
    from commands.services import training as training_service, workforce
    from ledger.domain import duties, people as people_domain
    from ledger.domain.duties import authorisations as auth_domain
    from ledger.domain.incidents import cooperation as coop_domain, hate
else:
    authorisations = lazy.module("commands.services.authorisations")
    cooperation = lazy.module("commands.services.cooperation")
    recruitment_service = lazy.module("commands.services.recruitment")
    reviews = lazy.module("commands.services.reviews")
    training_service = lazy.module("commands.services.training")
    workforce = lazy.module("commands.services.workforce")
    duties = lazy.module("ledger.domain.duties")
    people_domain = lazy.module("ledger.domain.people")
    auth_domain = lazy.module("ledger.domain.duties.authorisations")
    coop_domain = lazy.module("ledger.domain.incidents.cooperation")
    hate = lazy.module("ledger.domain.incidents.hate")

# -- who the policy covers ------------------------------------------------------------


@people.command("add-covered")
@click.option("--name", required=True, help="Full name (stored encrypted).")
@click.option("--type", "worker_type", required=True, type=lazy.Choice(lambda: people_domain.WORKER_TYPES), help="How the policy covers them.")
@click.option("--line-manager", help="Staff id of their line manager (may enter their paper acknowledgement).")
@click.option("--id", "staff_id", help="Staff id (default: generated).")
@click.option("--email", help="Email (stored encrypted).")
@click.option("--school", help="School within the Federation.")
@pass_state
def add_covered(state: State, name: str, worker_type: str, line_manager: str | None, staff_id: str | None,
                email: str | None, school: str | None) -> None:
    """Register someone the policy covers who never signs in (no key): a volunteer, contractor…

    They acknowledge the policy on a signed paper form (`ledger policy acknowledge-for`).

    \b
    Example:
      ledger --as head people add-covered --name "Val Unteer" --type volunteer --line-manager st-1a2b3c4d
    """
    emit(workforce.add_covered_person(state.ledger(), state.actor(), name, worker_type, line_manager, staff_id,
                                      email, school))


@people.command("worker-type")
@click.argument("staff_id")
@click.argument("worker_type", type=lazy.Choice(lambda: people_domain.WORKER_TYPES))
@click.option("--line-manager", help="Staff id of their line manager.")
@pass_state
def worker_type(state: State, staff_id: str, worker_type: str, line_manager: str | None) -> None:
    """Record how the policy covers a member of staff (agency, trainee, contractor…).

    \b
    Example:
      ledger --as head people worker-type st-1a2b3c4d agency --line-manager st-9f8e7d6c
    """
    workforce.set_worker_type(state.ledger(), state.actor(), staff_id, worker_type, line_manager)
    emit(f"{staff_id} is covered as {worker_type}")


@people.command("workers")
@output_options
@pass_state
def workers(state: State) -> list[dict[str, Any]]:
    """Everyone the policy covers: worker type, line manager, whether they sign in.

    \b
    Example:
      ledger people workers --format csv
    """
    return workforce.worker_rows(state.ledger())


@policy.command("acknowledge-for")
@click.argument("staff_id")
@click.option("--form", required=True, type=click.Path(path_type=Path), help="The signed paper form (its hash is kept).")
@click.option("--signed-on", required=True, help="Day they signed the form, YYYY-MM-DD.")
@click.option("--version", help="Version on the form (default: the one in force today).")
@pass_state
def acknowledge_for(state: State, staff_id: str, form: Path, signed_on: str, version: str | None) -> None:
    """Enter the paper acknowledgement of someone who never signs in (line manager or office).

    The entry is marked as assisted everywhere it shows.

    \b
    Example:
      ledger --as head policy acknowledge-for st-1a2b3c4d --form signed-form.pdf --signed-on 2025-01-10
    """
    done = workforce.acknowledge_for(state.ledger(), state.actor(), staff_id, form, signed_on, version)
    emit(f"{done['staff_id']} acknowledged version {done['version']} on paper (assisted, entered by "
         f"{done['entered_by']}; form sha256 {done['form_hash']})")


# -- the policy's own review ----------------------------------------------------------


@policy.command("review")
@click.option("--on", "reviewed_on", required=True, help="Day of the review, YYYY-MM-DD.")
@click.option("--reviewer", "reviewers", multiple=True, required=True, help="Staff id of a reviewer (repeatable).")
@click.option("--findings", required=True, help="What the review found and recommends (stored encrypted).")
@click.option("--next-due", help="Day the next review is due (default and latest: a year on).")
@click.option("--version", help="The version reviewed.")
@pass_state
def review(state: State, reviewed_on: str, reviewers: tuple[str, ...], findings: str, next_due: str | None,
           version: str | None) -> None:
    """Record a review of the policy by the Head of Operations and the Network Manager.

    \b
    Example:
      ledger --as head policy review --on 2024-12-02 --reviewer st-ops --reviewer it-manager \\
        --findings "Reflects current practice; add AI tools next year"
    """
    done = reviews.record_review(state.ledger(), state.actor(), reviewed_on, list(reviewers), findings, next_due,
                                 version)
    emit(f"review {done['review_id']} recorded ({done['reviewed_on']}); next review due {done['next_due']}")


@policy.command("reviews")
@output_options
@pass_state
def list_reviews(state: State) -> list[dict[str, Any]]:
    """Reviews of the policy and the next due date each set.

    \b
    Example:
      ledger policy reviews
    """
    status = reviews.status(state.ledger())
    emit(f"next review due {status['next_due'] or 'not set'} ({status['state'] or 'no policy'}; {status['basis']})",
         err=True)
    return reviews.list_reviews(state.ledger())


# -- training --------------------------------------------------------------------------


@click.group("training")
def training() -> None:
    """The training register: who was trained for what, when, and when it must be renewed.

    \b
    Example:
      ledger --as head training list
    """


@training.command("record")
@click.argument("staff_id")
@click.option("--topic", required=True, type=lazy.Choice(lambda: duties.TRAINING_TOPICS), help="What it trained them for.")
@click.option("--completed-on", required=True, help="Day it was completed, YYYY-MM-DD.")
@click.option("--course", required=True, help="The course (stored encrypted).")
@click.option("--renewal-due", help="Day it must be renewed by (default: a year on).")
@pass_state
def record_training(state: State, staff_id: str, topic: str, completed_on: str, course: str,
                    renewal_due: str | None) -> None:
    """Record training someone completed.

    \b
    Example:
      ledger --as head training record st-1a2b3c4d --topic investigation --completed-on 2025-01-15 \\
        --course "Investigating under the social media policy"
    """
    done = training_service.record_training(state.ledger(), state.actor(), staff_id, topic, completed_on, course,
                                            renewal_due)
    emit(f"{done['training_id']}: {staff_id} trained in {topic}, renewal due {done['renewal_due']}")


@training.command("list")
@click.option("--current", is_flag=True, help="Only training still current today.")
@output_options
@pass_state
def list_training(state: State, current: bool) -> list[dict[str, Any]]:
    """The register: each record, its renewal date and whether it is current.

    \b
    Example:
      ledger training list --format csv
    """
    return training_service.register(state.ledger(), current)


# -- recruitment -----------------------------------------------------------------------


@click.group("recruitment")
def recruitment() -> None:
    """Pre-employment internet searches on candidates (a retention rule of their own).

    \b
    Example:
      ledger --as head recruitment list
    """


@recruitment.command("check")
@click.argument("candidate")
@click.option("--outcome", required=True, type=lazy.Choice(lambda: duties.CHECK_OUTCOMES), help="What the search found.")
@click.option("--basis", required=True, help="Lawful basis and what was searched (stored encrypted).")
@click.option("--vacancy", required=True, help="The post applied for (stored encrypted).")
@click.option("--same-for-all-candidates", is_flag=True,
              help="Confirm the search was made as for every shortlisted candidate (equal opportunities).")
@click.option("--on", "checked_on", help="Day of the search, YYYY-MM-DD (default: today).")
@click.option("--notes", help="Notes (stored encrypted).")
@pass_state
def check(state: State, candidate: str, outcome: str, basis: str, vacancy: str, same_for_all_candidates: bool,
          checked_on: str | None, notes: str | None) -> None:
    """Record an internet search on a candidate (register them first: `people add-subject --kind candidate`).

    \b
    Example:
      ledger --as head recruitment check sb-1a2b3c4d --outcome no-concerns --same-for-all-candidates \\
        --basis "Legitimate interests; public social media only" --vacancy "Year 3 teacher"
    """
    emit(recruitment_service.record_check(state.ledger(), state.actor(), candidate, outcome, basis, vacancy,
                                          same_for_all_candidates, checked_on, notes))


@recruitment.command("list")
@output_options
@pass_state
def list_checks(state: State) -> list[dict[str, Any]]:
    """Every check: candidate, who, when, outcome.

    \b
    Example:
      ledger recruitment list
    """
    return recruitment_service.list_checks(state.ledger())


# -- targeted monitoring ---------------------------------------------------------------


@monitoring.command("authorise")
@click.argument("person")
@click.option("--scope", "scope", multiple=True, required=True, type=lazy.Choice(lambda: auth_domain.SCOPES), help="System (repeatable).")
@click.option("--from", "starts_on", required=True, help="First day covered, YYYY-MM-DD.")
@click.option("--to", "ends_on", required=True, help="Last day covered, YYYY-MM-DD.")
@click.option("--reason", required=True, help="Why (stored encrypted).")
@pass_state
def authorise(state: State, person: str, scope: tuple[str, ...], starts_on: str, ends_on: str, reason: str) -> None:
    """Authorise a targeted review of one member of staff's use of the systems (Headteacher).

    Until one covers the alert's day, no alert about that person is linked to a case.

    \b
    Example:
      ledger --as head monitoring authorise st-1a2b3c4d --scope email --scope web-filtering \\
        --from 2025-01-01 --to 2025-01-31 --reason "Allegation inc-9f8e7d6c"
    """
    emit(authorisations.grant(state.ledger(), state.actor(), person, list(scope), starts_on, ends_on, reason))


@monitoring.command("withdraw-authorisation")
@click.argument("auth_id")
@click.option("--reason", required=True, help="Why (stored encrypted).")
@pass_state
def withdraw_authorisation(state: State, auth_id: str, reason: str) -> None:
    """End a targeted review's authorisation early.

    \b
    Example:
      ledger --as head monitoring withdraw-authorisation mon-1a2b3c4d --reason "Investigation closed"
    """
    authorisations.withdraw(state.ledger(), state.actor(), auth_id, reason)
    emit(f"{auth_id} withdrawn")


@monitoring.command("authorisations")
@output_options
@pass_state
def list_authorisations(state: State) -> list[dict[str, Any]]:
    """Authorisations of targeted reviews: whose, which systems, what period, in force today.

    \b
    Example:
      ledger monitoring authorisations
    """
    return authorisations.list_authorisations(state.ledger())


# -- co-operation with an investigation --------------------------------------------------


@incidents.group("cooperation")
def cooperation_group() -> None:
    """Ask someone linked to a case to co-operate (log-ins, removing a posting) and record the answer.

    \b
    Example:
      ledger --as dsl incidents cooperation list inc-1a2b3c4d
    """


@cooperation_group.command("request")
@click.argument("inc_id")
@click.argument("person")
@click.option("--ask", "asks", multiple=True, required=True, type=lazy.Choice(lambda: coop_domain.ASKS), help="What is asked (repeatable).")
@click.option("--answer-by", required=True, help="Day to answer by, YYYY-MM-DD.")
@click.option("--details", required=True, help="The request as put to them (stored encrypted).")
@click.option("--on", "requested_on", help="Day it was asked (default: today).")
@pass_state
def request_cooperation(state: State, inc_id: str, person: str, asks: tuple[str, ...], answer_by: str, details: str,
                        requested_on: str | None) -> None:
    """Ask someone linked to the case to co-operate; prints the request id. Never record a password.

    \b
    Example:
      ledger --as dsl incidents cooperation request inc-1a2b3c4d st-9f8e7d6c --ask login-details \\
        --answer-by 2025-02-07 --details "Asked in the meeting of 3 February to open the account with us"
    """
    emit(cooperation.request(state.ledger(), state.actor(), inc_id, person, list(asks), answer_by, details,
                             requested_on))


@cooperation_group.command("answer")
@click.argument("inc_id")
@click.argument("request_id")
@click.option("--response", required=True, type=lazy.Choice(lambda: coop_domain.RESPONSES), help="How they answered.")
@click.option("--on", "answered_on", help="Day of the answer (default: today).")
@click.option("--note", help="Note (stored encrypted).")
@pass_state
def answer_cooperation(state: State, inc_id: str, request_id: str, response: str, answered_on: str | None,
                       note: str | None) -> None:
    """Record the answer to a co-operation request.

    \b
    Example:
      ledger --as dsl incidents cooperation answer inc-1a2b3c4d coop-1a2b3c4d --response co-operated
    """
    cooperation.answer(state.ledger(), state.actor(), inc_id, request_id, response, answered_on, note)
    emit(f"{request_id}: {response}")


@cooperation_group.command("list")
@click.argument("inc_id")
@output_options
@pass_state
def list_cooperation(state: State, inc_id: str) -> list[dict[str, Any]]:
    """A case's co-operation requests and answers.

    \b
    Example:
      ledger --as dsl incidents cooperation list inc-1a2b3c4d
    """
    return cooperation.requests(state.ledger(), state.actor(), inc_id)


@incidents.command("hate-crime")
@click.argument("inc_id")
@click.option("--nature", "natures", multiple=True, required=True, type=lazy.Choice(lambda: hate.NATURES),
              help="What the comments are (repeatable).")
@click.option("--police", required=True, type=lazy.Choice(lambda: hate.POLICE_DECISIONS), help="Whether the police were contacted.")
@click.option("--why", required=True, help="Why (stored encrypted).")
@click.option("--on", "decided_on", help="Day of the decision (default: today).")
@pass_state
def hate_crime(state: State, inc_id: str, natures: tuple[str, ...], police: str, why: str,
               decided_on: str | None) -> None:
    """Record whether comments are racist, sexist, sexual or a hate crime, and the police decision.

    \b
    Example:
      ledger --as head incidents hate-crime inc-1a2b3c4d --nature racist --police contacted \
        --why "Racist abuse of a member of staff by a parent"
    """
    cooperation.assess_hate_crime(state.ledger(), state.actor(), inc_id, list(natures), police, why, decided_on)
    emit(f"{inc_id}: {', '.join(natures)}; police {police}")


COMMANDS = (training, recruitment)
