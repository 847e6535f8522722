#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turn docs/guide.md into the bash script that test_guide.sh runs, so the guide and its test cannot drift.

    guide_extract.py GUIDE.md > guide.sh

Fenced blocks, by their info string:
  sh                 commands, run in order in one shell (variables and the directory carry over); stdout is kept
  sh install         installing gale: not run (the test installs the gale it was built from instead)
  sh requires=PATH   run only when PATH exists (e.g. /dev/net/tun for a tap port), else skipped saying so, and
                     so is the output check after it
  LANG file=NAME     saved as NAME (relative to the working directory) at that point
  output             what the sh block before it must print, exactly
  output-contains    lines the sh block before it must print, among others
Anything else (other languages, plain text) is prose. A malformed guide (an output block with no sh block before
it, an unterminated fence, no sh block at all) is an error naming its line.
"""
import sys

EOF_MARK = "GALE_GUIDE_EOF"


def blocks(lines):
    """Yield (line number of the fence, info words, body) for every fenced block."""
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            start, info = i + 1, lines[i][3:].split()
            i += 1
            body = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                sys.exit("guide_extract: line %d: unterminated fence" % start)
            yield start, info, "".join(body)
        i += 1


def heredoc(path_expr, body):
    if EOF_MARK in body:
        sys.exit("guide_extract: a block contains %s" % EOF_MARK)
    return "cat > %s <<'%s'\n%s%s\n" % (path_expr, EOF_MARK, body, EOF_MARK)


def main():
    path = sys.argv[1]
    with open(path) as f:
        lines = f.readlines()
    out = ["set -euo pipefail\n",
           "gale_guide_tmp=$(mktemp -d)\n",
           "trap 'rm -rf \"$gale_guide_tmp\"' EXIT\n"]
    last_run = None
    runs = 0
    for line, info, body in blocks(lines):
        lang = info[0] if info else ""
        attrs = info[1:]
        files = [a[5:] for a in attrs if a.startswith("file=")]
        where = "%s:%d" % (path.split("/")[-1], line)
        if files:
            out.append("echo '== guide %s: save %s'\n" % (where, files[0]))
            out.append(heredoc("'%s'" % files[0], body))
            last_run = None
        elif lang == "sh" and "install" in attrs:
            out.append("echo '== guide %s: install step: the test installed the gale it was built from'\n"
                       % where)
            last_run = None
        elif lang == "sh" and all(a.startswith("requires=") for a in attrs):
            runs += 1
            last_run = runs
            needs = [a[9:] for a in attrs]
            if needs:
                cond = " && ".join("[ -e '%s' ]" % n for n in needs)
                out.append("if %s; then gale_guide_run=1; else gale_guide_run=0; "
                           "echo '== guide %s: SKIP this step: it needs %s'; fi\n" % (cond, where, " ".join(needs)))
            else:
                out.append("gale_guide_run=1\n")
            out.append("if [ $gale_guide_run = 1 ]; then\n")
            out.append("echo '== guide %s: run'\n" % where)
            out.append("{\n%s} > \"$gale_guide_tmp/out.%d\"\n" % (body, runs))
            out.append("cat \"$gale_guide_tmp/out.%d\"\n" % runs)
            out.append("fi\n")
        elif lang in ("output", "output-contains"):
            if last_run is None:
                sys.exit("guide_extract: %s: an output block with no sh block before it" % where)
            exp = "\"$gale_guide_tmp/exp.%d\"" % last_run
            got = "\"$gale_guide_tmp/out.%d\"" % last_run
            out.append(heredoc(exp, body))
            out.append("if [ $gale_guide_run = 1 ]; then\n")
            if lang == "output":
                out.append("diff -u %s %s || { echo 'guide %s: the output differs' >&2; exit 1; }\n"
                           % (exp, got, where))
            else:
                out.append("while IFS= read -r l; do grep -qF -- \"$l\" %s || "
                           "{ echo \"guide %s: no line '$l' in the output\" >&2; exit 1; }; done < %s\n"
                           % (got, where, exp))
            out.append("fi\n")
            last_run = None
    if runs == 0:
        sys.exit("guide_extract: %s has no sh block" % path)
    out.append("echo '== guide: every step done'\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
