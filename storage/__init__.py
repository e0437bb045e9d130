"""Persistent state of the bot: SQLModel tables behind a narrow interface of domain operations."""

from storage.store import Store, StoreTx

__all__ = ["Store", "StoreTx"]
