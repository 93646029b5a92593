"""LiteLLM (from PyPI) as a client of the gateway's /openai/v1 through its `openai/` provider, run by
e2e/openai-clients.sh in its own virtual environment (with LITELLM_LOCAL_MODEL_COST_MAP=True: no fetch at import):
a completion and a stream give the fake Dify's answer, and both turns are stored as the gateway stores any other.
LiteLLM's `openai/` provider leaves the `user` argument out of the request, so these turns are the key's own user's.

Usage: openai_litellm.py GATEWAY_URL DRILLQUIZ_KEY ALL_KEY
"""
import importlib.metadata
import sys

import litellm

from openai_checks import Checks, Gateway, fake_answer, fake_usage

gateway_url, drillquiz_key, all_key = sys.argv[1:4]
checks = Checks("litellm " + importlib.metadata.version("litellm"))
check = checks.check
operator = Gateway(gateway_url, all_key)
litellm.telemetry = False
endpoint = {"model": "openai/drillquiz", "api_base": gateway_url + "/openai/v1", "api_key": drillquiz_key}


@checks.step
def completion():
    text = "Hello from LiteLLM"
    response = litellm.completion(**endpoint, messages=[{"role": "user", "content": text}])
    answer = response.choices[0].message.content
    check(answer == fake_answer(text) and response.choices[0].finish_reason == "stop", f"completion: {response}")
    check(response.usage.prompt_tokens == fake_usage(text)["prompt_tokens"]
          and response.usage.completion_tokens == fake_usage(text)["completion_tokens"], f"usage: {response.usage}")
    check(response.id.startswith("chatcmpl-"), f"id: {response.id}")
    check(operator.stored_answer("drillquiz", text) == answer, "the stored answer is the one returned")


@checks.step
def stream():
    text = "/tokens 15"
    chunks = list(litellm.completion(**endpoint, messages=[{"role": "user", "content": text}], stream=True,
                                     stream_options={"include_usage": True}))
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    check(streamed == fake_answer(text), f"stream: {streamed!r}")
    check(len({chunk.id for chunk in chunks}) == 1, f"ids: {({chunk.id for chunk in chunks})}")
    usage = [getattr(chunk, "usage", None) for chunk in chunks if getattr(chunk, "usage", None)]
    check(usage and usage[-1].total_tokens == fake_usage(text)["total_tokens"], f"streamed usage: {usage}")
    check(operator.stored_answer("drillquiz", text) == streamed, "the stored answer is the one streamed")


checks.finish()
