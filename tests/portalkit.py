"""Helpers for the portal page tests: signed-in browser-like clients and form posts."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.activity.models import ActivityRecord
from app.auth import services as auth
from app.auth.models import Organisation, OrgKind, Role

HTML = {"Accept": "text/html"}
OTHER_PASSWORD = "a-long-password-1"


def sign_in(app: Flask, email: str, password: str, lang: str = "en") -> FlaskClient:
    """A test client signed in through the real form, with a language preference."""
    client = app.test_client()
    client.set_cookie("lang", lang)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def as_role(app: Flask, demo: dict[str, Any], role: str, lang: str = "en") -> FlaskClient:
    account = demo["users"][role]
    return sign_in(app, account["username"], account["password"], lang)


def csrf(client: FlaskClient) -> str:
    page = client.get("/portal").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def post(client: FlaskClient, path: str, data: Any = None, **kwargs: Any) -> Any:
    """POST a form with the session's CSRF token (``data`` a dict or a list of pairs)."""
    items = list(data.items()) if isinstance(data, dict) else list(data or [])
    items.append(("csrf_token", csrf(client)))
    fields: dict[str, Any] = {}
    for key, value in items:
        if key in fields:
            existing = fields[key]
            fields[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            fields[key] = value
    return client.post(path, data=fields, headers=HTML, **kwargs)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def field_error(html: str, key: str) -> str | None:
    """The message shown next to form field ``key`` (None when there is none)."""
    found = re.search(rf'<span class="field-error" id="e-{re.escape(key)}">([^<]*)</span>', html)
    return found.group(1) if found else None


def value_of(html: str, key: str) -> str | None:
    """The value an input named ``key`` shows."""
    found = re.search(rf'name="{re.escape(key)}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(key)}"', html
    )
    return found.group(1) if found else None


def activity_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ActivityRecord)) or 0


def other_association_admin(app: Flask, session: Session) -> FlaskClient:
    """An administrator of a second association (owning nothing of the demo's), signed in."""
    organisation = auth.create_organisation(
        session,
        slug="huizhou-tea-association",
        kind=OrgKind.ASSOCIATION,
        name_zh="徽州茶业协会",
        name_en="Huizhou Tea Association",
    )
    auth.create_user(
        session,
        organisation=organisation,
        email="admin@huizhou-tea.example",
        display_name="Other admin",
        role=Role.ADMIN,
        password=OTHER_PASSWORD,
    )
    session.commit()
    return sign_in(app, "admin@huizhou-tea.example", OTHER_PASSWORD)


def new_organisation(session: Session, slug: str, kind: OrgKind, **fields: Any) -> Organisation:
    organisation = auth.create_organisation(
        session,
        slug=slug,
        kind=kind,
        name_zh=fields.pop("name_zh", slug),
        name_en=fields.pop("name_en", slug),
        **fields,
    )
    session.commit()
    return organisation
