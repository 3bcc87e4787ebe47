"""What the Headteacher approves: posts, photo devices and permissions.

Every request ends in decisions by the Headteacher: approve or reject, always
with a reason. A decision is never changed: a later event revokes it, after
which a new decision may be made. Every rule here depends only on clear
header facts (ids, statuses, dates, which children are covered), so staff who
may not read a request (e.g. the teacher who proposed a post) can still take
their own steps on it; post text, reasons, notes and device descriptions are
encrypted.
"""

from ledger.domain.approvals.base import (
    CONDITIONS, APPROVED, FOUND, GRANTED, NONE_FOUND, REJECTED, WITHDRAWN, Decision, Request, Revocation, check_account,
    request_record_id,
)
from ledger.domain.approvals.devices import DeviceApproval
from ledger.domain.approvals.permissions import DISCUSSED_WITH, PERMISSION_KINDS, PermissionRequest
from ledger.domain.approvals.posts import SocialMediaPost

__all__ = [
    "CONDITIONS", "DISCUSSED_WITH", "APPROVED", "FOUND", "PERMISSION_KINDS", "GRANTED", "NONE_FOUND", "REJECTED", "WITHDRAWN", "Decision", "DeviceApproval",
    "PermissionRequest", "Request", "Revocation", "SocialMediaPost", "check_account", "request_record_id",
]
