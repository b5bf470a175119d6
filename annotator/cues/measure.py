"""Measuring the cue rules on labelled corpora: precision and coverage, overlaps and conflicts.

:func:`measure_rules` gives what ``annotator rules`` prints and stores in
``label_config/rules_measured.json`` (a rule's precision is its span score);
:func:`rule_analysis` adds, in the spirit of Snorkel's ``LFAnalysis``, how often each rule's
matches overlap another rule's, and how often one with another label.
"""
from __future__ import annotations

import pandas as pd

from ..spans import span_prf
from .matching import RuleMatcher
from .rules import load_rules

__all__ = ["rule_matches", "measure_rules", "rule_analysis"]


def rule_matches(dataset, rules=None) -> dict:
    """Rule name → one list of ``(start, end)`` matches per article of ``dataset`` (in its order).

    Each article is tokenised once and every rule applied to it
    (:class:`~annotator.cues.matching.RuleMatcher`).
    """
    rules = load_rules() if rules is None else rules
    out = {r.name: [] for r in rules}
    matcher = RuleMatcher(rules, [0.0] * len(rules))  # the scores do not change where rules match
    for text in dataset.articles["text"]:
        found = {r.name: [] for r in rules}
        for hit in matcher.apply_text(text):
            found[hit.rule].append((hit.start, hit.end))
        for name, spans in found.items():
            out[name].append(spans)
    return out


def measure_rules(dataset, annotates: dict, rules=None, matches=None) -> pd.DataFrame:
    """Coverage and precision of each cue rule on a labelled dataset.

    For each rule, on the articles whose corpus annotates the rule's label:
    ``matches`` (spans found), ``precision`` (share of matches overlapping a gold
    span of that label), ``coverage`` (share of gold spans a match overlaps) and
    ``span_precision``/``span_recall`` with partial-overlap credit.
    ``matches`` (optional): :func:`rule_matches` of the same rules, when already computed.
    """
    rules = load_rules() if rules is None else rules
    matches = rule_matches(dataset, rules) if matches is None else matches
    arts = dataset.articles
    gold_by = {}
    for aid, lab, s, e in zip(dataset.spans["article_id"], dataset.spans["label"], dataset.spans["start"], dataset.spans["end"]):
        gold_by.setdefault((aid, lab), []).append((int(s), int(e)))
    rows = []
    for rule in rules:
        idx = [i for i, c in enumerate(arts["corpus"]) if rule.label in annotates.get(c, ())]
        gold = [gold_by.get((arts["article_id"].iat[i], rule.label), []) for i in idx]
        pred = [matches[rule.name][i] for i in idx]
        hits = sum(any(a < e and b > s for a, b in g) for g, p in zip(gold, pred) for s, e in p)
        covered = sum(any(a < e and b > s for a, b in p) for g, p in zip(gold, pred) for s, e in g)
        n_match = sum(map(len, pred))
        n_gold = sum(map(len, gold))
        prf = span_prf(gold, pred)
        rows.append({
            "rule": rule.name, "label": rule.label, "articles": len(idx), "matches": n_match,
            "precision": hits / n_match if n_match else None,
            "coverage": covered / n_gold if n_gold else None,
            "span_precision": prf["precision"] if n_match else None, "span_recall": prf["recall"],
        })
    return pd.DataFrame(rows)


def rule_analysis(dataset, annotates: dict, rules=None) -> pd.DataFrame:
    """Per rule, on every article of ``dataset``: what it matches and how it agrees with the others.

    Columns: ``rule``, ``label``, ``matches`` (spans found), ``articles_matched`` (share of the
    articles with at least one match), ``overlaps`` (share of its matches overlapping a match of
    another rule), ``conflicts`` (share of its matches overlapping a match of a rule with another
    label), and from :func:`measure_rules` (on the corpora annotating its label) ``precision`` and
    ``gold_coverage`` (its ``coverage``).
    """
    rules = load_rules() if rules is None else rules
    matches = rule_matches(dataset, rules)
    measured = measure_rules(dataset, annotates, rules, matches).set_index("rule")
    label = {r.name: r.label for r in rules}
    counts = {r.name: {"matches": 0, "articles": 0, "overlaps": 0, "conflicts": 0} for r in rules}
    for i in range(len(dataset.articles)):
        hits = [(name, s, e) for name in label for s, e in matches[name][i]]
        for name in {h[0] for h in hits}:
            counts[name]["articles"] += 1
        for name, s, e in hits:
            others = {n for n, a, b in hits if n != name and a < e and b > s}
            c = counts[name]
            c["matches"] += 1
            c["overlaps"] += bool(others)
            c["conflicts"] += any(label[n] != label[name] for n in others)
    n_art = max(len(dataset.articles), 1)
    rows = []
    for r in rules:
        c = counts[r.name]
        n = c["matches"]
        rows.append({"rule": r.name, "label": r.label, "matches": n, "articles_matched": c["articles"] / n_art,
                     "overlaps": c["overlaps"] / n if n else None, "conflicts": c["conflicts"] / n if n else None,
                     "precision": measured.at[r.name, "precision"], "gold_coverage": measured.at[r.name, "coverage"]})
    return pd.DataFrame(rows)
