"""Label Studio projects by title: find one, create it from our label config, compare its config with ours."""
from __future__ import annotations

import warnings

from ..taxonomy import Taxonomy, TaxonomyError, parse_taxonomy
from .errors import StudioError, StudioWarning

__all__ = ["projects_by_title", "get_project", "ensure_project", "compare_configs"]


def projects_by_title(studio, title: str) -> list:
    """The projects titled exactly ``title`` at ``studio`` (an :class:`annotator.studio.client.Studio`)."""
    found = studio.call("list projects", lambda: list(studio.sdk.projects.list(title=title, page_size=100)))
    return [p for p in found if p.title == title]  # the server's filter is a substring match


def get_project(studio, title: str):
    """The one project titled ``title``; :class:`StudioError` naming the projects there when none or several."""
    found = projects_by_title(studio, title)
    if not found:
        titles = [p.title for p in studio.call("list projects", lambda: list(studio.sdk.projects.list(page_size=100)))]
        hint = f" (projects: {', '.join(repr(t) for t in titles[:8])}{' ...' if len(titles) > 8 else ''})" \
            if titles else " (the server has no project)"
        raise StudioError(f"no project titled {title!r} at {studio.url}{hint}: push articles to create it")
    if len(found) > 1:
        raise StudioError(f"{len(found)} projects are titled {title!r} at {studio.url} "
                          f"(ids {', '.join(str(p.id) for p in found)}): rename all but one")
    return studio.call("get project", studio.sdk.projects.get, found[0].id)


def ensure_project(studio, title: str, taxonomy: Taxonomy, create: bool = True):
    """The project titled ``title`` (created from ``taxonomy.xml`` when missing); ``(project, created)``.

    An existing project must have the same label set, else :class:`StudioError`
    saying what differs; a difference in presentation only gives a :class:`StudioWarning`.
    """
    found = projects_by_title(studio, title)
    if not found:
        if not create:
            return get_project(studio, title), False
        proj = studio.call("create project", studio.sdk.projects.create, title=title, label_config=taxonomy.xml,
                           retry=False)
        return proj, True
    proj = get_project(studio, title)
    diffs, cosmetic = compare_configs(taxonomy, proj.label_config or "")
    if diffs:
        raise StudioError(f"project {title!r} (id {proj.id}) at {studio.url} has another label config: "
                          f"{'; '.join(diffs)}. Push to a new --project, or make the configs agree "
                          f"(project Settings > Labeling Interface, or {taxonomy.path or 'the label config'})")
    if cosmetic:
        # stacklevel 4: this function, Studio.ensure_project, push, push's caller
        warnings.warn(f"project {title!r} config differs from ours only in presentation ({cosmetic})",
                      StudioWarning, stacklevel=4)
    return proj, False


def compare_configs(ours: Taxonomy, theirs_xml: str) -> tuple[list[str], str]:
    """What differs between our taxonomy and a project's config.

    Returns ``(differences, cosmetic)``: ``differences`` lists semantic changes
    (labels, choices, their order, tag names) as readable phrases; ``cosmetic``
    is a non-empty note when only presentation (hints, colours, headers) differs.
    """
    try:
        theirs = parse_taxonomy(theirs_xml, "project config")
    except TaxonomyError as exc:
        return [f"it is not an annotator config ({exc})"], ""
    diffs = []

    def setdiff(what, a, b):
        added = [x for x in b if x not in a]
        removed = [x for x in a if x not in b]
        if added:
            diffs.append(f"{what} added in the project: {', '.join(added)}")
        if removed:
            diffs.append(f"{what} missing from the project: {', '.join(removed)}")
        if not added and not removed and list(a) != list(b):
            diffs.append(f"{what} in another order: {', '.join(b)} (ours: {', '.join(a)})")

    setdiff("span labels", ours.label_ids, theirs.label_ids)
    setdiff("reliability choices", ours.reliability_choices, theirs.reliability_choices)
    setdiff("framing-risk ratings", ours.rating_choices, theirs.rating_choices)
    for attr, what in (("span_from_name", "<Labels> name"), ("to_name", "<Text> name"),
                       ("text_field", "text field"), ("reliability_from_name", "reliability <Choices> name"),
                       ("rating_from_name", "rating <Choices> name")):
        if getattr(ours, attr) != getattr(theirs, attr):
            diffs.append(f"{what} is {getattr(theirs, attr)!r} (ours: {getattr(ours, attr)!r})")
    cosmetic = ""
    if not diffs and ours.config_hash != theirs.config_hash:
        changed = [lab.id for lab, other in zip(ours.labels, theirs.labels) if lab != other]
        cosmetic = f"hints or colours of {', '.join(changed)}" if changed else "hints, headers or layout"
    return diffs, cosmetic
