#!/usr/bin/env bash
# The Dockerfile's recipe without a container, to prove it where no image can be built: the project
# installed the way the image installs it (`pip install .`, not editable) into a fresh virtualenv, then
# the image's commands from a folder that holds no source (so only what was installed runs):
# `unmeet db upgrade`, `unmeet serve --no-migrate`, the image's health check, and /readyz must say ready.
#
#   deploy/run-local.sh                       # SQLite in a temporary folder
#   DATABASE_URL=postgresql://… deploy/run-local.sh
#
# PIP_OPTIONS is passed to pip (the test suite gives `--no-deps` and puts its own packages on the path
# with EXTRA_SITE, so it needs nothing from the network but the build backend).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
PORT="${PORT:-3978}"
cleanup() {
  [ -n "${SERVE_PID:-}" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$PYTHON" -m venv "$WORK/venv"
if [ -n "${EXTRA_SITE:-}" ]; then
  "$WORK/venv/bin/python" -c 'import site, sys; open(site.getsitepackages()[0] + "/extra.pth", "w").write(sys.argv[1] + "\n")' "$EXTRA_SITE"
fi
# the image: COPY the project, then RUN pip install --no-cache-dir .
mkdir "$WORK/src"
cp -R "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/LICENSE" "$ROOT/core" "$ROOT/slack_app" "$ROOT/teams_app" \
  "$ROOT/unmeet" "$ROOT/prompts" "$WORK/src/"
"$WORK/venv/bin/pip" install --quiet --no-cache-dir ${PIP_OPTIONS:-} "$WORK/src"
rm -rf "$WORK/src"

mkdir "$WORK/run" && cd "$WORK/run"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$WORK/run/unmeet.db}" HOST=127.0.0.1 PORT UNMEET_LOG_FORMAT=json
"$WORK/venv/bin/unmeet" db upgrade
"$WORK/venv/bin/unmeet" serve --no-migrate > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
# the image's HEALTHCHECK command, word for word
HEALTHCHECK="$(sed -n 's/^  CMD \["python", "-c", "\(.*\)"\]$/\1/p' "$ROOT/Dockerfile")"
for _ in $(seq 1 150); do
  if "$WORK/venv/bin/python" -c "$HEALTHCHECK" 2>/dev/null; then break; fi
  kill -0 "$SERVE_PID" 2>/dev/null || { cat "$WORK/serve.log"; echo "run-local: unmeet serve exited" >&2; exit 1; }
  sleep 0.2
done
"$WORK/venv/bin/python" -c "$HEALTHCHECK" || { cat "$WORK/serve.log"; echo "run-local: /healthz never answered" >&2; exit 1; }
for _ in $(seq 1 100); do
  if READY="$("$WORK/venv/bin/python" -c 'import sys, urllib.request; print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=4).read().decode())' "$PORT" 2>/dev/null)"; then
    echo "run-local: ready: $READY"
    "$WORK/venv/bin/python" -c 'import unmeet, sys; print("run-local: ran", unmeet.__file__)'
    exit 0
  fi
  sleep 0.2
done
cat "$WORK/serve.log"
echo "run-local: /readyz never said ready" >&2
exit 1
