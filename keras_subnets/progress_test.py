# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The keras-subnets Authors

import io

from keras_subnets.progress import ProgressLine


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_each_step_overwrite_the_last():
    stream = _Terminal()
    line = ProgressLine(stream)
    line.update("level 0 (1/2), a long step")
    line.update("level 1 (2/2)")
    line.done()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    # The shorter message is padded over the longer one it replaces.
    last = text.split("\r")[-1].rstrip("\n")
    assert last.rstrip() == "level 1 (2/2)" and len(last) == len("level 0 (1/2), a long step")


def test_a_log_file_gets_one_line_per_step():
    stream = io.StringIO()
    line = ProgressLine(stream)
    line.update("level 0 (1/2)")
    line.update("level 1 (2/2)")
    line.done()
    assert stream.getvalue() == "level 0 (1/2)\nlevel 1 (2/2)\n"
