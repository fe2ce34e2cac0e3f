"""Parsing of %naive lines: flags, prompts, sweeps and refusals, before anything runs."""

from __future__ import annotations

import re

import pytest

from naive_nb.notebook.args import MagicUsageError, help_text, parse_line


def test_every_documented_flag_maps_to_its_input_key() -> None:
    command = parse_line(
        "a red fox in snow --seed 42 --num 2 --size landscape_16_9 --model fal-ai/flux/dev "
        "--steps 8 --guidance 4 --format png --no-safety --negative blur -p strength=0.4"
    )
    args = command.generate
    assert command.name == "generate"
    assert args.prompt == "a red fox in snow"
    assert args.model == "fal-ai/flux/dev"
    assert args.seed == 42
    assert args.params == {
        "num_images": 2,
        "image_size": "landscape_16_9",
        "num_inference_steps": 8,
        "guidance_scale": 4.0,
        "output_format": "png",
        "enable_safety_checker": False,
        "negative_prompt": "blur",
        "strength": 0.4,
    }


def test_prompt_keeps_dollar_braces_and_apostrophes_verbatim() -> None:
    args = parse_line("a fox's den at $HOME {var} --seed 1").generate
    assert args.prompt == "a fox's den at $HOME {var}"


def test_quoted_prompt_may_contain_flag_like_text() -> None:
    assert parse_line('"a sign saying --seed" --seed 3').generate.prompt == "a sign saying --seed"


def test_flags_may_sit_between_prompt_words() -> None:
    args = parse_line("a red --seed 7 fox").generate
    assert (args.prompt, args.seed) == ("a red fox", 7)


@pytest.mark.parametrize(
    ("text", "seeds"),
    [
        ("1-4", [1, 2, 3, 4]),
        ("1,5,9", [1, 5, 9]),
        ('"1-10 (+2)"', [1, 3, 5, 7, 9]),
        ('"1-10 [5]"', [1, 3, 6, 8, 10]),  # issue 10: rounded evenly, not truncated
    ],
)
def test_seed_sweeps(text: str, seeds: list[int]) -> None:
    assert parse_line(f"a cat --seeds {text}").generate.seeds == seeds


def test_cell_magic_takes_the_body_as_prompt() -> None:
    args = parse_line("--seeds 1-2 -o grid", "A minimalist logo\nfor a startup\n").generate
    assert args.prompt == "A minimalist logo\nfor a startup"
    assert args.out == "grid"


def test_cell_magic_refuses_prompt_words_on_the_options_line() -> None:
    with pytest.raises(MagicUsageError, match="cell body"):
        parse_line("a cat --seed 1", "more prompt")


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("a cat --bogus 3", "unknown flag --bogus"),
        ("a cat --seed 1 --seed 2", "--seed is given twice"),
        ("a cat --seed=1 --seed 2", "--seed is given twice"),
        ("a cat -n 1 --num 2", "--num is given twice"),
        ("a cat -p strength=1 -p strength=2", "strength is given twice"),
        ("a cat --num 9", "--num must be an integer from 1 to 4; got '9'"),
        ("a cat --seed -5", "--seed must be an integer from 0 to"),
        ("a cat --size huge", "--size must be one of square_hd, square"),
        ("a cat --format gif", "--format must be one of jpeg, png"),
        ("a cat --guidance lots", "--guidance must be a number from 0 to 20"),
        ("a cat --seed 1 --seeds 1-3", "not both"),
        ("a cat --seeds 1-1000", "more than 64 jobs"),
        ("a cat --seeds 1,1", "repeats seed 1"),
        ("a cat --seeds x-y", "not understood"),
        ("a cat -p novalue", "KEY=VALUE"),
        ("a cat -o 1abc", "Python variable name"),
        ("a cat --refresh --offline", "pick one"),
        ("cancel", "takes one job id"),
        ("jobs --status nope", "--status must be one of queued"),
        ('a "cat', "not closed"),
    ],
)
def test_refusals_name_the_flag_and_what_is_allowed(line: str, needle: str) -> None:
    with pytest.raises(MagicUsageError) as caught:
        parse_line(line)
    assert needle in str(caught.value)


def test_subcommands_and_their_arguments() -> None:
    assert parse_line("models").name == "models"
    assert parse_line("status").name == "status"
    jobs = parse_line("jobs --status queued --limit 5")
    assert (jobs.name, jobs.status, jobs.limit) == ("jobs", "queued", 5)
    get = parse_line("get 1234-abcd -o r")
    assert (get.name, get.job_id, get.generate.out) == ("get", "1234-abcd", "r")
    price = parse_line("price -m fal-ai/flux/dev -n 3 --seeds 1-2")
    assert price.generate.params == {"num_images": 3}
    assert price.generate.seeds == [1, 2]
    assert parse_line("resume").job_id is None


def test_a_prompt_starting_with_a_subcommand_word_can_be_quoted() -> None:
    assert parse_line('"models of cars" --seed 1').generate.prompt == "models of cars"
    assert parse_line('--prompt "status report"').generate.prompt == "status report"


def test_help_lists_every_subcommand() -> None:
    text = help_text()
    for word in ("models", "price", "jobs", "get", "cancel", "status", "login", "resume"):
        assert f"%naive {word}" in text


def test_steps_and_guidance_lists_become_sweep_axes() -> None:
    args = parse_line('a cat --steps 4,8,12 --guidance "1-7 [4]"').generate
    assert args.axes == {"num_inference_steps": [4, 8, 12], "guidance_scale": [1.0, 3.0, 5.0, 7.0]}
    assert "num_inference_steps" not in args.params
    single = parse_line("a cat --steps 8 --guidance 2.5").generate
    assert single.axes == {} and single.params["num_inference_steps"] == 8
    assert parse_line('a cat --steps "2-8 (+3)"').generate.axes == {
        "num_inference_steps": [2, 5, 8]
    }
    with pytest.raises(MagicUsageError, match="--guidance values must be numbers from 0 to 20"):
        parse_line("a cat --guidance 5,25")
    with pytest.raises(MagicUsageError, match="repeats a value"):
        parse_line("a cat --steps 4,4")


def test_values_and_prompts_that_start_with_a_dash() -> None:
    assert parse_line("a fox --negative=-blurry").generate.params == {"negative_prompt": "-blurry"}
    assert parse_line("a fox --negative -blurry").generate.params == {"negative_prompt": "-blurry"}
    assert parse_line('--prompt "-cute" --seed 1').generate.prompt == "-cute"
    assert parse_line("--prompt=-cute").generate.prompt == "-cute"
    quoted = parse_line('a fox "-cute" --seed 1').generate
    assert (quoted.prompt, quoted.seed) == ("a fox -cute", 1)
    assert parse_line("a fox -- -cute --seed").generate.prompt == "a fox -cute --seed"
    assert parse_line("a fox --seeds -1").generate.seeds is not None  # -1: a random seed


@pytest.mark.parametrize(
    ("line", "needles"),
    [
        ("a fox -cute", ["unknown flag -cute", 'quote it ("-cute")', "--negative=-blurry"]),
        ("a fox --negative", ["--negative needs a value", "--negative=VALUE"]),
        ("a fox --negative --seed 1", ["--negative needs a value"]),
        ("a fox --no-safety=1", ["--no-safety is a switch"]),
    ],
)
def test_dash_refusals_say_how_to_write_it(line: str, needles: list[str]) -> None:
    with pytest.raises(MagicUsageError) as caught:
        parse_line(line)
    for needle in needles:
        assert needle in str(caught.value)


# --- loose lines that used to send paid jobs (issue 7, item 8) -----------------------------------


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("a cat --seeds '1-10 (+0)'", "--seeds item '1-10 (+0)': the step must not be 0"),
        ("a cat --seeds '1-10 ( + 0 )'", "the step must not be 0"),
        ("a cat --steps '1-4 (+0)'", "--steps item '1-4 (+0)': the step must not be 0"),
        ("a cat --guidance '1-4 (+0)'", "--guidance item '1-4 (+0)': the step must not be 0"),
    ],
)
def test_a_zero_step_is_refused_everywhere(line: str, needle: str) -> None:
    with pytest.raises(MagicUsageError, match=re.escape(needle)):
        parse_line(line)


@pytest.mark.parametrize(
    ("line", "flag"),
    [
        ("a cat -m ''", "-m"),
        ("a cat --model=", "--model"),
        ("a cat --model ' '", "--model"),
        ("a cat --negative ''", "--negative"),
        ("a cat --size ''", "--size"),
        ("a cat -p ''", "-p"),
        ("--prompt '' --seed 1", "--prompt"),
        ("price -m ''", "-m"),
        ("jobs --status ''", "--status"),
    ],
)
def test_an_empty_flag_value_is_refused(line: str, flag: str) -> None:
    with pytest.raises(MagicUsageError) as caught:
        parse_line(line)
    assert f"{flag} is empty" in str(caught.value)
    if flag in ("-m", "--model"):
        assert "leave it out" not in str(caught.value)
        assert f"leave {flag} out to use the default (NaiveMagics.model)" in str(caught.value)


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2212", "\u2010", "\u2011", "\uff0d"])
def test_a_flag_typed_with_a_typographic_dash_is_that_flag(dash: str) -> None:
    # what autocorrect makes of "--seed 1": the flag, not prompt text with a random seed
    args = parse_line(f"a lighthouse {dash}seed 1").generate
    assert (args.prompt, args.seed) == ("a lighthouse", 1)
    args = parse_line(f"a lighthouse {dash}{dash}seeds 1{dash}4 {dash}n 2").generate
    assert (args.prompt, args.seeds, args.params) == (
        "a lighthouse",
        [1, 2, 3, 4],
        {"num_images": 2},
    )
    assert parse_line(f"a cat {dash}seed=7").generate.seed == 7
    assert parse_line(f"a cat --steps 2{dash}8 --seed 1").generate.axes == {
        "num_inference_steps": list(range(2, 9))
    }


def test_a_typographic_dash_that_names_no_flag_stays_text() -> None:
    assert parse_line("a poster \u2014minimal --seed 1").generate.prompt == "a poster \u2014minimal"
    assert parse_line("dawn \u2013 dusk --seed 1").generate.prompt == "dawn \u2013 dusk"
    quoted = parse_line('a sign saying "\u2013seed" --seed 2').generate
    assert (quoted.prompt, quoted.seed) == ("a sign saying \u2013seed", 2)
    # the value of a flag that takes one, even when it looks like a flag after a typographic dash
    assert parse_line("a cat --negative \u2013blurry").generate.params == {
        "negative_prompt": "\u2013blurry"
    }
    with pytest.raises(MagicUsageError, match="--negative needs a value"):
        parse_line("a cat --negative \u2013seed 1")


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Models", "models"),
        ("HELP", "help"),
        ("Status", "status"),
        ("Jobs", "jobs"),
        ("Resume", "resume"),
        ("LOGIN", "login"),
        ("Get 1234-abcd", "get"),
        ("Cancel 1234-abcd", "cancel"),
    ],
)
def test_a_subcommand_word_in_any_case_is_the_subcommand(line: str, name: str) -> None:
    assert parse_line(line).name == name


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("Models of cars", "Models"),
        ("Status report", "Status"),
        ("Help me", "Help"),
        ("Jobs board", "Jobs"),
        ("Resume of a designer", "Resume"),
        ("Cancel culture poster", "Cancel"),
    ],
)
def test_a_prompt_that_starts_with_a_subcommand_word_says_how_to_write_it(
    line: str, word: str
) -> None:
    with pytest.raises(MagicUsageError) as caught:
        parse_line(line)
    assert f"For a prompt that starts with {word!r}, quote it or use --prompt." in str(caught.value)
    assert parse_line(f'"{line}" --seed 1').generate.prompt == line
    assert parse_line(f"--prompt {word} --seed 1").generate.prompt == word  # one word: --prompt


@pytest.mark.parametrize(("model", "high"), [("fal-ai/flux/schnell", 12), ("fal-ai/flux/dev", 50)])
def test_steps_ranges_are_left_to_the_model(model: str, high: int) -> None:
    # no parse-time "1 to 50" that contradicts Schnell's 1-12: the validator, which knows each
    # model's range, refuses out-of-range steps (tests/magic/test_loose_lines.py sends them)
    for value in (0, high + 1, -3):
        args = parse_line(f"a cat -m {model} --steps={value}").generate
        assert args.params == {"num_inference_steps": value}
    assert "1 to 50" not in help_text() and "Schnell 1-12, others 1-50" in help_text()
    with pytest.raises(MagicUsageError, match="--steps must be an integer; got 'lots'"):
        parse_line("a cat --steps lots")


@pytest.mark.parametrize(
    ("line", "prompt", "seeds"),
    [
        (
            "a minimalist logo for a tech startup --seeds 1-4   # one job per seed",
            "a minimalist logo for a tech startup",
            [1, 2, 3, 4],
        ),
        ("a cat --seeds 1-2 ## note", "a cat", [1, 2]),
        ("a cat --seeds 1-2 #", "a cat", [1, 2]),
        ("a cat --seeds 1-2\t# tab then hash", "a cat", [1, 2]),
        ("the #1 fan of C# --seeds 1-2", "the #1 fan of C#", [1, 2]),
        ("a cat #cute --seeds 1-2", "a cat #cute", [1, 2]),
        ('a sign saying "# 1" --seeds 1-2 # and a comment', "a sign saying # 1", [1, 2]),
        ("a sign saying '#' --seeds 1-2", "a sign saying #", [1, 2]),
        ("a fox's den --seeds 1-2  # the fox's", "a fox's den", [1, 2]),
        ("the cats' toys --seeds 1-2 # note", "the cats' toys", [1, 2]),
        ("a cat --seeds 1-2 # it's \"unbalanced", "a cat", [1, 2]),
    ],
)
def test_a_trailing_comment_is_not_prompt_text(line: str, prompt: str, seeds: list[int]) -> None:
    args = parse_line(line).generate
    assert (args.prompt, args.seeds) == (prompt, seeds)


def test_a_comment_after_a_subcommand_and_on_the_cell_line() -> None:
    assert parse_line("models   # what is there").name == "models"
    assert parse_line("jobs --limit 5 # recent").limit == 5
    args = parse_line("--seeds 1-2   # two", "A logo\n").generate
    assert (args.prompt, args.seeds) == ("A logo", [1, 2])
    assert parse_line("# only a comment").generate.prompt == ""  # then: the empty-prompt error


def test_apostrophes_inside_words_are_letters() -> None:
    # shlex alone pairs the two apostrophes up as quotes and sends "a foxs den ... a cats toy"
    line = "a fox's den and a cat's toy --seed 1"
    assert parse_line(line).generate.prompt == "a fox's den and a cat's toy"
    assert parse_line("'don't panic' --seed 1").generate.prompt == "don't panic"
    assert parse_line("rock'n'roll --negative='it's dark'").generate.params == {
        "negative_prompt": "it's dark"
    }


def test_a_cell_body_comment_line_is_left_out() -> None:
    body = "# a note to self\nA minimalist logo\n  ## another\nfor a startup, #1 in C#\n"
    args = parse_line("--seed 1", body).generate
    assert args.prompt == "A minimalist logo\nfor a startup, #1 in C#"


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("A logo\n--seeds 1-4\n", ["flags go on the %%naive line", "(%%naive --seeds 1-4)"]),
        ("A logo\n-m fal-ai/flux/dev", ["flags go on the %%naive line", "(%%naive -m fal-ai"]),
        ("--seed=3\nA logo", ["(%%naive --seed=3)"]),
        ("A logo\n  \u2014seeds 1-4", ["(%%naive --seeds 1-4)"]),
        ("A logo\n--no-safety", ["(%%naive --no-safety)"]),
        ("A logo\n--ar 16:9", ["--ar is not a %naive flag"]),
    ],
)
def test_flags_in_a_cell_body_are_refused(body: str, needles: list[str]) -> None:
    with pytest.raises(MagicUsageError) as caught:
        parse_line("", body)
    for needle in needles:
        assert needle in str(caught.value)


def test_a_cell_body_may_still_use_dashes_as_text() -> None:
    body = "A list:\n- red\n- blue\n\u2014 a quiet morning\nsee -m for more"
    assert parse_line("--seed 1", body).generate.prompt == body


def test_help_states_the_line_rules() -> None:
    text = help_text()
    for needle in (
        "# after a space starts a comment",
        "#1, C#",
        "flags go on the %%naive line",
        "en or em dash",
        "in any case",
        "may not be empty",
    ):
        assert needle in text
