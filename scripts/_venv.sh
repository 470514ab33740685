# Sourced by the scripts in this folder: make sure .venv exists with the project installed.
# Usage: ensure_venv [extra]   (extra = "dev" installs the test and lint tools too)
#
# Installs with uv, several times faster than pip: the uv on PATH, else one fetched from PyPI
# with pip into .venv/.uv. Falls back to pip when uv cannot be had or fails;
# CHATALOT_INSTALLER=pip forces pip. Progress goes to stderr, one line per step.

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "Chatalot needs Python 3.11 or newer (set PYTHON=/path/to/python3.11+)" >&2
    return 1
}

_say() {
    echo "[setup] $*" >&2
}

# True when stamp file $1 exists and is newer than pyproject.toml.
_fresh() {
    [ -f "$1" ] && [ ! pyproject.toml -nt "$1" ]
}

_has_pip() {
    "$1" -m pip --version >/dev/null 2>&1
}

# Prints the uv to use, or nothing (then pip is used).
_find_uv() {
    [ "${CHATALOT_INSTALLER:-}" = pip ] && return 0
    if command -v uv >/dev/null 2>&1; then
        command -v uv
        return 0
    fi
    if [ -x .venv/.uv/bin/uv ]; then
        echo .venv/.uv/bin/uv
        return 0
    fi
    boot=.venv/bin/python
    _has_pip "$boot" || boot=$(find_python) || boot=""
    if _has_pip "$boot"; then
        _say "Fetching uv (a fast package installer) into .venv/.uv with pip ..."
        if PIP_ROOT_USER_ACTION=ignore "$boot" -m pip install --quiet --disable-pip-version-check \
            --target .venv/.uv "uv>=0.4" >&2 && [ -x .venv/.uv/bin/uv ]; then
            echo .venv/.uv/bin/uv
            return 0
        fi
        rm -rf .venv/.uv
    fi
    _say "uv is not available; installing with pip (slower)"
}

_pip_install() {
    if ! _has_pip .venv/bin/python; then
        _say "Adding pip to .venv ..."
        .venv/bin/python -m ensurepip --upgrade >&2
    fi
    .venv/bin/python -m pip install --disable-pip-version-check -e "$1" >&2
}

ensure_venv() {
    extra="${1:-}"
    spec="."
    [ -n "$extra" ] && spec=".[$extra]"
    stamp=".venv/.installed${extra:+-$extra}"
    # the dev install includes everything the plain one has
    if _fresh "$stamp" || { [ -z "$extra" ] && _fresh .venv/.installed-dev; }; then
        return 0
    fi
    started=$(date +%s)
    if [ ! -x .venv/bin/python ]; then
        python=$(find_python)
        _say "Creating .venv with $python ..."
        # no pip yet: uv installs faster, and pip is added by whichever installer runs
        "$python" -m venv --without-pip .venv >&2
    fi
    uv=$(_find_uv)
    what="Chatalot${extra:+ with $extra tools}"
    if [ -n "$uv" ]; then
        _say "Installing $what into .venv with uv ..."
        if ! "$uv" pip install --python .venv/bin/python -e "$spec" pip; then
            _say "uv failed; installing with pip instead ..."
            _pip_install "$spec"
        fi
    else
        _say "Installing $what into .venv with pip ..."
        _pip_install "$spec"
    fi
    touch "$stamp"
    _say "Ready in $(($(date +%s) - started)) s."
}
