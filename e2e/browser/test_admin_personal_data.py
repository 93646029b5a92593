"""The admin console's personal data (GET /admin, issue 34): a system's retention and self-service export set in the
system dialog (a PATCH sends only what changed); a legal hold placed, refusing an erasure, and released; a user's
export downloaded as JSON and as JSON Lines; the user erased after a confirmation that says it cannot be undone, its
receipt followed until `completed`, with what Dify keeps; the recent erasures listed; on a phone in dark mode.

The system's Dify is the fake one (run.sh); the user's chats are made through the gateway with the API key."""
import json
import uuid

import pytest
from selenium.webdriver.support.ui import Select

from conftest import API_KEY, FAKE_DIFY, GATEWAY, SYSTEM, admin_call, allow_downloads, downloaded, http, make_driver
from test_admin_page import ADMIN_KEY, AdminPage, admin  # noqa: F401 (`admin` is the fixture)

# Text that must reach the export byte for byte: an emoji, CJK and a zero-width joiner.
CANARY = "canary-" + uuid.uuid4().hex[:8] + " ✨ 日本語 a\u200db"


class PersonalDataPage(AdminPage):
    def ready(self):
        super().ready()
        self.wait(lambda: self.find("#erasures-table").get_attribute("aria-busy") == "false", message="no erasures list")

    def press(self, button):
        """Clicks a button after scrolling it to the middle of the window (the sticky top bar covers the top)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
        button.click()

    def show(self, css):
        self.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", css)

    def dialog_open(self, css):
        self.wait(lambda: self.find(css).get_attribute("open") is not None, message=f"{css} did not open")

    def subject(self, system, user, kind="json"):
        Select(self.find("#subject-system")).select_by_value(system)
        self.fill("#subject-user", user)
        Select(self.find("#subject-format")).select_by_value(kind)

    def hold_state(self):
        return self.find("#hold-state").text

    def receipt_status(self):
        return self.find("#receipt-status").text

    def facts(self, css):
        """A definition list of the receipt as {term: value}."""
        return self.driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll(arguments[0] + ' .fact')]"
            ".map(f => [f.querySelector('dt').innerText.trim(), f.querySelector('dd').innerText.trim()]))", css)

    def rows(self, body):
        return self.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0] + ' tr:not(.empty-row)')]"
            ".map(r => Object.fromEntries([...r.cells].map(c => [c.dataset.label, c.innerText.trim()])));", body)

    def erasure_row(self, erasure_id):
        return self.driver.execute_script(
            "const row = document.querySelector(`#erasures-body tr[data-erasure='${arguments[0]}']`);"
            "return row ? Object.fromEntries([...row.cells].map(c => [c.dataset.label, c.innerText.trim()])) : null;",
            erasure_id)


@pytest.fixture
def console(admin):
    page = PersonalDataPage(admin.driver)
    page.open()
    page.sign_in()
    page.ready()
    return page


def chat(system, user, message, **fields):
    status, _, text = http("POST", GATEWAY + "/v1/chat", {"system_id": system, "user_id": user, "message": message, **fields},
                           headers={"X-API-Key": API_KEY})
    assert status == 200, text
    return json.loads(text)


def test_retention_hold_export_and_erasure_in_the_console(console, tmp_path):
    system = "pd-" + uuid.uuid4().hex[:8]
    user = "pd-user-" + uuid.uuid4().hex[:8]
    other = "pd-other-" + uuid.uuid4().hex[:8]

    # A system with 30 days of retention, also in Dify, and "Download my data" on its chat page.
    console.press(console.find("#add-system"))
    console.dialog_open("#system-dialog")
    console.fill("#system-system-id", system)
    console.fill("#system-dify-base-url", FAKE_DIFY)
    console.fill("#system-dify-api-key", "app-e2e-key")
    assert console.find("label[for='system-retention-days']").text == "Keep message content for (days)"
    assert "RETENTION_DAYS" in console.find("#system-retention-days-hint").text
    console.fill("#system-retention-days", "30")
    console.press(console.find("#system-retention-delete-in-dify"))
    console.press(console.find("#system-self-export"))
    console.screenshot("admin-personal-data-system-dialog")
    console.press(console.find("#system-form button[type=submit]"))
    console.wait(lambda: console.system_row(system) is not None, message="the new system is not listed")
    assert console.system_row(system)["Retention"] == "30 days\nAlso deleted in Dify\nUsers may download their data"
    saved = admin_call("GET", f"/systems/{system}")
    assert saved["retention_days"] == 30 and saved["retention_delete_in_dify"] is True and saved["self_export"] is True

    # Edit: the form shows the values; emptied, the days go back to RETENTION_DAYS (null), and only that field goes.
    console.driver.execute_script(
        "window.patches = []; const send = window.fetch; window.fetch = function (url, init) {"
        " if (init && init.method === 'PATCH') window.patches.push(JSON.parse(init.body)); return send.apply(this, arguments); }")
    console.press(console.row_button("#systems-body", system, "Edit"))
    console.dialog_open("#system-dialog")
    assert console.find("#system-retention-days").get_attribute("value") == "30"
    assert console.find("#system-retention-delete-in-dify").is_selected() and console.find("#system-self-export").is_selected()
    console.fill("#system-retention-days", "")
    console.press(console.find("#system-form button[type=submit]"))
    console.wait(lambda: console.system_row(system)["Retention"].startswith("Gateway default (RETENTION_DAYS)"))
    patch = console.driver.execute_script("return window.patches")[-1]
    assert patch["retention_days"] is None and "retention_delete_in_dify" not in patch and "self_export" not in patch
    # (null: the API leaves the field out)
    assert admin_call("GET", f"/systems/{system}").get("retention_days") is None
    # 0 keeps forever; self-service export off.
    console.press(console.row_button("#systems-body", system, "Edit"))
    console.dialog_open("#system-dialog")
    assert console.find("#system-retention-days").get_attribute("value") == ""
    console.fill("#system-retention-days", "0")
    console.press(console.find("#system-self-export"))
    console.press(console.find("#system-form button[type=submit]"))
    console.wait(lambda: console.system_row(system)["Retention"] == "Kept until deleted\nAlso deleted in Dify")
    patch = console.driver.execute_script("return window.patches")[-1]
    assert patch["retention_days"] == 0 and patch["self_export"] is False and "retention_delete_in_dify" not in patch
    saved = admin_call("GET", f"/systems/{system}")
    assert saved["retention_days"] == 0 and saved["self_export"] is False and saved["retention_delete_in_dify"] is True

    # The user's two conversations, and another user's that must stay.
    first = chat(system, user, CANARY)
    chat(system, user, "A second question", conversation_id=first["conversation_id"])
    chat(system, user, "A new conversation")
    kept = chat(system, other, "Not erased")

    # Legal hold: shown, placed with a reason, and then it refuses the user's erasure.
    console.driver.refresh()
    console.ready()
    console.fill("#hold-conversation", first["conversation_id"])
    console.press(console.find("#hold-form button[type=submit]"))
    console.wait(lambda: console.hold_state().startswith("Not on hold"), message="the hold's state is not shown")
    console.fill("#hold-reason", "Litigation 2026-17")
    console.press(console.find("#hold-place"))
    console.wait(lambda: console.hold_state().startswith("On hold"), message="the hold was not placed")
    assert first["conversation_id"] in console.hold_state()
    assert "Since " in console.hold_state() and "Reason: Litigation 2026-17" in console.hold_state()
    assert console.find("#hold-state").get_attribute("aria-live") == "polite"
    hold = admin_call("GET", f"/conversations/{first['conversation_id']}/legal-hold")
    assert hold["legal_hold"] is True and hold["reason"] == "Litigation 2026-17"
    # The system is offered in the form (from the systems list).
    console.wait(lambda: system in [o.get_attribute("value") for o in console.all("#subject-system option")])
    console.subject(system, user)
    console.press(console.find("#erase-user"))
    console.dialog_open("#confirm-dialog")
    console.confirm()
    console.wait(lambda: console.find("#subject-form-error").is_displayed(), message="the legal hold did not refuse")
    assert "legal hold" in console.find("#subject-form-error").text
    assert not console.find("#receipt").is_displayed()
    console.show("#personal-data")
    console.screenshot("admin-personal-data-hold")
    console.press(console.find("#hold-release"))
    console.wait(lambda: console.hold_state().startswith("Not on hold"), message="the hold was not released")
    assert admin_call("GET", f"/conversations/{first['conversation_id']}/legal-hold")["legal_hold"] is False

    # Export, as JSON and as JSON Lines: downloaded under the server's file name, the canary byte for byte.
    allow_downloads(console.driver, tmp_path)
    console.press(console.find("#export-user"))
    name, body = downloaded(tmp_path, ".json")
    assert name == f"{system}-{user}-export.json"
    console.wait(lambda: console.find("#subject-result").text == f"Downloaded {name}.")
    export = json.loads(body)
    assert export["system_id"] == system and export["user_id"] == user
    assert len(export["conversations"]) == 2
    contents = [m["content"] for c in export["conversations"] for m in c["messages"]]
    assert CANARY in contents
    Select(console.find("#subject-format")).select_by_value("jsonl")
    console.press(console.find("#export-user"))
    name, body = downloaded(tmp_path, ".jsonl")
    assert name == f"{system}-{user}-export.jsonl"
    lines = [json.loads(line) for line in body.splitlines() if line]
    assert lines[0]["type"] == "export" and lines[0]["user_id"] == user
    assert sum(1 for line in lines if line["type"] == "conversation") == 2
    assert any(line["type"] == "message" and line.get("content") == CANARY for line in lines)

    # Erase: the confirmation says it cannot be undone; cancelling starts nothing.
    console.press(console.find("#erase-user"))
    console.dialog_open("#confirm-dialog")
    question = console.find("#confirm-text").text
    assert "cannot be undone" in question and user in question and system in question
    assert console.find("#confirm-button").text == "Erase for good"
    console.screenshot("admin-personal-data-confirm")
    console.press(console.find("#confirm-dialog button[value=cancel]"))
    assert not console.find("#receipt").is_displayed()
    console.press(console.find("#erase-user"))
    console.confirm()
    console.wait(lambda: console.find("#receipt").is_displayed(), message="no receipt shown")
    assert console.driver.switch_to.active_element == console.find("#receipt")
    assert console.find("#receipt-status").get_attribute("aria-live") == "polite"
    erasure_id = console.find("#receipt-title").text.removeprefix("Erasure ")
    assert erasure_id.startswith("era_")
    console.wait(lambda: console.receipt_status() != "Status: Running", timeout=60, message="the erasure did not end")
    assert console.receipt_status() == "Status: Completed"

    facts = console.facts("#receipt-facts")
    assert facts["System"] == system and facts["Subject (pseudonym)"].startswith("erased_")
    assert facts["Requested by"].startswith("admin:") and facts["Finished"] != "—"
    steps = console.driver.execute_script(
        "return [...document.querySelectorAll('#receipt-steps li')]"
        ".map(li => [li.querySelector('.step-name').innerText, li.querySelector('.badge').innerText])")
    assert steps == [[name, "Completed"] for name in (
        "Refuse new chats", "Delete in Dify", "Delete in the gateway", "Pseudonymize usage", "Wipe freed storage",
        "Notify and audit")], steps
    counts = console.facts("#receipt-gateway")
    assert counts["Conversations"] == "2" and int(counts["Messages"]) >= 3
    (app,) = console.rows("#receipt-dify-body")
    assert app["Found"] == "2" and app["Deleted"] == "2" and app["Confirmed gone"] == "Confirmed"
    keeps = console.texts("#receipt-keeps li")
    assert len(keeps) >= 3 and any("end-user" in kept or "end_users" in kept for kept in keeps)
    assert console.find("#receipt-version").text.startswith("Remove these in Dify itself")
    # The receipt names the person only by the pseudonym.
    assert user not in console.find("#receipt").text
    console.wait(lambda: (console.erasure_row(erasure_id) or {}).get("Status") == "Completed",
                 message="the erasure is not listed as completed")
    row = console.erasure_row(erasure_id)
    assert row["System"] == system and row["Deleted"].startswith("2 conversations") and row["Deleted"].endswith("2 in Dify")
    console.show("#personal-data")
    console.screenshot("admin-personal-data-receipt")
    console.show("#receipt-dify-title")
    console.screenshot("admin-personal-data-receipt-dify")

    # Gone in the gateway; the other user untouched; the audit log has it, under the pseudonym.
    status, _, text = http("GET", GATEWAY + f"/admin/v1/systems/{system}/users/{user}/export", headers={"X-Admin-Key": ADMIN_KEY})
    assert status == 200 and json.loads(text)["conversations"] == []
    status, _, text = http("GET", GATEWAY + f"/admin/v1/systems/{system}/users/{other}/export", headers={"X-Admin-Key": ADMIN_KEY})
    assert [c["conversation_id"] for c in json.loads(text)["conversations"]] == [kept["conversation_id"]]
    console.wait(lambda: "user.erased" in console.texts("#audit-body tr td:nth-child(3)"))

    # Close: the receipt goes, the focus returns to Erase user.
    console.press(console.find("#receipt-close"))
    assert not console.find("#receipt").is_displayed()
    assert console.driver.switch_to.active_element == console.find("#erase-user")
    status, _, _ = http("DELETE", GATEWAY + f"/admin/v1/systems/{system}", headers={"X-Admin-Key": ADMIN_KEY})
    assert status == 204


def test_a_receipt_from_the_list_on_a_phone_in_dark_mode():
    user = "pd-phone-" + uuid.uuid4().hex[:8]
    status, _, text = http("POST", GATEWAY + f"/admin/v1/systems/{SYSTEM}/users/{user}/erasure",
                           headers={"X-Admin-Key": ADMIN_KEY})
    assert status == 202, text
    erasure_id = json.loads(text)["id"]
    phone = PersonalDataPage(make_driver())
    try:
        phone.open_on_a_dark_phone()
        phone.wait(lambda: phone.erasure_row(erasure_id) is not None, message="the erasure is not listed")
        phone.press(phone.driver.execute_script(
            "return document.querySelector(`#erasures-body tr[data-erasure='${arguments[0]}'] button`)", erasure_id))
        phone.wait(lambda: phone.find("#receipt").is_displayed())
        phone.wait(lambda: phone.receipt_status() == "Status: Completed", timeout=60)
        assert phone.find("#receipt-title").text == f"Erasure {erasure_id}"
        # Nobody had anything: the receipt says so in numbers.
        assert phone.facts("#receipt-gateway")["Conversations"] == "0"
        phone.assert_fits_a_phone()
        phone.show("#personal-data")
        phone.screenshot("admin-personal-data-mobile-dark")
        phone.show("#receipt-steps")
        phone.screenshot("admin-personal-data-receipt-mobile-dark")
        phone.show("#hold-title")
        phone.screenshot("admin-personal-data-hold-mobile-dark")
    finally:
        phone.driver.quit()


def test_the_section_speaks_korean(admin):
    page = PersonalDataPage(admin.driver)
    page.open(lang="ko")
    page.sign_in()
    page.ready()
    assert page.find("#personal-data-title").text == "개인정보"
    assert page.find("a[href='#personal-data']").text == "개인정보"
    assert page.find("label[for='subject-user']").text == "사용자 ID"
    assert page.find("#erase-user").text == "사용자 삭제…"
    page.show("#personal-data")
    page.screenshot("admin-personal-data-ko")
