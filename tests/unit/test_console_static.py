"""The web console's static files (layers/core/crossdock/admin/console/) checked without a browser: accessible
markup (every control labelled, every `aria-describedby` and `for` pointing at an element that exists, live regions
for messages), nothing fetched from another origin (no CDN, no inline script the Content-Security-Policy would
refuse), and the script calling only the admin API's routes of the contract (docs/admin-api.md).

What the script renders at run time (the settings forms) is checked in a real browser by tests/browser/."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crossdock.admin import routes_console

CONSOLE = routes_console.CONSOLE_FILES
SCRIPTS = ("common.js", "settings.js", "app.js")
SCRIPT = "\n".join((CONSOLE / name).read_text() for name in SCRIPTS)
# The admin API's routes the console may call (the contract's table); `{}` is any one path segment.
CONTRACT_ROUTES = {
    ("GET", "/admin/me"),
    ("GET", "/admin/connections"),
    ("GET", "/admin/connections/{}"),
    ("POST", "/admin/connections/{}/{}"),  # pause, resume, uninstall
    ("GET", "/admin/connections/{}/settings"),
    ("PUT", "/admin/connections/{}/settings"),
    ("GET", "/admin/connections/{}/choices"),
    ("GET", "/admin/connections/{}/initial-sync"),
    ("POST", "/admin/connections/{}/initial-sync"),
    ("GET", "/admin/connections/{}/setup"),
    ("POST", "/admin/connections/{}/setup/{}/{}"),  # run, skip
    ("GET", "/admin/connections/{}/events"),
    ("POST", "/admin/connections/{}/events/{}/retry"),
    ("POST", "/admin/connections/{}/sync"),
    ("GET", "/admin/dead-letters"),
    ("POST", "/admin/dead-letters/redrive"),
}


class _Markup(HTMLParser):
    """Every element's tag and attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def _page() -> list[tuple[str, dict[str, str]]]:
    markup = _Markup()
    markup.feed((CONSOLE / "index.html").read_text())
    return markup.elements


def test_every_control_of_the_page_has_a_label_and_unique_id() -> None:
    """GIVEN index.html WHEN its inputs, selects and progress bars are read THEN each has an id that a <label for>
    names, and no id is used twice."""
    elements = _page()
    ids = [attrs["id"] for _, attrs in elements if "id" in attrs]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    labelled = {attrs["for"] for tag, attrs in elements if tag == "label"}
    controls = [
        attrs.get("id", f"<{tag} {attrs}>")
        for tag, attrs in elements
        if tag in ("input", "select", "textarea", "progress") and attrs.get("type") not in ("hidden", "submit")
    ]
    assert controls, "the page has no controls at all"
    assert [control for control in controls if control not in labelled] == []


def test_every_reference_between_elements_points_at_one_that_exists() -> None:
    """GIVEN index.html WHEN aria-describedby, aria-labelledby, aria-controls and label[for] are read THEN each id
    they name is on the page."""
    elements = _page()
    ids = {attrs["id"] for _, attrs in elements if "id" in attrs}
    named = [
        (tag, name, target)
        for tag, attrs in elements
        for name in ("aria-describedby", "aria-labelledby", "aria-controls", "for")
        for target in attrs.get(name, "").split()
    ]
    assert named
    assert [(tag, name, target) for tag, name, target in named if target not in ids] == []


def test_messages_are_announced_and_the_page_has_landmarks() -> None:
    """GIVEN index.html THEN it has a polite status and an assertive alert region, a <main>, a language, and a link
    to skip to the content."""
    elements = _page()
    regions = {(attrs.get("role"), attrs.get("aria-live")) for _, attrs in elements}
    assert ("status", "polite") in regions
    assert ("alert", "assertive") in regions
    assert any(tag == "main" for tag, _ in elements)
    assert next(attrs for tag, attrs in elements if tag == "html").get("lang") == "en"
    assert any(tag == "a" and attrs.get("href") == "#main" for tag, attrs in elements)


def test_nothing_is_loaded_from_another_origin_and_no_script_is_inline() -> None:
    """GIVEN the console's files WHEN their URLs are read THEN none names another origin (no CDN), the page's one
    scripts are its own folder's, in order, and no element carries an inline event handler."""
    elements = _page()
    scripts = [attrs for tag, attrs in elements if tag == "script"]
    assert scripts == [{"src": name, "defer": ""} for name in SCRIPTS]
    handlers = [(tag, name) for tag, attrs in elements for name in attrs if name.startswith("on")]
    assert handlers == []
    for path in CONSOLE.iterdir():
        text = path.read_text()
        assert not re.search(r"https?://(?!cognito-idp\.)", text), f"{path.name} names another origin"
        assert "@import" not in text, path.name


def _calls() -> list[tuple[str, str]]:
    """Every `api("METHOD", "/admin/…")` (or `apiAnswer`) call of the script, its template parts (`${…}`) as `{}`."""
    found = re.findall(r'api(?:Answer)?\(\s*"([A-Z]+)",\s*[`"](/admin/[^`"]*)[`"]', SCRIPT)
    return [(method, re.sub(r"\$\{[^}]*\}", "{}", path)) for method, path in found]


def test_the_script_calls_only_the_contract_routes() -> None:
    """GIVEN the scripts WHEN their admin API calls are read THEN each is a route of the contract, and every route the
    contract gives the console is called."""
    calls = set(_calls())
    assert calls - CONTRACT_ROUTES == set()
    assert CONTRACT_ROUTES - calls == set()


def test_the_tokens_are_kept_for_the_tab_only() -> None:
    """GIVEN the scripts THEN the id and refresh tokens are kept in sessionStorage (gone when the tab closes), never
    localStorage or a cookie; the id token is sent as Authorization, the refresh token read only to be sent to Cognito
    (REFRESH_TOKEN_AUTH), and nothing is written to the browser's console."""
    assert "sessionStorage.setItem(TOKEN_KEY" in SCRIPT and "sessionStorage.setItem(REFRESH_KEY" in SCRIPT
    assert "localStorage" not in SCRIPT and "document.cookie" not in SCRIPT
    assert "const token = sessionStorage.getItem(TOKEN_KEY)" in SCRIPT and "{ Authorization: token }" in SCRIPT
    assert SCRIPT.count("sessionStorage.getItem(REFRESH_KEY)") == 1
    assert "AuthParameters: { REFRESH_TOKEN: refreshToken }" in SCRIPT
    assert not re.search(r"\bconsole\.(log|info|warn|error|debug|trace)\b", SCRIPT)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed here")
def test_the_scripts_parse(tmp_path: Path) -> None:
    """GIVEN the three scripts WHEN node checks each, and the three as the one scope the page runs them in THEN they
    parse, and no name is declared twice across them (the browser tests run them for real)."""
    whole = tmp_path / "console.js"
    whole.write_text(SCRIPT)
    for path in [*(CONSOLE / name for name in SCRIPTS), whole]:
        subprocess.run(["node", "--check", str(path)], check=True, capture_output=True, timeout=30)


def test_the_served_files_are_exactly_the_folder() -> None:
    """GIVEN the console folder THEN what routes_console serves is its html, js and css, each with its type."""
    served = {name: content_type for name, (content_type, _) in routes_console._files().items()}
    assert served == {
        "index.html": "text/html; charset=utf-8",
        "common.js": "text/javascript; charset=utf-8",
        "settings.js": "text/javascript; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "app.css": "text/css; charset=utf-8",
    }
    assert all(Path(CONSOLE / name).is_file() for name in served)
