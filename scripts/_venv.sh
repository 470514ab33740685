# Sourced by the scripts in this folder: make sure .venv exists with the project installed.
# Usage: ensure_venv [extra]   (extra = "dev" installs the test and lint tools too)

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

ensure_venv() {
    extra="${1:-}"
    spec="."
    [ -n "$extra" ] && spec=".[$extra]"
    stamp=".venv/.installed${extra:+-$extra}"
    if [ ! -x .venv/bin/python ]; then
        python=$(find_python)
        echo "Creating .venv with $python ..." >&2
        "$python" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "Installing Chatalot${extra:+ with $extra tools} into .venv ..." >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec" >&2
        touch "$stamp"
    fi
}
