"""Every form of the association's portal refuses a post without its CSRF token (a forged
post from another site): a readable 403 page, and nothing changed."""

from __future__ import annotations

import pytest

from app import blueprint_modules
from app.auth.principal import Caller
from app.http.web import PAGES
from tests.portalkit import activity_count, as_role, text
from tests.test_authorisation_matrix import CALLERS, _concrete

blueprint_modules()
BLUEPRINTS = {
    "association_portal",
    "brands_portal",
    "standards_portal",
    "audits_portal",
    "certificates_portal",
}


def _cases() -> list[tuple[str, str]]:
    cases = []
    for page in PAGES:
        if page.blueprint in BLUEPRINTS and "POST" in page.methods:
            role = next(
                name
                for name, (kind, user_role) in CALLERS.items()
                if page.access.allows(Caller(0, 0, "", kind, user_role, ""))
            )
            cases.append((page.endpoint_id, role))
    return cases


@pytest.mark.parametrize(("endpoint_id", "role"), _cases(), ids=str)
def test_posts_without_csrf_token_are_refused(app, demo, session, endpoint_id, role) -> None:
    client = as_role(app, demo, role)
    rule = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint_id)
    before = activity_count(session)
    response = client.post(
        _concrete(rule), data={"reason": "forged"}, headers={"Accept": "text/html"}
    )
    assert response.status_code == 403 and "CSRF" in text(response)
    assert activity_count(session) == before


def test_every_form_of_the_portal_is_covered() -> None:
    assert len(_cases()) >= 20
