"""The document checks (:mod:`annotator.training.checks`) as text: for the training summary and the model card."""
from __future__ import annotations

__all__ = ["describe_checks"]


def _f(x, fmt="{:.3f}"):
    return "–" if x is None else fmt.format(x)


def describe_checks(checks: dict) -> str:
    """The checks as printable lines, each beside its target."""
    lines = []
    g = checks.get("grouped")
    if g:
        lines += [f"document score, whole sites/articles held out (grouped {g.get('folds', '')}-fold CV):",
                  f"  PTC: Spearman with propaganda density {_f(g['ptc_spearman'])} (n={g['ptc_n']}; target >= 0.70)",
                  f"  hyperpartisan: ROC AUC {_f(g['hyperpartisan_auc'])} with sites held out (n={g['hyperpartisan_n']};"
                  " target >= 0.85)",
                  f"  Spearman(score, article length) {_f(g['length_spearman'])} (n={g['n']}; target |.| <= 0.1)"]
        strata = g.get("hyperpartisan_by_length")
        if strata:
            parts = ", ".join(f"{s['tokens'][0]}-{s['tokens'][1]} tokens {_f(s['auc'])} (n={s['n']}, "
                              f"{s['positives']} hyperpartisan)" for s in strata)
            lines.append(f"  hyperpartisan AUC within length thirds: {parts}; length alone "
                         f"{_f(g.get('hyperpartisan_length_auc'))}")
    for name, title, target in (("polnear_mainstream", "PolNeAR mainstream articles (NYT, WaPo, USA Today, Politico)",
                                 ""), ("wikipedia", "Szeged Wikipedia documents", "; target high <= 2 %")):
        d = (checks.get("genres") or {}).get(name)
        if d:
            bands = ", ".join(f"{k} {100 * v:.1f} %" for k, v in d["bands"].items())
            lines.append(f"  {title}: mean {_f(d['mean'], '{:.1f}')}, {bands} (n={d['n']}{target})")
    s = checks.get("subjectivity")
    if s:
        lines.append(f"  subjectivity sentences (CheckThat! 2025, measured only; n={s['n']}, {s['subjective']} subjective):"
                     f" ROC AUC of the score {_f(s['risk_auc'])}, of the highest loaded_term span score "
                     f"{_f(s['loaded_term_auc'])} (target >= 0.75)")
    return "\n".join(lines)
