from tests.vectors import VECTORS_DIR


def test_published_vectors_are_reachable() -> None:
    assert (VECTORS_DIR / "README.md").is_file(), f"vectors missing at {VECTORS_DIR}"
