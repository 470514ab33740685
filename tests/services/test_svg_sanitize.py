"""SVG cleaning with a real XML parser: active content removed, entities and DTDs refused."""

from __future__ import annotations

import pytest

from chatalot.errors import Invalid
from chatalot.services.svg_sanitize import MAX_DEPTH, sanitize_svg

HEAD = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    b' width="10" height="10">'
)


def clean(body: bytes) -> str:
    return sanitize_svg(HEAD + body + b"</svg>").decode()


def test_a_harmless_drawing_keeps_its_shape() -> None:
    out = clean(
        b'<g id="a"><circle cx="5" cy="5" r="4" fill="red"/><text x="1">A &amp; B</text></g>'
    )
    assert out.startswith('<svg width="10" height="10" xmlns="http://www.w3.org/2000/svg"')
    assert '<circle cx="5" cy="5" r="4" fill="red"/>' in out
    assert '<text x="1">A &amp; B</text>' in out


@pytest.mark.parametrize(
    "element",
    [
        b"<script>alert(1)</script>",
        b"<script/>",
        b'<SCRIPT type="text/javascript">alert(1)</SCRIPT>',
        b'<script xmlns="http://www.w3.org/1999/xhtml">alert(1)</script>',
        b'<foreignObject><body xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></body></foreignObject>',
        b'<iframe src="https://evil.example"/>',
        b'<use xlink:href="https://evil.example/x.svg#a"/>',
        b'<use href="//evil.example/x.svg#a"/>',
        b'<use href="other.svg#a"/>',
    ],
)
def test_active_elements_are_removed(element: bytes) -> None:
    out = clean(b"<g>before" + element + b"after</g>")
    for word in ("script", "alert", "foreignObject", "iframe", "evil", "use", "other.svg"):
        assert word not in out.lower(), out
    assert "beforeafter" in out  # the surrounding text stays


def test_event_handlers_are_removed() -> None:
    out = clean(b'<rect onclick="alert(1)" ONLOAD="x()" onmouseover="y()" width="3"/>')
    assert out.endswith('<rect width="3"/></svg>')


@pytest.mark.parametrize(
    "url",
    [b"javascript:alert(1)", b" JavaScript:alert(1)", b"java&#x09;script:alert(1)", b"vbscript:x"],
)
def test_script_links_become_hash(url: bytes) -> None:
    out = clean(b'<a xlink:href="' + url + b'"><text>x</text></a><a href="' + url + b'"/>')
    assert 'xlink:href="#"' in out
    assert '<a href="#"/>' in out
    assert "script:" not in out.lower()


def test_external_links_are_removed_internal_kept() -> None:
    out = clean(
        b'<image xlink:href="http://tracker.example/p.png"/><image href="https://t.example/q"/>'
        b'<use href="#shape"/><a href="/relative">r</a>'
    )
    assert "example" not in out
    assert '<use href="#shape"/>' in out
    assert '<a href="/relative">r</a>' in out


def test_animation_to_a_script_url_is_disarmed() -> None:
    out = clean(b'<a><set attributeName="href" to="javascript:alert(1)"/></a>')
    assert "javascript" not in out


def test_comments_and_processing_instructions_are_dropped() -> None:
    data = b'<?xml-stylesheet href="https://evil.example/s.css"?>' + HEAD + b"<!-- hi --></svg>"
    out = sanitize_svg(data).decode()
    assert "evil" not in out
    assert "hi" not in out


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>',
            "document type declarations (DTD) are not allowed",
        ),
        (
            b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg>&b;</svg>',
            "document type declarations (DTD) are not allowed",
        ),
        (
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
            b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
            "document type declarations (DTD) are not allowed",
        ),
        (b"<svg><g></svg>", "not well-formed XML (mismatched tag)"),
        (b"<svg>", "not well-formed XML (no element found)"),
        (b"<html><svg/></html>", "the root element is not <svg>"),
        (
            b"<svg>" + b"<g>" * (MAX_DEPTH + 5) + b"</g>" * (MAX_DEPTH + 5) + b"</svg>",
            f"nested deeper than {MAX_DEPTH} elements",
        ),
    ],
)
def test_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        sanitize_svg(data)
    assert caught.value.message == f"invalid SVG: {reason}"


def test_other_namespaces_survive_with_a_declared_prefix() -> None:
    data = (
        b'<svg xmlns="http://www.w3.org/2000/svg"'
        b' xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape">'
        b'<g inkscape:label="Layer 1" xml:space="preserve"/></svg>'
    )
    out = sanitize_svg(data).decode()
    assert out == (
        '<svg xmlns="http://www.w3.org/2000/svg"'
        ' xmlns:ns3="http://www.inkscape.org/namespaces/inkscape">'
        '<g ns3:label="Layer 1" xml:space="preserve"/></svg>'
    )
