"""Every fixed text Jamie shows, in Portuguese (Brazil) and English, from message catalogs."""

from bot.i18n.catalog import DEFAULT_LANGUAGE, LANGUAGES, Catalog, normalise_language

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Catalog", "normalise_language"]
