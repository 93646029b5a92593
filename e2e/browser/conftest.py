"""Fixtures for the browser tests: the running gateway and fake Dify (started by run.sh), headless Chromium,
tokens, and helpers that wait for what a person would see."""
import base64
import contextlib
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

GATEWAY = os.environ["GATEWAY_URL"]
FAKE_DIFY = os.environ["FAKE_DIFY_URL"]
API_KEY = os.environ["GATEWAY_API_KEY"]
JWT_SECRET = os.environ["GATEWAY_JWT_SECRET"]
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "e2e/artifacts/screenshots")
SYSTEM = "drillquiz"


def http(method, url, body=None, headers=None):
    """(status, headers, text) of a plain HTTP call, errors included."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def fake(path, body=None):
    """A control call to the fake Dify (`/_fake/...`)."""
    status, _, text = http("POST" if body is not None else "GET", FAKE_DIFY + "/_fake/" + path, body)
    assert status == 200, text
    return json.loads(text)


def chat_token(user, lang=None):
    """A token as a client backend gets it: /v1/chat-token with its API key."""
    query = {"system_id": SYSTEM, "user_id": user}
    if lang:
        query["lang"] = lang
    status, _, text = http("GET", GATEWAY + "/v1/chat-token?" + urllib.parse.urlencode(query), headers={"X-API-Key": API_KEY})
    assert status == 200, text
    return json.loads(text)


def signed_jwt(claims, secret=JWT_SECRET):
    """An HS256 JWT made by hand: expired ones, and ones signed with the wrong secret."""
    def b64(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def make_driver(width=1280, height=860, accept_language="en-US"):
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    # A fake microphone that needs no permission prompt, and audio that may play without a gesture of its own.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", f"--lang={accept_language}", "--force-device-scale-factor=1",
                     "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                     "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": accept_language})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def driver():
    browser = make_driver()
    yield browser
    browser.quit()


@pytest.fixture
def user():
    """A fresh user per test, so conversations never leak between tests."""
    return "e2e-" + uuid.uuid4().hex[:10]


# The app settings every test starts from: no opening statement, starters or sources (a test that wants them sets
# them for a system of its own, see `feature_system`: the gateway keeps an app's settings for a minute).
PLAIN_APP = {"opening_statement": "", "suggested_questions": [], "retriever_resources": [], "file_upload": None,
             "speech_to_text_enabled": True, "text_to_speech_enabled": True}


@pytest.fixture(autouse=True)
def healthy_dify():
    """Every test starts and ends with a well-behaved fake Dify at a visible streaming pace."""
    fake("fault", {"kind": None})
    fake("options", {"token_delay_ms": 15, "latency_ms": 0, **PLAIN_APP})
    yield
    fake("fault", {"kind": None})
    fake("options", {"token_delay_ms": 15, "latency_ms": 0, **PLAIN_APP})


def admin_call(method, path, body=None):
    status, _, text = http(method, GATEWAY + "/admin/v1" + path, body, {"X-Admin-Key": os.environ["GATEWAY_ADMIN_KEY"]})
    assert status in (200, 201), f"{method} {path}: {status} {text}"
    return json.loads(text) if text else None


def feature_system(app=None, **fields):
    """A system of its own (the default upstream) whose app has the settings `app` (fake Dify options), so the page
    reads them fresh; `fields` are admin API fields such as `source_links` or `inline_math`."""
    if app:
        fake("options", app)
    system = "feat-" + uuid.uuid4().hex[:8]
    admin_call("POST", "/systems", {"system_id": system, **fields})
    return system


def system_token(system, user, lang=None):
    query = {"system_id": system, "user_id": user}
    if lang:
        query["lang"] = lang
    status, _, text = http("GET", GATEWAY + "/v1/chat-token?" + urllib.parse.urlencode(query), headers={"X-API-Key": API_KEY})
    assert status == 200, text
    return json.loads(text)["token"]


class Page:
    """What a person sees and does on the chat page."""

    def __init__(self, driver):
        self.driver = driver

    def open(self, user=None, token=None, **params):
        if user is not None:
            token = chat_token(user)["token"]
        query = dict(params)
        if token is not None:
            query["token"] = token
        self.driver.get(GATEWAY + "/chat?" + urllib.parse.urlencode(query))
        return token

    def wait(self, condition, timeout=15, message=""):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(lambda d: condition(), message)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def app_ready(self):
        self.wait(lambda: self.find("#app").is_displayed(), message="the app did not start")

    def type_and_send(self, text):
        box = self.find("#composer-input")
        # Multi-line text goes in through the DOM; a person would type it with Shift+Enter.
        self.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'));", box, text)
        self.find("#send-button").click()

    def texts(self, css):
        """The visible texts of every match, read in one step (the list may be re-rendered at any moment)."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())", css)

    def answers(self):
        return self.texts(".message.assistant .content")

    def wait_answer_done(self, count=1, timeout=20):
        self.wait(lambda: len(self.all(".message.assistant .message-actions")) >= count and not self.busy(), timeout,
                  "the answer did not finish")

    def start_conversations(self, *first_messages):
        """One new conversation per message, each answered; the list then shows them newest first."""
        for index, message in enumerate(first_messages):
            if index:
                self.find(".sidebar .new-chat").click()
                self.wait(lambda: self.find("#empty-state").is_displayed())
            self.type_and_send(message)
            self.wait_answer_done()
        newest_first = list(reversed(first_messages))
        self.wait(lambda: self.conversation_names() == newest_first, message="conversations not listed newest first")

    def busy(self):
        return self.find("#messages").get_attribute("aria-busy") == "true"

    def conversation_names(self):
        return self.texts("#conversation-list .conversation-name")

    def assert_fits_a_phone(self):
        """Nothing is wider than the phone's 390 px: the page never scrolls sideways."""
        width = self.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone: {width}px"

    def screenshot(self, name):
        os.makedirs(SCREENSHOTS, exist_ok=True)
        time.sleep(0.3)  # let transitions settle
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, name + ".png"))


@pytest.fixture
def page(driver):
    return Page(driver)


def allow_downloads(driver, folder):
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)})


def downloaded(folder, suffix, timeout=20):
    """The file a download put in `folder` (Chromium writes `.crdownload` first): its name and text."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [name for name in os.listdir(folder) if name.endswith(suffix)]
        if done:
            with open(os.path.join(folder, done[0]), encoding="utf-8") as file:
                return done[0], file.read()
        time.sleep(0.1)
    raise AssertionError(f"nothing ending in {suffix} was downloaded: {os.listdir(folder)}")


@contextlib.contextmanager
def client_site(system, token):
    """A client system's own page, on another origin, with the widget's script tag; yields its URL."""

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            body = (f'<!doctype html><html><head><meta charset="utf-8"><title>Client</title></head><body>'
                    f'<h1>CoinTutor</h1><script src="{GATEWAY}/widget.js" data-system-id="{system}" '
                    f'data-token="{token}" data-lang="en" async></script></body></html>').encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
