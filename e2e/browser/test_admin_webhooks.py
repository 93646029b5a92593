"""The admin console's Webhooks section (GET /admin): add an endpoint that points to a receiver on loopback, see its
secret once and copy it, send a test and see its delivery, replay it, rotate the secret, replay every event since a
time, disable and delete the endpoint; a failing endpoint's answers shown as text, never as HTML, on a phone in dark
mode; the section in Japanese.

The receiver is an http.server thread in this process; the gateway (run.sh) lets 127.0.0.0/8 through
(WEBHOOK_ALLOWED_NETWORKS) and retries after 1, 1 and 1 s (WEBHOOK_RETRY_SCHEDULE)."""
import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium.common.exceptions import StaleElementReferenceException

from conftest import API_KEY, GATEWAY, SYSTEM, admin_call, http, make_driver
from test_admin_page import ADMIN_KEY, AdminPage, admin  # noqa: F401 (`admin` is the fixture)

# What the receiver answers: markup that must reach the console as text.
ANSWER = '{"received": true} <b id="not-bold">not bold</b>'
FAILURE = '<script>document.title = "injected"</script><img id="injected" src="x">'


class Receiver:
    """Webhook endpoints on 127.0.0.1: records every delivery; a path under /fail/ answers 500, any other 200."""

    def __init__(self):
        self.lock = threading.Lock()
        self.deliveries = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.deliveries.append({
                        "path": self.path, "id": self.headers.get("webhook-id"),
                        "timestamp": self.headers.get("webhook-timestamp"),
                        "signature": self.headers.get("webhook-signature") or "", "body": body,
                        "type": json.loads(body).get("type")})
                failing = self.path.startswith("/fail/")
                answer = (FAILURE if failing else ANSWER).encode()
                self.send_response(500 if failing else 200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def to(self, path, kind=None):
        """The deliveries to one path (of one event type), in the order they came."""
        with self.lock:
            return [d for d in self.deliveries if d["path"] == path and (kind is None or d["type"] == kind)]


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


def signed_with(secret, delivery):
    """Whether one of the delivery's signatures is Standard Webhooks' HMAC over `id.timestamp.body` with `secret`."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{delivery['id']}.{delivery['timestamp']}.".encode() + delivery["body"]
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in delivery["signature"].split(" ")


class WebhooksPage(AdminPage):
    def ready(self):
        super().ready()
        self.wait(lambda: self.find("#webhooks-table").get_attribute("aria-busy") == "false", message="no webhooks")

    def endpoint_row(self, url):
        """The endpoints table's row for one URL, as {column label: text}, or None."""
        return self.driver.execute_script(
            "const row = [...document.querySelectorAll('#webhooks-body tr')]"
            ".find(r => r.cells[0] && r.cells[0].innerText.trim().split('\\n')[0] === arguments[0]);"
            "return row ? Object.fromEntries([...row.cells].map(c => [c.dataset.label, c.innerText.trim()])) : null;",
            url)

    def deliveries(self):
        """The deliveries shown, newest first, as {column label: text}."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#deliveries-body tr:not(.empty-row)')]"
            ".map(r => Object.fromEntries([...r.cells].map(c => [c.dataset.label, c.innerText.trim()])));")

    def replay_button(self, index):
        return self.all("#deliveries-body tr")[index].find_element("css selector", "button")

    def press(self, button):
        """Clicks a button after scrolling it to the middle of the window (the sticky top bar covers the top)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def press_in_row(self, url, label):
        """Clicks a button of an endpoint's row; the table is drawn again when deliveries come in, so a button found
        a moment before may be gone: it is looked up again."""
        for _ in range(5):
            try:
                return self.press(self.row_button("#webhooks-body", url, label))
            except StaleElementReferenceException:
                time.sleep(0.1)
        raise AssertionError(f"could not press {label} for {url}")

    def show(self, css):
        """Scrolls a part of the page to the top, under the top bar, for a screenshot."""
        self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", css)

    def dialog_open(self, css):
        self.wait(lambda: self.find(css).get_attribute("open") is not None, message=f"{css} did not open")


@pytest.fixture
def console(admin):
    page = WebhooksPage(admin.driver)
    page.open()
    page.sign_in()
    page.ready()
    return page


def test_an_endpoint_from_creation_to_deletion(console, receiver):
    path = "/hooks/" + uuid.uuid4().hex[:8]
    url = receiver.url(path)

    # A refused address: the API's reason shows in the dialog, and what was typed stays.
    console.press(console.find("#add-webhook"))
    console.dialog_open("#webhook-dialog")
    assert console.driver.switch_to.active_element == console.find("#webhook-url")
    console.fill("#webhook-url", "http://10.20.30.40/hooks")
    console.fill("#webhook-system-id", SYSTEM)
    console.press(console.find("#webhook-event-message-completed"))
    console.press(console.find("#webhook-event-feedback-created"))
    console.press(console.find("#webhook-include-content"))
    console.fill("#webhook-description", "e2e receiver")
    console.press(console.find("#webhook-form button[type=submit]"))
    console.wait(lambda: console.find("#webhook-form-error").is_displayed(), message="no error in the dialog")
    assert console.find("#webhook-form-error").text.startswith("url ")
    assert console.find("#webhook-system-id").get_attribute("value") == SYSTEM
    assert console.find("#webhook-event-message-completed").is_selected()
    console.screenshot("admin-webhook-refused")

    # The right address: the dialog closes and the secret is shown this once, with Copy.
    console.fill("#webhook-url", url)
    console.press(console.find("#webhook-form button[type=submit]"))
    console.wait(lambda: console.find("#new-secret").is_displayed(), message="the secret is not shown")
    assert not console.find("#webhook-dialog").get_attribute("open")
    secret = console.find("#new-secret-value").text
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[len("whsec_"):])) == 32
    assert "shown this once" in console.find("#new-secret-warning").text
    assert console.driver.switch_to.active_element == console.find("#new-secret")
    console.press(console.find("#copy-secret"))
    console.wait(lambda: console.find("#copy-secret").text == "Copied")
    copied = console.driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], e => arguments[0](String(e)))")
    assert copied == secret
    console.wait(lambda: console.endpoint_row(url) is not None, message="the endpoint is not listed")
    row = console.endpoint_row(url)
    assert row["Endpoint URL"] == url + "\ne2e receiver"
    assert row["System"] == SYSTEM
    assert sorted(row["Events"].split("\n")) == ["feedback.created", "message.completed"]
    assert row["Content"] == "Included" and row["State"] == "Enabled" and row["Success, 24 h"] == "No attempts"
    console.show("#webhooks")
    console.screenshot("admin-webhook-secret")
    console.press(console.find("#dismiss-secret"))
    assert not console.find("#new-secret").is_displayed() and secret not in console.driver.page_source
    assert console.driver.switch_to.active_element == console.find("#add-webhook")

    # Send test: the deliveries open under the table and show the attempt once the receiver has answered.
    console.press_in_row(url, "Send test")
    console.wait(lambda: console.find("#deliveries").is_displayed(), message="the deliveries did not open")
    assert console.find("#deliveries-title").text == f"Deliveries to {url}"
    console.wait(lambda: len(console.deliveries()) == 1, message="no delivery shown")
    delivery = console.deliveries()[0]
    assert delivery["Event"].split("\n")[0] == "webhook.test"
    assert delivery["HTTP status"] == "200" and delivery["Result"].startswith("Delivered\nAttempt 1")
    assert re.fullmatch(r"\d+ ms", delivery["Latency"]), delivery["Latency"]
    # The answer is shown as the text it is.
    assert delivery["Response"] == ANSWER
    assert console.all("#not-bold") == []
    (sent,) = receiver.to(path)
    assert sent["type"] == "webhook.test" and signed_with(secret, sent)
    assert delivery["Event"].split("\n")[1] == sent["id"]
    assert f"Test sent: {sent['id']}" == console.find("#deliveries-result").text
    # The endpoint's figures follow.
    console.wait(lambda: console.endpoint_row(url)["Success, 24 h"].startswith("100%\n1 of 1 attempts"),
                 message="the success rate did not follow")
    console.show("#webhooks")
    console.screenshot("admin-webhook-deliveries")

    # Replay that delivery: the same webhook-id again.
    console.press(console.replay_button(0))
    console.wait(lambda: len(console.deliveries()) == 2, message="the replay is not shown")
    assert console.find("#deliveries-result").text == f"{sent['id']} will be sent again."
    console.wait(lambda: len(receiver.to(path)) == 2)
    assert receiver.to(path)[1]["id"] == sent["id"] and signed_with(secret, receiver.to(path)[1])
    assert [d["HTTP status"] for d in console.deliveries()] == ["200", "200"]

    # A chat: its message.completed comes with its content (include_content), and Refresh shows it.
    status, _, text = http("POST", GATEWAY + "/v1/chat", {"system_id": SYSTEM, "user_id": "hook-user", "message": "hi"},
                           headers={"X-API-Key": API_KEY})
    assert status == 200, text
    console.wait(lambda: receiver.to(path, "message.completed"), timeout=20, message="no message.completed arrived")
    completed = receiver.to(path, "message.completed")[0]
    data = json.loads(completed["body"])["data"]
    assert data["system_id"] == SYSTEM and data["user_id"] == "hook-user" and data["question"] == "hi" and data["answer"]
    console.press(console.find("#deliveries-refresh"))
    console.wait(lambda: console.deliveries()[0]["Event"].startswith("message.completed"), message="Refresh missed it")

    # Rotate the secret, after a confirmation: the new one is shown once; the old one signs too for a day.
    console.press_in_row(url, "Rotate secret")
    assert url in console.find("#confirm-text").text
    console.confirm()
    console.wait(lambda: console.find("#new-secret").is_displayed() and console.find("#new-secret-value").text)
    rotated = console.find("#new-secret-value").text
    assert rotated.startswith("whsec_") and rotated != secret
    assert console.find("#new-secret-title").text == f"The new signing secret of {url}"
    console.wait(lambda: "The old secret signs too until" in console.endpoint_row(url)["State"])
    console.show("#webhooks")
    console.screenshot("admin-webhook-rotated")
    console.press(console.find("#dismiss-secret"))

    # Replay every event since a day ago (the form's default): the chat's again (and the suite's other chats with
    # the system, kept too), signed with both secrets.
    console.press(console.find("#replay-form button[type=submit]"))
    console.wait(lambda: console.find("#deliveries-result").text.endswith("events will be sent again."),
                 message="the replay since was not confirmed")
    assert int(console.find("#deliveries-result").text.split()[0]) >= 1

    def of_the_chat():
        return [d for d in receiver.to(path, "message.completed") if d["id"] == completed["id"]]
    console.wait(lambda: len(of_the_chat()) == 2, message="the replay did not arrive")
    again = of_the_chat()[1]
    assert again["id"] == completed["id"] and again["body"] == completed["body"]
    assert signed_with(rotated, again) and signed_with(secret, again)
    # An empty time is refused in the form.
    console.driver.execute_script("document.getElementById('replay-since').value = ''")
    console.press(console.find("#replay-form button[type=submit]"))
    console.wait(lambda: console.find("#replay-form-error").is_displayed())
    assert console.find("#replay-form-error").text == "Choose a date and time."

    # Disable, with the reason; enable again; then delete, after a confirmation (cancelling first keeps it).
    console.press_in_row(url, "Disable")
    console.wait(lambda: console.endpoint_row(url)["State"].startswith("Disabled"))
    assert "disabled by an operator" in console.endpoint_row(url)["State"]
    assert console.driver.switch_to.active_element.text == "Enable", "the focus stays on the row's button"
    console.press_in_row(url, "Enable")
    console.wait(lambda: console.endpoint_row(url)["State"].startswith("Enabled"))
    console.press_in_row(url, "Disable")
    console.wait(lambda: console.endpoint_row(url)["State"].startswith("Disabled"))
    console.press_in_row(url, "Delete")
    console.dialog_open("#confirm-dialog")
    assert url in console.find("#confirm-text").text
    console.press(console.find("#confirm-dialog button[value=cancel]"))
    assert console.endpoint_row(url) is not None
    console.press_in_row(url, "Delete")
    console.confirm()
    console.wait(lambda: console.endpoint_row(url) is None, message="the endpoint is still listed")
    assert not console.find("#deliveries").is_displayed()
    status, _, _ = http("GET", GATEWAY + "/admin/v1/webhooks", headers={"X-Admin-Key": ADMIN_KEY})
    assert status == 200

    # Every change is in the audit log; no secret is.
    console.wait(lambda: console.texts("#audit-body tr td:nth-child(3)")[:1] == ["webhook.deleted"])
    actions = console.texts("#audit-body tr td:nth-child(3)")
    for action in ("webhook.created", "webhook.tested", "webhook.replayed", "webhook.secret_rotated", "webhook.updated"):
        assert action in actions
    audit = console.find("#audit-body").text
    assert secret not in audit and rotated not in audit


def test_a_failing_endpoint_shows_its_answers_as_text_on_a_phone(receiver):
    path = "/fail/" + uuid.uuid4().hex[:8]
    url = receiver.url(path)
    endpoint = admin_call("POST", "/webhooks", {"url": url, "events": ["webhook.test"], "description": "always 500"})
    phone = WebhooksPage(make_driver())
    try:
        phone.open_on_a_dark_phone()
        phone.wait(lambda: phone.endpoint_row(url) is not None)
        phone.press_in_row(url, "Send test")
        phone.wait(lambda: phone.deliveries(), message="no delivery shown")
        # The first attempt and three retries, 1 s apart; then the delivery has used its schedule up.
        deadline = time.time() + 30
        while len(receiver.to(path)) < 4 and time.time() < deadline:
            time.sleep(0.2)
        assert len(receiver.to(path)) == 4

        def settled():
            phone.press(phone.find("#deliveries-refresh"))
            shown = phone.deliveries()
            return len(shown) == 4 and "Retries used up" in shown[0]["Result"]
        phone.wait(settled, timeout=20, message="the four attempts are not shown")
        shown = phone.deliveries()
        assert [d["HTTP status"] for d in shown] == ["500"] * 4
        assert shown[0]["Result"].startswith("HTTP error\nAttempt 4")
        assert shown[3]["Result"].startswith("HTTP error\nAttempt 1") and "Will be retried" not in shown[3]["Result"]
        # The answer's markup is text: no script ran, no image was made.
        assert shown[0]["Response"] == FAILURE
        assert phone.all("#injected") == [] and phone.driver.title != "injected"
        phone.wait(lambda: phone.endpoint_row(url)["Success, 24 h"].startswith("0%\n0 of 4 attempts"))
        row = phone.endpoint_row(url)
        assert "0 pending, 1 failed" in row["Success, 24 h"]
        assert "Failing since" in row["State"] and row["Events"] == "webhook.test"
        phone.assert_fits_a_phone()
        phone.show("#webhooks")
        phone.screenshot("admin-webhook-failing-mobile-dark")
        phone.show("#deliveries-table")
        phone.screenshot("admin-webhook-failing-deliveries-mobile-dark")
    finally:
        phone.driver.quit()
        http("DELETE", GATEWAY + "/admin/v1/webhooks/" + endpoint["id"], headers={"X-Admin-Key": ADMIN_KEY})


def test_the_section_speaks_japanese(admin):
    page = WebhooksPage(admin.driver)
    page.open(lang="ja")
    page.sign_in()
    page.ready()
    assert page.find("#webhooks-title").text == "Webhook"
    assert page.find("a[href='#webhooks']").text == "Webhook"
    page.press(page.find("#add-webhook"))
    page.dialog_open("#webhook-dialog")
    assert page.find("#webhook-dialog-title").text == "Webhook エンドポイントを追加"
    assert page.find("label[for='webhook-url']").text == "エンドポイント URL"
    page.screenshot("admin-webhook-dialog-ja")
