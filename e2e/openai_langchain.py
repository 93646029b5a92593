"""LangChain's `ChatOpenAI` (langchain-openai from PyPI) pointed at the gateway's /openai/v1, run by
e2e/openai-clients.sh in its own virtual environment: `invoke` and `stream` give the fake Dify's answer, streamed
usage is Dify's, and both turns are stored as the gateway stores any other.

Usage: openai_langchain.py GATEWAY_URL DRILLQUIZ_KEY ALL_KEY
"""
import sys

import langchain_openai
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from openai_checks import Checks, Gateway, fake_answer, fake_usage

gateway_url, drillquiz_key, all_key = sys.argv[1:4]
checks = Checks("langchain-openai " + getattr(langchain_openai, "__version__", ""))
check = checks.check
operator = Gateway(gateway_url, all_key)
llm = ChatOpenAI(base_url=gateway_url + "/openai/v1", api_key=drillquiz_key, model="drillquiz",
                 include_response_headers=True, stream_usage=True)


@checks.step
def invoke():
    text = "Hello from LangChain invoke"
    message = llm.invoke([SystemMessage("Be brief."), HumanMessage(text)])
    check(message.content == fake_answer(text), f"invoke: {message.content!r}")
    headers = message.response_metadata.get("headers", {})
    check(headers.get("x-turn-id") and message.response_metadata.get("finish_reason") == "stop",
          f"response_metadata: {message.response_metadata}")
    check(message.usage_metadata["input_tokens"] == fake_usage(text)["prompt_tokens"]
          and message.usage_metadata["output_tokens"] == fake_usage(text)["completion_tokens"],
          f"usage: {message.usage_metadata}")
    check(operator.stored_answer("drillquiz", text) == message.content, "the stored answer is the one returned")


@checks.step
def stream():
    text = "/tokens 12"
    chunks = list(llm.stream("/tokens 12"))
    streamed = "".join(chunk.content for chunk in chunks)
    check(streamed == fake_answer(text), f"stream: {streamed!r}")
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    check(total.usage_metadata and total.usage_metadata["total_tokens"] == fake_usage(text)["total_tokens"],
          f"streamed usage: {total.usage_metadata}")
    check(operator.stored_answer("drillquiz", text) == streamed, "the stored answer is the one streamed")


checks.finish()
