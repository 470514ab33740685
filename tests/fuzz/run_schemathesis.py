"""Fuzz a real server against its own OpenAPI document with schemathesis (``scripts/fuzz``).

Starts ``chatalot serve`` on a free port with an embedded PostgreSQL in a temporary folder
(rate limits off, open registration), registers the instance owner and a normal user, and runs
``schemathesis run`` twice: as the normal user (every operation) and as the owner (the
operations that need a token; the public ones do not depend on who calls). Any finding, server
error, schema violation or valid request rejected, makes it exit non-zero.

Settings live in tests/fuzz/schemathesis.toml, data the schema cannot express in
tests/fuzz/hooks.py. Options: ``--max-examples N`` (per operation and phase), ``--seed N``,
``--keep`` (keep the temporary folder and print where it is). Environment: FUZZ_MAX_EXAMPLES,
FUZZ_SEED.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.auth import register_body
from tests.support.process import ServerProcess, base_env, start_server

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
OPENAPI_PATH = "/api/openapi/openapi.json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
)
RUN_TIMEOUT_SECS = 900  # per identity: a hung run must not hang CI (a full run: 3-6 min)
DEFAULT_MAX_EXAMPLES = 6
DEFAULT_SEED = 20261130
WORKERS = 2  # requests wait on the server (Argon2, database) more than on generation


def say(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _password() -> str:
    """Strong, and unknown to the fuzzer: it can never change the password or delete the
    account it is signed in as (both need the current password)."""
    return f"Fz-{secrets.token_urlsafe(12)}9a"


def register(base_url: str, username: str) -> dict[str, Any]:
    password = _password()
    body = register_body(username, password=password)
    response = httpx.post(f"{base_url}/api/auth/register", json=body, timeout=30)
    response.raise_for_status()
    return {"username": username, "password": password, "user": response.json()["user"]}


def public_operation_ids(document: dict[str, Any]) -> list[str]:
    """Operations that need no token (fuzzed once, in the normal user's run)."""
    ids = []
    for item in document["paths"].values():
        for method, operation in item.items():
            if method in ("get", "put", "post", "patch", "delete") and not operation.get(
                "security"
            ):
                ids.append(operation["operationId"])
    return sorted(ids)


def run_schemathesis(
    base_url: str,
    identity: dict[str, Any],
    *,
    label: str,
    exclude_ids: list[str],
    max_examples: int,
    seed: int,
    report_dir: Path,
) -> int:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "FUZZ_BASE_URL": base_url,
        "FUZZ_USERNAME": identity["username"],
        "FUZZ_PASSWORD": identity["password"],
    }
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{base_url}{OPENAPI_PATH}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        str(WORKERS),
        "--report",
        "junit",
        "--report-junit-path",
        str(report_dir / f"{label}.xml"),
    ]
    for operation_id in exclude_ids:
        command += ["--exclude-operation-id", operation_id]
    say(f"== schemathesis as {label} ({identity['username']})")
    started = time.monotonic()
    try:
        result = subprocess.run(
            command, cwd=report_dir, env=env, timeout=RUN_TIMEOUT_SECS, check=False
        )
    except subprocess.TimeoutExpired:
        say(f"schemathesis as {label}: no result after {RUN_TIMEOUT_SECS}s", err=True)
        return 1
    say(f"== {label}: exit {result.returncode} in {time.monotonic() - started:.0f}s")
    return result.returncode


def start(workdir: Path) -> ServerProcess:
    env = base_env(
        CHATALOT_ENV="dev",
        CHATALOT_RATE_LIMITS="off",
        REGISTRATION_MODE="open",
        CHATALOT_DATA_DIR=str(workdir / "data"),
        FILE_STORAGE_PATH=str(workdir / "data" / "files"),
        CHATALOT_LOG_LEVEL="warning",
    )
    server = start_server(workdir, env)
    server.wait_healthy(timeout=120)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=int(os.environ.get("FUZZ_MAX_EXAMPLES", DEFAULT_MAX_EXAMPLES)),
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", DEFAULT_SEED)))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--only", choices=("user", "owner"), help="run as one identity only (debugging)"
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="chatalot-fuzz-"))
    workdir.chmod(0o755)
    server: ServerProcess | None = None
    failed = False
    try:
        server = start(workdir)
        owner = register(server.url, "fuzzowner")
        user = register(server.url, "fuzzuser")
        assert owner["user"]["is_owner"] and not user["user"]["is_owner"]
        document = httpx.get(f"{server.url}{OPENAPI_PATH}", timeout=30).json()
        common = {"max_examples": args.max_examples, "seed": args.seed, "report_dir": workdir}
        if args.only != "owner":
            failed |= (
                run_schemathesis(server.url, user, label="user", exclude_ids=[], **common) != 0
            )
        if args.only != "user":
            failed |= (
                run_schemathesis(
                    server.url,
                    owner,
                    label="owner",
                    exclude_ids=public_operation_ids(document),
                    **common,
                )
                != 0
            )
        if server.proc.poll() is not None:
            say(f"the server died:\n{server.log}", err=True)
            failed = True
    finally:
        if server is not None:
            code = server.stop()
            if code != 0:
                say(f"the server exited with {code}:\n{server.log}", err=True)
                failed = True
        if args.keep or failed:
            say(f"server log and reports kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    say("fuzz: FAILED" if failed else "fuzz: no findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
