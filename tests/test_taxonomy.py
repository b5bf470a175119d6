"""The label set comes from label_config/framing.xml and nowhere else."""
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from annotator.taxonomy import DEFAULT_CONFIG, EARLIER_CONFIG_HASHES, TaxonomyError, load_taxonomy, parse_taxonomy

ROOT = Path(__file__).resolve().parent.parent


def test_roles_found_by_structure():
    tax = load_taxonomy()
    assert tax.label_ids == ("anonymous_source", "named_source", "unverified_claim", "loaded_term")
    assert tax.span_from_name == "label" and tax.to_name == "text" and tax.text_field == "text"
    assert tax.reliability_from_name == "reliability"
    assert "unverified_social_media" in tax.reliability_choices and "on_record" in tax.reliability_choices
    assert tax.rating_from_name == "framing_risk"
    assert tax.rating_choices == ("low", "elevated", "high")
    assert all(label.hint for label in tax.labels)
    # the reliability choice is for source regions; an anonymous source is pre-filled `anonymous`
    assert tax.reliability_labels == ("anonymous_source", "named_source")
    assert tax.reliability_prefill == {"anonymous_source": "anonymous"}


def test_xml_shows_reliability_beside_source_regions_as_one_choice():
    """What annotators see: one radio choice, only for a selected source region, beside the text."""
    root = ET.fromstring(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    tax = load_taxonomy()
    (rel,) = [e for e in root.iter("Choices") if e.get("perRegion") == "true"]
    assert rel.get("choice") == "single-radio"
    assert rel.get("visibleWhen") == "region-selected" and rel.get("whenTagName") == tax.span_from_name
    assert rel.get("whenLabelValue").split(",") == list(tax.reliability_labels)
    (rating,) = [e for e in root.iter("Choices") if e.get("perRegion") != "true"]
    assert rating.get("choice") == "single-radio"
    # the text and the choices sit side by side: the choices are in the flex row's second column
    parent = {child: el for el in root.iter() for child in el}
    row = parent[parent[rel]]
    assert "display: flex" in row.get("style", "")
    text_col, side_col = [c for c in row if c.tag == "View"]
    assert [e.get("name") for e in text_col.iter("Text")] == [tax.to_name]
    assert rel in list(side_col) and rating in list(side_col)
    # the task header shows the article's title and metadata
    headers = [e.get("value") for e in root.iter("Header")]
    assert {"$title", "$outlet", "$date", "$url"} <= set(headers)


def test_structure_hash_ignores_presentation(tmp_path):
    """A model checks the structure hash: hints, colours, headers and layout do not invalidate it."""
    xml = DEFAULT_CONFIG.read_text(encoding="utf-8")
    tax = load_taxonomy()
    cosmetic = parse_taxonomy(xml.replace('background="#e03131"', 'background="#000000"')
                              .replace("Framing risk of the whole article", "Framing risk")
                              .replace("column-gap: 2em", "column-gap: 3em"))
    assert cosmetic.config_hash != tax.config_hash
    assert cosmetic.structure_hash == tax.structure_hash
    renamed = parse_taxonomy(xml.replace('<Choice value="high"', '<Choice value="severe"'))
    assert renamed.structure_hash != tax.structure_hash
    reordered = parse_taxonomy(xml.replace('value="on_record"', 'value="TMP"').replace(
        'value="involved_party"', 'value="on_record"').replace('value="TMP"', 'value="involved_party"'))
    assert reordered.structure_hash != tax.structure_hash


def test_models_fit_while_the_label_structure_is_unchanged():
    """What load_model checks: the structure hash, this XML's hash, or an earlier XML's of the same structure."""
    tax = load_taxonomy()
    earlier = next(iter(EARLIER_CONFIG_HASHES))  # what the model shipped before issue #13 stores
    assert tax.fits_model_hash(tax.structure_hash) and tax.fits_model_hash(tax.config_hash)
    assert tax.fits_model_hash(earlier)
    changed = parse_taxonomy(DEFAULT_CONFIG.read_text(encoding="utf-8").replace('<Choice value="high"',
                                                                                 '<Choice value="severe"'))
    assert not changed.fits_model_hash(earlier) and not changed.fits_model_hash(tax.structure_hash)
    assert not tax.fits_model_hash("0" * 64) and not tax.fits_model_hash(None)


@pytest.mark.parametrize("edit, message", [
    (('reliability="anonymous"', 'reliability="whispered"'), "pre-fills reliability 'whispered'"),
    (('whenLabelValue="anonymous_source,named_source"', 'whenLabelValue="named_source"'),
     "does not apply to it"),
    (('whenLabelValue="anonymous_source,named_source"', 'whenLabelValue="anonymous_source,source"'),
     "unknown labels: source"),
])
def test_bad_reliability_settings_are_refused(edit, message):
    xml = DEFAULT_CONFIG.read_text(encoding="utf-8")
    assert edit[0] in xml
    with pytest.raises(TaxonomyError, match=re.escape(message)):
        parse_taxonomy(xml.replace(*edit))


def test_new_label_in_xml_is_picked_up_and_changes_hash(tmp_path):
    xml = DEFAULT_CONFIG.read_text(encoding="utf-8")
    extra = xml.replace('<Label value="loaded_term"', '<Label value="appeal_to_fear" background="#000"/>\n    <Label value="loaded_term"')
    path = tmp_path / "framing.xml"
    path.write_text(extra, encoding="utf-8")
    tax = load_taxonomy(path)
    assert "appeal_to_fear" in tax.label_ids
    assert tax.config_hash != load_taxonomy().config_hash
    # whitespace and comments do not change the hash
    assert parse_taxonomy(xml.replace("\n", "\n  ") + "<!-- x -->" * 0).config_hash == load_taxonomy().config_hash


@pytest.mark.parametrize("xml, message", [
    ("<View><Text", "not valid XML"),
    ('<View><Text name="text" value="$text"/></View>', "<Labels>"),
    ('<View><Labels name="l" toName="text"><Label value="a"/></Labels><Text name="text" value="$text"/>'
     '<Choices name="r" toName="text"><Choice value="low"/></Choices></View>', "perRegion"),
    ('<View><Labels name="l" toName="text"><Label value="a"/></Labels><Text name="text" value="text"/></View>', "$field"),
])
def test_malformed_configs_are_refused(xml, message):
    with pytest.raises(TaxonomyError, match=re.escape(message)):
        parse_taxonomy(xml)


def test_missing_config_file(tmp_path):
    with pytest.raises(TaxonomyError, match="cannot read label config"):
        load_taxonomy(tmp_path / "nope.xml")


def test_unknown_label_is_refused():
    with pytest.raises(TaxonomyError, match="unknown label 'propaganda'"):
        load_taxonomy().check_label("propaganda")


def test_no_python_module_spells_a_label_name():
    """One source of truth: label ids appear in label_config/, not in the package code."""
    offenders = []
    for py in (ROOT / "annotator").rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        for label in load_taxonomy().label_ids:
            if re.search(rf"['\"]{label}['\"]", text):
                offenders.append(f"{py.name}: {label}")
    assert offenders == []
