"""A small HTTP server for the live outage feed (envelope of docs/formats.md)."""

from __future__ import annotations

import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import pandas as pd


def _items(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.to_dict(orient="records"):
        item = {}
        for k, v in rec.items():
            if isinstance(v, pd.Timestamp):
                item[k] = v.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif (
                v is None
                or (isinstance(v, float) and math.isnan(v))
                or v is pd.NaT
                or (not isinstance(v, (str, bool, int, float)) and pd.isna(v))
            ):
                item[k] = None
            elif hasattr(v, "item"):
                item[k] = v.item()
            else:
                item[k] = v
        out.append(item)
    return out


def serve_feed(live_feed, host: str = "127.0.0.1", port: int = 0):
    """Serve ``GET /feed/outages`` for a LiveFeed in a daemon thread; returns (server, url).

    Query: ``mode=snapshot|incremental`` (default snapshot), ``since=ISO`` (incremental),
    ``page`` (1-based), ``page_size`` (default 100). Each request first advances the feed to
    its wall-clock time. Stop with ``server.shutdown()``.
    """
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            u = urlparse(self.path)
            if u.path != "/feed/outages":
                self.send_error(404)
                return
            q = {k: v[-1] for k, v in parse_qs(u.query).items()}
            mode = q.get("mode", "snapshot")
            try:
                page = max(1, int(q.get("page", 1)))
                size = max(1, min(10000, int(q.get("page_size", 100))))
                with lock:
                    live_feed.step()
                    if mode == "incremental":
                        df = live_feed.changed_since(q.get("since", "1970-01-01T00:00:00Z"))
                    elif mode == "snapshot":
                        df = live_feed.active()
                    else:
                        raise ValueError(f"bad mode {mode!r}")
                    gen = live_feed.now
            except ValueError as exc:
                self.send_error(400, str(exc))
                return
            pages = max(1, math.ceil(len(df) / size))
            part = df.iloc[(page - 1) * size : page * size]
            nxt = None
            if page < pages:
                nq = dict(q, page=str(page + 1))
                nxt = f"http://{self.headers.get('Host', host)}{u.path}?{urlencode(nq)}"
            body = json.dumps(
                {
                    "mode": mode,
                    "generated_at": gen.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "page": page,
                    "pages": pages,
                    "next": nxt,
                    "items": _items(part),
                },
                ensure_ascii=False,
            ).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/feed/outages"
