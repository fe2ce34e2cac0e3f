"""Parsing of %naive lines: flags, prompts, sweeps and refusals, before anything runs."""

from __future__ import annotations

import pytest

from naive_nb._magic_args import MagicUsageError, help_text, parse_line


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
        ('"1-10 [5]"', [1, 3, 5, 7, 10]),
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
