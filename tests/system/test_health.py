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


def test_healthz_is_503_when_the_database_does_not_answer(key_dir) -> None:
    from app import create_app
    from tests.conftest import make_test_config

    broken = create_app(make_test_config("postgresql+psycopg://nobody@127.0.0.1:9/none", key_dir))
    client = broken.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"
    assert client.get("/livez").status_code == 200


def test_logs_are_json_lines_with_the_request_id(client) -> None:
    import io
    import json
    import logging

    from app.logs import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("brandtrace")
    logger.addHandler(handler)
    try:
        response = client.get("/livez", headers={"X-Request-ID": "log-line-check-1"})
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line.get("request_id") == "log-line-check-1"]
    assert access and access[-1]["path"] == "/livez" and access[-1]["status"] == 200
    assert access[-1]["time"].endswith("+00:00")
    assert response.status_code == 200


def test_the_rate_limiters_warnings_are_json_lines_too(app) -> None:
    import json
    import logging

    from app.logs import JsonFormatter

    limits = logging.getLogger("flask-limiter")
    ours = [
        h
        for h in logging.getLogger("brandtrace").handlers
        if isinstance(h.formatter, JsonFormatter)
    ]
    assert ours and set(ours) <= set(limits.handlers)
    record = limits.makeRecord(
        "flask-limiter", logging.WARNING, __file__, 1, "rate-limit storage unreachable", (), None
    )
    line = json.loads(ours[0].format(record))
    assert line["logger"] == "flask-limiter" and line["level"] == "WARNING"


def test_browsers_get_html_error_pages_and_machines_problem_json(client) -> None:
    page = client.get(
        "/no-such-page", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "404" in page.get_data(as_text=True)
    machine = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert machine.status_code == 404 and machine.mimetype == "application/problem+json"
