"""Checks of the built-in web client's files that need no browser: the vendored libraries are
the pinned ones, every relative import resolves, nothing evaluates strings as code or writes
HTML from strings, and the whole client stays small on the wire."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from chatalot.api.web_client import PACKAGE_ROOT, BuiltinClient

WEB = PACKAGE_ROOT
# web/vendor/README.md names the packages and versions; update both together. Keys are paths
# below web/vendor/.
VENDORED = {
    "preact.module.js": "25a5df7e9f628a587743c4641a368737a3b218f28ef738ba0376a2d5bdfc948c",
    "hooks.module.js": "9e7eff58e0ae604583461eba1344da69a6894eab575eb591c635cc0d3f9ec57d",
    "htm.module.js": "ab33dd3f38059b9be4d5f5350128eefb2356639c4e0bbe9d9e8b3ba75847e9e4",
    # @noble/curves, @noble/hashes, @noble/ciphers 2.4.0, tree-shaken into one module (README)
    "noble/noble.js": "a1b6b2e200500cdbf3b471ca412b029d0d0d35033930f1f5cbdac61337963c37",
}
IMPORT = re.compile(
    r"""(?:\bimport\b[^"'();]*?\bfrom\s*|\bimport\s*\(?\s*|\bexport\b[^"'();]*?\bfrom\s*)["']([^"']+)["']"""
)
# a budget under the 300 KB (compressed), so growth shows before it matters. Raised
# from 150,000 when end-to-end encryption came in (the @noble bundle is about 29 KB gzipped, the
# crypto core 15 KB); the whole client measured about 172 KB then.
GZIP_BUDGET_BYTES = 200_000
# import statements of vendored files (their doc comments hold example imports that are not code)
VENDOR_IMPORT = re.compile(
    r"""^(?:import\b[^"'();]*?\bfrom\s*|import\s*|export\b[^"'();]*?\bfrom\s*)["']([^"']+)["']""",
    re.MULTILINE,
)


BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
LINE_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


def code_only(source: str) -> str:
    """The source without its comments (which may name what the code avoids)."""
    return LINE_COMMENT.sub("", BLOCK_COMMENT.sub("", source))


def own_modules() -> list[Path]:
    return sorted(path for path in (WEB / "js").rglob("*.js"))


def test_vendored_libraries_are_the_pinned_versions() -> None:
    """A vendored file that differs from its recorded checksum was changed by accident (or
    updated without updating vendor/README.md and this list)."""
    vendor = WEB / "vendor"
    found = {path.relative_to(vendor).as_posix() for path in vendor.rglob("*.js")}
    assert found == set(VENDORED)
    for name, expected in VENDORED.items():
        assert hashlib.sha256((vendor / name).read_bytes()).hexdigest() == expected, name
    notes = (vendor / "README.md").read_text()
    assert "10.29.8" in notes and "3.1.1" in notes and "2.4.0" in notes
    for name in VENDORED:
        assert f"`{name}`" in notes, f"{name} is not in vendor/README.md's table"
    assert (WEB / "vendor" / "LICENSES.txt").is_file()


@pytest.mark.parametrize("module", own_modules(), ids=lambda path: str(path.relative_to(WEB)))
def test_every_import_resolves_to_a_file_of_the_client(module: Path) -> None:
    """Imports are relative paths to files that exist (no bare names: there is no bundler and
    no import map), so a renamed module cannot break the page silently."""
    for specifier in IMPORT.findall(module.read_text()):
        assert specifier.startswith("./") or specifier.startswith("../"), (module, specifier)
        target = (module.parent / specifier).resolve()
        assert target.is_file(), (module, specifier)
        assert target.is_relative_to(WEB)


@pytest.mark.parametrize("name", sorted(VENDORED))
def test_vendored_imports_resolve_inside_vendor(name: str) -> None:
    """Vendored modules import each other by relative paths only (no bare names such as
    `preact` or `@noble/...`: there is no import map)."""
    module = WEB / "vendor" / name
    for specifier in VENDOR_IMPORT.findall(module.read_text()):
        assert specifier.startswith("./") or specifier.startswith("../"), (name, specifier)
        target = (module.parent / specifier).resolve()
        assert target.is_file(), (name, specifier)
        assert target.is_relative_to(WEB / "vendor"), (name, specifier)


@pytest.mark.parametrize("module", own_modules(), ids=lambda path: str(path.relative_to(WEB)))
def test_no_string_becomes_html_or_code(module: Path) -> None:
    """User text must only ever become text nodes: no innerHTML/outerHTML/insertAdjacentHTML,
    no dangerouslySetInnerHTML, no document.write, no eval or new Function."""
    source = code_only(module.read_text())
    for forbidden in (
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "dangerouslySetInnerHTML",
        "document.write",
        "eval(",
        "new Function",
    ):
        assert forbidden not in source, (module.name, forbidden)


def test_index_references_only_versioned_assets_that_exist() -> None:
    """Every asset the page names lives under /client/<version>/ and is a file of the client."""
    client = BuiltinClient()
    index = client.index.body.decode()
    assert "%CHATALOT_VERSION%" not in index
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', index)
    assert assets, index
    for url in assets:
        prefix = f"/client/{client.version}/"
        assert url.startswith(prefix), url
        assert url[len(prefix) :] in client, url


def test_the_client_is_small_on_the_wire() -> None:
    """Everything the browser can load, gzip-compressed as served, stays under the budget."""
    client = BuiltinClient()
    total = 0
    for path in WEB.rglob("*"):
        relative = path.relative_to(WEB).as_posix()
        if relative not in client:
            continue
        served = client.get(relative)
        assert served is not None
        total += len(served.gzipped) if served.gzipped is not None else len(served.body)
    assert total < GZIP_BUDGET_BYTES, total
