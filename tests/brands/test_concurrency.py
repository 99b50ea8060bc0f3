"""Two simultaneous applications of one firm to one brand open exactly one membership; two
simultaneous decisions on one membership apply exactly one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.activity.models import ActivityRecord
from app.auth.models import User
from app.auth.services import caller_for
from app.brands import services
from app.brands.errors import OpenMembershipExists
from app.brands.models import Brand, CoBuilder, Membership, MembershipStatus
from app.extensions import db
from tests.brandkit import brand_body
from tests.concurrency import Attempt, in_transaction, postgresql_scratch_app, race
from tests.products.factories import caller

SLUG = "race-tea"


@pytest.mark.committing
def test_concurrent_applications_open_one_membership(app, demo) -> None:
    with app.app_context():
        session = db.new_session(writer=True)
        users = {
            key: session.scalar(select(User).where(User.email == demo["users"][key]["username"]))
            for key in ("association_admin", "firm_admin")
        }
        callers = {key: caller_for(user) for key, user in users.items()}
        services.create_brand(session, callers["association_admin"], **brand_body(SLUG))
        session.commit()
        session.close()

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def apply() -> None:
        with app.app_context():
            worker = db.new_session(writer=True)
            try:
                barrier.wait(timeout=10)
                services.apply_for_membership(
                    worker,
                    callers["firm_admin"],
                    SLUG,
                    registration_scheme=None,
                    registration_number=None,
                )
                worker.commit()
                outcomes.append("applied")
            except OpenMembershipExists:
                worker.rollback()
                outcomes.append("refused")
            finally:
                worker.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["applied", "refused"]
    finally:
        with app.app_context():
            session = db.new_session(writer=True)
            brand_id = session.scalar(select(Brand.id).where(Brand.slug == SLUG))
            session.execute(delete(Membership).where(Membership.brand_id == brand_id))
            session.execute(delete(CoBuilder).where(CoBuilder.brand_id == brand_id))
            session.execute(delete(Brand).where(Brand.id == brand_id))
            session.execute(delete(ActivityRecord).where(ActivityRecord.path.contains(SLUG)))
            session.commit()
            session.close()


@pytest.fixture(scope="module")
def scratch_app(tmp_path_factory: pytest.TempPathFactory, key_dir) -> Iterator[Flask]:
    directory = tmp_path_factory.mktemp("decision-race")
    with postgresql_scratch_app(directory, key_dir, "decide") as application:
        yield application


_slugs = iter(f"race-decide-{n}" for n in range(1000))


def _membership(application: Flask, *, approved: bool) -> int:
    """The demo firm's application to a brand of its own (``approved``: its membership),
    committed."""
    with application.app_context():
        session = db.new_session(writer=True)
        try:
            admin = caller(session, "admin@qimen-tea.example")
            slug = next(_slugs)
            services.create_brand(session, admin, **brand_body(slug))
            membership = services.apply_for_membership(
                session, caller(session), slug, registration_scheme=None, registration_number=None
            )
            if approved:
                services.change_membership(session, admin, membership.id, "approve")
            session.commit()
            return membership.id
        finally:
            session.close()


def _decision(application: Flask, membership_id: int, action: str) -> Attempt:
    """The association's admin posts ``action`` on the membership through the API: "ok", or
    the status and problem slug it was answered with."""
    token = application.config["DEMO"]["tokens"]["association_admin"]

    def attempt() -> str:
        try:
            response = application.test_client().post(
                f"/api/v1/memberships/{membership_id}/{action}",
                json={"reason": "decided in a race"},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except Exception as error:  # a deadlock, say (the testing app raises it): reported
            return repr(error)
        if response.status_code == 200:
            return "ok"
        problem_type = response.get_json().get("type", "")
        return f"{response.status_code} {problem_type.rsplit('/', 1)[-1]}"

    return attempt


def _outcome(application: Flask, membership_id: int) -> tuple[MembershipStatus, int]:
    """The membership's status and how many decisions on it the activity trail records."""
    with application.app_context():
        session = db.new_session()
        try:
            membership = session.get(Membership, membership_id)
            assert membership is not None
            decisions = session.scalar(
                select(func.count())
                .select_from(ActivityRecord)
                .where(ActivityRecord.target == f"membership:{membership_id}")
            )
            return membership.status, decisions
        finally:
            session.close()


@pytest.mark.committing
@pytest.mark.parametrize(
    ("first", "second", "applied"),
    [
        ("approve", "reject", MembershipStatus.APPROVED),
        ("reject", "approve", MembershipStatus.REJECTED),
        ("suspend", "suspend", MembershipStatus.SUSPENDED),
    ],
)
def test_two_decisions_on_one_membership_at_once_apply_one(
    scratch_app: Flask, first: str, second: str, applied: MembershipStatus
) -> None:
    membership_id = _membership(scratch_app, approved=first == "suspend")

    # The first pauses before it writes the membership until the second has read it (at once
    # when that read takes no lock: both would then decide on the state they read).
    outcomes = race(
        scratch_app,
        _decision(scratch_app, membership_id, first),
        _decision(scratch_app, membership_id, second),
        pause_first_before=("UPDATE brand_memberships",),
        second_signals_after=("FROM brand_memberships",),
    )

    assert outcomes == {"first": "ok", "second": "409 membership-transition-refused"}
    assert _outcome(scratch_app, membership_id) == (applied, 1)


@pytest.mark.committing
def test_an_application_that_loses_the_race_for_the_open_key_is_refused(
    scratch_app: Flask,
) -> None:
    """Both applications find no open one; the second to insert is refused as a duplicate,
    not failed with its whole transaction rolled back (begin_nested() flushed the pending
    membership outside its savepoint)."""
    with scratch_app.app_context():
        session = db.new_session(writer=True)
        try:
            slug = next(_slugs)
            services.create_brand(
                session, caller(session, "admin@qimen-tea.example"), **brand_body(slug)
            )
            session.commit()
        finally:
            session.close()

    def apply(session: Session) -> None:
        services.apply_for_membership(
            session, caller(session), slug, registration_scheme=None, registration_number=None
        )

    insert = ("INSERT INTO brand_memberships",)
    outcomes = race(
        scratch_app,
        in_transaction(scratch_app, apply),
        in_transaction(scratch_app, apply),
        pause_first_before=insert,
        second_signals_after=insert,
    )
    assert outcomes == {"first": "OpenMembershipExists", "second": "ok"}
    with scratch_app.app_context():
        session = db.new_session()
        try:
            brand_id = session.scalar(select(Brand.id).where(Brand.slug == slug))
            opened = session.scalar(
                select(func.count()).select_from(Membership).where(Membership.brand_id == brand_id)
            )
        finally:
            session.close()
    assert opened == 1
