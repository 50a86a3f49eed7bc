"""A source's token goes only to its configured origin (issue 16): a second HTTP server on
127.0.0.1 (another port: another origin) receives redirects and page links from the feed and
must never see the token, whatever header carries it. Real servers, no mocks of httpx."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collectors.runner import run_source_once
from db.queries import outages
from tests.live.test_live_http import TOKEN, Sleeps, load_small_network, settings_for


def item(oid: str) -> dict:
    return {"outage_id": oid, "feeder": "F1", "start": "2025-06-01T08:00:00+08:00", "customers": 5}


class Recorder(BaseHTTPRequestHandler):
    """Answers feeds; ``links`` maps a path to (status, Location or next link) set per test."""

    seen: list[tuple[str, dict]]
    routes: dict[str, tuple]

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        type(self).seen.append((path, dict(self.headers.items())))
        kind, *rest = type(self).routes.get(path, ("missing",))
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", rest[0])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "feed":
            oid, nxt = rest
            body = {"generated_at": "2025-06-01T01:00:00Z", "items": [item(oid)]}
            if nxt:
                body["next"] = nxt
            data = json.dumps(body).encode()
            self.send_response(200)
        else:
            data = b"{}"
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def start(handler_name: str):
    handler = type(handler_name, (Recorder,), {"seen": [], "routes": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, handler, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def two_servers():
    home, home_h, home_url = start("Home")
    away, away_h, away_url = start("Away")
    yield (home_h, home_url), (away_h, away_url)
    home.shutdown()
    away.shutdown()


def carries_token(headers: dict) -> bool:
    return any(TOKEN in str(v) for v in headers.values())


@pytest.mark.parametrize(
    "header,scheme", [("Authorization", "Bearer"), ("X-Api-Key", ""), ("X-Token", "Token")]
)
def test_live101_token_never_reaches_another_origin(
    engine, two_servers, tmp_path, monkeypatch, header, scheme
):
    (home, home_url), (away, away_url) = two_servers
    # home /feed: page 1, its next link points away (absolute); the away page links back home
    # with a redirect that goes away again; a same-origin redirect at home keeps the token
    home.routes.update(
        {
            "/feed": ("redirect", "/feed1"),
            "/feed1": ("feed", "H1", f"{away_url}/page2"),
            "/page3": ("feed", "H3", None),
        }
    )
    away.routes.update(
        {
            "/page2": ("feed", "A2", f"{home_url}/hop"),
        }
    )
    home.routes["/hop"] = ("redirect", f"{away_url}/last")
    away.routes["/last"] = ("feed", "A4", f"{home_url}/page3")
    monkeypatch.setenv("FW_ORIGIN_TOKEN", TOKEN)
    load_small_network(engine)
    settings = settings_for(
        {
            "src": {
                "type": "http",
                "url": home_url + "/feed",
                "mode": "incremental",
                "token_env": "FW_ORIGIN_TOKEN",
                "auth_header": header,
                "auth_scheme": scheme,
            }
        },
        tmp_path,
    )
    result = run_source_once(engine, settings, "src", sleep=Sleeps())
    assert result.status == "ok", result.error
    assert sorted(outages(engine, source="src")["outage_id"]) == ["A2", "A4", "H1", "H3"]
    away_paths = [p for p, _ in away.seen]
    assert away_paths == ["/page2", "/last"]
    assert not any(carries_token(h) for _, h in away.seen), away.seen
    # every request at home (first, after its own redirect, after coming back) had the token
    assert [p for p, _ in home.seen] == ["/feed", "/feed1", "/hop", "/page3"]
    assert all(carries_token(h) for _, h in home.seen)


def test_live102_other_port_scheme_or_host_is_another_origin():
    from collectors.sources.http_json import origin

    assert origin("http://127.0.0.1/x") == origin("http://127.0.0.1:80/y?z=1")
    assert origin("https://Feed.Example/") == origin("https://feed.example:443/a")
    assert origin("http://127.0.0.1:8001/") != origin("http://127.0.0.1:8002/")
    assert origin("http://feed.example/") != origin("https://feed.example/")
    assert origin("http://feed.example/") != origin("http://feed.example.evil/")
