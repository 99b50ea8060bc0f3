"""Every portal page x every demo role: anonymous people are sent to sign in, callers outside
the page's access rule get a readable 403 page, and nothing changes; callers inside it can set
any table filter to anything without an error page."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from flask import template_rendered
from sqlalchemy import func, select

from app import blueprint_modules
from app.activity.models import ActivityRecord
from app.auth.principal import Caller
from app.http.web import PAGES
from app.portal.tables import Table
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


JUNK = "zzz"


def _tables_on(app, client, path: str) -> tuple[int, list[Table]]:
    """The status of ``GET path`` and the tables its templates were given."""
    tables: list[Table] = []

    def collect(sender, template, context, **extra) -> None:
        tables.extend(value for value in context.values() if isinstance(value, Table))

    with template_rendered.connected_to(collect, app):
        response = client.get(path, headers={"Accept": "text/html"})
    return response.status_code, tables


@pytest.mark.parametrize("role", sorted(CALLERS), ids=str)
def test_table_pages_ignore_unknown_filter_values(app, demo, role) -> None:
    """Every filter of every table a role can see, set to a value it does not offer: the page
    answers as usual with a notice for each filter with choices, never an error page."""
    client = app.test_client()
    _sign_in(client, demo, role)
    kind, user_role = CALLERS[role]
    probe = Caller(0, 0, "", kind, user_role, "")
    swept = set()
    for page in PAGES:
        if "GET" not in page.methods or not page.access.allows(probe):
            continue
        rule = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == page.endpoint_id)
        path = _concrete(rule)
        status, tables = _tables_on(app, client, path)
        filters = {f.key: f for table in tables for f in table.filters}
        if status != 200 or not filters:
            continue
        junk_path = path + "?" + urlencode({key: JUNK for key in filters})
        status, tables = _tables_on(app, client, junk_path)
        assert status == 200, f"{junk_path} as {role}: {status}"
        ignored = {f.key for table in tables for f in table.ignored}
        assert ignored == {key for key, f in filters.items() if f.choices is not None}, junk_path
        swept.add(rule)
    expected = {
        "association_admin": {"/portal/scan-alerts", "/portal/fake-reports", "/portal/users"},
        "association_staff": {"/portal/memberships", "/portal/audits", "/portal/certificates"},
        "firm_admin": {"/portal/label-orders", "/portal/products", "/portal/trace/recalls"},
        "firm_staff": {"/portal/firm/scans", "/portal/transparency"},
        "government_viewer": {"/portal/register/members", "/portal/register/certificates"},
    }.get(role, set())
    assert expected <= swept, f"{role} did not reach {expected - swept}"
