"""The search box's parser: what people type becomes a tree; what it cannot honour is a clear error."""

from __future__ import annotations

import pytest

from repository.search.query import (
    MAX_QUERY_LENGTH, And, MatchAll, Not, Or, QueryError, Text, Value, YearRange, fold, parse, positive_text,
)


@pytest.mark.parametrize(("query", "tree"), [
    ("", MatchAll()),
    ("   ", MatchAll()),
    ("*", MatchAll()),
    ("ålgräs", Text(("ålgräs",))),
    ("ålgräs östersjön", And((Text(("ålgräs",)), Text(("östersjön",))))),
    ('"ålgräs i östersjön"', Text(("ålgräs", "i", "östersjön"))),
    ("per-erik", Text(("per", "erik"))),
    ("heal*", Text(("heal",), prefix=True)),
    ("a OR b", Or((Text(("a",)), Text(("b",))))),
    ("a || b", Or((Text(("a",)), Text(("b",))))),
    ("a AND b", And((Text(("a",)), Text(("b",))))),
    ("a -b", And((Text(("a",)), Not(Text(("b",)))))),
    ("a NOT b", And((Text(("a",)), Not(Text(("b",)))))),
    ('-"a b"', Not(Text(("a", "b")))),
    ("(a OR b) c", And((Or((Text(("a",)), Text(("b",)))), Text(("c",))))),
    ("title:ålgräs", Text(("ålgräs",), "title")),
    ('title:"a b"', Text(("a", "b"), "title")),
    ("title:(a OR b)", Or((Text(("a",), "title"), Text(("b",), "title")))),
    ("author:öberg", Text(("öberg",), "author")),
    ("AUTHOR:öberg", Text(("öberg",), "author")),
    ("subject:ålgräs", Text(("ålgräs",), "subject")),
    ("subject:10501", Value("subject", "10501")),
    ("author:0000-0002-1825-0097", Value("orcid", "0000-0002-1825-0097")),
    ("orcid:https://orcid.org/0000-0002-1825-0097", Value("orcid", "0000-0002-1825-0097")),
    ("0000-0002-1825-0097", Value("orcid", "0000-0002-1825-0097")),
    ("10.3354/MEPS12345", Value("id", "doi:10.3354/meps12345")),
    ("https://doi.org/10.3354/meps12345", Value("id", "doi:10.3354/meps12345")),
    ("doi:10.3354/meps12345", Value("id", "doi:10.3354/meps12345")),
    ("978-91-513-1234-7", Value("id", "isbn:9789151312347")),
    ("91-513-1234-1", Text(("91", "513", "1234", "1"))),  # a wrong check digit is just words
    ("isbn:9789151312347", Value("id", "isbn:9789151312347")),
    ("1651-6214", Value("id", "issn:1651-6214")),
    ("urn:nbn:se:uu:diva-12345", Value("id", "urn:urn:nbn:se:uu:diva-12345")),
    ("year:2019", YearRange(2019, 2019)),
    ("year:2019..2021", YearRange(2019, 2021)),
    ("year:2019-2021", YearRange(2019, 2021)),
    ("year:2019..", YearRange(2019, None)),
    ("year:..2021", YearRange(None, 2021)),
    ("unknown:field", Text(("unknown", "field"))),
])
def test_parse(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize("query", [
    '"unbalanced', "(unclosed", "closed)", "((a)", "a ))) b", "*", "**", "?", "a~2", "a^3", "[1 TO 5]", "{x}",
    "a && || b", "NOT", "-", "OR a", "a OR", "AND", '"', '""', "()", "\\", "/regex/", "title:", "author:()",
    "'; DROP TABLE publications; --", "1 OR 1=1", "NEAR(a b)", "a:b:c", "col : x", "^", "\x00\x01", "ålgräs*",
    "title:\"", "é" * 500,
])
def test_hostile_input_parses_to_a_well_formed_tree(query: str) -> None:
    tree = parse(query)
    assert isinstance(tree, (Text, Value, YearRange, And, Or, Not, MatchAll))
    for text in positive_text(tree):
        assert text.words and all(w and w.replace("_", "").isalnum() for w in text.words)


@pytest.mark.parametrize(("query", "message"), [
    ("x" * (MAX_QUERY_LENGTH + 1), "limit is 1,000"),
    ("year:soon", "year:soon is not a year"),
    ("year:2021..2019", "starts after it ends"),
    ("year:0999", "years run from"),
    ("orcid:abc", "orcid:"),
    ("doi:xyz", "doi:"),
    ("isbn:123", "not a valid ISBN"),
    ("subject:12", "1, 3 or 5 digits"),
    ("id:hello", "not a DOI, ISBN"),
    (" ".join(f"w{i}" for i in range(100)), "more than 64 terms"),
])
def test_what_cannot_be_honoured_is_a_clear_error(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message.replace("(", r"\(")):
        parse(query)


def test_fold_ignores_case_and_diacritics() -> None:
    assert fold("ÅLGRÄS Östersjön Müller") == "algras ostersjon muller"


def test_words_inside_not_are_not_highlighted() -> None:
    assert positive_text(parse("a -b (c OR d)")) == [Text(("a",)), Text(("c",)), Text(("d",))]
