"""Readable names of account values, shared by the account pages and the workspace home."""

from flask_babel import lazy_gettext

from app.auth.models import Role

ROLE_LABELS = {
    Role.ADMIN: lazy_gettext("Administrator"),
    Role.STAFF: lazy_gettext("Staff"),
    Role.AUDITOR: lazy_gettext("Auditor"),
    Role.VIEWER: lazy_gettext("Viewer"),
}
