#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Broken-IDL corpus: every case in tests/idl/broken must make gale-thriftc exit 1 (not crash, not succeed) and
its first error line must be exactly the one recorded in tests/idl/broken/EXPECTED (file:line:col: error: msg).
Usage: test_broken_idl.py GALE_THRIFTC BROKEN_DIR"""
import os
import subprocess
import sys


def main():
    exe, broken = os.path.abspath(sys.argv[1]), sys.argv[2]
    expected = {}
    with open(os.path.join(broken, 'EXPECTED'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            name, want = line.rstrip('\n').split('\t', 1)
            expected[name] = want
    cases = sorted(n for n in os.listdir(broken) if n.endswith('.thrift'))
    failures = []
    if len(cases) < 40:
        failures.append('only %d cases, the corpus needs at least 40' % len(cases))
    for name in sorted(set(expected) ^ set(cases)):
        failures.append('%s: case and EXPECTED entry must both exist' % name)
    for name in cases:
        if name not in expected:
            continue
        p = subprocess.run([exe, '--check', '-q', name], cwd=broken, capture_output=True, text=True,
                           timeout=30)
        errors = [l for l in p.stderr.splitlines() if ': error: ' in l]
        first = errors[0] if errors else '<no error line>'
        if p.returncode != 1:
            failures.append('%s: exit status %d, want 1\n%s' % (name, p.returncode, p.stderr))
        elif 'Sanitizer' in p.stderr or 'runtime error' in p.stderr:
            failures.append('%s: sanitizer report\n%s' % (name, p.stderr))
        elif first != expected[name]:
            failures.append('%s:\n  got  %s\n  want %s' % (name, first, expected[name]))
    for f in failures:
        print('FAIL ' + f)
    print('%d cases, %d failures' % (len(cases), len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
