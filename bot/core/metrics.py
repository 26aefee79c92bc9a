"""A small Prometheus registry (counters, histograms) and a calendar wrapper that meters calls."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from bot.calendars.provider import (
    BusyResult,
    CalendarInfo,
    CalendarProvider,
    CreatedEvent,
    EventDraft,
)
from storage.records import Connection

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Our own work per message is a few milliseconds; p50/p99 need finer steps there.
FINE_BUCKETS = (
    *(n / 10000 for n in range(5, 100, 5)),  # 0.5 ms .. 9.5 ms by 0.5 ms
    *(n / 1000 for n in range(10, 50, 2)),  # 10 ms .. 48 ms by 2 ms
    0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
BUCKETS_OF = {"calbot_message_own_seconds": FINE_BUCKETS}
Labels = tuple[tuple[str, str], ...]

HELP = {
    "calbot_messages_total": ("counter", "Inbound messages by outcome."),
    "calbot_command_seconds": ("histogram", "Time to handle a command, by command."),
    "calbot_message_own_seconds": (
        "histogram",
        "Time to handle an inbound message minus time waiting on calendar providers.",
    ),
    "calbot_outbox_sent_total": ("counter", "Outgoing messages delivered."),
    "calbot_outbox_failed_total": ("counter", "Failed delivery attempts, by permanence."),
    "calbot_calendar_calls_total": ("counter", "Calendar provider calls, by operation."),
    "calbot_calendar_seconds": ("histogram", "Calendar provider call time, by operation."),
}


class Metrics:
    def __init__(self) -> None:
        self._counters: dict[tuple[str, Labels], float] = {}
        self._histograms: dict[tuple[str, Labels], list[float]] = {}
        self._sums: dict[tuple[str, Labels], float] = {}

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        self._counters[key] = self._counters.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        buckets = BUCKETS_OF.get(name, BUCKETS)
        counts = self._histograms.setdefault(key, [0.0] * (len(buckets) + 1))
        counts[bisect.bisect_left(buckets, seconds)] += 1
        self._sums[key] = self._sums.get(key, 0.0) + seconds

    def value(self, name: str, **labels: str) -> float:
        return self._counters.get((name, tuple(sorted(labels.items()))), 0.0)

    def histogram(self, name: str, **labels: str) -> tuple[float, float]:
        """(count, sum) of a histogram."""
        key = (name, tuple(sorted(labels.items())))
        return sum(self._histograms.get(key, [])), self._sums.get(key, 0.0)

    def render(self, gauges: dict[str, float]) -> str:
        lines: list[str] = []
        names = sorted({n for n, _ in self._counters} | {n for n, _ in self._histograms})
        for name in names:
            kind, text = HELP.get(name, ("untyped", name))
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            for (metric, labels), value in sorted(self._counters.items()):
                if metric == name:
                    lines.append(f"{name}{_labels(labels)} {value:g}")
            for (metric, labels), counts in sorted(self._histograms.items()):
                if metric != name:
                    continue
                running = 0.0
                bounds = (*BUCKETS_OF.get(name, BUCKETS), float("inf"))
                for bound, count in zip(bounds, counts, strict=True):
                    running += count
                    edge = "+Inf" if bound == float("inf") else f"{bound:g}"
                    lines.append(f"{name}_bucket{_labels((*labels, ('le', edge)))} {running:g}")
                lines.append(f"{name}_sum{_labels(labels)} {self._sums[(metric, labels)]:g}")
                lines.append(f"{name}_count{_labels(labels)} {running:g}")
        for name, value in sorted(gauges.items()):
            lines += [f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels
    )
    return "{" + inner + "}"


# Seconds spent waiting on calendar providers by the message being handled (shared by the
# tasks it starts, since they copy the context and so the same list).
_provider_seconds: ContextVar[list[float] | None] = ContextVar("provider_seconds", default=None)


@contextmanager
def own_time(metrics: Metrics) -> Iterator[None]:
    """Observe the enclosed block's time minus provider waits as calbot_message_own_seconds."""
    waited = [0.0]
    token = _provider_seconds.set(waited)
    began = time.perf_counter()
    try:
        yield
    finally:
        _provider_seconds.reset(token)
        elapsed = time.perf_counter() - began
        metrics.observe("calbot_message_own_seconds", max(0.0, elapsed - waited[0]))


class MeteredCalendar:
    """Counts and times every call to the wrapped provider (calls per command, latency)."""

    def __init__(self, inner: CalendarProvider, metrics: Metrics) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities
        self._metrics = metrics

    @contextmanager
    def _timed(self, op: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - began
            self._metrics.inc("calbot_calendar_calls_total", op=op, provider=self.name)
            self._metrics.observe("calbot_calendar_seconds", took, op=op)
            waited = _provider_seconds.get()
            if waited is not None:
                waited[0] += took

    async def free_busy(
        self, owners: Sequence[Connection], start: datetime, end: datetime
    ) -> dict[str, BusyResult]:
        with self._timed("free_busy"):
            return await self.inner.free_busy(owners, start, end)

    async def create_event(self, owner: Connection, draft: EventDraft) -> CreatedEvent:
        with self._timed("create_event"):
            return await self.inner.create_event(owner, draft)

    async def update_event(
        self, owner: Connection, event_id: str, draft: EventDraft
    ) -> CreatedEvent:
        with self._timed("update_event"):
            return await self.inner.update_event(owner, event_id, draft)

    async def delete_event(self, owner: Connection, event_id: str) -> bool:
        with self._timed("delete_event"):
            return await self.inner.delete_event(owner, event_id)

    async def calendars(self, owner: Connection) -> list[CalendarInfo]:
        with self._timed("calendars"):
            return await self.inner.calendars(owner)

    async def choose(
        self, owner: Connection, busy: Sequence[str], receives: str
    ) -> list[CalendarInfo]:
        with self._timed("choose"):
            return await self.inner.choose(owner, busy, receives)

    async def calendar_timezone(self, owner: Connection) -> str | None:
        with self._timed("calendar_timezone"):
            return await self.inner.calendar_timezone(owner)

    async def revoke(self, owner: Connection) -> None:
        with self._timed("revoke"):
            await self.inner.revoke(owner)
