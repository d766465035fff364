"""All models, imported here so that Alembic and the app see one metadata."""
from portal.models.admin import Admin, RoleRule
from portal.models.audit import AuditEvent
from portal.models.device import DeviceSession
from portal.models.integration import FieldMapping, Integration
from portal.models.live_update import ChangeNotification, LiveUpdateSubscription
from portal.models.requester import Requester
from portal.models.settings import Lease, Setting
from portal.models.sign_in import SignInEvent
from portal.models.sync import SyncChange, SyncConflict, SyncRun
from portal.models.sync_scope import ScopeGroup, ScopeMember
from portal.models.ticket import ServiceCategory, Ticket, TicketEvent
from portal.models.workflow import ActionRun, Approval, Workflow, WorkflowStep

__all__ = [
    "ActionRun", "Admin", "Approval", "AuditEvent", "ChangeNotification", "DeviceSession", "FieldMapping",
    "Integration", "Lease", "LiveUpdateSubscription", "Requester", "RoleRule", "ScopeGroup", "ScopeMember",
    "ServiceCategory", "Setting", "SignInEvent", "SyncChange", "SyncConflict", "SyncRun", "Ticket", "TicketEvent",
    "Workflow", "WorkflowStep",
]
