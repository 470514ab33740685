"""Static checks of the deployment files: Dockerfile, .dockerignore, docker-compose.yml,
.env.example, docs/database.md and docs/deployment.md.

No Docker engine is needed: the files are parsed. Where the user's seed document
(shared/seed/database-setup.md, beside the repository) is present, the database doc and the
compose file are also compared with it line by line; without it those comparisons are skipped
and the hard-coded seed facts below still apply.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "database-setup.md"

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DATABASE_DOC = ROOT / "docs" / "database.md"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
CONFIGURATION_DOC = ROOT / "docs" / "configuration.md"

# The seed's migration table, verbatim (001-039).
SEED_MIGRATION_ROWS = (
    "| `001`-`005` | Users, identity keys, refresh tokens, audit log, prekeys |",
    "| `006`-`010` | Channels, messages, files, DM pairs, voice sessions |",
    "| `011`-`015` | Reactions, unread tracking, channel bans, groups, group invites |",
    "| `016`-`020` | Account deletion, admin role, registration invites, communities, "
    "user preferences |",
    "| `021`-`025` | Pinned messages, sender key distributions, instance owner, permissions, "
    "performance indexes |",
    "| `026`-`030` | Security suite, lockout/quota, blocking/reports, new features, discoverable |",
    "| `031`-`035` | Group discoverable, personal groups, channel archiving, customization, "
    "more indexes |",
    "| `036`-`039` | Community members index, recovery codes, message edits, threads |",
)

# File names of the seed's 39 migrations (numbers and topics as the seed's table).
SEED_MIGRATION_FILES = {
    1: "001_users.sql",
    2: "002_identity_keys.sql",
    3: "003_refresh_tokens.sql",
    4: "004_audit_log.sql",
    5: "005_prekeys.sql",
    6: "006_channels.sql",
    7: "007_messages.sql",
    8: "008_files.sql",
    9: "009_dm_pairs.sql",
    10: "010_voice_sessions.sql",
    11: "011_reactions.sql",
    12: "012_unread_tracking.sql",
    13: "013_channel_bans.sql",
    14: "014_groups.sql",
    15: "015_group_invites.sql",
    16: "016_account_deletion_fks.sql",
    17: "017_admin_role.sql",
    18: "018_registration_invites.sql",
    19: "019_communities.sql",
    20: "020_user_preferences.sql",
    21: "021_pinned_messages.sql",
    22: "022_sender_key_distributions.sql",
    23: "023_instance_owner.sql",
    24: "024_permissions_enhancements.sql",
    25: "025_performance_indexes.sql",
    26: "026_security_suite.sql",
    27: "027_lockout_and_quota.sql",
    28: "028_blocking_and_reports.sql",
    29: "029_new_features.sql",
    30: "030_discoverable.sql",
    31: "031_group_discoverable.sql",
    32: "032_personal_groups.sql",
    33: "033_channel_archiving.sql",
    34: "034_customization.sql",
    35: "035_more_indexes.sql",
    36: "036_community_members_index.sql",
    37: "037_recovery_codes.sql",
    38: "038_message_edits.sql",
    39: "039_threads.sql",
}

POOL_VARIABLES = {
    "CHATALOT_DB_MAX_CONNECTIONS": "50",
    "CHATALOT_DB_MIN_CONNECTIONS": "2",
    "CHATALOT_DB_ACQUIRE_TIMEOUT_SECS": "5",
    "CHATALOT_DB_CONNECT_RETRY_SECS": "30",
}

# Variables the server reads that docker-compose.yml must pass, with the `${X:-default}` default
# compose uses (None: a fixed value, checked elsewhere).
COMPOSE_DEFAULTS = {
    "REGISTRATION_MODE": "invite_only",
    "COMMUNITY_CREATION_MODE": "admin_only",
    "MAX_FILE_SIZE_MB": "100",
    "UPLOAD_QUOTA_MB": "500",
    "CHATALOT_ENV": "production",
    "CHATALOT_LOG_LEVEL": "info",
    "CHATALOT_LOG_FORMAT": "text",
    "CHATALOT_SHUTDOWN_TIMEOUT_SECS": "10",
    "ADMIN_USERNAME": "",
    "PUBLIC_URL": "",
    "ICE_SERVERS": "",
    "VAPID_PRIVATE_KEY": "",
    "VAPID_PUBLIC_KEY": "",
    "CORS_ORIGINS": "",
    "GIPHY_API_KEY": "",
    "GITHUB_API_TOKEN": "",
    "GITHUB_REPO_OWNER": "",
    "GITHUB_REPO_NAME": "",
    "TRUSTED_PROXIES": "",
    "REDIS_URL": "",
    "TURN_SHARED_SECRET": "",
    "TURN_URIS": "",
    "TURN_TTL_SECS": "86400",
    **POOL_VARIABLES,
}

# Paths fixed by the image layout: Dockerfile ENV and compose environment must agree.
IMAGE_LAYOUT = {
    "CHATALOT_MIGRATIONS_DIR": "/app/migrations",
    "STATIC_FILES_PATH": "/app/static",
    "FILE_STORAGE_PATH": "/app/data/files",
    "CHATALOT_DATA_DIR": "/app/data",
    "LISTEN_ADDR": "0.0.0.0:8080",
    "JWT_PRIVATE_KEY_PATH": "/run/secrets/jwt_private_key",
    "JWT_PUBLIC_KEY_PATH": "/run/secrets/jwt_public_key",
}

# COPY sources that may legitimately be absent from the repository (none today: the optional
# static/ directory is handled by a build stage, not by a COPY of a possibly missing path).
OPTIONAL_COPY_SOURCES: frozenset[str] = frozenset()


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    dest: str
    from_stage: str | None


def dockerfile_instructions(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped."""
    instructions: list[Instruction] = []
    buffer = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not buffer):
            continue
        if not line:
            continue
        if line.endswith("\\"):
            buffer += line[:-1].strip() + " "
            continue
        buffer += line
        keyword, _, args = buffer.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        buffer = ""
    assert not buffer, "Dockerfile ends inside a line continuation"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions split per build stage; each list starts with its FROM."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([instruction])
        elif result:
            result[-1].append(instruction)
    return result


def stage_name(stage: list[Instruction]) -> str | None:
    match = re.search(r"\s+AS\s+(\S+)\s*$", stage[0].args, re.IGNORECASE)
    return match.group(1) if match else None


def parse_copy(args: str) -> Copy:
    tokens = shlex.split(args)
    flags = [t for t in tokens if t.startswith("--")]
    rest = [t for t in tokens if not t.startswith("--")]
    if rest and rest[0].startswith("["):
        rest = json.loads(" ".join(rest))
    from_stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
    assert len(rest) >= 2, f"COPY needs a source and a destination: {args!r}"
    return Copy(sources=tuple(rest[:-1]), dest=rest[-1], from_stage=from_stage)


def parse_env(args: str) -> dict[str, str]:
    pairs = {}
    for token in shlex.split(args):
        assert "=" in token, f"use ENV KEY=value (got {token!r})"
        key, _, value = token.partition("=")
        pairs[key] = value
    return pairs


def exec_form(args: str) -> list[str]:
    """The JSON (exec) form of CMD/HEALTHCHECK CMD."""
    value = json.loads(args)
    assert isinstance(value, list)
    return [str(v) for v in value]


def final_stage() -> list[Instruction]:
    return stages(dockerfile_instructions(DOCKERFILE.read_text()))[-1]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in final_stage():
        if instruction.keyword == "ENV":
            env.update(parse_env(instruction.args))
    return env


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    services = compose()["services"]
    assert name in services, f"docker-compose.yml has no service {name!r}"
    svc: dict[str, Any] = services[name]
    return svc


def environment(svc: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping (compose allows a mapping or KEY=value list)."""
    env = svc.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value)
    if isinstance(value, list):
        return value
    return [value]


def env_example_entries() -> tuple[dict[str, str], set[str]]:
    """(active KEY=value lines, keys of commented-out `# KEY=value` examples)."""
    active: dict[str, str] = {}
    commented: set[str] = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line):
            active[match.group(1)] = match.group(2)
        elif match := re.match(r"^#\s*([A-Z][A-Z0-9_]*)=", line):
            commented.add(match.group(1))
    return active, commented


def compose_variables() -> set[str]:
    """Every variable docker-compose.yml interpolates (`${NAME...}`)."""
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))


def docs_text() -> str:
    return "\n".join(d.read_text() for d in (DATABASE_DOC, DEPLOYMENT_DOC, CONFIGURATION_DOC))


def fenced_blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """(language, lines) of every ``` fenced block."""
    blocks: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    language = ""
    for line in markdown.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            if current is None:
                language, current = stripped[3:].strip(), []
            else:
                blocks.append((language, current))
                current = None
            continue
        if current is not None:
            current.append(line.lstrip("> ") if line.startswith(">") else line)
    return blocks


def docker_ignored(patterns: list[str], path: str) -> bool:
    """Docker's .dockerignore rule (last match wins, `!` re-includes, a matched directory
    excludes everything below it), for the simple patterns used here."""

    def regex(pattern: str) -> re.Pattern[str]:
        out = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                out += ".*"
                i += 2
            elif pattern[i] == "*":
                out += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                out += "[^/]"
                i += 1
            else:
                out += re.escape(pattern[i])
                i += 1
        return re.compile(out + "$")

    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw[1:] if negate else raw
        pattern = pattern.strip("/")
        compiled = regex(pattern)
        if any(compiled.match(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def dockerignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def github_slug(heading: str) -> str:
    text = heading.strip().lower()
    text = re.sub(r"[^a-z0-9 _-]", "", text)
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    return {
        github_slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", markdown, re.MULTILINE)
    }


def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"seed document not found at {SEED}")
    return SEED.read_text()


# --------------------------------------------------------------------------------------------
# docker-compose.yml: the postgres service (the seed's block)
# --------------------------------------------------------------------------------------------


def test_compose_postgres_image_name_and_restart_match_seed() -> None:
    """postgres service: image postgres:17, container chatalot-db, restart unless-stopped."""
    pg = service("postgres")
    assert pg["image"] == "postgres:17"
    assert pg["container_name"] == "chatalot-db"
    assert pg["restart"] == "unless-stopped"


def test_compose_postgres_environment_matches_seed() -> None:
    """postgres service: POSTGRES_DB/USER chatalot and POSTGRES_PASSWORD ${DB_PASSWORD}, no more."""
    assert environment(service("postgres")) == {
        "POSTGRES_DB": "chatalot",
        "POSTGRES_USER": "chatalot",
        "POSTGRES_PASSWORD": "${DB_PASSWORD}",
    }


def test_compose_postgres_volume_matches_seed() -> None:
    """postgres service: data in the named volume postgres_data at /var/lib/postgresql/data."""
    assert service("postgres")["volumes"] == ["postgres_data:/var/lib/postgresql/data"]


def test_compose_postgres_healthcheck_matches_seed() -> None:
    """postgres health check: pg_isready -U chatalot every 10s, timeout 5s, 5 retries."""
    check = service("postgres")["healthcheck"]
    assert check["test"] == ["CMD-SHELL", "pg_isready -U chatalot"]
    assert check["interval"] == "10s"
    assert check["timeout"] == "5s"
    assert check["retries"] == 5


def test_compose_postgres_is_isolated_and_hardened() -> None:
    """postgres: only on the server's network, no host port, cap_drop ALL + 5 caps,
    no-new-privileges; the network is not `internal: true`, so the seed's override works."""
    pg = service("postgres")
    assert as_list(pg["networks"]) == ["internal"]
    assert "ports" not in pg
    assert compose()["networks"]["internal"].get("internal", False) is False
    assert pg["cap_drop"] == ["ALL"]
    assert set(pg["cap_add"]) == {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}
    assert "no-new-privileges:true" in pg["security_opt"]
    assert pg["logging"]["options"] == {"max-size": "10m", "max-file": "3"}


def test_docs_postgres_block_equals_compose_service() -> None:
    """The postgres YAML block in docs/database.md is exactly the compose postgres settings."""
    blocks = [
        yaml.safe_load("\n".join(lines))
        for language, lines in fenced_blocks(DATABASE_DOC.read_text())
        if language == "yaml" and lines and lines[0].startswith("postgres:")
    ]
    assert len(blocks) == 1, "docs/database.md must show the postgres service block once"
    documented = blocks[0]["postgres"]
    pg = service("postgres")
    assert set(documented) == {
        "image",
        "container_name",
        "restart",
        "environment",
        "volumes",
        "healthcheck",
    }
    for key, value in documented.items():
        assert pg[key] == value, key


def test_compose_postgres_block_matches_seed_document() -> None:
    """Every setting in the seed's postgres YAML block is what docker-compose.yml has."""
    seed_blocks = [
        yaml.safe_load("\n".join(lines))
        for language, lines in fenced_blocks(seed_text())
        if language == "yaml" and lines and lines[0].startswith("postgres:")
    ]
    assert len(seed_blocks) == 1
    pg = service("postgres")
    for key, value in seed_blocks[0]["postgres"].items():
        assert pg[key] == value, key


# --------------------------------------------------------------------------------------------
# docker-compose.yml: the chatalot service
# --------------------------------------------------------------------------------------------


def test_compose_server_waits_for_healthy_database() -> None:
    """chatalot service starts only when postgres is healthy (depends_on service_healthy)."""
    assert service("chatalot")["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_compose_database_url_targets_postgres_service() -> None:
    """DATABASE_URL = postgres://chatalot:${DB_PASSWORD}@postgres:5432/chatalot."""
    url = environment(service("chatalot"))["DATABASE_URL"]
    parts = urlsplit(url)
    assert parts.scheme == "postgres"
    assert parts.username == "chatalot"
    assert parts.password == "${DB_PASSWORD}"
    assert parts.hostname == "postgres"
    assert parts.port == 5432
    assert parts.path == "/chatalot"


def test_compose_server_identity_build_and_port() -> None:
    """chatalot service: container chatalot-server, built from ., restart, port 8080:8080."""
    server = service("chatalot")
    assert server["container_name"] == "chatalot-server"
    assert server["build"] == "."
    assert server["restart"] == "unless-stopped"
    assert server["ports"] == ["8080:8080"]
    assert sorted(as_list(server["networks"])) == ["external", "internal"]
    assert compose()["networks"]["external"].get("internal", False) is False


def test_compose_server_is_read_only_and_hardened() -> None:
    """chatalot service: read-only rootfs, tmpfs /tmp, cap_drop ALL, no-new-privileges, limits."""
    server = service("chatalot")
    assert server["read_only"] is True
    tmp_dir = "/tmp"  # noqa: S108 - the container's tmpfs mount point, not a temp file
    assert any(str(t).split(":", 1)[0] == tmp_dir for t in as_list(server["tmpfs"]))
    assert server["cap_drop"] == ["ALL"]
    assert "cap_add" not in server
    assert "no-new-privileges:true" in server["security_opt"]
    assert server["logging"]["options"] == {"max-size": "10m", "max-file": "3"}
    assert "memory" in server["deploy"]["resources"]["limits"]


def test_compose_named_volumes_declared_and_mounted() -> None:
    """Named volumes postgres_data and file_storage exist; file_storage is /app/data."""
    assert set(compose()["volumes"]) == {"postgres_data", "file_storage"}
    assert service("chatalot")["volumes"] == ["file_storage:/app/data"]
    assert environment(service("chatalot"))["FILE_STORAGE_PATH"].startswith("/app/data/")


def test_compose_jwt_secrets_declared_and_used() -> None:
    """JWT key files are compose secrets from ./secrets/*.pem, read at /run/secrets/<name>."""
    assert compose()["secrets"] == {
        "jwt_private_key": {"file": "./secrets/jwt_private.pem"},
        "jwt_public_key": {"file": "./secrets/jwt_public.pem"},
    }
    server = service("chatalot")
    assert sorted(as_list(server["secrets"])) == ["jwt_private_key", "jwt_public_key"]
    env = environment(server)
    assert env["JWT_PRIVATE_KEY_PATH"] == "/run/secrets/jwt_private_key"
    assert env["JWT_PUBLIC_KEY_PATH"] == "/run/secrets/jwt_public_key"


def test_compose_totp_key_comes_from_env_file_and_is_required() -> None:
    """TOTP_ENCRYPTION_KEY is interpolated from .env and compose refuses to run without it."""
    value = environment(service("chatalot"))["TOTP_ENCRYPTION_KEY"]
    assert value.startswith("${TOTP_ENCRYPTION_KEY:?")
    assert value.endswith("}")


@pytest.mark.parametrize(("variable", "default"), sorted(COMPOSE_DEFAULTS.items()))
def test_compose_passes_variable_with_documented_default(variable: str, default: str) -> None:
    """compose passes each server variable as ${VAR:-default} with the documented default."""
    value = environment(service("chatalot")).get(variable)
    assert value == f"${{{variable}:-{default}}}"


def test_compose_image_layout_paths_match_dockerfile() -> None:
    """compose's fixed paths (migrations, static, files, data, JWT, listen) equal the image's."""
    env = environment(service("chatalot"))
    image = image_env()
    for variable, expected in IMAGE_LAYOUT.items():
        assert env[variable] == expected, variable
        assert image[variable] == expected, variable


def test_compose_stop_grace_period_exceeds_shutdown_timeout() -> None:
    """docker stop waits longer than the server's default 10 s graceful-shutdown window."""
    grace = service("chatalot")["stop_grace_period"]
    match = re.fullmatch(r"(\d+)s", grace)
    assert match is not None
    assert int(match.group(1)) > 10


def test_compose_has_no_default_redis_service() -> None:
    """The default stack (services without a profile) is exactly postgres + chatalot (single
    node, no Redis); the only optional one is coturn (tests/deploy/test_coturn.py)."""
    services = compose()["services"]
    assert {name for name, svc in services.items() if not svc.get("profiles")} == {
        "postgres",
        "chatalot",
    }
    assert set(services) == {"postgres", "chatalot", "coturn"}


# --------------------------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------------------------


def test_dockerfile_is_multistage_on_python_slim() -> None:
    """Every stage is FROM python:3.12-slim, and the runtime copies /opt/venv from a builder."""
    all_stages = stages(dockerfile_instructions(DOCKERFILE.read_text()))
    assert len(all_stages) >= 2
    for stage in all_stages:
        assert stage[0].args.split()[0] == "python:3.12-slim"
    builder = next(s for s in all_stages if stage_name(s) == "builder")
    assert any(i.keyword == "RUN" and "pip install --no-cache-dir ." in i.args for i in builder)
    copies = [parse_copy(i.args) for i in final_stage() if i.keyword == "COPY"]
    assert Copy(("/opt/venv",), "/opt/venv", "builder") in copies


def test_dockerfile_runs_as_fixed_non_root_user_after_root_steps() -> None:
    """Runtime ends as USER chatalot (uid 10001), with no RUN after the USER switch."""
    stage = final_stage()
    users = [n for n, i in enumerate(stage) if i.keyword == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    last_user = users[-1]
    assert stage[last_user].args.split(":")[0] not in {"root", "0"}
    assert stage[last_user].args == "chatalot"
    assert not any(i.keyword == "RUN" for i in stage[last_user:])
    args = {}
    for instruction in stage:
        if instruction.keyword == "ARG":
            key, _, value = instruction.args.partition("=")
            args[key] = value
    assert args.get("CHATALOT_UID") == "10001"
    assert args.get("CHATALOT_GID") == "10001"
    setup = " ".join(i.args for i in stage if i.keyword == "RUN")
    assert 'useradd --system --uid "${CHATALOT_UID}"' in setup
    assert "chown -R chatalot:chatalot /app/data" in setup


def test_dockerfile_exposes_8080() -> None:
    """The image EXPOSEs port 8080."""
    exposed = [i.args for i in final_stage() if i.keyword == "EXPOSE"]
    assert exposed == ["8080"]


def test_dockerfile_healthcheck_calls_api_health() -> None:
    """HEALTHCHECK: every 30s, timeout 10s, 3 retries, Python urllib GET of /api/health."""
    checks = [i.args for i in final_stage() if i.keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition(" CMD ")
    assert "--interval=30s" in options.split()
    assert "--timeout=10s" in options.split()
    assert "--retries=3" in options.split()
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    script = argv[2]
    assert "urllib.request" in script
    assert "http://localhost:" in script
    assert "/api/health" in script
    assert "'0.0.0.0:8080'" in script  # the port follows LISTEN_ADDR, default 8080
    compile(script, "<healthcheck>", "exec")


def test_dockerfile_cmd_is_chatalot_serve() -> None:
    """The container's command is `chatalot serve` (exec form)."""
    cmds = [i.args for i in final_stage() if i.keyword == "CMD"]
    assert len(cmds) == 1
    assert exec_form(cmds[0]) == ["chatalot", "serve"]
    assert not any(i.keyword == "ENTRYPOINT" for i in final_stage())


def test_dockerfile_migrations_dir_is_where_migrations_are_copied() -> None:
    """migrations/ is copied to the directory CHATALOT_MIGRATIONS_DIR names (/app/migrations)."""
    copies = [parse_copy(i.args) for i in final_stage() if i.keyword == "COPY"]
    migration_copies = [c for c in copies if c.sources == ("migrations/",) and not c.from_stage]
    assert len(migration_copies) == 1
    destination = migration_copies[0].dest.rstrip("/")
    assert image_env()["CHATALOT_MIGRATIONS_DIR"] == destination == "/app/migrations"


def test_dockerfile_static_dir_exists_even_without_static_sources() -> None:
    """/app/static comes from a stage that creates static/ when the repository has none."""
    all_stages = stages(dockerfile_instructions(DOCKERFILE.read_text()))
    by_name = {stage_name(s): s for s in all_stages}
    copies = [parse_copy(i.args) for i in final_stage() if i.keyword == "COPY"]
    static = [c for c in copies if c.dest.rstrip("/") == "/app/static"]
    assert len(static) == 1
    source_stage = by_name[static[0].from_stage]
    source_dir = static[0].sources[0].rstrip("/")
    assert any(i.keyword == "RUN" and f"mkdir -p {source_dir}" in i.args for i in source_stage)
    assert image_env()["STATIC_FILES_PATH"] == "/app/static"


def test_dockerfile_runtime_environment() -> None:
    """Runtime ENV: no bytecode writes, unbuffered output, venv on PATH, the image layout paths."""
    env = image_env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")
    for variable, expected in IMAGE_LAYOUT.items():
        assert env[variable] == expected, variable


def test_dockerfile_copy_sources_exist_in_repository() -> None:
    """Every path the Dockerfile COPYs from the build context exists (so the build can work)."""
    missing = []
    for instruction in dockerfile_instructions(DOCKERFILE.read_text()):
        if instruction.keyword not in {"COPY", "ADD"}:
            continue
        copy = parse_copy(instruction.args)
        if copy.from_stage:
            continue
        for source in copy.sources:
            if source in OPTIONAL_COPY_SOURCES:
                continue
            if not (ROOT / source).exists():
                missing.append(source)
    assert missing == []


def test_dockerfile_copies_the_readme_pyproject_needs() -> None:
    """The builder copies pyproject.toml and the readme file it names (pip install . needs it)."""
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"].get("readme")
    sources: set[str] = set()
    for instruction in dockerfile_instructions(DOCKERFILE.read_text()):
        if instruction.keyword == "COPY":
            copy = parse_copy(instruction.args)
            if not copy.from_stage:
                sources.update(s.rstrip("/") for s in copy.sources)
    assert "pyproject.toml" in sources
    assert "src" in sources
    if isinstance(readme, str):
        assert readme in sources


# --------------------------------------------------------------------------------------------
# .dockerignore
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [".venv", "data", "secrets", ".env", "secrets/jwt_private.pem"])
def test_dockerignore_excludes_local_state(path: str) -> None:
    """The build context never contains .venv, data, secrets or .env."""
    assert docker_ignored(dockerignore_patterns(), path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "src",
        "src/chatalot/__init__.py",
        "migrations",
        "migrations/001_users.sql",
        "static",
        "static/index.html",
    ],
)
def test_dockerignore_keeps_build_inputs(path: str) -> None:
    """Files the image is built from are not excluded by .dockerignore."""
    assert not docker_ignored(dockerignore_patterns(), path)


# --------------------------------------------------------------------------------------------
# .env.example
# --------------------------------------------------------------------------------------------


def test_env_example_placeholders_are_obvious() -> None:
    """.env.example ships `change-me` placeholders, never real-looking secrets."""
    active, _ = env_example_entries()
    assert active["DB_PASSWORD"] == "change-me"
    assert active["TOTP_ENCRYPTION_KEY"] == "change-me"
    for key, value in active.items():
        assert not re.fullmatch(r"[0-9a-f]{32,}", value), key


def test_env_example_keys_are_used_or_documented() -> None:
    """Each active .env.example key is used by docker-compose.yml or named in the docs."""
    active, commented = env_example_entries()
    used = compose_variables()
    docs = docs_text()
    for key in active:
        assert key in used or f"`{key}`" in docs, key
    for key in active.keys() | commented:
        assert f"`{key}`" in docs, f"{key} is not documented in docs/"


def test_env_example_lists_every_compose_variable() -> None:
    """Every ${VAR} that docker-compose.yml reads has a line in .env.example."""
    active, commented = env_example_entries()
    assert compose_variables() - set(active) - commented == set()


def test_env_example_values_match_compose_defaults() -> None:
    """Non-empty example values equal compose's ${VAR:-default} defaults."""
    active, _ = env_example_entries()
    text = COMPOSE.read_text()
    for key, value in active.items():
        match = re.search(r"\$\{" + re.escape(key) + r":-([^}]*)\}", text)
        if match and value:
            assert value == match.group(1), key


# --------------------------------------------------------------------------------------------
# docs/database.md
# --------------------------------------------------------------------------------------------


def test_database_doc_names_pool_variables_and_defaults() -> None:
    """docs/database.md documents every pool variable and the 50 / 2 / 5 s defaults."""
    doc = DATABASE_DOC.read_text()
    for variable in POOL_VARIABLES:
        assert f"`{variable}`" in doc, variable
    assert "| Maximum connections | 50 | `CHATALOT_DB_MAX_CONNECTIONS` |" in doc
    assert "| Minimum connections | 2 | `CHATALOT_DB_MIN_CONNECTIONS` |" in doc
    assert "| Acquire timeout | 5 seconds | `CHATALOT_DB_ACQUIRE_TIMEOUT_SECS` |" in doc
    assert "HTTP **503**" in doc
    assert '"service_unavailable"' in doc


@pytest.mark.parametrize("row", SEED_MIGRATION_ROWS)
def test_database_doc_lists_seed_migration_range(row: str) -> None:
    """docs/database.md has each row of the seed's 001-039 migration table verbatim."""
    assert row in DATABASE_DOC.read_text().splitlines()


def test_seed_migration_table_is_the_one_pinned_here() -> None:
    """The hard-coded migration rows equal the seed document's table."""
    seed_rows = tuple(
        line for line in seed_text().splitlines() if re.match(r"^\| `\d{3}`-`\d{3}` \|", line)
    )
    assert seed_rows == SEED_MIGRATION_ROWS


def test_database_doc_names_migration_commands() -> None:
    """docs/database.md shows chatalot migrate run/info and the seed's sqlx CLI commands."""
    doc = DATABASE_DOC.read_text()
    for command in (
        "chatalot migrate run",
        "chatalot migrate info",
        "sqlx migrate run",
        "sqlx migrate info",
        "cargo install sqlx-cli --no-default-features --features postgres",
    ):
        assert command in doc, command


def test_database_doc_shows_startup_log_lines() -> None:
    """docs/database.md shows the two startup log lines, in order."""
    lines = DATABASE_DOC.read_text().splitlines()
    first = lines.index("INFO chatalot_server: Database connected")
    assert lines[first + 1] == "INFO chatalot_server: Migrations applied"


def test_database_doc_makes_no_rust_only_claims() -> None:
    """docs/database.md does not claim sqlx::migrate!() or compiled-in pool settings for us."""
    doc = DATABASE_DOC.read_text()
    assert "sqlx::migrate!" not in doc
    assert "These values are compiled into the binary" not in doc
    assert "CHATALOT_MIGRATIONS_DIR" in doc


def test_database_doc_covers_connection_forms() -> None:
    """docs/database.md covers postgres(ql)://, unix sockets and every sslmode value."""
    doc = DATABASE_DOC.read_text()
    assert "postgres://username:password@host:port/database" in doc
    assert "`postgresql://`" in doc
    assert "postgres://chatalot@/chatalot?host=/var/run/postgresql" in doc
    for mode in ("disable", "prefer", "require", "verify-ca", "verify-full"):
        assert f"| `{mode}`" in doc, mode


def test_database_doc_covers_embedded_database() -> None:
    """docs/database.md explains the embedded database: its location, psql and pg_dump."""
    doc = DATABASE_DOC.read_text()
    assert "`$CHATALOT_DATA_DIR/postgres`" in doc
    assert "`./data/postgres`" in doc
    # the socket directory must be absolute: psql takes a relative -h for a host name
    assert '"$PGBIN/psql" -h "$PWD/data/postgres" -U postgres chatalot' in doc
    assert '"$PGBIN/pg_dump" -h "$PWD/data/postgres" -U postgres' in doc
    assert "-h ./" not in doc
    assert "chatalot db shell" not in doc


def test_database_doc_keeps_every_seed_code_line() -> None:
    """Every line of every code block in the seed appears in docs/database.md."""
    doc_lines = {line.rstrip() for line in DATABASE_DOC.read_text().splitlines()}
    missing = [
        line.rstrip()
        for _, lines in fenced_blocks(seed_text())
        for line in lines
        if line.strip() and line.rstrip() not in doc_lines
    ]
    assert missing == []


def test_database_doc_keeps_seed_facts_without_seed_file() -> None:
    """docs/database.md keeps the seed's access commands, permission list and tuning note."""
    doc = DATABASE_DOC.read_text()
    for text in (
        "docker exec -it chatalot-db psql -U chatalot",
        'docker exec chatalot-db psql -U chatalot -c "SELECT count(*) FROM users;"',
        "CREATE DATABASE chatalot OWNER chatalot;",
        "GRANT ALL ON SCHEMA public TO chatalot;",
        "max_connections = 100           # Chatalot uses up to 50",
        "- `CREATE TYPE` -- Some migrations create custom enum types",
        "waits for the PostgreSQL health check to pass before starting",
        "docker-compose.override.yml",
        "**Warning:** Do not expose the database port to the public internet.",
        "PostgreSQL **13 or newer**",
    ):
        assert text in doc, text


def test_migration_files_present_follow_seed_names() -> None:
    """Any migration file numbered 001-039 has the seed topic's file name (count not checked)."""
    directory = ROOT / "migrations"
    if not directory.is_dir():
        pytest.skip("no migrations/ directory yet")
    for path in directory.glob("*.sql"):
        number = int(path.name.split("_", 1)[0])
        if number in SEED_MIGRATION_FILES:
            assert path.name == SEED_MIGRATION_FILES[number]


# --------------------------------------------------------------------------------------------
# docs/deployment.md and cross-document checks
# --------------------------------------------------------------------------------------------


def test_deployment_doc_covers_operations() -> None:
    """docs/deployment.md covers secrets, reverse proxy, TRUSTED_PROXIES, backups, read-only."""
    doc = DEPLOYMENT_DOC.read_text()
    for text in (
        "docker compose up -d --build",
        "chatalot init",
        "openssl genpkey -algorithm Ed25519 -out secrets/jwt_private.pem",
        "openssl rand -hex 32",
        "sudo chgrp 10001 secrets/jwt_private.pem",
        "location /ws",
        "proxy_set_header Upgrade $http_upgrade;",
        "client_max_body_size 110M;",
        "`TRUSTED_PROXIES`",
        "pg_dump -U chatalot --format=custom chatalot",
        "pg_restore",
        "losing it breaks every enabled two-factor login",
        "read_only: true",
        "/api/health",
    ):
        assert text in doc, text


def test_docs_document_every_server_variable() -> None:
    """Every variable compose passes to the server has a row in docs/configuration.md."""
    doc = CONFIGURATION_DOC.read_text()
    for variable in environment(service("chatalot")):
        assert re.search(r"^\| `" + re.escape(variable) + "`", doc, re.MULTILINE), variable


def test_docs_relative_links_resolve() -> None:
    """Relative links between docs point at existing files and headings."""
    for doc in (DATABASE_DOC, DEPLOYMENT_DOC, CONFIGURATION_DOC):
        for target in re.findall(r"\]\((\./[^)]+|#[^)]+)\)", doc.read_text()):
            path, _, anchor = target.partition("#")
            linked = doc if not path else (doc.parent / path).resolve()
            assert linked.is_file(), f"{doc.name}: {target}"
            if anchor:
                assert anchor in anchors(linked.read_text()), f"{doc.name}: {target}"
