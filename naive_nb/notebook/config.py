"""``%config NaiveMagics.x = value`` that fails the cell when the setting is refused.

IPython's ``%config`` catches every ``Exception`` a configurable raises while it takes a new
setting and only logs it to stderr, so a typo (``num_images = 9``, ``progress = 'bogus'``, an
unknown name) left the old value in place while the cell looked fine. Here the setting is checked
first, and a refusal that names the setting and its allowed values is raised as a
``BaseException`` (as ``KeyboardInterrupt`` is), which ``%config`` does not swallow: the cell
fails, nbclient and papermill stop, and nothing changed.
"""

from __future__ import annotations

import math
from typing import Any

from traitlets import Bool, Enum, Float, Int, TraitError, TraitType
from traitlets.config import Config, Configurable

#: the progress displays ``NaiveMagics.progress`` chooses from (``auto``: by the front end)
MODES = ("auto", "widget", "html", "text", "none")


class SettingRefused(BaseException):
    """A ``%config NaiveMagics`` setting refused; the value stays as it was.

    A ``BaseException`` on purpose: ``%config`` logs and drops any ``Exception``.
    """

    def _render_traceback_(self) -> list[str]:  # one red line, as NaiveUsageError shows
        return [f"\x1b[0;31m{self}\x1b[0m"]


def allowed_values(name: str, trait: TraitType[Any, Any]) -> str:
    """What a setting accepts, in the words of a ``%config`` line."""
    if name == "store":
        return "a directory path such as 'naive-results' (not empty)"
    if name == "model":
        return "a model id such as 'fal-ai/flux/schnell' (%naive models lists them)"
    if name == "size":
        from naive_nb.client import IMAGE_SIZES

        return f"one of {', '.join(repr(size) for size in IMAGE_SIZES)}"
    if isinstance(trait, Enum):
        values = [repr(value) for value in trait.values or ()]
        return "one of " + ", ".join(values + (["None"] if trait.allow_none else []))
    if isinstance(trait, Bool):
        return "True or False"
    if isinstance(trait, (Int, Float)):
        kind = "an integer" if isinstance(trait, Int) else "a number"
        low, high = getattr(trait, "min", None), getattr(trait, "max", None)
        low, high = (None if v in (None, -math.inf, math.inf) else v for v in (low, high))
        if low is not None and high is not None:
            return f"{kind} from {low:g} to {high:g}"
        if low is not None:
            return f"{kind} of at least {low:g}"
        return kind
    return "a string"


def apply_settings(owner: Configurable, config: Config, apply: Any) -> None:
    """Check each of ``owner``'s settings in ``config``, then hand them one by one to
    ``apply`` (the configurable's own ``update_config``); raise :class:`SettingRefused` for the
    first unknown name or refused value, which is then not applied."""
    cls = type(owner).__name__
    section = config[cls] if cls in config else Config()
    traits = owner.traits(config=True)
    for name in section:
        if name not in traits:
            _forget(owner, cls, name, known=False)
            raise SettingRefused(
                f"%config: {cls} has no setting {name!r}. Settings: {', '.join(sorted(traits))} "
                f"(%config {cls} shows each with its help)."
            )
    for name, value in section.items():
        try:
            apply(Config({cls: {name: value}}))
        except TraitError:
            _forget(owner, cls, name, known=True)
            raise SettingRefused(
                f"%config: {cls}.{name} must be {allowed_values(name, traits[name])}; got "
                f"{value!r}. It stays {getattr(owner, name)!r}."
            ) from None
    rest = config.copy()
    rest.pop(cls, None)
    if rest:  # other sections (a parent class's), taken as traitlets takes them
        apply(rest)


def _forget(owner: Configurable, cls: str, name: str, *, known: bool) -> None:
    """Take a refused setting out of the shared config as well.

    ``%config`` hands the statement to every configurable in turn, and those before this one
    (the shell itself) have already merged it into the shell's config, from which a later
    ``%reload_ext`` would read it back: there the setting goes back to its current value, or
    away if the name is unknown.
    """
    parent = getattr(owner, "parent", None)
    for config in (owner.config, getattr(parent, "config", None)):
        if config is None or cls not in config or name not in config[cls]:
            continue
        if not known:
            del config[cls][name]
        else:
            config[cls][name] = getattr(owner, name)
