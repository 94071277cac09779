"""Any OpenAI-compatible chat endpoint: `mlx_lm.server` on a Mac Studio, a cloud fallback,
`llama_cpp.server` in tests. LangChain's `ChatOpenAI` speaks the protocol (streaming,
payload, error types); this class adds Jamie's timeout, health check and error translation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence

import httpx
import openai
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from jamie.models.base import ApproximateTokenizer, Message, Tokenizer
from jamie.models.errors import BackendTimeout, BackendUnavailable

log = logging.getLogger(__name__)

_ROLES: dict[str, type[BaseMessage]] = {
    "system": SystemMessage,
    "user": HumanMessage,
    "assistant": AIMessage,
}


class OpenAICompatibleBackend:
    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        remote: bool = True,
        context_tokens: int = 8192,
        tokenizer: Tokenizer | None = None,
        temperature: float = 0.2,
    ) -> None:
        self.name = name
        self.remote = remote
        self.context_tokens = context_tokens
        self.prompt_tokens: int | None = None
        self.base_url = base_url.rstrip("/")
        self._tokenizer = tokenizer or ApproximateTokenizer()
        self._api_key = api_key
        # max_retries=0: the chain decides what happens after a failure, not the client.
        self._chat = ChatOpenAI(
            model=model,
            base_url=self.base_url,
            api_key=SecretStr(api_key or "not-needed"),
            temperature=temperature,
            max_retries=0,
            streaming=True,
        )

    def count_tokens(self, text: str) -> int:
        return self._tokenizer.count(text)

    async def health(self, time_limit: float) -> bool:
        """The endpoint lists its models (`GET /models`), as both mlx_lm and llama.cpp do."""
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=time_limit) as client:
                response = await client.get(f"{self.base_url}/models", headers=headers)
        except httpx.HTTPError as exc:
            log.info("model %s health: %s", self.name, type(exc).__name__)
            return False
        log.info(
            "model %s health: HTTP %d in %.0f ms",
            self.name,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response.status_code == 200

    async def stream(
        self, messages: Sequence[Message], *, max_tokens: int, time_limit: float
    ) -> AsyncIterator[str]:
        payload = [_ROLES[m.role](content=m.content) for m in messages]
        try:
            async with asyncio.timeout(time_limit):
                async for chunk in self._chat.astream(payload, max_tokens=max_tokens):
                    text = chunk.text
                    if text:
                        yield text
        except TimeoutError as exc:
            raise BackendTimeout(self.name, time_limit) from exc
        except openai.APIStatusError as exc:
            raise BackendUnavailable(self.name, f"HTTP {exc.status_code}") from exc
        except (openai.APIError, httpx.HTTPError) as exc:
            raise BackendUnavailable(self.name, type(exc).__name__) from exc

    async def close(self) -> None:
        """Nothing to release: ChatOpenAI's HTTP client lives with the process."""
