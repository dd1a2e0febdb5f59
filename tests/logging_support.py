"""Tests that change the process's logging (a JSON handler on the root logger) put it back."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def root_logging():
    """The root logger's handlers and level as they were before the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)
