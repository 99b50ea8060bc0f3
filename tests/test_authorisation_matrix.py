"""Every endpoint x every demo role: callers outside an endpoint's access rule are refused
(401 without credentials, 403 otherwise) before any work is done, and nothing changes."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app import blueprint_modules
from app.activity.models import ActivityRecord
from app.auth.models import OrgKind, Role
from app.auth.principal import Caller
from app.http.api import ENDPOINTS

# The demo's callers: role key -> (organisation kind, role)
CALLERS = {
    "association_admin": (OrgKind.ASSOCIATION, Role.ADMIN),
    "association_staff": (OrgKind.ASSOCIATION, Role.STAFF),
    "association_auditor": (OrgKind.ASSOCIATION, Role.AUDITOR),
    "firm_admin": (OrgKind.ENTERPRISE, Role.ADMIN),
    "firm_staff": (OrgKind.ENTERPRISE, Role.STAFF),
    "firm2_admin": (OrgKind.ENTERPRISE, Role.ADMIN),
    "government_viewer": (OrgKind.GOVERNMENT, Role.VIEWER),
    "alliance_viewer": (OrgKind.ALLIANCE, Role.VIEWER),
}
blueprint_modules()
_PATH_ARG = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")


def _concrete(rule: str) -> str:
    def fill(match: re.Match[str]) -> str:
        return "1" if match["conv"] == "int" else "x"

    return _PATH_ARG.sub(fill, rule)


def _cases() -> list[tuple[str, str, str, str | None]]:
    cases = []
    for endpoint in ENDPOINTS:
        if endpoint.access.public:
            continue
        for method in endpoint.methods:
            cases.append((endpoint.endpoint_id, method, endpoint.rule, None))
            for role, (kind, user_role) in CALLERS.items():
                probe = Caller(0, 0, "", kind, user_role, "")
                if not endpoint.access.allows(probe):
                    cases.append((endpoint.endpoint_id, method, endpoint.rule, role))
    return cases


def _full_rule(app, endpoint_id: str) -> str:
    return next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint_id)


def test_matrix_is_not_empty() -> None:
    refusals = [case for case in _cases() if case[3] is not None]
    assert len(refusals) > 5, "the matrix should exercise real refusals"


@pytest.mark.parametrize(
    ("endpoint_id", "method", "rule", "role"), _cases(), ids=lambda value: str(value)
)
def test_callers_outside_the_rule_are_refused(
    app, api, session, endpoint_id, method, rule, role
) -> None:
    path = _concrete(_full_rule(app, endpoint_id))
    before = session.scalar(select(func.count()).select_from(ActivityRecord))
    response = api(role).request(method, path, json={})
    expected = 401 if role is None else 403
    assert response.status_code == expected, (
        f"{method} {path} as {role}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    )
    assert response.mimetype == "application/problem+json"
    after = session.scalar(select(func.count()).select_from(ActivityRecord))
    assert after == before, "a refused request left a trace of a write"


def test_every_non_public_endpoint_states_a_scope() -> None:
    for endpoint in ENDPOINTS:
        if not endpoint.access.public:
            assert endpoint.scope and re.fullmatch(
                r"[a-z][a-z0-9_-]*:(read|write)", endpoint.scope
            ), endpoint
