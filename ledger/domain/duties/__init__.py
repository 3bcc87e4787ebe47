"""Duties the policy gives people beyond approvals and incidents.

The policy's own review, the training register, pre-employment internet
searches on candidates, and the authorisation a targeted review of one
person's use of the federation's systems needs before anything it finds is
linked to a case. Each rule reads clear facts only (ids, dates, outcomes);
findings, reasons, bases and course notes travel in encrypted bodies.
"""

from ledger.domain.duties.authorisations import MonitoringAuthorisation, authorisation_record_id
from ledger.domain.duties.recruitment import CHECK_OUTCOMES, RecruitmentCheck, recruitment_record_id
from ledger.domain.duties.reviews import PolicyReview, review_record_id
from ledger.domain.duties.training import TRAINING_TOPICS, TrainingRecord, training_record_id

__all__ = [
    "CHECK_OUTCOMES", "TRAINING_TOPICS", "MonitoringAuthorisation", "PolicyReview", "RecruitmentCheck", "TrainingRecord",
    "authorisation_record_id", "recruitment_record_id", "review_record_id", "training_record_id",
]
