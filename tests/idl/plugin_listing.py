#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A tiny gale-thriftc plugin for the tests: reads the request (JSON AST) on stdin and returns one file,
listing/<root>.txt, with a line per definition. --fail replies with an error; --escape asks for a file
outside the output directory (which gale-thriftc must refuse)."""
import json
import sys

req = json.load(sys.stdin)
if '--fail' in sys.argv:
    json.dump({'error': 'asked to fail'}, sys.stdout)
    sys.exit(0)
if '--escape' in sys.argv:
    json.dump({'files': [{'name': '../escaped.txt', 'content': 'x'}]}, sys.stdout)
    sys.exit(0)
prog = req['program']
lines = ['plugin ' + req['plugin']]
for f in prog['files']:
    for d in f['definitions']:
        name = '%s.%s' % (f['name'], d['name'])
        if d['kind'] in ('struct', 'union', 'exception'):
            lines.append('%s %s %d' % (d['kind'], name, len(d['fields'])))
        elif d['kind'] == 'enum':
            lines.append('enum %s %s' % (name, ','.join('%s=%d' % (v['name'], v['value'])
                                                         for v in d['values'])))
        elif d['kind'] == 'service':
            ext = ' extends %s.%s' % (d['extends']['file'], d['extends']['name']) if d['extends'] else ''
            lines.append('service %s%s %d' % (name, ext, len(d['functions'])))
root = prog['files'][0]['name']
json.dump({'files': [{'name': 'listing/%s.txt' % root, 'content': '\n'.join(lines) + '\n'}],
           'warnings': ['%d definitions listed' % (len(lines) - 1)]}, sys.stdout)
