"""The label taxonomy, read from the Label Studio config in ``label_config/``.

The XML is the single source of truth for label names. Roles are found by the
structure of the config, not by spelling names:

* the ``<Labels>`` tag holds the span labels (``value`` is the stable id; an
  optional ``reliability`` attribute names the reliability choice pre-annotations
  give regions of that label);
* a ``<Choices perRegion="true">`` tag holds the per-region reliability choice
  (its ``whenLabelValue``, comma-separated, names the labels it applies to; all
  labels when absent);
* a ``<Choices>`` tag without ``perRegion`` holds the document-level framing-risk
  rating, its choices listed from lowest to highest risk (an ordinal scale).
"""
from __future__ import annotations

import hashlib
import json
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .errors import AnnotatorError
from .paths import LABEL_CONFIG_DIR

__all__ = ["Label", "Taxonomy", "TaxonomyError", "load_taxonomy", "parse_taxonomy", "DEFAULT_CONFIG"]

#: The label config every command reads when none is named (``label_config/framing.xml``).
DEFAULT_CONFIG = LABEL_CONFIG_DIR / "framing.xml"

#: Model files made before models stored :attr:`Taxonomy.structure_hash` stored the whole XML's
#: :attr:`Taxonomy.config_hash`. The earlier versions of ``framing.xml``, by that hash, with the
#: structure hash of their labels: such a model stays valid while the label structure is the same.
EARLIER_CONFIG_HASHES = {
    # label_config/framing.xml before issue #13 (the shipped framing-1ba6010639 stores this one)
    "53fdd4001dc9412f775387c9e9701cc4329a19861d513fc2bded291661d83226":
        "2f1035bab46837b4725050e895fd1243a1e77a7822c58acceba9050292e2a259",
    # its first version
    "43535ae37a8e3ca2618df135649eb4b99b02bffdbfac01f2ea8d590fad3aa458":
        "2f1035bab46837b4725050e895fd1243a1e77a7822c58acceba9050292e2a259",
}


class TaxonomyError(AnnotatorError, ValueError):
    """The label config is missing or does not have the expected structure."""


@dataclass(frozen=True)
class Label:
    """One span label: its stable id, the annotator-facing hint, a colour and its pre-filled reliability.

    ``reliability`` is the reliability choice a pre-annotation gives a region of
    this label (the XML's ``reliability`` attribute), ``None`` to leave it to the
    annotator.
    """

    id: str
    hint: str = ""
    color: str = "#888888"
    reliability: str | None = None


@dataclass(frozen=True)
class Taxonomy:
    """The label set of one Label Studio config.

    Attributes
    ----------
    labels : tuple of Label
        Span labels, in config order.
    span_from_name : str
        ``name`` of the ``<Labels>`` tag (``from_name`` in Label Studio results).
    to_name : str
        ``name`` of the ``<Text>`` tag the labels apply to.
    text_field : str
        Task data key holding the article text (``$text`` → ``text``).
    reliability_from_name : str
        ``name`` of the per-region reliability ``<Choices>``.
    reliability_choices : tuple of str
        Reliability values.
    reliability_labels : tuple of str
        Span labels whose regions get a reliability choice (the ``whenLabelValue``
        of the reliability ``<Choices>``; every label when it has none).
    rating_from_name : str
        ``name`` of the document-level framing-risk ``<Choices>``.
    rating_choices : tuple of str
        Framing-risk ratings from lowest to highest.
    xml : str
        The config text as read.
    """

    labels: tuple
    span_from_name: str
    to_name: str
    text_field: str
    reliability_from_name: str
    reliability_choices: tuple
    reliability_labels: tuple
    rating_from_name: str
    rating_choices: tuple
    xml: str = field(repr=False)
    path: str = ""

    @property
    def label_ids(self) -> tuple:
        """Span label ids in config order."""
        return tuple(label.id for label in self.labels)

    @property
    def config_hash(self) -> str:
        """SHA-256 of the canonicalised XML (whitespace and comments ignored)."""
        canonical = ET.canonicalize(self.xml, strip_text=True, with_comments=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def structure_hash(self) -> str:
        """SHA-256 of what a model depends on: span label ids, reliability choices and ratings, in order.

        Hints, colours, headers and layout do not change it (unlike :attr:`config_hash`),
        so a model stays valid across presentation-only edits of the XML.
        """
        structure = {"labels": list(self.label_ids), "reliability": list(self.reliability_choices),
                     "rating": list(self.rating_choices)}
        return hashlib.sha256(json.dumps(structure, separators=(",", ":")).encode("utf-8")).hexdigest()

    def fits_model_hash(self, stored: str | None) -> bool:
        """Whether a model that stored the label-config hash ``stored`` was built for these labels:
        their :attr:`structure_hash`, this XML's :attr:`config_hash`, or an earlier XML's with the
        same structure (:data:`EARLIER_CONFIG_HASHES`)."""
        return stored in (self.structure_hash, self.config_hash) or \
            EARLIER_CONFIG_HASHES.get(stored) == self.structure_hash

    @property
    def reliability_prefill(self) -> dict:
        """``{label id: reliability choice}`` for the labels whose regions get a pre-filled reliability."""
        return {label.id: label.reliability for label in self.labels if label.reliability}

    def color(self, label_id: str) -> str:
        for label in self.labels:
            if label.id == label_id:
                return label.color
        raise KeyError(label_id)

    def check_label(self, label_id: str) -> str:
        """Return ``label_id`` if it is a span label of this taxonomy, else raise."""
        if label_id not in self.label_ids:
            raise TaxonomyError(
                f"unknown label {label_id!r} (labels in {self.path or 'config'}: {', '.join(self.label_ids)})"
            )
        return label_id


def _one(root: ET.Element, predicate, what: str, path: str) -> ET.Element:
    found = [el for el in root.iter() if predicate(el)]
    if len(found) != 1:
        raise TaxonomyError(f"{path}: expected exactly one {what}, found {len(found)}")
    return found[0]


def _reliability(per_region: ET.Element, labels: tuple, path: str) -> tuple[tuple, tuple]:
    """The reliability choices and the labels they apply to, checked against the labels' pre-fills."""
    choices = tuple(c.get("value") for c in per_region if c.tag == "Choice")
    when = [v.strip() for v in (per_region.get("whenLabelValue") or "").split(",") if v.strip()]
    ids = [label.id for label in labels]
    unknown = [v for v in when if v not in ids]
    if unknown:
        raise TaxonomyError(f"{path}: whenLabelValue of the per-region <Choices> names unknown labels: "
                            f"{', '.join(unknown)}")
    applies = tuple(when) if when else tuple(ids)
    for label in labels:
        if label.reliability is None:
            continue
        if label.reliability not in choices:
            raise TaxonomyError(f"{path}: label {label.id!r} pre-fills reliability {label.reliability!r}, "
                                f"not one of {', '.join(choices)}")
        if label.id not in applies:
            raise TaxonomyError(f"{path}: label {label.id!r} pre-fills a reliability but the reliability "
                                "choice does not apply to it (whenLabelValue)")
    return choices, applies


def parse_taxonomy(xml: str, path: str = "<string>") -> Taxonomy:
    """Parse a Label Studio labelling config into a :class:`Taxonomy`."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise TaxonomyError(f"{path}: not valid XML: {exc}") from None
    labels_el = _one(root, lambda e: e.tag == "Labels", "<Labels> tag", path)
    labels = tuple(
        Label(el.get("value"), el.get("hint", ""), el.get("background", "#888888"), el.get("reliability") or None)
        for el in labels_el
        if el.tag == "Label"
    )
    if not labels or any(not label.id for label in labels):
        raise TaxonomyError(f"{path}: <Labels> needs <Label value=...> children")
    to_name = labels_el.get("toName")
    text_el = _one(root, lambda e: e.tag == "Text" and e.get("name") == to_name, f'<Text name="{to_name}">', path)
    value = text_el.get("value", "")
    if not value.startswith("$"):
        raise TaxonomyError(f"{path}: <Text value> must reference task data as $field")
    per_region = _one(
        root, lambda e: e.tag == "Choices" and e.get("perRegion") == "true", 'per-region <Choices perRegion="true">', path
    )
    rating = _one(
        root, lambda e: e.tag == "Choices" and e.get("perRegion") != "true", "document-level <Choices>", path
    )
    reliability_choices, reliability_labels = _reliability(per_region, labels, path)
    return Taxonomy(
        labels=labels,
        span_from_name=labels_el.get("name"),
        to_name=to_name,
        text_field=value[1:],
        reliability_from_name=per_region.get("name"),
        reliability_choices=reliability_choices,
        reliability_labels=reliability_labels,
        rating_from_name=rating.get("name"),
        rating_choices=tuple(c.get("value") for c in rating if c.tag == "Choice"),
        xml=xml,
        path=str(path),
    )


@lru_cache(maxsize=8)
def _load_cached(path: str, mtime: float) -> Taxonomy:
    return parse_taxonomy(Path(path).read_text(encoding="utf-8"), path)


def load_taxonomy(path: str | os.PathLike | None = None) -> Taxonomy:
    """Read the taxonomy from a label config (default ``label_config/framing.xml``)."""
    p = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        mtime = p.stat().st_mtime
    except OSError as exc:
        raise TaxonomyError(f"{p}: cannot read label config: {exc.strerror}") from None
    return _load_cached(str(p), mtime)
