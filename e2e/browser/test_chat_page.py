"""The chat page as a user meets it: sending, streaming, stopping, history, conversations, failures, Markdown."""
import json
import os
import time
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import API_KEY, FAKE_DIFY, GATEWAY, SYSTEM, fake, http


def test_a_fresh_token_opens_the_page_and_an_answer_streams_in(page, user):
    page.open(user)
    page.app_ready()
    assert "token=" not in page.driver.current_url, "the token must leave the address bar"
    assert page.driver.execute_script("return document.documentElement.hasAttribute('data-token')") is False
    assert page.find("#empty-state").text == "Start a new chat or select one from the list."

    # Ten seconds of answer, so the checks below see it streaming however slow the machine.
    fake("options", {"token_delay_ms": 250})
    page.type_and_send("/tokens 40")
    # While the answer streams: typing dots, Stop shown, Send disabled, the text growing token by token.
    page.wait(lambda: page.all(".message.assistant .typing"), message="no typing indicator")
    page.wait(lambda: page.answers() and page.answers()[-1].startswith("tok1"), message="no streamed text")
    partial = page.answers()[-1]
    assert page.find("#stop-button").is_displayed()
    assert not page.find("#send-button").is_enabled(), "Send must be disabled while a message is in flight"
    page.wait(lambda: len(page.answers()[-1]) > len(partial), message="the answer did not grow")
    assert not page.answers()[-1].endswith("tok40"), "the whole answer arrived at once, not streamed"
    page.wait_answer_done(timeout=30)
    assert page.answers()[-1] == " ".join(f"tok{i}" for i in range(1, 41))
    assert not page.all(".message.assistant .typing")
    assert not page.find("#stop-button").is_displayed()
    assert [e.text for e in page.all(".message.user .bubble")] == ["/tokens 40"]
    # The new conversation is listed (newest first) and Dify's suggested questions are offered as chips.
    page.wait(lambda: page.conversation_names() and page.conversation_names()[0] == "/tokens 40")
    page.wait(lambda: len(page.all(".suggestions .chip")) == 3, message="no suggested questions")
    page.screenshot("streamed-answer")

    page.all(".suggestions .chip")[0].click()
    page.wait_answer_done(count=2)
    assert page.answers()[-1] == "Echo: Can you tell me more?"
    # The page runs under its strict CSP without tripping it once.
    assert not [e for e in page.driver.get_log("browser") if "Content Security Policy" in e["message"]]


def test_no_double_send_and_the_language_reaches_dify_as_input(page, user):
    # Ten seconds of answer: still in flight while the test types, however slow the machine.
    fake("options", {"token_delay_ms": 100, "input_variables": ["language"]})
    before = fake("stats")["chat_requests"]
    page.open(user, lang="es")
    page.app_ready()
    box = page.find("#composer-input")
    box.send_keys("/tokens 100")
    box.send_keys(Keys.ENTER)
    page.wait(lambda: page.busy())
    box.send_keys("second")
    box.send_keys(Keys.ENTER)       # ignored: a message is in flight
    page.driver.execute_script("arguments[0].click()", page.find("#send-button"))   # a disabled Send does nothing
    page.wait_answer_done(timeout=40)
    assert len(page.all(".message.user")) == 1, "a second message was sent while the first was in flight"
    assert fake("stats")["chat_requests"] == before + 1
    assert box.get_attribute("value") == "second", "the unsent text stays in the composer"
    status, _, text = http("GET", f"{GATEWAY}/v1/conversations?system_id={SYSTEM}&user_id={user}", headers={"X-API-Key": API_KEY})
    assert status == 200 and len(json.loads(text)) == 1
    conversation = json.loads(text)[0]["id"]
    dify_user = f"{SYSTEM}_{user}"
    _, _, raw = http("GET", f"{FAKE_DIFY}/v1/conversations?user={dify_user}", headers={"Authorization": "Bearer app-e2e-key"})
    inputs = [c.get("inputs") for c in json.loads(raw)["data"] if c["id"] == conversation]
    assert inputs == [{"language": "es"}], inputs
    fake("options", {"input_variables": []})


def test_shift_enter_breaks_the_line_and_enter_sends(page, user):
    page.open(user)
    page.app_ready()
    box = page.find("#composer-input")
    box.send_keys("line one")
    box.send_keys(Keys.SHIFT, Keys.ENTER)
    box.send_keys("line two")
    assert not page.all(".message.user"), "Shift+Enter must not send"
    assert box.get_attribute("value") == "line one\nline two"
    box.send_keys(Keys.ENTER)
    page.wait_answer_done()
    assert page.find(".message.user .bubble").text == "line one\nline two"


def test_ime_composition_enter_does_not_send(page, user):
    page.open(user, lang="ko")
    page.app_ready()
    before = fake("stats")["chat_requests"]
    box = page.find("#composer-input")
    box.click()
    driver = page.driver
    # A real IME session through the DevTools protocol: the composition is open, the user presses Enter to
    # pick the candidate. Chromium reports that keydown as keyCode 229 with isComposing.
    driver.execute_cdp_cmd("Input.imeSetComposition", {"text": "안녕", "selectionStart": 2, "selectionEnd": 2})
    driver.execute_cdp_cmd("Input.dispatchKeyEvent", {
        "type": "rawKeyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229, "nativeVirtualKeyCode": 229})
    driver.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229})
    # And the event shapes other browsers and IMEs produce.
    driver.execute_script("""
        const box = arguments[0];
        box.dispatchEvent(new CompositionEvent('compositionstart', {data: ''}));
        box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', isComposing: true, bubbles: true, cancelable: true}));
        box.dispatchEvent(new CompositionEvent('compositionend', {data: '안녕'}));
        box.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, bubbles: true, cancelable: true}));
    """, box)
    time.sleep(0.5)
    assert not page.all(".message.user"), "Enter during IME composition sent the message"
    assert fake("stats")["chat_requests"] == before
    # Once the composition is committed, Enter sends.
    driver.execute_cdp_cmd("Input.insertText", {"text": "하세요"})
    box.send_keys(Keys.ENTER)
    page.wait_answer_done()
    assert page.find(".message.user .bubble").text.endswith("하세요")
    assert fake("stats")["chat_requests"] == before + 1


def test_stop_ends_the_stream_and_keeps_what_arrived(page, user):
    fake("options", {"token_delay_ms": 120})
    page.open(user)
    page.app_ready()
    page.type_and_send("/tokens 300")
    page.wait(lambda: page.answers() and "tok3" in page.answers()[-1], message="no text before stopping")
    page.find("#stop-button").click()
    page.wait(lambda: page.all(".message.assistant .notice.stopped"), message="the stream did not stop")
    assert not page.busy()
    answer = page.answers()[-1]
    assert answer.startswith("tok1 tok2") and "tok300" not in answer
    assert not page.find("#stop-button").is_displayed()
    page.find("#composer-input").send_keys("after stop")
    assert page.find("#send-button").is_enabled()


def test_reload_shows_the_history_and_conversations_switch(page, user):
    page.open(user)
    page.app_ready()
    page.start_conversations("first conversation", "second conversation")

    page.driver.refresh()   # the URL has no token any more: the page resumes from the kept session
    page.app_ready()
    page.wait(lambda: page.answers() == ["Echo: second conversation"], message="history not shown after reload")
    assert page.conversation_names() == ["second conversation", "first conversation"]
    assert page.find(".conversation.current .conversation-name").text == "second conversation"

    page.all("#conversation-list .conversation-open")[1].click()
    page.wait(lambda: page.answers() == ["Echo: first conversation"], message="switching did not show the other history")
    assert page.find("#chat-title").text == "first conversation"
    page.type_and_send("follow-up")
    page.wait_answer_done(count=2)
    assert page.answers() == ["Echo: first conversation", "Echo: follow-up"]
    page.all("#conversation-list .conversation-open")[1].click()
    page.wait(lambda: page.answers() == ["Echo: second conversation"])


def test_rename_and_delete_conversations(page, user):
    page.open(user)
    page.app_ready()
    page.start_conversations("to be renamed", "to be deleted")

    renamed = page.all("#conversation-list .conversation")[1]
    renamed.find_element(By.CSS_SELECTOR, ".rename").click()
    field = page.find(".rename-form input")
    assert page.driver.switch_to.active_element == field
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Homework help", Keys.ENTER)
    page.wait(lambda: "Homework help" in page.conversation_names(), message="rename not shown")

    page.all("#conversation-list .conversation")[0].find_element(By.CSS_SELECTOR, ".delete").click()
    page.find(".delete-confirm .confirm").click()
    # (The row being confirmed shows no name, so count the rows too.)
    page.wait(lambda: len(page.all("#conversation-list .conversation")) == 1 and page.conversation_names() == ["Homework help"],
              message="delete not shown")
    assert page.find("#empty-state").is_displayed(), "deleting the open conversation leaves an empty chat"

    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: page.conversation_names() == ["Homework help"], message="the server did not keep the changes")


def test_a_failing_dify_shows_a_readable_error_and_the_message_can_be_retried(page, user):
    page.open(user)
    page.app_ready()
    fake("fault", {"kind": "http_error", "status": 500})
    page.type_and_send("please answer")
    page.wait(lambda: page.all(".send-error"), message="no error shown")
    error = page.find(".send-error").text
    assert error.startswith("Send failed. The assistant is not available right now.")
    assert not page.busy() and not page.all(".message.assistant")
    page.screenshot("error-retry")

    fake("fault", {"kind": None})
    page.find(".send-error .retry").click()
    page.wait_answer_done()
    assert page.answers() == ["Echo: please answer"]
    assert not page.all(".send-error")
    assert [e.text for e in page.all(".message.user .bubble")] == ["please answer"]

    # A stream that fails half-way (Dify's `error` event) is just as readable and retryable.
    fake("fault", {"kind": "stream_error", "after_chunks": 2})
    page.type_and_send("/tokens 20")
    page.wait(lambda: page.all(".send-error"), message="no error for a broken stream")
    assert page.find(".send-error").text.startswith("Send failed.")
    fake("fault", {"kind": None})
    page.find(".send-error .retry").click()
    page.wait_answer_done(count=2)
    assert page.answers()[-1].endswith("tok20")


def test_markdown_renders_and_nothing_in_an_answer_runs(page, user):
    page.open(user)
    page.app_ready()
    markdown = "\n".join([
        "/answer ### Photosynthesis, briefly", "", "Plants turn **light**, *water* and `CO2` into sugar.", "",
        "- Light reactions", "- The Calvin cycle", "  1. carbon fixation", "",
        "| Input | Output |", "|:--|--:|", "| 6 CO2 | 1 glucose |", "",
        "```python", "print('<b>hi</b>')", "```", "",
        "Read more: [Wikipedia](https://en.wikipedia.org/wiki/Photosynthesis) [bad](javascript:alert(1))",
    ])
    page.type_and_send(markdown)
    page.wait_answer_done()
    page.wait(lambda: page.all(".suggestions .chip"))
    content = page.find(".message.assistant .content")
    assert content.find_element(By.CSS_SELECTOR, "h5").text == "Photosynthesis, briefly"
    assert content.find_element(By.CSS_SELECTOR, "strong").text == "light"
    assert content.find_element(By.CSS_SELECTOR, "em").text == "water"
    assert content.find_element(By.CSS_SELECTOR, "p code").text == "CO2"
    assert [li.text for li in content.find_elements(By.CSS_SELECTOR, "ul > li > ol > li")] == ["carbon fixation"]
    assert [td.text for td in content.find_elements(By.CSS_SELECTOR, "td")] == ["6 CO2", "1 glucose"]
    assert "align-right" in content.find_elements(By.CSS_SELECTOR, "td")[1].get_attribute("class")
    assert content.find_element(By.CSS_SELECTOR, "pre code").text == "print('<b>hi</b>')"
    links = content.find_elements(By.CSS_SELECTOR, "a")
    assert [a.get_attribute("href") for a in links] == ["https://en.wikipedia.org/wiki/Photosynthesis"]
    assert links[0].get_attribute("rel") == "noopener noreferrer nofollow"
    assert content.find_elements(By.CSS_SELECTOR, "p")[-1].text == "Read more: Wikipedia bad", "an unsafe link shows its label only"
    # Tall enough for the Markdown source (the question) and its rendering (the answer) side by side.
    page.driver.set_window_size(1280, 1240)
    page.screenshot("full-page")
    page.driver.set_window_size(1280, 860)

    hostile = "/answer <img src=x onerror=\"window.__xss='img'\"> <script>window.__xss='script'</script> " \
              "<svg onload=\"window.__xss='svg'\"></svg> [x](javascript:window.__xss='link')"
    page.type_and_send(hostile)
    page.wait_answer_done(count=2)
    time.sleep(0.5)
    assert page.driver.execute_script("return window.__xss") is None
    answer = page.all(".message.assistant .content")[-1]
    assert not answer.find_elements(By.CSS_SELECTOR, "img, script, svg, a")
    assert "<img src=x" in answer.text and "<script>" in answer.text
    # After a reload the same answer comes from the history, and still runs nothing.
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: len(page.answers()) == 2)
    assert page.driver.execute_script("return window.__xss") is None
    assert not page.all(".message.assistant .content img, .message.assistant .content script")


def test_feedback_buttons_and_keyboard_only_use(page, user):
    page.open(user)
    page.app_ready()
    active = page.driver.switch_to.active_element
    assert active.get_attribute("id") == "composer-input", "the composer has the focus on load"
    active.send_keys("keyboard only", Keys.ENTER)
    page.wait_answer_done()
    page.wait(lambda: page.all(".suggestions .chip"))
    like = page.find(".message-actions .like")
    assert like.get_attribute("aria-label") == "Helpful"
    # Back from the composer with Shift+Tab, past the suggestion chips, to the answer's like button.
    for _ in range(12):
        page.driver.switch_to.active_element.send_keys(Keys.SHIFT, Keys.TAB)
        if page.driver.switch_to.active_element == like:
            break
    assert page.driver.switch_to.active_element == like, "the like button is not reachable with the keyboard"
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait(lambda: like.get_attribute("aria-pressed") == "true", message="like not recorded")
    # A dislike asks for a reason first (it may stay empty).
    page.find(".message-actions .dislike").click()
    page.wait(lambda: page.all(".feedback-reason textarea"), message="no reason box")
    assert page.driver.switch_to.active_element == page.find(".feedback-reason textarea")
    page.find(".feedback-reason .send-reason").click()
    page.wait(lambda: page.find(".message-actions .dislike").get_attribute("aria-pressed") == "true")
    assert like.get_attribute("aria-pressed") == "false"
    assert not page.all(".feedback-reason")
    # Copy puts the answer as written on the clipboard.
    page.driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": GATEWAY, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy = page.find(".message-actions .copy")
    assert copy.get_attribute("aria-label") == "Copy"
    copy.click()
    page.wait(lambda: copy.get_attribute("aria-label") == "Copied", message="copy did not confirm")
    assert page.driver.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))") == "Echo: keyboard only"
    # Tab to Send and press Enter: the focus comes back to the composer when the answer is done.
    box = page.find("#composer-input")
    box.send_keys("sent with the button")
    box.send_keys(Keys.TAB)
    # (The app takes voice, so the microphone comes between the text and Send.)
    assert page.driver.switch_to.active_element == page.find("#mic-button")
    page.driver.switch_to.active_element.send_keys(Keys.TAB)
    assert page.driver.switch_to.active_element == page.find("#send-button")
    page.driver.switch_to.active_element.send_keys(Keys.ENTER)
    page.wait_answer_done(count=2)
    assert page.answers()[-1] == "Echo: sent with the button"
    page.wait(lambda: page.driver.switch_to.active_element == box, message="the focus was lost after sending")
    # Every control has a name a screen reader can say, and the answer is in a live region.
    unnamed = page.driver.execute_script("""
        return [...document.querySelectorAll('#app button, #app textarea, #app input')]
          .filter(e => e.offsetParent !== null)
          .filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() || (e.labels && e.labels.length)))
          .map(e => e.outerHTML);
    """)
    assert unnamed == []
    assert page.find("#messages").get_attribute("aria-live") == "polite"
    assert page.find("#messages").get_attribute("role") == "log"


def test_a_new_conversation_is_named_at_a_word_or_grapheme_boundary(page, user):
    # Slow answers, stopped once the name is checked: Dify's own name replaces the page's when one completes.
    fake("options", {"token_delay_ms": 1500})
    page.open(user)
    page.app_ready()
    words = "hello from the widget " * 5
    page.type_and_send(words.strip())
    # While the answer streams, the list shows the page's own name for the new conversation.
    page.wait(lambda: page.conversation_names(), message="the new conversation is not listed")
    name = page.conversation_names()[0]
    assert name.endswith("\u2026") and len(name) <= 76, name
    assert words.startswith(name[:-1] + " "), f"cut inside a word: {name!r}"
    page.find("#stop-button").click()
    page.wait(lambda: not page.busy(), message="the stream did not stop")

    page.find(".button.new-chat").click()
    fake("options", {"token_delay_ms": 3000})
    family = "\U0001F469\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466"
    page.type_and_send(family * 80)
    page.wait(lambda: page.conversation_names() and page.conversation_names()[0].startswith(family),
              message="the second conversation is not listed")
    # Cut between graphemes: 75 whole families, never a broken one.
    assert page.conversation_names()[0] == family * 75 + "\u2026"
    page.find("#stop-button").click()


def test_a_used_up_budget_is_said_in_the_pages_language(page, user):
    # A system of its own, whose users may use 20 tokens a day: the first answer uses them up.
    admin = {"X-Admin-Key": os.environ["GATEWAY_ADMIN_KEY"]}
    system = "budget-" + user[-6:]
    status, _, text = http("POST", GATEWAY + "/admin/v1/systems",
                           {"system_id": system, "budget": {"per_user_tokens_per_day": 20}}, admin)
    assert status == 201, text
    query = urllib.parse.urlencode({"system_id": system, "user_id": user})
    status, _, text = http("GET", GATEWAY + "/v1/chat-token?" + query, headers={"X-API-Key": API_KEY})
    assert status == 200, text
    page.open(token=json.loads(text)["token"], lang="ko")
    page.app_ready()
    page.type_and_send("/tokens 30")
    page.wait_answer_done()
    before = fake("stats")["chat_requests"]
    page.type_and_send("one more")
    page.wait(lambda: page.all(".send-error"), message="no error shown for a used-up budget")
    error = page.find(".send-error").text
    assert "채팅 사용 한도를 모두 사용했습니다" in error, error
    assert "이후에 다시 채팅할 수 있습니다" in error, error
    assert fake("stats")["chat_requests"] == before, "Dify was called for a refused chat"
    page.screenshot("budget-used-up-ko")
