"""Runs the plan's hooks: the one path by which Jamie acts on other systems.

A hook is a local command (run without a shell) or an HTTP call. Its text may say
`{ref}`, `{number}` or `{severity}` (Jamie's own values, never alert text) and `${NAME}`
(a secret from Jamie's environment). `describe` shows what will run with secrets still as
`${NAME}`; `run` returns the outcome with every secret value and anything that looks like
a credential masked, truncated to what a chat message can hold.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from bot.playbooks.model import Hook

log = logging.getLogger(__name__)

OUTPUT_LIMIT = 1500
_SECRET_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONTEXT_REF = re.compile(r"\{(ref|number|severity)\}")
_CREDENTIAL = re.compile(
    r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization)\b(\s*[:=]\s*\"?)"
    r"(bearer\s+|basic\s+)?[^\s\"',;&]+"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
MASK = "***"


class HookError(Exception):
    """A hook that cannot run as configured (e.g. a secret missing from the environment)."""


@dataclass(frozen=True, slots=True)
class HookResult:
    ok: bool
    summary: str  # "exit 0", "HTTP 503", "timed out after 20s", "could not start: …"
    output: str
    seconds: float
    exit_code: int | None = None


class HookRunner:
    def __init__(
        self,
        hooks: Mapping[str, Hook],
        *,
        environ: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        output_limit: int = OUTPUT_LIMIT,
    ) -> None:
        self._hooks = hooks
        self._environ = os.environ if environ is None else environ
        self._transport = transport
        self._limit = output_limit

    def knows(self, name: str) -> bool:
        return name in self._hooks

    def describe(self, name: str, context: Mapping[str, str]) -> str:
        """What will run, secrets left as ${NAME}: safe to show in chat."""
        hook = self._hooks[name]
        if hook.command is not None:
            return "$ " + " ".join(_fill(arg, context) for arg in hook.command)
        assert hook.http is not None
        return f"{hook.http.method} {_fill(hook.http.url, context)}"

    async def run(self, name: str, context: Mapping[str, str]) -> HookResult:
        hook = self._hooks[name]
        secrets: set[str] = set()
        started = time.perf_counter()
        if hook.command is not None:
            result = await self._command(hook, context, secrets)
            kind = "command"
        else:
            result = await self._http(hook, context, secrets)
            kind = "http"
        seconds = time.perf_counter() - started
        log.info("hook %s (%s) %s in %.2fs", name, kind, result.summary, seconds)
        output = self._clean(result.output, secrets)
        return HookResult(result.ok, result.summary, output, seconds, result.exit_code)

    def _secret(self, text: str, context: Mapping[str, str], secrets: set[str]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in self._environ:
                raise HookError(f"environment variable {name} is not set on Jamie")
            secrets.add(self._environ[name])
            return self._environ[name]

        return _SECRET_REF.sub(value, _fill(text, context))

    async def _command(
        self, hook: Hook, context: Mapping[str, str], secrets: set[str]
    ) -> HookResult:
        assert hook.command is not None
        argv = [self._secret(arg, context, secrets) for arg in hook.command]
        env = {"PATH": self._environ.get("PATH", os.defpath), "LANG": "C.UTF-8"}
        env.update({k: self._secret(v, context, secrets) for k, v in hook.env.items()})
        env["JAMIE_INCIDENT"] = context.get("ref", "")
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
            )
        except OSError as exc:
            return HookResult(False, f"could not start: {type(exc).__name__}", str(exc), 0.0)
        timeout = hook.timeout.total_seconds()
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            out, _ = await process.communicate()
            return HookResult(False, f"timed out after {timeout:g}s", _text(out), 0.0)
        code = process.returncode
        return HookResult(code == 0, f"exit {code}", _text(out), 0.0, code)

    async def _http(self, hook: Hook, context: Mapping[str, str], secrets: set[str]) -> HookResult:
        call = hook.http
        assert call is not None
        url = self._secret(call.url, context, secrets)
        headers = {k: self._secret(v, context, secrets) for k, v in call.headers.items()}
        body = _fill_json(call.json_body, context) if call.json_body is not None else None
        timeout = hook.timeout.total_seconds()
        try:
            async with httpx.AsyncClient(
                timeout=timeout, transport=self._transport, follow_redirects=False
            ) as client:
                response = await client.request(call.method, url, headers=headers, json=body)
        except httpx.TimeoutException:
            return HookResult(False, f"timed out after {timeout:g}s", "", 0.0)
        except httpx.HTTPError as exc:
            return HookResult(False, f"request failed: {type(exc).__name__}", "", 0.0)
        ok = 200 <= response.status_code < 300
        return HookResult(ok, f"HTTP {response.status_code}", response.text, 0.0)

    def _clean(self, output: str, secrets: set[str]) -> str:
        for secret in sorted(secrets, key=len, reverse=True):
            if len(secret) >= 4:
                output = output.replace(secret, MASK)
        output = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", output)
        output = _CREDENTIAL.sub(lambda m: f"{m[1]}{m[2]}{m[3] or ''}{MASK}", output)
        output = output.strip()
        if len(output) > self._limit:
            output = output[: self._limit].rstrip() + f"… ({len(output)} characters, truncated)"
        return output


def _fill(text: str, context: Mapping[str, str]) -> str:
    return _CONTEXT_REF.sub(lambda m: context.get(m.group(1), m.group(0)), text)


def _fill_json(value: object, context: Mapping[str, str]) -> object:
    if isinstance(value, str):
        return _fill(value, context)
    if isinstance(value, dict):
        return {k: _fill_json(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_json(v, context) for v in value]
    return value


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")
