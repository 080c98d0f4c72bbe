"""Argument types shared by the command line's parsers (``console.cli`` and the adapters')."""

from __future__ import annotations

import argparse


def non_negative_float(text: str) -> float:
    """A speed or a number of seconds: a number, not below zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是数字：{text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"不能为负数：{text!r}")
    return value
