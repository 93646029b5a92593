"""The operators' history page (GET /cache): sign in with the API key, filter, page through, read a
conversation with its answers' sources and regenerated attempts, export, sync now, sign out; in five languages,
on a phone and in dark mode."""
import json
import urllib.parse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import API_KEY, GATEWAY, SYSTEM, Page, fake, http, make_driver

SIGN_IN = {"en": "Sign in", "es": "Iniciar sesión", "ko": "로그인", "zh": "登录", "ja": "サインイン"}
MARKDOWN_ANSWER = ("/answer ## Photosynthesis\n\nPlants make **sugar** from light.\n\n| input | output |\n|---|---|\n"
                   "| CO2 | O2 |\n\n<img src=x onerror=\"document.title='pwned'\">")


def chat(system, user, message=None, **fields):
    """One blocking chat turn through the gateway, as a client backend makes it (e.g. `regenerate=<message id>`)."""
    body = {"system_id": system, "user_id": user, **fields}
    if message is not None:
        body["message"] = message
    status, _, text = http("POST", GATEWAY + "/v1/chat", body, headers={"X-API-Key": API_KEY})
    assert status == 200, text
    return json.loads(text)


# What Dify cites for a RAG answer; the second source's name and quote carry markup that must stay text.
SOURCES = [
    {"position": 1, "dataset_id": "0d9a2b84-5c1e-4f3a-9b7d-2e6c8a4f1b3d", "dataset_name": "Tutor notes",
     "document_id": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "document_name": "Fractions.md",
     "segment_id": "a1b2c3d4-e5f6-4789-8abc-def012345678", "score": 0.87,
     "content": "A fraction is a part of a whole: 3/4 is three of four equal parts."},
    {"position": 2, "dataset_id": "0d9a2b84-5c1e-4f3a-9b7d-2e6c8a4f1b3d", "dataset_name": "Tutor notes",
     "document_id": "7a2f3e4d-5c6b-4a89-9b7c-6d5e4f3a2b1c", "document_name": "<img src=x onerror=\"document.title='pwned'\">",
     "segment_id": "b2c3d4e5-f6a7-4890-9bcd-ef0123456789", "score": 0.612,
     "content": "<script>document.title='pwned'</script>Equivalent fractions name the same part: 1/2 = 2/4."},
]


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
        phone.assert_fits_a_phone()
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


def test_sources_collapse_under_each_answer_and_regenerated_answers_are_numbered(history, user):
    fake("options", {"retriever_resources": SOURCES})
    try:
        first = chat(SYSTEM, user, "/vary What is a fraction?")
        for _ in range(2):
            chat(SYSTEM, user, regenerate=first["message_id"])
    finally:
        fake("options", {"retriever_resources": []})
    chat(SYSTEM, user, "Thanks!", conversation_id=first["conversation_id"])

    history.open(api_key=API_KEY)
    history.table_ready()
    history.filter(user_id=user)
    history.wait(lambda: len(history.rows()) == 1)
    history.all("#results-body .conversation-open")[0].click()
    history.wait(lambda: len(history.all("#detail-messages .history-message.role-assistant")) == 4)

    # Three attempts at one question: each answer says which, each repeat of the question says it was asked again.
    assert history.texts("#detail-messages .role-assistant .history-message-content")[:3] == [
        "What is a fraction? #1", "What is a fraction? #2", "What is a fraction? #3"]
    assert history.texts("#detail-messages .role-assistant .badge.attempt") == [
        "Attempt 1 of 3", "Attempt 2 of 3", "Attempt 3 of 3"]
    assert history.texts("#detail-messages .role-user.repeat .badge.attempt") == ["Asked again", "Asked again"]
    assert len(history.all("#detail-messages .role-user:not(.repeat)")) == 2

    # Each attempt keeps the sources it was given, collapsed; the answer without sources shows none.
    assert history.texts("#detail-messages .role-assistant .history-sources summary") == ["Sources (2)"] * 3
    sources = history.all("#detail-messages .history-sources")
    assert not sources[0].get_attribute("open")
    assert not sources[0].find_element(By.CSS_SELECTOR, ".history-source-list").is_displayed()
    sources[0].find_element(By.CSS_SELECTOR, "summary").click()
    history.wait(lambda: sources[0].find_element(By.CSS_SELECTOR, ".history-source-list").is_displayed())
    names = [node.text for node in sources[0].find_elements(By.CSS_SELECTOR, ".history-source-name")]
    assert names == ["Fractions.md", SOURCES[1]["document_name"]]
    scores = [node.text for node in sources[0].find_elements(By.CSS_SELECTOR, ".history-source-score")]
    assert scores == ["Relevance 0.87", "Relevance 0.61"]
    quotes = [node.text for node in sources[0].find_elements(By.CSS_SELECTOR, ".history-source-quote")]
    assert quotes == [SOURCES[0]["content"], SOURCES[1]["content"]]
    # Without a source link mapped for the system, no source is a link; the markup in them stayed text.
    assert not history.all("#detail-messages a.history-source-name")
    assert not history.all("#detail-messages img") and not history.all("#detail-messages script")
    assert history.driver.title != "pwned"
    history.screenshot("history-sources-and-attempts")

    # The same conversation in Japanese.
    history.driver.get(GATEWAY + "/cache?" + urllib.parse.urlencode({"user_id": user, "lang": "ja"}))
    history.table_ready()
    history.wait(lambda: len(history.rows()) == 1)
    history.all("#results-body .conversation-open")[0].click()
    history.wait(lambda: len(history.all("#detail-messages .history-message.role-assistant")) == 4)
    assert history.texts("#detail-messages .role-assistant .badge.attempt") == [
        "3 回中 1 回目", "3 回中 2 回目", "3 回中 3 回目"]
    assert history.texts("#detail-messages .history-sources summary")[0] == "出典（2）"
    history.all("#detail-messages .history-sources summary")[2].click()
    history.screenshot("history-sources-and-attempts-ja")
