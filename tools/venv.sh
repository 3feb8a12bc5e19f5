# Sourced by ./run-tests, ./run-demo and benchmarks/run: the Python and the venv they use.
#
# PYTHON: the interpreter (default: python3.13 on PATH or from pyenv, else python3.11, else python3).
# VENV:   the virtual environment (default .venv); made with $PYTHON when missing, and made again
#         when it holds another Python version than $PYTHON.
# After sourcing: $VENV/bin/python exists, and one line on stderr says which Python it is.

find_python() {
  local candidate root
  for candidate in python3.13 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      echo "$candidate"; return
    fi
    if command -v pyenv >/dev/null 2>&1; then
      root="$(pyenv root)"
      for found in $(ls -d "$root"/versions/"${candidate#python}".*/bin/"$candidate" 2>/dev/null | sort -V -r); do
        [ -x "$found" ] && { echo "$found"; return; }
      done
    fi
  done
  echo python3
}

PYTHON="${PYTHON:-$(find_python)}"
VENV="${VENV:-.venv}"
wanted="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -x "$VENV/bin/python" ] && [ "$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$wanted" ]; then
  echo "[venv] $VENV holds another Python than $PYTHON ($wanted): making it again" >&2
  rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
fi
echo "[venv] $VENV: $("$VENV/bin/python" -c 'import sys; print("Python", sys.version.split()[0])') (from $PYTHON)" >&2
