"""The records of one list envelope (`{"tickets": [...], ...}`) read from a JSON file a chunk at
a time, so a file of any size is read in bounded memory.

Each record is decoded by the standard library's decoder (`json.JSONDecoder.raw_decode`); this
module only walks the envelope around them. Anything it does not expect (a text that is not
UTF-8, broken JSON, a document that is not an object) stops the walk with
`Unstreamable`, and the caller reads the file whole to say exactly what is wrong with it (or,
for a document that is valid after all, to take its list as it is).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
"""Bytes read at a time: a record longer than this is read in several chunks."""
MAX_RECORD = 64 * CHUNK
"""Characters one value may span before the walk gives up (broken JSON would otherwise make
it read the rest of the file into memory looking for the value's end)."""
WHITESPACE = " \t\n\r"
FOLLOWS = WHITESPACE + ",:]}"
"""What may come right after a value in a valid document."""
_DECODER = json.JSONDecoder()


class Unstreamable(Exception):
    """The file cannot be walked as an envelope holding the list; read it whole instead."""


class NoList(Exception):
    """The file is valid JSON but not an object with the list (raised after the walk)."""


def records(path: Path, name: str, chunk: int = CHUNK,
            progress: Callable[[int], None] | None = None) -> Iterator[Any]:
    """The items of the top-level object's `name` list, in order. Raises `NoList` when the
    document (valid to its end) has no such list, `Unstreamable` when the walk cannot go on.
    `progress` is told how many bytes each chunk read had."""
    with Path(path).open("rb") as handle:
        head = handle.read(4)
        if b"\x00" in head:
            raise Unstreamable("not UTF-8")
        handle.seek(len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0)
        walk = _Walk(handle, chunk, progress)
        yield from walk.envelope(name)


class _Walk:
    """A cursor over the decoded text, refilled a chunk at a time."""

    def __init__(self, handle, chunk: int, progress: Callable[[int], None] | None = None):
        self.handle = handle
        self.progress = progress
        self.chunk = chunk
        self.decoder = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self.text = ""
        self.pos = 0
        self.ended = False

    def more(self) -> bool:
        """Read the next chunk (dropping what is behind the cursor); False at the end."""
        if self.ended:
            return False
        raw = self.handle.read(self.chunk)
        if self.progress is not None and raw:
            self.progress(len(raw))
        try:
            added = self.decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            raise Unstreamable(str(error)) from error
        self.text = self.text[self.pos:] + added
        self.pos = 0
        if not raw:
            self.ended = True
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def expect(self, allowed: str) -> str:
        found = self.peek()
        if not found or found not in allowed:
            raise Unstreamable(f"expected one of {allowed!r}")
        self.pos += 1
        return found

    def value(self) -> Any:
        """The JSON value at the cursor, read whole: more chunks until the value is followed
        by what may follow a value, so a number cut by a chunk's end ("0" of "0.5") is not
        taken for a shorter one."""
        self.peek()
        while True:
            room = len(self.text) - self.pos <= MAX_RECORD
            try:
                found, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as error:
                if room and self.more():
                    continue
                raise Unstreamable(str(error)) from error
            if end < len(self.text) and self.text[end] in FOLLOWS or not room or \
                    not self.more():
                self.pos = end
                return found

    def envelope(self, name: str) -> Iterator[Any]:
        self.expect("{")
        seen = False
        if self.peek() == "}":
            self.pos += 1
        else:
            while True:
                key = self.value()
                if not isinstance(key, str):
                    raise Unstreamable("an object key that is not a string")
                self.expect(":")
                if key == name and self.peek() == "[" and not seen:
                    seen = True
                    self.pos += 1
                    yield from self.items()
                elif key == name:
                    raise Unstreamable(f"a second {name!r} or one that is not a list")
                else:
                    self.value()
                if self.expect(",}") == "}":
                    break
        if self.peek():
            raise Unstreamable("more after the document")
        if not seen:
            raise NoList(name)

    def items(self) -> Iterator[Any]:
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.expect(",]") == "]":
                return
