"""The operators' history page (GET /cache): sign in with the API key, filter, page through, read a
conversation, export, sync now, sign out; in five languages, on a phone and in dark mode."""
import urllib.parse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import API_KEY, GATEWAY, SYSTEM, Page, fake, http, make_driver

SIGN_IN = {"en": "Sign in", "es": "Iniciar sesión", "ko": "로그인", "zh": "登录", "ja": "サインイン"}
MARKDOWN_ANSWER = ("/answer ## Photosynthesis\n\nPlants make **sugar** from light.\n\n| input | output |\n|---|---|\n"
                   "| CO2 | O2 |\n\n<img src=x onerror=\"document.title='pwned'\">")


def chat(system, user, message):
    """One blocking chat turn through the gateway, as a client backend makes it."""
    status, _, text = http("POST", GATEWAY + "/v1/chat", {"system_id": system, "user_id": user, "message": message},
                           headers={"X-API-Key": API_KEY})
    assert status == 200, text


class HistoryPage(Page):
    """What an operator sees and does on /cache."""

    def open(self, **params):
        self.driver.get(GATEWAY + "/cache" + ("?" + urllib.parse.urlencode(params) if params else ""))

    def sign_in(self, key=API_KEY):
        box = self.find("#api-key")
        box.clear()
        box.send_keys(key)
        box.send_keys(Keys.ENTER)

    def table_ready(self):
        self.wait(lambda: self.find("#results-table").get_attribute("aria-busy") == "false", message="the table did not load")

    def filter(self, **values):
        for name in ("system_id", "user_id", "from_date", "to_date", "q"):
            box = self.find(f"#filters [name={name}]")
            self.driver.execute_script("arguments[0].value = arguments[1]", box, values.get(name, ""))
        self.find("#filters button[type=submit]").click()
        self.table_ready()

    def rows(self):
        return self.texts("#results-body .conversation-open")

    def count(self):
        return self.find("#result-count").text

    def cookie(self):
        return self.driver.get_cookie("cg_operator")

    def fetch(self, path):
        """A GET from inside the page, with its cookie: (status, text)."""
        return self.driver.execute_async_script(
            "var done = arguments[1]; fetch(arguments[0], {credentials: 'same-origin'})"
            ".then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));", path)


@pytest.fixture
def history(driver):
    return HistoryPage(driver)


def test_sign_in_filter_open_export_sync_and_sign_out(history, user):
    chat(SYSTEM, user, MARKDOWN_ANSWER)
    chat(SYSTEM, user, "Second question")
    # 30 conversations only Dify knows about, for a user the gateway has seen: the sync brings them in.
    fake("seed", {"user": f"cointutor_{user}", "conversations": 30, "turns_each": 2})
    chat("cointutor", user, "Registers this user for the sync")

    history.open()
    history.wait(lambda: history.find("#api-key").is_displayed())
    assert history.find("label[for=api-key]").text == "API key"
    history.screenshot("history-sign-in")
    history.sign_in("not-the-key")
    history.wait(lambda: history.all("#signin-error"))
    assert history.find("#signin-error").text == "That API key is not valid."
    assert history.cookie() is None

    history.sign_in()
    history.table_ready()
    assert history.driver.current_url == GATEWAY + "/cache"
    cookie = history.cookie()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert API_KEY not in cookie["value"]
    assert history.driver.execute_script("return document.cookie") == ""

    # Filter to one user's chats on the first system: two conversations, newest first.
    history.filter(system_id=SYSTEM, user_id=user)
    history.wait(lambda: len(history.rows()) == 2)
    assert history.count() == "1–2 of 2"
    assert f"user_id={user}" in history.driver.current_url
    assert history.texts("#results-body td[data-label=User]") == [user, user]

    # Open the older conversation: its Markdown answer is rendered, the HTML in it stays text.
    history.all("#results-body .conversation-open")[1].click()
    history.wait(lambda: history.all("#detail-messages .history-message.role-assistant"))
    assert history.driver.switch_to.active_element == history.find("#detail-title")
    answer = history.find("#detail-messages .role-assistant .markdown")
    assert answer.find_element(By.CSS_SELECTOR, ".md-h2").text == "Photosynthesis"
    assert answer.find_element(By.CSS_SELECTOR, "strong").text == "sugar"
    assert len(answer.find_elements(By.CSS_SELECTOR, "table td")) == 2
    assert not history.all("#detail-messages img")
    assert "<img src=x" in answer.text
    assert history.driver.title != "pwned"
    assert "current" in history.all("#results-body tr")[1].get_attribute("class")
    history.screenshot("history-conversation")
    history.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    history.wait(lambda: not history.find("#detail").is_displayed())

    # Text search reaches message contents.
    history.filter(q="PLANTS MAKE")
    history.wait(lambda: len(history.rows()) >= 1)
    assert history.count().endswith(" of " + str(len(history.rows())))

    # Before the sync the second system has only the chat; "sync now" brings Dify's 30 in.
    history.filter(system_id="cointutor", user_id=user)
    history.wait(lambda: len(history.rows()) == 1)
    history.find("#sync-button").click()
    history.wait(lambda: "Sync finished" in history.find("#sync-status").text, timeout=60)
    history.wait(lambda: history.count() == "1–25 of 31")
    assert len(history.rows()) == 25
    assert history.find("#previous-page").get_attribute("disabled")
    history.find("#next-page").click()
    history.wait(lambda: history.count() == "26–31 of 31")
    assert len(history.rows()) == 6 and history.find("#next-page").get_attribute("disabled")
    history.find("#previous-page").click()
    history.wait(lambda: history.count() == "1–25 of 31")
    history.screenshot("history-table")

    # Export links follow the filters; the cookie authorizes the download.
    href = history.find("#export-csv").get_attribute("href")
    assert href.startswith(GATEWAY + "/v1/cache/export?") and "format=csv" in href and f"user_id={user}" in href
    status, csv = history.fetch(href)
    assert status == 200 and csv.startswith("conversation_id,system_id,user_id") and "Seeded question 30.2" in csv
    status, lines = history.fetch(history.find("#export-jsonl").get_attribute("href"))
    # One line per message: the chat's two, and two turns of two messages in each seeded conversation.
    assert status == 200 and len(lines.strip().splitlines()) == 2 + 30 * 2 * 2

    # Sign out: the form again, and the API no longer answers this browser.
    history.find("#sign-out").click()
    history.wait(lambda: history.all("#api-key"))
    assert history.cookie() is None
    assert history.fetch("/v1/cache/conversations")[0] == 401


def test_the_seed_link_with_api_key_signs_in_and_leaves_the_address_bar(history):
    history.open(api_key=API_KEY, lang="es")
    history.table_ready()
    assert history.driver.current_url == GATEWAY + "/cache?lang=es"
    assert history.find("html").get_attribute("lang") == "es"
    assert history.find("#sign-out").text == "Cerrar sesión"


@pytest.mark.parametrize("lang", sorted(SIGN_IN))
def test_each_language_signs_in_in_its_own_words(history, lang):
    history.open(lang=lang)
    assert history.find("html").get_attribute("lang") == lang
    assert history.find(".signin-card button[type=submit]").text == SIGN_IN[lang]


def test_the_browser_language_is_used_without_lang():
    korean = HistoryPage(make_driver(accept_language="ja-JP"))
    try:
        korean.open()
        assert korean.find("html").get_attribute("lang") == "ja"
        assert korean.find(".signin-card button[type=submit]").text == "サインイン"
    finally:
        korean.driver.quit()


def test_phone_width_and_dark_mode(user):
    chat(SYSTEM, user, MARKDOWN_ANSWER)
    phone = HistoryPage(make_driver())
    try:
        phone.driver.set_window_size(390, 844)
        phone.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        phone.open(api_key=API_KEY)
        phone.table_ready()
        phone.filter(user_id=user)
        phone.wait(lambda: len(phone.rows()) == 1)
        width = phone.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
        background = phone.driver.execute_script("return getComputedStyle(document.body).backgroundColor")
        channels = [int(c) for c in background[background.index("(") + 1:background.index(")")].split(",")[:3]]
        assert max(channels) < 60, f"the background is not dark: {background}"
        phone.screenshot("history-mobile")
        phone.all("#results-body .conversation-open")[0].click()
        phone.wait(lambda: phone.all("#detail-messages .history-message.role-assistant"))
        phone.screenshot("history-mobile-conversation")
        phone.find("#detail-close").click()
        phone.wait(lambda: not phone.find("#detail").is_displayed())
        assert phone.driver.switch_to.active_element == phone.all("#results-body .conversation-open")[0]
    finally:
        phone.driver.quit()
