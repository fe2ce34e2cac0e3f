"""Parsing of ``%naive`` / ``%%naive`` lines, kept apart from executing them (jupysql's split).

The line is split with :mod:`shlex` (quoted prompts work; an apostrophe as in ``a fox's den``
does too), flags are checked before :mod:`argparse` sees them (an unknown flag or a flag given
twice is refused instead of silently winning), and every value is converted with a message naming
the flag and the allowed values. Nothing here touches the network, the disk or IPython.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from naive_nb._validation import GUIDANCE, IMAGE_SIZES, NUM_IMAGES, OUTPUT_FORMATS, STEPS
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
    Option(("--steps",), "steps", "num_inference_steps; a list (4,8,12) sweeps it", "N"),
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


_QUOTED_DASH = "\x1f"  # marks a quoted token that starts with "-": a word, never a flag
_OPENING_QUOTE_DASH = re.compile(r"""(^|\s)(["'])-""")


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        pass
    # An unbalanced quote is most often an apostrophe in a prompt ("a fox's den"): retry with
    # double quotes as the only quoting character.
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        raise MagicUsageError(
            "%naive: a quote is not closed. Close it, or put the prompt in a %%naive cell body."
        ) from None


def _tokens(line: str) -> tuple[list[str], set[int]]:
    """The line's tokens, and the positions of those quoted with a leading ``-`` ("-cute").

    shlex drops the quotes, and with them the user's way of saying "this is text, not a flag":
    a marker put after each opening quote followed by ``-`` survives the split and says so.
    """
    marked = _OPENING_QUOTE_DASH.sub(lambda m: m[1] + m[2] + _QUOTED_DASH + "-", line)
    tokens, quoted = [], set()
    for index, token in enumerate(_split(marked)):
        if token.startswith(_QUOTED_DASH + "-"):
            quoted.add(index)
        tokens.append(token.replace(_QUOTED_DASH, ""))
    return tokens, quoted


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


def _parse(
    tokens: list[str],
    options: Sequence[Option],
    positional: str | None,
    quoted: set[int] | frozenset[int] = frozenset(),
) -> argparse.Namespace:
    """Options and words of a line; options may come anywhere, ``--`` ends them.

    Refuses unknown flags and flags given twice (argparse would let the last one win). A value
    may start with ``-`` (``--negative -blurry``, ``--negative=-blurry``, ``--seeds -1``): after a
    flag that takes a value, the next token is its value unless it is one of the known flags.
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
        if ended or (index - 1) in quoted or not _is_flag(token):
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
            if following is None or (
                index not in quoted and (following == "--" or following.partition("=")[0] in table)
            ):
                raise MagicUsageError(
                    f"%naive: {flag} needs a value ({option.metavar}), e.g. {flag}=VALUE "
                    "(that form also takes a value that starts with -)."
                )
            value = following
            index += 1
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
            args.seeds = parse_seed_values(namespace.seeds)
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
    for flag, text, key, integer, high in (
        # the widest range any model takes; the model's own is checked by the validator
        ("--steps", namespace.steps, "num_inference_steps", True, STEPS[1]),
        ("--guidance", namespace.guidance, "guidance_scale", False, GUIDANCE[1]),
    ):
        if text is None:
            continue
        if is_value_list(text):
            try:
                values = parse_number_values(text, flag=flag, integer=integer, low=0, high=high)
            except SweepError as error:
                raise MagicUsageError(f"%naive: {error}") from None
            if len(values) > 1:
                args.axes[key] = list(values)
                continue
            text = str(values[0])
        params[key] = _int(flag, text, 1, high) if integer else _float(flag, text, 0, high)
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
    if cell is None and tokens and tokens[0] in SUBCOMMANDS and not quoted_start:
        return _subcommand(tokens[0], tokens[1:], {i - 1 for i in quoted if i})
    namespace = _parse(tokens, (*GENERATION_OPTIONS, *RUN_OPTIONS), "words", quoted)
    words = list(namespace.words)
    if cell is not None:
        if words:
            raise MagicUsageError(
                f"%%naive: the first line takes options only; put {' '.join(words)!r} "
                "in the cell body with the rest of the prompt."
            )
        words = [cell.strip()] if cell.strip() else []
    args = _run_options(namespace, _generation(namespace, words))
    return Command("generate", generate=args)


def _subcommand(name: str, rest: list[str], quoted: set[int]) -> Command:
    if name in ("models", "status", "help", "login"):
        if rest:
            raise MagicUsageError(f"%naive {name} takes no arguments; got {' '.join(rest)!r}.")
        return Command(name)
    if name == "price":
        namespace = _parse(rest, GENERATION_OPTIONS, "words", quoted)
        return Command(name, generate=_generation(namespace, namespace.words))
    if name == "jobs":
        namespace = _parse(rest, JOBS_OPTIONS, None)
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
            "Settings: %config NaiveMagics (e.g. %config NaiveMagics.model = 'fal-ai/flux/dev').",
        ]
    )
