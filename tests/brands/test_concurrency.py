"""Two simultaneous applications of one firm to one brand open exactly one membership."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, select

from app.activity.models import ActivityRecord
from app.auth.models import User
from app.auth.services import caller_for
from app.brands import services
from app.brands.errors import OpenMembershipExists
from app.brands.models import Brand, CoBuilder, Membership
from app.extensions import db
from tests.brandkit import brand_body

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
