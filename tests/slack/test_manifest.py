"""The app manifest declares what the code listens to, and nothing it does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.slack.harness import REPO

MANIFESTS = sorted((REPO / "deploy" / "slack").glob("manifest*.yaml"))


def load(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return manifest


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_declares_the_commands_events_and_interactivity(path: Path) -> None:
    manifest = load(path)

    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/incident", "/jamie"}
    assert all(c["should_escape"] for c in manifest["features"]["slash_commands"])
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_mention"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "channels:manage", "pins:write", "users:read"} <= scopes


def test_both_manifests_differ_only_in_how_slack_reaches_jamie() -> None:
    http, socket = (load(p) for p in MANIFESTS[::-1])  # manifest.yaml, manifest-socket-mode

    assert http["settings"]["socket_mode_enabled"] is False
    assert socket["settings"]["socket_mode_enabled"] is True
    assert http["oauth_config"] == socket["oauth_config"]
