"""Parsing of ``%naive`` / ``%%naive`` lines, kept apart from executing them (jupysql's split).

The line is split with :mod:`shlex` (quoted prompts work; an apostrophe inside a word, as in
``a fox's den``, is a letter, not a quote), flags are checked before :mod:`argparse` sees them (an
unknown flag or a flag given twice is refused instead of silently winning), and every value is
converted with a message naming the flag and the allowed values. Nothing here touches the network,
the disk or IPython.

Lines are read as a person typing into a notebook means them, because what is misread is paid for
(:mod:`naive_nb.notebook.lines` reads the words, :mod:`naive_nb.notebook.options` the flags):

- ``#`` then a space starts a comment; in a ``%%naive`` body a line that starts with one is a
  comment line.
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from naive_nb.client import (
    GUIDANCE,
    IMAGE_SIZES,
    JOB_STATUSES,
    NUM_IMAGES,
    OUTPUT_FORMATS,
    SEED_MAX,
    check_job_id,
)
from naive_nb.errors import ValidationError
from naive_nb.notebook.lines import TO_HYPHEN, MagicUsageError, is_comment_start, split_line
from naive_nb.notebook.options import (
    GENERATION_OPTIONS,
    JOBS_OPTIONS,
    REPORT_OPTIONS,
    RUN_OPTIONS,
    help_text,
    option_table,
    parse_options,
    typed_flag,
)
from naive_nb.notebook.sweeps import vary_problem
from naive_nb.run.axes import axis_from_spec
from naive_nb.run.params import parse_image_size, parse_param_value
from naive_nb.run.problems import SweepError
from naive_nb.run.request import Axis, Request
from naive_nb.run.sweep import is_value_list, parse_number_values, parse_seed_values

__all__ = [
    "AXIS_NAMES",
    "SUBCOMMANDS",
    "Command",
    "GenerateArgs",
    "MagicUsageError",
    "help_text",
    "parse_line",
]

SUBCOMMANDS = (
    "models",
    "price",
    "jobs",
    "get",
    "cancel",
    "status",
    "help",
    "login",
    "resume",
    "panel",
    "view",
    "report",
)
#: what a grid calls the keys the line can sweep (the flag's name)
AXIS_NAMES = {"num_inference_steps": "steps", "guidance_scale": "cfg"}


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
    # --vary axes, in the order typed (after the --steps and --guidance sweeps)
    vary: list[Axis] = field(default_factory=list)
    vary_seeds: tuple[str, ...] = ()
    out: str | None = None
    refresh: bool = False
    cache_only: bool = False
    timeout: float | None = None
    yes: bool = False

    def to_request(self) -> Request:
        """What this line asks the core for (how it was typed is left behind)."""
        seeds = tuple(self.seeds) if self.seeds else ((self.seed,) if self.seed is not None else ())
        axes = tuple(
            Axis(key, tuple(values), AXIS_NAMES.get(key, key)) for key, values in self.axes.items()
        )
        return Request(
            prompt=self.prompt,
            model=self.model,
            params=dict(self.params),
            seeds=seeds,
            axes=(*axes, *self.vary),
            refresh=self.refresh,
            cache_only=self.cache_only,
            timeout=self.timeout,
            vary_seeds=self.vary_seeds,
        )


@dataclass
class Command:
    """A parsed line: a subcommand (``generate`` when the line is a prompt) and its arguments."""

    name: str
    generate: GenerateArgs = field(default_factory=GenerateArgs)
    job_id: str | None = None
    status: str | None = None
    limit: int = 20
    variable: str | None = None  # %naive view NAME
    path: str | None = None  # %naive report PATH
    source: str | None = None  # %naive report PATH --from NOTEBOOK
    title: str | None = None  # %naive report PATH --title TEXT

    @property
    def request(self) -> Request:
        return self.generate.to_request()


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
            args.seeds = parse_seed_values(namespace.seeds.translate(TO_HYPHEN))
        except SweepError as error:
            raise MagicUsageError(f"%naive: {error.describe('--seeds')}") from None
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
        text = raw.translate(TO_HYPHEN)
        if is_value_list(text):
            try:
                values = parse_number_values(text, field=key, integer=integer, low=low, high=high)
            except SweepError as error:
                raise MagicUsageError(f"%naive: {error.describe(flag)}") from None
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
    for spec in namespace.vary:
        name = spec.partition("=")[0].strip().lower()
        if not name.startswith(("prompt", "model", "negative")):  # text keeps its dashes
            spec = spec.translate(TO_HYPHEN)
        try:
            args.vary.append(axis_from_spec(spec))
        except SweepError as error:
            raise MagicUsageError(f"%naive: {vary_problem(error)}") from None
    if namespace.vary_seeds is not None:
        names = [name.strip() for name in namespace.vary_seeds.split(",")]
        if not all(names):
            raise MagicUsageError(
                "%naive: --vary-seeds takes axis names separated by commas, e.g. "
                f"--vary-seeds prompt; got {namespace.vary_seeds!r}."
            )
        args.vary_seeds = tuple(names)
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
    args.cache_only = bool(namespace.cache_only)
    if namespace.refresh and namespace.cache_only:
        raise MagicUsageError("%naive: --refresh runs again, --cache-only never does: pick one.")
    if namespace.timeout is not None:
        args.timeout = _float("--timeout", namespace.timeout, 1, 86400)
    args.yes = bool(namespace.yes)
    return args


def parse_line(line: str, cell: str | None = None) -> Command:
    """Parse a ``%naive`` line (or the options line and body of a ``%%naive`` cell)."""
    tokens, quoted = split_line(line)
    quoted_start = line.lstrip()[:1] in ("'", '"')
    # any case: "%naive Models" is the subcommand, never a paid prompt
    if cell is None and tokens and tokens[0].casefold() in SUBCOMMANDS and not quoted_start:
        return _subcommand(tokens[0], tokens[1:], {i - 1 for i in quoted if i})
    namespace = parse_options(tokens, (*GENERATION_OPTIONS, *RUN_OPTIONS), "words", quoted)
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
    table = option_table((*GENERATION_OPTIONS, *RUN_OPTIONS))
    kept = []
    for line in cell.splitlines():
        text = line.strip()
        if text.startswith("#") and is_comment_start(text, 0):
            continue
        first, _, rest = text.partition(" ")
        typed = typed_flag(first, table)
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
    if name == "view":
        if len(rest) > 1 or (rest and not rest[0].isidentifier()):
            raise MagicUsageError(
                "%naive view takes the name of a result, e.g. %naive view r; "
                f"got {' '.join(rest)!r}."
            )
        return Command(name, variable=rest[0] if rest else None)
    if name == "report":
        namespace = parse_options(rest, REPORT_OPTIONS, "words", quoted)
        if len(namespace.words) != 1:
            got = f"; got {' '.join(namespace.words)!r}" if namespace.words else ""
            raise MagicUsageError(
                "%naive report takes the path of the HTML file to write, e.g. "
                f"%naive report study.html (quote a path with spaces){got}."
                + (_prompt_hint(typed) if namespace.words else "")
            )
        return Command(
            name, path=namespace.words[0], source=namespace.source, title=namespace.title
        )
    if name in ("models", "status", "help", "login", "panel"):
        if rest:
            raise MagicUsageError(
                f"%naive {name} takes no arguments; got {' '.join(rest)!r}." + _prompt_hint(typed)
            )
        return Command(name)
    if name == "price":
        namespace = parse_options(rest, GENERATION_OPTIONS, "words", quoted)
        return Command(name, generate=_generation(namespace, namespace.words))
    if name == "jobs":
        namespace = parse_options(rest, JOBS_OPTIONS, "words", quoted)
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
    namespace = parse_options(rest, options, "ids", quoted)
    ids = list(namespace.ids)
    if name == "resume" and not ids:
        return Command(name)
    if len(ids) != 1:
        raise MagicUsageError(
            f"%naive {name} takes one job id, e.g. %naive {name} 1f0c...; see %naive jobs."
            + (_prompt_hint(typed) if ids else "")
        )
    job_id = ids[0]
    try:
        check_job_id(job_id)  # the client's rule: an id is one path segment
    except ValidationError:
        raise MagicUsageError(
            f"%naive {name}: {job_id!r} is not a job id. A job id is what the API gave the job "
            "when it accepted it, e.g. 3f2b8c1e-7d4a-4e0b-9c51-2a6f0e8d1b7c: the progress line "
            "and the summary show it, and %naive jobs lists your recent ones."
            + (" (Model ids go after --model.)" if "/" in job_id else "")
        ) from None
    command = Command(name, job_id=job_id)
    if name == "get" and namespace.out is not None:
        command.generate.out = namespace.out
    return command
