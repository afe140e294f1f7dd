#!/usr/bin/env bash
# Runs the official OCI distribution-spec conformance suite (prebuilt in
# ../shared/oci-conformance) against a live Berth at $1 with all four workflows.
# OCI_AUTOMATIC_CROSSMOUNT=false: Berth never mounts without `from` (it cannot
# know the client may read an arbitrary source), so the suite's "disabled →
# 202" case runs instead of being skipped.
set -euo pipefail
url=${1:?usage: run.sh http://127.0.0.1:PORT}
here=$(cd "$(dirname "$0")" && pwd)
# ../shared sits beside the repository (on developer machines and in CI).
suite=${OCI_CONFORMANCE_DIR:-$here/../../../shared/oci-conformance}
if [ ! -x "$suite/run.sh" ]; then
  echo "the official OCI conformance suite is not at $suite (expected ../shared beside the repository; or set OCI_CONFORMANCE_DIR)" >&2
  exit 1
fi
export OCI_TEST_PULL=1 OCI_TEST_PUSH=1 OCI_TEST_CONTENT_DISCOVERY=1 OCI_TEST_CONTENT_MANAGEMENT=1
export OCI_AUTOMATIC_CROSSMOUNT=false
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
"$suite/run.sh" "$url" >"$out" 2>&1
status=$?
set -e
# The suite's own log is long; keep the summary, every failure and the closing count.
grep -E '^(FAILED:|reports:|Ran [0-9]+ of)' "$out" || true
report=$(grep -o '/tmp/oci-conformance[^ /]*' "$out" | head -n 1 || true)
if [ -n "$report" ] && [ -f "$report/junit.xml" ]; then
  echo "skipped (each is structural; see conformance/README.md):"
  python3 - "$report/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
for tc in ET.parse(sys.argv[1]).iter('testcase'):
    if tc.find('skipped') is not None:
        print('  -', tc.get('name'))
PY
fi
[ "$status" -eq 0 ] || tail -n 60 "$out"
tail -n 1 "$out"
exit "$status"
