"""citeproc-py, taught the parts of CSL 1.0 it leaves out and made fast enough for long lists.

citeproc-py builds its style tree from one Python class per CSL element. ``ParsedStyle`` parses
a style with subclasses of those classes instead; each mends one gap that users of our styles
would notice (see ``exports.citations``) or remembers a lookup citeproc-py repeats for every
entry. Nothing in citeproc-py itself is changed.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

from citeproc import LOCALES_PATH, CitationItem, CitationStylesStyle
from citeproc import model
from citeproc.source import VariableError
from citeproc.string import String, join
from lxml import etree

_CSL = "http://purl.org/net/xbiblio/csl"
_XML = "http://www.w3.org/XML/1998/namespace"
NS = {"cs": _CSL}


class _Counts(threading.local):
    """How many variables have been called and rendered so far in this thread's rendering.

    A group compares the counts before and after its children to learn whether it called a
    variable and whether any rendered. Per thread, because two threads may render with two
    different styles at once.
    """

    called = 0
    rendered = 0


_COUNTS = _Counts()


def _counted(process: Any) -> Any:
    """Wrap an element's ``process`` to count the variable it calls and whether it rendered."""
    @functools.wraps(process)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        counting = self._calls_variable_itself()
        if counting:
            _COUNTS.called += 1
        result = process(self, *args, **kwargs)
        rendered = result[0] if isinstance(result, tuple) else result
        if counting and rendered:
            _COUNTS.rendered += 1
        return result
    return wrapper


class _Memo:
    """Remember what citeproc-py looks up again for every entry: macros, terms, layouts, XPaths.

    Every answer depends on the style tree only, which does not change once mended, so a list of
    10,000 entries asks lxml once instead of 10,000 times. Answers are kept on the element (or
    the root) itself, which works because ``ParsedStyle`` holds every element's proxy alive.
    """

    # Memo keys hold a colon, so they can never shadow a method of the same name.
    @staticmethod
    def _table(owner: Any, name: str) -> dict[Any, Any]:
        tables = owner.__dict__
        table = tables.get(name)
        if table is None:
            table = tables[name] = {}
        return table

    def _memo(self, owner: Any, table: str, key: Any, compute: Any) -> Any:
        memo = self._table(owner, table)
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = compute()
            return value

    def xpath_search(self, expression: str) -> Any:
        memo = self._table(self, "memo:xpaths")
        try:
            return memo[expression]
        except KeyError:
            found = memo[expression] = super().xpath_search(expression)
            return found

    def get_layout(self) -> Any:
        memo = self.__dict__
        layout = memo.get("memo:layout")
        if layout is None:
            layout = memo["memo:layout"] = super().get_layout()
        return layout

    def get_macro(self, name: str) -> Any:
        memo = self._table(self.get_root(), "memo:macros")
        try:
            return memo[name]
        except KeyError:
            macro = memo[name] = super().get_macro(name)
            return macro

    def get_term(self, name: str, form: str | None = None, fallback_locale: bool = True,
                 zero_padded: bool = False) -> Any:
        memo = self._table(self.get_root(), "memo:terms")
        key = (name, form, fallback_locale, zero_padded)
        try:
            return memo[key]
        except KeyError:
            term = memo[key] = super().get_term(name, form, fallback_locale, zero_padded)
            return term

    def get_date(self, form: str) -> Any:
        return self._memo(self.get_root(), "memo:dates", form, lambda: super(_Memo, self).get_date(form))

    def get_locale_option(self, name: str) -> Any:
        memo = self._table(self.get_root(), "memo:locale_options")
        try:
            return memo[name]
        except KeyError:
            value = memo[name] = super().get_locale_option(name)
            return value

    def get_formatter(self) -> Any:
        root = self.get_root()
        return root.style.formatter if isinstance(root, model.Locale) else root.formatter

    def _children(self) -> list[tuple[Any, bool]]:
        """The child elements, each with whether it is a ``cs:choose`` (which takes the delimiter)."""
        memo = self.__dict__
        children = memo.get("memo:children")
        if children is None:
            children = memo["memo:children"] = [(c, isinstance(c, model.Choose)) for c in self.iterchildren()]
        return children

    def wrap(self, string: Any) -> Any:
        # Most elements have neither prefix nor suffix; citeproc-py still joins and re-checks
        # the seams of the whole string on each side.
        memo = self.__dict__
        affixes = memo.get("memo:affixes")
        if affixes is None:
            affixes = memo["memo:affixes"] = (self.get("prefix", ""), self.get("suffix", ""))
        if string is None or affixes == ("", ""):
            return string
        return super().wrap(string)  # type: ignore[misc]

    def render_children(self, item: Any, delimiter: str = "", **kwargs: Any) -> Any:
        output = []
        for child, is_choose in self._children():
            try:
                text = child.render(item, delimiter=delimiter, **kwargs) if is_choose else child.render(item, **kwargs)
            except VariableError:
                continue
            if text is not None:
                output.append(text)
        return join(output, delimiter) if output else None

    def format(self, string: Any) -> Any:
        # Most elements carry no font attribute; skip the five formatter calls for those.
        memo = self.__dict__
        plain = memo.get("memo:plain")
        if plain is None:
            plain = memo["memo:plain"] = not _FONT_ATTRIBUTES.intersection(self.attrib)
        if plain:
            return str(string) if isinstance(string, (int, float)) else string
        return super().format(string)  # type: ignore[misc]


class _Condition(_Memo):
    """``cs:if`` and ``cs:else-if`` that answer whether they hold instead of raising when not.

    citeproc-py raises an exception from every branch that does not hold, some 80 per APA
    entry; the lists of types and variables are split once, too.
    """

    def holds(self, item: Any, context: Any) -> bool:
        memo = self.__dict__
        if "memo:tests" not in memo:
            memo["memo:tests"] = self._tests()
            memo["memo:match"] = self.get("match")
            memo["memo:types"] = [t.lower() for t in self.get("type", "").split()]
            memo["memo:variables"] = [v.replace("-", "_") for v in self.get("variable", "").split()]
            types_only = list(self.attrib) in (["type"], ["type", "match"], ["match", "type"])
            memo["memo:type-set"] = frozenset(memo["memo:types"]) if types_only else None
        type_set = memo["memo:type-set"]
        if type_set is not None and memo["memo:match"] in ("any", "none"):
            # The usual test (<if type="book chapter" match="any">), answered by one set lookup.
            return (item.reference.type in type_set) == (memo["memo:match"] == "any")
        results: list[bool] = []
        for test in memo["memo:tests"]:
            results += test(item, context) if test.__name__ == "_position" else test(item)
        match = memo["memo:match"]
        if match == "any":
            return any(results)
        if match == "none":
            return not any(results)
        return all(results)

    def _tests(self) -> list[Any]:
        attributes = (("type", self._type), ("variable", self._variable), ("is-numeric", self._is_numeric),
                      ("is-uncertain-date", self._is_uncertain_date), ("locator", self._locator),
                      ("position", self._position))
        return [test for attribute, test in attributes if attribute in self.attrib]

    def _type(self, item: Any) -> list[bool]:
        kind = item.reference.type
        return [t == kind for t in self.__dict__["memo:types"]]

    def _variable(self, item: Any) -> list[bool]:
        reference = item.reference
        return [("locator" in item) if v == "locator" else (v in reference) for v in self.__dict__["memo:variables"]]


class _Choose(_Memo):
    def render(self, item: Any, context: Any = None, delimiter: str = "", **kwargs: Any) -> Any:
        memo = self.__dict__
        branches = memo.get("memo:branches")
        if branches is None:
            branches = memo["memo:branches"] = self.getchildren()
        for branch in branches:
            if not isinstance(branch, _Condition) or branch.holds(item, context):
                return branch.render_children(item, context=context, delimiter=delimiter, **kwargs)
        return None


_FONT_ATTRIBUTES = frozenset({"font-style", "font-variant", "font-weight", "text-decoration", "vertical-align"})


class _WholeLastPage:
    """A shorter first page keeps the whole last page: 1–10, never citeproc-py's 1–0."""

    def _format_last_page(self, first: str, last: str) -> str:
        if len(first) < len(last):
            return last
        return super()._format_last_page(first, last)  # type: ignore[misc]


class _Text(_Memo, _WholeLastPage, model.Text):
    def process(self, item: Any, context: Any = None, **kwargs: Any) -> tuple[Any, str]:
        """citeproc-py's ``Text.process``, counting the variable it renders for its group.

        year-suffix is not counted: the processor makes it up rather than taking it from the
        record (as citeproc-py's own calls_variable says), so APA's "(n.d." year-suffix ")"
        still shows "(n.d.)".
        """
        if context is None:
            context = self
        language = item.reference.get("language")
        language = language[:2] if language else self._default_language()
        attrib = self.attrib
        if "variable" in attrib:
            counted = attrib["variable"] not in self.generated_variables
            if counted:
                _COUNTS.called += 1
            text = self._variable(item, context)
            if counted and text:
                _COUNTS.rendered += 1
        elif "macro" in attrib:
            text = self.get_macro(attrib["macro"]).render(item, context)
        elif "term" in attrib:
            text = self._term(item)
        else:
            text = String(self.preformat(attrib.get("value", "")))
        return text, language

    def _default_language(self) -> str:
        return self._memo(self.get_root(), "memo:language", None,
                          lambda: self.get_root().get("default-locale", "en")[:2])


class _Number(_Memo, _WholeLastPage, model.Number):
    def _calls_variable_itself(self) -> bool:
        return True

    process = _counted(model.Number.process)


class _Names(_Memo, model.Names):
    def _calls_variable_itself(self) -> bool:
        return True

    process = _counted(model.Names.process)


class _Date(_Memo, model.Date):
    def _calls_variable_itself(self) -> bool:
        return not self.is_locale_date()

    process = _counted(model.Date.process)

    def render_single_date(self, date: Any, show_parts: Any = None, context: Any = None) -> Any:
        # A style's own localized date joins its parts with its own delimiter (citeproc-py
        # used the calling date's, which is always empty).
        if context is not None and context is not self and "delimiter" in self.attrib and self.is_locale_date():
            parts = self.parts(date, show_parts, context)
            return self.join(parts) if parts else None
        return super().render_single_date(date, show_parts, context)


class _Group(_Memo, model.Group):
    def process(self, item: Any, context: Any = None, **kwargs: Any) -> Any:
        """CSL 1.0 "Group": suppressed when it called variables and none of them rendered."""
        called, rendered = _COUNTS.called, _COUNTS.rendered
        memo = self.__dict__
        delimiter = memo.get("memo:delimiter")
        if delimiter is None:
            delimiter = memo["memo:delimiter"] = self.get("delimiter", "")
        output = []
        for child, is_choose in self._children():
            try:
                if is_choose:
                    text = child.render(item, context=context, delimiter=delimiter, **kwargs)
                else:
                    text = child.render(item, context=context, **kwargs)
            except VariableError:
                continue
            if text is not None:
                output.append(text)
        if output and (_COUNTS.called == called or _COUNTS.rendered > rendered):
            return self.join(output)
        raise VariableError


def _element_classes() -> dict[str, type]:
    """The class of each CSL element: citeproc-py's, with the memo and the mended rules above.

    ``cs:locale`` keeps citeproc-py's class: its own term lookup means something else (this
    locale only) than the style-wide one the memo keeps.
    """
    classes: dict[str, type] = {}
    for cls in model.CitationStylesElement.__subclasses__():
        tag = cls.__name__.replace("_", "-").lower()
        if cls is model.Locale:
            classes[tag] = cls
        elif issubclass(cls, model.If):
            classes[tag] = type(cls.__name__, (_Condition, cls), {})
        elif cls is model.Choose:
            classes[tag] = type(cls.__name__, (_Choose, cls), {})
        else:
            classes[tag] = type(cls.__name__, (_Memo, cls), {})
    classes.update({"text": _Text, "number": _Number, "names": _Names, "date": _Date, "group": _Group})
    return classes


_ELEMENT_CLASSES = _element_classes()


class ParsedStyle(CitationStylesStyle):
    """A CSL style parsed with the element classes above, its tree mended once after parsing."""

    def __init__(self, path: str, locale: str) -> None:
        # Replaces citeproc-py's constructor, whose class lookup cannot be extended.
        lookup = etree.ElementNamespaceClassLookup()
        namespace = lookup.get_namespace(_CSL)
        namespace[None] = model.CitationStylesElement
        namespace.update(_ELEMENT_CLASSES)
        self.parser = etree.XMLParser(remove_comments=True, encoding="UTF-8", no_network=True,
                                      resolve_entities=False)
        self.parser.set_element_class_lookup(lookup)
        self.xml = etree.parse(path, self.parser)
        self.root = self.xml.getroot()
        _give_names_a_name(self.root)
        self._proxies = list(self.root.iter())  # keeps the memo of every element alive
        self.root.set_locale_list(locale, validate=False)
        self._reparse_locale_files()
        _honour_initialize_false(self.root)
        _separate_second_field(self.root)
        self.layout = self.root.bibliography.layout  # found once: the style has 200-odd children

    def _reparse_locale_files(self) -> None:
        """Read the locale files citeproc-py chose again, with the element classes above.

        citeproc-py reads them with its own classes, whose dates search their ancestors with
        XPath for every date they render.
        """
        for index, locale in enumerate(self.root.locales):
            if locale.getroottree().getroot() is self.root:
                continue  # a cs:locale inside the style, parsed with it
            language = locale.get(f"{{{_XML}}}lang")
            reparsed = etree.parse(os.path.join(LOCALES_PATH, f"locales-{language}.xml"), self.parser).getroot()
            reparsed.style = self.root
            self.root.locales[index] = reparsed
            self._proxies.extend(reparsed.iter())


def _give_names_a_name(root: Any) -> None:
    """Add the empty ``cs:name`` that citeproc-py would add to a ``cs:names`` on every entry.

    citeproc-py creates it with its own class at render time, so it escaped the memo and looked
    up "et al." by XPath in every entry. A ``cs:names`` inside ``cs:substitute`` gets none: it
    borrows the name of the ``cs:names`` it substitutes for.
    """
    for names in root.xpath("//cs:names[not(cs:name) and not(parent::cs:substitute)]", namespaces=NS):
        names.insert(0, names.makeelement(f"{{{_CSL}}}name"))


def _honour_initialize_false(root: Any) -> None:
    """Give ``initialize-with`` to the names that should initialize, and take it from those that should not.

    CSL lets ``initialize="false"`` on a name switch off the initialize-with it inherits from the
    style; citeproc-py cannot tell, so the inherited value is written onto every other name and
    removed from the style. Styles that set it per citation or bibliography are left alone, as
    a name in a shared macro would inherit differently in each.
    """
    names = root.xpath("//cs:name", namespaces=NS)
    if not any(n.get("initialize") == "false" for n in names):
        return
    if root.xpath("cs:citation[@initialize-with]|cs:bibliography[@initialize-with]", namespaces=NS):
        return
    inherited = root.get("initialize-with")
    for name in names:
        if name.get("initialize") == "false":
            name.attrib.pop("initialize-with", None)
        elif inherited is not None and "initialize-with" not in name.attrib:
            name.set("initialize-with", inherited)
    root.attrib.pop("initialize-with", None)


def _separate_second_field(root: Any) -> None:
    """Follow the first field of a ``second-field-align`` bibliography by a space ("[1] A. Author")."""
    first = root.xpath("cs:bibliography[@second-field-align]/cs:layout/*[1]", namespaces=NS)
    if first:
        first[0].set("suffix", first[0].get("suffix", "") + " ")


class NumberedItem(CitationItem):
    """A cited item that knows its number, bibliography and reference without looking them up.

    citeproc-py finds the number with ``list.index`` on every use (n² for a numbered list of n)
    and the reference through four dictionary hops for every variable it renders.
    """

    def __init__(self, key: str, number: int, reference: Any, bibliography: Any) -> None:
        super().__init__(key)
        dict.update(self, _number=number, _reference=reference, _bibliography=bibliography)

    @property
    def number(self) -> int:
        return dict.__getitem__(self, "_number")

    @property
    def reference(self) -> Any:
        return dict.__getitem__(self, "_reference")

    @property
    def bibliography(self) -> Any:
        return dict.__getitem__(self, "_bibliography")
