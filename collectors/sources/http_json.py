"""An HTTP JSON feed (docs/formats.md, "HTTP feed"), polled in snapshot or incremental mode.

Sample configuration::

    [sources.oms]
    type = "http"
    url = "https://oms.example.cn/feed/outages?mode=snapshot"
    mode = "snapshot"          # or "incremental" (sends since=<watermark>)
    token_env = "OMS_TOKEN"    # the token is read from this environment variable at use
    interval_seconds = 30

``snapshot``: each poll lists the outages active now. An outage listed before and missing now
is ended at the first snapshot without it (its ``generated_at``) and flagged ``inferred_end``.
The previous snapshot travels in the source's watermark (JSON), committed with the data, so a
restarted or a second collector process carries on where the last run stopped.

An empty snapshot after a non-empty one is suspect (a feed restarting, a proxy's empty page, a
storm-overloaded OMS): the previous outages are ended only after ``empty_snapshots_to_end``
empty polls in a row (default 2), at the time of the first of them; until then they are kept
active and the held poll is counted (note ``snapshot_empty_held``). An outage that comes back
after an inferred end is reopened by the version rule (db.upsert: a real observation beats an
inference); an inferred end never replaces a real one. An item the feed lists with an end of
its own is not active: nothing is inferred for it when it leaves the snapshot.

``incremental``: each poll asks for what changed ``since`` the watermark; the new watermark is
the feed's ``generated_at`` (else the greatest version), stored with the last page's records.

Every failure is a ``CollectorError``: timeouts, connection failures, 5xx, 429 (with its
``Retry-After``) and garbled JSON are transient; TLS certificate or protocol failures, 401/403,
other 4xx, an oversized response and a body that is not a feed are permanent. The token is sent
in a header only and never appears in a message.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import pandas as pd

from collectors.base import Batch, CollectorError, Source
from collectors.json_records import follow_records_path, json_records
from collectors.options import HttpOptions
from collectors.pipeline import SOURCE_NOTES
from collectors.sources.feed_items import canonical_values, ended_item, items_frame

USER_AGENT = "FeederWatch collector"
MAX_REDIRECTS = 5


def public_url(url: str) -> str:
    """``url`` without its query and credentials, for messages."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def origin(url: str | httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the port filled in for http and https."""
    u = httpx.URL(str(url))
    return u.scheme, u.host.lower(), u.port or {"http": 80, "https": 443}.get(u.scheme)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), None when absent or odd."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_tls_failure(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLError):
            return True
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "WRONG_VERSION_NUMBER" in text or "SSL:" in text:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class HttpSource(Source):
    """Polls an HTTP JSON feed (``type = "http"``)."""

    options_model = HttpOptions

    def __init__(self, name: str, options: HttpOptions, *, settings=None, state=None):
        super().__init__(name, options, settings=settings, state=state)
        self._client: httpx.Client | None = None

    # --- HTTP ----------------------------------------------------------------------------
    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            o = self.options
            self._client = httpx.Client(
                timeout=httpx.Timeout(o.timeout_seconds),
                verify=o.verify_tls,
                follow_redirects=False,  # followed by hand: see _open
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _auth_headers(self) -> dict[str, str]:
        o = self.options
        if not o.token_env:
            return {}
        token = os.environ.get(o.token_env)
        if not token:
            raise CollectorError(
                f"environment variable {o.token_env} (token_env) is not set", permanent=True
            )
        return {o.auth_header: f"{o.auth_scheme} {token}" if o.auth_scheme else token}

    @contextmanager
    def _open(self, target: httpx.URL) -> Iterator[httpx.Response]:
        """The streamed response to GET ``target``, redirects followed by hand (at most
        MAX_REDIRECTS): the source's credentials go only to the configured origin (scheme,
        host, port), on the first request, on every redirect hop and on every page link."""
        home = origin(self.options.url)
        for _ in range(MAX_REDIRECTS + 1):
            headers = self._auth_headers() if origin(target) == home else {}
            request = self.client.build_request("GET", target, headers=headers)
            response = self.client.send(request, stream=True, follow_redirects=False)
            if not response.has_redirect_location:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            target = response.url.join(response.headers["Location"])
        raise CollectorError(
            f"{public_url(str(target))}: more than {MAX_REDIRECTS} redirects", permanent=True
        )

    def fetch(self, url: str, params: dict | None = None) -> object:
        """GET ``url`` and return its parsed JSON, within the timeout (for the whole body, so a
        server dripping bytes cannot hold a run) and the size limit."""
        o = self.options
        where = public_url(url)
        limit = int(o.max_response_mb * 1024 * 1024)
        deadline = time.monotonic() + o.timeout_seconds
        try:
            target = httpx.URL(url)
            if params:
                # Keep the query the configured URL carries (mode=..., a feed id).
                target = target.copy_merge_params({k: str(v) for k, v in params.items()})
            with self._open(target) as response:
                status = response.status_code
                if status >= 400:
                    self._raise_for_status(response, where)
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise CollectorError(
                        f"{where}: response of {int(declared):,} bytes exceeds "
                        f"max_response_mb={o.max_response_mb:g}",
                        permanent=True,
                    )
                body = bytearray()
                for part in response.iter_bytes():
                    body += part
                    if len(body) > limit:
                        raise CollectorError(
                            f"{where}: response exceeds max_response_mb={o.max_response_mb:g}",
                            permanent=True,
                        )
                    if time.monotonic() > deadline:
                        raise CollectorError(
                            f"{where}: response not complete within "
                            f"{o.timeout_seconds:g} s (timeout)"
                        )
        except CollectorError:
            raise
        except httpx.TimeoutException as exc:
            raise CollectorError(
                f"{where}: timed out after {o.timeout_seconds:g} s ({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:
            if _is_tls_failure(exc):
                raise CollectorError(
                    f"{where}: TLS failure (certificate or protocol; check the "
                    f"URL scheme and verify_tls): {_first_line(exc)}",
                    permanent=True,
                ) from None
            raise CollectorError(f"{where}: {type(exc).__name__}: {_first_line(exc)}") from None
        except ssl.SSLError as exc:
            raise CollectorError(
                f"{where}: TLS failure: {_first_line(exc)}", permanent=True
            ) from None
        except OSError as exc:
            raise CollectorError(f"{where}: {type(exc).__name__}: {_first_line(exc)}") from None
        try:
            return json.loads(bytes(body).decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            # Usually a cut-off body or a proxy's error page: the next try may well be fine.
            raise CollectorError(
                f"{where}: garbled JSON ({type(exc).__name__}: {_first_line(exc)})"
            ) from None

    @staticmethod
    def _raise_for_status(response: httpx.Response, where: str) -> None:
        status = response.status_code
        try:
            response.read()
        except httpx.HTTPError:
            pass
        if status == 429 or status >= 500 or status == 408:
            raise CollectorError(
                f"{where}: HTTP {status}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            raise CollectorError(
                f"{where}: HTTP {status}: authentication refused (check token_env)", permanent=True
            )
        raise CollectorError(f"{where}: HTTP {status}", permanent=True)

    def pages(self, params: dict) -> Iterator[tuple[list[dict], dict]]:
        """Each page's items and its envelope (``{}`` for a bare list), following ``next``
        links, else ``page``/``pages`` numbers."""
        o = self.options
        url: str = o.url
        query = dict(params)
        page = 1
        while True:
            data = self.fetch(url, query)
            if o.records_path is not None:
                # records under a key of their own ({"outages": [...]}, {"data": {"rows": ...}});
                # the page's envelope (next, pages, generated_at) stays where it is
                found = follow_records_path(data, o.records_path)
                records = json_records(found) if found is not None else None
                if records is None:
                    raise CollectorError(
                        f"{public_url(url)}: not a feed (no list of records at "
                        f"records_path={o.records_path!r})",
                        permanent=True,
                    )
                yield records, data if isinstance(data, dict) else {}
                if not isinstance(data, dict):
                    return
            elif isinstance(data, list):
                yield json_records(data) or [], {}  # GeoJSON Features become records
                return
            elif not isinstance(data, dict) or (records := json_records(data)) is None:
                raise CollectorError(
                    f"{public_url(url)}: not a feed (expected a JSON list, an object with "
                    f"'items' or GeoJSON features; set records_path for records under another key)",
                    permanent=True,
                )
            else:
                yield records, data
            nxt = data.get("next")
            if nxt:
                url, query = urljoin(url, str(nxt)), None
            elif isinstance(data.get("pages"), int) and page < data["pages"]:
                query = dict(params, page=page + 1)
            else:
                return
            page += 1
            if page > o.max_pages:
                raise CollectorError(
                    f"{public_url(o.url)}: more than max_pages={o.max_pages} pages", permanent=True
                )

    # --- records -------------------------------------------------------------------------
    def batches(self, watermark: str | None) -> Iterator[Batch]:
        if self.options.mode == "snapshot":
            yield from self._snapshot(watermark)
        else:
            yield from self._incremental(watermark)

    def _incremental(self, watermark: str | None) -> Iterator[Batch]:
        o = self.options
        since = _load(watermark).get("since") if watermark else None
        params = {"page_size": o.page_size}
        if since is not None:
            params["since"] = since
        new_since = since
        pending: list[dict] | None = None
        version_col = o.version_column or "version"
        for number, (items, envelope) in enumerate(self.pages(params), start=1):
            if number == 1 and envelope.get("generated_at"):
                new_since = envelope["generated_at"]
            elif not envelope.get("generated_at") and items:
                versions = [
                    i.get(version_col)
                    for i in items
                    if isinstance(i, dict) and i.get(version_col) is not None
                ]
                if versions:
                    best = max(versions, key=_sort_key)
                    if new_since is None or _sort_key(best) > _sort_key(new_since):
                        new_since = best
            # The watermark goes with the last page only, so a failure mid-way re-reads all.
            if pending:
                yield Batch(
                    o.kind,
                    items_frame(pending, o.na_values),
                    None,
                    label=f"{public_url(o.url)} page",
                )
            pending = items
        mark = None
        if new_since is not None and new_since != since:
            mark = json.dumps({"mode": "incremental", "since": new_since})
        if pending:
            yield Batch(
                o.kind,
                items_frame(pending, o.na_values),
                mark,
                label=f"{public_url(o.url)} last page",
            )

    def _snapshot(self, watermark: str | None) -> Iterator[Batch]:
        o = self.options
        state = _load(watermark) if watermark else {}
        if state.get("mode") != "snapshot":
            state = {}
        previous: dict[str, dict] = state.get("active", {})
        items: list = []
        generated: set[str] = set()
        for page_items, envelope in self.pages({"page_size": o.page_size}):
            items.extend(page_items)
            if envelope.get("generated_at"):
                generated.add(str(envelope["generated_at"]))
        taken_at = max(generated) if generated else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if not items and not previous:
            return
        frame = items_frame(items, o.na_values)
        if o.kind != "outages":
            yield Batch(o.kind, frame, None, label=public_url(o.url))
            return
        tz = self.settings.site.timezone if self.settings is not None else "Asia/Shanghai"
        ids = canonical_values(frame, o, "outage_id", tz)
        ends = canonical_values(frame, o, "end", tz)
        listed = {
            str(i): item
            for i, item in zip(ids, items, strict=True)
            if i is not None and isinstance(item, dict)
        }
        # Only what is listed without an end of its own is active (and can be ended by us).
        active = {
            str(i): item
            for i, end, item in zip(ids, ends, items, strict=True)
            if i is not None and isinstance(item, dict) and _blank(end)
        }
        notes: dict[str, int] = {}
        if not listed and previous:
            # Nothing usable where outages were active: suspect until it happens
            # ``empty_snapshots_to_end`` times in a row.
            empty_polls = int(state.get("empty_polls", 0)) + 1
            empty_since = state.get("empty_since") or taken_at
            if empty_polls < o.empty_snapshots_to_end:
                held = {
                    **state,
                    "generated_at": taken_at,
                    "empty_polls": empty_polls,
                    "empty_since": empty_since,
                }
                notes["snapshot_empty_held"] = 1
                yield _batch(o, frame, held, notes)
                return
            taken_at = empty_since  # they vanished at the first empty snapshot
        ended: list[dict] = []
        # Pages taken at different instants may have shifted under us (an outage ending
        # between page 1 and page 2 moves the others up): only a consistent snapshot ends
        # anything; the missing ones are kept and judged by the next snapshot.
        consistent = len(generated) <= 1
        carried = {}
        for key, item in previous.items():
            if key in listed:
                continue
            if consistent:
                ended.append(ended_item(item, o.mapping, taken_at))
            else:
                carried[key] = item
        if ended:
            notes["inferred_end"] = len(ended)
        new_state = {"mode": "snapshot", "generated_at": taken_at, "active": {**carried, **active}}
        frame = items_frame(items + ended, o.na_values) if ended else frame
        yield _batch(o, frame, new_state, notes)


def _batch(o: HttpOptions, frame: pd.DataFrame, state: dict, notes: dict[str, int]) -> Batch:
    """A snapshot batch: its records (possibly none), the state to commit with them, and what
    the source decided by itself as notes for the run summary (DataFrame.attrs)."""
    if notes:
        frame.attrs[SOURCE_NOTES] = dict(notes)
    return Batch(
        o.kind,
        frame,
        json.dumps(state, ensure_ascii=False, default=str),
        label=public_url(o.url),
    )


def _blank(value) -> bool:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return True
    return isinstance(value, str) and not value.strip()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def _load(watermark: str) -> dict:
    try:
        value = json.loads(watermark)
    except (TypeError, json.JSONDecodeError):
        return {"since": watermark}  # a plain watermark from an older version
    return value if isinstance(value, dict) else {"since": value}


def _sort_key(value):
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    try:
        return (0, float(value), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(value))


__all__ = ["HttpSource", "public_url", "retry_after_seconds"]
