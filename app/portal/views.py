"""The workspace home: what the signed-in person may do, by organisation kind and role."""

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from app.auth.labels import ROLE_LABELS
from app.auth.models import User
from app.auth.principal import Caller, allow
from app.extensions import db
from app.http.web import page
from app.portal.nav import nav_for

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")


@page(bp, "", access=allow())
def dashboard(caller: Caller) -> ResponseReturnValue:
    user = db.session.get(User, caller.user_id)
    return render_template(
        "portal/dashboard.html",
        user=user,
        role=ROLE_LABELS.get(caller.role, caller.role),
        sections=nav_for(caller),
    )
