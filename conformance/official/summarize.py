"""Summarizes one official OCI conformance run from its junit.xml, for conformance/official/run.sh.

usage: summarize.py JUNIT_XML EXPECTED_SKIPS CONFIG [NAME_PREFIX]

Counts the leaf test cases by their status, prints each failure (with the suite's own message) and
each skip, and checks the skipped tests against the exact set expected for CONFIG: EXPECTED_SKIPS has
one line per expected skip, `CONFIG CONFIG … | test name` (a name listed twice is expected twice;
a line starting with `#` is a comment). Any other skip, and any expected skip that did not happen, fails the run: a
test that silently stopped running must not pass as skipped, nor a newly skipped one go unnoticed.
Test cases whose name lacks NAME_PREFIX (suite-level nodes of the v1.1.1 ginkgo suite) are counted only
when they fail. Prints a closing `N passed, N failed, N skipped` line; exits 1 unless the run is clean.
Both suite generations write the junit `status` attribute (passed, skipped, failed/failure, error).
"""
import sys
import xml.etree.ElementTree as ET
from collections import Counter


def expected_skips(path, config):
    names = Counter()
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            configs, _, name = line.partition("|")
            if not name.strip():
                raise SystemExit(f"{path}: a line without `CONFIGS | test name`: {raw.strip()}")
            if config in configs.split():
                names[name.strip()] += 1
    return names


def status_of(tc):
    status = tc.get("status")
    if status:
        return status
    for child, st in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        if tc.find(child) is not None:
            return st
    return "passed"


def main():
    junit, skips_file, config = sys.argv[1:4]
    prefix = sys.argv[4] if len(sys.argv) > 4 else ""
    counts = Counter()
    skipped = Counter()
    failures = []
    for tc in ET.parse(junit).iter("testcase"):
        name = tc.get("name", "")
        status = status_of(tc)
        in_suite = name.startswith(prefix)
        short = name[len(prefix):] if in_suite else name
        if status in ("failed", "failure", "error") or status not in ("passed", "skipped", "pending"):
            counts["failed"] += 1
            detail = (tc.findtext("system-out") or "").strip() or "".join(
                (c.get("message") or "") for c in tc if c.tag in ("failure", "error"))
            failures.append(f"FAILED: {short} [{status}]" + (f"\n    {detail[:600]}" if detail else ""))
        elif not in_suite:
            continue
        elif status == "passed":
            counts["passed"] += 1
        else:
            counts["skipped"] += 1
            skipped[short] += 1
    # A registry that is down fails every test: the first ones say why, the count says how many.
    for line in failures[:40]:
        print(line)
    if len(failures) > 40:
        print(f"… and {len(failures) - 40} more failures (the suite's report.html has them all)")
    if skipped:
        print("skipped:")
        for name in sorted(skipped.elements()):
            print(f"  - {name}")
    expected = expected_skips(skips_file, config)
    unexpected = skipped - expected
    missing = expected - skipped
    for name in sorted(unexpected.elements()):
        print(f"UNEXPECTED SKIP: {name}")
    for name in sorted(missing.elements()):
        print(f"EXPECTED SKIP DID NOT HAPPEN: {name}")
    total = counts["passed"] + counts["failed"] + counts["skipped"]
    if total == 0:
        print("the report holds no test cases")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    clean = total > 0 and counts["failed"] == 0 and not unexpected and not missing
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
