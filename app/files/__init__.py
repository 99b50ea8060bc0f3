"""Uploaded files (logos, audit evidence, product images, report photos), stored in the database.

The bytes live in the same transaction as the record that owns them, so an upload commits or
rolls back with that record. Every file is size-checked and its real type is sniffed from its
magic bytes; the name and type the client claims are never trusted.
"""
