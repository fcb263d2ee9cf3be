"""The analysis package's one exception, importable without pandas or matplotlib."""

from __future__ import annotations


class RunDirError(Exception):
    """The directory is missing, is not a `calcbench run` directory, or holds no usable phase."""
