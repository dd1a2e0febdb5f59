"""Thresholds, divergence and the score an application ranks by (STUB: being built)."""

from __future__ import annotations

from ..models import Application


def threshold_problems(application: Application) -> list[str]:
    return []


def ensure_above_threshold(application: Application) -> None:
    return None


def after_review(application: Application) -> None:
    """Called by reviews.submit_review once the application's figures are updated."""
    return None


def summary(application: Application):
    """What the application's page shows of thresholds, divergence and consensus."""
    return None
