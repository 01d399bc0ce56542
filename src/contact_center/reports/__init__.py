"""Reports over any range of days, read from per-day rollups (docs/service-levels.md)."""
