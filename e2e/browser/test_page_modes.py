"""Who may open the page, in which language, and how it looks embedded, on a phone and in dark mode."""
import time

import pytest

from conftest import GATEWAY, SYSTEM, Page, chat_token, http, make_driver, signed_jwt

STRINGS = {
    "en": ("Type a message...", "Send", "Chat unavailable", "This chat link has expired."),
    "es": ("Escribe un mensaje...", "Enviar", "Chat no disponible", "Este enlace de chat ha caducado."),
    "ko": ("메시지를 입력하세요...", "보내기", "채팅을 사용할 수 없습니다", "채팅 링크가 만료되었습니다."),
    "zh": ("输入消息...", "发送", "聊天不可用", "此聊天链接已过期。"),
    "ja": ("メッセージを入力...", "送信", "チャットを利用できません", "チャットリンクの有効期限が切れています。"),
}


@pytest.mark.parametrize("lang", sorted(STRINGS))
def test_each_language_shows_its_own_strings(page, user, lang):
    placeholder, send, error_title, expired = STRINGS[lang]
    page.open(user, lang=lang)
    page.app_ready()
    assert page.driver.find_element("css selector", "html").get_attribute("lang") == lang
    assert page.find("#composer-input").get_attribute("placeholder") == placeholder
    assert page.find("#send-button").get_attribute("aria-label") == send
    page.driver.set_window_size(1280, 860)
    assert page.find("#send-button .send-label").text == send
    # The friendly error speaks the same language.
    token = signed_jwt({"system_id": SYSTEM, "user_id": user, "exp": int(time.time()) - 60})
    page.open(token=token, lang=lang)
    page.wait(lambda: page.find("#error-page").is_displayed())
    assert page.find("#error-title").text == error_title
    assert page.find("#error-text").text == expired


def test_without_lang_the_browser_language_is_used():
    korean = Page(make_driver(accept_language="ko-KR"))
    try:
        korean.open("e2e-browser-lang")
        korean.app_ready()
        assert korean.driver.find_element("css selector", "html").get_attribute("lang") == "ko"
        assert korean.find("#composer-input").get_attribute("placeholder") == "메시지를 입력하세요..."
    finally:
        korean.driver.quit()


@pytest.mark.parametrize("case", ["missing", "expired", "forged"])
def test_a_bad_token_gets_a_friendly_error_page(page, user, case):
    token = {
        "missing": None,
        "expired": signed_jwt({"system_id": SYSTEM, "user_id": user, "exp": int(time.time()) - 60}),
        "forged": signed_jwt({"system_id": SYSTEM, "user_id": user, "exp": int(time.time()) + 3600}, secret="not-the-secret"),
    }[case]
    text = {"missing": "This page needs a chat link.", "expired": "This chat link has expired.",
            "forged": "This chat link is not valid."}[case]
    url = GATEWAY + "/chat" + (f"?token={token}" if token else "")
    status, headers, body = http("GET", url)
    assert status == 401
    assert headers["Content-Type"].startswith("text/html")
    assert "<html" in body and '"detail"' not in body and "Traceback" not in body

    page.open(token=token)
    page.wait(lambda: page.find("#error-page").is_displayed())
    assert not page.find("#app").is_displayed()
    assert page.find("#error-text").text == text
    assert "token=" not in page.driver.current_url
    if case == "expired":
        page.screenshot("error-page")


def test_embed_mode_has_no_sidebar_and_keeps_its_conversation_across_reload(page, user):
    page.driver.set_window_size(420, 680)
    page.open(user, embed=1)
    page.app_ready()
    assert not page.find("#sidebar").is_displayed()
    assert page.find("#empty-state").text == "Type a message."
    page.type_and_send("remember me")
    page.wait_answer_done()
    assert "embed=1" in page.driver.current_url and "token=" not in page.driver.current_url
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: page.answers() == ["Echo: remember me"], message="the embedded conversation was not reopened")
    page.type_and_send("**still** here")
    page.wait_answer_done(count=2)
    page.screenshot("embed")
    page.find(".head-new-chat").click()
    page.wait(lambda: page.find("#empty-state").is_displayed())
    page.driver.refresh()
    page.app_ready()
    assert page.find("#empty-state").is_displayed(), "after New chat a reload starts empty"


def test_phone_width_uses_a_drawer(page, user):
    page.driver.set_window_size(390, 844)
    page.open(user)
    page.app_ready()
    page.type_and_send("/answer On a **phone**:\n\n1. the list is a drawer\n2. the composer stays at the bottom")
    page.wait_answer_done()
    assert not page.find("#sidebar").is_displayed() or page.find("#sidebar").rect["x"] < 0
    page.assert_fits_a_phone()
    page.screenshot("mobile")
    menu = page.find("#menu-button")
    assert menu.is_displayed()
    menu.click()
    page.wait(lambda: page.find("#sidebar").rect["x"] >= 0 and menu.get_attribute("aria-expanded") == "true")
    time.sleep(0.3)
    page.screenshot("mobile-drawer")
    page.all("#conversation-list .conversation-open")[0].click()
    page.wait(lambda: menu.get_attribute("aria-expanded") == "false")


def test_dark_mode_follows_the_system(page, user):
    page.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    page.open(user)
    page.app_ready()
    page.type_and_send("/answer Dark mode: `code`, a table\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    page.wait_answer_done()
    background = page.driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in background[background.index("(") + 1:background.index(")")].split(",")[:3]]
    assert max(channels) < 60, f"the background is not dark: {background}"
    page.screenshot("dark-mode")


def test_opening_the_page_registers_the_user_for_sync(user):
    import sqlite3
    import os
    token = chat_token(user)["token"]
    status, headers, _ = http("GET", f"{GATEWAY}/chat-api?token={token}")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    rows = sqlite3.connect(os.environ["GATEWAY_DB"]).execute(
        "select system_id, user_id from gateway_users where user_id = ?", (user,)).fetchall()
    assert rows == [(SYSTEM, user)]
