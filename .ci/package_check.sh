#!/usr/bin/env bash
# The package as a user receives it: build the sdist and the wheel (python -m build), check
# their metadata (twine check --strict) and that both carry the LICENSE, then install the
# wheel into a fresh virtualenv OUTSIDE the checkout and, from a directory outside it too,
# import faceguard and run the demo on the repository's photos (the wheel ships no photos;
# `faceguard demo --images DIR` takes any folder with a manifest.json).
# Needs `build` and `twine` (the dev extra). Prints the seconds it took.
set -euo pipefail
echo "== package: sdist and wheel built and checked, the wheel installed and run outside the checkout"
cd "$(dirname "$0")/.."
root="$PWD"
started=$SECONDS
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
python -m twine check --strict "$work"/dist/*
sdist="$(ls "$work"/dist/faceguard-*.tar.gz)"
wheel="$(ls "$work"/dist/faceguard-*.whl)"
python - "$sdist" "$wheel" <<'EOF'
import sys, tarfile, zipfile
sdist, wheel = sys.argv[1:]
in_sdist = [n for n in tarfile.open(sdist).getnames() if n.endswith("/LICENSE")]
in_wheel = [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/licenses/LICENSE")]
if not in_sdist or not in_wheel:
    sys.exit(f"LICENSE missing: sdist {in_sdist}, wheel {in_wheel}")
print(f"LICENSE in {in_sdist[0]} and {in_wheel[0]}")
EOF

python -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "${wheel}[emulator,consent]"
cd "$work"  # neither the checkout's src/ nor its tests/ on the path from here
"$work/venv/bin/python" - "$root" <<'EOF'
import sys
import faceguard
if faceguard.__file__.startswith(sys.argv[1]):
    sys.exit(f"imported the checkout, not the wheel: {faceguard.__file__}")
print(f"import faceguard {faceguard.__version__} from {faceguard.__file__}")
EOF
"$work/venv/bin/faceguard" demo --images "$root/tests/data/faces" --html "$work/report.html"
test -s "$work/report.html"
echo "package check: $((SECONDS - started)) s"
