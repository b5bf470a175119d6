"""The label set comes from label_config/framing.xml and nowhere else."""
import re
from pathlib import Path

import pytest

from annotator.taxonomy import DEFAULT_CONFIG, TaxonomyError, load_taxonomy, parse_taxonomy

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
