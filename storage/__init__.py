"""Persistence: the Store protocol, the records it returns, and its SQLAlchemy implementation."""

from storage.records import (
    Booking,
    Connection,
    LocalEvent,
    NewBooking,
    NewShare,
    OAuthState,
    OutboxItem,
    Share,
    User,
    WorkingHours,
)
from storage.sql import SqlStore, open_store
from storage.store import SlotTaken, Store

__all__ = [
    "Booking",
    "Connection",
    "LocalEvent",
    "NewBooking",
    "NewShare",
    "OAuthState",
    "OutboxItem",
    "Share",
    "SlotTaken",
    "SqlStore",
    "Store",
    "User",
    "WorkingHours",
    "open_store",
]
