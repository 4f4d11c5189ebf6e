"""Bounded output: the tail of a stream for the record, and the capped whole-line log."""

from __future__ import annotations

import io

import pytest

from pyo3_triage.system import capture
from pyo3_triage.system.capture import Log, Tail


# --- Tail -------------------------------------------------------------------------------------
def test_short_output_is_kept_whole() -> None:
    tail = Tail(100)
    for chunk in (b"hello ", b"world\n"):
        tail.add(chunk)
    assert tail.text() == "hello world\n" and not tail.trimmed


def test_only_the_last_characters_are_returned() -> None:
    tail = Tail(5)
    tail.add(b"0123456789")
    assert tail.text() == "56789"


def test_a_flood_costs_a_bounded_buffer() -> None:
    tail = Tail(10)
    for n in range(10_000):
        tail.add(f"line {n}\n".encode())
        assert len(tail.data) <= 2 * tail.limit
    assert tail.trimmed
    assert tail.text() == "line 9999\n"[-10:]


@pytest.mark.parametrize("chars", [0, -5])
def test_zero_or_negative_size_keeps_nothing(chars: int) -> None:
    tail = Tail(chars)
    tail.add(b"anything at all")
    assert tail.chars == 0 and tail.text() == ""
    assert len(tail.data) == 0


def test_multibyte_characters_survive_trimming() -> None:
    tail = Tail(3)  # a limit of 12 bytes
    tail.add(("x" + "€" * 20).encode())  # 61 bytes: trimmed to the last 12
    text = tail.text()
    assert text == "€€€"
    assert "\ufffd" not in text


def test_a_window_starting_mid_character_decodes_cleanly() -> None:
    tail = Tail(2)  # limit 8 bytes; 9 bytes are not trimmed yet (<= 16)
    tail.add("😀😀a".encode())  # the last 8 bytes start inside the first emoji
    assert tail.text() == "😀a"


def test_invalid_utf8_is_replaced_not_raised() -> None:
    tail = Tail(10)
    tail.add(b"ok \xff\xfe end")
    assert tail.text().startswith("ok ") and "\ufffd" in tail.text()


# --- Log --------------------------------------------------------------------------------------
def test_lines_are_written_whole_and_streams_kept_apart() -> None:
    handle = io.BytesIO()
    log = Log(handle, cap=1000)
    log.feed("stdout", b"out one\nout tw")
    log.feed("stderr", b"err on")
    assert handle.getvalue() == b"out one\n"
    log.feed("stderr", b"e\n")
    log.feed("stdout", b"o\n")
    assert handle.getvalue() == b"out one\nerr one\nout two\n"
    assert log.written == len(handle.getvalue()) and not log.truncated


def test_finish_stream_flushes_a_last_line_without_newline() -> None:
    handle = io.BytesIO()
    log = Log(handle, cap=1000)
    log.feed("stdout", b"no newline")
    log.finish_stream("stdout")
    log.finish_stream("stderr")  # nothing pending: nothing written
    assert handle.getvalue() == b"no newline\n"
    assert log.partial["stdout"] == bytearray()


def test_a_very_long_line_is_written_without_its_newline() -> None:
    handle = io.BytesIO()
    log = Log(handle, cap=10 * capture._MAX_PARTIAL_LINE)
    log.feed("stdout", b"x" * (capture._MAX_PARTIAL_LINE - 1))
    assert handle.getvalue() == b""
    log.feed("stdout", b"yy")
    assert len(handle.getvalue()) == capture._MAX_PARTIAL_LINE + 1
    assert log.partial["stdout"] == bytearray()


def test_notes_do_not_count_against_the_cap() -> None:
    handle = io.BytesIO()
    log = Log(handle, cap=5)
    log.note("$ command --that -is long\n")
    log.feed("stdout", b"abcd\n")
    assert log.written == 5 and not log.truncated
    assert handle.getvalue() == b"$ command --that -is long\nabcd\n"


def test_the_cap_cuts_once_and_says_so() -> None:
    handle = io.BytesIO()
    log = Log(handle, cap=10)
    log.feed("stdout", b"12345678\nabcdefgh\n")
    log.feed("stdout", b"LATER\n")
    log.feed("stderr", b"MORE\n")
    log.finish_stream("stderr")
    text = handle.getvalue().decode()
    assert text.startswith("12345678\na")
    assert "LATER" not in text and "MORE" not in text
    assert text.count("output cut at 10 bytes") == 1
    assert log.truncated and log.written == 10


def test_the_cap_is_counted_without_a_file() -> None:
    log = Log(None, cap=4)
    log.note("ignored")
    log.feed("stdout", b"12\n")
    assert not log.truncated
    log.feed("stdout", b"345\n")
    assert log.truncated and log.written == 4


def test_negative_cap_truncates_at_once() -> None:
    handle = io.BytesIO()
    log = Log(handle, cap=-1)
    log.feed("stdout", b"x\n")
    assert log.cap == 0 and log.truncated and log.written == 0
    assert handle.getvalue().startswith(b"\n[pyo3-triage: output cut at 0 bytes")
