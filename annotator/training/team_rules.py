"""The frozen cue rules adapted to a team's convention: lexicon entries and rules its annotations contradict are dropped.

A fitted tagger adds the spans of its frozen rules (``CueTagger.rules_``) to its own; a lexicon
rule marks "regime" as a loaded term whatever the token classifiers learned. When a team's
guideline differs (it never marks "regime"), retraining the classifiers is not enough: the rule
must go too. :func:`adapt_rules` measures every rule hit on the team's annotated articles (for the
labels each article is annotated for) and drops a lexicon entry, or a pattern rule, that hit at
least ``min_hits`` times with less than ``max_precision`` of its hits overlapping a gold span of
its label. Everything else is kept as the base model had it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..cues.rules import RuleSet
from ..cues.tokens import tokenize

__all__ = ["RuleChanges", "adapt_rules", "MIN_HITS", "MAX_PRECISION"]

#: Hits on the team's articles a rule (or lexicon entry) needs before the team's convention can drop it.
MIN_HITS = 3
#: A rule (or lexicon entry) whose hits overlap the team's gold spans less often than this is dropped.
MAX_PRECISION = 0.2


@dataclass
class RuleChanges:
    """What :func:`adapt_rules` did: ``dropped_entries`` (rule name -> list of entries as text),
    ``dropped_rules`` (names), and ``hits`` (rule or ``rule:entry`` -> [hits, of which in a gold span])."""

    dropped_entries: dict = field(default_factory=dict)
    dropped_rules: list = field(default_factory=list)
    hits: dict = field(default_factory=dict)

    def notes(self) -> list:
        """One line per change, for the retrain's notes."""
        out = [f"rule {r}: dropped (the team's annotations disagree with its hits)" for r in self.dropped_rules]
        for rule, entries in self.dropped_entries.items():
            out.append(f"rule {rule}: dropped {len(entries)} lexicon entr{'y' if len(entries) == 1 else 'ies'} the "
                       f"team never marks: {', '.join(entries[:8])}" + (" ..." if len(entries) > 8 else ""))
        return out


def _overlaps(spans, label, start, end) -> bool:
    return any(lab == label and s < end and e > start for lab, s, e in spans)


def _count_hits(rules: RuleSet, frame) -> dict:
    """(rule name, entry text or None) -> [hits, hits overlapping a gold span of the rule's label]."""
    matcher = rules.matcher()
    by_name = {r.name: r for r in rules.rules}
    counts: dict = {}
    for text, spans, annotated in zip(frame["text"], frame["spans"], frame["annotated"]):
        for hit in matcher.apply_text(text):
            if hit.label not in annotated:
                continue
            rule = by_name.get(hit.rule)
            entry = " ".join(tokenize(text[hit.start:hit.end])[0]).lower() if rule and rule.lexicon is not None else None
            c = counts.setdefault((hit.rule, entry), [0, 0])
            c[0] += 1
            c[1] += int(_overlaps(spans, hit.label, hit.start, hit.end))
    return counts


def adapt_rules(rules_builtins: dict, team_frame, *, min_hits=MIN_HITS, max_precision=MAX_PRECISION):
    """The frozen rules (``CueTagger.rules_``) without what the team's annotations contradict.

    Parameters
    ----------
    rules_builtins : dict
        A tagger's ``rules_`` (:meth:`~annotator.cues.rules.RuleSet.to_builtins`).
    team_frame : DataFrame
        The team's training rows (:func:`~annotator.training.targets.training_frame` columns ``text``,
        ``spans``, ``annotated``).

    Returns
    -------
    (dict, RuleChanges)
        The new builtins (a copy) and what changed.
    """
    changes = RuleChanges()
    if not len(team_frame):
        return rules_builtins, changes
    counts = _count_hits(RuleSet.from_builtins(rules_builtins), team_frame)
    changes.hits = {(r if e is None else f"{r}:{e}"): v for (r, e), v in counts.items()}
    per_rule: dict = {}
    for (rule, _), (n, good) in counts.items():
        tot = per_rule.setdefault(rule, [0, 0])
        tot[0] += n
        tot[1] += good
    out = []
    for rec in rules_builtins["rules"]:
        rec = dict(rec)
        name = rec["name"]
        if "entries" in rec:
            bad = {e for (r, e), (n, good) in counts.items()
                   if r == name and e is not None and n >= min_hits and good / n < max_precision}
            if bad:
                keep = [e for e in rec["entries"] if " ".join(e).lower() not in bad]
                changes.dropped_entries[name] = sorted(bad)
                rec["entries"] = keep
                if not keep:
                    changes.dropped_rules.append(name)
                    continue
        else:
            n, good = per_rule.get(name, (0, 0))
            if n >= min_hits and good / n < max_precision:
                changes.dropped_rules.append(name)
                continue
        out.append(rec)
    return {**rules_builtins, "rules": out}, changes
