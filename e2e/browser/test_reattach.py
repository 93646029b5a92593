"""The chat page across reloads, tabs and network trouble: an answer keeps streaming into a page reloaded while
it streams, into a second window on the same conversation, and into a page whose connection broke, each time
without a word lost or doubled and without Dify being asked twice."""
import json
import re
import time
import urllib.parse

from conftest import API_KEY, GATEWAY, SYSTEM, fake, http

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Put into the page before its own scripts (DevTools protocol): records the page's fetches (method, URL,
# Idempotency-Key), and breaks the network on demand. `window.__cutChatAfter = 'tok8 '`: the next /v1/chat stream
# fails, as a dropped connection does, right after the chunk holding that text. `window.__loseChatResponse = true`:
# the next /v1/chat request reaches the gateway, but its response never reaches the page (a network error).
NETWORK = r"""
(() => {
  const realFetch = window.fetch.bind(window);
  window.__calls = [];
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    const method = (init && init.method) || 'GET';
    const headers = (init && init.headers) || {};
    window.__calls.push({ method: method, url: url, key: headers['Idempotency-Key'] || null });
    const answer = realFetch(input, init);
    if (method !== 'POST' || url !== '/v1/chat') return answer;
    if (window.__loseChatResponse) {
      window.__loseChatResponse = false;
      return answer.then((response) => {
        response.body.cancel();
        throw new TypeError('Failed to fetch');
      });
    }
    const marker = window.__cutChatAfter;
    if (!marker) return answer;
    window.__cutChatAfter = null;
    return answer.then((response) => {
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let seen = '';
      let cut = false;
      const body = new ReadableStream({
        pull(controller) {
          if (cut) {
            reader.cancel();
            controller.error(new TypeError('network error'));
            return;
          }
          return reader.read().then(({ done, value }) => {
            if (done) return controller.close();
            seen += decoder.decode(value, { stream: true });
            cut = seen.includes(marker);
            controller.enqueue(value);
          });
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    });
  };
})();
"""


def tokens(count):
    """The fake Dify's answer to `/tokens N`."""
    return " ".join(f"tok{i}" for i in range(1, count + 1))


def listed_turn(user):
    """The turn in progress in the user's only conversation, as `GET /v1/conversations` lists it."""
    status, _, text = http("GET", f"{GATEWAY}/v1/conversations?system_id={SYSTEM}&user_id={user}",
                           headers={"X-API-Key": API_KEY})
    assert status == 200, text
    conversations = json.loads(text)
    assert len(conversations) == 1, conversations
    return conversations[0]["id"], conversations[0].get("turn")


def turn_state(token, turn_id):
    status, _, text = http("GET", f"{GATEWAY}/v1/turns/{turn_id}", headers={"Authorization": f"Bearer {token}"})
    assert status == 200, text
    return json.loads(text)


def stored_messages(user, conversation):
    query = urllib.parse.urlencode({"system_id": SYSTEM, "user_id": user})
    status, _, text = http("GET", f"{GATEWAY}/v1/conversations/{conversation}/messages?{query}",
                           headers={"X-API-Key": API_KEY})
    assert status == 200, text
    return [(row["role"], row["content"]) for row in json.loads(text)]


def follow_to_the_end(page, whole, timeout=30):
    """Reads the last answer until it is done: every reading must be the start of the whole answer (a word doubled
    or lost would break that), and no reading shorter than the one before. Returns the readings."""
    readings = []

    def done():
        answers = page.answers()
        if answers:
            readings.append(answers[-1])
        return not page.busy()
    page.wait(done, timeout, "the answer did not finish")
    for before, after in zip(readings, readings[1:]):
        assert len(after) >= len(before), f"the answer shrank: {before!r} -> {after!r}"
    for reading in readings:
        assert whole.startswith(reading), f"not the start of the answer (doubled or lost text): {reading!r}"
    return readings


def kept_turns(page, user):
    return page.driver.execute_script(
        "return sessionStorage.getItem(arguments[0])", f"chat-gateway.turns.{SYSTEM}.{user}")


def test_a_reload_mid_answer_shows_the_text_so_far_at_once_then_the_rest(page, user):
    # Twelve seconds of answer: the reload and its checks land mid-answer however slow the machine.
    fake("options", {"token_delay_ms": 200})
    token = page.open(user)
    page.app_ready()
    before = fake("stats")["chat_requests"]
    page.type_and_send("/tokens 60")
    page.wait(lambda: page.answers() and "tok5 " in page.answers()[-1], message="no streamed text before the reload")
    conversation, turn = listed_turn(user)
    assert turn and turn["status"] == "streaming" and UUID.match(turn["turn_id"]), turn
    assert json.loads(kept_turns(page, user))[conversation]["turn_id"] == turn["turn_id"], \
        "the page does not keep the turn it streams"

    page.driver.refresh()
    reloaded = time.monotonic()
    page.wait(lambda: page.answers() and page.answers()[-1].startswith("tok1 tok2 tok3 tok4 tok5"), timeout=2,
              message="the text so far did not show within 2 s of the reload")
    assert time.monotonic() - reloaded < 2
    assert page.busy() and page.find("#stop-button").is_displayed(), "the reloaded page does not show the answer as streaming"
    # (Dify names the conversation once its first answer is done; until then the list says "New conversation".)
    page.wait(lambda: page.all(".conversation.current"), timeout=2, message="the conversation is not marked current")
    page.screenshot("reattached-after-reload")

    whole = tokens(60)
    readings = follow_to_the_end(page, whole)
    assert any(len(r) < len(whole) for r in readings[1:]), "the rest did not stream in after the reload"
    page.wait_answer_done()
    assert page.answers() == [whole]
    assert [e.text for e in page.all(".message.user .bubble")] == ["/tokens 60"]
    state = turn_state(token, turn["turn_id"])
    assert state["status"] == "completed" and state["text"] == whole == page.answers()[-1]
    assert fake("stats")["chat_requests"] == before + 1, "Dify was asked again"
    assert stored_messages(user, conversation) == [("user", "/tokens 60"), ("assistant", whole)]
    assert kept_turns(page, user) is None, "the finished turn is still kept"
    page.wait(lambda: page.conversation_names() == ["/tokens 60"], message="the conversation is not named after its answer")
    # The answer, reattached, is a whole answer: rated like any other, with Dify's suggested questions.
    page.wait(lambda: len(page.all(".suggestions .chip")) == 3, message="no suggested questions after the reattached answer")


def test_stop_works_on_an_answer_reattached_after_a_reload(page, user):
    fake("options", {"token_delay_ms": 120})
    token = page.open(user)
    page.app_ready()
    page.type_and_send("/tokens 300")
    page.wait(lambda: page.answers() and "tok3 " in page.answers()[-1], message="no streamed text before the reload")
    _, turn = listed_turn(user)
    page.driver.refresh()
    page.wait(lambda: page.answers() and page.answers()[-1].startswith("tok1 tok2 tok3"), timeout=2)
    page.wait(lambda: page.find("#stop-button").is_enabled(), message="Stop is not offered")
    page.find("#stop-button").click()
    page.wait(lambda: page.all(".message.assistant .notice.stopped"), message="the reattached stream did not stop")
    assert not page.busy()
    state = turn_state(token, turn["turn_id"])
    assert state["status"] == "stopped"
    assert "tok300" not in state["text"] and page.answers()[-1] == state["text"].strip()


def test_a_second_window_on_the_conversation_shows_the_same_growing_answer(page, user):
    fake("options", {"token_delay_ms": 200})
    page.open(user)
    page.app_ready()
    before = fake("stats")["chat_requests"]
    page.type_and_send("/tokens 60")
    page.wait(lambda: page.answers() and "tok3 " in page.answers()[-1], message="no streamed text in the first window")
    first = page.driver.current_window_handle

    page.driver.switch_to.new_window("window")
    page.open(user)   # the session is per tab: the second one gets its own token, for the same user
    page.app_ready()
    # The conversation last opened opens here too, with the answer so far; it keeps growing.
    page.wait(lambda: page.answers() and page.answers()[-1].startswith("tok1 tok2 tok3"), timeout=3,
              message="the second window does not show the answer so far")
    assert page.busy()
    partial = page.answers()[-1]
    page.wait(lambda: len(page.answers()[-1]) > len(partial), message="the answer does not grow in the second window")
    whole = tokens(60)
    follow_to_the_end(page, whole)
    page.wait_answer_done()
    assert page.answers() == [whole]
    page.screenshot("second-window")

    page.driver.switch_to.window(first)
    page.wait_answer_done()
    assert page.answers() == [whole]
    assert [e.text for e in page.all(".message.user .bubble")] == ["/tokens 60"]
    assert fake("stats")["chat_requests"] == before + 1


def test_a_window_left_open_on_the_conversation_shows_an_answer_asked_in_another(page, user):
    page.open(user)
    page.app_ready()
    page.type_and_send("first question")
    page.wait_answer_done()
    first = page.driver.current_window_handle
    page.driver.switch_to.new_window("window")
    idle = page.driver.current_window_handle
    page.open(user)
    page.app_ready()
    page.wait(lambda: page.answers() == ["Echo: first question"], message="the second window does not open the conversation")

    page.driver.switch_to.window(first)
    fake("options", {"token_delay_ms": 250})
    page.type_and_send("/tokens 40")
    page.wait(lambda: len(page.answers()) == 2 and page.answers()[-1].startswith("tok1"))

    page.driver.switch_to.window(idle)
    page.wait(lambda: len(page.answers()) == 2 and page.answers()[-1].startswith("tok1"), timeout=5,
              message="the window left open did not notice the new answer")
    assert page.busy()
    page.wait_answer_done(count=2)
    assert page.answers() == ["Echo: first question", tokens(40)]
    assert [e.text for e in page.all(".message.user .bubble")] == ["first question", "/tokens 40"]


def open_with_network_faults(page, user, token_delay_ms):
    """The page with NETWORK's fetch wrapper (faults on request, calls recorded); Dify's chat calls so far."""
    page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NETWORK})
    fake("options", {"token_delay_ms": token_delay_ms})
    page.open(user)
    page.app_ready()
    return fake("stats")["chat_requests"]


def test_a_stream_broken_by_the_network_resumes_after_the_last_event(page, user):
    before = open_with_network_faults(page, user, 60)
    page.driver.execute_script("window.__cutChatAfter = 'tok8 '")
    page.type_and_send("/tokens 40")
    whole = tokens(40)
    follow_to_the_end(page, whole)
    page.wait_answer_done()
    assert page.answers() == [whole]
    calls = page.driver.execute_script("return window.__calls")
    posts = [c for c in calls if c["method"] == "POST" and c["url"] == "/v1/chat"]
    assert len(posts) == 1 and UUID.match(posts[0]["key"] or ""), posts
    resumed = [c["url"] for c in calls if "/events" in c["url"]]
    assert resumed, "the page did not reconnect to the turn's events"
    after = re.fullmatch(r"/v1/turns/[0-9a-f-]{36}/events\?after=(\d+)", resumed[0])
    assert after and int(after.group(1)) >= 9, resumed   # start, then tok1 ... tok8 at least
    assert fake("stats")["chat_requests"] == before + 1, "Dify was asked again"

    # Every message has an Idempotency-Key of its own.
    page.type_and_send("second message")
    page.wait_answer_done(count=2)
    keys = [c["key"] for c in page.driver.execute_script("return window.__calls") if c["url"] == "/v1/chat"]
    assert len(keys) == 2 and keys[0] != keys[1] and all(UUID.match(k) for k in keys), keys


def test_a_message_whose_response_was_lost_is_sent_again_with_the_same_key(page, user):
    before = open_with_network_faults(page, user, 40)
    page.driver.execute_script("window.__loseChatResponse = true")
    page.type_and_send("/tokens 30")
    follow_to_the_end(page, tokens(30))
    page.wait_answer_done()
    assert page.answers() == [tokens(30)]
    assert not page.all(".send-error")
    posts = [c for c in page.driver.execute_script("return window.__calls") if c["url"] == "/v1/chat"]
    assert len(posts) == 2 and posts[0]["key"] == posts[1]["key"], posts
    assert fake("stats")["chat_requests"] == before + 1, "the repeated request was answered a second time"
    conversation, _ = listed_turn(user)
    assert stored_messages(user, conversation) == [("user", "/tokens 30"), ("assistant", tokens(30))]


def test_a_reload_before_the_answer_began_finds_the_new_conversations_turn(page, user):
    fake("options", {"token_delay_ms": 40, "latency_ms": 2500})
    page.open(user)
    page.app_ready()
    before = fake("stats")["chat_requests"]
    page.type_and_send("/tokens 20")
    page.wait(lambda: page.busy())
    # Dify has the request and is still thinking (2.5 s): no turn id, no conversation yet.
    page.wait(lambda: fake("stats")["chat_requests"] == before + 1, message="the question did not reach Dify")
    assert page.answers() == [""]
    page.driver.refresh()
    page.app_ready()
    page.wait(lambda: [e.text for e in page.all(".message.user .bubble")] == ["/tokens 20"], timeout=2,
              message="the question sent before the reload is not shown")
    assert page.busy()
    follow_to_the_end(page, tokens(20))
    page.wait_answer_done()
    assert page.answers() == [tokens(20)]
    assert fake("stats")["chat_requests"] == before + 1, "Dify was asked again"
    page.wait(lambda: page.conversation_names() == ["/tokens 20"], message="the new conversation is not listed")
    assert page.find(".conversation.current .conversation-name").text == "/tokens 20"
    conversation, _ = listed_turn(user)
    assert stored_messages(user, conversation) == [("user", "/tokens 20"), ("assistant", tokens(20))]
