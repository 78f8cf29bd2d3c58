"""The shared data model. Every module (dispatch, tenant portal, housing queue) uses these.
Imports only models and core."""

# The portal's and the accounts' tables register on Base when imported (their classes are
# imported from their own modules: dispatch.models.accounts, dispatch.models.portal).
from dispatch.models import accounts as accounts  # noqa: F401
from dispatch.models import housing as housing  # noqa: F401
from dispatch.models import portal as portal  # noqa: F401
from dispatch.models.audit import AuditEvent
from dispatch.models.base import Base, UTCDateTime, utcnow
from dispatch.models.incidents import (
    CATEGORIES,
    JOB_STATUSES,
    OUTCOMES,
    Call,
    Complaint,
    Delivery,
    IncidentReport,
    Job,
    JobEvent,
)
from dispatch.models.landlords import Landlord, OncallNumber
from dispatch.models.messages import SMS_REASONS, SMS_RECIPIENTS, SMS_STATUSES, SmsMessage
from dispatch.models.patrols import PATROL_STATUSES, Patrol, PatrolPosition, PatrolPresence
from dispatch.models.people import Agreement, AgreementObject, AgreementParty, Person
from dispatch.models.register import (
    OBJECT_TYPES,
    Entrance,
    Property,
    RegisterImport,
    RentalObject,
)
from dispatch.models.reports import (
    MAIL_STATUSES,
    DeletedReport,
    LoginCode,
    MorningMail,
    ReportRevision,
)
from dispatch.models.safety import ALARM_KINDS, PatrolAlarm
from dispatch.models.users import ROLES, ApiToken, User

__all__ = [
    "ALARM_KINDS",
    "CATEGORIES",
    "JOB_STATUSES",
    "MAIL_STATUSES",
    "OBJECT_TYPES",
    "OUTCOMES",
    "PATROL_STATUSES",
    "ROLES",
    "SMS_REASONS",
    "SMS_RECIPIENTS",
    "SMS_STATUSES",
    "Agreement",
    "AgreementObject",
    "AgreementParty",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Call",
    "Complaint",
    "DeletedReport",
    "Delivery",
    "Entrance",
    "IncidentReport",
    "Job",
    "JobEvent",
    "Landlord",
    "LoginCode",
    "MorningMail",
    "OncallNumber",
    "Patrol",
    "PatrolAlarm",
    "PatrolPosition",
    "PatrolPresence",
    "Person",
    "Property",
    "RegisterImport",
    "RentalObject",
    "SmsMessage",
    "ReportRevision",
    "User",
    "UTCDateTime",
    "utcnow",
]
