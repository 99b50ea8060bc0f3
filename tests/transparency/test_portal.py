"""The transparency log's page in the portal: the latest checkpoint, the verifier key, recent
entries, and the monitor check, which must catch a rewritten entry, a forked checkpoint and a
key other than the pinned one; the full audit on request."""

from __future__ import annotations

import re
from html import unescape

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.transparency import monitor, services
from app.transparency.models import LogEntry
from app.transparency.note import NoteVerifier, format_verifier_key
from tests.test_pages_matrix import _sign_in
from tests.transparency.conftest import append, fork_checkpoint, log_size, tamper


@pytest.fixture
def grown(session) -> int:
    """Three more committed batches (three more checkpoints); returns the log size."""
    for batch in (2, 3, 4):
        append(session, batch)
        session.commit()
    return log_size(session)


def _text(response) -> str:
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _words(response) -> str:
    """What a person reads: the page without its tags."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _forge_entry(session, index: int) -> None:
    original = session.get(LogEntry, index).entry
    tamper(
        session,
        "log_entries",
        "UPDATE log_entries SET entry = :e WHERE log_index = :i",
        e=original.replace(b'"id":"test-', b'"id":"fake-'),
        i=index,
    )
    session.expire_all()


def test_page_shows_the_checkpoint_key_entries_and_a_passing_check(
    client, demo, session, grown
) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/transparency")
    assert response.status_code == 200
    page = _text(response)
    latest = services.latest_checkpoint(session)
    assert "✓ The monitor check passes." in page
    assert f"the latest checkpoint (size {grown}) is signed by the log's key" in page
    assert f"extends the previous stored one (size {grown - 4} to {grown})" in page
    assert f"the {grown} most recent entries (0 to {grown - 1})" in page
    assert f'<dd id="tree-size">{grown}</dd>' in page
    assert latest.note.strip() in unescape(response.get_data(as_text=True))
    assert demo["log"]["vkey"] in page
    # The newest entries first, each linking to its public JSON.
    assert f'<a href="/log/entries/{grown - 1}">{grown - 1}</a>' in page
    assert "Certificate issued" in page and f"({grown} in all)" in page


def test_page_in_chinese(client, demo, grown) -> None:
    _sign_in(client, demo, "alliance_viewer")
    page = _text(client.get("/portal/transparency?lang=zh-CN"))
    assert "透明日志" in page and "监测核验通过。" in page and "最新检查点" in page


def test_entries_filter_by_type(client, demo, grown) -> None:
    _sign_in(client, demo, "association_staff")
    page = _text(client.get("/portal/transparency?type=key.added"))
    rows = re.findall(r'<tr[^>]*><td[^>]*><a href="/log/entries/\d+">.*?</tr>', page)
    assert rows and all(
        re.search(r'<code class="muted[^"]*">key.added</code>', row) for row in rows
    )
    assert re.search(r"<code[^>]*>log_key:1</code>", rows[-1])  # entry 0 is the log's own key


def test_a_rewritten_entry_fails_the_check_with_evidence(client, demo, session, grown) -> None:
    _forge_entry(session, grown - 6)
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/transparency"))
    assert "✗ The monitor check FAILS" in page
    assert f"entry {grown - 6} as served hashes to" in page
    assert "fake-" in page  # the served entry is kept as evidence
    # The signature itself is fine: only the entries check fails.
    assert f"✓ Passed: the latest checkpoint (size {grown}) is signed" in page


def test_a_forked_previous_checkpoint_fails_the_check(app, client, demo, session, grown) -> None:
    fork_checkpoint(app, session, grown - 4)
    session.expire_all()
    health = monitor.check_log(session)
    consistency = next(check for check in health.checks if check.kind == "consistency")
    assert not health.ok and consistency.status == monitor.CheckStatus.FAILED
    assert "the log signed a history it does not hold" in consistency.detail
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/transparency"))
    assert "✗ Failed:" in page and "the log signed a history it does not hold" in page


def test_a_key_other_than_the_pinned_one_fails_the_signature(client, demo, grown) -> None:
    impostor = format_verifier_key(
        NoteVerifier.from_public_key(
            "brand.example.test/log", Ed25519PrivateKey.generate().public_key()
        )
    )
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/transparency", query_string={"vkey": impostor}))
    assert "✗ The monitor check FAILS" in page
    assert "✗ Failed: the latest checkpoint" in page and "the key you pinned" in page
    pinned = _text(client.get("/portal/transparency", query_string={"vkey": demo["log"]["vkey"]}))
    assert "✓ The monitor check passes." in pinned and "signed by the key you pinned" in pinned


def test_a_malformed_pinned_key_is_explained_next_to_the_field(client, demo) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get("/portal/transparency?vkey=not-a-key")
    assert response.status_code == 422
    page = _text(response)
    assert 'aria-describedby="e-vkey"' in page and "Not a verifier key" in page
    assert 'value="not-a-key"' in page
    # Still checked against the log's own key, but the summary does not claim success.
    assert "The monitor check passes" not in page
    assert re.search(r'id="monitor-verdict"[^>]*>\? Not checked against the key you entered', page)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "✓ Passed: the latest checkpoint" in words and "signed by the log's key" in words
    audit = _text(client.get("/portal/transparency/audit?vkey=not-a-key"))
    assert "The audit found no problem" not in audit
    assert re.search(r'id="audit-verdict"[^>]*>\? Not audited against the key you entered', audit)


def test_full_audit_passes_then_lists_what_was_tampered_with(client, demo, session, grown) -> None:
    _sign_in(client, demo, "government_viewer")
    page = _text(client.get("/portal/transparency/audit"))
    assert "✓ The audit found no problem." in page and f"<dd>{grown}</dd>" in page
    _forge_entry(session, grown - 2)
    response = client.get("/portal/transparency/audit", query_string={"vkey": demo["log"]["vkey"]})
    tampered = _text(response)
    assert response.status_code == 200
    assert "✗ The audit found" in tampered and f"entry {grown - 2}" in tampered
    bad = client.get("/portal/transparency/audit?vkey=nonsense")
    assert bad.status_code == 422 and "Not a verifier key" in _text(bad)


def test_what_the_audit_and_the_monitor_found_reads_in_chinese(client, demo, session, grown):
    _forge_entry(session, grown - 2)
    _sign_in(client, demo, "government_viewer")
    audit = _text(client.get("/portal/transparency/audit?lang=zh-CN"))
    problems = re.search(r'<ul id="audit-problems">(.*?)</ul>', audit).group(1)
    problems = re.sub(r"[A-Za-z0-9+/]{40,}=*", "<hash>", problems)
    assert f"条目 {grown - 2}" in problems and "记录后被篡改" in problems
    # Hashes and names stay as they are; no English sentence is left.
    assert not re.search(r"\b(entry|the stored tree|its row records|but)\b", problems), problems
    monitor_page = _words(client.get("/portal/transparency?lang=zh-CN"))
    assert f"条目 {grown - 2} 按提供的内容" in monitor_page
    assert "as served hashes to" not in monitor_page and "Evidence" not in monitor_page
    assert "提供的条目" in monitor_page  # the evidence's name, in Chinese (with its raw key)
    english = _words(client.get("/portal/transparency?lang=en"))
    assert f"entry {grown - 2} as served hashes to" in english and "Entry as served" in english


def test_check_reads_only_the_recent_entries_of_a_long_log(session, grown) -> None:
    health = monitor.check_log(session, recent=5)
    entries = next(check for check in health.checks if check.kind == "entries")
    assert health.ok
    # From the newest checkpoint at least 5 entries back (the last batches were 3 and 4).
    assert entries.facts == {"from": grown - 7, "to": grown}


def test_anonymous_people_are_sent_to_sign_in(client) -> None:
    response = client.get("/portal/transparency")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


INJECTION = "n+<img src=x onerror=alert(1)>+abc"


@pytest.mark.parametrize("path", ["/portal/transparency", "/portal/transparency/audit"])
def test_markup_in_a_pinned_key_is_shown_as_text(client, demo, path) -> None:
    _sign_in(client, demo, "government_viewer")
    response = client.get(path, query_string={"vkey": INJECTION})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<img src=x" not in page
    error = re.search(r'<span class="field-error" id="e-vkey">(.*?)</span>', page, re.S)
    assert error and "&lt;img src=x onerror=alert(1)&gt;" in error.group(1)
    assert "is not 8 lowercase hexadecimal digits" in error.group(1)


@pytest.mark.parametrize(
    ("vkey", "english", "chinese"),
    [
        ("not-a-key", "joined by “+”", "以“+”连接"),
        ("bad name+01234567+AQ==", "the name must not be empty", "名称不能为空"),
        ("n+ABCDEF01+AQ==", "the key ID “ABCDEF01” is not 8", "密钥 ID“ABCDEF01”不是 8 位"),
        ("n+01234567+not base64", "is not valid base64", "不是有效的 base64"),
        ("n+01234567+AQ==", "is not an Ed25519 key", "不是 Ed25519 公钥"),
        ("n+01234567+AQ" + "A" * 42, "does not match its name", "不相符"),
    ],
)
def test_a_malformed_pinned_key_is_explained_in_the_readers_language(
    client, demo, vkey, english, chinese
) -> None:
    _sign_in(client, demo, "government_viewer")
    page = _words(client.get("/portal/transparency", query_string={"vkey": vkey, "lang": "en"}))
    assert "Not a verifier key: " in page and english in page
    page = _words(
        client.get("/portal/transparency/audit", query_string={"vkey": vkey, "lang": "zh"})
    )
    assert "这不是验证公钥：" in page and chinese in page
    assert "lowercase hex digits" not in page and "base64 key>" not in page  # no English inside
