"""The optional coturn service of docker-compose.yml (profile ``turn``) and its documentation.

No Docker engine is needed: the service is parsed, its start script is run with /bin/sh and a
stand-in ``turnserver``, and, where coturn itself is installed (Debian: ``apt-get install
coturn``), the real ``turnserver`` is started with the service's options and must accept the
credentials the Chatalot server hands out (services/turn.py) and refuse forged or expired ones.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chatalot.config import TurnSettings
from chatalot.ids import UserId
from chatalot.services.turn import make_credentials, sign
from tests.deploy.test_deployment_files import DEPLOYMENT_DOC, as_list, environment, service
from tests.support.process import free_port

SECRET = "0123456789abcdef0123456789abcdef"
CONTAINER_CONF = "/tmp/turnserver.conf"  # noqa: S108 - the path inside the container (tmpfs)
CONTAINER_PID = "/tmp/turnserver.pid"  # noqa: S108 - same
CONTAINER_TMP = "/tmp"  # noqa: S108 - same


def coturn() -> dict[str, Any]:
    return service("coturn")


def interpolated(text: str) -> str:
    """What compose passes for a literal (no ${...} in it): `$$` is one `$`."""
    assert not re.search(r"(?<!\$)\$\{", text), "the start script must not be interpolated"
    return text.replace("$$", "$")


def options() -> dict[str, list[str]]:
    """coturn's command-line options: name -> every value given (flags map to [""])."""
    result: dict[str, list[str]] = {}
    for arg in coturn()["command"]:
        name, _, value = str(arg).partition("=")
        assert name.startswith("--"), arg
        result.setdefault(name, []).append(value)
    return result


def start_script() -> str:
    entrypoint = coturn()["entrypoint"]
    assert entrypoint[:2] == ["/bin/sh", "-c"]
    return interpolated(entrypoint[2])


def run_start_script(
    tmp_path: Path, env: dict[str, str], args: list[str], turnserver: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """The service's start script, with its config file in ``tmp_path`` and ``turnserver``
    (a path) as the binary it starts."""
    conf = tmp_path / "turnserver.conf"
    script = start_script().replace(CONTAINER_CONF, str(conf))
    script = script.replace("exec turnserver ", f"exec {turnserver} ")
    log = tmp_path / "coturn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", script, "turnserver", *args],
            env={"PATH": os.environ["PATH"], **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    return proc, conf


def relay_range() -> tuple[int, int]:
    opts = options()
    return int(opts["--min-port"][0]), int(opts["--max-port"][0])


# -- the compose service ----------------------------------------------------------------------


def test_coturn_is_optional_behind_the_turn_profile() -> None:
    """coturn/coturn, pinned to a release line, only in the `turn` profile."""
    svc = coturn()
    image, _, tag = svc["image"].partition(":")
    assert image == "coturn/coturn"
    assert re.fullmatch(r"\d+(\.\d+)*", tag), "pin a release line, not latest"
    assert svc["profiles"] == ["turn"]
    assert svc["container_name"] == "chatalot-turn"
    assert svc["restart"] == "unless-stopped"


def test_coturn_uses_host_networking() -> None:
    """Host networking (a relay port per stream; no port publishing, no compose network)."""
    svc = coturn()
    assert svc["network_mode"] == "host"
    assert "ports" not in svc
    assert "networks" not in svc


def test_secret_is_shared_with_the_server() -> None:
    """Both services read TURN_SHARED_SECRET from the same .env variable; the server also gets
    TURN_URIS and TURN_TTL_SECS; coturn checks time-limited credentials (use-auth-secret)."""
    server = environment(service("chatalot"))
    turn = environment(coturn())
    assert turn["TURN_SHARED_SECRET"] == server["TURN_SHARED_SECRET"] == "${TURN_SHARED_SECRET:-}"
    assert server["TURN_URIS"] == "${TURN_URIS:-}"
    assert server["TURN_TTL_SECS"] == "${TURN_TTL_SECS:-86400}"
    assert "--use-auth-secret" in options()
    assert 'echo "static-auth-secret=${TURN_SHARED_SECRET}"' in start_script()


def test_secret_never_on_the_command_line() -> None:
    """The secret reaches coturn through a config file, not argv (readable by every local user
    with host networking's shared process list)."""
    command = " ".join(str(a) for a in coturn()["command"])
    assert "TURN_SHARED_SECRET" not in command
    assert "static-auth-secret" not in command
    script = start_script()
    assert "umask 077" in script
    exec_line = next(line for line in script.splitlines() if line.strip().startswith("exec "))
    assert "SECRET" not in exec_line
    assert exec_line.strip() == f'exec turnserver -c {CONTAINER_CONF} "$@"'


def test_realm_is_configured() -> None:
    """A realm from TURN_REALM (default `chatalot`)."""
    assert environment(coturn())["TURN_REALM"] == "${TURN_REALM:-chatalot}"
    assert 'echo "realm=${TURN_REALM}"' in start_script()


def test_ports_listening_and_relay_range() -> None:
    """STUN/TURN on 3478, relays on a bounded UDP range with room for the quotas; TLS and TCP
    relaying off."""
    opts = options()
    assert opts["--listening-port"] == ["3478"]
    low, high = relay_range()
    assert 49152 <= low < high <= 65535
    user_quota, total_quota = int(opts["--user-quota"][0]), int(opts["--total-quota"][0])
    assert total_quota <= high - low + 1, "one relay port per allocation"
    assert user_quota >= 2 * 24, "a 25-person mesh over UDP and TCP TURN addresses"
    for flag in ("--no-tls", "--no-dtls", "--no-tcp-relay", "--no-cli", "--no-multicast-peers"):
        assert flag in opts, flag
    assert opts["--log-file"] == ["stdout"]
    assert opts["--pidfile"] == [CONTAINER_PID]


@pytest.mark.parametrize(
    "network",
    [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "240.0.0.0/4",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    ],
)
def test_relay_never_reaches_private_ranges(network: str) -> None:
    """Every private, loopback, link-local and reserved range is a denied peer."""
    wanted = ipaddress.ip_network(network)
    denied = []
    for value in options()["--denied-peer-ip"]:
        first, _, last = value.partition("-")
        denied.append((ipaddress.ip_address(first), ipaddress.ip_address(last or first)))
    assert any(
        type(lo) is type(wanted.network_address)
        and lo <= wanted.network_address
        and wanted.broadcast_address <= hi
        for lo, hi in denied
    ), network


def test_coturn_is_hardened() -> None:
    """Read-only root, state in tmpfs, only the capability the image's binary carries,
    no-new-privileges, rotated logs, a memory limit."""
    svc = coturn()
    assert svc["read_only"] is True
    mounts = {str(t).split(":", 1)[0] for t in as_list(svc["tmpfs"])}
    assert {CONTAINER_TMP, "/var/lib/coturn"} <= mounts
    assert svc["cap_drop"] == ["ALL"]
    assert svc["cap_add"] == ["NET_BIND_SERVICE"]
    assert "no-new-privileges:true" in svc["security_opt"]
    assert svc["logging"]["options"] == {"max-size": "10m", "max-file": "3"}
    assert "memory" in svc["deploy"]["resources"]["limits"]


# -- the start script, run --------------------------------------------------------------------


@pytest.fixture
def stand_in(tmp_path: Path) -> Path:
    """A `turnserver` that prints its arguments and the config file it was given."""
    path = tmp_path / "fake-turnserver"
    path.write_text('#!/bin/sh\nprintf "ARG %s\\n" "$@"\ncat "$2"\n')
    path.chmod(0o755)
    return path


def test_start_script_writes_a_private_config(tmp_path: Path, stand_in: Path) -> None:
    """The script writes secret, realm and external address to a mode-600 file and starts
    turnserver with it and exactly the service's options."""
    env = {
        "TURN_SHARED_SECRET": SECRET,
        "TURN_REALM": "turn.example.com",
        "TURN_EXTERNAL_IP": "203.0.113.7/10.0.0.5",
    }
    args = [str(a) for a in coturn()["command"]]
    proc, conf = run_start_script(tmp_path, env, args, str(stand_in))
    assert proc.wait(timeout=10) == 0
    output = (tmp_path / "coturn.log").read_text().splitlines()
    assert output[: 2 + len(args)] == ["ARG -c", f"ARG {conf}", *(f"ARG {a}" for a in args)]
    assert conf.read_text().splitlines() == [
        f"static-auth-secret={SECRET}",
        "realm=turn.example.com",
        "external-ip=203.0.113.7/10.0.0.5",
    ]
    assert conf.stat().st_mode & 0o777 == 0o600


def test_start_script_without_external_ip(tmp_path: Path, stand_in: Path) -> None:
    """No TURN_EXTERNAL_IP: no external-ip line (coturn then uses the host's own addresses)."""
    env = {"TURN_SHARED_SECRET": SECRET, "TURN_REALM": "chatalot", "TURN_EXTERNAL_IP": ""}
    proc, conf = run_start_script(tmp_path, env, [], str(stand_in))
    assert proc.wait(timeout=10) == 0
    assert conf.read_text().splitlines() == [f"static-auth-secret={SECRET}", "realm=chatalot"]


def test_start_script_refuses_an_empty_secret(tmp_path: Path, stand_in: Path) -> None:
    """Started without TURN_SHARED_SECRET, the service stops with a message instead of running
    a relay nobody can use (or, worse, one without the secret)."""
    env = {"TURN_SHARED_SECRET": "", "TURN_REALM": "chatalot", "TURN_EXTERNAL_IP": ""}
    proc, conf = run_start_script(tmp_path, env, [], str(stand_in))
    assert proc.wait(timeout=10) == 1
    assert "TURN_SHARED_SECRET is not set" in (tmp_path / "coturn.log").read_text()
    assert not conf.exists()


# -- the real coturn --------------------------------------------------------------------------


@pytest.fixture
def turnserver(tmp_path: Path) -> Iterator[int]:
    """coturn started by the service's script with the service's options (its own port, pid
    file and user database here); yields the port."""
    binary = shutil.which("turnserver")
    uclient = shutil.which("turnutils_uclient")
    if binary is None or uclient is None:
        pytest.skip("coturn is not installed (Debian: apt-get install coturn)")
    port = free_port()
    args = []
    for arg in coturn()["command"]:
        arg = str(arg)
        if arg.startswith("--listening-port="):
            arg = f"--listening-port={port}"
        elif arg.startswith("--pidfile="):
            arg = f"--pidfile={tmp_path / 'turnserver.pid'}"
        args.append(arg)
    args.append(f"--userdb={tmp_path / 'turndb'}")
    env = {"TURN_SHARED_SECRET": SECRET, "TURN_REALM": "chatalot", "TURN_EXTERNAL_IP": ""}
    proc, _ = run_start_script(tmp_path, env, args, binary)
    log = tmp_path / "coturn.log"
    try:
        deadline = time.monotonic() + 20
        while "auth thread" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def allocate(port: int, username: str, credential: str) -> str:
    """turnutils_uclient allocating a relay on 127.0.0.1:``port``; its output."""
    result = subprocess.run(
        [
            "turnutils_uclient",
            "-v",
            "-n",
            "1",
            "-m",
            "1",
            "-l",
            "100",
            "-e",
            "127.0.0.1",
            "-u",
            username,
            "-w",
            credential,
            "-p",
            str(port),
            "127.0.0.1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stdout + result.stderr


@pytest.mark.slow
def test_coturn_accepts_the_servers_credentials(turnserver: int) -> None:
    """A credential from services/turn.py gets a relay on the configured range; a wrong one, an
    expired one and another user's username with it do not."""
    settings = TurnSettings(shared_secret=SECRET, uris=("turn:127.0.0.1",), ttl_secs=600)
    user = UserId(uuid.UUID("0193a1b2-0000-7000-8000-000000000001"))
    good = make_credentials(settings, user, time.time())
    deadline = time.monotonic() + 15  # coturn's threads may still be starting
    while (
        match := re.search(
            r"Received relay addr: [0-9.]+:(\d+)",
            output := allocate(turnserver, good.username, good.credential),
        )
    ) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert match is not None, output
    low, high = relay_range()
    assert low <= int(match.group(1)) <= high
    # the relay never reaches loopback peers (denied-peer-ip): the client's own test peer
    assert "403 (Forbidden IP)" in output

    refused = [
        (good.username, sign(SECRET + "x", good.username)),
        (good.username.replace(str(user), "0193a1b2-0000-7000-8000-000000000002"), good.credential),
    ]
    expired = f"{int(time.time()) - 60}:{user}"
    refused.append((expired, sign(SECRET, expired)))
    for username, credential in refused:
        output = allocate(turnserver, username, credential)
        assert "Received relay addr" not in output, (username, output)
        assert "Cannot complete Allocation" in output, output


# -- docs -------------------------------------------------------------------------------------


def test_deployment_doc_explains_stun_and_turn() -> None:
    """docs/deployment.md: when TURN is needed, the profile, the firewall ports (as configured),
    the credential scheme, and that no long-lived password is handed out."""
    doc = DEPLOYMENT_DOC.read_text()
    assert "## Voice and video: STUN and TURN" in doc
    low, high = relay_range()
    for text in (
        "docker compose --profile turn up -d",
        "| 3478 | UDP and TCP |",
        f"| {low}-{high} | UDP |",
        "`TURN_SHARED_SECRET`",
        "`TURN_URIS`",
        "`TURN_REALM`",
        "`TURN_EXTERNAL_IP`",
        '`"<unix time of expiry>:<user id>"`',
        "base64(HMAC-SHA1(`TURN_SHARED_SECRET`, username))",
        "**Do not put a TURN username and password into `ICE_SERVERS`**",
        "GET /api/voice/turn-credentials",
        "use-auth-secret",
    ):
        assert text in doc, text
