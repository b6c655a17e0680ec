"""A page's HTML as a tree of elements, built with the standard library's parser, for tests that check its
structure (which element sits inside which, what an attribute points to) rather than its text."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Elements that never have content or an end tag.
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


@dataclass(eq=False)
class Element:
    """An element with its attributes, its parent, and its children (elements and text, in order)."""

    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    def iter(self) -> Iterator[Element]:
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str) -> list[Element]:
        return [element for element in self.iter() if element.tag == tag]

    def lineage(self) -> Iterator[Element]:
        """This element and its ancestors, innermost first."""
        element: Element | None = self
        while element is not None:
            yield element
            element = element.parent

    def own_text(self) -> str:
        return " ".join(child.strip() for child in self.children if isinstance(child, str) and child.strip())

    def text(self) -> str:
        """All text inside, with single spaces."""
        parts = [child if isinstance(child, str) else child.text() for child in self.children]
        return " ".join(" ".join(parts).split())

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def id_refs(self, attribute: str) -> list[str]:
        """The ids an attribute such as ``aria-describedby`` lists."""
        return self.attrs.get(attribute, "").split()

    def __repr__(self) -> str:
        shown = " ".join(f'{name}="{value}"' for name, value in self.attrs.items()
                         if name in ("id", "class", "name"))
        return f"<{self.tag}{' ' + shown if shown else ''}>"


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self._open = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self._open)
        self._open.children.append(element)
        if tag not in VOID_ELEMENTS:
            self._open = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.children.append(Element(tag, {name: value or "" for name, value in attrs}, self._open))

    def handle_endtag(self, tag: str) -> None:
        closed = next((element for element in self._open.lineage() if element.tag == tag), None)
        if closed is not None and closed.parent is not None:
            self._open = closed.parent

    def handle_data(self, data: str) -> None:
        self._open.children.append(data)


def parse_html(html: str) -> Element:
    """The document's root (its one child of interest is ``<html>``)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root
