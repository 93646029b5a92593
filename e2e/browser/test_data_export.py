""""Download my data" on the chat page (issue 34): a system with `self_export` (here the admin API's field; run.sh
starts the gateway with a fixed environment, so not `DIFY_<SYSTEM>_SELF_EXPORT`) shows the control, and a click saves
the signed-in user's own export (`GET /v1/me/export`) under the server's file name: in the full page, in the drawer on
a phone, and inside the widget's frame. Without it the control is absent; a refused download says so in the page's
language."""
import json
import time
import uuid

from conftest import GATEWAY, admin_call, allow_downloads, client_site, downloaded, feature_system, http as call, system_token
from test_page_features import open_page

# Text that must reach the download byte for byte: an emoji, CJK and a zero-width joiner.
CANARY = "export-canary-" + uuid.uuid4().hex[:8] + " ✨ 日本語 a\u200db"


def messages_of(export):
    return [m["content"] for c in export["conversations"] for m in c["messages"]]


def features_loaded(page):
    """The app's settings have arrived: the microphone (on in every test's app) shows."""
    page.wait(lambda: page.find("#mic-button").is_displayed(), message="the app's settings did not load")


def test_download_my_data_saves_the_users_own_export(page, user, tmp_path):
    system = feature_system(self_export=True)
    allow_downloads(page.driver, tmp_path)
    open_page(page, system, user)
    button = page.wait(lambda: [b for b in page.all("#data-export") if b.is_displayed()], message="no Download my data")[0]
    assert button.text == "Download my data"
    assert not page.find("#head-download").is_displayed(), "the full page has it in the sidebar, not the header"
    page.type_and_send(CANARY)
    page.wait_answer_done()

    button.click()
    name, body = downloaded(tmp_path, ".json")
    assert name == f"{system}-{user}-export.json"
    export = json.loads(body)
    assert export["system_id"] == system and export["user_id"] == user
    assert CANARY in messages_of(export) and "Echo: " + CANARY in messages_of(export)
    page.wait(lambda: page.find("#data-export-status").text == f"Downloaded {name}.")
    assert page.find("#data-export-status").get_attribute("role") == "status"
    assert page.find("#data-export").get_attribute("aria-busy") is None
    assert page.find("#data-export").get_attribute("aria-disabled") == "false"
    assert page.find("#data-export .data-export-label").text == "Download my data"
    page.screenshot("data-export")

    # On a phone it is at the foot of the drawer.
    page.driver.set_window_size(390, 844)
    page.find("#menu-button").click()
    page.wait(lambda: page.find("#data-export").is_displayed() and page.find("#data-export").rect["x"] >= 0)
    time.sleep(0.3)
    rect = page.find("#data-export").rect
    assert rect["y"] + rect["height"] <= 844 and rect["x"] + rect["width"] <= 390
    page.screenshot("data-export-phone")


def test_without_self_export_there_is_no_control(page, user):
    system = feature_system()
    token = system_token(system, user)
    open_page(page, system, user)
    features_loaded(page)
    assert page.driver.execute_script("return document.getElementById('sidebar-foot').hidden") is True
    assert not page.find("#data-export").is_displayed() and not page.find("#head-download").is_displayed()
    status, _, text = call("GET", GATEWAY + "/v1/me/export?format=json", headers={"Authorization": "Bearer " + token})
    assert status == 403, text
    # Embedded neither.
    page.open(token=system_token(system, user), embed=1)
    page.app_ready()
    features_loaded(page)
    assert not page.find("#head-download").is_displayed()


def test_a_refused_download_says_so_in_the_pages_language(page, user):
    system = feature_system(self_export=True)
    page.driver.set_window_size(420, 680)
    open_page(page, system, user, lang="ko", embed=1)
    button = page.wait(lambda: [b for b in page.all("#head-download") if b.is_displayed()], message="no header icon")[0]
    assert button.get_attribute("aria-label") == "내 데이터 다운로드" == button.get_attribute("title")
    assert not page.find("#sidebar").is_displayed()
    # The operator turns it off while the page is open: the gateway refuses (403), the page says why, in Korean.
    admin_call("PATCH", f"/systems/{system}", {"self_export": False})
    button.click()
    page.wait(lambda: page.find("#composer-note").text == "데이터를 다운로드하지 못했습니다. 다시 시도해 주세요.",
              message="no error shown")
    assert "error" in page.find("#composer-note").get_attribute("class")
    assert button.get_attribute("aria-busy") is None and "loading" not in button.get_attribute("class")
    page.screenshot("data-export-refused")


def test_download_my_data_inside_the_widget_frame(page, user, tmp_path):
    system = feature_system(self_export=True)
    token = system_token(system, user)

    with client_site(system, token) as site:
        allow_downloads(page.driver, tmp_path)
        page.driver.get(site)
        page.wait(lambda: page.all("#chat-gateway-launcher"))[0].click()
        frame = page.wait(lambda: [f for f in page.all("#chat-gateway-panel iframe") if f.is_displayed()])[0]
        page.driver.switch_to.frame(frame)
        page.app_ready()
        page.type_and_send(CANARY)
        page.wait_answer_done()
        button = page.wait(lambda: [b for b in page.all("#head-download") if b.is_displayed()], message="no header icon")[0]
        button.click()
        name, body = downloaded(tmp_path, ".json")
        assert name == f"{system}-{user}-export.json"
        assert CANARY in messages_of(json.loads(body))
        assert page.find("#composer-note").text == ""
        page.driver.switch_to.default_content()
        page.screenshot("data-export-widget")
