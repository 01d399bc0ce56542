"""ORM models, one file per table. Importing this package registers every table."""

from contact_center.models.app_secret import AppSecret
from contact_center.models.audit_chain import AuditCheckpoint, AuditPrune, AuditSeal
from contact_center.models.audit_log import AuditLog
from contact_center.models.call_detail import CallDetail
from contact_center.models.canned_reply import CannedReply
from contact_center.models.complaint import Complaint, ComplaintEvent, ComplaintInteraction
from contact_center.models.csat import CsatSurvey, RepeatContact
from contact_center.models.interaction import Interaction, InteractionLabel
from contact_center.models.interaction_event import InteractionEvent
from contact_center.models.lifecycle import DataSubjectRequest, LegalHold, PurgeRun
from contact_center.models.message import Message
from contact_center.models.note import InteractionNote, Notification
from contact_center.models.otp_challenge import OtpChallenge
from contact_center.models.read_mark import ReadMark
from contact_center.models.redaction import RedactionProof, RedactionRun, RedactionVault
from contact_center.models.report import (
    ReportDay,
    ReportHistogram,
    ReportRollup,
    ReportWatermark,
)
from contact_center.models.service_levels import (
    BusinessHours,
    ClosedDay,
    ConversationSla,
    SlaPolicy,
)
from contact_center.models.signed_link import SignedLink
from contact_center.models.team import RoutingRule, Team, TeamMember
from contact_center.models.user_account import ApiToken, ConsoleSession, UserAccount
from contact_center.models.webhook_delivery import WebhookDelivery
from contact_center.models.whatsapp_template import WhatsAppTemplate

__all__ = [
    "ApiToken",
    "AppSecret",
    "AuditCheckpoint",
    "AuditLog",
    "AuditPrune",
    "AuditSeal",
    "BusinessHours",
    "CallDetail",
    "CannedReply",
    "ClosedDay",
    "Complaint",
    "ComplaintEvent",
    "ComplaintInteraction",
    "ConsoleSession",
    "ConversationSla",
    "CsatSurvey",
    "DataSubjectRequest",
    "Interaction",
    "InteractionEvent",
    "InteractionLabel",
    "InteractionNote",
    "LegalHold",
    "Message",
    "Notification",
    "OtpChallenge",
    "PurgeRun",
    "ReadMark",
    "RedactionProof",
    "RedactionRun",
    "RedactionVault",
    "RepeatContact",
    "ReportDay",
    "ReportHistogram",
    "ReportRollup",
    "ReportWatermark",
    "RoutingRule",
    "SignedLink",
    "SlaPolicy",
    "Team",
    "TeamMember",
    "UserAccount",
    "WebhookDelivery",
    "WhatsAppTemplate",
]
