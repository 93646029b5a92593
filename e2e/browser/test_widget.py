"""The widget on a client's site: a floating button that opens the chat in an iframe, with a token the site's
own backend fetched from the gateway (the API key stays on that backend)."""
import http.server
import json
import re
import threading
import urllib.parse

import pytest
from selenium.webdriver.common.by import By

from conftest import API_KEY, GATEWAY, chat_token

WIDGET_USER = "e2e-widget-user"
# The user_id each call of the logged-out site's token endpoint passed on to the gateway.
VISITOR_REQUESTS = []


class ClientSite(http.server.BaseHTTPRequestHandler):
    """A client system: its page includes widget.js; its backend mints tokens with its API key."""

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/api/chat-token":
            query = urllib.parse.parse_qs(url.query)
            assert query["system_id"] == ["drillquiz"]
            # The backend knows who is logged in; the browser only says which language it wants.
            answer = chat_token(WIDGET_USER, lang=query.get("lang", ["en"])[0])
            return self.reply(200, "application/json", json.dumps(answer), {})
        if url.path == "/api/visitor-token":
            # Nobody is logged in: the backend passes on the widget's visitor id (only such an id), else `anonymous`.
            sent = urllib.parse.parse_qs(url.query).get("user_id", [""])[0]
            user = sent if sent.startswith("anonymous-") else "anonymous"
            VISITOR_REQUESTS.append(user)
            return self.reply(200, "application/json", json.dumps(chat_token(user)), {})
        # `/` fetches tokens from the backend; `/?endpoint=/nowhere` from a broken one; `/?inline=1` is a page
        # the backend rendered with a token in it.
        query = urllib.parse.parse_qs(url.query)
        if query.get("browser"):
            source = 'data-browser-key="e2e-browser-key" data-lang="en"'
        elif query.get("visitor"):
            source = 'data-token-endpoint="/api/visitor-token" data-lang="en"'
        elif query.get("inline"):
            source = f'data-token="{chat_token(WIDGET_USER)["token"]}" data-lang="es"'
        else:
            source = f'data-token-endpoint="{query.get("endpoint", ["/api/chat-token"])[0]}" data-lang="ko"'
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>CoinTutor</title></head>
<body><h1>CoinTutor lessons</h1><p>A client site with a strict CSP.</p>
<script src="{GATEWAY}/widget.js" data-system-id="drillquiz" {source} async></script>
</body></html>"""
        csp = f"default-src 'self'; script-src 'self' {GATEWAY}; style-src 'self'; frame-src {GATEWAY}; connect-src 'self' {GATEWAY}"
        self.reply(200, "text/html; charset=utf-8", page, {"Content-Security-Policy": csp})

    def reply(self, status, content_type, body, headers):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def client_site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ClientSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_the_widget_opens_the_chat_in_an_iframe(page, client_site):
    driver = page.driver
    driver.get(client_site + "/")
    launcher = page.wait(lambda: page.all("#chat-gateway-launcher"), message="no floating button")[0]
    assert launcher.get_attribute("aria-label") == "채팅 열기"
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    frame = page.wait(lambda: [f for f in page.all("#chat-gateway-panel iframe") if f.is_displayed()], message="no chat iframe")[0]
    assert launcher.get_attribute("aria-label") == "닫기"
    assert "embed=1" in frame.get_attribute("src")
    assert API_KEY not in driver.page_source, "the API key reached the browser"
    assert not [entry for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]

    driver.switch_to.frame(frame)
    page.app_ready()
    assert driver.find_element(By.CSS_SELECTOR, "html").get_attribute("lang") == "ko"
    assert not page.find("#sidebar").is_displayed()
    page.type_and_send("위젯에서 안녕하세요")
    page.wait_answer_done()
    assert page.answers() == ["Echo: 위젯에서 안녕하세요"]
    # A reload of the iframe itself reopens the same conversation.
    driver.execute_script("location.reload()")
    page.app_ready()
    page.wait(lambda: page.answers() == ["Echo: 위젯에서 안녕하세요"], message="the iframe lost its conversation")
    driver.switch_to.default_content()
    page.screenshot("widget")

    page.find("#chat-gateway-panel button[aria-label='닫기']").click()
    page.wait(lambda: not page.find("#chat-gateway-panel").is_displayed())
    assert driver.switch_to.active_element == page.find("#chat-gateway-launcher")


def test_a_logged_out_visitor_keeps_their_id_and_conversation_across_reloads(page, client_site):
    driver = page.driver
    VISITOR_REQUESTS.clear()

    def open_widget():
        driver.get(client_site + "/?visitor=1")
        page.wait(lambda: page.all("#chat-gateway-launcher"))[0].click()
        return page.wait(lambda: [f for f in page.all("#chat-gateway-panel iframe") if f.is_displayed()], message="no chat iframe")[0]

    def stored_visitor():
        return driver.execute_script(
            "return Object.keys(localStorage).filter(k => k.startsWith('chat-gateway:visitor:')).map(k => localStorage.getItem(k))")

    frame = open_widget()
    visitors = stored_visitor()
    assert len(visitors) == 1 and re.fullmatch(r"anonymous-[a-z2-7]{26}", visitors[0]), visitors
    driver.switch_to.frame(frame)
    page.app_ready()
    page.type_and_send("remember me")
    page.wait_answer_done()
    driver.switch_to.default_content()

    frame = open_widget()
    assert stored_visitor() == visitors
    assert VISITOR_REQUESTS == ["anonymous", visitors[0]]
    driver.switch_to.frame(frame)
    page.app_ready()
    page.wait(lambda: page.answers() == ["Echo: remember me"], message="the returning visitor lost their conversation")


def test_with_a_browser_key_the_widget_asks_the_gateway_itself(page, client_site):
    driver = page.driver
    driver.get(client_site + "/?browser=1")
    page.wait(lambda: page.all("#chat-gateway-launcher"))[0].click()
    frame = page.wait(lambda: [f for f in page.all("#chat-gateway-panel iframe") if f.is_displayed()], message="no chat iframe")[0]
    visitor = driver.execute_script("return localStorage.getItem(arguments[0])", f"chat-gateway:visitor:{GATEWAY}:drillquiz")
    assert re.fullmatch(r"anonymous-[a-z2-7]{26}", visitor or ""), visitor
    assert API_KEY not in driver.page_source
    driver.switch_to.frame(frame)
    page.app_ready()
    page.type_and_send("no backend here")
    page.wait_answer_done()
    assert page.answers() == ["Echo: no backend here"]


def test_a_failing_token_endpoint_is_said_in_the_widget(page, client_site):
    page.driver.get(client_site + "/?endpoint=/nowhere")
    page.wait(lambda: page.all("#chat-gateway-launcher"))[0].click()
    page.wait(lambda: page.find("#chat-gateway-panel [role=status]").text == "채팅 토큰을 불러오지 못했습니다.",
              message="no token error shown")
    assert not page.find("#chat-gateway-panel iframe").is_displayed()


def test_a_token_in_the_page_needs_no_endpoint(page, client_site):
    page.driver.get(client_site + "/?inline=1")
    launcher = page.wait(lambda: page.all("#chat-gateway-launcher"))[0]
    assert launcher.get_attribute("aria-label") == "Abrir chat"
    launcher.click()
    frame = page.wait(lambda: [f for f in page.all("#chat-gateway-panel iframe") if f.is_displayed()])[0]
    page.driver.switch_to.frame(frame)
    page.app_ready()
    assert page.find("#composer-input").get_attribute("placeholder") == "Escribe un mensaje..."


def test_widget_js_carries_the_strings_and_no_secret():
    import urllib.request
    with urllib.request.urlopen(GATEWAY + "/widget.js") as response:
        script = response.read().decode()
        assert response.headers["Content-Type"].startswith("application/javascript")
    assert "__WIDGET_STRINGS__" not in script
    for text in ("Open chat", "Abrir chat", "채팅 열기", "打开聊天", "チャットを開く"):
        assert text in script
    assert API_KEY not in script
