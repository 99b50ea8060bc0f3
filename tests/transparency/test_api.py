"""The log's public read API: checkpoint, vkey, tiles, entries, proofs, and precise refusals."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from app.transparency import merkle, tiles
from app.transparency.note import open_checkpoint, parse_verifier_key
from tests.transparency.conftest import append, log_size
from tests.transparency.oracle import sigstore_verify_checkpoint, sigstore_verify_inclusion

JSON = {"Accept": "application/json"}


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def _problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"].endswith(f"/problems/{slug}"), body
    return body


@pytest.fixture
def grown(session) -> int:
    """Three more committed batches (three more checkpoints); returns the log size."""
    for batch in (2, 3, 4):
        append(session, batch)
        session.commit()
    return log_size(session)


def test_summary_names_the_log_and_its_latest_checkpoint(client, demo, grown) -> None:
    response = client.get("/log", headers=JSON)
    assert response.status_code == 200
    body = response.get_json()
    assert body["origin"] == "brand.example.test/log"
    assert body["vkey"] == demo["log"]["vkey"]
    assert body["tree_size"] == grown
    assert body["checkpoint_url"] == "https://brand.example.test/log/checkpoint"
    checkpoint, _ = open_checkpoint(body["checkpoint"], parse_verifier_key(body["vkey"]))
    assert base64.b64encode(checkpoint.root_hash).decode() == body["root_hash"]


def test_checkpoint_is_a_signed_note_in_text(client, demo, grown) -> None:
    response = client.get("/log/checkpoint")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    note = response.get_data(as_text=True)
    verifier = parse_verifier_key(demo["log"]["vkey"])
    checkpoint, _ = open_checkpoint(note, verifier)
    assert checkpoint.size == grown
    assert sigstore_verify_checkpoint(note, verifier).log_size == grown


def test_vkey_is_published_in_c2sp_form(client, demo) -> None:
    response = client.get("/log/vkey")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == demo["log"]["vkey"] + "\n"


def test_an_entry_is_served_with_its_leaf_hash(client, grown) -> None:
    response = client.get(f"/log/entries/{grown - 1}")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    body = response.get_json()
    canonical = body["canonical"].encode()
    assert _b64(body["leaf_hash"]) == hashlib.sha256(b"\x00" + canonical).digest()
    assert json.loads(canonical) == body["entry"]
    assert body["entry"]["type"] == "certificate.issued"
    assert body["log_index"] == grown - 1


@pytest.mark.parametrize("offset", [0, 1, 10**30])
def test_entries_beyond_the_log_are_not_found(client, grown, offset) -> None:
    body = _problem(client.get(f"/log/entries/{grown + offset}"), 404, "log-entry-not-found")
    assert f"0 to {grown - 1}" in body["detail"]


def test_inclusion_proofs_by_index_verify_with_sigstore(client, grown) -> None:
    for size in (grown - 7, grown - 4, grown):  # the sizes of the last three checkpoints
        for index in range(size):
            response = client.get(f"/log/proof/inclusion?index={index}&tree_size={size}")
            assert response.status_code == 200, response.get_data(as_text=True)
            body = response.get_json()
            assert body["tree_size"] == size
            hashes = [_b64(h) for h in body["hashes"]]
            sigstore_verify_inclusion(
                body["entry"].encode(), index, size, hashes, _b64(body["root_hash"])
            )
            assert f"\n{size}\n" in body["checkpoint"]


def test_inclusion_proof_by_leaf_hash_in_hex_or_base64(client, grown) -> None:
    entry = client.get(f"/log/entries/{grown - 2}").get_json()
    leaf = _b64(entry["leaf_hash"])
    for spelling in (
        leaf.hex(),
        leaf.hex().upper(),
        base64.b64encode(leaf).decode(),
        base64.urlsafe_b64encode(leaf).decode(),
    ):
        response = client.get("/log/proof/inclusion", query_string={"leaf_hash": spelling})
        assert response.status_code == 200, spelling
        assert response.get_json()["log_index"] == grown - 2
        assert response.headers["Cache-Control"] == "public, max-age=10"


def test_a_base64_leaf_hash_pasted_unencoded_into_the_url_is_read(client, grown) -> None:
    # A '+' left unencoded in a query string arrives as a space (form encoding).
    pluses = bytes([0xFB, 0xEF, 0xBE]) * 10 + b"\x00\x01"
    spelling = base64.b64encode(pluses).decode()
    assert spelling.startswith("++++")
    _problem(client.get(f"/log/proof/inclusion?leaf_hash={spelling}"), 404, "leaf-hash-not-found")
    entry = client.get(f"/log/entries/{grown - 2}").get_json()
    leaf = _b64(entry["leaf_hash"])
    unencoded = base64.b64encode(leaf).decode()
    response = client.get(f"/log/proof/inclusion?leaf_hash={unencoded}")
    assert response.status_code == 200 and response.get_json()["log_index"] == grown - 2


@pytest.mark.parametrize(
    "leaf_hash", ["xyz", "ab" * 31, "ab" * 33, base64.b64encode(bytes(31)).decode(), "=" * 44]
)
def test_malformed_leaf_hashes_are_refused(client, grown, leaf_hash) -> None:
    response = client.get("/log/proof/inclusion", query_string={"leaf_hash": leaf_hash})
    body = _problem(response, 400, "malformed-leaf-hash")
    assert body["errors"] == [
        {"field": "leaf_hash", "rule": "format", "message": "64 hex digits or base64 of 32 bytes"}
    ]


def test_an_unknown_leaf_hash_is_not_found(client, grown) -> None:
    response = client.get(
        "/log/proof/inclusion", query_string={"leaf_hash": hashlib.sha256(b"?").hexdigest()}
    )
    _problem(response, 404, "leaf-hash-not-found")


def test_inclusion_proof_refusals_are_precise(client, grown) -> None:
    body = _problem(client.get(f"/log/proof/inclusion?index={grown}"), 400, "index-out-of-range")
    assert body["errors"][0]["field"] == "index"
    assert body["tree_size"] == grown
    body = _problem(
        client.get(f"/log/proof/inclusion?index=0&tree_size={grown + 1}"),
        400,
        "tree-size-beyond-log",
    )
    assert body["latest_tree_size"] == grown
    assert body["errors"][0]["field"] == "tree_size"
    # A size the log never signed: proofs are only given against signed checkpoints.
    body = _problem(
        client.get(f"/log/proof/inclusion?index=0&tree_size={grown - 1}"),
        404,
        "checkpoint-not-found",
    )
    # An index the checkpoint does not include.
    _problem(
        client.get(f"/log/proof/inclusion?index={grown - 2}&tree_size={grown - 4}"),
        400,
        "index-out-of-range",
    )
    body = _problem(client.get("/log/proof/inclusion"), 400, "invalid-proof-request")
    assert body["detail"] == "Give index or leaf_hash: one of them is required."
    assert body["errors"] == [
        {"field": "index", "rule": "required", "message": "give index or leaf_hash"}
    ]
    leaf = hashlib.sha256(b"x").hexdigest()
    body = _problem(
        client.get(f"/log/proof/inclusion?index=0&leaf_hash={leaf}"), 400, "invalid-proof-request"
    )
    assert body["errors"] == [
        {"field": "index", "rule": "one_of", "message": "give index or leaf_hash, not both"}
    ]
    body = _problem(client.get("/log/proof/inclusion?index=-1"), 422, "validation-failed")
    assert body["errors"][0]["field"] == "query.index"
    body = _problem(
        client.get("/log/proof/inclusion?index=0&tree_size=x"), 422, "validation-failed"
    )
    assert body["errors"][0]["field"] == "query.tree_size"
    _problem(
        client.get(f"/log/proof/inclusion?index=0&tree_size={2**64}"), 422, "validation-failed"
    )


def test_consistency_proofs_verify(client, grown) -> None:
    entries = [client.get(f"/log/entries/{i}").get_json() for i in range(grown)]
    leaves = [_b64(entry["leaf_hash"]) for entry in entries]
    for old, new in [(1, grown), (grown - 4, grown), (grown - 7, grown - 4), (grown, grown)]:
        response = client.get(f"/log/proof/consistency?from={old}&to={new}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["from"], body["to"]) == (old, new)
        assert _b64(body["root_hash"]) == merkle.root_hash(leaves[:new])
        merkle.verify_consistency(
            old,
            new,
            merkle.root_hash(leaves[:old]),
            merkle.root_hash(leaves[:new]),
            [_b64(h) for h in body["hashes"]],
        )
    latest = client.get(f"/log/proof/consistency?from={grown - 4}").get_json()
    assert latest["to"] == grown


def test_consistency_proof_refusals_are_precise(client, grown) -> None:
    body = _problem(client.get("/log/proof/consistency?from=0"), 400, "invalid-proof-request")
    assert body["errors"][0]["field"] == "from"
    assert "at least 1" in body["detail"] and "empty tree" in body["detail"]
    body = _problem(
        client.get(f"/log/proof/consistency?from={grown}&to={grown - 4}"),
        400,
        "invalid-proof-request",
    )
    # Says what is wrong with these sizes, not something about the empty tree.
    assert f"The old size {grown} is larger than the new size {grown - 4}" in body["detail"]
    assert "empty tree" not in body["detail"]
    assert body["errors"] == [
        {"field": "from", "rule": "range", "message": f"at most {grown - 4} (the new size)"}
    ]
    _problem(
        client.get(f"/log/proof/consistency?from=1&to={grown + 1}"), 400, "tree-size-beyond-log"
    )
    _problem(
        client.get(f"/log/proof/consistency?from=1&to={grown - 1}"), 404, "checkpoint-not-found"
    )
    body = _problem(client.get("/log/proof/consistency"), 422, "validation-failed")
    assert body["errors"][0]["field"] == "query.from"


@pytest.fixture
def tiled(session) -> int:
    """A log of more than one full tile (256 entries)."""
    append(session, max(0, 300 - log_size(session)))
    session.commit()
    return log_size(session)


def test_tiles_hold_the_tree_per_tlog_tiles(client, session, tiled) -> None:
    entries = [
        client.get(f"/log/entries/{i}").get_json()["canonical"].encode() for i in range(tiled)
    ]
    leaves = [merkle.leaf_hash(e) for e in entries]

    full = client.get("/log/tile/0/000")
    assert full.status_code == 200
    assert full.mimetype == "application/octet-stream"
    assert full.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert tiles.decode_tile(full.get_data()) == leaves[:256]

    width = tiled - 256
    partial = client.get(f"/log/tile/0/001.p/{width}")
    assert partial.status_code == 200
    assert partial.headers["Cache-Control"] == "public, max-age=10"
    assert tiles.decode_tile(partial.get_data(), width) == leaves[256:]
    # A narrower partial tile (what a client holding an older checkpoint asks for) is a prefix.
    older = client.get(f"/log/tile/0/001.p/{width - 1}")
    assert tiles.decode_tile(older.get_data(), width - 1) == leaves[256:-1]

    level_one = client.get("/log/tile/1/000.p/1")
    assert tiles.decode_tile(level_one.get_data(), 1) == [merkle.root_hash(leaves[:256])]

    bundle = client.get("/log/tile/entries/000")
    assert bundle.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert tiles.decode_entry_bundle(bundle.get_data(), 256) == entries[:256]
    last = client.get(f"/log/tile/entries/001.p/{width}")
    assert tiles.decode_entry_bundle(last.get_data(), width) == entries[256:]

    # A client rebuilds the signed root from the tiles alone.
    note = client.get("/log/checkpoint").get_data(as_text=True)
    root = base64.b64decode(note.split("\n")[2])
    from_tiles = tiles.decode_tile(full.get_data()) + tiles.decode_tile(partial.get_data(), width)
    assert merkle.root_hash(from_tiles) == root


def test_tiles_beyond_the_tree_or_misspelt_are_not_found(client, tiled) -> None:
    # One log for all the spellings: building a 300-entry log per case would be slow.
    for path in (
        "0/001",  # not full yet
        "0/001.p/255",  # wider than the tree
        "0/002.p/1",
        "1/000",
        "2/000.p/1",
        "entries/001",
        "0/0",  # non-canonical spellings
        "0/000.p/256",
        "0/000.p/0",
        "0/000.p/01",
        "0/x000/001",
        "00/000",
        "entries/000.p/",
        "../../etc/passwd",
    ):
        _problem(client.get(f"/log/tile/{path}"), 404, "tile-not-found")


def test_the_log_is_in_the_openapi_document_as_public(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    for path in (
        "/log",
        "/log/checkpoint",
        "/log/vkey",
        "/log/tile/{tile}",
        "/log/entries/{index}",
        "/log/proof/inclusion",
        "/log/proof/consistency",
    ):
        operation = paths[path]["get"]
        assert operation["security"] == [{}], path
        assert operation["x-brandtrace-access"] == "public"
    names = {p["name"] for p in paths["/log/proof/inclusion"]["get"]["parameters"]}
    assert names == {"index", "leaf_hash", "tree_size"}
    names = {p["name"] for p in paths["/log/proof/consistency"]["get"]["parameters"]}
    assert names == {"from", "to"}


@pytest.mark.committing
def test_a_log_that_has_not_started_answers_not_found(deployment) -> None:
    client = deployment.test_client()
    for path in ("/log", "/log/checkpoint", "/log/vkey"):
        _problem(client.get(path, headers=JSON), 404, "log-not-started")
        # Machine addresses: a browser gets the same problem document, not a page.
        _problem(client.get(path, headers={"Accept": "text/html"}), 404, "log-not-started")
    _problem(client.get("/log/entries/0"), 404, "log-entry-not-found")
    _problem(client.get("/log/tile/0/000.p/1"), 404, "tile-not-found")
    _problem(client.get("/log/proof/inclusion?index=0"), 404, "log-not-started")


def test_a_malformed_tile_path_is_explained_once(client) -> None:
    body = _problem(client.get("/log/tile/not/a/tile"), 404, "tile-not-found")
    assert body["detail"] == (
        "'tile/not/a/tile' is not a tile path: "
        "expected tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]."
    )
    assert body["detail"].lower().count("tile path") == 1
    wide = _problem(client.get("/log/tile/0/000.p/256"), 404, "tile-not-found")
    assert wide["detail"] == "'tile/0/000.p/256': partial tile width 256 must be below 256."
    odd = _problem(client.get("/log/tile/00/000"), 404, "tile-not-found")
    assert odd["detail"] == "Non-canonical tile path 'tile/00/000' (expected 'tile/0/000')."
