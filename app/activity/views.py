"""Activity trail API: an organisation's admins read what was done in its name."""

from flask import Blueprint

from app.activity import services
from app.activity.schemas import ActivityOut, ActivityQuery
from app.auth.models import Role
from app.auth.principal import Caller, allow
from app.extensions import db
from app.http.api import route
from app.http.schemas import Page

bp = Blueprint("activity", __name__, url_prefix="/api/v1/activity")


@route(bp, "", access=allow(roles=[Role.ADMIN]), query=ActivityQuery, response=Page[ActivityOut])
def list_activity(caller: Caller, query: ActivityQuery):
    """List the organisation's activity trail, newest first."""
    return services.list_activity(
        db.session, caller, limit=query.limit, cursor=query.cursor, action=query.action
    )
