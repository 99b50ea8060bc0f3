"""The consumer scan: GS1 Digital Link resolver, verification page, scans, anomalies, reports.

The resolver reads from every other domain (products and codes, certificates, brands,
traceability, the transparency log) and no domain imports it. ``verdicts`` decides what a
shopper is told from plain facts; ``sources`` gathers those facts from the other domains;
``services`` records scans, raises alerts and stores reports.
"""
