"""Settings from the environment, validated once at start-up. Every variable is optional:
the defaults run Jamie on embedded parts (SQLite, local Chroma index, console)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

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


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    home: Path
    database_url: str
    plan_path: Path
    knowledge_dir: Path
    index_dir: Path
    timezone: str = "America/Sao_Paulo"
    language: str | None = None
    status_interval: timedelta | None = None
    sweep_seconds: float = 2.0
    console_user: str = "local"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    http_enabled: bool = True
    log_level: str = "INFO"
    slack: SlackSettings | None = None

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. America/Sao_Paulo)") from exc
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
            "timezone": env.get("JAMIE_TIMEZONE", "America/Sao_Paulo"),
            "language": env.get("JAMIE_LANGUAGE") or None,
            "console_user": env.get("JAMIE_CONSOLE_USER") or env.get("USER") or "local",
            "log_level": env.get("JAMIE_LOG_LEVEL", "INFO").upper(),
            "http_host": env.get("JAMIE_HTTP_HOST", "127.0.0.1"),
            "http_enabled": env.get("JAMIE_HTTP", "on").lower() not in {"0", "off", "no", "false"},
        }
        try:
            if "JAMIE_STATUS_INTERVAL" in env:
                values["status_interval"] = parse_duration(env["JAMIE_STATUS_INTERVAL"])
            if "JAMIE_HTTP_PORT" in env:
                values["http_port"] = int(env["JAMIE_HTTP_PORT"])
            if "JAMIE_SWEEP_SECONDS" in env:
                values["sweep_seconds"] = float(env["JAMIE_SWEEP_SECONDS"])
            values["slack"] = _slack_from_env(env)
            return cls.model_validate(values)
        except ValueError as exc:
            raise SettingsError(f"invalid setting: {exc}") from exc
