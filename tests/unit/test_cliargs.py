"""The shared command line: one-line parse errors, the typed options, and what they mean."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from pyo3_triage.cells import Options
from pyo3_triage.commands.cliargs import (
    Parser,
    add_common,
    add_locations,
    options_from,
    positive_int,
    shard_spec,
)
from pyo3_triage.errors import UserError


def common_parser() -> Parser:
    parser = Parser(prog="test")
    add_common(parser)
    return parser


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("7", 7), (" 12 ", 12)])
def test_positive_int_accepts_whole_numbers(text: str, value: int) -> None:
    assert positive_int(text) == value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0", "expected 1 or more"),
        ("-3", "expected 1 or more"),
        ("1.5", "whole number"),
        ("x", "whole number"),
    ],
)
def test_positive_int_refuses_in_words(text: str, words: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=words) as caught:
        positive_int(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(("text", "value"), [("1/1", (1, 1)), ("2/4", (2, 4)), ("4/4", (4, 4))])
def test_shard_spec(text: str, value: tuple[int, int]) -> None:
    assert shard_spec(text) == value


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2", "expected K/N such as 2/4"),
        ("a/b", "expected K/N such as 2/4"),
        ("1/2/3", "expected K/N such as 2/4"),
        ("0/3", "1 <= K <= N"),
        ("5/4", "1 <= K <= N"),
        ("1/0", "1 <= K <= N"),
    ],
)
def test_bad_shard_specs(text: str, words: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        shard_spec(text)


def test_parser_errors_are_one_line_user_errors() -> None:
    with pytest.raises(UserError) as caught:
        common_parser().parse_args(["--no-such-option"])
    assert caught.value.message == "unrecognized arguments: --no-such-option; see --help"


def test_a_bad_typed_value_names_the_option_and_the_reason() -> None:
    with pytest.raises(UserError) as caught:
        common_parser().parse_args(["--repeat", "0"])
    message = caught.value.message
    assert "--repeat" in message and "expected 1 or more, got '0'" in message
    assert message.endswith("; see --help") and "\n" not in message


def test_defaults_of_the_common_options() -> None:
    args = common_parser().parse_args([])
    assert args.scenario is None and args.crate is None and args.run is None
    assert args.with_ == [] and args.repeat == 1 and args.timeout is None
    assert not (args.pre or args.yanked or args.release or args.abi3 or args.rerun or args.debug)
    assert args.results is None and args.cache is None and args.cache_limit is None
    assert options_from(args) == Options()


def test_repeated_and_typed_options() -> None:
    args = common_parser().parse_args(
        [
            "--scenario",
            "a,b",
            "--scenario",
            "c",
            "--with",
            "pytest",
            "--with",
            "numpy>=1",
            "--timeout",
            "2.5",
            "--results",
            "out",
            "--cache",
            "/tmp/c",
            "--cache-limit",
            "5G",
            "--pyo3-git",
            "https://github.com/PyO3/pyo3",
        ]
    )
    assert args.scenario == ["a,b", "c"]
    assert args.with_ == ["pytest", "numpy>=1"]
    assert args.timeout == 2.5
    assert args.results == Path("out") and args.cache == Path("/tmp/c")
    assert args.cache_limit == "5G" and args.pyo3_git == "https://github.com/PyO3/pyo3"


def test_options_from_the_build_flags() -> None:
    args = common_parser().parse_args(
        ["--build-unsupported", "--release", "--repeat", "3", "--abi3"]
    )
    options = options_from(args)
    assert options == Options(build_unsupported=True, profile="release", repeat=3, abi3=True)
    assert options.as_args() == ("--build-unsupported", "--release", "--repeat", "3", "--abi3")


def test_locations_without_a_cache() -> None:
    parser = Parser(prog="report")
    add_locations(parser, cache=False)
    args = parser.parse_args(["--results", "r", "--debug"])
    assert args.results == Path("r") and args.debug
    assert not hasattr(args, "cache") and not hasattr(args, "cache_limit")
    with pytest.raises(UserError, match="unrecognized arguments: --cache"):
        parser.parse_args(["--cache", "c"])


def test_a_missing_option_value_is_a_user_error() -> None:
    with pytest.raises(UserError, match="--results: expected one argument"):
        common_parser().parse_args(["--results"])
