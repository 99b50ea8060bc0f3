def test_livez_answers_without_database(client) -> None:
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_checks_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_every_response_carries_a_request_id_and_security_headers(client) -> None:
    response = client.get("/livez")
    assert len(response.headers["X-Request-ID"]) >= 8
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_sane_incoming_request_id_is_kept(client) -> None:
    response = client.get("/livez", headers={"X-Request-ID": "abc123-trace-me"})
    assert response.headers["X-Request-ID"] == "abc123-trace-me"
    hostile = client.get("/livez", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert hostile.headers["X-Request-ID"] != "<script>alert(1)</script>"
