"""Every portal page x every demo role: anonymous people are sent to sign in, callers outside
the page's access rule get a readable 403 page, and nothing changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app import blueprint_modules
from app.activity.models import ActivityRecord
from app.auth.principal import Caller
from app.http.web import PAGES
from tests.test_authorisation_matrix import CALLERS, _concrete

blueprint_modules()


def _sign_in(client, demo, role: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    account = demo["users"][role]
    response = client.post(
        "/login",
        data={"email": account["username"], "password": account["password"], "csrf_token": token},
    )
    assert response.status_code == 303


def _cases() -> list[tuple[str, str, str | None]]:
    cases = []
    for page in PAGES:
        if page.access.public:
            continue
        for method in page.methods:
            cases.append((page.endpoint_id, method, None))
            for role, (kind, user_role) in CALLERS.items():
                if not page.access.allows(Caller(0, 0, "", kind, user_role, "")):
                    cases.append((page.endpoint_id, method, role))
    return cases


@pytest.mark.parametrize(("endpoint_id", "method", "role"), _cases(), ids=str)
def test_pages_refuse_callers_outside_their_rule(
    app, demo, session, endpoint_id, method, role
) -> None:
    client = app.test_client()
    if role is not None:
        _sign_in(client, demo, role)
    rule = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint_id)
    before = session.scalar(select(func.count()).select_from(ActivityRecord))
    response = client.open(_concrete(rule), method=method, headers={"Accept": "text/html"})
    if role is None:
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403, (
            f"{endpoint_id} {method} as {role}: {response.status_code}"
        )
        assert response.mimetype == "text/html"
    assert session.scalar(select(func.count()).select_from(ActivityRecord)) == before
