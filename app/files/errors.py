"""Errors of uploads: each names the rule broken (``max_size``, ``content_type``, ...)."""

from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType


class FileTooLarge(PayloadTooLarge):
    slug = "file-too-large"


class FileTypeRefused(UnsupportedMediaType):
    slug = "file-type-refused"


class FileMissing(InvalidInput):
    slug = "file-missing"
