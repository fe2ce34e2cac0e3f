"""The flags of a ``%naive`` line and how they are read: unknown flags and flags given twice are
refused (argparse would let the last one win), a value may start with ``-``, a flag typed with a
typographic dash (``–seed``, ``—seeds``: what autocorrect makes of ``--``) is that flag, and a
flag's value may not be empty. Also the usage text of ``%naive help``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from naive_nb.client import (
    DEFAULT_MODEL,
    GUIDANCE,
    IMAGE_SIZES,
    JOB_STATUSES,
    NUM_IMAGES,
    SEED_MAX,
    STEPS,
    steps_range,
)
from naive_nb.notebook.lines import DASHES, MagicUsageError

__all__ = [
    "GENERATION_OPTIONS",
    "JOBS_OPTIONS",
    "REPORT_OPTIONS",
    "RUN_OPTIONS",
    "Option",
    "help_text",
    "option_table",
    "parse_options",
    "typed_flag",
]


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    dest: str
    help: str
    metavar: str | None = None  # None: a switch without a value
    repeatable: bool = False


GENERATION_OPTIONS: tuple[Option, ...] = (
    Option(("-m", "--model"), "model", "model id (see %naive models)", "ID"),
    Option(
        ("--seed",), "seed", f"seed, 0-{SEED_MAX}; a random one is chosen and shown if absent", "N"
    ),
    Option(("--seeds",), "seeds", "one job per seed: 1-4, 1,5,9, '1-10 (+2)', '1-10 [5]'", "LIST"),
    Option(("-n", "--num"), "num", f"images per job, {NUM_IMAGES[0]}-{NUM_IMAGES[1]}", "N"),
    Option(("--size",), "size", f"{', '.join(IMAGE_SIZES)} or WIDTHxHEIGHT", "SIZE"),
    Option(
        ("--steps",),
        "steps",
        "num_inference_steps (FLUX Schnell {}-{}, others {}-{}); a list (4,8,12) sweeps it".format(
            *steps_range(DEFAULT_MODEL), *STEPS
        ),
        "N",
    ),
    Option(
        ("--guidance",),
        "guidance",
        f"guidance_scale (CFG), {GUIDANCE[0]}-{GUIDANCE[1]}; a list sweeps it",
        "X",
    ),
    Option(("--format",), "format", "output_format: jpeg or png", "FMT"),
    Option(("--negative",), "negative", "negative_prompt", "TEXT"),
    Option(("--no-safety",), "no_safety", "enable_safety_checker = false"),
    Option(
        ("--vary",),
        "vary",
        "an axis of the sweep, repeatable, in layout order (X, Y, Z, ...): steps=1,4,8, "
        "'guidance=2-8 [4]', model=ID,ID, 'prompt:dusk=dawn,noon', model+steps=ID+4,ID+28",
        "NAME=VALUES",
        True,
    ),
    Option(
        ("--vary-seeds",),
        "vary_seeds",
        "axes along which the seed changes too (seed + the value's index), e.g. prompt",
        "AXES",
    ),
    Option(("-p", "--param"), "param", "any other input key, e.g. -p strength=0.4", "K=V", True),
    Option(
        ("--prompt",),
        "prompt_text",
        "the prompt, when it starts with a subcommand word or - (--prompt=-cute)",
        "TEXT",
    ),
)
RUN_OPTIONS: tuple[Option, ...] = (
    Option(("-o", "--out"), "out", "also store the result in this variable", "NAME"),
    Option(("--refresh",), "refresh", "ignore the cache: run again (and pay again)"),
    Option(
        ("--offline", "--cache-only"),
        "cache_only",
        "serve from the cache only, send nothing; fail on a miss (--offline: the same)",
    ),
    Option(("--timeout",), "timeout", "seconds to wait for a job before giving up", "S"),
    Option(
        ("--yes",),
        "yes",
        "run a sweep above NaiveMagics.confirm_images / confirm_credits",
    ),
)
JOBS_OPTIONS: tuple[Option, ...] = (
    Option(("--status",), "status", f"only jobs in this status: {', '.join(JOB_STATUSES)}", "S"),
    Option(("--limit",), "limit", "how many jobs, 1-100", "N"),
)

REPORT_OPTIONS: tuple[Option, ...] = (
    Option(
        ("--from",),
        "source",
        "a saved notebook (.ipynb) to report instead of this kernel's runs",
        "NOTEBOOK",
    ),
    Option(("--title",), "title", "the report's title", "TEXT"),
)


def typed_flag(token: str, table: dict[str, Option]) -> str:
    """A flag typed with a typographic dash (``–seed``, ``—seeds=1-4``) as the flag it names.

    Autocorrect turns ``--`` into an en or em dash as it is typed; the flag name after it says
    plainly what was meant. A dashed word that names no flag is left as it is (text).
    """
    name = token.lstrip("-" + DASHES)
    if not name or not token[: len(token) - len(name)].strip("-"):
        return token  # no typographic dash
    key, equals, value = name.partition("=")
    for flag in (f"--{key}", f"-{key}"):
        if flag in table:
            return flag + equals + value
    return token


def option_table(options: Sequence[Option]) -> dict[str, Option]:
    return {flag: option for option in options for flag in option.flags}


def _looks_like_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _is_flag(token: str) -> bool:
    return token.startswith("-") and token != "-" and not _looks_like_number(token)


def _names_flag(token: str, table: dict[str, Option]) -> bool:
    return token == "--" or typed_flag(token, table).partition("=")[0] in table


def parse_options(
    tokens: list[str],
    options: Sequence[Option],
    positional: str | None,
    quoted: set[int] | frozenset[int] = frozenset(),
) -> argparse.Namespace:
    """Options and words of a line; options may come anywhere, ``--`` ends them.

    Refuses unknown flags, flags given twice (argparse would let the last one win) and empty
    values. A value may start with ``-`` (``--negative -blurry``, ``--negative=-blurry``,
    ``--seeds -1``): after a flag that takes a value, the next token is its value unless it is one
    of the known flags. A flag typed with a typographic dash counts as the flag.
    """
    table = option_table(options)
    values: dict[str, Any] = {}
    for option in options:
        values[option.dest] = False if option.metavar is None else None
        if option.repeatable:
            values[option.dest] = []
    seen: dict[str, str] = {}
    words: list[str] = []
    index, ended = 0, False
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if ended or (index - 1) in quoted:
            words.append(token)
            continue
        token = typed_flag(token, table)
        if not _is_flag(token):
            words.append(token)
            continue
        if token == "--":
            ended = True
            continue
        flag, equals, inline = token.partition("=")
        found = table.get(flag)
        if found is None:
            known = ", ".join(sorted({o.flags[-1] for o in options}))
            raise MagicUsageError(
                f"%naive: unknown flag {flag}. Allowed: {known}. If {token!r} is text of the "
                f'prompt, quote it ("{token}") or put it after --; a value that starts with - '
                "goes after its flag, e.g. --negative=-blurry."
            )
        option = found
        if option.dest in seen and not option.repeatable:
            raise MagicUsageError(
                f"%naive: {option.flags[-1]} is given twice ({seen[option.dest]} and {token}); "
                "keep one."
            )
        seen[option.dest] = token
        if option.metavar is None:
            if equals:
                raise MagicUsageError(f"%naive: {flag} is a switch; it takes no value.")
            values[option.dest] = True
            continue
        if equals:
            value = inline
        else:
            following = tokens[index] if index < len(tokens) else None
            if following is None or (index not in quoted and _names_flag(following, table)):
                raise MagicUsageError(
                    f"%naive: {flag} needs a value ({option.metavar}), e.g. {flag}=VALUE "
                    "(that form also takes a value that starts with -)."
                )
            value = following
            index += 1
        if not value.strip():  # "-m ''" must not quietly mean "the default model"
            default = " to use the default (NaiveMagics.model)" if option.dest == "model" else ""
            raise MagicUsageError(
                f"%naive: {flag} is empty. Give it a value ({option.metavar}), "
                f"or leave {flag} out{default}."
            )
        if option.repeatable:
            values[option.dest].append(value)
        else:
            values[option.dest] = value
    if positional:
        values[positional] = words
    elif words:
        raise MagicUsageError(f"%naive: unexpected {' '.join(words)!r}. See %naive help.")
    return argparse.Namespace(**values)


def help_text() -> str:
    """The usage shown by ``%naive help`` and ``%naive?``."""

    def rows(options: Sequence[Option]) -> list[str]:
        out = []
        for option in options:
            flags = ", ".join(option.flags) + (f" {option.metavar}" if option.metavar else "")
            out.append(f"  {flags:<24} {option.help}")
        return out

    return "\n".join(
        [
            "%naive PROMPT [options]          generate (the result is also in _ / -o NAME)",
            "%%naive [options]                the cell body is the prompt",
            "",
            "Options:",
            *rows(GENERATION_OPTIONS),
            *rows(RUN_OPTIONS),
            "",
            "Subcommands:",
            "  %naive models                  models, their mode and parameters",
            "  %naive price [options]         credits and USD for exactly these options",
            "  %naive jobs [--status S] [--limit N]   recent jobs, and any not yet collected",
            "  %naive get JOB_ID [-o NAME]    show a finished job's grid",
            "  %naive cancel JOB_ID           cancel a queued or running job",
            "  %naive resume [JOB_ID]         collect jobs left pending (after a kernel crash)",
            "  %naive status                  backend, key set (yes/no), balance, store location",
            "  %naive login                   type the API key (never written into the notebook)",
            "  %naive panel                   the widget panel (never blocks the kernel)",
            "  %naive view [NAME]             a larger, live view of a result's images",
            "  %naive report PATH [--from NB.ipynb] [--title T]   one HTML file of this",
            "                                 kernel's runs (or a saved notebook's): grids,",
            "                                 requests, seeds, job ids, credits; no scripts",
            "  %naive help                    this text",
            "",
            "Writing a line: # after a space starts a comment (#1, C#, a quoted '#' are text).",
            "In a %%naive body a line starting with # is a comment; flags go on the %%naive line.",
            "A flag typed with an en or em dash (\u2013seed, \u2014seeds: autocorrect's --) is",
            "that flag. A prompt that starts with a subcommand word (in any case) or with - is",
            "quoted or given with --prompt. A flag's value may not be empty.",
            "",
            "Settings: %config NaiveMagics (e.g. %config NaiveMagics.model = 'fal-ai/flux/dev').",
        ]
    )
