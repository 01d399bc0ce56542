"""Private notes on a conversation and the notifications of their @mentions (docs/workflow.md)."""
