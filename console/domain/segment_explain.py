"""Why a member is in their circle, in words an operator can check (分层依据).

A run records how it scored (``describe_run``: each letter's method and the raw value where
each score begins, and the rules it used); ``explain_member`` turns that and one member's
scores and facts into one line naming the rule that fired, its thresholds and the member's
own values, e.g. ``S2 忠诚复购：规则『最近购买且常买』命中 · R≥4（≤45天）：12天前；
F≥4（每月≥0.5单）：每月1.2单（14单）``. A member without an order in the window is said to
be so, never shown as an active member with low scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from console.domain.rfm import LETTERS, Cuts, Scoring, months
from console.domain.segment_rules import RuleSet
from console.domain.segments import parse_segment

NO_RULE = -1
NO_ORDERS = -2


def describe_run(rules: RuleSet, cuts: Mapping[str, Cuts]) -> dict[str, Any]:
    """What a run keeps to explain its members later (JSON-ready; unbounded ends as None)."""
    scoring: Scoring = rules.scoring
    return {
        "window_days": rules.window_days,
        "months": months(rules.window_days),
        "default": rules.default.value,
        "no_orders": rules.no_orders.value,
        "letters": {
            name: {
                "method": scoring.letter(name).method.value,
                "per_month": scoring.letter(name).per_month,
                "cuts": list(cuts.get(name, ())),
            }
            for name in LETTERS
        },
        "rules": [
            {
                "segment": rule.segment.value,
                "name": rule.name or rule.note,
                "when": [[c.field, _finite(c.low), _finite(c.high)] for c in rule.conditions],
            }
            for rule in rules.rules
        ],
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _label(segment: str) -> str:
    parsed = parse_segment(segment)
    return f"{segment} {parsed.label}" if parsed else segment


def explain_member(
    run: Mapping[str, Any],
    rule: int,
    segment: str,
    scores: Mapping[str, int],
    facts: Mapping[str, Any],
    koc: bool = False,
) -> str:
    """One line: the circle, the rule that fired with its thresholds, the member's values."""
    suffix = " · KOC" if koc else ""
    if rule == NO_ORDERS:
        return f"{_label(segment)}：窗口内没有订单（近 {run['window_days']} 天无购买）{suffix}"
    letters = " ".join(f"{n.upper()}{scores[n]}" for n in LETTERS)
    rules = run.get("rules", [])
    if not 0 <= rule < len(rules):
        return f"{_label(segment)}：未命中任何规则，归入默认圈层 · {letters}{suffix}"
    fired = rules[rule]
    parts = [_condition(run, field, low, high, facts) for field, low, high in fired["when"]]
    name = fired.get("name") or f"第 {rule + 1} 条"
    return f"{_label(segment)}：规则『{name}』命中 · {'；'.join(parts)}{suffix}"


def _bounds(low: float | None, high: float | None, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"={low:g}{unit}" if low == high else f" {low:g}..{high:g}{unit}"
    if low is not None:
        return f"≥{low:g}{unit}"
    return f"≤{high:g}{unit}"


def _condition(
    run: Mapping[str, Any],
    field: str,
    low: float | None,
    high: float | None,
    facts: Mapping[str, Any],
) -> str:
    own = _own(run, field, facts)
    if field in LETTERS:
        return f"{field.upper()}{_bounds(low, high)}{_cut_text(run, field, low, high)}：{own}"
    names = {
        "recency_days": "最近购买",
        "frequency": "购买",
        "monetary": "消费",
        "expansion": "裂变",
    }
    unit = {"recency_days": "天前", "frequency": "单", "monetary": "元", "expansion": ""}[field]
    return f"{names[field]}{_bounds(low, high, unit)}：{own}"


def _cut_text(run: Mapping[str, Any], letter: str, low: float | None, high: float | None) -> str:
    """The raw threshold behind a score condition: ``（≤45天）`` for R≥4."""
    cuts = run.get("letters", {}).get(letter, {}).get("cuts", [])
    per_month = run.get("letters", {}).get(letter, {}).get("per_month", False)
    texts = []
    if low is not None and 2 <= low <= 5 and int(low) - 2 < len(cuts):
        cut = cuts[int(low) - 2]
        texts.append("无人达到" if cut is None else _threshold(letter, cut, per_month, True))
    if high is not None and 1 <= high <= 4 and int(high) - 1 < len(cuts):
        cut = cuts[int(high) - 1]
        if cut is not None:
            texts.append(_threshold(letter, cut, per_month, False))
    return f"（{'，'.join(texts)}）" if texts else ""


def _threshold(letter: str, cut: float, per_month: bool, reached: bool) -> str:
    """``reached``: the score's own side of the cut; else the side under it."""
    if letter == "r":
        return f"≤{cut:g}天" if reached else f">{cut:g}天"
    sign = "≥" if reached else "<"
    if letter == "f":
        return f"每月{sign}{cut:.2g}单" if per_month else f"{sign}{cut:g}单"
    if letter == "m":
        return f"{sign}¥{cut:,.0f}"
    return f"{sign}{cut:g}"


def _own(run: Mapping[str, Any], field: str, facts: Mapping[str, Any]) -> str:
    """The member's own value for a score letter or a raw field."""
    if field in ("r", "recency_days"):
        days = facts.get("recency_days")
        return "无" if days is None else f"{math.floor(days):.0f}天前"
    if field in ("f", "frequency"):
        count = int(facts.get("frequency") or 0)
        if field == "f" and run.get("letters", {}).get("f", {}).get("per_month"):
            return f"每月{count / run['months']:.2g}单（{count}单）"
        return f"{count}单"
    if field in ("m", "monetary"):
        return f"¥{float(facts.get('monetary') or 0):,.0f}"
    return f"{float(facts.get('expansion') or 0):g}"
