"""Bibliography entries labelled as the text cites them: "Okamoto et al., 2025", not "[OTS25]".

The text cites author-year (``bibtex_reference_style: author_year``); pybtex's built-in label styles
only make alpha ("OTS25") or numeric labels, so the bibliography page would name each work
differently from the text. This registers a pybtex label style that repeats the citation's form
(one author: "Higham, 2008"; two: "Kingma and Ba, 2015"; more: "Chen et al., 2018"), and a
formatting style ``author_year`` (pybtex's ``plain``, sorted by author and year) that uses it.
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def author_year(entry):
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [" ".join(p.last_names) for p in people]
    if not names:
        who = entry.fields.get("title", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year(entry)


class AuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabels


register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
