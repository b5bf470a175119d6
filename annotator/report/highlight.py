"""Article text as safe HTML: every piece escaped, cue spans in ``<mark>`` tags."""
from __future__ import annotations

from markupsafe import Markup, escape

from ..taxonomy import load_taxonomy
from .render import SAFE_COLOR, is_nan

__all__ = ["highlight"]


def _nest(spans):
    """Spans as a forest (properly nested ones inside each other); spans crossing another are left out.

    Returns (roots, skipped): each node is (span, children)."""
    items = sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"])))
    roots, stack, skipped = [], [], []
    for s in items:
        st, en = int(s["start"]), int(s["end"])
        if en <= st:
            skipped.append(s)
            continue
        while stack and int(stack[-1][0]["start"]) <= st and int(stack[-1][0]["end"]) <= st:
            stack.pop()
        if stack and en > int(stack[-1][0]["end"]):  # crosses the enclosing span's end
            skipped.append(s)
            continue
        node = (s, [])
        (stack[-1][1] if stack else roots).append(node)
        stack.append(node)
    return roots, skipped


def _mark_attrs(s, colors, reliability_key) -> Markup:
    """The attributes of one span's ``<mark>``: label, offsets, a title and the label colour."""
    st, en = int(s["start"]), int(s["end"])
    label = str(s["label"])
    color = colors.get(label, "#888888")
    color = color if SAFE_COLOR.fullmatch(color) else "#888888"
    rel = s.get(reliability_key) if isinstance(s, dict) else None
    rel = None if is_nan(rel) or rel in ("", None) else str(rel)
    voice = s.get("voice") if isinstance(s, dict) else None
    voice = voice if voice in ("narrator", "quoted") else None
    source = s.get("attributed_to") if voice == "quoted" else None
    said = f" ({source.get('text')})" if isinstance(source, dict) and source.get("text") else ""
    title = label + (f" · {reliability_key}: {rel}" if rel else "") + \
        (f" · score {float(s['score']):.2f}" if not is_nan(s.get("score")) else "") + \
        (f" · {voice}{said}" if voice else "")
    attrs = Markup(' class="cue" data-label="{}" data-start="{}" data-end="{}" title="{}" '
                   'style="--c:{}"').format(label, st, en, title, color)
    if rel:
        attrs += Markup(' data-reliability="{}"').format(rel)
    if voice:  # quoted spans are drawn dashed (the legend says so): the outlet only reports them
        attrs += Markup(' data-voice="{}"').format(voice)
    return attrs


def highlight(text: str, spans, colors=None, reliability_key=None, limit=None) -> tuple[Markup, list]:
    """Article text as safe HTML with every span in a ``<mark>``.

    The text is split at span boundaries and each piece escaped; a ``<mark>`` carries
    ``data-label``, ``data-start`` and ``data-end`` (Python string offsets), the
    label colour and, when the span has one, ``data-voice`` (``narrator``/``quoted``; the
    title names who a quoted span is attributed to). Spans that cross another one (not nested) are not marked; they are
    returned as the second value. With ``limit``, text after ``limit`` characters is cut
    and the spans beyond it are returned as skipped too.
    """
    tax = load_taxonomy()
    if colors is None:
        colors = {lab.id: lab.color for lab in tax.labels}
    reliability_key = reliability_key or tax.reliability_from_name
    n = len(text) if limit is None else min(len(text), int(limit))
    inside = [s for s in spans if 0 <= int(s["start"]) and int(s["end"]) <= n]
    beyond = [s for s in spans if not (0 <= int(s["start"]) and int(s["end"]) <= n)]
    roots, skipped = _nest(inside)

    def render(nodes, lo, hi):
        out, pos = [], lo
        for s, kids in nodes:
            st, en = int(s["start"]), int(s["end"])
            out.append(escape(text[pos:st]))
            attrs = _mark_attrs(s, colors, reliability_key)
            out.append(Markup("<mark{}>").format(attrs) + render(kids, st, en) + Markup("</mark>"))
            pos = en
        out.append(escape(text[pos:hi]))
        return Markup("").join(out)

    return render(roots, 0, n), skipped + beyond
