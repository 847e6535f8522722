#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""gale-thriftc front-end checks on real IDL, one sub-command per meson test:
  comprehensive EXE IDL_DIR   the comprehensive IDL compiles with gale-thriftc (exit 0) and with Apache's
                              `thrift --gen py` and `--gen cpp` (skipped, 77, when `thrift` is missing);
                              uuid.thrift compiles with gale-thriftc
  big EXE                     a generated IDL of >= 2,000 lines, hundreds of structs, an include chain 12 deep,
                              compiles (-r) (the time is printed, not asserted: a wall-clock bound fails on a
                              loaded host and says nothing a benchmark would not), and
                              the C it produces compiles with the house warnings and -Werror
  gencompile EXE IDL_DIR      the C generated from the comprehensive, uuid, names and versions IDLs compiles with
                              cc -std=gnu11 -Wall -Wextra -Werror -Wshadow ... -I codec/include
  plugin EXE IDL_DIR          --plugin runs tests/idl/plugin_listing.py and writes the file it returns
  cli EXE IDL_DIR             --help / --version / usage errors (2) / IDL errors (1) / --dump-ast JSON
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def check(cond, msg):
    if not cond:
        print('FAIL: ' + msg)
        sys.exit(1)


def comprehensive(exe, idl):
    src = os.path.join(idl, 'comprehensive', 'comprehensive.thrift')
    p = run([exe, '--check', src])
    check(p.returncode == 0, 'gale-thriftc rejected comprehensive.thrift:\n' + p.stderr)
    # The implicit field ids must be reported as warnings, as Apache does.
    check(p.stderr.count('warning: no field id') == 2, 'implicit field id warnings:\n' + p.stderr)
    p = run([exe, '--check', os.path.join(idl, 'comprehensive', 'uuid.thrift')])
    check(p.returncode == 0, 'gale-thriftc rejected uuid.thrift:\n' + p.stderr)
    thrift = shutil.which('thrift')
    if thrift is None:
        print('SKIP: Apache thrift compiler not installed (apt-get install thrift-compiler)')
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        for gen in ('py', 'cpp'):
            out = os.path.join(tmp, gen)
            os.mkdir(out)
            p = run([thrift, '-r', '--gen', gen, '-out', out, src])
            check(p.returncode == 0, 'Apache thrift --gen %s rejected comprehensive.thrift:\n%s' %
                  (gen, p.stderr))
            check(len(os.listdir(out)) > 0, 'Apache thrift --gen %s wrote nothing' % gen)
    print('comprehensive.thrift accepted by gale-thriftc and Apache thrift (py, cpp)')


def write_big(tmp, depth=12, structs_per_file=30):
    """An include chain inc0 <- inc1 <- ... <- big.thrift; each level uses the previous one's types."""
    lines = 0
    prev = None
    for level in range(depth + 1):
        name = 'big' if level == depth else 'inc%d' % level
        out = []
        if prev:
            out.append('include "%s.thrift"' % prev)
        out.append('namespace c %s' % name)
        out.append('namespace py gale_big.%s' % name)
        out.append('')
        out.append('enum Kind%d {' % level)
        for v in range(8):
            out.append('\tK%d_%d = %d,' % (level, v, v * 3))
        out.append('}')
        out.append('const i32 LIMIT%d = %d' % (level, 100 + level))
        for s in range(structs_per_file):
            out.append('/** Struct %d of level %d. */' % (s, level))
            out.append('struct S%d_%d {' % (level, s))
            out.append('\t1: required i32 id = LIMIT%d,' % level)
            out.append('\t2: optional string name,')
            out.append('\t3: list<i64> values,')
            out.append('\t4: map<string, double> weights,')
            out.append('\t5: Kind%d kind = Kind%d.K%d_1,' % (level, level, level))
            if s > 0:
                out.append('\t6: S%d_%d previous,' % (level, s - 1))
            if prev:
                out.append('\t7: optional %s.S%d_%d below,' % (prev, level - 1, s))
                out.append('\t8: %s.Kind%d below_kind,' % (prev, level - 1))
            out.append('}')
        out.append('exception Error%d {' % level)
        out.append('\t1: string message')
        out.append('}')
        ext = ' extends %s.Service%d' % (prev, level - 1) if prev else ''
        out.append('service Service%d%s {' % (level, ext))
        for s in range(structs_per_file):
            out.append('\tS%d_%d call%d(1: S%d_%d req, 2: i32 n) throws (1: Error%d e)' %
                       (level, s, s, level, s, level))
        out.append('}')
        with open(os.path.join(tmp, name + '.thrift'), 'w') as f:
            f.write('\n'.join(out) + '\n')
        lines += len(out)
        prev = name
    return os.path.join(tmp, 'big.thrift'), lines


def big(exe):
    with tempfile.TemporaryDirectory() as tmp:
        path, lines = write_big(tmp)
        check(lines >= 2000, 'generated IDL has only %d lines' % lines)
        out = os.path.join(tmp, 'out')
        os.mkdir(out)
        t0 = time.monotonic()
        p = run([exe, '-q', '-r', '-o', out, path])
        dt = time.monotonic() - t0
        check(p.returncode == 0, 'big IDL rejected:\n' + p.stderr[:4000])
        check(len([n for n in os.listdir(out) if n.endswith('.c')]) == 13, 'big IDL: not 13 .c files')
        print('big IDL: %d lines, 13 files, 390 structs, parsed, checked and generated in %.3f s' % (lines, dt))
        compile_dir(out, syntax_only=True)


CFLAGS = ['-std=gnu11', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wmissing-prototypes', '-Wstrict-prototypes',
          '-Wcast-qual', '-Wvla', '-O0']


def compile_dir(out, syntax_only=False):
    """Compiles every generated .c in out with the house warning set and -Werror (acceptance 1 and 4), two at
    a time. syntax_only (for the big IDL: 13 files of ~9,000 lines) stops after the front end, which is where
    every one of these warnings is decided at -O0."""
    src = os.environ.get('GALE_SOURCE_DIR') or os.path.join(os.path.dirname(__file__), '..', '..', '..')
    inc = os.path.join(src, 'codec', 'include')
    rt_inc = os.path.join(src, 'codec', 'thriftc', 'include')
    cc = os.environ.get('CC', 'cc').split()
    mode = ['-fsyntax-only'] if syntax_only else ['-c', '-o', os.devnull]
    names = sorted(n for n in os.listdir(out) if n.endswith('.c'))
    while names:
        batch, names = names[:2], names[2:]
        procs = [(n, subprocess.Popen(cc + CFLAGS + ['-I', inc, '-I', rt_inc, '-I', out] + mode + [os.path.join(out, n)],
                                      stderr=subprocess.PIPE, text=True)) for n in batch]
        for name, proc in procs:
            _, err = proc.communicate(timeout=300)
            check(proc.returncode == 0, '%s does not compile cleanly:\n%s' % (name, err[:6000]))
    print('generated C in %s compiles with %s' % (out, ' '.join(cc + CFLAGS + mode[:1])))


def gencompile(exe, idl):
    with tempfile.TemporaryDirectory() as tmp:
        for src, extra in (('comprehensive/comprehensive.thrift', ['-r']), ('comprehensive/uuid.thrift', []),
                           ('comprehensive/names.thrift', []), ('wire/versions.thrift', [])):
            p = run([exe, '-q', '-o', tmp] + extra + [os.path.join(idl, src)])
            check(p.returncode == 0, 'generating %s failed:\n%s' % (src, p.stderr))
        names = sorted(os.listdir(tmp))
        check(names == ['comprehensive.c', 'comprehensive.h', 'names.c', 'names.h', 'shared.c', 'shared.h', 'uuid.c',
                        'uuid.h', 'versions.c', 'versions.h'], 'generated files: %r' % names)
        with open(os.path.join(tmp, 'comprehensive.h')) as f:
            head = f.read()
        check(head.startswith('/* Generated by gale-thriftc ') and 'from comprehensive.thrift' in head,
              'header comment missing')
        check('A struct with every field type, requiredness and default.' in head, 'doc comment not carried')
        compile_dir(tmp)


def plugin(exe, idl):
    src = os.path.join(idl, 'comprehensive', 'comprehensive.thrift')
    script = os.path.join(idl, 'plugin_listing.py')
    with tempfile.TemporaryDirectory() as tmp:
        p = run([exe, '--plugin', 'listing=/usr/bin/python3 ' + script, '-o', tmp, src])
        check(p.returncode == 0, 'plugin run failed:\n' + p.stderr)
        out = os.path.join(tmp, 'listing', 'comprehensive.txt')
        check(os.path.exists(out), 'plugin output file missing')
        with open(out) as f:
            text = f.read().split('\n')
        check('plugin listing' in text, 'plugin name not passed:\n' + '\n'.join(text))
        check('struct comprehensive.Everything 28' in text, 'struct line missing:\n' + '\n'.join(text))
        check('service comprehensive.Store extends shared.Base 8' in text, 'service line missing')
        check('enum shared.Priority LOW=1,MEDIUM=2,HIGH=10,CRITICAL=11' in text, 'enum values wrong')
        # A plugin reporting an error fails the run with status 1.
        p = run([exe, '--plugin', 'bad=/usr/bin/python3 ' + script + ' --fail', '-o', tmp, src])
        check(p.returncode == 1 and 'asked to fail' in p.stderr, 'plugin error not reported:\n' + p.stderr)
        # A plugin returning an unsafe path is refused.
        p = run([exe, '--plugin', 'bad=/usr/bin/python3 ' + script + ' --escape', '-o', tmp, src])
        check(p.returncode == 1 and not os.path.exists(os.path.join(os.path.dirname(tmp), 'escaped.txt')),
              'plugin path escape not refused:\n' + p.stderr)
    print('plugin hook ok')


def cli(exe, idl):
    p = run([exe, '--help'])
    check(p.returncode == 0 and 'usage: gale-thriftc' in p.stdout, '--help')
    p = run([exe, '--version'])
    check(p.returncode == 0 and p.stdout.startswith('gale-thriftc '), '--version')
    p = run([exe])
    check(p.returncode == 2, 'no input file must exit 2, got %d' % p.returncode)
    p = run([exe, '--no-such-option', 'x.thrift'])
    check(p.returncode == 2, 'bad option must exit 2, got %d' % p.returncode)
    p = run([exe, '--gen', 'java', 'x.thrift'])
    check(p.returncode == 2, 'unknown generator must exit 2, got %d' % p.returncode)
    p = run([exe, '--check', os.path.join(idl, 'broken', 'dup_field_id.thrift')])
    check(p.returncode == 1, 'IDL error must exit 1, got %d' % p.returncode)
    p = run([exe, '--check', '/nonexistent/x.thrift'])
    check(p.returncode == 1 and 'cannot open' in p.stderr, 'missing file: %d %s' % (p.returncode, p.stderr))
    src = os.path.join(idl, 'comprehensive', 'comprehensive.thrift')
    p = run([exe, '-q', '--dump-ast', src])
    check(p.returncode == 0, '--dump-ast failed:\n' + p.stderr)
    ast = json.loads(p.stdout)
    files = {f['name']: f for f in ast['files']}
    check(set(files) == {'comprehensive', 'shared'}, 'files in AST: %s' % sorted(files))
    defs = {d['name']: d for d in files['comprehensive']['definitions']}
    ev = defs['Everything']
    check(ev['doc'] == 'A struct with every field type, requiredness and default.', 'doc: %r' % ev['doc'])
    check(ev['annotations'] == {'struct_note': 'all', 'another': '1'}, 'annotations: %r' % ev['annotations'])
    byname = {f['name']: f for f in ev['fields']}
    check(byname['must']['requiredness'] == 'required', 'requiredness')
    check(byname['maybe']['requiredness'] == 'optional', 'optional')
    check(byname['highest_id']['id'] == 32767, 'field id')
    check(byname['blob']['annotations'] == {'cpp.type': 'std::string'}, 'field annotation')
    color = {v['name']: v['value'] for v in defs['Color']['values']}
    check(color == {'RED': 1, 'GREEN': 2, 'BLUE': 16, 'ALPHA': 17, 'BLACK': -1, 'WHITE': 2147483647},
          'enum values %r' % color)
    legacy = [(f['name'], f['id']) for f in defs['Legacy']['fields']]
    check(legacy == [('first', -1), ('second', -2), ('third', 3)], 'implicit ids %r' % legacy)
    check(defs['GREETING']['value'] == 'hello "world"\n\ttab', 'escapes %r' % defs['GREETING']['value'])
    check(defs['SINGLE']['value'] == "it's single-quoted", 'single quotes')
    check(defs['AVOGADRO']['value'] == 6.022e23, 'double exponent')
    check(defs['HEX_VALUE']['value'] == 0x7fffffff, 'hex')
    check(defs['BIG']['value'] == -2**63, 'i64 min')
    store = defs['Store']
    check(store['extends'] == {'name': 'Base', 'file': 'shared'}, 'extends %r' % store['extends'])
    fns = {f['name']: f for f in store['functions']}
    check(fns['forget']['oneway'] is True, 'oneway')
    check([t['name'] for t in fns['get']['throws']] == ['nf', 'se'], 'throws')
    check(fns['get']['doc'] == 'Reads a value.', 'function doc')
    print('cli ok')


def main():
    cmd = sys.argv[1]
    if cmd == 'comprehensive':
        comprehensive(sys.argv[2], sys.argv[3])
    elif cmd == 'big':
        big(sys.argv[2])
    elif cmd == 'plugin':
        plugin(sys.argv[2], sys.argv[3])
    elif cmd == 'gencompile':
        gencompile(sys.argv[2], sys.argv[3])
    elif cmd == 'cli':
        cli(sys.argv[2], sys.argv[3])
    else:
        print('unknown sub-command ' + cmd)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
