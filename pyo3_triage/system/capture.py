"""What a child wrote, kept within bounds: the last characters of each stream for the record,
and the whole output (lines kept whole, up to a byte cap) for the log."""

from __future__ import annotations

from typing import IO

_MAX_PARTIAL_LINE = 65536  # write a line to the log even without its newline past this size


class Tail:
    """The last bytes of one stream, so a 100 MB flood costs a few KB of memory."""

    def __init__(self, chars: int) -> None:
        self.chars = max(chars, 0)
        self.limit = self.chars * 4  # a UTF-8 character is at most four bytes
        self.data = bytearray()
        self.trimmed = False

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > 2 * self.limit:
            del self.data[: len(self.data) - self.limit]
            self.trimmed = True

    def text(self) -> str:
        if self.chars == 0:
            return ""
        data = bytes(self.data[-self.limit :])
        if self.trimmed or len(self.data) > self.limit:
            while data and data[0] & 0xC0 == 0x80:  # drop a character cut in half
                data = data[1:]
        return data.decode("utf-8", errors="replace")[-self.chars :]


class Log:
    """Writes output to the log as it arrives, whole lines at a time, up to a byte cap.

    Lines are kept whole so interleaved stdout and stderr stay readable. The cap is counted
    even without a file, so `truncated` means the same thing either way.
    """

    def __init__(self, handle: IO[bytes] | None, cap: int) -> None:
        self.handle = handle
        self.cap = max(cap, 0)
        self.written = 0
        self.truncated = False
        self.partial: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}

    def note(self, text: str) -> None:
        """Write harness text (header, footer) that does not count against the cap."""
        if self.handle is not None:
            self.handle.write(text.encode("utf-8", errors="replace"))
            self.handle.flush()

    def feed(self, stream: str, chunk: bytes) -> None:
        if self.truncated:
            return
        pending = self.partial[stream]
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        if cut == 0:
            if len(pending) < _MAX_PARTIAL_LINE:
                return
            cut = len(pending)
        self._write(bytes(pending[:cut]))
        del pending[:cut]

    def finish_stream(self, stream: str) -> None:
        pending = self.partial[stream]
        if pending and not self.truncated:
            self._write(bytes(pending) + (b"" if pending.endswith(b"\n") else b"\n"))
        pending.clear()

    def _write(self, data: bytes) -> None:
        room = self.cap - self.written
        if len(data) > room:
            data = data[:room]
            self.truncated = True
        self.written += len(data)
        if self.handle is not None:
            self.handle.write(data)
            if self.truncated:
                self.handle.write(
                    f"\n[pyo3-triage: output cut at {self.cap} bytes; later output was dropped."
                    " The last part of each stream is at the end of this log.]\n".encode()
                )
            self.handle.flush()
