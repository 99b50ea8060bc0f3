"""Quality standards of regional brands: versions, clauses, measurable criteria, publication."""
