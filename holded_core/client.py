"""The one HTTP client: auth, the shared rate budget, retries, error detection, pagination, the proxy guard.

Everything that talks to Holded (source, destination, local runner, proxy) goes through `HoldedClient`.

Requests are counted in `ClientStats.requests`: every attempt sent, retries and refused ones included, as
Holded counts them against its windows (shared/holded-api/v2/README.md, "Rate limits and quota"). A
caller attributes requests to what made them with `attributed(label)` (the sync engine labels each
listing with its streams): every request sent while it is active, in this thread or in the client's and
the caller's worker threads started through `in_context`, is also counted under that label in
`ClientStats.by_label`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from holded_core.auth import build_auth
from holded_core.config import ClientConfig, parse_config
from holded_core.errors import (
    HoldedAmbiguousWriteError,
    HoldedApiError,
    HoldedAuthError,
    HoldedConnectionError,
    HoldedError,
    HoldedHtmlError,
    HoldedInvalidResponseError,
    HoldedMissingPermissionError,
    HoldedNotFoundError,
    HoldedPaginationError,
    HoldedPermissionError,
    HoldedQuotaError,
    HoldedRateLimitError,
    HoldedRequestError,
    HoldedServerError,
    HoldedUnreachableError,
    HoldedUnsafeRequestError,
)
from holded_core.ratelimit import budget_for
from holded_core.retry import RETRY_STATUSES, RetryPolicy, parse_retry_after
from holded_core.secrets import get_logger

logger = get_logger(__name__)

PAGE_SIZE = 500  # fixed by Holded v1; a shorter page is the last one
USER_AGENT = "holded-connector/0.1 (+python-requests)"
CONNECT_TIMEOUT = 10.0
# Until the host has answered once, a connection that cannot be made (refused, unknown host) means a wrong
# `base_url` or a host that is down, not a blip: this many quick retries, this far apart (doubling), then
# give up. A connect timeout is not retried then: the system already re-sent its SYN for CONNECT_TIMEOUT.
FIRST_CONTACT_RETRIES = 2
FIRST_CONTACT_DELAY = 0.25
# A `{"status": 0, ...}` dict is a failure envelope only when it has no other keys: documents and leads
# carry a business `status` field that can be 0 too.
_ENVELOPE_KEYS = frozenset({"status", "info", "msg", "message", "id", "error", "errors"})
# What the requests sent now are made for (a listing's label), see `HoldedClient.attributed`.
_LABEL: contextvars.ContextVar[Hashable | None] = contextvars.ContextVar("holded_request_label", default=None)


def in_context(pool: Executor, fn: Callable[..., Any], *args: Any) -> Future[Any]:
    """`pool.submit(fn, *args)`, run in a copy of the caller's context: requests it sends are attributed
    as the caller's are (`HoldedClient.attributed`). One copy per task: a context runs in one thread at a time."""
    return pool.submit(contextvars.copy_context().run, fn, *args)


@dataclass
class Page:
    number: int
    records: list[dict[str, Any]]
    received: int = -1  # records Holded sent, before repeats of earlier pages were dropped
    done: bool | None = None  # a cursor page says whether more follow; a v1 page is last when short

    def __post_init__(self) -> None:
        if self.received < 0:
            self.received = len(self.records)

    @property
    def last(self) -> bool:
        return self.done if self.done is not None else self.received < PAGE_SIZE


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    retry_wait_seconds: float = 0.0
    budget_wait_seconds: float = 0.0
    by_status: Counter[str] = field(default_factory=Counter)
    # Holded API v2's last word on its windows: window -> (limit, remaining, reset unix seconds).
    rate_limit: dict[str, tuple[float | None, float, float | None]] = field(default_factory=dict)
    # Requests by what made them (`HoldedClient.attributed`); the rest made outside any label.
    by_label: Counter[Hashable] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **deltas: float) -> None:
        with self._lock:
            for name, value in deltas.items():
                setattr(self, name, getattr(self, name) + value)

    def count_request(self, waited: float) -> None:
        """One request sent (after `waited` seconds on the rate budget), under the current label if any."""
        label = _LABEL.get()
        with self._lock:
            self.requests += 1
            self.budget_wait_seconds += waited
            if label is not None:
                self.by_label[label] += 1

    def requests_of(self, label: Hashable) -> int:
        """Requests sent under `label` so far."""
        with self._lock:
            return self.by_label.get(label, 0)

    def count_status(self, status: str) -> None:
        with self._lock:
            self.by_status[status] += 1


@dataclass
class _Failure:
    """A retryable failure of one attempt."""

    reason: str
    error: type[HoldedError]
    sent: bool  # the request reached the server (a POST may have been applied)
    status_code: int | None = None
    retry_after: float | None = None
    holded_message: str | None = None
    first_contact_retries: int | None = None  # the retry limit while the host has never answered; None: no limit


class HoldedClient:
    def __init__(
        self,
        config: ClientConfig | Mapping[str, Any],
        *,
        on_refresh_token: Callable[[str], None] | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.config = config if isinstance(config, ClientConfig) else parse_config(config)
        self.auth = build_auth(self.config.credentials, on_refresh_token=on_refresh_token)
        self._base = urlsplit(self.config.base_url)
        self.budget = budget_for(f"{self.auth.fingerprint}@{self._base.netloc}", self.config.requests_per_second)
        self.retry = retry_policy or RetryPolicy(
            max_retries=self.config.max_retries, max_total_seconds=self.config.max_retry_seconds
        )
        self.stats = ClientStats()
        self._reached = False  # the host has answered at least once (any HTTP status)
        self._session = requests.Session()
        pool = max(10, 2 * self.config.read_ahead + 4)
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})

    def __repr__(self) -> str:
        return f"HoldedClient(base_url={self.config.base_url!r}, auth={self.auth.kind})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HoldedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    @contextlib.contextmanager
    def attributed(label: Hashable) -> Iterator[None]:
        """Count the requests sent inside the block (and by tasks started with `in_context`) under `label`
        in `stats.by_label`, as well as in the total.

        Args:
            label: what the requests are made for (the sync engine: a listing's stream names).
        """
        token = _LABEL.set(label)
        try:
            yield
        finally:
            _LABEL.reset(token)

    # ------------------------------------------------------------------ requests

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        *,
        idempotent: bool | None = None,
        abandon: threading.Event | None = None,
    ) -> Any:
        """Send one call to `base_url + path` and return the decoded JSON.

        Retries 429, 5xx, resets, timeouts and cut bodies with backoff. A non-idempotent call (POST by
        default) is retried only when it surely was not applied (429, connection refused); otherwise it
        raises `HoldedAmbiguousWriteError` so the caller can look the object up first. Setting `abandon`
        stops further retries (read-ahead uses it for pages nobody will read).

        Until the host has answered this client once, a connection that cannot be made is retried only
        FIRST_CONTACT_RETRIES times, FIRST_CONTACT_DELAY apart (doubling), and a connect timeout not at all:
        a wrong `base_url` or a host that is down then fails in about a second, not after minutes of
        backoff. Once the host has answered, the same failures get the full retry policy.

        Raises:
            HoldedAuthError: the credential was refused (HTTP 401), after one refresh where the auth has one.
            HoldedUnreachableError: no connection could be made, after the retries above.
            HoldedError: the other typed failures (see `holded_core.errors`), retryable ones once retries ran out.
        """
        method = method.upper()
        url, shown = self._url_for(path)
        if idempotent is None:
            idempotent = method != "POST"
        deadline = time.monotonic() + self.retry.max_total_seconds
        attempt = 0
        reauthenticated = False
        while True:
            waited = self.budget.acquire()
            self.stats.count_request(waited)
            outcome = self._attempt(method, url, shown, params, json)
            if isinstance(outcome, _Failure) and outcome.status_code == 401:
                if not reauthenticated and self.auth.refresh_after_unauthorized():
                    reauthenticated = True
                    continue
                raise HoldedAuthError(
                    "Holded refused the credential (HTTP 401)",
                    method=method,
                    path=shown,
                    status_code=401,
                    holded_message=outcome.holded_message,
                )
            if not isinstance(outcome, _Failure):
                self.budget.on_success()
                return outcome.value
            attempt += 1
            if not idempotent and outcome.sent:
                raise HoldedAmbiguousWriteError(
                    f"{outcome.reason}; not retried because the write may have been applied",
                    method=method,
                    path=shown,
                    status_code=outcome.status_code,
                    holded_message=outcome.holded_message,
                )
            delay = self.retry.delay(attempt, outcome.retry_after)
            max_retries = self.retry.max_retries
            first_contact = outcome.first_contact_retries is not None and not self._reached
            if first_contact:
                max_retries = min(max_retries, outcome.first_contact_retries or 0)
                delay = FIRST_CONTACT_DELAY * 2 ** (attempt - 1)
            if attempt > max_retries or time.monotonic() + delay > deadline:
                raise outcome.error(
                    f"{outcome.reason}; gave up after {attempt} attempt{'s' if attempt > 1 else ''}",
                    method=method,
                    path=shown,
                    status_code=outcome.status_code,
                    holded_message=outcome.holded_message,
                )
            # Quick first-contact retries end in one error that says it all: no warning line for each.
            logger.log(
                logging.INFO if first_contact else logging.WARNING,
                "%s %s: %s; retry %d/%d in %.1fs",
                method,
                shown,
                outcome.reason,
                attempt,
                max_retries,
                delay,
            )
            self.stats.add(retries=1, retry_wait_seconds=delay)
            if abandon is not None:
                if abandon.wait(delay):
                    raise outcome.error(f"{outcome.reason}; abandoned", method=method, path=shown)
            else:
                time.sleep(delay)

    def _attempt(
        self, method: str, url: str, shown: str, params: Mapping[str, Any] | None, json: Any
    ) -> _Success | _Failure:
        try:
            resp = self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers=self.auth.headers(),
                timeout=(CONNECT_TIMEOUT, self.config.timeout_seconds),
            )
        except requests.ConnectTimeout:
            self.stats.count_status("connect timeout")
            return _Failure("connect timeout", HoldedUnreachableError, sent=False, first_contact_retries=0)
        except requests.ConnectionError as exc:
            # Not connected (nothing sent) vs. reset after sending: only the former is safe to repeat for a POST.
            unsent = _unsent_reason(exc)
            self.stats.count_status(unsent or "connection reset")
            if unsent is None:
                return _Failure("connection reset", HoldedConnectionError, sent=True)
            return _Failure(unsent, HoldedUnreachableError, sent=False, first_contact_retries=FIRST_CONTACT_RETRIES)
        except requests.Timeout:
            self.stats.count_status("timeout")
            return _Failure("read timeout", HoldedConnectionError, sent=True)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            self.stats.count_status("truncated")
            return _Failure("answer cut short in transfer", HoldedInvalidResponseError, sent=True)
        self._reached = True
        status = resp.status_code
        self.stats.count_status(str(status))
        if status == 429 and resp.headers.get("X-RateLimit-Window", "").lower() == "month":
            reset = _number(resp.headers.get("X-RateLimit-Reset"))
            raise HoldedQuotaError(
                "Holded's monthly request quota is spent (HTTP 429, window month)",
                reset=reset,
                method=method,
                path=shown,
                status_code=429,
                holded_message=_holded_message(resp),
            )
        self._follow_rate_headers(resp.headers)
        if status in RETRY_STATUSES or status == 401:
            info = _holded_message(resp)
            retry_after = parse_retry_after(resp.headers.get("Retry-After")) if status == 429 else None
            if status == 429:
                self.budget.on_throttled(retry_after)
            return _Failure(
                f"HTTP {status}" + (f" ({info})" if info else ""),
                HoldedRateLimitError if status == 429 else HoldedServerError,
                sent=status != 429,  # a 429 is answered before anything is applied
                status_code=status,
                retry_after=retry_after,
                holded_message=info,
            )
        try:
            return _Success(_decode(resp, method, shown))
        except HoldedInvalidResponseError as exc:
            return _Failure(exc.message, HoldedInvalidResponseError, sent=True, status_code=status)

    def _follow_rate_headers(self, headers: Mapping[str, str]) -> None:
        """Holded API v2 says how much of its window is left (`X-RateLimit-Remaining`, `-Reset` in unix
        seconds, `-Window`): at 0 left, the whole process waits for the reset instead of earning a 429."""
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        if remaining is None:
            return
        window = headers.get("X-RateLimit-Window", "minute").lower()
        reset = _number(headers.get("X-RateLimit-Reset"))
        self.stats.rate_limit[window] = (_number(headers.get("X-RateLimit-Limit")), remaining, reset)
        if remaining <= 0 and reset is not None and window != "month":
            wait = min(max(0.0, reset - time.time()), self.retry.max_total_seconds)
            logger.warning("Holded's %s request window is used up: waiting %.0fs for it to reset", window, wait)
            self.budget.pause_for(wait)

    def _url_for(self, path: str) -> tuple[str, str]:
        """Resolve a path under the base URL, refusing anything that could leave it (the proxy guard)."""

        def refuse(why: str) -> HoldedUnsafeRequestError:
            return HoldedUnsafeRequestError(
                f"refused to send the credential: {why}; give a path under {self.config.base_url}",
                path=str(path)[:200],
                method="-",
            )

        if not isinstance(path, str) or not path.strip():
            raise refuse("empty path")
        if "://" in path or path.startswith("//") or "\\" in path or "#" in path:
            raise refuse("absolute URLs and other hosts are not allowed")
        raw_path, _, query = path.partition("?")
        decoded = raw_path
        for _ in range(3):  # double-encoded escapes (%252e%252e) too
            decoded = unquote(decoded)
        if any(segment in ("..", ".") for segment in decoded.split("/")):
            raise refuse("'..' path segments are not allowed")
        if "://" in decoded or decoded.startswith("//") or "\\" in decoded or "@" in decoded:
            raise refuse("encoded host or credentials in the path")
        url = f"{self.config.base_url}/{raw_path.lstrip('/')}" + (f"?{query}" if query else "")
        parts = urlsplit(url)
        base_path = self._base.path.rstrip("/")
        if (parts.scheme, parts.netloc) != (self._base.scheme, self._base.netloc) or not parts.path.startswith(
            base_path + "/"
        ):
            raise refuse("the path leaves the configured base URL")
        return url, "/" + raw_path.lstrip("/")

    # ---------------------------------------------------------------- pagination

    def fetch_page(
        self, path: str, params: Mapping[str, Any] | None, page: int, abandon: threading.Event | None = None
    ) -> Page:
        data = self.request("GET", path, params={**(params or {}), "page": page}, abandon=abandon)
        return Page(page, _records_of(data, path))

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        read_ahead: int | None = None,
        pagination: str | None = None,
        page_size: int | None = None,
        expected_records: int | None = None,
    ) -> Iterator[Page]:
        """A listing's pages, lazily, as the route paginates.

        Args:
            path: the list route under `base_url`, e.g. `/invoicing/v1/contacts` or `/v2/contacts`.
            params: query parameters besides the pagination's own.
            read_ahead: v1 pages fetched in parallel ahead of the one consumed (default: the config's).
                Once page 1 shows the list is longer than a page, the next N pages are fetched while the
                current one is consumed; whatever was fetched beyond the last page is discarded. At most
                N+1 pages are held.
            pagination: `page` (Holded v1: `?page=N` from 1, 500 a page, the first short page is the
                last), `cursor` (Holded v2: `?limit=&cursor=`, answers `{items, cursor, has_more}`; pages
                follow one another, so no read-ahead) or `none` (one request; Holded answers everything).
                Default: `cursor` for a `/v2/` route, else `page`.
            page_size: `limit` asked of a cursor listing (the resource's maximum: fewer requests).
            expected_records: how many records the last complete listing of this route had. Read-ahead
                never asks for a page past the last one that many records fill (a page past the end is a
                request spent for nothing: requests are money); past it, and with 0 (nothing known), pages
                are read one after another, so a listing costs exactly the pages it needs. None: read-ahead
                unbounded (up to `read_ahead` pages past the end may be asked and discarded).

        Yields:
            `Page`s whose records are each listed once: a record already yielded by an earlier page of
            this listing (page-number listings shift when records are created while they are read) is
            left out, so counts are distinct records.

        Raises:
            HoldedPaginationError: the listing does not advance: a page holds only records already
                listed (a route that ignores `page`, shared/holded-api/README.md, "Some list routes
                ignore `page`"; v2 ignores it everywhere), or a cursor comes back again. Raised at the
                first such page; the records before it were yielded.
            HoldedError: whatever a request raises.
        """
        if pagination is None:
            pagination = "cursor" if path.lstrip("/").startswith("v2/") else "page"
        if pagination == "none":
            data = self.request("GET", path, params=dict(params or {}))
            yield Page(1, _records_of(data, path))
            return
        if pagination == "cursor":
            pages = self._iter_pages_cursor(path, params, page_size)
        else:
            ahead = self.config.read_ahead if read_ahead is None else read_ahead
            pages = (
                self._iter_pages_sequential(path, params)
                if ahead <= 0 or expected_records == 0
                else self._iter_pages_ahead(
                    path, params, ahead, None if expected_records is None else expected_records // PAGE_SIZE + 1
                )
            )
        listed = _Distinct(path)
        try:
            for page in pages:
                yield listed.check(page)
                if page.last:
                    return
        finally:
            pages.close()

    def _iter_pages_cursor(self, path: str, params: Mapping[str, Any] | None, limit: int | None) -> Iterator[Page]:
        query = {**(params or {}), **({"limit": limit} if limit else {})}
        cursors: set[str] = set()
        number = 0
        while True:
            number += 1
            data = self.request("GET", path, params=query)
            records, cursor, more = _cursor_page(data, path)
            yield Page(number, records, done=not more)
            if not more:
                return
            if not cursor or cursor in cursors:
                raise HoldedPaginationError(
                    f"page {number} says there is more but gives {'no' if not cursor else 'an already used'} "
                    "cursor: the listing stops here (it would never end)",
                    method="GET",
                    path=path,
                )
            cursors.add(cursor)
            query["cursor"] = cursor

    def _iter_pages_sequential(self, path: str, params: Mapping[str, Any] | None) -> Iterator[Page]:
        number = 1
        while True:
            page = self.fetch_page(path, params, number)
            yield page
            if page.last:
                return
            number += 1

    def _iter_pages_ahead(
        self, path: str, params: Mapping[str, Any] | None, ahead: int, last_expected: int | None
    ) -> Iterator[Page]:
        """Pages read `ahead` at a time up to `last_expected` (None: to the end), then one after another."""
        first = self.fetch_page(path, params, 1)
        yield first
        if first.last:  # most lists fit one page: no speculative requests for them
            return
        pool = ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="holded-page")
        pending: deque[Future[Page]] = deque()
        abandon = threading.Event()
        next_number = 2
        interrupted = False
        try:
            while True:
                while len(pending) < ahead and (last_expected is None or next_number <= last_expected or not pending):
                    pending.append(in_context(pool, self.fetch_page, path, params, next_number, abandon))
                    next_number += 1
                page = pending.popleft().result()
                yield page
                if page.last:
                    return
        except (KeyboardInterrupt, SystemExit):
            interrupted = True
            raise
        finally:
            abandon.set()  # pages past the end or after an early close: stop their retries
            for future in pending:
                future.cancel()
            # Wait for the page requests already sent (one request each, no retry): when the listing ends,
            # every request made for it is made and counted (its cost is final, `ClientStats.by_label`).
            # Not on an interrupt: Ctrl-C stops now rather than after the requests in flight time out.
            pool.shutdown(wait=not interrupted, cancel_futures=True)

    def usage(self) -> Usage:
        """The account's monthly request quota, read from Holded API v2 (one request, which counts).

        Returns:
            `Usage`: period, requests used this month (v1 and v2), the limit, and per-route counts.

        Raises:
            HoldedMissingPermissionError: the token lacks `developers:usage.read`.
            HoldedError: any other failure of the call.
        """
        data = self.get("/v2/usage")
        if not isinstance(data, dict):
            raise HoldedInvalidResponseError("expected the usage object", method="GET", path="/v2/usage")
        limit = data.get("limit")
        routes = data.get("secondary_usages")
        return Usage(
            period=str(data.get("period") or ""),
            used=int(data.get("usage") or 0),
            limit=int(limit) if isinstance(limit, (int, float)) else None,
            by_route={str(k): int(v) for k, v in routes.items()} if isinstance(routes, dict) else {},
        )

    def iter_records(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        read_ahead: int | None = None,
        pagination: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a listing, lazily (see `iter_pages` for the arguments and errors)."""
        for page in self.iter_pages(path, params, read_ahead=read_ahead, pagination=pagination, page_size=page_size):
            yield from page.records


@dataclass
class _Success:
    value: Any


@dataclass(frozen=True)
class Usage:
    """What Holded API v2 says of the account's monthly quota (`GET /v2/usage`): v1 and v2 calls
    together (shared/holded-api/v2/README.md, "Rate limits and quota")."""

    period: str  # "2026-11"
    used: int
    limit: int | None  # None: the plan has no monthly limit
    by_route: dict[str, int] = field(default_factory=dict)  # Holded's `secondary_usages`

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


class _Distinct:
    """The ids one listing has yielded so far: drops repeats, and stops a listing that does not advance."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.ids: set[str] = set()

    def check(self, page: Page) -> Page:
        fresh: list[dict[str, Any]] = []
        repeated = 0
        for record in page.records:
            ident = record.get("id") if isinstance(record, dict) else None
            if ident is None:  # nothing to tell it by (ledger lines): kept as listed
                fresh.append(record)
            elif (key := str(ident)) in self.ids:
                repeated += 1
            else:
                self.ids.add(key)
                fresh.append(record)
        if repeated and repeated == len(page.records):
            raise HoldedPaginationError(
                f"page {page.number} repeats the {repeated} records already listed: Holded ignores `page` on "
                "this route, so the listing stops here (it would never end)",
                method="GET",
                path=self.path,
            )
        if repeated:
            logger.info("GET %s: page %d repeats %d records listed on earlier pages", self.path, page.number, repeated)
            page.records = fresh
        return page


def _unsent_reason(exc: requests.ConnectionError) -> str | None:
    """Why no connection was made ("host name not found", "connection refused", ...), or None when the
    connection was made and then broke (the request may have reached the server)."""
    cause = exc.args[0] if exc.args else None
    cause = getattr(cause, "reason", cause)  # urllib3's MaxRetryError wraps the cause
    if isinstance(cause, NameResolutionError):
        return "host name not found"
    if isinstance(cause, NewConnectionError) or "ConnectionRefused" in repr(exc):
        return "connection refused" if "refused" in str(cause).lower() else "could not connect"
    return None


def _holded_message(resp: requests.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    return _message_in(body)


def _message_in(body: Any) -> str | None:
    """Holded's own explanation in a decoded answer (`info`, `message`...), if it gives one."""
    if isinstance(body, dict):
        for key in ("info", "message", "msg", "error_description", "error", "detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    return None


def _decode(resp: requests.Response, method: str, shown: str) -> Any:
    """Decode a non-retryable answer, turning every Holded failure shape into a typed error."""
    status = resp.status_code
    body = resp.content
    head = body[:64].lstrip().lower()
    ctype = resp.headers.get("Content-Type", "").lower()
    if "html" in ctype or head.startswith((b"<!doctype", b"<html", b"<")):
        raise HoldedHtmlError(
            f"Holded answered an HTML page (HTTP {status}) instead of JSON",
            method=method,
            path=shown,
            status_code=status,
        )
    data: Any = None
    if body.strip():
        try:
            data = orjson.loads(body)  # several times faster than json on 500-record pages
        except orjson.JSONDecodeError:
            raise HoldedInvalidResponseError(
                f"the answer is not valid JSON (HTTP {status}, {len(body)} bytes: cut short or not JSON)",
                method=method,
                path=shown,
                status_code=status,
            ) from None
    info = _message_in(data)  # from the body decoded above: decoding a v2 page twice cost a tenth of a v2 read
    kwargs = {"method": method, "path": shown, "status_code": status, "holded_message": info}
    suffix = f": {info}" if info else ""
    if status == 403:
        permission = _missing_permission(info)
        if permission is not None:
            raise HoldedMissingPermissionError(
                f"the API token lacks the permission {permission} (HTTP 403)", permission=permission, **kwargs
            )
        if (info or "").strip().rstrip(".").lower() == "access denied":
            # Holded API v2 answers an unknown or revoked token (or a v1 key) with 403 "Access denied.".
            raise HoldedAuthError("Holded refused the credential (HTTP 403: Access denied.)", **kwargs)
        raise HoldedPermissionError(f"access denied (HTTP 403){suffix}", **kwargs)
    if status == 404:
        raise HoldedNotFoundError(f"not found (HTTP 404){suffix}", **kwargs)
    if 400 <= status < 500:
        raise HoldedRequestError(f"Holded rejected the request (HTTP {status}){suffix}", **kwargs)
    if status >= 500:
        raise HoldedServerError(f"Holded failed (HTTP {status}){suffix}", **kwargs)
    if isinstance(data, dict) and data.get("status") in (0, "0", False) and set(data) <= _ENVELOPE_KEYS:
        raise HoldedApiError(f"Holded refused the request (status 0, HTTP {status}){suffix}", **kwargs)
    return data


_PERMISSION = re.compile(r"Insufficient permissions:\s*([A-Za-z0-9_.:-]+)\s+required", re.IGNORECASE)


def _missing_permission(detail: str | None) -> str | None:
    """The permission a v2 403 names ("Insufficient permissions: crm:deals.read required.")."""
    match = _PERMISSION.search(detail or "")
    return match.group(1) if match else None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _cursor_page(data: Any, path: str) -> tuple[list[dict[str, Any]], str | None, bool]:
    """A v2 list answer `{"items": [...], "cursor": "<id>" | null, "has_more": bool}`."""
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        cursor = data.get("cursor")
        return data["items"], str(cursor) if cursor else None, bool(data.get("has_more"))
    raise HoldedInvalidResponseError(
        f"expected a v2 list {{items, cursor, has_more}}, got {type(data).__name__}", method="GET", path=path
    )


def _records_of(data: Any, path: str) -> list[dict[str, Any]]:
    """A list page's records: a bare array, or the one list inside a wrapper (team employees)."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if data.get("has_more") is True and "items" in data:  # a v2 cursor page read as if it were whole
            raise HoldedPaginationError(
                "the answer is a cursor page with more after it (Holded API v2): read it with pagination "
                "`cursor`, or the listing would stop at its first page",
                method="GET",
                path=path,
            )
        lists = [value for value in data.values() if isinstance(value, list)]
        if len(lists) == 1:
            return lists[0]
    raise HoldedInvalidResponseError(f"expected a list of records, got {type(data).__name__}", method="GET", path=path)
