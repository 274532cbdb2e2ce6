"""Issue 3: one real browser (Debian's chromium through Playwright) against the emulator."""

from __future__ import annotations

import http.server
import shutil
import threading

import pytest

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Resolves with what the page saw: the events in order, the negotiated protocol and the first message.
OPEN_AND_SEND = """
([url, protocols, message]) => new Promise((resolve) => {
  const seen = [];
  const ws = new WebSocket(url, protocols);
  const done = (extra) => resolve({seen, protocol: ws.protocol, ...extra});
  const timer = setTimeout(() => done({timeout: true}), 5000);
  ws.onopen = () => { seen.push("open"); ws.send(message); };
  ws.onmessage = (e) => { seen.push("message"); clearTimeout(timer); ws.close(1000); done({data: e.data}); };
  ws.onerror = () => { seen.push("error"); };
  ws.onclose = (e) => { seen.push("close:" + e.code); clearTimeout(timer); done({}); };
})
"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>wsapp</title><p>wsapp browser test</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_url():
    """A page on http://127.0.0.1 (Chromium will not open WebSockets to loopback from data: pages)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(page_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium
        browser = chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS, timeout=30_000)
        try:
            tab = browser.new_page()
            tab.set_default_timeout(10_000)
            tab.goto(page_url)
            yield tab
        finally:
            browser.close()


def test_browser_connects_with_token_subprotocol_and_gets_polo_for_marco(page, local_gateway, wsapp_token):
    offer = ["wsapp.v1", wsapp_token]
    result = page.evaluate(OPEN_AND_SEND, [local_gateway.url, offer, '{"action":"marco"}'])
    assert result["seen"][:2] == ["open", "message"], result
    assert result["protocol"] == "wsapp.v1"
    assert '"action":"polo"' in result["data"]


def test_browser_refuses_the_connection_when_connect_returns_no_subprotocol(page, lab, captured):
    before = len(captured.find("CONNECT"))
    result = page.evaluate(OPEN_AND_SEND, [lab.url + "?auth=allow", ["wsapp.v1", "token"], "hi"])
    assert "open" not in result["seen"], result
    assert "error" in result["seen"] or any(s.startswith("close:") for s in result["seen"]), result
    assert not result.get("timeout"), result
    assert len(captured.find("CONNECT")) > before  # the server did accept; the browser dropped it
