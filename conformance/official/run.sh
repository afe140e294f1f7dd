#!/usr/bin/env bash
# Runs the official OCI distribution-spec conformance suite against a live Berth at URL:
#  1. always: the current generation, built by this script from the Go module proxy (pinned and
#     cached, see suite.sh), run with its defaults for OCI_VERSION=1.1; with OCI_OPTIONAL_FEATURES=1 a
#     second time with every optional feature on (OCI_VERSION=dev, sparse manifests, tag parameters,
#     upload cancel), for a Berth started with BERTH_SPARSE_MANIFESTS covering conformance/*;
#  2. where ../shared/oci-conformance (or $OCI_CONFORMANCE_DIR) exists: the prebuilt v1.1.1 suite,
#     all four workflows. Without it this run is reported as not run, and neither passes nor fails.
# Each run must report 0 failed and skip exactly the tests expected-skips/<generation>.txt lists
# for CONFIG (any other skip, or an expected one that did not happen, fails). OCI_USERNAME and
# OCI_PASSWORD, when set, are passed to both. Prints each run's failures and skips, then a closing
# `N passed, N failed, N skipped` line over what ran.
#
#   conformance/official/run.sh CONFIG URL     CONFIG: token, open or scale-out
set -uo pipefail
config=${1:?usage: run.sh token|open|scale-out http://127.0.0.1:PORT}
url=${2:?usage: run.sh token|open|scale-out http://127.0.0.1:PORT}
url=${url%/}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/suite.sh"
case "$config" in token | open | scale-out) ;; *) echo "unknown configuration $config" >&2; exit 2 ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-official.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
total_passed=0 total_failed=0 total_skipped=0 runs_failed=0
# Per run: whether it is clean, and how many of its tests failed. A run that is not clean although
# no test failed (no report, a skip that was not expected, a bad exit status) counts as one failure.
run_ok=1 run_tests_failed=0
run_begin() { echo "--- $1"; run_ok=1 run_tests_failed=0; }
run_fail() { echo "$1"; run_ok=0; }
run_end() {
  [ "$run_ok" -eq 1 ] && return 0
  runs_failed=$((runs_failed + 1))
  [ "$run_tests_failed" -gt 0 ] || total_failed=$((total_failed + 1))
}

# summarize JUNIT EXPECTED_SKIPS [PREFIX]: prints the run's failures, skips and counts; adds them up.
summarize() {
  local out rc counts
  out=$(python3 "$here/summarize.py" "$1" "$2" "$config" "${3:-}"); rc=$?
  printf '%s\n' "$out"
  counts=$(tail -n 1 <<<"$out")
  if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    total_passed=$((total_passed + BASH_REMATCH[1])); total_failed=$((total_failed + BASH_REMATCH[2]))
    total_skipped=$((total_skipped + BASH_REMATCH[3])); run_tests_failed=${BASH_REMATCH[2]}
  fi
  [ "$rc" -eq 0 ] || run_fail "the run is not clean (failed tests or skips other than the expected ones)"
}

# current_run NAME EXPECTED_SKIPS [VAR=VALUE…]: one run of the current generation with its defaults plus the
# variables given, against the Berth at URL.
current_run() {
  local name=$1 skips=$2; shift 2
  run_begin "official suite $OCI_SUITE_VERSION ($name)"
  if ! official_suite_build; then
    run_fail "the official suite could not be built"
    run_end
    return
  fi
  local results=$work/current-$RANDOM status
  mkdir -p "$results"
  # A clean environment: the suite also reads the previous generation's variables (OCI_ROOT_URL,
  # OCI_NAMESPACE, OCI_TEST_*, …) and a ./oci-conformance.yaml; neither may change this run.
  # The working directory is the empty results directory, so no yaml file is found.
  local creds=()
  [ -n "${OCI_USERNAME:-}" ] && creds+=("OCI_USERNAME=$OCI_USERNAME" "OCI_PASSWORD=${OCI_PASSWORD:-}")
  # The repositories to push to, where the caller names them (a plain user's own namespace).
  [ -n "${OCI_REPO1:-}" ] && creds+=("OCI_REPO1=$OCI_REPO1" "OCI_REPO2=${OCI_REPO2:-}")
  (cd "$results" && env -i PATH="$PATH" HOME="$HOME" ${creds[@]+"${creds[@]}"} \
    OCI_REGISTRY="${url#*://}" OCI_TLS=disabled OCI_VERSION=1.1 OCI_RESULTS_DIR="$results" "$@" \
    timeout -k 10 "${OCI_SUITE_TIMEOUT:-900}" "$(official_suite_path)" >"$results.log" 2>&1)
  status=$?
  # The suite exits 1 on a failure, but 0 when it could not even load its configuration:
  # the verdict comes from its junit.xml, and a missing one is a failure.
  if [ ! -s "$results/junit.xml" ]; then
    tail -n 40 "$results.log"; run_fail "the suite wrote no junit.xml (exit $status)"
  else
    summarize "$results/junit.xml" "$here/expected-skips/$skips"
    [ "$status" -eq 0 ] || run_fail "the suite exited with status $status"
  fi
  run_end
}

# --- 1. the current generation (always) ---------------------------------------------------------
current_run "OCI_VERSION=1.1, its defaults" current.txt
# --- 1b. with every optional feature of the spec, where the caller asks (issue #21): the Berth under test
# must let the suite's repositories (conformance/*) hold sparse manifests (BERTH_SPARSE_MANIFESTS).
if [ "${OCI_OPTIONAL_FEATURES:-0}" = 1 ]; then
  current_run "OCI_VERSION=dev, every optional feature: sparse manifests, tag parameters, upload cancel" optional.txt \
    OCI_VERSION=dev OCI_DATA_SPARSE=true OCI_API_MANIFESTS_TAG_PARAM=true OCI_API_BLOBS_UPLOAD_CANCEL=true
fi

# --- 2. v1.1.1, prebuilt beside the repository (where it exists) --------------------------------
suite=$(realpath -m "${OCI_CONFORMANCE_DIR:-$here/../../../shared/oci-conformance}")
run_begin "official suite v1.1.1 (prebuilt, all four workflows)"
if [ ! -x "$suite/run.sh" ]; then
  echo "not run: the prebuilt v1.1.1 suite is not at $suite (../shared beside the repository, or OCI_CONFORMANCE_DIR); not counted"
else
  # OCI_AUTOMATIC_CROSSMOUNT=false: Berth never mounts without `from` (it cannot know the client
  # may read an arbitrary source), so the suite's "disabled → 202" case runs instead of being skipped.
  OCI_TEST_PULL=1 OCI_TEST_PUSH=1 OCI_TEST_CONTENT_DISCOVERY=1 OCI_TEST_CONTENT_MANAGEMENT=1 \
    OCI_AUTOMATIC_CROSSMOUNT=false OCI_REPORT_DIR="$work/v1.1.1" \
    timeout -k 10 "${OCI_SUITE_TIMEOUT:-900}" "$suite/run.sh" "$url" >"$work/v1.1.1.log" 2>&1
  status=$?
  if [ ! -s "$work/v1.1.1/junit.xml" ]; then
    tail -n 40 "$work/v1.1.1.log"; run_fail "the suite wrote no junit.xml (exit $status)"
  else
    summarize "$work/v1.1.1/junit.xml" "$here/expected-skips/v1.1.1.txt" "OCI Distribution Conformance Tests "
    [ "$status" -eq 0 ] || run_fail "the suite exited with status $status"
  fi
fi
run_end

echo "official OCI suites ($config): $total_passed passed, $total_failed failed, $total_skipped skipped"
[ "$runs_failed" -eq 0 ]
