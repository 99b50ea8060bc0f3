"""brandtrace: regional brand certification and traceability."""
