"""Routing: conversations waiting in a team's queue are assigned to available members with free
capacity (docs/workflow.md)."""
