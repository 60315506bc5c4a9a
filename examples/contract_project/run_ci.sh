#!/usr/bin/env bash
# CI for docs/testing.md's contract-test example, as a user's project would run it:
# the kiosk project is copied outside the checkout, faceguard is installed into a fresh venv
# from the repository WITHOUT -e, `faceguard emulator serve` stands in for the Azure resource,
# the contract test is recorded, run live, then replayed with the server stopped and no
# FACEGUARD_* variable set; the cassettes must hold no key (nor token, image or id in clear).
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PROJECT="$WORK/kiosk"
mkdir -p "$PROJECT/photos"
cp -R "$REPO/examples/contract_project/." "$PROJECT/"
rm -rf "$PROJECT/tests/cassettes" "$PROJECT/run_ci.sh"
FACES="$REPO/tests/data/faces/face_recognition"
cp "$FACES/obama/obama1.jpg" "$PROJECT/photos/staff.jpg"
cp "$FACES/obama/obama2.jpg" "$PROJECT/photos/staff-again.jpg"
cp "$FACES/biden/biden.jpg" "$PROJECT/photos/stranger.jpg"

echo "== contract example: a venv outside the checkout, faceguard installed non-editable"
"$PYTHON" -m venv "$WORK/venv"
# shellcheck disable=SC1091
. "$WORK/venv/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet "$REPO[testing,emulator,consent]"
cd "$PROJECT"
python - <<'EOF'
import pathlib, faceguard
where = pathlib.Path(faceguard.__file__).resolve()
assert "site-packages" in where.parts, f"faceguard is not installed non-editable: {where}"
EOF

KEY="$(python -c 'import secrets; print(secrets.token_hex(16))')"
unset FACEGUARD_ENDPOINT FACEGUARD_API_KEY FACEGUARD_CONTENT_SAFETY_ENDPOINT \
    FACEGUARD_CONTENT_SAFETY_API_KEY FACEGUARD_RECORD_MODE FACEGUARD_LIVE || true

echo "== contract example: faceguard emulator serve on an ephemeral port"
faceguard emulator serve --port 0 --key "$KEY" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
URL=""
for _ in $(seq 1 300); do
    URL="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/server.log" | head -n 1 || true)"
    [ -n "$URL" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "the emulator did not start"; cat "$WORK/server.log"; exit 1; }

PYTEST=(python -m pytest -p no:cacheprovider)

echo "== contract example: record (--faceguard-record-mode=all) from $URL"
FACEGUARD_ENDPOINT="$URL" FACEGUARD_API_KEY="$KEY" "${PYTEST[@]}" --faceguard-record-mode=all
CASSETTE="tests/cassettes/test_kiosk/test_the_kiosk_contract.yaml"
[ -s "$CASSETTE" ] || { echo "no cassette was recorded at $CASSETTE"; exit 1; }

echo "== contract example: live (--faceguard-live), cassettes left alone"
BEFORE="$(sha256sum "$CASSETTE")"
FACEGUARD_ENDPOINT="$URL" FACEGUARD_API_KEY="$KEY" "${PYTEST[@]}" --faceguard-live
[ "$(sha256sum "$CASSETTE")" = "$BEFORE" ] || { echo "live mode changed the cassette"; exit 1; }

echo "== contract example: replay with the server stopped and no FACEGUARD_* set"
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
"${PYTEST[@]}" | tee "$WORK/replay.log"
grep -q "replay cassettes (record mode none, strict)" "$WORK/replay.log" \
    || { echo "the header line does not say the run replayed"; exit 1; }
[ "$(sha256sum "$CASSETTE")" = "$BEFORE" ] || { echo "replay changed the cassette"; exit 1; }

echo "== contract example: the cassettes hold no key, token, image or id in clear"
if grep -rq "$KEY" tests/cassettes; then echo "a cassette holds the key"; exit 1; fi
faceguard testing check-cassettes tests/cassettes
echo "== contract example: OK"
