"""A word-level diff of two texts, as escaped HTML: deleted words in `<del class="diff-del">`, added ones in
`<ins class="diff-add">`. Whitespace is kept as it was, so line breaks survive; every piece of text is escaped."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from html import escape

_TOKENS = re.compile(r"\s+|[^\s]+")
LONG_TEXT_TOKENS = 4000
"""Beyond this many tokens in all, very common tokens stop anchoring the match (difflib's autojunk), to bound the time."""


def tokens(text: str) -> list[str]:
    """Words and the whitespace runs between them, in order (joined, they give `text` back)."""
    return _TOKENS.findall(text)


def _mark(tag: str, parts: list[str]) -> str:
    text = escape("".join(parts))
    return f'<{tag} class="diff-{"add" if tag == "ins" else "del"}">{text}</{tag}>' if text else ""


def word_diff_html(old: str, new: str) -> tuple[str, str]:
    """The old text with its removed words marked and the new text with its added words marked (escaped HTML)."""
    a, b = tokens(old), tokens(new)
    matcher = SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > LONG_TEXT_TOKENS)
    left: list[str] = []
    right: list[str] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(escape("".join(a[i1:i2])))
            right.append(escape("".join(b[j1:j2])))
            continue
        if op in ("replace", "delete"):
            left.append(_mark("del", a[i1:i2]))
        if op in ("replace", "insert"):
            right.append(_mark("ins", b[j1:j2]))
    return "".join(left), "".join(right)
