"""The built-in web client (src/chatalot/web/) in a real Chromium, against a real server
(``chatalot serve``, embedded PostgreSQL, CHATALOT_ENV=dev, HTTP rate limits off; the
WebSocket's per-session limits stay on).

    .venv/bin/python -m bench.web_client [--messages 1000] [--history 10000] [--rate 100]
        [--seconds 10] [--runs 5] [--profile] [--trace FILE] [--only 1,2,3]

Playwright for Python drives Debian's Chromium (/usr/bin/chromium, headless, never a browser
from ``playwright install``); the server runs on CPU 0 (``--server-cpu``), the browser and
this load generator wherever the kernel puts them. Set-up over REST: the owner registers
(the first user), turns end-to-end encryption off (the client then shows the plaintext
messages sent below), makes a community with two public groups (a text channel each:
"general" and "history"); ``--senders`` more users join through an invite. Messages are sent
as plaintext ``send_message`` frames by other users' WebSocket sessions (raw asyncio clients,
bench/_ws_clients.py; at most 8 per second per session, 8 sessions per user). The page is
opened already signed in as the owner (the session's localStorage keys set by an init script).

1. First load: ``--messages`` messages in "general"; in a fresh browser context (empty cache)
   the time from navigation start until the newest message's text is visible
   (``wait_for_selector``, then ``performance.now()`` in the page), median of ``--runs`` (5)
   fresh contexts. Target < 1 s. Bytes transferred by that load: the ``transferSize`` of the
   navigation entry and of every resource entry (REST calls included, WebSocket frames not:
   they are no resource entries), and apart the client's own (the page and /client/...).
   Target < 300 KB for the client's own bytes.
2. Responsiveness: with "general" open, other users send ``--rate`` messages/s for
   ``--seconds`` (open loop); in the page a PerformanceObserver on 'long-animation-frame'
   (frames over 50 ms, with their script attribution) and a requestAnimationFrame loop
   (frame intervals). Reports the longest frame, the p99 frame interval, the frames over
   50 ms, and whether every message arrived (the count of messages the client holds).
   Target: no frame over 50 ms.
3. Memory: ``--history`` messages in "history"; open it and scroll back to the very start
   (set scrollTop = 0, wait for more rows, repeat until ``.channel-start`` shows, in a loop
   inside the page; when a page of rows was prepended but the view stayed at the top, the
   observer would not fire again: the loop scrolls down and back, and counts it); reports the
   time it took, ``performance.memory.usedJSHeapSize`` after a garbage collection (CDP
   ``HeapProfiler.collectGarbage``) before and after, the DOM element count, and where the
   long animation frames of the scroll-back spent their time. No fixed target.

Parts 2 and 3 split the long frames' time (LoAF): scripts (with the forced style and layout
inside them) and the rendering step (style and layout, paint). Exit status 1 when a target is
missed or a message is missing. Page load figures include any other load on the machine: run
it on an idle one.

``--profile``: also a CPU profile of the renderer (CDP Profiler, 1 ms samples) during the
first load, the message burst and the scroll-back; the functions with the most self time are
printed under the table (the profiler slows the page: take the figures without it).
``--trace FILE``: also a Chrome trace of the message burst (part 2), written to FILE (open it in
the browser's performance panel or https://ui.perfetto.dev); a summary is printed under the
table: the renderer main thread's CPU time (thread time, which other load on the machine
inflates less than wall time) by step (script, style, layout, pre-paint, paint, layerize), and
the largest style recalculations and layouts with the number of elements and layout objects they
touched. Tracing slows the page too: take the frame figures from a run without it.
``--only 1,2`` runs some of the parts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright
from tests.support.auth import register_body

from bench._server import CHROMIUM, run_browser_bench
from bench._ws_clients import WsClient, connect

CHROMIUM_ARGS = ["--no-sandbox", "--enable-precise-memory-info"]
PER_SESSION_RATE = 8.0  # the server allows 10/s sustained per session
SESSIONS_PER_USER = 8
KB = 1000

SENTENCE = (
    "the quick brown fox jumps over a lazy dog while we ship the release notes tonight please "
    "review the pull request before lunch and check the deploy logs for errors"
)
WORDS = SENTENCE.split()


def message_text(tag: str, n: int, rng: random.Random) -> str:
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 16)))
    return f"{tag}-{n:05d} {words}"


# -- the page ------------------------------------------------------------------------------------

SESSION_SCRIPT = """
(() => {
  const s = %s;
  if (location.origin !== s.origin) return;
  localStorage.setItem("chatalot.access_token", s.access);
  localStorage.setItem("chatalot.refresh_token", s.refresh);
  localStorage.setItem("chatalot.user", JSON.stringify(s.user));
  performance.setResourceTimingBufferSize(2000);
})();
"""

# frame recording (part 2): long animation frames and requestAnimationFrame intervals
FRAMES_SCRIPT = """
(() => {
  const b = (window.__bench = { loaf: [], intervals: [], recording: false, last: 0 });
  new PerformanceObserver((list) => {
    if (!b.recording) return;
    for (const e of list.getEntries()) {
      b.loaf.push({
        start: e.startTime, duration: e.duration, blocking: e.blockingDuration,
        renderStart: e.renderStart, styleAndLayoutStart: e.styleAndLayoutStart,
        scripts: (e.scripts || []).map((s) => ({
          invoker: s.invoker, fn: s.sourceFunctionName, url: s.sourceURL,
          duration: s.duration, layout: s.forcedStyleAndLayoutDuration,
        })),
      });
    }
  }).observe({ type: "long-animation-frame" });
  const tick = (t) => {
    if (b.recording && b.last) b.intervals.push(t - b.last);
    b.last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
"""

ENTRIES_JS = """() => [...performance.getEntriesByType("navigation"),
  ...performance.getEntriesByType("resource")].map((e) => ({
    name: e.name, type: e.initiatorType || "navigation", transfer: e.transferSize,
    encoded: e.encodedBodySize, decoded: e.decodedBodySize, end: e.responseEnd }))"""

# messages the client holds (its store: the page shows only the newest 150 or so at a time)
COUNT_JS = """async () => {
  const version = document.querySelector('meta[name="chatalot-version"]').content;
  const { app } = await import(`/client/${version}/js/state.js`);
  return Object.values(app.get().messages).reduce((n, held) => n + held.items.length, 0);
}"""
ROWS_JS = "() => document.querySelectorAll('li.message').length"

SCROLL_BACK_JS = """async (limitMs) => {
  const box = document.querySelector(".message-scroller");
  const list = document.querySelector("ol.messages");
  const t0 = performance.now();
  let rounds = 0, stalls = 0, jumps = 0, nudges = 0;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const done = () => document.querySelector(".channel-start");
  while (!done()) {
    if (performance.now() - t0 > limitMs) {
      return { ok: false, ms: performance.now() - t0, rounds, stalls, jumps, nudges };
    }
    if (box.scrollTop < 100 && rounds > 0) {
      // still at the top: the sentinel never left the view, so the IntersectionObserver would
      // not fire again; scroll away and come back
      nudges += 1;
      box.scrollTop = box.scrollHeight;
      await frame();
      await frame();
    }
    const before = list.childElementCount;
    box.scrollTop = 0;
    rounds += 1;
    const t = performance.now();
    while (list.childElementCount === before && !done()) {
      if (performance.now() - t > 3000) { stalls += 1; break; }
      await frame();
    }
    if (list.childElementCount !== before) {
      await frame();
      if (box.scrollTop < 100) jumps += 1; // the position was not kept when rows were prepended
    }
  }
  return { ok: true, ms: performance.now() - t0, rounds, stalls, jumps, nudges };
}"""


# -- senders ---------------------------------------------------------------------------------------


class Sender(WsClient):
    """A session that sends plaintext messages and counts the answers."""

    def __init__(self, host: str, port: int, token: str) -> None:
        super().__init__(host, port, token)
        self.acked = 0
        self.refused = 0
        self.outstanding = 0
        self.wake = asyncio.Event()

    def on_text(self, payload: bytes, now: int) -> None:
        head = payload[:48]
        if b'"message_sent"' in head:
            self.acked += 1
        elif b'"error"' in head:
            super().on_text(payload, now)
            self.refused += 1
        else:
            return
        self.outstanding -= 1
        self.wake.set()

    def send_message(self, channel_id: str, text: str) -> None:
        frame = {
            "type": "send_message",
            "channel_id": channel_id,
            "ciphertext": list(text.encode()),
            "nonce": list(os.urandom(12)),
            "message_type": "text",
        }
        self.outstanding += 1
        self.send_text(json.dumps(frame, separators=(",", ":")).encode())


@dataclass
class Member:
    username: str
    access: str
    refresh: str
    user: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class Setup:
    url: str
    owner: Member
    senders: list[Member]
    community_id: str
    general: str
    history: str
    sessions: list[Sender] = field(default_factory=list)


async def ok(response: httpx.Response) -> Any:
    if response.status_code not in (200, 201, 204):
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json() if response.content else None


async def register(http: httpx.AsyncClient, name: str) -> Member:
    auth = await ok(await http.post("/api/auth/register", json=register_body(name)))
    return Member(name, auth["access_token"], auth["refresh_token"], auth["user"])


async def set_up(http: httpx.AsyncClient, url: str, senders: int, sessions: int) -> Setup:
    owner = await register(http, "owner")
    await ok(
        await http.put("/api/admin/settings", json={"e2e_enabled": "false"}, headers=owner.headers)
    )
    community = await ok(
        await http.post(
            "/api/communities",
            json={"name": "Bench", "description": None},
            headers=owner.headers,
        )
    )
    cid = community["id"]
    channels = {}
    groups = []
    for name in ("general", "history"):
        group = await ok(
            await http.post(
                "/api/groups",
                json={
                    "community_id": cid,
                    "name": name.capitalize(),
                    "description": None,
                    "visibility": "public",
                },
                headers=owner.headers,
            )
        )
        groups.append(group["id"])
        listed = await ok(
            await http.get(f"/api/groups/{group['id']}/channels", headers=owner.headers)
        )
        channels[name] = next(c["id"] for c in listed if c["channel_type"] == "text")
    invite = await ok(
        await http.post(
            f"/api/communities/{cid}/invites",
            json={"max_uses": None, "expires_in_hours": 24},
            headers=owner.headers,
        )
    )
    members = []
    for i in range(senders):
        member = await register(http, f"sender{i + 1}")
        await ok(
            await http.post(
                f"/api/community-invites/{invite['code']}/accept", headers=member.headers
            )
        )
        for gid in groups:  # public groups: joined on accepting, or here (either answer is fine)
            await http.post(f"/api/groups/{gid}/join", headers=member.headers)
        mine = {c["id"] for c in await ok(await http.get("/api/channels", headers=member.headers))}
        missing = set(channels.values()) - mine
        if missing:
            raise SystemExit(f"{member.username} is not a member of {missing}")
        members.append(member)
    setup = Setup(url, owner, members, cid, channels["general"], channels["history"])
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    tokens = [members[i % senders].access for i in range(sessions)]

    async def open_session(token: str) -> Sender:
        session = await connect(lambda: Sender(host, port, token), host, port)
        assert isinstance(session, Sender)
        return session

    setup.sessions = list(await asyncio.gather(*(open_session(t) for t in tokens)))
    return setup


async def seed(sessions: list[Sender], channel_id: str, count: int, tag: str) -> tuple[int, float]:
    """``count`` messages, spread over the sessions, each at most PER_SESSION_RATE/s and at most
    4 unanswered at a time; (acknowledged, seconds)."""
    rng = random.Random(tag)
    texts = iter([message_text(tag, n, rng) for n in range(1, count + 1)])
    started = time.monotonic()

    async def run(session: Sender) -> None:
        interval = 1 / PER_SESSION_RATE
        due = time.monotonic()
        for text in texts:
            while session.outstanding >= 4:
                session.wake.clear()
                await asyncio.wait_for(session.wake.wait(), 60)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            due = max(due + interval, time.monotonic() - 1)
            session.send_message(channel_id, text)
        while session.outstanding > 0:
            session.wake.clear()
            await asyncio.wait_for(session.wake.wait(), 60)

    before = sum(s.acked for s in sessions)
    await asyncio.gather(*(run(s) for s in sessions))
    return sum(s.acked for s in sessions) - before, time.monotonic() - started


async def burst(
    sessions: list[Sender], channel_id: str, rate: float, seconds: float
) -> tuple[int, int, float]:
    """Open loop: message k at start + k / rate by session k mod S; (sent, refused, lag max s)."""
    total = int(rate * seconds)
    rng = random.Random("burst")
    refused_before = sum(s.refused for s in sessions)
    start = time.monotonic() + 0.05
    lag = 0.0
    for k in range(total):
        due = start + k / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lag = max(lag, -delay)
        sessions[k % len(sessions)].send_message(channel_id, message_text("live", k + 1, rng))
    deadline = time.monotonic() + 60
    while any(s.outstanding > 0 for s in sessions) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return total, sum(s.refused for s in sessions) - refused_before, lag


async def newest_text(http: httpx.AsyncClient, setup: Setup, channel_id: str) -> str:
    page = await ok(
        await http.get(
            f"/api/channels/{channel_id}/messages", params={"limit": 1}, headers=setup.owner.headers
        )
    )
    return bytes(page[0]["ciphertext"]).decode()


# -- the browser ---------------------------------------------------------------------------------


async def new_page(browser: Any, setup: Setup, frames: bool = False) -> tuple[Any, Any]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    session = {
        "origin": setup.url,
        "access": setup.owner.access,
        "refresh": setup.owner.refresh,
        "user": setup.owner.user,
    }
    await context.add_init_script(SESSION_SCRIPT % json.dumps(session))
    if frames:
        await context.add_init_script(FRAMES_SCRIPT)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors  # read by the parts
    return context, page


class Profile:
    """A CPU profile of the page's renderer through CDP (``--profile``)."""

    def __init__(self, cdp: Any) -> None:
        self.cdp = cdp

    @classmethod
    async def start(cls, context: Any, page: Any) -> Profile:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Profiler.enable")
        await cdp.send("Profiler.setSamplingInterval", {"interval": 1000})
        await cdp.send("Profiler.start")
        return cls(cdp)

    async def stop(self) -> list[tuple[str, float]]:
        """(function, self ms), most first."""
        profile = (await self.cdp.send("Profiler.stop"))["profile"]
        nodes = {node["id"]: node for node in profile["nodes"]}
        spent: dict[str, float] = {}
        for sample, delta in zip(
            profile.get("samples", []), profile.get("timeDeltas", []), strict=True
        ):
            frame = nodes[sample]["callFrame"]
            where = Path(urlsplit(frame["url"]).path).name if frame["url"] else ""
            name = frame["functionName"] or "(anonymous)"
            label = f"{name} {where}:{frame['lineNumber'] + 1}" if where else name
            spent[label] = spent.get(label, 0.0) + delta / 1000.0
        return sorted(spent.items(), key=lambda item: -item[1])


TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8",
    "blink",
    "toplevel",
]
TRACE_STEPS = {
    "FunctionCall": "script",
    "TimerFire": "script",
    "FireAnimationFrame": "script",
    "EventDispatch": "script",
    "RunMicrotasks": "script",
    "UpdateLayoutTree": "style",
    "Layout": "layout",
    "PrePaint": "pre-paint",
    "Paint": "paint",
    "Layerize": "layerize",
    "Commit": "commit",
    "MinorGC": "gc",
    "MajorGC": "gc",
}


def trace_summary(raw: bytes) -> dict[str, Any]:
    """The renderer main thread's CPU time by step, from a Chrome trace. Nested events of one
    step are counted once (the outermost); a step inside another (a forced layout inside a
    script) counts for both."""
    data = json.loads(raw)
    events = data["traceEvents"] if isinstance(data, dict) else data
    threads = Counter((e["pid"], e["tid"]) for e in events if e.get("name") == "FunctionCall")
    if not threads:
        return {"steps": {}, "frames": 0, "styles": [], "layouts": []}
    main = threads.most_common(1)[0][0]
    spans = sorted(
        (e for e in events if (e.get("pid"), e.get("tid")) == main and e.get("ph") == "X"),
        key=lambda e: (e["ts"], -e.get("dur", 0)),
    )
    steps: dict[str, float] = {}
    open_until: dict[str, float] = {}
    styles: list[tuple[float, int]] = []
    layouts: list[tuple[float, int, int]] = []
    frames = 0
    for e in spans:
        name = e["name"]
        if name == "PrePaint":  # one per rendering update
            frames += 1
        step = TRACE_STEPS.get(name)
        if step is None:
            continue
        cpu = (e.get("tdur") or e.get("dur") or 0) / 1000
        if e["ts"] >= open_until.get(step, 0):
            steps[step] = steps.get(step, 0.0) + cpu
            open_until[step] = e["ts"] + e.get("dur", 0)
        args = e.get("args", {})
        if name == "UpdateLayoutTree":
            styles.append((cpu, int(args.get("elementCount") or 0)))
        elif name == "Layout":
            begin = args.get("beginData", {})
            layouts.append((cpu, begin.get("dirtyObjects") or 0, begin.get("totalObjects") or 0))
    return {
        "steps": steps,
        "frames": frames,
        "styles": sorted(styles, reverse=True)[:5],
        "layouts": sorted(layouts, reverse=True)[:5],
    }


def print_trace(summary: dict[str, Any], path: str) -> None:
    steps = summary["steps"]
    print()
    print(f"trace of the message burst ({path}): main thread CPU ms, {summary['frames']} frames")
    print("  " + ", ".join(f"{step} {ms:.0f}" for step, ms in steps.items()))
    styles = ", ".join(f"{ms:.1f} ms/{n} elements" for ms, n in summary["styles"])
    print(f"  largest style recalculations: {styles}")
    layouts = ", ".join(f"{ms:.1f} ms/{d} of {t} objects" for ms, d, t in summary["layouts"])
    print(f"  largest layouts: {layouts}")


def print_profile(title: str, spent: list[tuple[str, float]], top: int = 12) -> None:
    total = sum(ms for _, ms in spent) or 1
    busy = sum(ms for name, ms in spent if name != "(idle)") or 1
    print(f"\n{title}: {total:.0f} ms sampled, {busy:.0f} ms busy; self time, most first")
    for name, ms in spent[:top]:
        print(f"  {ms:8.1f} ms {100 * ms / total:5.1f}%  {name}")


async def first_load(
    browser: Any, setup: Setup, newest: str, runs: int, profile: bool
) -> dict[str, Any]:
    times, dcl, api_end, totals, client_bytes, requests = [], [], [], [], [], []
    breakdown: Counter[str] = Counter()
    spent: list[tuple[str, float]] = []
    for run in range(runs):
        context, page = await new_page(browser, setup)
        prof = await Profile.start(context, page) if profile and run == runs - 1 else None
        try:
            await page.goto(f"{setup.url}/channels/{setup.community_id}/{setup.general}")
            await page.locator("li.message", has_text=newest).wait_for(
                state="visible", timeout=30_000
            )
            times.append(await page.evaluate("performance.now()"))
            if prof is not None:
                spent = await prof.stop()
            with contextlib.suppress(PlaywrightTimeout):  # read what there is
                await page.wait_for_load_state("networkidle", timeout=5_000)
            entries = await page.evaluate(ENTRIES_JS)
            dcl.append(
                await page.evaluate(
                    "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                )
            )
            message_fetches = [e["end"] for e in entries if "/messages" in urlsplit(e["name"]).path]
            if message_fetches:
                api_end.append(min(message_fetches))
            total = own = 0
            for e in entries:
                path = urlsplit(e["name"]).path
                total += e["transfer"]
                kind = (
                    "page"
                    if e["type"] == "navigation"
                    else (
                        "client"
                        if path.startswith("/client/")
                        else "api"
                        if path.startswith("/api/")
                        else "other"
                    )
                )
                if kind in ("page", "client"):
                    own += e["transfer"]
                if run == 0:
                    breakdown[kind] += e["transfer"]
                    breakdown[kind + " requests"] += 1
            totals.append(total)
            client_bytes.append(own)
            requests.append(len(entries))
            if page.errors:
                print(f"  page errors: {page.errors[:3]}")
        finally:
            await context.close()
    return {
        "ms": statistics.median(times),
        "all_ms": times,
        "dcl_ms": statistics.median(dcl),
        "api_ms": statistics.median(api_end) if api_end else math.nan,
        "total": statistics.median(totals),
        "own": statistics.median(client_bytes),
        "requests": statistics.median(requests),
        "breakdown": breakdown,
        "profile": spent,
    }


def frame_split(loaf: list[dict[str, Any]]) -> str:
    """Where the long frames' time went: scripts (of which forced style and layout inside
    them), then the rendering step (style and layout, then paint and the rest)."""
    script = sum(s["duration"] for f in loaf for s in f["scripts"])
    forced = sum(s["layout"] or 0 for f in loaf for s in f["scripts"])
    style_layout = render = 0.0
    for f in loaf:
        end = f["start"] + f["duration"]
        if f["renderStart"]:
            render += end - f["renderStart"]
        if f["styleAndLayoutStart"]:
            style_layout += end - f["styleAndLayoutStart"]
    return (
        f"{len(loaf)} frames, {sum(f['duration'] for f in loaf):.0f} ms: scripts {script:.0f} "
        f"(forced layout {forced:.0f}), rendering {render:.0f} (style+layout+paint "
        f"{style_layout:.0f})"
    )


async def responsiveness(
    browser: Any,
    setup: Setup,
    newest: str,
    rate: float,
    seconds: float,
    profile: bool,
    trace: str | None = None,
) -> dict[str, Any]:
    context, page = await new_page(browser, setup, frames=True)
    try:
        await page.goto(f"{setup.url}/channels/{setup.community_id}/{setup.general}")
        await page.locator("li.message", has_text=newest).wait_for(state="visible", timeout=30_000)
        await page.wait_for_timeout(1000)  # let the load settle (fonts, presence, unread)
        before = await page.evaluate(COUNT_JS)
        prof = await Profile.start(context, page) if profile else None
        if trace:
            await browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        await page.evaluate("() => { __bench.recording = true; __bench.last = 0; }")
        sent, refused, lag = await burst(setup.sessions, setup.general, rate, seconds)
        arrived = True
        try:
            await page.wait_for_function(
                f"async () => (await ({COUNT_JS})()) >= {before + sent - refused}",
                timeout=30_000,
            )
        except PlaywrightTimeout:  # reported below as missing messages
            arrived = False
        await page.wait_for_timeout(500)
        data = await page.evaluate(
            "() => { const b = __bench; b.recording = false;"
            " return { loaf: b.loaf, intervals: b.intervals }; }"
        )
        spent = await prof.stop() if prof is not None else []
        traced = None
        if trace:
            raw = await browser.stop_tracing()
            Path(trace).write_bytes(raw)
            traced = trace_summary(raw)
        after = await page.evaluate(COUNT_JS)
        errors = list(page.errors)
    finally:
        await context.close()
    intervals = sorted(data["intervals"])
    loaf = data["loaf"]
    p99 = intervals[min(len(intervals) - 1, int(0.99 * len(intervals)))] if intervals else math.nan
    by_source: Counter[str] = Counter()
    for f in loaf:
        for s in f["scripts"]:
            where = Path(urlsplit(s["url"]).path).name if s["url"] else ""
            by_source[f"{s['invoker'] or '?'} ({s['fn'] or '?'} {where})"] += s["duration"]
    return {
        "sent": sent,
        "refused": refused,
        "lag": lag,
        "before": before,
        "after": after,
        "arrived": arrived and after - before == sent - refused,
        "frames": len(intervals),
        "max_interval": intervals[-1] if intervals else math.nan,
        "p99_interval": p99,
        "median_interval": statistics.median(intervals) if intervals else math.nan,
        "intervals_over_50": sum(1 for i in intervals if i > 50),
        "loaf_count": len(loaf),
        "loaf_max": max((f["duration"] for f in loaf), default=0.0),
        "loaf_split": frame_split(loaf),
        "loaf_sources": by_source.most_common(5),
        "loaf_top": sorted(loaf, key=lambda f: -f["duration"])[:5],
        "errors": errors,
        "profile": spent,
        "trace": traced,
    }


async def memory(
    browser: Any, setup: Setup, newest: str, history: int, profile: bool
) -> dict[str, Any]:
    context, page = await new_page(browser, setup, frames=True)
    try:
        cdp = await context.new_cdp_session(page)
        await page.goto(f"{setup.url}/channels/{setup.community_id}/{setup.history}")
        await page.locator("li.message", has_text=newest).wait_for(state="visible", timeout=30_000)
        await page.wait_for_timeout(500)
        await cdp.send("HeapProfiler.collectGarbage")
        heap_before = await page.evaluate("performance.memory.usedJSHeapSize")
        nodes_before = await page.evaluate("document.getElementsByTagName('*').length")
        prof = await Profile.start(context, page) if profile else None
        await page.evaluate("() => { __bench.recording = true; }")
        limit_ms = max(120_000, history * 90)
        result = await page.evaluate(SCROLL_BACK_JS, limit_ms)
        spent = await prof.stop() if prof is not None else []
        loaf = await page.evaluate("() => { __bench.recording = false; return __bench.loaf; }")
        rows = await page.evaluate(ROWS_JS)
        await cdp.send("HeapProfiler.collectGarbage")
        heap = await page.evaluate("performance.memory.usedJSHeapSize")
        nodes = await page.evaluate("document.getElementsByTagName('*').length")
        errors = list(page.errors)
    finally:
        await context.close()
    return {
        **result,
        "rows": rows,
        "heap_before": heap_before,
        "heap": heap,
        "nodes_before": nodes_before,
        "nodes": nodes,
        "loaf_split": frame_split(loaf),
        "errors": errors,
        "profile": spent,
    }


# -- report ----------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in out.splitlines() if "Model name" in line), ""
        )
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        total_kib = int(f.readline().split()[1])
    chromium = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True
    ).stdout.strip()
    return f"{os.cpu_count()} CPUs ({model}), {total_kib / 1024 / 1024:.0f} GiB, {chromium}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


Row = tuple[str, str, str, str]


def report_first_load(r: dict[str, Any]) -> tuple[list[Row], bool]:
    b = r["breakdown"]
    by_kind = ", ".join(
        f"{kind} {b[kind] / KB:.1f} KB/{b[kind + ' requests']}"
        for kind in ("page", "client", "api", "other")
    )
    rows = [
        (
            "1. first load, newest message visible (median)",
            f"{r['ms']:.0f} ms",
            "< 1000 ms",
            verdict(r["ms"] < 1000),
        ),
        ("   runs (ms)", ", ".join(f"{ms:.0f}" for ms in r["all_ms"]), "", ""),
        (
            "   DOMContentLoaded / first messages response",
            f"{r['dcl_ms']:.0f} / {r['api_ms']:.0f} ms",
            "",
            "",
        ),
        (
            "   client's own bytes (page + /client/)",
            f"{r['own'] / KB:.1f} KB",
            "< 300 KB",
            verdict(r["own"] < 300 * KB),
        ),
        (
            "   all bytes (+ REST; WS frames excluded)",
            f"{r['total'] / KB:.1f} KB in {r['requests']:.0f} requests",
            "",
            "",
        ),
        ("   by kind (first run)", by_kind, "", ""),
    ]
    if r["profile"]:
        print_profile("profile, first load (last run)", r["profile"])
    return rows, r["ms"] >= 1000 or r["own"] >= 300 * KB


def report_responsiveness(r: dict[str, Any], rate: float, seconds: float) -> tuple[list[Row], bool]:
    smooth = r["loaf_count"] == 0 and r["intervals_over_50"] == 0
    intervals = f"{r['median_interval']:.1f} / {r['p99_interval']:.1f} / {r['max_interval']:.1f}"
    shown = f"{r['before']} -> {r['after']} (sent {r['sent']}, refused {r['refused']})"
    rows = [
        (
            f"2. {rate:g} msg/s for {seconds:g} s: longest frame (LoAF)",
            f"{r['loaf_max']:.0f} ms",
            "<= 50 ms",
            verdict(smooth),
        ),
        (
            "   frames > 50 ms (LoAF / rAF intervals)",
            f"{r['loaf_count']} / {r['intervals_over_50']}",
            "0",
            "",
        ),
        ("   rAF interval median / p99 / max", f"{intervals} ms ({r['frames']} frames)", "", ""),
        ("   messages held (before -> after)", shown, "all", verdict(r["arrived"])),
    ]
    if r["loaf_count"]:
        rows.append(
            (
                "   long frames",
                r["loaf_split"],
                "",
                "",
            )
        )
    if r["lag"] > 0.1:
        print(f"  note: the generator lagged its schedule by up to {r['lag']:.2f} s")
    if r["loaf_sources"]:
        print("long frames' scripts (LoAF attribution, ms):")
        for name, ms in r["loaf_sources"]:
            print(f"  {ms:8.1f}  {name}")
    for f in r["loaf_top"]:
        render = f["start"] + f["duration"] - f["renderStart"] if f["renderStart"] else 0
        script = sum(s["duration"] for s in f["scripts"])
        print(
            f"  long frame at {f['start'] / 1000:.2f} s: {f['duration']:.0f} ms (blocking "
            f"{f['blocking']:.0f}, scripts {script:.0f}, render {render:.0f})"
        )
    if r["errors"]:
        print(f"  page errors: {r['errors'][:3]}")
    if r["profile"]:
        print_profile("profile, message burst", r["profile"])
    if r["trace"]:
        print_trace(r["trace"], r.get("trace_path") or "")
    return rows, not (smooth and r["arrived"])


def report_memory(r: dict[str, Any], acked: int) -> tuple[list[Row], bool]:
    complete = r["ok"] and r["rows"] == acked
    rows = [
        (
            f"3. scroll back through {acked} messages",
            f"{r['ms'] / 1000:.1f} s, {r['rounds']} rounds, {r['stalls']} stalls",
            "",
            verdict(complete),
        ),
        ("   rows shown (li.message)", str(r["rows"]), str(acked), ""),
        (
            "   pages where the view stayed at the top",
            f"{r['jumps']} of {r['rounds']} ({r['nudges']} nudges)",
            "",
            "",
        ),
        (
            "   JS heap after GC (open -> start of history)",
            f"{r['heap_before'] / 1e6:.1f} -> {r['heap'] / 1e6:.1f} MB",
            "",
            "",
        ),
        (
            "   DOM elements (open -> start of history)",
            f"{r['nodes_before']} -> {r['nodes']}",
            "",
            "",
        ),
        ("   long frames during the scroll-back", r["loaf_split"], "", ""),
    ]
    if r["errors"]:
        print(f"  page errors: {r['errors'][:3]}")
    if r["profile"]:
        print_profile("profile, scroll-back", r["profile"])
    return rows, not complete


def print_table(rows: list[Row]) -> None:
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nmachine: {machine()}; load average {load}")
    print(f"{'':{width}}  {'result':{value_width}}  {'target':9}")
    for name, value, target, mark in rows:
        print(f"{name:{width}}  {value:{value_width}}  {target:9}  {mark}")


async def run_parts(
    http: httpx.AsyncClient, browser: Any, setup: Setup, args: argparse.Namespace
) -> tuple[list[Row], bool]:
    parts = {int(p) for p in args.only.split(",")} if args.only else {1, 2, 3}
    rows: list[Row] = []
    failed = False
    if parts & {1, 2}:
        acked, took = await seed(setup.sessions, setup.general, args.messages, "seed")
        print(f"seeded {acked} messages into general in {took:.1f} s")
        newest = await newest_text(http, setup, setup.general)
        if 1 in parts:
            r = await first_load(browser, setup, newest, args.runs, args.profile)
            more, bad = report_first_load(r)
            rows += more
            failed |= bad
        if 2 in parts:
            r = await responsiveness(
                browser, setup, newest, args.rate, args.seconds, args.profile, args.trace
            )
            r["trace_path"] = args.trace
            more, bad = report_responsiveness(r, args.rate, args.seconds)
            rows += more
            failed |= bad
    if 3 in parts:
        acked, took = await seed(setup.sessions, setup.history, args.history, "hist")
        print(f"seeded {acked} messages into history in {took:.1f} s")
        newest = await newest_text(http, setup, setup.history)
        r = await memory(browser, setup, newest, acked, args.profile)
        more, bad = report_memory(r, acked)
        rows += more
        failed |= bad
    return rows, failed


async def bench(url: str, args: argparse.Namespace) -> int:

    most = args.senders * SESSIONS_PER_USER
    sessions = max(math.ceil(args.rate / PER_SESSION_RATE), min(most, args.seed_sessions))
    if sessions > most:
        raise SystemExit(f"--rate {args.rate:g} needs {sessions} sessions: raise --senders")
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        setup = await set_up(http, url, args.senders, sessions)
        print(f"set up: {args.senders} senders, {len(setup.sessions)} WebSocket sessions")
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                try:
                    rows, failed = await run_parts(http, browser, setup, args)
                finally:
                    await browser.close()
        finally:
            for session in setup.sessions:
                session.close()
    print_table(rows)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--messages", type=int, default=1000, help="history of the first-load channel"
    )
    parser.add_argument(
        "--history", type=int, default=10000, help="history scrolled back in part 3"
    )
    parser.add_argument("--rate", type=float, default=100, help="messages/s in part 2")
    parser.add_argument("--seconds", type=float, default=10, help="duration of part 2")
    parser.add_argument("--runs", type=int, default=5, help="fresh-context loads in part 1")
    parser.add_argument(
        "--senders", type=int, default=6, help="users sending (8 sessions each at most)"
    )
    parser.add_argument(
        "--seed-sessions", type=int, default=40, help="sessions used to seed history"
    )
    parser.add_argument(
        "--server-cpu", default="0", help="CPU list for the server (none: unpinned)"
    )
    parser.add_argument("--only", default="", help="parts to run, e.g. 1,3")
    parser.add_argument("--profile", action="store_true", help="CPU profiles of the renderer")
    parser.add_argument("--trace", default=None, help="Chrome trace of part 2, written here")
    args = parser.parse_args()
    run_browser_bench(lambda url: bench(url, args), args.server_cpu)


if __name__ == "__main__":
    main()
