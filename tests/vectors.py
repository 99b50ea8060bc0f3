"""Where the standards' published test vectors live (``../shared/vectors`` beside the checkout)."""

import os
from pathlib import Path

VECTORS_DIR = Path(
    os.environ.get(
        "BRANDTRACE_VECTORS_DIR",
        Path(__file__).resolve().parent.parent.parent / "shared" / "vectors",
    )
)


def vector_path(*parts: str) -> Path:
    """Path of a published vector; fails loudly (never skips) when the vectors are missing."""
    path = VECTORS_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"published test vector {path} is missing; set BRANDTRACE_VECTORS_DIR"
        )
    return path
