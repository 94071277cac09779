"""Index-time checks for runbook text that tries to steer the language model.

Runbooks are written by people, but they are pasted into a model's prompt: hidden HTML
comments and "ignore previous instructions" are the usual ways to smuggle orders in. Comments
are removed from what is stored; sections that look like an injection are reported by
citation so a person can read them.
"""

import re

from jamie.knowledge.text import fold_accents

# Stands in for a removed HTML comment until the section is split, so the section that held
# it can be told apart afterwards. An empty comment: it can only come from a comment, and it
# survives the header splitter, which drops unprintable characters.
COMMENT_MARK = "<!---->"

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

_INJECTION = re.compile(
    "|".join(
        (
            r"\bignore\b.{0,40}\b(instructions?|prompts?|rules|guidelines)\b",
            r"\bdisregard\b.{0,40}\b(instructions?|previous|prior|above|rules|system|prompts?)\b",
            r"\breveal\b.{0,60}\b(settings?|secrets?|tokens?|passwords?|credentials?|keys?)\b",
            r"\bsystem prompt\b",
            r"\bprompt do sistema\b",
            r"\bignor[ae]\b.{0,40}\b(instrucoes|regras|orientacoes)\b",
            r"\bdesconsider[ae]\b.{0,40}\b(instrucoes|regras|anteriores|acima)\b",
            r"\brevel[ae]\b.{0,60}\b(configurac\w*|segredos?|tokens?|senhas?|credenciais|chaves?)",
        )
    ),
    re.IGNORECASE | re.DOTALL,
)


def mark_html_comments(markdown: str) -> str:
    """Replace each HTML comment (an unclosed one runs to the end) with `COMMENT_MARK`."""
    return _HTML_COMMENT.sub(COMMENT_MARK, markdown)


def looks_like_injection(text: str) -> bool:
    """True if `text` holds a removed comment or reads like orders to the model."""
    return COMMENT_MARK in text or _INJECTION.search(fold_accents(text)) is not None
