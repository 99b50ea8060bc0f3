"""The documents verifiers download (credentials, DID documents, status lists, contexts): an
unknown one answers an RFC 9457 problem in JSON whatever the client accepts, never a page."""

from __future__ import annotations

import pytest

from app.auth.models import Organisation, OrgKind

ISSUER = "qimen-tea-association"
ACCEPTS = {
    "browser": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "anything": "*/*",
    "nothing": None,
}


def _problem(response, slug: str) -> dict:
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{slug}"), body
    assert body["status"] == 404 and body["instance"] == response.request.path
    return body


@pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())
@pytest.mark.parametrize(
    ("path", "slug", "title", "detail"),
    [
        (
            "/certificates/QTA-2026-999999/credential.json",
            "certificate-not-found",
            "Unknown certificate",
            "No certificate QTA-2026-999999 in the public register.",
        ),
        (
            "/orgs/nope/did.json",
            "issuer-not-found",
            "Unknown issuer",
            "nope is not a certificate issuer on this site.",
        ),
        (
            "/orgs/hongxiang-tea/did.json",  # a firm, not an issuer
            "issuer-not-found",
            "Unknown issuer",
            "hongxiang-tea is not a certificate issuer on this site.",
        ),
        (
            f"/orgs/{ISSUER}/status/revocation/99",
            "status-list-not-found",
            "Unknown status list",
            f"{ISSUER} has published no revocation status list 99.",
        ),
        (
            f"/orgs/{ISSUER}/status/suspension/99",
            "status-list-not-found",
            "Unknown status list",
            f"{ISSUER} has published no suspension status list 99.",
        ),
        (
            f"/orgs/{ISSUER}/status/expiry/1",
            "status-list-not-found",
            "Unknown status list",
            "No status purpose expiry: status lists are for revocation, suspension.",
        ),
        (
            "/orgs/nope/status/revocation/1",
            "issuer-not-found",
            "Unknown issuer",
            "nope is not a certificate issuer on this site.",
        ),
        # Addresses no route matches, in the same machine areas.
        (
            f"/orgs/{ISSUER}/status/revocation/first",
            "not-found",
            "Not found",
            "No resource at this address.",
        ),
        ("/contexts/brandtrace/v9", "not-found", "Not found", "No resource at this address."),
        ("/.well-known/did.json", "not-found", "Not found", "No resource at this address."),
    ],
)
def test_unknown_documents_are_json_problems_for_every_client(
    client, accept, path, slug, title, detail
) -> None:
    headers = {"Accept": accept} if accept else {}
    body = _problem(client.get(f"{path}?lang=en", headers=headers), slug)
    assert body["title"] == title
    assert body["detail"] == detail


def test_an_issuer_without_a_key_has_no_did_document_yet(client, session) -> None:
    session.add(
        Organisation(
            slug="new-tea-association",
            kind=OrgKind.ASSOCIATION,
            name_zh="新茶协会",
            name_en="New Tea Association",
        )
    )
    session.flush()
    body = _problem(
        client.get(
            "/orgs/new-tea-association/did.json?lang=en", headers={"Accept": ACCEPTS["browser"]}
        ),
        "did-document-not-found",
    )
    assert body["detail"] == "new-tea-association has no signing key yet, so no DID document."


def test_document_problems_speak_the_readers_language(client) -> None:
    body = _problem(client.get("/orgs/nope/did.json?lang=zh-CN"), "issuer-not-found")
    assert body["title"] == "未知签发方"
    assert body["detail"] == "nope 不是本站的证书签发方。"


def test_known_documents_are_still_served(client, demo) -> None:
    number = demo["certificate"]["number"]
    for path in (
        f"/certificates/{number}/credential.json",
        f"/orgs/{ISSUER}/did.json",
        f"/orgs/{ISSUER}/status/revocation/1",
        f"/orgs/{ISSUER}/status/suspension/1",
    ):
        response = client.get(path, headers={"Accept": ACCEPTS["browser"]})
        assert response.status_code == 200, path
        assert response.mimetype == "application/json"


def test_pages_next_to_documents_stay_pages_for_browsers(client) -> None:
    browser = {"Accept": ACCEPTS["browser"]}
    unknown_page = client.get("/certificates/QTA-2026-999999", headers=browser)
    assert unknown_page.status_code == 404 and unknown_page.mimetype == "text/html"
    nowhere = client.get("/certificates/QTA-2026-999999/credential.html", headers=browser)
    assert nowhere.status_code == 404 and nowhere.mimetype == "text/html"
    lot = client.get("/01/09506000134352/10/A.json", headers=browser)
    assert lot.mimetype == "text/html"


def test_document_answers_are_readable_from_other_sites_problems_included(client, demo) -> None:
    number = demo["certificate"]["number"]
    for path, status in (
        (f"/certificates/{number}/credential.json", 200),
        (f"/orgs/{ISSUER}/did.json", 200),
        (f"/orgs/{ISSUER}/status/revocation/1", 200),
        ("/certificates/QTA-2026-999999/credential.json", 404),
        (f"/orgs/{ISSUER}/status/revocation/99", 404),
        ("/orgs/nope/did.json", 404),
    ):
        response = client.get(path, headers={"Origin": "https://wallet.example"})
        assert response.status_code == status, path
        assert response.headers["Access-Control-Allow-Origin"] == "*", path
    page = client.get(f"/certificates/{number}", headers={"Origin": "https://wallet.example"})
    assert "Access-Control-Allow-Origin" not in page.headers
