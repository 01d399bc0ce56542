"""The agent inbox: views of the conversations a person works, unread marks, presence
(docs/inbox.md)."""
