"""A community's theme (``community_theme`` of PATCH /api/communities/{cid}) and the sanitiser
of its ``customCss`` (spec rest-api 2.5, ws-auth-ops 2.14).

The theme is a JSON object of at most 8 KiB with only the keys ``accent``, ``accentHover``,
``bgPrimary``, ``bgSecondary``, ``bgTertiary``, ``textPrimary``, ``textSecondary`` (hex colours)
and ``customCss``. The original web client puts ``customCss`` into a ``<style>`` element of the
whole page, so what is stored must be safe as a stylesheet.

The original checked ``customCss`` with substring tests and passed the text through; ours
PARSES it (tinycss2) and stores only what it re-serialises from the parsed tokens, so nothing
the checks did not see can reach a browser:

- at most 4096 bytes; the original's blocked patterns are still refused with its messages
  (``@import``, ``expression(``, ``javascript:``, ``z-index``, ``position: fixed``, ...);
- any backslash is refused outright (CSS escapes such as ``\\75 rl(`` would otherwise spell
  ``url(`` past a text check), as are ``<`` and control characters; comments are dropped;
- at-rules of any kind are refused (``@media``, ``@font-face``, ``@import``, ...);
- either a declaration list (``color: red; --gap: 4px``, the original's format) or rule
  blocks (``.sidebar { background: #123 }``) whose contents are declarations only (no nested
  rules); selectors may use the usual simple, attribute and pseudo-class syntax only;
- properties: the original's allow-list plus custom properties (``--name``); values may use
  only a short list of functions (colours, gradients, ``calc``/``min``/``max``/``clamp``,
  ``var``, ``url``); ``url()`` must name a path under ``/api/`` on this server (no ``..``, no
  percent-encoding); no ``{}`` blocks or at-keywords inside values; nesting at most 16 deep.

Declarations the parser cannot read (``color red``) are dropped, as the original dropped
pieces without a colon.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import tinycss2  # type: ignore[import-untyped]  # tinycss2 ships no type hints
from tinycss2 import ast

from chatalot.errors import Invalid
from chatalot.services.validation import has_control_characters

MAX_THEME_BYTES = 8192
MAX_CSS_BYTES = 4096
MAX_DEPTH = 16

COLOR_KEYS = (
    "accent",
    "accentHover",
    "bgPrimary",
    "bgSecondary",
    "bgTertiary",
    "textPrimary",
    "textSecondary",
)
CSS_KEY = "customCss"
THEME_KEYS = (*COLOR_KEYS, CSS_KEY)

# 3, 4, 6 or 8 hex digits: the forms a browser reads as a colour (the original's 3..8 also let
# 5 and 7 digits through, which no browser accepts).
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")

# The original's case-insensitive substring blocklist, kept for its messages.
BLOCKED_PATTERNS = (
    "@import",
    "@font-face",
    "@keyframes",
    "expression(",
    "javascript:",
    "behavior:",
    "-moz-binding",
    "position: fixed",
    "position:fixed",
    "position: absolute",
    "position:absolute",
    "z-index",
    "cursor:",
    "pointer-events",
)

ALLOWED_PROPERTIES = frozenset(
    (
        "color",
        "background-color",
        "background",
        "border-color",
        "border-radius",
        "padding",
        "margin",
        "gap",
        "font-size",
        "font-weight",
        "font-family",
        "letter-spacing",
        "line-height",
        "box-shadow",
        "text-shadow",
        "opacity",
        "border",
        "outline",
        "text-decoration",
        "text-transform",
        "border-width",
        "border-style",
    )
)

VALUE_FUNCTIONS = frozenset(
    (
        "rgb",
        "rgba",
        "hsl",
        "hsla",
        "hwb",
        "lab",
        "lch",
        "oklab",
        "oklch",
        "color",
        "color-mix",
        "calc",
        "min",
        "max",
        "clamp",
        "var",
        "linear-gradient",
        "radial-gradient",
        "conic-gradient",
        "repeating-linear-gradient",
        "repeating-radial-gradient",
        "repeating-conic-gradient",
        "url",
    )
)
_VALUE_LITERALS = frozenset((",", "/", "+", "-", "*", "%"))

SELECTOR_FUNCTIONS = frozenset(
    (
        "not",
        "is",
        "where",
        "has",
        "nth-child",
        "nth-last-child",
        "nth-of-type",
        "nth-last-of-type",
        "lang",
        "dir",
    )
)
_SELECTOR_LITERALS = frozenset(
    (".", "*", ">", "+", "~", ",", ":", "|", "=", "~=", "|=", "^=", "$=", "*=", "-")
)

# A path on this server: /api/ then plain URL characters, no "..", no percent-encoding.
_API_URL = re.compile(r"/api/[A-Za-z0-9_\-./?=&]*")


class CssRejected(Exception):
    """Why a custom CSS text was refused (shown as ``customCss: {reason}``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- the theme -----------------------------------------------------------------------------


def validate_theme(value: Any) -> dict[str, str]:
    """The theme to store: the same keys, colours checked, ``customCss`` sanitised. Raises
    Invalid with the original's messages (``customCss: ...`` for CSS problems)."""
    if len(msgspec.json.encode(value)) > MAX_THEME_BYTES:
        raise Invalid("community_theme too large (max 8KB)")
    if not isinstance(value, dict):
        raise Invalid("community_theme must be a JSON object")
    theme: dict[str, str] = {}
    for key, item in value.items():
        if key not in THEME_KEYS:
            shown = key if len(key) <= 64 else key[:64] + "..."
            raise Invalid(f"unknown theme key: {shown}")
        if key == CSS_KEY:
            if not isinstance(item, str):
                raise Invalid("customCss must be a string")
            try:
                theme[key] = sanitize_css(item)
            except CssRejected as err:
                raise Invalid(f"customCss: {err.reason}") from None
            continue
        if not isinstance(item, str):
            raise Invalid(f"{key} must be a string")
        if not _HEX_COLOR.fullmatch(item):
            raise Invalid(f"{key} must be a hex color (e.g. #ff0000)")
        theme[key] = item
    return theme


# -- custom CSS ----------------------------------------------------------------------------


def sanitize_css(css: str) -> str:
    """The safe re-serialisation of ``css``, or CssRejected."""
    _check_text(css)
    top = tinycss2.parse_component_value_list(css, skip_comments=True)
    if any(isinstance(t, ast.CurlyBracketsBlock) for t in top):
        out = _sanitize_stylesheet(css)
    else:
        out = _sanitize_declarations(tinycss2.parse_blocks_contents(css, skip_comments=True))
    if len(out.encode()) > MAX_CSS_BYTES:
        raise CssRejected(f"CSS too large (max {MAX_CSS_BYTES} bytes)")
    return out


def _check_text(css: str) -> None:
    if len(css.encode()) > MAX_CSS_BYTES:
        raise CssRejected(f"CSS too large (max {MAX_CSS_BYTES} bytes)")
    lowered = css.lower()
    for pattern in BLOCKED_PATTERNS:
        if pattern in lowered:
            raise CssRejected(f"CSS contains blocked pattern: {pattern}")
    if "\\" in css:
        raise CssRejected("CSS escapes (backslashes) are not allowed")
    if "<" in css:
        raise CssRejected("CSS contains blocked pattern: <")
    if has_control_characters(css, allow="\n\r\t\f"):
        raise CssRejected("CSS must not contain control or invisible formatting characters")


def _sanitize_stylesheet(css: str) -> str:
    rules: list[str] = []
    for node in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if isinstance(node, ast.AtRule):
            raise CssRejected(f"CSS at-rule not allowed: @{node.lower_at_keyword}")
        if not isinstance(node, ast.QualifiedRule):
            raise CssRejected("invalid CSS")
        selector = _selector(node.prelude)
        body = _sanitize_declarations(tinycss2.parse_blocks_contents(node.content))
        rules.append(f"{selector} {{ {body} }}" if body else f"{selector} {{}}")
    return "\n".join(rules)


def _sanitize_declarations(nodes: list[Any]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Declaration):
            out.append(_declaration(node))
        elif isinstance(node, ast.AtRule):
            raise CssRejected(f"CSS at-rule not allowed: @{node.lower_at_keyword}")
        elif isinstance(node, ast.QualifiedRule):
            raise CssRejected("nested CSS rules are not allowed")
        # ParseError (a piece without a colon...), whitespace, comments: dropped
    return "; ".join(out)


def _declaration(node: ast.Declaration) -> str:
    name = node.lower_name
    custom = node.name.startswith("--")
    if not custom and name not in ALLOWED_PROPERTIES:
        raise CssRejected(f"CSS property not allowed: {_shown(node.name)}")
    _check_value(node.value, _shown(node.name), depth=0)
    value = tinycss2.serialize(node.value).strip()
    important = " !important" if node.important else ""
    return f"{node.name}: {value}{important}"


def _check_value(tokens: list[Any], prop: str, *, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise CssRejected("CSS is nested too deeply")
    for token in tokens:
        if isinstance(
            token,
            ast.WhitespaceToken
            | ast.IdentToken
            | ast.HashToken
            | ast.StringToken
            | ast.NumberToken
            | ast.PercentageToken
            | ast.DimensionToken,
        ):
            continue
        if isinstance(token, ast.LiteralToken):
            if token.value not in _VALUE_LITERALS:
                raise CssRejected(f"CSS value not allowed in {prop}: {_shown(token.value)}")
        elif isinstance(token, ast.URLToken):
            _check_url(token.value)
        elif isinstance(token, ast.FunctionBlock):
            if token.lower_name not in VALUE_FUNCTIONS:
                raise CssRejected(f"CSS function not allowed: {_shown(token.name)}()")
            if token.lower_name == "url":
                _check_url_function(token.arguments)
            else:
                _check_value(token.arguments, prop, depth=depth + 1)
        elif isinstance(token, ast.ParenthesesBlock | ast.SquareBracketsBlock):
            _check_value(token.content, prop, depth=depth + 1)
        elif isinstance(token, ast.ParseError):
            raise CssRejected(f"invalid CSS in {prop}: {token.kind}")
        else:  # {} blocks, at-keywords, unicode ranges
            raise CssRejected(f"CSS value not allowed in {prop}")


def _check_url_function(arguments: list[Any]) -> None:
    """``url("...")``: one string (or nothing), which must be an /api/ path."""
    parts = [t for t in arguments if not isinstance(t, ast.WhitespaceToken)]
    if not parts:
        return
    if len(parts) != 1 or not isinstance(parts[0], ast.StringToken):
        raise CssRejected("url() is only allowed for /api/ paths")
    _check_url(parts[0].value)


def _check_url(target: str) -> None:
    if target == "":
        return
    if not _API_URL.fullmatch(target) or ".." in target or "//" in target:
        raise CssRejected("url() is only allowed for /api/ paths")


def _selector(prelude: list[Any]) -> str:
    _check_selector_tokens(prelude, depth=0, in_brackets=False)
    text = str(tinycss2.serialize(prelude)).strip()
    if not text:
        raise CssRejected("invalid CSS selector: empty")
    return text


def _check_selector_tokens(tokens: list[Any], *, depth: int, in_brackets: bool) -> None:
    if depth > MAX_DEPTH:
        raise CssRejected("CSS is nested too deeply")
    for token in tokens:
        if isinstance(
            token,
            ast.WhitespaceToken
            | ast.IdentToken
            | ast.HashToken
            | ast.NumberToken
            | ast.DimensionToken,
        ):
            continue
        if isinstance(token, ast.StringToken) and in_brackets:
            continue
        if isinstance(token, ast.LiteralToken) and token.value in _SELECTOR_LITERALS:
            continue
        if isinstance(token, ast.SquareBracketsBlock) and not in_brackets:
            _check_selector_tokens(token.content, depth=depth + 1, in_brackets=True)
            continue
        if isinstance(token, ast.FunctionBlock) and token.lower_name in SELECTOR_FUNCTIONS:
            _check_selector_tokens(token.arguments, depth=depth + 1, in_brackets=False)
            continue
        raise CssRejected(f"CSS selector not allowed: {_token_label(token)}")


def _token_label(token: Any) -> str:
    """A short description of a token (blocks are not serialised: they may nest deeply)."""
    if isinstance(token, ast.FunctionBlock):
        return f"{_shown(token.name)}()"
    if isinstance(token, ast.ParenthesesBlock | ast.SquareBracketsBlock | ast.CurlyBracketsBlock):
        return f"{token.type} block"
    if isinstance(token, ast.ParseError):
        return str(token.kind)
    return _shown(tinycss2.serialize([token]))


def _shown(text: str) -> str:
    """User text echoed in a message: at most 64 characters."""
    return text if len(text) <= 64 else text[:64] + "..."
