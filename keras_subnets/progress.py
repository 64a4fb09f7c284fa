# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

"""One progress line that suits both a terminal and a log file."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressLine:
    """Reports the steps of a long task on one stream.

    On a terminal each step overwrites the last (``\\r``); anywhere else (a
    log file, a pipe) each step is a line of its own, so the log reads step
    by step instead of as one run-on line.

    Args:
        stream: where to write; default ``sys.stderr``, looked up when used
            so that redirections made later are honoured.
    """

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream
        self._width = 0

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    def _on_terminal(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def update(self, message: str) -> None:
        """Shows ``message`` as the current step."""
        if self._on_terminal():
            # Pad with spaces: a shorter message must hide the longer one.
            self.stream.write("\r" + message.ljust(self._width))
            self._width = max(self._width, len(message))
        else:
            self.stream.write(message + "\n")
        self.stream.flush()

    def done(self) -> None:
        """Ends the line on a terminal (nothing to do elsewhere)."""
        if self._width and self._on_terminal():
            self.stream.write("\n")
            self.stream.flush()
        self._width = 0
