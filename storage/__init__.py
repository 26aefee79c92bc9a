"""Persistence: the Store protocol, the records it returns, and its SQLAlchemy implementation."""

from storage.faults import STORAGE_FAULTS, is_storage_fault
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
from storage.store import BookerQuota, QuotaReached, SlotTaken, Store

__all__ = [
    "STORAGE_FAULTS",
    "BookerQuota",
    "Booking",
    "Connection",
    "LocalEvent",
    "NewBooking",
    "NewShare",
    "OAuthState",
    "OutboxItem",
    "QuotaReached",
    "Share",
    "SlotTaken",
    "SqlStore",
    "Store",
    "User",
    "WorkingHours",
    "is_storage_fault",
    "open_store",
]
