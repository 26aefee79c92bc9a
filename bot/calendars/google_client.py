"""The process-wide pieces of the Google client: one API description, pooled HTTPS connections,
and a thread pool sized for calendar I/O.

Building the `calendar v3` service parses the bundled discovery document (17% of a worker's CPU
when done per call, and ~25 MB of peak memory), so it is built once per endpoint and shared: a
googleapiclient Resource only builds request objects, and each call executes with its own
authorized http. httplib2.Http objects are not thread-safe, so each thread borrows one from a
pool and returns it, which keeps their kept-alive HTTPS connections for the next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import google_auth_httplib2
import httplib2
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

# Calendar calls wait on the network, not the CPU: Python's default pool (cores + 4 threads)
# would cap a worker at ~56 commands/s with 80 ms Google latency.
IO_THREADS = 32

T = TypeVar("T")


@functools.cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=IO_THREADS, thread_name_prefix="google-io")


async def in_thread(work: Callable[..., T], *args: Any) -> T:
    """Run blocking Google client work on the calendar I/O pool."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), work, *args)


@functools.cache
def service(api_endpoint: str) -> Any:
    """The calendar v3 Resource for `api_endpoint`, built once from the bundled document."""
    # This http is never used: every request is executed with a per-call authorized http.
    return build(
        "calendar",
        "v3",
        http=httplib2.Http(),
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": api_endpoint},
    )


class HttpPool:
    """httplib2 connections for one socket timeout; one borrower per connection at a time."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._idle: list[httplib2.Http] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def authorized(self, credentials: Credentials) -> Iterator[Any]:
        with self._lock:
            http = self._idle.pop() if self._idle else httplib2.Http(timeout=self._timeout)
        healthy = False
        try:
            yield google_auth_httplib2.AuthorizedHttp(credentials, http=http)
            healthy = True
        finally:
            # A connection that failed mid-call may be half-read; it is dropped, not reused.
            if not (healthy and self._keep(http)):
                http.close()

    def _keep(self, http: httplib2.Http) -> bool:
        with self._lock:
            if len(self._idle) >= IO_THREADS:
                return False
            self._idle.append(http)
            return True


def execute(pool: HttpPool, api_endpoint: str, credentials: Credentials, make: Any) -> Any:
    """One request built by `make(service)`, executed on a pooled authorized connection."""
    with pool.authorized(credentials) as http:
        return make(service(api_endpoint)).execute(http=http, num_retries=0)


def refusal_reason(error: HttpError) -> str:
    """Why Google refused, read like google-api-python-client's own retry code: errors[0].reason
    first. HttpError.error_details prefers `details[]`, whose ErrorInfo reason for a 403 rate
    limit is RATE_LIMIT_EXCEEDED, which would hide the retryable rateLimitExceeded."""
    try:
        errors = json.loads(error.content.decode("utf-8"))["error"]["errors"]
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("reason", ""))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        pass  # not Google's JSON envelope: fall back to what the client library parsed
    details = getattr(error, "error_details", None)
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("reason", ""))
    return str(getattr(error, "reason", ""))
