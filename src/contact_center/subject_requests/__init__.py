"""Data-subject requests under Ley 25.326: access, rectification and deletion
(docs/data-lifecycle.md, "Data-subject requests")."""
