"""Association portal: standards, the draft editor (rows without JavaScript), publication and
withdrawal after a confirmation, and two versions compared side by side."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.standards.models import Standard, StandardVersion, VersionStatus
from tests.portalkit import (
    activity_count,
    as_role,
    field_error,
    other_association_admin,
    post,
    text,
    value_of,
)

CLAUSE = ("number", "title_zh", "title_en", "requirement_zh", "requirement_en")


def _standard(session) -> Standard:
    return session.scalar(select(Standard).where(Standard.code == "T/QMTA 001-2024"))


def _rows(name: str, rows: list[dict[str, Any]], count: int) -> list[tuple[str, str]]:
    pairs = [(f"{name}-count", str(count))]
    for index, row in enumerate(rows):
        for key, value in row.items():
            pairs.append((f"{name}-{index}-{key}", value))
    return pairs


def _clause(number: str, **changes: str) -> dict[str, str]:
    row = {
        "number": number,
        "title_zh": f"条款{number}",
        "title_en": f"Clause {number}",
        "requirement_zh": "要求",
        "requirement_en": "A requirement.",
    }
    row.update(changes)
    return row


def _criterion(key: str, **changes: str) -> dict[str, str]:
    row = {
        "key": key,
        "clause": "1",
        "metric_zh": "水分",
        "metric_en": "Moisture",
        "unit": "%",
        "method": "GB 5009.3",
        "type": "number",
        "comparator": "le",
        "threshold": "7",
        "threshold_max": "",
        "allowed_values": "",
        "mandatory": "1",
    }
    row.update(changes)
    return row


def _draft_form(
    version: str | None, clauses: list[dict[str, str]], criteria: list[dict[str, str]]
) -> list[tuple[str, str]]:
    form = [("effective_from", "2026-01-01")]
    if version is not None:
        form.append(("version", version))
    form += _rows("clauses", clauses, max(3, len(clauses)))
    form += _rows("criteria", criteria, max(5, len(criteria)))
    return form


def _new_draft(client, session, label: str = "1.1") -> StandardVersion:
    standard = _standard(session)
    form = _draft_form(
        label,
        [_clause("1"), {k: "" for k in CLAUSE}, _clause("2")],
        [
            _criterion("moisture"),
            _criterion(
                "origin",
                type="choice",
                comparator="le",  # left over in the hidden select: ignored for choices
                threshold="",
                unit="",
                allowed_values="祁门县\n东至县",
                mandatory="",
            ),
        ],
    )
    response = post(client, f"/portal/standards/{standard.id}/versions/new", form)
    assert response.status_code == 303, text(response)[:3000]
    return session.scalar(
        select(StandardVersion).where(
            StandardVersion.standard_id == standard.id, StandardVersion.version == label
        )
    )


def test_standards_list_in_both_languages(app, demo) -> None:
    client = as_role(app, demo, "association_staff")
    english = text(client.get("/portal/standards?lang=en"))
    assert "T/QMTA 001-2024" in english and "Published, in force" in english
    assert "Create a standard" not in english  # staff draft; admins create standards
    chinese = text(client.get("/portal/standards?lang=zh-CN"))
    assert "本协会品牌的标准" in chinese and "已发布，现行有效" in chinese


def test_staff_drafts_a_version_with_blank_and_removed_rows(app, demo, session) -> None:
    client = as_role(app, demo, "association_staff")
    draft = _new_draft(client, session)
    assert draft.status == VersionStatus.DRAFT
    assert [c.number for c in draft.clauses] == ["1", "2"]  # the blank row was ignored
    origin = draft.criteria[1]
    assert origin.allowed_values == ["祁门县", "东至县"] and origin.comparator is None
    assert not origin.is_mandatory and draft.criteria[0].threshold == 7.0
    # The editor shows the draft again, with empty rows to add more.
    editor = text(client.get(f"/portal/standard-versions/{draft.id}/edit"))
    assert value_of(editor, "criteria-1-key") == "origin"
    assert 'name="clauses-3-number"' in editor and 'name="criteria-4-key"' in editor

    # Ticking "remove" drops a row.
    form = _draft_form(
        None, [_clause("1"), {**_clause("2"), "remove": "1"}], [_criterion("moisture")]
    )
    assert post(client, f"/portal/standard-versions/{draft.id}/edit", form).status_code == 303
    session.refresh(draft)
    assert [c.number for c in draft.clauses] == ["1"] and len(draft.criteria) == 1


def test_editor_errors_land_on_the_row_they_are_about(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    standard = _standard(session)
    form = _draft_form(
        "1.2",
        [_clause("1"), {k: "" for k in CLAUSE}, _clause("2", title_en="")],
        [_criterion("moisture", clause="9"), _criterion("ash", threshold="abc")],
    )
    response = post(client, f"/portal/standards/{standard.id}/versions/new", form)
    assert response.status_code == 422
    html = text(response)
    # Form row 2 (the third), not list position 1: the blank row in between is skipped.
    assert field_error(html, "clauses-2-title_en") == "Required."
    assert field_error(html, "criteria-1-threshold") == "Enter a number."
    assert value_of(html, "criteria-1-threshold") == "abc" and value_of(html, "version") == "1.2"

    # Rules of the service (a criterion naming a clause that does not exist).
    form = _draft_form("1.2", [_clause("1")], [_criterion("moisture", clause="9")])
    response = post(client, f"/portal/standards/{standard.id}/versions/new", form)
    assert response.status_code == 422
    assert field_error(text(response), "criteria-0-clause") == "no clause 9 in this version"
    assert len(_standard(session).versions) == 1


def test_duplicate_version_label_is_refused_next_to_the_field(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin", lang="zh-CN")
    standard = _standard(session)
    form = _draft_form("1.0", [_clause("1")], [_criterion("moisture")])
    response = post(client, f"/portal/standards/{standard.id}/versions/new", form)
    assert response.status_code == 409
    assert field_error(text(response), "version") == "已被占用，或重复填写。"


def test_publish_after_confirmation_and_a_second_click_changes_nothing(app, demo, session) -> None:
    draft = _new_draft(as_role(app, demo, "association_staff"), session)
    client = as_role(app, demo, "association_admin")
    confirm = text(client.get(f"/portal/standard-versions/{draft.id}/publish"))
    assert "becomes superseded" in confirm and "It becomes immutable" in confirm
    response = post(client, f"/portal/standard-versions/{draft.id}/publish")
    assert response.status_code == 303
    session.refresh(draft)
    assert draft.status == VersionStatus.PUBLISHED and len(draft.content_hash) == 64
    assert draft.content_hash in text(client.get(response.headers["Location"]))
    before = activity_count(session)
    again = post(client, f"/portal/standard-versions/{draft.id}/publish")
    assert again.status_code == 409 and activity_count(session) == before
    previous = session.scalar(
        select(StandardVersion).where(StandardVersion.id == demo["standard"]["version_id"])
    )
    session.refresh(previous)
    assert previous.status == VersionStatus.SUPERSEDED
    # A published version no longer opens in the editor.
    edit = client.get(f"/portal/standard-versions/{draft.id}/edit")
    assert edit.status_code == 303
    assert "can no longer change" in text(client.get(edit.headers["Location"]))


def test_compare_two_versions_side_by_side(app, demo, session) -> None:
    draft = _new_draft(as_role(app, demo, "association_admin"), session)
    client = as_role(app, demo, "association_admin")
    standard = _standard(session)
    first = demo["standard"]["version_id"]
    html = text(client.get(f"/portal/standards/{standard.id}/compare?from={first}&to={draft.id}"))
    assert "version 1.0 and version 1.1 side by side" in html
    assert "Removed" in html and "Criterion pesticide_residues" in html
    # The origin criterion became optional: a changed field, named in words and as its path.
    assert 'mandatory <code class="muted">mandatory</code>' in html
    chinese = text(
        client.get(f"/portal/standards/{standard.id}/compare?from={first}&to={draft.id}&lang=zh-CN")
    )
    assert "版本比较" in chinese and "此版本中没有" in chinese


def test_withdraw_needs_a_reason(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    version_id = demo["standard"]["version_id"]
    page = text(client.get(f"/portal/standard-versions/{version_id}/withdraw"))
    assert "Withdrawal is final." in page
    empty = post(client, f"/portal/standard-versions/{version_id}/withdraw", {"reason": " "})
    assert empty.status_code == 422 and field_error(text(empty), "reason")
    version = session.get(StandardVersion, version_id)
    assert version.status == VersionStatus.PUBLISHED
    done = post(
        client, f"/portal/standard-versions/{version_id}/withdraw", {"reason": "replaced by law"}
    )
    assert done.status_code == 303
    session.refresh(version)
    assert (
        version.status == VersionStatus.WITHDRAWN and version.withdrawal_reason == "replaced by law"
    )


def test_create_a_standard_and_discard_its_draft(app, demo, session) -> None:
    client = as_role(app, demo, "association_admin")
    form = {
        "brand": "qimen-black-tea",
        "code": "t/qmta  002-2026",
        "title_zh": "包装",
        "title_en": "Packaging",
    }
    created = post(client, "/portal/standards/new", form)
    assert created.status_code == 303 and created.headers["Location"].endswith("/versions/new")
    duplicate = post(client, "/portal/standards/new", form)
    assert duplicate.status_code == 409 and field_error(text(duplicate), "code")
    standard = session.scalar(select(Standard).where(Standard.code == "T/QMTA 002-2026"))
    form = _draft_form("0.1", [_clause("1")], [_criterion("moisture")])
    assert post(client, f"/portal/standards/{standard.id}/versions/new", form).status_code == 303
    draft = session.scalar(
        select(StandardVersion).where(StandardVersion.standard_id == standard.id)
    )
    assert post(client, f"/portal/standard-versions/{draft.id}/discard").status_code == 303
    assert (
        session.scalar(select(StandardVersion).where(StandardVersion.standard_id == standard.id))
        is None
    )


def test_another_association_sees_none_of_it(app, demo, session) -> None:
    draft = _new_draft(as_role(app, demo, "association_admin"), session)
    other = other_association_admin(app, session)
    standard = _standard(session)
    for path in (
        f"/portal/standards/{standard.id}",
        f"/portal/standard-versions/{draft.id}",
        f"/portal/standards/{standard.id}/compare",
    ):
        assert other.get(path, headers={"Accept": "text/html"}).status_code == 404, path
    assert post(other, f"/portal/standard-versions/{draft.id}/publish").status_code == 404
    assert "T/QMTA" not in text(other.get("/portal/standards"))
    session.refresh(draft)
    assert draft.status == VersionStatus.DRAFT
