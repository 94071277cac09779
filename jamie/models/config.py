"""The backend chain from configuration: `JAMIE_MODELS`.

    JAMIE_MODELS unset or `embedded`  the packaged SmolLM2 in-process (if installed)
    JAMIE_MODELS=none                 no model: retrieval-only answers
    JAMIE_MODELS=path/to/chain.yaml   an ordered chain (see deploy/models/chain.example.yaml)

The YAML is validated at start-up; a mistake names the field and the fix. An API key is
never written in the file: `api_key_env` names the variable that holds it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.plan.durations import parse_duration
from jamie.models.base import Backend, Tokenizer
from jamie.models.chain import ChainPolicy, ModelChain
from jamie.models.errors import ModelConfigError
from jamie.models.llamacpp import PACKAGED_MODEL_NAME, LlamaCppBackend, packaged_model_path
from jamie.models.mlx import MlxBackend
from jamie.privacy import PrivacyGate

log = logging.getLogger(__name__)

Seconds = Annotated[timedelta, BeforeValidator(parse_duration)]
EMBEDDED = "embedded"
OFF = {"none", "off", "0", "false", "no"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BackendSpec(_Strict):
    name: str = Field(min_length=1, max_length=60)
    kind: Literal["openai", "llamacpp", "mlx"]
    base_url: str | None = None  # openai: e.g. http://mac-studio-a.hospital.lan:8080/v1
    model: str = "packaged"  # openai: model id; llamacpp: GGUF path or "packaged"; mlx: dir
    api_key_env: str | None = None
    premises: Literal["local", "remote"] = "remote"  # remote: patient data is redacted
    context_tokens: int = Field(default=4096, ge=512, le=262144)
    tokenizer: Path | None = None  # openai: a tokenizer.json of the served model
    threads: int | None = Field(default=None, ge=1, le=256)
    prompt_tokens: int | None = Field(default=256, ge=64)  # llamacpp: a soft cap, for speed


class ChainSpec(_Strict):
    call_timeout: Seconds = timedelta(seconds=20)
    health_timeout: Seconds = timedelta(seconds=3)
    health_interval: Seconds = timedelta(seconds=30)
    failures_to_open: int = Field(default=1, ge=1, le=10)
    cooldown: Seconds = timedelta(seconds=30)
    backends: list[BackendSpec] = Field(default_factory=list)

    def policy(self) -> ChainPolicy:
        return ChainPolicy(
            call_timeout=self.call_timeout.total_seconds(),
            health_timeout=self.health_timeout.total_seconds(),
            health_interval=self.health_interval.total_seconds(),
            failures_to_open=self.failures_to_open,
            cooldown=self.cooldown.total_seconds(),
        )


def embedded_spec() -> BackendSpec:
    return BackendSpec(
        name=f"{EMBEDDED}/{PACKAGED_MODEL_NAME}",
        kind="llamacpp",
        model="packaged",
        premises="local",
        context_tokens=2048,
    )


def load_chain_spec(value: str | None) -> ChainSpec:
    """The chain `JAMIE_MODELS` describes; ModelConfigError names what is wrong."""
    cleaned = (value or "").strip()
    if cleaned.lower() in OFF:
        return ChainSpec()
    if not cleaned or cleaned.lower() == EMBEDDED:
        return ChainSpec(backends=[embedded_spec()])
    path = Path(cleaned).expanduser()
    if not path.is_file():
        raise ModelConfigError(
            f"JAMIE_MODELS={cleaned!r} is not a file: give a chain YAML "
            "(deploy/models/chain.example.yaml), `embedded` or `none`"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ChainSpec.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ModelConfigError(f"{path}: not valid YAML ({exc})") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ModelConfigError(f"{path}: {where}: {first['msg']}") from exc


def build_backend(spec: BackendSpec, env: Mapping[str, str]) -> Backend:
    if spec.kind == "openai":
        # Imported here: LangChain's OpenAI client takes most of a second to import.
        from jamie.models.openai_compat import OpenAICompatibleBackend

        if not spec.base_url:
            raise ModelConfigError(f"backend {spec.name}: kind openai needs base_url")
        key = env.get(spec.api_key_env) if spec.api_key_env else None
        if spec.api_key_env and not key:
            raise ModelConfigError(
                f"backend {spec.name}: the variable {spec.api_key_env} (api_key_env) is not set"
            )
        return OpenAICompatibleBackend(
            spec.name,
            base_url=spec.base_url,
            model=spec.model,
            api_key=key,
            remote=spec.premises == "remote",
            context_tokens=spec.context_tokens,
            tokenizer=_tokenizer(spec),
        )
    if spec.kind == "llamacpp":
        path = packaged_model_path() if spec.model == "packaged" else Path(spec.model)
        return LlamaCppBackend(
            spec.name, path, context_tokens=spec.context_tokens, threads=spec.threads,
            prompt_tokens=spec.prompt_tokens,
        )  # fmt: skip
    return MlxBackend(spec.name, Path(spec.model), context_tokens=spec.context_tokens)


def build_chain(
    spec: ChainSpec, *, gate: PrivacyGate | None = None, env: Mapping[str, str] | None = None
) -> ModelChain:
    env = os.environ if env is None else env
    backends = [build_backend(b, env) for b in spec.backends]
    names = [b.name for b in backends]
    if len(set(names)) != len(names):
        raise ModelConfigError(f"backend names must be unique: {', '.join(names)}")
    return ModelChain(backends, policy=spec.policy(), gate=gate)


def _tokenizer(spec: BackendSpec) -> Tokenizer | None:
    if spec.tokenizer is None:
        return None
    from tokenizers import Tokenizer as HFTokenizer

    if not spec.tokenizer.is_file():
        raise ModelConfigError(f"backend {spec.name}: tokenizer {spec.tokenizer} not found")
    loaded = HFTokenizer.from_file(str(spec.tokenizer))

    class _Counted:
        def count(self, text: str) -> int:
            return len(loaded.encode(text, add_special_tokens=False).ids)

    return _Counted()
