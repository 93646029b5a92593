"""The operators' usage view (GET /cache/usage): charts drawn by the page from /v1/usage, their exact figures,
the top users linking to their conversations, the period and system kept in the address bar, the CSV download;
in five languages and in dark mode."""
import json
import urllib.parse

import pytest

from conftest import API_KEY, GATEWAY, Page, http, make_driver

TITLES = {"en": "Chats per day", "es": "Chats por día", "ko": "일별 채팅 수", "zh": "每日对话数", "ja": "日別のチャット数"}


def chat(system, user, message):
    status, _, text = http("POST", GATEWAY + "/v1/chat", {"system_id": system, "user_id": user, "message": message},
                           headers={"X-API-Key": API_KEY})
    assert status == 200, text
    return json.loads(text)["metadata"]["usage"]


class UsagePage(Page):
    def open(self, **params):
        self.driver.get(GATEWAY + "/cache/usage" + ("?" + urllib.parse.urlencode(params) if params else ""))

    def sign_in(self):
        # The session comes from the history page's sign-in, as an operator gets it.
        self.driver.get(GATEWAY + "/cache?" + urllib.parse.urlencode({"api_key": API_KEY}))
        self.wait(lambda: self.all("#results-table"), message="not signed in")

    def ready(self):
        self.wait(lambda: self.find("#usage").get_attribute("aria-busy") == "false", message="the usage did not load")


@pytest.fixture
def usage(driver):
    return UsagePage(driver)


def test_charts_figures_top_users_and_the_address_bar(usage, user):
    spent = [chat("drillquiz", user, "/tokens 50"), chat("drillquiz", user, "/tokens 5"), chat("cointutor", user + "-c", "hi")]
    usage.sign_in()
    usage.open()
    usage.ready()
    titles = [caption.text for caption in usage.all(".usage-chart figcaption")]
    assert titles[:2] == ["Chats per day", "Tokens per day"], titles
    assert "Cost per day (USD)" in titles and "Dify latency per day" in titles
    assert "Failure rate per day (failed and refused)" in titles
    # Drawn by the page: SVG bars with a tooltip each, axes labelled with the unit, no image or canvas fetched.
    first = usage.all(".usage-chart")[0]
    assert first.find_elements("css selector", "svg rect title"), "no bars with tooltips"
    assert "chats" in [t.text for t in first.find_elements("css selector", "svg text.unit")]
    # The top users: this test's user first among theirs, with the exact tokens, linking to the history view.
    rows = usage.all("#top-users tbody tr")
    mine = [row for row in rows if row.find_elements("css selector", "td")[0].text == user]
    assert mine, [row.text for row in rows]
    tokens = sum(u["prompt_tokens"] + u["completion_tokens"] for u in spent[:2])
    assert mine[0].find_elements("css selector", "td")[3].text.replace(",", "") == str(tokens)
    link = mine[0].find_element("css selector", "a").get_attribute("href")
    assert "/cache?" in link and "user_id=" + user in link
    usage.screenshot("usage-30-days")

    # The exact figures of a chart, in its table.
    first.find_element("css selector", "summary").click()
    assert first.find_elements("css selector", "details table tbody tr")
    # Period and system in the address bar; the CSV link follows them.
    usage.driver.execute_script("document.getElementById('usage-days').value = '7'")
    system = usage.find("#usage-system")
    system.clear()
    system.send_keys("drillquiz")
    usage.find("#usage-filters button[type=submit]").click()
    usage.wait(lambda: "system_id=drillquiz" in usage.driver.current_url)
    usage.ready()
    assert "days=7" in usage.driver.current_url
    csv = usage.find("#usage-csv").get_attribute("href")
    assert "system_id=drillquiz" in csv and "format=csv" in csv
    status, headers, text = http("GET", csv.replace(GATEWAY, GATEWAY), headers={"X-API-Key": API_KEY})
    assert status == 200 and text.startswith("system_id,day,currency,chats")
    usage.driver.refresh()
    usage.ready()
    assert usage.find("#usage-system").get_attribute("value") == "drillquiz"
    assert usage.find("#usage-days").get_attribute("value") == "7"


@pytest.mark.parametrize("lang", sorted(TITLES))
def test_each_language(usage, lang):
    usage.sign_in()
    usage.open(lang=lang)
    usage.ready()
    assert usage.driver.find_element("css selector", "html").get_attribute("lang") == lang
    assert usage.all(".usage-chart figcaption")[0].text == TITLES[lang]


def test_dark_mode_and_a_phone(user):
    chat("drillquiz", user, "/tokens 20")
    phone = UsagePage(make_driver())
    try:
        phone.driver.set_window_size(390, 844)
        phone.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        phone.sign_in()
        phone.open(lang="ko")
        phone.ready()
        phone.assert_fits_a_phone()
        phone.screenshot("usage-mobile-dark-ko")
    finally:
        phone.driver.quit()
