# Sourced by scripts/demo and scripts/test: make ./.venv (Python >= 3.11) and install the project into it.
# Usage: ensure_venv [extras]   e.g. ensure_venv test
ensure_venv() {
    local extras="${1:-}" spec="." stamp
    if [ ! -x .venv/bin/python ]; then
        local py=""
        for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
            [ -n "$candidate" ] || continue
            if command -v "$candidate" >/dev/null 2>&1 &&
                "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
                py="$candidate"
                break
            fi
        done
        if [ -z "$py" ]; then
            echo "Guanjia needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
            return 1
        fi
        echo "creating .venv with $("$py" --version)"
        "$py" -m venv .venv
    fi
    [ -z "$extras" ] || spec=".[$extras]"
    # Reinstall only when pyproject.toml changed since the last install with these extras.
    stamp=".venv/.guanjia-installed${extras:+-$extras}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "installing $spec into .venv"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
        touch "$stamp"
    fi
}
