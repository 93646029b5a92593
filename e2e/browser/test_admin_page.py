"""The admin console (GET /admin): sign in with the admin key; add, check, disable, edit and delete a client system;
create a key (shown once, copied), use it, revoke it; read the audit log; sign out. In five languages, on a phone
and in dark mode, by keyboard."""
import json
import os
import urllib.parse
import uuid

import pytest
from selenium.webdriver.common.keys import Keys

from conftest import API_KEY, FAKE_DIFY, GATEWAY, Page, http, make_driver

ADMIN_KEY = os.environ["GATEWAY_ADMIN_KEY"]
SIGN_IN = {"en": "Sign in", "es": "Iniciar sesión", "ko": "로그인", "zh": "登录", "ja": "ログイン"}


class AdminPage(Page):
    """What an operator sees and does on /admin."""

    def open(self, **params):
        self.driver.get(GATEWAY + "/admin" + ("?" + urllib.parse.urlencode(params) if params else ""))

    def sign_in(self, key=ADMIN_KEY):
        box = self.find("#admin-key")
        box.clear()
        box.send_keys(key)
        box.send_keys(Keys.ENTER)

    def open_on_a_dark_phone(self):
        """Signed in at a phone's width, in dark mode, with the section ready."""
        self.driver.set_window_size(390, 844)
        self.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        self.open()
        self.sign_in()
        self.ready()

    def ready(self):
        for table in ("#systems-table", "#keys-table", "#audit-table"):
            self.wait(lambda: self.find(table).get_attribute("aria-busy") == "false", message=f"{table} did not load")

    def system_row(self, system_id):
        """The systems table's row for one system, as {column label: text}, or None."""
        return self.driver.execute_script(
            "const row = [...document.querySelectorAll('#systems-body tr')]"
            ".find(r => r.querySelector('td.id') && r.querySelector('td.id').firstChild.textContent === arguments[0]);"
            "return row ? Object.fromEntries([...row.cells].map(c => [c.dataset.label, c.innerText.trim()])) : null;",
            system_id)

    def key_row(self, name):
        return self.driver.execute_script(
            "const row = [...document.querySelectorAll('#keys-body tr')]"
            ".find(r => r.cells[0] && r.cells[0].innerText.trim() === arguments[0]);"
            "return row ? Object.fromEntries([...row.cells].map(c => [c.dataset.label, c.innerText.trim()])) : null;",
            name)

    def row_button(self, table, row_text, label):
        """The button labelled `label` in the row of `table` whose first cell starts with `row_text`."""
        return self.driver.execute_script(
            "const row = [...document.querySelectorAll(arguments[0] + ' tr')]"
            ".find(r => r.cells[0] && r.cells[0].innerText.trim().split('\\n')[0] === arguments[1]);"
            "return row && [...row.querySelectorAll('button')].find(b => b.textContent === arguments[2]);",
            table, row_text, label)

    def fill(self, css, value):
        box = self.find(css)
        box.clear()
        if value:
            box.send_keys(value)

    def confirm(self):
        self.wait(lambda: self.find("#confirm-dialog").get_attribute("open") is not None)
        self.find("#confirm-button").click()

    def fetch(self, method, path):
        """A call from inside the page with its cookie (and no X-Requested-With): (status, text)."""
        return self.driver.execute_async_script(
            "var done = arguments[2]; fetch(arguments[1], {method: arguments[0], credentials: 'same-origin'})"
            ".then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));", method, path)


@pytest.fixture
def admin(driver):
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": GATEWAY, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    return AdminPage(driver)


def test_systems_keys_and_audit_from_the_console(admin):
    system = "e2e-" + uuid.uuid4().hex[:8]
    admin.open()
    admin.sign_in("not-the-admin-key")
    admin.wait(lambda: admin.all("#signin-error"))
    assert admin.find("#signin-error").text == "That is not an admin key."
    assert admin.find("#admin-key").get_attribute("aria-invalid") == "true"
    admin.sign_in()
    admin.ready()
    assert admin.driver.current_url == GATEWAY + "/admin"
    cookie = admin.driver.get_cookie("cg_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    # The shared Dify app of the environment is listed, read-only.
    shared = admin.system_row("*")
    assert shared["Source"] == "Environment" and "read-only" in shared["Actions"]
    # A key under 16 characters shows none of itself.
    assert shared["Dify key"] == "…"

    # Add a system in the dialog; the Dify key comes back only as a hint.
    admin.find("#add-system").click()
    admin.wait(lambda: admin.find("#system-dialog").get_attribute("open") is not None)
    assert admin.driver.switch_to.active_element == admin.find("#system-system-id")
    admin.fill("#system-system-id", system)
    admin.fill("#system-name", "E2E quiz")
    admin.fill("#system-dify-base-url", FAKE_DIFY)
    admin.fill("#system-dify-api-key", "app-e2e-key")
    admin.fill("#system-allowed-origins", "https://quiz.e2e.example\nhttps://www.quiz.e2e.example")
    admin.fill("#system-rate-limit-per-user", "50/minute")
    admin.fill("#system-source-links", "dataset:ds-handbook https://kb.e2e.example/{document_id}\nhttps://all.e2e.example/{segment_id}")
    admin.find("#system-inline-math").click()
    admin.find("#system-form button[type=submit]").click()
    admin.wait(lambda: admin.system_row(system) is not None, message="the new system is not listed")
    # The source links and inline math went to the admin API as data.
    status, _, text = http("GET", GATEWAY + f"/admin/v1/systems/{system}", headers={"X-Admin-Key": ADMIN_KEY})
    saved = json.loads(text)
    assert status == 200 and saved["inline_math"] is True
    assert saved["source_links"] == [
        {"dataset_id": "ds-handbook", "url": "https://kb.e2e.example/{document_id}"},
        {"url": "https://all.e2e.example/{segment_id}"}]
    row = admin.system_row(system)
    assert row["Source"] == "Admin" and row["State"] == "Enabled"
    assert row["Allowed origins"].split("\n") == ["https://quiz.e2e.example", "https://www.quiz.e2e.example"]
    assert row["Dify key"] == "…" and "app-e2e-key" not in admin.driver.page_source

    # Check Dify: the result shows in the row.
    admin.row_button("#systems-body", system, "Check Dify").click()
    admin.wait(lambda: "Reachable: HTTP 200" in admin.system_row(system)["Actions"], message="no check result")
    admin.screenshot("admin-systems")

    # A bad value is refused inside the dialog, with the server's reason, and nothing is lost.
    admin.row_button("#systems-body", system, "Edit").click()
    admin.wait(lambda: admin.find("#system-dialog").get_attribute("open") is not None)
    assert admin.find("#system-system-id").get_attribute("readonly")
    assert admin.find("#system-name").get_attribute("value") == "E2E quiz"
    assert admin.find("#system-source-links").get_attribute("value").split("\n")[0] == "dataset:ds-handbook https://kb.e2e.example/{document_id}"
    assert admin.find("#system-inline-math").is_selected()
    admin.fill("#system-allowed-origins", "not an origin")
    admin.find("#system-form button[type=submit]").click()
    admin.wait(lambda: admin.find("#system-form-error").is_displayed())
    assert "allowed_origins" in admin.find("#system-form-error").text
    admin.fill("#system-allowed-origins", "https://quiz.e2e.example")
    admin.find("#system-form button[type=submit]").click()
    admin.wait(lambda: admin.system_row(system)["Allowed origins"] == "https://quiz.e2e.example")

    # Disable: the system's chat tokens are refused at once; enable again.
    admin.row_button("#systems-body", system, "Disable").click()
    admin.wait(lambda: admin.system_row(system)["State"] == "Disabled")
    status, _, text = http("GET", GATEWAY + f"/v1/chat-token?system_id={system}&user_id=u1", headers={"X-API-Key": API_KEY})
    assert status == 403 and json.loads(text)["detail"] == "system_id not allowed"
    admin.row_button("#systems-body", system, "Enable").click()
    admin.wait(lambda: admin.system_row(system)["State"] == "Enabled")

    # Create a key for that system: shown once, with a warning and Copy.
    admin.find("#create-key").click()
    admin.wait(lambda: admin.find("#key-dialog").get_attribute("open") is not None)
    admin.fill("#key-name", "e2e backend")
    admin.fill("#key-systems", system)
    admin.find("#key-form button[type=submit]").click()
    admin.wait(lambda: admin.find("#new-key").is_displayed(), message="the new key is not shown")
    key = admin.find("#new-key-value").text
    assert key.startswith("cgk_") and len(key) == 36
    assert "shown this once" in admin.find("#new-key-warning").text
    assert admin.driver.switch_to.active_element == admin.find("#new-key")
    admin.find("#copy-key").click()
    admin.wait(lambda: admin.find("#copy-key").text == "Copied")
    copied = admin.driver.execute_async_script("navigator.clipboard.readText().then(arguments[0], e => arguments[0](String(e)))")
    assert copied == key
    admin.wait(lambda: admin.key_row("e2e backend") is not None)
    listed = admin.key_row("e2e backend")
    assert listed["Prefix"] == key[:12] + "…" and listed["Status"] == "Active" and listed["Systems"] == system
    admin.screenshot("admin-new-key")
    admin.find("#dismiss-key").click()
    assert not admin.find("#new-key").is_displayed() and key not in admin.driver.page_source

    # The key works for its system, through the system's own Dify.
    status, _, text = http("POST", GATEWAY + "/v1/chat", {"system_id": system, "user_id": "u1", "message": "hello"},
                           headers={"X-API-Key": key})
    assert status == 200, text

    # Revoke, after a confirmation; the key is refused at once.
    admin.row_button("#keys-body", "e2e backend", "Revoke").click()
    assert system not in admin.find("#confirm-text").text and key[:12] in admin.find("#confirm-text").text
    admin.confirm()
    admin.wait(lambda: admin.key_row("e2e backend")["Status"] == "Revoked")
    status, _, text = http("POST", GATEWAY + "/v1/chat", {"system_id": system, "user_id": "u1", "message": "again"},
                           headers={"X-API-Key": key})
    assert status == 401 and json.loads(text)["detail"] == "Invalid API key"

    # Delete the system, after a confirmation; cancelling first keeps it.
    admin.row_button("#systems-body", system, "Delete").click()
    admin.wait(lambda: admin.find("#confirm-dialog").get_attribute("open") is not None)
    admin.find("#confirm-dialog button[value=cancel]").click()
    assert admin.system_row(system) is not None
    admin.row_button("#systems-body", system, "Delete").click()
    admin.confirm()
    admin.wait(lambda: admin.system_row(system) is None)

    # Every change is in the audit log, newest first, with the admin key's fingerprint as the actor.
    admin.wait(lambda: admin.texts("#audit-body tr td:nth-child(3)")[:1] == ["system.deleted"])
    actions = admin.texts("#audit-body tr td:nth-child(3)")
    for action in ("system.created", "system.changed", "key.created", "key.revoked", "admin.sign_in_failed"):
        assert action in actions
    actors = set(admin.texts("#audit-body tr td:nth-child(2)"))
    assert any(actor.startswith("admin:") for actor in actors) and ADMIN_KEY not in actors
    admin.find("a[href='#audit']").click()
    admin.screenshot("admin-audit")

    # Without X-Requested-With the cookie cannot change anything.
    assert admin.fetch("POST", "/admin/v1/keys")[0] == 403

    admin.find("#sign-out").click()
    admin.wait(lambda: admin.all("#admin-key"))
    assert admin.driver.get_cookie("cg_admin") is None
    assert admin.fetch("GET", "/admin/v1/systems")[0] == 401


def test_dialogs_work_by_keyboard(admin):
    admin.open()
    admin.sign_in()
    admin.ready()
    admin.find("#add-system").send_keys(Keys.ENTER)
    admin.wait(lambda: admin.find("#system-dialog").get_attribute("open") is not None)
    assert admin.driver.switch_to.active_element == admin.find("#system-system-id")
    admin.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    admin.wait(lambda: admin.find("#system-dialog").get_attribute("open") is None)
    assert admin.driver.switch_to.active_element == admin.find("#add-system")
    # Every control has an accessible name.
    unnamed = admin.driver.execute_script(
        "return [...document.querySelectorAll('button, input, select, textarea')].filter(e => !e.hidden && !("
        "e.getAttribute('aria-label') || e.textContent.trim() || (e.id && document.querySelector(`label[for='${e.id}']`))"
        " || e.closest('label'))).map(e => e.outerHTML)")
    assert unnamed == []


@pytest.mark.parametrize("lang", sorted(SIGN_IN))
def test_each_language_signs_in_in_its_own_words(admin, lang):
    admin.open(lang=lang)
    assert admin.find("html").get_attribute("lang") == lang
    assert admin.find(".signin-card button[type=submit]").text == SIGN_IN[lang]
    admin.sign_in()
    admin.ready()
    assert admin.driver.current_url == GATEWAY + "/admin?lang=" + lang
    assert admin.find("html").get_attribute("lang") == lang
    if lang == "ko":
        assert admin.find("#systems-title").text == "클라이언트 시스템"
        admin.screenshot("admin-ko")


def test_phone_width_and_dark_mode():
    phone = AdminPage(make_driver())
    try:
        phone.open_on_a_dark_phone()
        phone.assert_fits_a_phone()
        background = phone.driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        channels = [int(c) for c in background[background.index("(") + 1:background.index(")")].split(",")[:3]]
        assert max(channels) < 60, f"the background is not dark: {background}"
        phone.screenshot("admin-mobile-dark")
    finally:
        phone.driver.quit()
