"""Reading a ``%naive`` line as a person typing into a notebook means it (what is misread is paid
for): the tokens of a line, its comment cut off, its quotes and apostrophes followed.

- ``#`` then a space (an unquoted word made only of ``#``) starts a comment that runs to the end
  of the line; ``#1``, ``C#`` and a quoted ``"#"`` are text. In a ``%%naive`` body a line that
  starts with such a word is a comment line; elsewhere in the body ``#`` is text.
- An apostrophe inside a word (``a fox's den``) is a letter, not a quote.
- A quoted token that starts with a dash (``"-cute"``) is text, never a flag.
"""

from __future__ import annotations

import re
import shlex

__all__ = ["DASHES", "TO_HYPHEN", "MagicUsageError", "is_comment_start", "split_line"]


class MagicUsageError(ValueError):
    """A line that cannot be run as written; the message says what to write instead."""


# what autocorrect and word processors put where "-" or "--" was typed
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
TO_HYPHEN = str.maketrans(dict.fromkeys(DASHES, "-"))
_QUOTED = "\x1f"  # marks a quoted token that starts with a dash: a word, never a flag
_OPENING_QUOTE_DASH = re.compile(rf"""(^|\s)(["'])(?=[-{DASHES}])""")


def _is_apostrophe(line: str, index: int) -> bool:
    """A ``'`` between two letters or digits (``fox's``, ``don't``) is part of a word."""
    return 0 < index < len(line) - 1 and line[index - 1].isalnum() and line[index + 1].isalnum()


def is_comment_start(line: str, index: int) -> bool:
    """Whether the ``#`` at ``index`` begins a word made only of ``#`` (``#``, ``##``)."""
    if index > 0 and not line[index - 1].isspace():
        return False  # C#
    end = index
    while end < len(line) and line[end] == "#":
        end += 1
    return end == len(line) or line[end].isspace()  # not #1


def _prepare(line: str, single_quotes: bool) -> str | None:
    """``line`` ready for shlex: a trailing comment cut off, apostrophes inside words escaped.

    Quotes are followed as shlex (POSIX mode) follows them, so a ``#`` inside quotes stays text.
    ``single_quotes=False`` treats ``'`` as a letter. None when a quote is left open.
    """
    out: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote == "'":
            if char == "'" and _is_apostrophe(line, index):
                out.append("'\\''")  # close the quote, an escaped apostrophe, open it again
            else:
                out.append(char)
                quote = None if char == "'" else quote
        elif quote == '"':
            out.append(char)
            if char == "\\":  # the escaped character never closes the quote
                index += 1
                out.append(line[index : index + 1])
            elif char == '"':
                quote = None
        elif char == "\\":
            out.append(line[index : index + 2])
            index += 1
        elif char == "#" and is_comment_start(line, index):
            break
        elif char == "'" and single_quotes and _is_apostrophe(line, index):
            out.append("\\'")
        elif char == '"' or (char == "'" and single_quotes):
            out.append(char)
            quote = char
        else:
            out.append(char)
        index += 1
    return None if quote else "".join(out)


def _split(text: str, single_quotes: bool) -> list[str]:
    if single_quotes:
        return shlex.split(text)
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.commenters = ""
    return list(lexer)


def split_line(line: str) -> tuple[list[str], set[int]]:
    """The line's tokens (its comment cut off), and the positions of those quoted with a leading
    dash ("-cute").

    shlex drops the quotes, and with them the user's way of saying "this is text, not a flag":
    a marker put after each opening quote followed by a dash survives the split and says so.
    An unbalanced quote is most often an apostrophe at a word's edge ("the cats' toys"): then
    double quotes are the only quoting character.
    """
    for single_quotes in (True, False):
        prepared = _prepare(line, single_quotes)
        if prepared is None:
            continue
        marked = _OPENING_QUOTE_DASH.sub(lambda m: m[1] + m[2] + _QUOTED, prepared)
        try:
            split = _split(marked, single_quotes)
        except ValueError:
            continue
        tokens, quoted = [], set()
        for index, token in enumerate(split):
            if token.startswith(_QUOTED):
                quoted.add(index)
            tokens.append(token.replace(_QUOTED, ""))
        return tokens, quoted
    raise MagicUsageError(
        "%naive: a quote is not closed. Close it, or put the prompt in a %%naive cell body."
    )
