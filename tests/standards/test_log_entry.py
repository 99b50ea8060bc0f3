"""Publishing a standard version is public history: it is appended to the transparency log."""

from __future__ import annotations

from app.transparency.services import entries_for_record


def test_the_demo_standard_publication_is_in_the_log(session, demo) -> None:
    entries = entries_for_record(session, "standard_version", demo["standard"]["version_id"])
    assert len(entries) == 1
    entry = entries[0]
    assert entry.entry_type == "standard_version.published"
    # The log's content hash is the version's own content hash (SHA-256 of its canonical JSON).
    assert demo["standard"]["content_hash"].encode() in entry.entry
