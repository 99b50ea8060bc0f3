"""Pure label rendering: QR codes (PNG, SVG) and print-ready label sheets (PDF).

No Flask or database imports: callers pass the text to encode and the identifiers to print.
"""
