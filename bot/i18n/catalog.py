"""Message catalogs: one YAML file per language, keys shared, placeholders in str.format style.

A missing key in one language falls back to the other and is logged once; tests check that
both catalogs carry the same keys and the same placeholders, so the fallback is a safety net.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

LANGUAGES = ("pt-BR", "en")
DEFAULT_LANGUAGE = "pt-BR"
_DIR = Path(__file__).with_name("messages")


def normalise_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """pt, pt_BR, pt-br, português -> pt-BR; en, en-US, english -> en; else `default`."""
    if not code:
        return default
    lowered = code.strip().lower().replace("_", "-")
    if lowered.startswith(("pt", "portug")):
        return "pt-BR"
    if lowered.startswith(("en", "ingl")):
        return "en"
    return default


@cache
def _load(language: str) -> dict[str, str]:
    raw = yaml.safe_load((_DIR / f"{language}.yaml").read_text(encoding="utf-8"))
    return _flatten(raw)


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value).rstrip("\n")
    return flat


class Catalog:
    """Looks up and formats messages for one language."""

    def __init__(self, language: str | None = None) -> None:
        self.language = normalise_language(language)

    def __call__(self, key: str, **params: Any) -> str:
        return self.text(key, **params)

    def text(self, key: str, **params: Any) -> str:
        template = _load(self.language).get(key)
        if template is None:
            other = next(lang for lang in LANGUAGES if lang != self.language)
            template = _load(other).get(key)
            if template is None:
                raise KeyError(f"message key {key!r} is in no catalog")
            log.warning("message %s missing in %s; used %s", key, self.language, other)
        return template.format(**params) if params else template

    def has(self, key: str) -> bool:
        return key in _load(self.language)

    @staticmethod
    def keys(language: str) -> dict[str, str]:
        return dict(_load(normalise_language(language)))
