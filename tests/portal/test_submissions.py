"""One-time form tokens are forgotten after a week: each person's own as they submit new forms,
everyone's through ``flask --app wsgi portal prune-form-tokens``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.auth.principal import Caller
from app.db import utcnow
from app.portal.submissions import (
    KEPT_FOR,
    FormSubmission,
    InvalidFormToken,
    claim_form_token,
    new_form_token,
)


def _caller(user: User) -> Caller:
    organisation = user.organisation
    return Caller(
        user_id=user.id,
        organisation_id=organisation.id,
        organisation_slug=organisation.slug,
        org_kind=organisation.kind,
        role=user.role,
        email=user.email,
    )


def _user(session, email: str) -> User:
    return session.scalar(select(User).where(User.email == email))


def _claimed(session, user: User, age: timedelta) -> str:
    token = new_form_token()
    session.add(FormSubmission(token=token, user_id=user.id, created_at=utcnow() - age))
    session.flush()
    return token


def _tokens(session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(FormSubmission.token)))


def test_a_persons_old_tokens_go_when_they_submit_a_form(session, demo) -> None:
    firm = _user(session, demo["users"]["firm_admin"]["username"])
    other = _user(session, demo["users"]["firm2_admin"]["username"])
    old = _claimed(session, firm, KEPT_FOR + timedelta(minutes=1))
    recent = _claimed(session, firm, KEPT_FOR - timedelta(minutes=1))
    others_old = _claimed(session, other, KEPT_FOR + timedelta(days=3))

    token = new_form_token()
    assert claim_form_token(session, _caller(firm), token) is None
    kept = _tokens(session)
    assert old not in kept and {recent, token, others_old} <= kept
    # A repeat of a form still remembered does nothing, as before.
    assert claim_form_token(session, _caller(firm), token) == ""
    assert claim_form_token(session, _caller(firm), recent) == ""
    with pytest.raises(InvalidFormToken):
        claim_form_token(session, _caller(other), token)


def test_the_prune_command_forgets_everyones_old_tokens(app, session, demo) -> None:
    firm = _user(session, demo["users"]["firm_admin"]["username"])
    other = _user(session, demo["users"]["firm2_admin"]["username"])
    old = [_claimed(session, user, KEPT_FOR + timedelta(hours=2)) for user in (firm, other)]
    recent = _claimed(session, other, timedelta(seconds=5))
    result = app.test_cli_runner().invoke(args=["portal", "prune-form-tokens"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 form tokens older than 7 days." in result.output
    kept = _tokens(session)
    assert recent in kept and not set(old) & kept
