"""The report in a real browser: headless Chromium opens the index and a notebook page.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on file descriptor 3, events on 4, each message JSON ending in a NUL byte),
so no port, WebSocket library or downloaded browser is needed.
"""

import base64
import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from pipeline.report import render_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.slow
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium for the browser test (.ci/run installs it)")
    pytestmark = [pytest.mark.slow, pytest.mark.skip(reason="chromium is not installed")]


class Browser:
    """A headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, profile: Path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire():  # runs in the child: the protocol's fixed descriptors 3 and 4
            # Move both ends above 4 first, so neither is overwritten by the other's dup2.
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [
                CHROMIUM,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--no-first-run",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            preexec_fn=wire,
            pass_fds=(3, 4, to_chrome_r, from_chrome_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer, self._id, self.events = b"", 0, []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=1280,
            height=2000,
            deviceScaleFactor=1,
            mobile=False,
        )

    def call(self, method: str, session: bool = False, **params) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str) -> None:
        """Load a page and wait for its load event (images included)."""
        self.events.clear()
        self.call("Page.navigate", session=True, url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read())

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.call(
            "Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True
        )
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def report_dir(shipped_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(shipped_run, out)  # the shared run is read only
    render_report(out)  # rendering a finished run again gives a working report too
    # A copy of report/ alone must work: the browser reads the copy, the run is removed.
    copy = out.parent / "copied_report"
    shutil.copytree(out / "report", copy)
    shutil.rmtree(out)
    return copy


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chrome = Browser(tmp_path_factory.mktemp("profile"))
    yield chrome
    chrome.close()


PAGE_FACTS = """(() => ({
  images: [...document.images].map(i => ({src: i.currentSrc, ok: i.complete && i.naturalWidth > 0,
                                          alt: i.alt})),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  tables: document.querySelectorAll('table').length,
  textDumps: [...document.querySelectorAll('.output_stdout pre, .output_text pre')]
     .filter(p => p.textContent.split('\\n').filter(l => /\\S\\s{2,}\\S+\\s{2,}\\S/.test(l)).length >= 3)
     .length,
  title: document.title,
}))()"""


def problems(events) -> tuple[list[str], list[str]]:
    """Requests that left the machine, and console or page errors, from DevTools events."""
    outside, errors = [], []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not url.startswith(("file:", "data:")):
                outside.append(url)
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(str(params.get("args")))
        elif method == "Runtime.exceptionThrown":
            errors.append(str(params.get("exceptionDetails")))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    return outside, errors


def unresolved(links: list[str], folder: Path) -> list[str]:
    """Links that do not point at an existing file (and id) inside ``folder``."""
    bad = []
    for link in links:
        parts = urlsplit(link)
        if parts.scheme != "file":
            bad.append(link)
            continue
        path = Path(unquote(parts.path))
        if not path.is_file() or folder.resolve() not in path.resolve().parents:
            bad.append(link)
        elif (
            parts.fragment
            and path.suffix == ".html"
            and f'id="{unquote(parts.fragment)}"' not in path.read_text(encoding="utf-8")
        ):
            bad.append(link)
    return bad


@pytest.mark.parametrize("page", ["index.html", "03_response_by_subgroup.html"])
def test_a_report_page_loads_offline_without_errors_with_every_image_and_link_resolving(
    report_dir, browser, tmp_path, page
):
    browser.open((report_dir / page).as_uri())
    facts = browser.evaluate(PAGE_FACTS)
    browser.screenshot(tmp_path / f"{page}.png")
    outside, errors = problems(browser.events)
    assert outside == [], "requests left the machine"
    assert errors == []
    assert facts["images"] and [i["src"] for i in facts["images"] if not i["ok"]] == []
    assert all(i["alt"] and "No description" not in i["alt"] for i in facts["images"])
    assert unresolved(facts["links"], report_dir) == []
    assert facts["tables"] > 0
    assert facts["title"] and facts["title"] != "Notebook"


def test_every_notebook_page_shows_its_tables_as_html_tables_not_text_dumps(report_dir, browser):
    dumps = {}
    for page in sorted(report_dir.glob("0*.html")):
        browser.open(page.as_uri())
        found = browser.evaluate(PAGE_FACTS)["textDumps"]
        if found:
            dumps[page.name] = found
    assert dumps == {}, "printed text tables (use helpers.display.table)"


def test_the_code_toggle_shows_the_hidden_code_and_printed_values_without_any_script(
    report_dir, browser
):
    browser.open((report_dir / "03_response_by_subgroup.html").as_uri())
    visible = "getComputedStyle(document.querySelector('.notebook .input')).display"
    assert browser.evaluate(visible) == "none"
    printed = "getComputedStyle(document.querySelector('.notebook .output_stdout')).display"
    assert browser.evaluate(printed) == "none"  # printed values (dataclass reprs) are for analysts
    browser.evaluate("document.getElementById('show-code').click()")
    assert browser.evaluate(visible) != "none" and browser.evaluate(printed) != "none"
    assert browser.evaluate("document.scripts.length") == 0


def test_the_index_reads_as_findings_first(report_dir, browser):
    browser.open((report_dir / "index.html").as_uri())
    headings = browser.evaluate("[...document.querySelectorAll('h1, h2')].map(h => h.textContent)")
    assert headings[:3] == [
        "Debulking before blinatumomab: analysis report",
        "Main findings",
        "Figures",
    ]
    text = browser.evaluate("document.body.innerText")
    assert re.search(r"RECONSTRUCTED DATA", text) and "23/34 (67.6%)" in text
