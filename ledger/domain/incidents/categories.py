"""What an incident can be about, who owns it, and the codes of its lifecycle.

Categories come from the policy. Each one names the record class its records
are kept under (which decides who can read them and how long they are kept)
and the role it is escalated to at triage. An allegation against a member of
staff is its own class whatever the category: the Headteacher manages it
(KCSIE part 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ledger.errors import InvalidInput


#: UKCIS, "Sharing nudes and semi-nudes: advice for education settings working with
#: children and young people" (2020, updated 2024), in the words a member of staff needs.
NUDES_GUIDANCE: Final = (
    "Do not view, copy, print, share, save or send the image or video, and do not ask the child to. "
    "If a device holds it, secure the device (switched off) and hand it to the DSL. "
    "Describe what you were told or saw, where (which app or platform) and who was involved; "
    "record what the child said in their own words. Refer to the DSL at once. "
    "Images are never taken in as evidence here."
)


@dataclass(frozen=True)
class Category:
    """One kind of incident the policy names."""

    code: str
    title: str
    record_class: str
    owner: str
    policy: str
    #: Images and videos are never taken in as evidence (UKCIS: nudes and semi-nudes).
    no_images: bool = False
    #: What staff must and must not do, shown when the category is chosen.
    guidance: str = ""


CATEGORIES: Final[dict[str, Category]] = {
    c.code: c
    for c in (
        Category("staff-phone-use", "Staff phone or smart technology use around children", "incident", "slt",
                 "The use of Mobile Phones and Smart Technology: report to SLT or the DSL"),
        Category("personal-social-media", "Personal social media in working time or on Federation systems",
                 "incident", "headteacher", "Personal use of social media"),
        Category("defamatory-post", "Disparaging or defamatory post", "incident", "headteacher",
                 "Protecting our business reputation: report to the Headteacher without unreasonable delay"),
        Category("confidentiality-breach", "Confidentiality or data protection breach", "incident", "headteacher",
                 "Compliance with related policies; Respecting confidential information"),
        Category("pupil-contact", "Pupil friend request or contact to staff", "incident", "slt",
                 "Appendix 1: notify the senior leadership team or the Headteacher"),
        Category("parent-contact", "Parent contact to staff on social media", "incident", "slt",
                 "Appendix 1: a parent adds you on social media"),
        Category("staff-harassed", "Member of staff harassed or abused online", "incident", "headteacher",
                 "Appendix 1: you're being harassed on social media"),
        Category("child-on-child", "Child-on-child online abuse (other)", "safeguarding", "dsl",
                 "The use of Mobile Phones and Smart Technology: safeguarding, to the DSL"),
        Category("nudes-semi-nudes", "Sharing nudes and semi-nudes (UKCIS)", "safeguarding", "dsl",
                 "Safeguarding, to the DSL; UKCIS 'Sharing nudes and semi-nudes' advice", no_images=True,
                 guidance=NUDES_GUIDANCE),
        Category("sextortion", "Financially motivated sexual extortion (UKCIS)", "safeguarding", "dsl",
                 "Safeguarding, to the DSL; UKCIS 'Sharing nudes and semi-nudes' advice", no_images=True,
                 guidance=NUDES_GUIDANCE),
        Category("online-sexual-harassment", "Online sexual harassment between children", "safeguarding", "dsl",
                 "Safeguarding, to the DSL; KCSIE part 5 (child-on-child sexual violence and harassment)"),
        Category("online-bullying", "Online bullying between children", "safeguarding", "dsl",
                 "Safeguarding, to the DSL; the Federation's anti-bullying policy"),
        Category("online-grooming", "Online grooming or contact by an adult", "safeguarding", "dsl",
                 "Safeguarding, to the DSL at once: consider the police and CEOP"),
        Category("harmful-content", "Exposure to harmful content (self-harm, extremism, pornography)", "safeguarding",
                 "dsl", "Safeguarding, to the DSL; filtering and monitoring (KCSIE part 2)"),
        Category("safeguarding-concern", "Other safeguarding concern arising online", "safeguarding", "dsl",
                 "Safeguarding: to the DSL"),
        Category("logo-ip-misuse", "Misuse of logos or intellectual property", "incident", "headteacher",
                 "Respecting intellectual property and confidential information"),
        Category("media-comment", "Unapproved comment to the media", "incident", "headteacher",
                 "Educational or Extra Curricular Use: direct inquiries to the Headteacher"),
        Category("social-reference", "Reference given on a social or professional network", "incident",
                 "headteacher", "Compliance with related policies: never provide references on social networks"),
        Category("staff-harassment", "Harassing or bullying other staff online", "incident", "headteacher",
                 "Compliance with related policies: never harass or bully other staff (Anti-harassment and "
                 "bullying Policy)"),
        Category("discrimination", "Unlawful discrimination against staff or third parties online", "incident",
                 "headteacher", "Compliance with related policies: Equal Opportunities Policy"),
        Category("impersonation", "False or misleading use: claiming to be someone else", "incident",
                 "headteacher", "Compliance with related policies: never use social media in a false or "
                 "misleading way"),
        Category("work-email-signup", "Work email address used to sign up to social media", "incident", "slt",
                 "Personal use of social media; Appendix 1 rule 9"),
        Category("offensive-post", "Offensive post: discriminatory comments, insults or obscenity", "incident",
                 "headteacher", "Respecting colleagues, pupils, parents, clients, service providers and "
                 "stakeholders"),
        Category("photo-misuse", "Federation photos or posts taken for personal use", "incident", "headteacher",
                 "Personal use of social media: photos or posts belonging to the Federation"),
        Category("pupil-phone-use", "A pupil's mobile phone or smart technology used in school", "incident", "slt",
                 "The use of Mobile Phones and Smart Technology: report to the class teacher immediately",
                 guidance="Report it to the pupil's class teacher immediately: name them with "
                 "--person STAFF_ID:class-teacher."),
        Category("other", "Other breach of the policy", "incident", "headteacher",
                 "Misuse of social media is reported to the Headteacher in the first instance"),
    )
}

#: Allegations against staff: class and owner regardless of category.
ALLEGATION_CLASS: Final = "allegation"
ALLEGATION_OWNER: Final = "headteacher"

INCIDENT_CLASSES: Final = ("incident", "safeguarding", ALLEGATION_CLASS)

SOURCES: Final = ("seen", "told", "monitoring")
PARTS: Final = ("victim", "alleged", "witness", "reporter", "class-teacher")
#: Categories that name the class teacher the report went to.
CLASS_TEACHER_CATEGORIES: Final = ("pupil-phone-use",)
NOTE_KINDS: Final = ("fact", "opinion", "child-words")
#: Kinds of action on an incident: things done, and referrals and contacts.
ACTIONS: Final = (
    "spoke-to-child", "parents-informed", "parent-meeting", "device-secured",
    "removal-requested", "removal-confirmed", "reported-to-platform",
    "social-care-referral", "early-help", "police-contacted", "ceop-report", "report-remove",
    "lado-referral", "strategy-meeting", "mediation", "meeting-with-person", "other",
)
#: The actions that are referrals or contacts outside the school (counted for governors).
REFERRALS: Final = (
    "social-care-referral", "early-help", "police-contacted", "ceop-report", "report-remove",
    "lado-referral", "strategy-meeting",
)
#: Words for each action kind, for people.
ACTION_TITLES: Final[dict[str, str]] = {
    "spoke-to-child": "spoke to the child",
    "parents-informed": "parents or carers informed",
    "parent-meeting": "meeting with parents or carers",
    "device-secured": "device secured (not viewed)",
    "removal-requested": "removal of the content requested",
    "removal-confirmed": "removal of the content confirmed",
    "reported-to-platform": "reported to the platform",
    "social-care-referral": "referral to children's social care (MASH)",
    "early-help": "early help assessment or referral",
    "police-contacted": "police contacted",
    "ceop-report": "report to CEOP",
    "report-remove": "Report Remove (Childline and IWF)",
    "lado-referral": "referral to the LADO",
    "strategy-meeting": "strategy meeting",
    "mediation": "mediation",
    "meeting-with-person": "meeting with the person concerned",
    "other": "other action",
}
ACTION_STATES: Final = ("open", "done", "cancelled")

#: KCSIE outcomes of an allegation against staff.
ALLEGATION_FINDINGS: Final = ("substantiated", "false", "malicious", "unsubstantiated", "unfounded")
#: Findings of any other incident.
INCIDENT_FINDINGS: Final = ("upheld", "partly-upheld", "not-upheld", "no-further-action")
#: Findings that can carry a disciplinary sanction.
SANCTIONABLE: Final = ("substantiated", "upheld", "partly-upheld")

DISCIPLINARY: Final = ("none", "oral", "written", "final", "dismissal")
#: Months after which a disciplinary warning lapses (retention reads this).
WARNING_LAPSE_MONTHS: Final[dict[str, int]] = {"oral": 6, "written": 12, "final": 18}

OPEN: Final = ("reported", "triaged", "investigating", "reopened")
STATUSES: Final = OPEN + ("closed",)


def category(code: str) -> Category:
    """The category named ``code``; InvalidInput for an unknown one."""
    try:
        return CATEGORIES[code]
    except KeyError:
        raise InvalidInput(
            f"unknown incident category {code!r}",
            f"categories are: {', '.join(CATEGORIES)} (`ledger incidents categories` explains them)",
        ) from None


def record_class_for(code: str, against_staff: bool) -> str:
    """The record class an incident of category ``code`` is kept under."""
    return ALLEGATION_CLASS if against_staff else category(code).record_class


def owner_for(code: str, against_staff: bool) -> str:
    """The role an incident of category ``code`` is escalated to."""
    return ALLEGATION_OWNER if against_staff else category(code).owner


def findings_for(against_staff: bool) -> tuple[str, ...]:
    """The findings allowed for an allegation against staff or another incident."""
    return ALLEGATION_FINDINGS if against_staff else INCIDENT_FINDINGS


def choose(name: str, value: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``; InvalidInput otherwise."""
    if value not in allowed:
        raise InvalidInput(f"{name} {value!r} is not known", f"{name} is one of: {', '.join(allowed)}")
    return value
