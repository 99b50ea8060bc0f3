"""Regional brands: the brand and its mark, its co-builders, and its member firms."""
