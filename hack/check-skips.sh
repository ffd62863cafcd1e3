#!/usr/bin/env bash
# Fails when the last Maven run skipped a test that hack/allowed-skips.txt does not list: a test
# that needs root, a tool or the node must fail where they are missing, not pass by skipping.
# Reads the JUnit reports of surefire and failsafe.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - operator/target/surefire-reports operator/target/failsafe-reports <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET

allowed = set()
with open("hack/allowed-skips.txt") as f:
    for line in f:
        if line.strip() and not line.startswith("#"):
            allowed.add(line.split()[0])

ran, skipped = 0, []
for d in sys.argv[1:]:
    for report in glob.glob(os.path.join(d, "TEST-*.xml")):
        for case in ET.parse(report).getroot().iter("testcase"):
            ran += 1
            skip = case.find("skipped")
            if skip is not None:
                name = case.get("classname") + "#" + case.get("name").split("(")[0]
                skipped.append((name, (skip.get("message") or "").strip()))

unexpected = [(n, m) for n, m in skipped if n not in allowed]
for n, m in skipped:
    print(f"skipped: {n}: {m}" + ("" if n in allowed else "  <- not allowed"))
if ran == 0:
    sys.exit("check-skips: no test reports found")
if unexpected:
    sys.exit(f"check-skips: {len(unexpected)} test(s) skipped that hack/allowed-skips.txt does not allow")
print(f"check-skips: {ran} tests reported, {len(skipped)} skipped, all allowed")
PY
