"""Parsing of ``%naive`` / ``%%naive`` lines, kept apart from executing them (jupysql's split).

The line is split with :mod:`shlex` (quoted prompts work; an apostrophe inside a word, as in
``a fox's den``, is a letter, not a quote), flags are checked before :mod:`argparse` sees them (an
unknown flag or a flag given twice is refused instead of silently winning), and every value is
converted with a message naming the flag and the allowed values. Nothing here touches the network,
the disk or IPython.

Lines are read as a person typing into a notebook means them, because what is misread is paid for:

- ``#`` then a space (an unquoted word made only of ``#``) starts a comment that runs to the end
  of the line; ``#1``, ``C#`` and a quoted ``"#"`` are text. In a ``%%naive`` body a line that
  starts with such a word is a comment line; elsewhere in the body ``#`` is text.
- A flag typed with a typographic dash (``–seed``, ``—seeds``: what autocorrect makes of ``--``)
  is that flag; a word with such a dash that is not a flag name stays text.
- A subcommand word is recognised in any case (``%naive Models``); a prompt that starts with one
  is quoted or given with ``--prompt``.
- A flag's value may not be empty (``-m ''`` is refused, not read as "the default").
- A ``%%naive`` body line that starts with a flag is refused: flags go on the ``%%naive`` line.
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from naive_nb.client._validation import (
    GUIDANCE,
    IMAGE_SIZES,
    NUM_IMAGES,
    OUTPUT_FORMATS,
    STEPS,
    steps_range,
)
from naive_nb.run.params import parse_image_size, parse_param_value
from naive_nb.run.sweep import (
    SEED_MAX,
    SweepError,
    is_value_list,
    parse_number_values,
    parse_seed_values,
)

SUBCOMMANDS = ("models", "price", "jobs", "get", "cancel", "status", "help", "login", "resume")
JOB_STATUSES = ("queued", "processing", "completed", "failed", "cancelled")


class MagicUsageError(ValueError):
    """A line that cannot be run as written; the message says what to write instead."""


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
            *steps_range("fal-ai/flux/schnell"), *STEPS
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
    Option(("--offline",), "offline", "serve from the cache only; fail on a miss"),
    Option(("--timeout",), "timeout", "seconds to wait for a job before giving up", "S"),
)
JOBS_OPTIONS: tuple[Option, ...] = (
    Option(("--status",), "status", f"only jobs in this status: {', '.join(JOB_STATUSES)}", "S"),
    Option(("--limit",), "limit", "how many jobs, 1-100", "N"),
)


@dataclass
class GenerateArgs:
    """A generation request as typed, converted but not yet checked against a model."""

    prompt: str = ""
    model: str | None = None
    seed: int | None = None
    seeds: list[int] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    # input key -> values, one job per combination (with the seeds): an X/Y plot
    axes: dict[str, list[Any]] = field(default_factory=dict)
    out: str | None = None
    refresh: bool = False
    offline: bool = False
    timeout: float | None = None


@dataclass
class Command:
    """A parsed line: a subcommand (``generate`` when the line is a prompt) and its arguments."""

    name: str
    generate: GenerateArgs = field(default_factory=GenerateArgs)
    job_id: str | None = None
    status: str | None = None
    limit: int = 20


# what autocorrect and word processors put where "-" or "--" was typed
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_TO_HYPHEN = str.maketrans(dict.fromkeys(DASHES, "-"))
_QUOTED = "\x1f"  # marks a quoted token that starts with a dash: a word, never a flag
_OPENING_QUOTE_DASH = re.compile(rf"""(^|\s)(["'])(?=[-{DASHES}])""")


def _is_apostrophe(line: str, index: int) -> bool:
    """A ``'`` between two letters or digits (``fox's``, ``don't``) is part of a word."""
    return 0 < index < len(line) - 1 and line[index - 1].isalnum() and line[index + 1].isalnum()


def _is_comment_start(line: str, index: int) -> bool:
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
        elif char == "#" and _is_comment_start(line, index):
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


def _tokens(line: str) -> tuple[list[str], set[int]]:
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


def _typed_flag(token: str, table: dict[str, Option]) -> str:
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


def _option_table(options: Sequence[Option]) -> dict[str, Option]:
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
    return token == "--" or _typed_flag(token, table).partition("=")[0] in table


def _parse(
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
    table = _option_table(options)
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
        token = _typed_flag(token, table)
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


def _int(flag: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise MagicUsageError(
            f"%naive: {flag} must be an integer from {low} to {high}; got {text!r}."
        )
    return value


def _integer(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise MagicUsageError(f"%naive: {flag} must be an integer; got {text!r}.") from None


def _float(flag: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise MagicUsageError(
            f"%naive: {flag} must be a number from {low:g} to {high:g}; got {text!r}."
        )
    return value


def _generation(namespace: argparse.Namespace, words: Sequence[str]) -> GenerateArgs:
    args = GenerateArgs()
    prompt = " ".join(words)
    if namespace.prompt_text is not None:
        if prompt:
            raise MagicUsageError(
                "%naive: the prompt is given twice (--prompt and free words); keep one."
            )
        prompt = namespace.prompt_text
    args.prompt = prompt
    args.model = namespace.model
    params: dict[str, Any] = {}
    if namespace.seed is not None and namespace.seeds is not None:
        raise MagicUsageError("%naive: use --seed for one job or --seeds for a sweep, not both.")
    if namespace.seed is not None:
        args.seed = _int("--seed", namespace.seed, 0, SEED_MAX)
    if namespace.seeds is not None:
        try:
            args.seeds = parse_seed_values(namespace.seeds.translate(_TO_HYPHEN))
        except SweepError as error:
            raise MagicUsageError(f"%naive: {error}") from None
    if namespace.num is not None:
        params["num_images"] = _int("--num", namespace.num, *NUM_IMAGES)
    if namespace.size is not None:
        size = parse_image_size(namespace.size)
        if isinstance(size, str) and size not in IMAGE_SIZES:
            raise MagicUsageError(
                f"%naive: --size must be one of {', '.join(IMAGE_SIZES)}, or WIDTHxHEIGHT "
                f"(e.g. 768x512); got {namespace.size!r}."
            )
        params["image_size"] = size
    for flag, raw, key, integer, (low, high) in (
        # steps: no range here. It depends on the model (FLUX Schnell 1-12, others 1-50), which
        # may come from NaiveMagics.model or the served catalog: the validator checks it.
        ("--steps", namespace.steps, "num_inference_steps", True, (-math.inf, math.inf)),
        ("--guidance", namespace.guidance, "guidance_scale", False, GUIDANCE),
    ):
        if raw is None:
            continue
        text = raw.translate(_TO_HYPHEN)
        if is_value_list(text):
            try:
                values = parse_number_values(text, flag=flag, integer=integer, low=low, high=high)
            except SweepError as error:
                raise MagicUsageError(f"%naive: {error}") from None
            if len(values) > 1:
                args.axes[key] = list(values)
                continue
            text = str(values[0])
        params[key] = _integer(flag, text) if integer else _float(flag, text, low, high)
    if namespace.format is not None:
        value = namespace.format.lower().replace("jpg", "jpeg")
        if value not in OUTPUT_FORMATS:
            raise MagicUsageError(
                f"%naive: --format must be one of {', '.join(OUTPUT_FORMATS)}; "
                f"got {namespace.format!r}."
            )
        params["output_format"] = value
    if namespace.negative is not None:
        params["negative_prompt"] = namespace.negative
    if namespace.no_safety:
        params["enable_safety_checker"] = False
    for item in namespace.param:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise MagicUsageError(
                f"%naive: --param takes KEY=VALUE (e.g. -p strength=0.4); got {item!r}."
            )
        if key in ("prompt", "seed"):
            raise MagicUsageError(
                f"%naive: set {key} with "
                f"{'the prompt text' if key == 'prompt' else '--seed'}, not --param."
            )
        if key in params:
            raise MagicUsageError(f"%naive: {key} is given twice; keep one.")
        params[key] = parse_param_value(raw)
    args.params = params
    return args


def _run_options(namespace: argparse.Namespace, args: GenerateArgs) -> GenerateArgs:
    if namespace.out is not None:
        if not namespace.out.isidentifier():
            raise MagicUsageError(
                f"%naive: -o needs a Python variable name; got {namespace.out!r}."
            )
        args.out = namespace.out
    args.refresh = bool(namespace.refresh)
    args.offline = bool(namespace.offline)
    if namespace.refresh and namespace.offline:
        raise MagicUsageError("%naive: --refresh runs again, --offline never does: pick one.")
    if namespace.timeout is not None:
        args.timeout = _float("--timeout", namespace.timeout, 1, 86400)
    return args


def parse_line(line: str, cell: str | None = None) -> Command:
    """Parse a ``%naive`` line (or the options line and body of a ``%%naive`` cell)."""
    tokens, quoted = _tokens(line)
    quoted_start = line.lstrip()[:1] in ("'", '"')
    # any case: "%naive Models" is the subcommand, never a paid prompt
    if cell is None and tokens and tokens[0].casefold() in SUBCOMMANDS and not quoted_start:
        return _subcommand(tokens[0], tokens[1:], {i - 1 for i in quoted if i})
    namespace = _parse(tokens, (*GENERATION_OPTIONS, *RUN_OPTIONS), "words", quoted)
    words = list(namespace.words)
    if cell is not None:
        if words:
            raise MagicUsageError(
                f"%%naive: the first line takes options only; put {' '.join(words)!r} "
                "in the cell body with the rest of the prompt."
            )
        body = _body_prompt(cell)
        words = [body] if body else []
    args = _run_options(namespace, _generation(namespace, words))
    return Command("generate", generate=args)


_LONG_FLAG = re.compile(r"^--[A-Za-z]")


def _body_prompt(cell: str) -> str:
    """The prompt of a ``%%naive`` body: comment lines left out, a line that starts with a flag
    refused (the body is sent as it is, so a flag there would be paid for as prompt text)."""
    table = _option_table((*GENERATION_OPTIONS, *RUN_OPTIONS))
    kept = []
    for line in cell.splitlines():
        text = line.strip()
        if text.startswith("#") and _is_comment_start(text, 0):
            continue
        first, _, rest = text.partition(" ")
        typed = _typed_flag(first, table)
        flag = typed.partition("=")[0]
        if flag in table or _LONG_FLAG.match(flag):
            unknown = "" if flag in table else f" ({flag} is not a %naive flag: see %naive help)"
            raise MagicUsageError(
                f"%%naive: flags go on the %%naive line, not in the cell body, which is the "
                f"prompt: move {text!r} up (%%naive {f'{typed} {rest}'.rstrip()}){unknown}."
            )
        kept.append(line)
    return "\n".join(kept).strip()


def _prompt_hint(typed: str) -> str:
    return f" For a prompt that starts with {typed!r}, quote it or use --prompt."


def _subcommand(typed: str, rest: list[str], quoted: set[int]) -> Command:
    name = typed.casefold()
    if name in ("models", "status", "help", "login"):
        if rest:
            raise MagicUsageError(
                f"%naive {name} takes no arguments; got {' '.join(rest)!r}." + _prompt_hint(typed)
            )
        return Command(name)
    if name == "price":
        namespace = _parse(rest, GENERATION_OPTIONS, "words", quoted)
        return Command(name, generate=_generation(namespace, namespace.words))
    if name == "jobs":
        namespace = _parse(rest, JOBS_OPTIONS, "words", quoted)
        if namespace.words:
            raise MagicUsageError(
                f"%naive jobs: unexpected {' '.join(namespace.words)!r}; it takes --status and "
                "--limit." + _prompt_hint(typed)
            )
        status = namespace.status
        if status is not None and status not in JOB_STATUSES:
            raise MagicUsageError(
                f"%naive jobs: --status must be one of {', '.join(JOB_STATUSES)}; got {status!r}."
            )
        limit = 20 if namespace.limit is None else _int("--limit", namespace.limit, 1, 100)
        return Command(name, status=status, limit=limit)
    # get / cancel / resume take a job id (resume: optional, default all pending)
    options = RUN_OPTIONS[:1] if name == "get" else ()
    namespace = _parse(rest, options, "ids", quoted)
    ids = list(namespace.ids)
    if name == "resume" and not ids:
        return Command(name)
    if len(ids) != 1:
        raise MagicUsageError(
            f"%naive {name} takes one job id, e.g. %naive {name} 1f0c...; see %naive jobs."
            + (_prompt_hint(typed) if ids else "")
        )
    job_id = ids[0]
    if "/" in job_id or len(job_id) > 200:  # the client's rule: an id is one path segment
        raise MagicUsageError(
            f"%naive {name}: {job_id!r} is not a job id. A job id is what the API gave the job "
            "when it accepted it, e.g. 3f2b8c1e-7d4a-4e0b-9c51-2a6f0e8d1b7c: the progress line "
            "and the summary show it, and %naive jobs lists your recent ones."
            + (" (Model ids go after --model.)" if "/" in job_id else "")
        )
    command = Command(name, job_id=job_id)
    if name == "get" and namespace.out is not None:
        command.generate.out = namespace.out
    return command


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
