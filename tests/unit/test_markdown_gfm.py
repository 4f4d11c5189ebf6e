"""What a reader sees on GitHub: Markdown this tool writes, rendered by cmark-gfm (GitHub's own
renderer, with its raw-HTML filter), then read back as visible text."""

from __future__ import annotations

from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from pyo3_triage.bisecting.bisect_report import _upstream
from pyo3_triage.reporting.markdown import md_code, md_escape


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def seen(markdown: str) -> tuple[str, list[str]]:
    """The visible text and the HTML tags GitHub would produce for `markdown`."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = _Visible()
    parser.feed(html)
    return " ".join("".join(parser.text).split()), parser.tags


# Real lines of PyO3's CHANGELOG (0.21.0), and one a hostile fork could write.
@pytest.mark.parametrize(
    ("line", "visible"),
    [
        (
            "- Add `Bound<T>` and `Borrowed<T>` smart pointers as a new API. [#3686](https://github.com/PyO3/pyo3/pull/3686)",
            "Add Bound<T> and Borrowed<T> smart pointers as a new API. #3686",
        ),
        (
            "- Improve performance of `extract::<i64>` (and other integer types).",
            "Improve performance of extract::<i64> (and other integer types).",
        ),
        (
            "- Add `Py::drop_ref` to drop a `Py`` and decrease <b>now</b>.",
            None,  # unbalanced backticks upstream: checked below for raw HTML only
        ),
        (
            "- <script>alert(1)</script> in ``Vec<u8>`` and <img src=x onerror=y>",
            "<script>alert(1)</script> in Vec<u8> and <img src=x onerror=y>",
        ),
    ],
)
def test_changelog_lines_read_as_written(line: str, visible: str | None) -> None:
    text, tags = seen(_upstream(line))
    assert "&lt;" not in text  # never a literal entity on the page
    assert not {"script", "img", "b"} & set(tags)  # no raw HTML got through
    if visible is not None:
        assert text == visible


def test_changelog_headings_become_bold_lines() -> None:
    text, tags = seen(_upstream("### Fixed"))
    assert text == "Fixed" and "strong" in tags and not {"h1", "h2", "h3"} & set(tags)


@pytest.mark.parametrize(
    "message",
    [
        "assertion `left == right` failed: Node is unsendable, but sent to another thread!",
        "a | b || c ``` <script>x</script> *bold* _it_ [link](http://x) &amp; \\ end",
        "`",
    ],
)
def test_messages_in_a_table_read_as_written(message: str) -> None:
    table = (
        f"| cell | message |\n|---|---|\n| {md_escape('0.20.3 (yanked)')} | {md_code(message)} |\n"
    )
    text, tags = seen(table)
    assert "0.20.3 (yanked)" in text
    assert " ".join(message.split()) in text
    assert text.count("|") == message.count("|")  # pipes did not split the row
    assert not {"script", "a", "em"} & set(tags)


def test_plain_text_in_a_table_cell_reads_as_written() -> None:
    hostile = "fn f<'a>(x: &'a str) -> Vec<u8> | *not* _emphasis_ [no](link)"
    text, tags = seen(f"| x |\n|---|\n| {md_escape(hostile)} |\n")
    assert text.endswith(hostile)
    assert not {"em", "a"} & set(tags)
