"""Interop check: the ORIGINAL Chatalot web client, rebuilt around our end-to-end crypto core
(crypto_module.js, an adapter over src/chatalot/web/js/crypto), exchanging encrypted DMs and
channel messages through OUR Python server.

  default   both people use the rebuilt original client (one server process);
  --ours    A uses the rebuilt original client (server process 1, serving that build), B uses our
            own web client (server process 2, built-in client); both processes share one
            PostgreSQL database and one Redis database, so live events cross processes.

Setup steps that are not about crypto (community, group, invite, DM channel) go over REST with
the tokens the clients got at registration; everything about messages goes through the UIs.
At the end the messages table is read back and checked for plaintext.

usage: /work/main/.venv/bin/python interop.py [--ours] [--build DIR] [--keep]
  --build DIR   the rebuilt original client (default /tmp/interop/build/web/build)
  --headed      show the browsers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import async_playwright, expect

MAIN = Path(os.environ.get("CHATALOT_MAIN", "/work/main"))
PYTHON = MAIN / ".venv" / "bin" / "python"
CHROMIUM = os.environ.get("CHATALOT_CHROMIUM", "/usr/bin/chromium")
PG_ADMIN = os.environ.get("INTEROP_PG", "postgres://postgres@127.0.0.1:5432")
REDIS_BASE = os.environ.get("INTEROP_REDIS", "redis://127.0.0.1:6379")
REDIS_DB = int(os.environ.get("INTEROP_REDIS_DB", "11"))
PASSWORD = "Interop-Pass-42!"
UI_TIMEOUT = 20_000

# the original client's composer and our client's composer
ORIGINAL_COMPOSER = "textarea[data-message-input]"
OURS_COMPOSER = "#composer-input"


def log(*parts: Any) -> None:
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- server processes --------------------------------------------------------------------


class ServerProc:
    def __init__(self, name: str, workdir: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"server-{name}.log"
        base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
        self.env = {
            **base,
            "LISTEN_ADDR": f"127.0.0.1:{self.port}",
            "CHATALOT_ENV": "dev",
            "CHATALOT_RATE_LIMITS": "off",
            "CHATALOT_MIGRATIONS_DIR": str(MAIN / "migrations"),
            "CHATALOT_DATA_DIR": str(workdir / "data"),
            "FILE_STORAGE_PATH": str(workdir / "data" / "files"),
            "JWT_PRIVATE_KEY_PATH": str(workdir.parent / "secrets" / "jwt_private.pem"),
            "JWT_PUBLIC_KEY_PATH": str(workdir.parent / "secrets" / "jwt_public.pem"),
            "TOTP_ENCRYPTION_KEY": "interop-totp-key-0123456789",
            "REGISTRATION_MODE": "open",
            "COMMUNITY_CREATION_MODE": "open",
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [str(PYTHON), "-m", "chatalot", "serve"],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server {self.name} exited:\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                r = httpx.get(f"{self.url}/api/health", timeout=2)
                if r.status_code == 200:
                    log(f"server {self.name} up at {self.url} (pid {self.proc.pid})")
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server {self.name} not healthy:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def create_database() -> str:
    name = f"interop_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(f"{PG_ADMIN}/postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(f"{PG_ADMIN}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def flush_redis(db: int) -> None:
    subprocess.run(["redis-cli", "-n", str(db), "FLUSHDB"], check=True, capture_output=True)


# --- browser helpers ---------------------------------------------------------------------


class Watch:
    """Console errors/warnings and failed API calls of one page."""

    def __init__(self, page: Any, label: str) -> None:
        self.label = label
        self.lines: list[str] = []
        self.frames_out: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.lines.append(f"pageerror: {e}"))
        page.on("response", self._response)
        page.on("request", self._request)
        page.on("websocket", self._ws)

    def _console(self, msg: Any) -> None:
        if msg.type in ("error", "warning"):
            self.lines.append(f"console.{msg.type}: {msg.text[:400]}")

    def _request(self, req: Any) -> None:
        if req.method == "POST" and req.url.endswith("/sender-keys"):
            body = req.post_data or ""
            log(f"[{self.label}] sender key upload body ({len(body)} bytes): {body[:150]}...")

    def _response(self, resp: Any) -> None:
        if "/api/" in resp.url and resp.status >= 400:
            self.lines.append(f"HTTP {resp.status} {resp.request.method} {resp.url}")

    def _ws(self, ws: Any) -> None:
        ws.on("framesent", lambda payload: self.frames_out.append(str(payload)))

    # expected on this test server: push is not configured (404, as the original server answers
    # then) and GIPHY is not configured (our client probes /api/gifs/search once: 400)
    EXPECTED = ("/api/push/vapid-key", "/api/gifs/search", "Failed to load resource")

    def report(self) -> int:
        interesting = [x for x in self.lines if not any(e in x for e in self.EXPECTED)]
        expected = len(self.lines) - len(interesting)
        crypto = [x for x in interesting if re.search(r"E2E|decrypt|encrypt|crypto", x, re.I)]
        log(
            f"[{self.label}] {len(interesting)} unexpected console/HTTP problems "
            f"({len(crypto)} about crypto; {expected} expected lines: push/GIF not configured)"
        )
        for line in interesting[:25]:
            print("    ", line)
        return len(crypto)


async def new_page(browser: Any, label: str) -> tuple[Any, Watch]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    return page, Watch(page, label)


async def register_original(page: Any, base: str, username: str) -> dict[str, Any]:
    """Registration through the original client's form (its keys come from the adapter)."""
    await page.goto(f"{base}/register")
    await page.locator("#username").fill(username)
    await page.locator("#display-name").fill(username.capitalize())
    await page.locator("#email").fill(f"{username}@example.com")
    await page.locator("#password").fill(PASSWORD)
    await page.locator("#confirm-password").fill(PASSWORD)
    await page.locator("form button[type=submit]").click()
    saved = page.get_by_role("button", name="I've Saved My Code")
    await expect(saved).to_be_visible(timeout=UI_TIMEOUT)
    await saved.click()
    await expect(page).to_have_url(re.compile(r"/channels"), timeout=UI_TIMEOUT)
    token = await page.evaluate("() => localStorage.getItem('chatalot_access_token')")
    user = json.loads(await page.evaluate("() => localStorage.getItem('chatalot_user')") or "{}")
    assert token, "the original client stored no token"
    return {"token": token, "id": user.get("id"), "username": username, "user": user}


async def register_ours(page: Any, base: str, username: str) -> dict[str, Any]:
    """Registration through our web client's form."""
    await page.goto(f"{base}/register")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Display name").fill(username.capitalize())
    await page.get_by_label("Email").fill(f"{username}@example.com")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_test_id("recovery-code")).to_be_visible(timeout=UI_TIMEOUT)
    await page.get_by_label("I have saved my recovery code").check()
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile(r"/channels/@me$"), timeout=UI_TIMEOUT)
    token = await page.evaluate("() => localStorage.getItem('chatalot.access_token')")
    user = json.loads(await page.evaluate("() => localStorage.getItem('chatalot.user')") or "{}")
    assert token, "our client stored no token"
    return {"token": token, "id": user.get("id"), "username": username, "user": user}


async def open_original(page: Any, base: str, channel_id: str) -> None:
    """Show a channel in the original client: it restores the last active channel on load."""
    await page.evaluate("(id) => localStorage.setItem('chatalot:activeChannel', id)", channel_id)
    await page.goto(f"{base}/channels")
    await expect(page.locator(ORIGINAL_COMPOSER)).to_be_visible(timeout=UI_TIMEOUT)
    await expect(page.locator(ORIGINAL_COMPOSER)).to_be_enabled(timeout=UI_TIMEOUT)
    await page.wait_for_timeout(1500)  # WebSocket authenticated + subscribed


async def open_ours(page: Any, base: str, path: str) -> None:
    await page.goto(base + path)
    await expect(page.locator(OURS_COMPOSER)).to_be_enabled(timeout=UI_TIMEOUT)
    await expect(page.locator("html")).to_have_attribute(
        "data-connection", "open", timeout=UI_TIMEOUT
    )


class Side:
    """One person: a page, which client it runs, and how to send / look for a text."""

    def __init__(self, name: str, page: Any, watch: Watch, kind: str, base: str) -> None:
        self.name, self.page, self.watch, self.kind, self.base = name, page, watch, kind, base

    async def send(self, text: str) -> None:
        box = self.page.locator(ORIGINAL_COMPOSER if self.kind == "original" else OURS_COMPOSER)
        await box.fill(text)
        await box.press("Enter")
        await expect(box).to_have_value("", timeout=UI_TIMEOUT)

    def message(self, text: str) -> Any:
        if self.kind == "ours":
            return self.page.locator("ol.messages li.message", has_text=text)
        return self.page.get_by_text(text, exact=False)

    async def sees(self, text: str, timeout: int = UI_TIMEOUT) -> None:
        await expect(self.message(text).first).to_be_visible(timeout=timeout)


# --- REST setup --------------------------------------------------------------------------


async def ok(resp: httpx.Response) -> Any:
    if resp.status_code not in (200, 201, 204):
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
        )
    return resp.json() if resp.content else None


async def setup_space(base: str, a: dict[str, Any], b: dict[str, Any]) -> dict[str, str]:
    ha = {"Authorization": f"Bearer {a['token']}"}
    hb = {"Authorization": f"Bearer {b['token']}"}
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        if not a.get("id"):
            a["id"] = (await ok(await http.get("/api/users/me", headers=ha)))["id"]
        if not b.get("id"):
            b["id"] = (await ok(await http.get("/api/users/me", headers=hb)))["id"]
        config = await ok(await http.get("/api/auth/config"))
        community = await ok(
            await http.post("/api/communities", json={"name": "Interop"}, headers=ha)
        )
        group = await ok(
            await http.post(
                "/api/groups",
                json={"community_id": community["id"], "name": "General", "visibility": "public"},
                headers=ha,
            )
        )
        channels = await ok(await http.get(f"/api/groups/{group['id']}/channels", headers=ha))
        text = [c for c in channels if c["channel_type"] == "text"]
        if not text:
            text = [
                await ok(
                    await http.post(
                        f"/api/groups/{group['id']}/channels",
                        json={"name": "general", "channel_type": "text"},
                        headers=ha,
                    )
                )
            ]
        invite = await ok(
            await http.post(
                f"/api/communities/{community['id']}/invites",
                json={"max_uses": None, "expires_in_hours": 24},
                headers=ha,
            )
        )
        await ok(await http.post(f"/api/community-invites/{invite['code']}/accept", headers=hb))
        await http.post(f"/api/groups/{group['id']}/join", headers=hb)
        dm = await ok(await http.post("/api/dms", json={"target_user_id": b["id"]}, headers=ha))
    return {
        "community": str(community["id"]),
        "group": str(group["id"]),
        "channel": str(text[0]["id"]),
        "dm": str(dm["channel"]["id"]),
        "e2e_enabled": str(config.get("e2e_enabled")),
    }


# --- the database check --------------------------------------------------------------------


async def check_database(db: str, space: dict[str, str], sent: list[tuple[str, str, str]]) -> bool:
    conn = await asyncpg.connect(f"{PG_ADMIN}/{db}")
    try:
        rows = await conn.fetch(
            "SELECT id, channel_id, sender_id, ciphertext, nonce, plaintext, search_text,"
            " search_tsv::text AS tsv FROM messages ORDER BY created_at"
        )
    finally:
        await conn.close()
    good = True
    log(f"messages table: {len(rows)} rows")
    leaks = []
    for text in (t for _, _, t in sent):
        needle = text.encode()
        for row in rows:
            for column in ("ciphertext", "nonce"):
                if needle in bytes(row[column]):
                    leaks.append((text, column, str(row["id"])))
            for column in ("plaintext", "search_text", "tsv"):
                value = (row[column] or "").lower()
                if text.lower() in value or "secret" in value:
                    leaks.append((text, column, str(row["id"])))
    if leaks:
        good = False
        log("PLAINTEXT FOUND:", leaks)
    else:
        log(
            f"no plaintext of the {len(sent)} sent texts in the ciphertext, nonce, plaintext"
            " and search columns"
        )

    shapes: dict[str, list[str]] = {}
    by_channel = {"dm": space["dm"], "channel": space["channel"]}
    for kind, channel_id in by_channel.items():
        mine = [r for r in rows if str(r["channel_id"]) == channel_id]
        log(f"{kind}: {len(mine)} stored messages")
        for i, row in enumerate(mine):
            raw = bytes(row["ciphertext"])
            try:
                wire = json.loads(raw.decode())
            except Exception:
                good = False
                log(f"  {kind} #{i}: NOT JSON: {raw[:60]!r}")
                continue
            keys = list(wire)
            shape = ",".join(keys)
            if kind == "dm":
                shape += " header=" + ",".join(wire.get("header", {}))
                if "x3dh" in wire:
                    shape += " x3dh=" + ",".join(wire["x3dh"])
                expected = (
                    ["v", "x3dh", "header", "ciphertext", "nonce"]
                    if "x3dh" in wire
                    else ["v", "header", "ciphertext", "nonce"]
                )
                inner_ct, inner_nonce = wire.get("ciphertext"), wire.get("nonce")
                if keys != expected or list(wire.get("header", {})) != [
                    "ratchet_key",
                    "previous_chain_length",
                    "message_number",
                ]:
                    good = False
                    log(f"  dm #{i}: unexpected key order {shape}")
                # the row's nonce column must be the wire's nonce (the original sends it twice)
                if list(bytes(row["nonce"])) != inner_nonce:
                    log(f"  dm #{i}: nonce column differs from the wire nonce")
                # the exact text the original client would produce from the same object
                if json.dumps(wire, separators=(",", ":")) != raw.decode():
                    good = False
                    log(f"  dm #{i}: not in compact JSON.stringify form")
            else:
                msg = wire.get("message", {})
                shape += " message=" + ",".join(msg)
                inner_ct, inner_nonce = msg.get("ciphertext"), msg.get("nonce")
                if keys != ["v", "sk", "message"] or list(msg) != [
                    "chain_id",
                    "iteration",
                    "ciphertext",
                    "nonce",
                ]:
                    good = False
                    log(f"  channel #{i}: unexpected key order {shape}")
            if not isinstance(inner_ct, list) or len(inner_nonce or []) != 12:
                good = False
                log(f"  {kind} #{i}: bad inner ciphertext/nonce")
            else:
                # ChaCha20-Poly1305: ciphertext = plaintext length + 16-byte tag
                lengths = {len(t.encode()) + 16 for s, ch, t in sent if ch == kind}
                if len(inner_ct) not in lengths:
                    log(f"  {kind} #{i}: inner ciphertext length {len(inner_ct)} is no text + 16")
            shapes.setdefault(kind, []).append(shape)
            if i == 0:
                log(f"  {kind} first stored message ({len(raw)} bytes): {raw[:300].decode()}...")
    dm_rows = [r for r in rows if str(r["channel_id"]) == space["dm"]]
    steps = []
    for r in dm_rows:
        h = json.loads(bytes(r["ciphertext"]))["header"]
        steps.append(
            (
                str(r["sender_id"])[-4:],
                bytes(h["ratchet_key"]).hex()[:8],
                h["previous_chain_length"],
                h["message_number"],
            )
        )
    log(f"DM headers (sender, ratchet key, previous_chain_length, message_number): {steps}")
    distinct = len({k for _, k, _, _ in steps})
    log(f"  {distinct} distinct ratchet keys over {len(steps)} DMs (a new one per turn of talk)")
    good = await independent_group_check(db, space, rows, sent) and good
    for kind, seen in shapes.items():
        for shape in sorted(set(seen)):
            log(f"  {kind} shape x{seen.count(shape)}: {{{shape}}}")
    return good


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


async def independent_group_check(
    db: str, space: dict[str, str], rows: list[Any], sent: list[tuple[str, str, str]]
) -> bool:
    """Decrypt the stored channel messages in Python (cryptography package, written from
    docs/spec, sharing no code with the browser side) from the sender key distributions the
    clients uploaded: proves the stored bytes are real protocol ciphertext of the sent texts."""
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    conn = await asyncpg.connect(f"{PG_ADMIN}/{db}")
    try:
        dists = await conn.fetch(
            "SELECT user_id, distribution FROM sender_key_distributions WHERE channel_id = $1",
            __import__("uuid").UUID(space["channel"]),
        )
    finally:
        await conn.close()
    info = b"chatalot-sender-key-chain"
    chains: dict[int, tuple[int, bytes]] = {}
    for d in dists:
        dist = (
            json.loads(d["distribution"])
            if isinstance(d["distribution"], str)
            else d["distribution"]
        )
        chains[dist["chain_id"]] = (dist["iteration"], bytes(dist["chain_key"]))
    expected = {t for _, kind, t in sent if kind == "channel"}
    decrypted = []
    for row in rows:
        if str(row["channel_id"]) != space["channel"]:
            continue
        msg = json.loads(bytes(row["ciphertext"]))["message"]
        start, key = chains[msg["chain_id"]]
        for _ in range(start, msg["iteration"]):
            key = _hkdf(bytes([2]), key, info)
        message_key = _hkdf(bytes([1]), key, info)
        aad = msg["chain_id"].to_bytes(4, "big") + msg["iteration"].to_bytes(4, "big")
        plain = ChaCha20Poly1305(message_key).decrypt(
            bytes(msg["nonce"]), bytes(msg["ciphertext"]), aad
        )
        decrypted.append(plain.decode())
    ok_all = set(decrypted) == expected and len(decrypted) == len(expected)
    log(
        f"independent Python decryption of the {len(decrypted)} stored channel messages "
        "from the uploaded distributions: "
        + ("all match the sent texts" if ok_all else "MISMATCH " + repr(decrypted))
    )
    return ok_all


async def dump_original_state(side: Side) -> None:
    """What the original client keeps in IndexedDB: the adapter's state formats."""
    summary = await side.page.evaluate(
        """async () => {
            const db = await new Promise((ok, no) => { const r = indexedDB.open('chatalot-crypto');
                r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
            const out = {};
            for (const store of ['sessions', 'senderKeyStates', 'receiverKeyStates']) {
                const values = await new Promise((ok) => {
                    const r = db.transaction(store).objectStore(store).getAll();
                    r.onsuccess = () => ok(r.result); r.onerror = () => ok([]); });
                out[store] = values.map(
                    (v) => typeof v === 'string' ? Object.keys(JSON.parse(v)).join(',') : typeof v);
            }
            db.close();
            return out;
        }"""
    )
    log(f"[{side.name}] original client's stored crypto state (keys of each JSON): {summary}")


# --- the scenario --------------------------------------------------------------------------


async def exchange(
    a: Side,
    b: Side,
    kind: str,
    texts: list[tuple[str, str]],
    sent: list[tuple[str, str, str]],
    results: dict[str, int],
) -> None:
    """texts: (who, text) in order; each must show on the other side before the next goes."""
    sides = {"A": (a, b), "B": (b, a)}
    for who, text in texts:
        sender, receiver = sides[who]
        log(f"{kind}: {sender.name} -> {receiver.name}: {text!r}")
        await sender.send(text)
        sent.append((who, kind, text))
        await receiver.sees(text)
        key = f"{kind} {sender.name}->{receiver.name}"
        results[key] = results.get(key, 0) + 1
        log(f"   {receiver.name} shows it")


async def run(args: argparse.Namespace) -> int:
    build = Path(args.build)
    assert (build / "index.html").exists(), f"no client build at {build}"
    root = Path(tempfile.mkdtemp(prefix="interop-", dir="/tmp/interop"))
    (root / "secrets").mkdir()
    db = await create_database()
    log(f"database {db}, work folder {root}")
    common = {"DATABASE_URL": f"{PG_ADMIN}/{db}"}
    if args.ours:
        flush_redis(REDIS_DB)
        common["REDIS_URL"] = f"{REDIS_BASE}/{REDIS_DB}"
    servers = [ServerProc("original", root / "s1", {**common, "STATIC_FILES_PATH": str(build)})]
    if args.ours:
        # no STATIC_FILES_PATH: ./static in its working folder has no index.html -> our client
        servers.append(ServerProc("ours", root / "s2", common))
    results: dict[str, int] = {}
    sent: list[tuple[str, str, str]] = []
    watches: list[Watch] = []
    stage = "start servers"
    code = 1
    try:
        for s in servers:
            s.start()
        base_a = servers[0].url
        base_b = servers[-1].url
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=not args.headed)
            page_a, watch_a = await new_page(browser, "A original")
            page_b, watch_b = await new_page(browser, "B ours" if args.ours else "B original")
            watches += [watch_a, watch_b]
            tag = secrets.token_hex(2)
            stage = "register A (original UI)"
            a_user = await register_original(page_a, base_a, f"alice{tag}")
            stage = "register B (%s UI)" % ("our" if args.ours else "original")
            if args.ours:
                b_user = await register_ours(page_b, base_b, f"bob{tag}")
            else:
                b_user = await register_original(page_b, base_b, f"bob{tag}")
            log(
                f"registered {a_user['username']} ({a_user['id']})"
                f" and {b_user['username']} ({b_user['id']})"
            )
            stage = "REST setup (community, invite, DM channel)"
            space = await setup_space(base_a, a_user, b_user)
            log("space:", space)
            a = Side("A", page_a, watch_a, "original", base_a)
            b = Side("B", page_b, watch_b, "ours" if args.ours else "original", base_b)

            async def show(side: Side, which: str) -> None:
                if side.kind == "original":
                    await open_original(side.page, side.base, space[which])
                elif which == "dm":
                    await open_ours(side.page, side.base, f"/channels/@me/{space['dm']}")
                else:
                    await open_ours(
                        side.page, side.base, f"/channels/{space['community']}/{space['channel']}"
                    )

            stage = "open the DM on both sides"
            await show(a, "dm")
            await show(b, "dm")
            stage = "DM exchange"
            dm_texts = [
                ("A", f"dm secret one from A {tag}"),
                ("A", f"dm secret two from A {tag}"),
                ("B", f"dm secret answer from B {tag}"),
                ("A", f"dm secret after ratchet step from A {tag}"),
                ("B", f"dm secret second answer from B {tag}"),
                ("B", f"dm secret third answer from B {tag}"),
                ("A", f"dm secret last from A {tag}"),
            ]
            await exchange(a, b, "dm", dm_texts, sent, results)

            stage = "open the channel on both sides"
            await show(a, "channel")
            await show(b, "channel")
            stage = "channel exchange"
            ch_texts = [
                ("A", f"channel secret one from A {tag}"),
                ("B", f"channel secret answer from B {tag}"),
                ("A", f"channel secret two from A {tag}"),
                ("B", f"channel secret second answer from B {tag}"),
            ]
            await exchange(a, b, "channel", ch_texts, sent, results)

            stage = "reload and read the DM history again"
            await show(b, "dm")
            await b.sees(dm_texts[0][1])
            await b.sees(dm_texts[-1][1])
            await show(a, "dm")
            await a.sees(dm_texts[2][1])
            log("after a reload both sides still show the DM history")
            for side in (a, b):
                if side.kind == "original":
                    await dump_original_state(side)
            await browser.close()
        stage = "database check"
        ok_db = await check_database(db, space, sent)
        code = 0 if ok_db else 1
        stage = "done"
    except Exception as error:
        log(f"STOPPED at stage: {stage}: {type(error).__name__}: {str(error)[:1500]}")
        traceback.print_exc(limit=3)
        try:
            if sent and "space" in locals():
                await check_database(db, space, sent)
        except Exception as db_error:
            log("database check failed too:", db_error)
    finally:
        crypto_problems = sum(w.report() for w in watches)
        if crypto_problems and code == 0:
            code = 1
            stage = "console reported crypto problems"
        for s in servers:
            s.stop()
        if not args.keep:
            await drop_database(db)
        else:
            log(f"kept database {db} and {root}")
    print()
    print("=" * 72)
    print(
        "mode: "
        + (
            "original (A) <-> ours (B), two server processes + Redis"
            if args.ours
            else "original <-> original, one server"
        )
    )
    for key, n in results.items():
        print(f"  {key}: {n} message(s) shown decrypted on the receiving side")
    print(f"  result: {'PASS' if code == 0 else 'FAIL at ' + stage}")
    print("=" * 72)
    return code


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ours", action="store_true")
    parser.add_argument("--build", default="/tmp/interop/build/web/build")
    parser.add_argument("--keep", action="store_true", help="keep the database and work folder")
    parser.add_argument("--headed", action="store_true")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
