"""Retention (docs/data-lifecycle.md): what "erased" means for each data class, the policies
per class and the daily purge that applies them."""
