"""Every certificate (page and JSON) carries its transparency-log index and an inclusion proof
against the latest signed checkpoint, checkable offline with the log's published key."""

from __future__ import annotations

from app.transparency.client import verify_inclusion_bundle


def test_register_json_carries_a_proof_that_verifies_offline(api, demo, client) -> None:
    number = demo["certificate"]["number"]
    body = api(None).get(f"/api/v1/register/certificates/{number}").get_json()
    bundle = body["transparency"]
    assert bundle["log_index"] == body["log_index"] == demo["certificate"]["log_index"]
    vkey = client.get("/log/vkey").get_data(as_text=True).strip()
    checkpoint, entry = verify_inclusion_bundle(bundle, vkey)
    assert checkpoint.size == bundle["tree_size"]
    assert entry.entry_type == "certificate.issued"
    assert entry.record_type == "certificate"
    assert entry.record_id in (number, str(body["id"]))


def test_a_tampered_proof_is_refused(api, demo, client) -> None:
    import pytest

    from app.transparency.client import BundleError

    number = demo["certificate"]["number"]
    bundle = api(None).get(f"/api/v1/register/certificates/{number}").get_json()["transparency"]
    vkey = client.get("/log/vkey").get_data(as_text=True).strip()
    forged = dict(bundle, entry=bundle["entry"].replace("certificate.issued", "certificate.forged"))
    with pytest.raises(BundleError):
        verify_inclusion_bundle(forged, vkey)


def test_the_public_page_shows_the_log_entry_and_checkpoint(client, demo) -> None:
    number = demo["certificate"]["number"]
    page = client.get(f"/certificates/{number}?lang=en", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert "Public transparency log" in page
    assert f"/log/entries/{demo['certificate']['log_index']}" in page
    assert "/log/proof/inclusion?index=" in page
    chinese = client.get(f"/certificates/{number}?lang=zh-CN").get_data(as_text=True)
    assert "透明日志" in chinese
