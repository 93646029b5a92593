"""What the page gains from the app's settings (`GET /v1/parameters`): the opening statement and starter questions,
sources, files and images, voice, feedback with a reason, regenerate with its "2/3" switch, rich answers; and the
same page in other languages, on a phone and inside the widget's frame. Each test uses a system of its own, so the
page reads the app's settings as the test set them."""
import json
import os
import struct
import tempfile
import time
import zlib

import pytest
from selenium.webdriver.common.by import By

from conftest import FAKE_DIFY, GATEWAY, Page, client_site, fake, feature_system, http, make_driver, system_token

OPENING = "Welcome to **DrillQuiz**! Ask me about any lesson."
STARTERS = ["What is a derivative?", "Quiz me on fractions"]
SOURCES = [
    {"position": 1, "dataset_id": "ds-math", "dataset_name": "Math handbook", "document_id": "doc-7",
     "document_name": "Derivatives.pdf", "segment_id": "seg-1", "score": 0.91,
     "content": "The derivative measures how a function changes as its input changes."},
    {"position": 2, "dataset_id": "ds-notes", "dataset_name": "Teacher notes", "document_id": "doc-9",
     "document_name": "Week 3 notes", "segment_id": "seg-2", "score": 0.62,
     "content": "Limits come first; derivatives are defined through them."},
]
IMAGES_ONLY = {"enabled": True, "allowed_file_types": ["image"], "allowed_file_extensions": [],
               "allowed_file_upload_methods": ["local_file"], "number_limits": 2,
               "image": {"enabled": True, "number_limits": 2, "transfer_methods": ["local_file"]}}


def open_page(page, system, user, lang=None, **params):
    page.open(token=system_token(system, user, lang), **({"lang": lang} if lang else {}), **params)
    page.app_ready()


def png_file(path, width, height):
    """A real PNG of noise (it does not compress), about width * height * 3 bytes."""
    raw = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
    return path


def test_the_opening_statement_and_a_starter_question_sent_on_click(page, user):
    system = feature_system({"opening_statement": OPENING, "suggested_questions": STARTERS})
    open_page(page, system, user)
    page.wait(lambda: page.all("#opening .opening-statement"), message="no opening statement")
    assert page.find("#opening .opening-statement .content").text == "Welcome to DrillQuiz! Ask me about any lesson."
    assert page.find("#opening .opening-statement strong").text == "DrillQuiz"
    chips = page.all("#opening .starters .chip")
    assert [c.text for c in chips] == STARTERS
    assert page.find("#opening .starters").get_attribute("aria-label") == "Try asking"
    page.screenshot("opening-statement")

    chips[0].click()
    page.wait_answer_done()
    assert [e.text for e in page.all(".message.user .bubble")] == ["What is a derivative?"]
    assert page.answers() == ["Echo: What is a derivative?"]
    assert not page.all("#opening"), "the opening gives way to the conversation"
    # A new chat shows it again.
    page.find(".sidebar .new-chat").click()
    page.wait(lambda: page.all("#opening .starters .chip"))


def test_sources_are_listed_under_an_answer_and_linked_when_mapped(page, user):
    system = feature_system({"retriever_resources": SOURCES},
                            source_links=[{"dataset_id": "ds-math", "url": "https://kb.example/docs/{document_id}"}])
    open_page(page, system, user)
    page.type_and_send("What is a derivative?")
    page.wait_answer_done()
    sources = page.find(".message.assistant .sources")
    summary = sources.find_element(By.CSS_SELECTOR, "summary")
    assert summary.text == "Sources (2)"
    assert sources.get_attribute("open") is None, "the list starts folded"
    summary.click()
    # Only the mapped dataset links (the gateway fills in the template with the document's id).
    page.wait(lambda: page.driver.execute_script(
        "return [...document.querySelectorAll('.message.assistant .sources a.source-name')].map(a => a.href)")
        == ["https://kb.example/docs/doc-7"], message="the mapped source is not linked")
    sources = page.find(".message.assistant .sources")
    assert sources.get_attribute("open") == "true"
    names = [e.text for e in sources.find_elements(By.CSS_SELECTOR, ".source-name")]
    assert names == ["Derivatives.pdf", "Week 3 notes"]
    assert sources.find_element(By.CSS_SELECTOR, "a.source-name").get_attribute("rel") == "noopener noreferrer nofollow"
    assert "The derivative measures" in sources.find_elements(By.CSS_SELECTOR, ".source-quote")[0].text
    assert [e.text for e in sources.find_elements(By.CSS_SELECTOR, ".source-score")] == ["Relevance 0.91", "Relevance 0.62"]
    page.screenshot("sources")

    # The gateway kept them with the answer: the history shows the same list after a reload.
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: page.all(".message.assistant .sources"), message="no sources in the history")
    assert page.find(".message.assistant .sources summary").text == "Sources (2)"
    page.find(".message.assistant .sources summary").click()
    assert [a.get_attribute("href") for a in page.all(".message.assistant a.source-name")] == ["https://kb.example/docs/doc-7"]


def test_an_image_is_sent_with_the_message_and_files_over_the_limits_are_refused(page, user):
    system = feature_system({"file_upload": IMAGES_ONLY})
    open_page(page, system, user)
    attach = page.wait(lambda: [b for b in page.all("#attach-button") if b.is_displayed()], message="no attach button")[0]
    assert attach.get_attribute("aria-label") == "Attach files"
    folder = tempfile.mkdtemp()
    image = png_file(os.path.join(folder, "diagram.png"), 820, 820)   # about 2 MB
    assert os.path.getsize(image) > 2_000_000
    big = os.path.join(folder, "huge.png")
    with open(big, "wb") as out:
        out.truncate(11 * 1024 * 1024)
    notes = os.path.join(folder, "notes.txt")
    with open(notes, "w") as out:
        out.write("not an image")
    uploads_before = len(fake("stats").get("uploads", []))

    chooser = page.find("#file-input")
    chooser.send_keys(big)
    page.wait(lambda: page.find("#composer-note").text, message="no refusal shown")
    assert page.find("#composer-note").text == "huge.png is larger than the limit of 10 MB."
    chooser.send_keys(notes)
    page.wait(lambda: "notes.txt cannot be attached here." in page.find("#composer-note").text)
    assert not page.all("#attachment-tray .attachment"), "a refused file is not attached"
    page.screenshot("file-refused")

    chooser.send_keys(image)
    page.wait(lambda: page.all("#attachment-tray .attachment:not(.uploading)"), timeout=30, message="the upload did not finish")
    assert page.find("#attachment-tray .attachment-name").text == "diagram.png"
    preview = page.find("#attachment-tray .attachment-preview")
    assert preview.get_attribute("src").startswith("blob:")
    assert page.find("#attachment-tray .remove-attachment").get_attribute("aria-label") == "Remove diagram.png"
    page.screenshot("file-attached")
    page.type_and_send("What does this diagram show?")
    page.wait_answer_done()
    shown = page.find(".message.user .file-image")
    assert page.driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", shown) == 820
    assert not page.all("#attachment-tray .attachment")
    uploads = fake("stats").get("uploads", [])
    assert len(uploads) == uploads_before + 1 and uploads[-1]["name"] == "diagram.png", uploads[-1:]
    assert uploads[-1]["size"] == os.path.getsize(image)
    page.screenshot("file-sent")


def test_regenerate_twice_shows_three_answers_to_switch_between(page, user):
    system = feature_system()
    open_page(page, system, user)
    page.type_and_send("/vary The capital of France is Paris")
    page.wait_answer_done()
    assert page.answers() == ["The capital of France is Paris #1"]
    assert not page.all(".versions"), "one answer has no switch"
    for attempt in (2, 3):
        regenerate = page.find(".message.assistant .message-actions .regenerate")
        assert regenerate.get_attribute("aria-label") == "Regenerate"
        regenerate.click()
        page.wait(lambda: page.answers() == [f"The capital of France is Paris #{attempt}"] and not page.busy()
                  and page.all(".message.assistant .version-label"), timeout=20, message=f"attempt {attempt} not shown")
        assert page.find(".version-label").text == f"{attempt}/{attempt}"
    assert len(page.all(".message.user")) == 1, "a regenerate does not repeat the question"
    group = page.find(".message-actions .versions")
    assert group.get_attribute("aria-label") == "Answer 3 of 3"
    assert page.find(".versions .next-version").get_attribute("disabled") == "true"
    page.screenshot("regenerate-3-of-3")

    page.find(".versions .previous-version").click()
    page.wait(lambda: page.answers() == ["The capital of France is Paris #2"])
    assert page.find(".version-label").text == "2/3"
    assert page.find(".message-actions .versions").get_attribute("aria-label") == "Answer 2 of 3"
    page.find(".versions .previous-version").click()
    page.wait(lambda: page.answers() == ["The capital of France is Paris #1"])
    assert page.find(".versions .previous-version").get_attribute("disabled") == "true"

    # The gateway stored every attempt: after a reload the newest shows, "3/3", and the others are a click away.
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: page.all(".version-label") and page.find(".version-label").text == "3/3", message="siblings lost")
    assert page.answers() == ["The capital of France is Paris #3"]
    page.find(".versions .previous-version").click()
    page.wait(lambda: page.answers() == ["The capital of France is Paris #2"])


def test_dislike_with_a_reason_reaches_dify_and_clicking_again_withdraws_it(page, user):
    system = feature_system()
    open_page(page, system, user)
    page.type_and_send("Explain photosynthesis")
    page.wait_answer_done()
    dislike = page.find(".message-actions .dislike")
    dislike.click()
    reason = page.wait(lambda: page.all(".feedback-reason textarea"), message="no reason box")[0]
    assert dislike.get_attribute("aria-expanded") == "true"
    assert page.find(".feedback-reason label").text == "What was wrong with this answer?"
    reason.send_keys("It skipped the Calvin cycle.")
    page.screenshot("dislike-reason")
    page.find(".feedback-reason .send-reason").click()
    page.wait(lambda: dislike.get_attribute("aria-pressed") == "true", message="dislike not recorded")
    received = fake("feedbacks")["data"]
    assert received[-1]["rating"] == "dislike" and received[-1]["content"] == "It skipped the Calvin cycle.", received[-1]

    dislike.click()   # the same rating again: withdrawn, without asking again
    page.wait(lambda: dislike.get_attribute("aria-pressed") == "false", message="dislike not withdrawn")
    assert not page.all(".feedback-reason")
    assert fake("feedbacks")["data"][-1]["rating"] is None

    page.find(".message-actions .like").click()
    page.wait(lambda: page.find(".message-actions .like").get_attribute("aria-pressed") == "true")
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: page.all(".message-actions .like"))
    assert page.find(".message-actions .like").get_attribute("aria-pressed") == "true", "the stored rating is shown"


def test_read_aloud_plays_the_answer(page, user):
    system = feature_system({"text_to_speech_enabled": True})
    open_page(page, system, user)
    page.type_and_send("Say hello")
    page.wait_answer_done()
    button = page.wait(lambda: page.all(".message-actions .read-aloud"), message="no read-aloud button")[0]
    assert button.get_attribute("aria-label") == "Read aloud"
    button.click()
    page.wait(lambda: page.driver.execute_script(
        "const a = document.getElementById('read-aloud-audio'); return a.played.length > 0 && a.currentTime > 0"),
        message="the audio did not play")
    assert page.find("#read-aloud-audio").get_attribute("src").startswith("blob:")
    page.wait(lambda: page.driver.execute_script("return document.getElementById('read-aloud-audio').ended"),
              timeout=40, message="the audio did not play to its end")
    page.wait(lambda: button.get_attribute("aria-pressed") == "false")
    assert not [e for e in page.driver.get_log("browser") if "Content Security Policy" in e["message"]]


def test_features_the_app_has_off_do_not_appear(page, user):
    system = feature_system({"text_to_speech_enabled": False, "speech_to_text_enabled": False})
    open_page(page, system, user)
    page.type_and_send("plain")
    page.wait_answer_done()
    time.sleep(0.5)
    assert not page.all(".message-actions .read-aloud")
    assert not page.find("#mic-button").is_displayed()
    assert not page.find("#attach-button").is_displayed()
    assert not page.all("#opening")


def test_the_microphone_fills_the_composer(page, user):
    system = feature_system({"speech_to_text_enabled": True})
    open_page(page, system, user)
    microphone = page.wait(lambda: [b for b in page.all("#mic-button") if b.is_displayed()], message="no microphone")[0]
    assert microphone.get_attribute("aria-label") == "Voice input"
    microphone.click()
    page.wait(lambda: microphone.get_attribute("aria-pressed") == "true", message="recording did not start")
    assert microphone.get_attribute("aria-label") == "Stop recording"
    time.sleep(1.5)
    page.screenshot("microphone-recording")
    microphone.click()
    page.wait(lambda: page.find("#composer-input").get_attribute("value"), timeout=20, message="no transcript")
    text = page.find("#composer-input").get_attribute("value")
    # The fake transcribes by naming what it got: a WAV the page recorded (16 kHz 16-bit mono is 32 kB a second).
    assert text.startswith("Transcript of ") and text.endswith("recording.wav"), text
    size = int(text.split()[2])
    assert size > 32000, text
    uploads = fake("stats").get("uploads", [])
    assert uploads and uploads[-1]["mime_type"].startswith("audio/wav"), uploads[-1:]
    assert page.find("#send-button").is_enabled()


def test_math_and_highlighted_code_render_and_hostile_markdown_stays_inert(page, user):
    system = feature_system(inline_math=True)
    open_page(page, system, user)
    page.type_and_send("\n".join([
        "/answer Euler: $e^{i\\pi} + 1 = 0$ costs $5 and $10.", "",
        "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$", "",
        "```python", "def area(r):", "    return 3.14159 * r ** 2  # circle", "```", "",
        "<think>First recall the formula.</think>", "",
        "| n | n² |", "|--:|--:|", "| 2 | 4 |",
    ]))
    page.wait_answer_done()
    content = page.find(".message.assistant .content")
    page.wait(lambda: len(content.find_elements(By.CSS_SELECTOR, ".katex")) == 2, message="math not typeset")
    assert len(content.find_elements(By.CSS_SELECTOR, ".katex-display")) == 1
    assert "$5 and $10" in content.text, "prices are not math"
    page.wait(lambda: content.find_elements(By.CSS_SELECTOR, "pre code .hljs-keyword"), message="code not highlighted")
    assert content.find_element(By.CSS_SELECTOR, "pre code").text.startswith("def area(r):")
    assert content.find_element(By.CSS_SELECTOR, ".md-copy-code").text == "Copy code"
    reasoning = content.find_element(By.CSS_SELECTOR, "details.md-reasoning")
    assert reasoning.find_element(By.CSS_SELECTOR, "summary").text == "Reasoning"
    assert [td.text for td in content.find_elements(By.CSS_SELECTOR, "td")] == ["2", "4"]
    page.driver.set_window_size(1280, 1100)
    page.screenshot("math-and-code")
    page.driver.set_window_size(1280, 860)
    # The font files come from the gateway (no other host), as font/woff2.
    fonts = page.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.woff2'))")
    assert fonts and all(f.startswith(GATEWAY + "/chat-assets/vendor/katex/fonts/") for f in fonts), fonts

    hostile = "\n".join([
        "/answer [js](javascript:window.__xss='link') [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[vb](vbscript:msgbox) <a href=\"javascript:window.__xss='a'\">raw link</a>", "",
        "<iframe src=\"javascript:window.__xss='iframe'\"></iframe>", "",
        "<img src=x onerror=\"window.__xss='img'\"> <svg onload=\"window.__xss='svg'\"></svg>", "",
        "<details><summary onclick=\"window.__xss='summary'\">open me</summary><p onmouseover=\"window.__xss='p'\">x</p></details>", "",
        "$$\\href{javascript:window.__xss='katex'}{click}$$ $$<img src=x onerror=window.__xss='math'>$$", "",
        "$\\htmlClass{x}{y} <script>window.__xss='inline-math'</script>$", "",
        "```html", "<script>window.__xss='code'</script><img src=x onerror=\"window.__xss='code-img'\">", "```", "",
        "`<b onclick=\"window.__xss='span'\">inline</b>`", "",
        "![pic](javascript:window.__xss='image') ![pic2](https://elsewhere.example/track.png)",
    ])
    page.type_and_send(hostile)
    page.wait_answer_done(count=2)
    time.sleep(1)
    answer = page.all(".message.assistant .content")[-1]
    for node in answer.find_elements(By.CSS_SELECTOR, "a, .katex a, details summary, p"):
        if node.is_displayed():
            try:
                node.click()
            except Exception:
                pass
    time.sleep(0.5)
    if page.driver.current_url.startswith(GATEWAY):
        assert page.driver.execute_script("return window.__xss") is None
    assert not answer.find_elements(By.CSS_SELECTOR, "iframe, script, img, object, embed, form")
    hrefs = [a.get_attribute("href") for a in answer.find_elements(By.CSS_SELECTOR, "a")]
    assert all(h.startswith("https://") for h in hrefs), hrefs
    with_handlers = page.driver.execute_script(
        "return [...arguments[0].querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on')"
        " || /javascript:|data:text/i.test(a.value))).map(e => e.outerHTML)", answer)
    assert with_handlers == []
    assert "<script>window.__xss='code'</script>" in answer.find_element(By.CSS_SELECTOR, "pre code").text
    page.screenshot("xss-inert")
    # From the history, after a reload, the same.
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: len(page.answers()) == 2)
    time.sleep(1)
    assert page.driver.execute_script("return window.__xss") is None
    assert not page.all(".message.assistant .content iframe, .message.assistant .content script, .message.assistant .content img")


@pytest.mark.parametrize("lang,expected", [
    ("ko", {"starters": "이렇게 물어보세요", "attach": "파일 첨부", "record": "음성 입력", "sources": "출처 (2)",
            "regenerate": "다시 생성"}),
    ("ja", {"starters": "こんな質問をどうぞ", "attach": "ファイルを添付", "record": "音声入力", "sources": "出典 (2)",
            "regenerate": "再生成"}),
])
def test_the_new_parts_speak_korean_and_japanese(page, user, lang, expected):
    system = feature_system({"opening_statement": {"ko": "안녕하세요! 무엇이든 물어보세요.", "ja": "こんにちは！何でも聞いてください。"}[lang],
                             "suggested_questions": {"ko": ["미분이 뭐예요?"], "ja": ["微分とは？"]}[lang],
                             "retriever_resources": SOURCES, "file_upload": IMAGES_ONLY})
    open_page(page, system, user, lang=lang)
    page.wait(lambda: page.all("#opening .starters .chip"))
    assert page.find("#opening .starters").get_attribute("aria-label") == expected["starters"]
    page.wait(lambda: page.find("#attach-button").is_displayed())
    assert page.find("#attach-button").get_attribute("aria-label") == expected["attach"]
    assert page.find("#mic-button").get_attribute("aria-label") == expected["record"]
    page.find("#opening .starters .chip").click()
    page.wait_answer_done()
    assert page.find(".sources summary").text == expected["sources"]
    assert page.find(".message-actions .regenerate").get_attribute("aria-label") == expected["regenerate"]
    page.find(".sources summary").click()
    page.screenshot(f"features-{lang}")


def test_the_new_parts_fit_a_phone(page, user):
    system = feature_system({"opening_statement": OPENING, "suggested_questions": STARTERS,
                             "retriever_resources": SOURCES, "file_upload": IMAGES_ONLY})
    page.driver.set_window_size(390, 844)
    open_page(page, system, user)
    page.wait(lambda: page.all("#opening .starters .chip"))
    page.screenshot("phone-opening")
    page.type_and_send("/vary A phone answer with $$x^2$$ and\n\n```js\nconst a = 1;\n```\n\nDone.")
    page.wait_answer_done()
    page.find(".message-actions .regenerate").click()
    page.wait(lambda: page.all(".version-label") and not page.busy(), timeout=20)
    page.find(".sources summary").click()
    page.assert_fits_a_phone()
    page.screenshot("phone-features")


def test_the_new_parts_work_inside_the_widget_frame(page, user):
    system = feature_system({"opening_statement": OPENING, "suggested_questions": STARTERS,
                             "retriever_resources": SOURCES, "file_upload": IMAGES_ONLY})
    token = system_token(system, user)

    with client_site(system, token) as site:
        page.driver.get(site)
        page.wait(lambda: page.all("#chat-gateway-launcher"))[0].click()
        frame = page.wait(lambda: [f for f in page.all("#chat-gateway-panel iframe") if f.is_displayed()])[0]
        assert set(frame.get_attribute("allow").replace(" ", "").split(";")) >= {"clipboard-write", "microphone"}
        page.driver.switch_to.frame(frame)
        page.app_ready()
        page.wait(lambda: page.all("#opening .starters .chip"), message="no starters in the frame")
        page.wait(lambda: page.find("#attach-button").is_displayed() and page.find("#mic-button").is_displayed())
        page.all("#opening .starters .chip")[1].click()
        page.wait_answer_done()
        page.find(".sources summary").click()
        width = page.driver.execute_script("return document.documentElement.scrollWidth <= innerWidth")
        assert width, "the framed page scrolls sideways"
        page.driver.switch_to.default_content()
        page.screenshot("widget-features")


def test_agent_steps_and_chatflow_progress_show_while_streaming(page, user):
    fake("options", {"token_delay_ms": 120})
    system = feature_system()
    open_page(page, system, user)
    page.type_and_send("/agent /tokens 30")
    page.wait(lambda: page.all(".message.assistant .steps"), message="no agent step shown")
    summary = page.find(".message.assistant .steps summary")
    page.screenshot("agent-steps")
    page.wait_answer_done(timeout=30)
    summary.click()
    assert page.all(".message.assistant .steps .step")
    page.type_and_send("/workflow /tokens 20")
    page.wait(lambda: len(page.all(".message.assistant .steps")) == 2, message="no chatflow progress shown")
    page.wait_answer_done(count=2, timeout=30)
    steps = page.all(".message.assistant .steps")[-1]
    assert steps.get_attribute("open") is None, "the steps fold away once the answer is there"


def test_a_file_from_the_assistant_is_shown_with_the_answer(page, user):
    system = feature_system()
    open_page(page, system, user)
    page.type_and_send("/file https://files.example/charts/growth.png Here is the chart.")
    page.wait_answer_done()
    # From another host an image could not load under the page's CSP: it is a link instead.
    link = page.wait(lambda: page.all(".message.assistant .answer-files a.file-link"), message="no assistant file")[0]
    assert link.get_attribute("href") == "https://files.example/charts/growth.png"
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert page.answers()[-1] == "Echo: Here is the chart."
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: page.all(".message.assistant .answer-files a.file-link"), message="the file is not in the history")
