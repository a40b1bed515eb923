"""The XML schemas Hylla's exports are checked against, bundled so that validation never touches the network.

Every ``schemaLocation`` in these files names a file in this folder (see README.md), and the
parser below refuses network access, DTDs and entity expansion, so loading a schema is safe and
works offline. A schema takes tens of milliseconds to compile, so each is compiled once per
process and cached.
"""

from __future__ import annotations

import functools
from importlib import resources

from lxml import etree


def safe_parser() -> etree.XMLParser:
    """A parser for schemas and for our own output that fetches nothing and expands no entities.

    A new parser each call: lxml parser objects keep per-parse state and must not be shared
    between threads.
    """
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False)


def available() -> tuple[str, ...]:
    """Names of the bundled schemas: file names without ``.xsd``, e.g. ``mods-3-7``, ``oai_dc``."""
    folder = resources.files(__name__)
    return tuple(sorted(p.name[: -len(".xsd")] for p in folder.iterdir() if p.name.endswith(".xsd")))


@functools.cache
def schema(name: str) -> etree.XMLSchema:
    """The compiled schema ``name`` (see ``available()``); ValueError names the known ones."""
    if name not in available():
        raise ValueError(f"no bundled XML schema named {name!r}; known: {', '.join(available())}")
    with resources.as_file(resources.files(__name__).joinpath(f"{name}.xsd")) as path:
        # Parsing from a file path gives the document its base URL, so relative imports resolve here.
        return etree.XMLSchema(etree.parse(str(path), safe_parser()))


def validation_errors(document: etree._Element | etree._ElementTree | bytes, name: str) -> list[str]:
    """Why ``document`` fails schema ``name``: one line per error, empty when it is valid.

    Bytes are parsed with the safe parser first; an element is checked as the root of its own
    document, which is how a record's payload is checked outside its OAI-PMH envelope.
    """
    if isinstance(document, bytes):
        document = etree.fromstring(document, safe_parser())
    if isinstance(document, etree._Element):
        document = etree.ElementTree(etree.fromstring(etree.tostring(document), safe_parser()))
    validator = schema(name)
    if validator.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in validator.error_log]
