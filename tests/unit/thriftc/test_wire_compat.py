#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Wire compatibility of gale-thriftc's generated C with Apache Thrift's generated Python, both ways, Binary and
Compact: per struct (every field type, defaults, optional fields left unset, unions, exceptions, negative
implicit ids, recursive and by-reference structs), unknown fields (a newer schema writes, an older reads), and per
service call (a Python client against the generated dispatch, a generated client stub against Python).
The gale side is thriftc_wire_driver (wire_driver.c); Apache's Python code is generated here into a temp dir.
Usage: test_wire_compat.py WIRE_DRIVER IDL_DIR"""
import os
import shutil
import subprocess
import sys
import tempfile

EXE, IDL = os.path.abspath(sys.argv[1]), sys.argv[2]
THRIFT = shutil.which('thrift')
if THRIFT is None:
    print('SKIP: Apache thrift compiler not installed (thrift-compiler)')
    sys.exit(77)
try:
    from thrift.transport import TTransport
    from thrift.protocol import TBinaryProtocol, TCompactProtocol
    from thrift.Thrift import TMessageType, TApplicationException
except ImportError:
    print('SKIP: python3-thrift is not installed')
    sys.exit(77)

TMP = tempfile.mkdtemp(prefix='gale-wire-')
for src, rec in (('comprehensive/comprehensive.thrift', True), ('wire/versions.thrift', False)):
    cmd = [THRIFT] + (['-r'] if rec else []) + ['--gen', 'py', '-out', TMP, os.path.join(IDL, src)]
    subprocess.run(cmd, check=True, capture_output=True)
sys.path.insert(0, TMP)
from gale_test.demo import ttypes as demo, Store, AdminStore  # noqa: E402
from gale_test.shared import ttypes as shared, Base  # noqa: E402
from gale_test.versions import ttypes as versions  # noqa: E402

PROTOS = {'binary': TBinaryProtocol.TBinaryProtocol, 'compact': TCompactProtocol.TCompactProtocol}
failures = []
checks = 0


def enc(obj, proto):
    buf = TTransport.TMemoryBuffer()
    obj.write(PROTOS[proto](buf))
    return buf.getvalue()


def dec(cls, data, proto):
    # Apache's Python exceptions are immutable: read() is a classmethod returning the instance.
    obj = cls()
    got = obj.read(PROTOS[proto](TTransport.TMemoryBuffer(data)))
    return got if got is not None else obj


def drv(args, data=b''):
    return subprocess.run([EXE] + args, input=data, capture_output=True, timeout=60)


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print('FAIL ' + what)


def everything():
    return demo.Everything(
        b=False, by=-5, i_8=8, i_16=-1600, i_32=320000, i_64=-(1 << 40), d=-0.125, s='hello', bin=b'\x00\xff',
        must='must', maybe='maybe', strings=['a', '', 'c\n'], ints={1, 2, 3}, scores={'x': 1.5, 'y': -2.0},
        nested=[{'k': {1, 2}}], color=demo.Color.ALPHA, maybe_color=demo.Color.BLACK,
        point=shared.Point(x=3.0, y=4.0, label='pt'), where=shared.Point(x=5.0, y=6.0), users=[10, 20],
        index={'a': [1, 2], 'b': []}, places={demo.Color.RED: shared.Point(x=1.0, y=1.0)}, blob=b'blob',
        priority=shared.Priority.CRITICAL,
        inners=[demo.Inner(value=1), demo.Inner(value=2, deeper=demo.Inner2(text='d'))],
        one_inner=demo.Inner(value=3), highest_id=32767)


def record_v2():
    return versions.RecordV2(id=77, name='seventy-seven', tags=['t1', 't2'],
                             nested=versions.Nested(text='inner', numbers=[-1, 0, 1]), weights={'w': 0.5},
                             score=1e300, seen={9, 99}, flag=True, raw=b'\x01\x02')


# gale encodes, Apache decodes. "defaults" is Everything after _init with only the required field set: gale
# writes every default-requiredness field (Apache C++'s rule), so the fields without an IDL default arrive as
# zero values, and the optional ones stay unset.
GALE_TO_PY = [
    ('everything', demo.Everything, everything()),
    ('defaults', demo.Everything, demo.Everything(must='m', bin=b'', ints=set(), nested=[], users=[], index={},
                                                  places={}, blob=b'', inners=[], highest_id=0)),
    ('union', demo.Value, demo.Value(list_value=[demo.Value(int_value=5), demo.Value(string_value='s')])),
    ('exception', demo.NotFound, demo.NotFound(key='k', code=7)),
    ('v2', versions.RecordV2, record_v2()),
    ('v2', versions.RecordV1, versions.RecordV1(id=77, name='seventy-seven')),  # unknown fields skipped
]

# Apache encodes, gale decodes (whole and in 7-byte segments) and re-encodes, Apache decodes.
PY_ROUNDTRIP = [
    ('Everything', demo.Everything, everything()),
    ('Value', demo.Value, demo.Value(bool_value=True)),
    ('Value', demo.Value, demo.Value(double_value=-0.0)),
    ('Value', demo.Value, demo.Value(list_value=[demo.Value(list_value=[demo.Value(int_value=-(2 ** 63))])])),
    ('NotFound', demo.NotFound, demo.NotFound(key='nf', code=-1)),
    ('Invalid', demo.Invalid, demo.Invalid(why='w' * 300, details=['a', 'b'])),
    ('Legacy', demo.Legacy, demo.Legacy(first=1, second='two', third=3)),
    ('Recursive', demo.Recursive, demo.Recursive(name='root', children=[
        demo.Recursive(name='leaf', children=[]), demo.Recursive(children=[])])),
    ('ByReference', demo.ByReference, demo.ByReference(ref_field=demo.Inner(value=9))),
    ('ByReference', demo.ByReference, demo.ByReference()),
    ('RecordV2', versions.RecordV2, record_v2()),
]


def structs(proto):
    for case, cls, want in GALE_TO_PY:
        p = drv(['encode', case, proto])
        check(p.returncode == 0, '%s encode %s: %s' % (proto, case, p.stderr.decode()))
        if p.returncode == 0:
            got = dec(cls, p.stdout, proto)
            check(got == want, '%s gale->py %s as %s:\n got  %r\n want %r' % (proto, case, cls.__name__, got, want))
    for typ, cls, obj in PY_ROUNDTRIP:
        p = drv(['roundtrip', typ, proto], enc(obj, proto))
        check(p.returncode == 0, '%s roundtrip %s: %s' % (proto, typ, p.stderr.decode()))
        if p.returncode == 0:
            got = dec(cls, p.stdout, proto)
            check(got == obj, '%s py->gale->py %s:\n got  %r\n want %r' % (proto, typ, got, obj))
    # Unknown fields: a newer writer (Apache, RecordV2), an older reader (gale, RecordV1).
    p = drv(['roundtrip', 'RecordV1', proto], enc(record_v2(), proto))
    check(p.returncode == 0, '%s RecordV2 read as RecordV1: %s' % (proto, p.stderr.decode()))
    if p.returncode == 0:
        got = dec(versions.RecordV1, p.stdout, proto)
        check(got == versions.RecordV1(id=77, name='seventy-seven'), '%s unknown fields: %r' % (proto, got))
    # Fields out of IDL order, and an unknown field between known ones: the decoders' in-order fast path must
    # hand over to the general loop with the protocol state intact (Compact field-id deltas).
    from thrift.Thrift import TType
    for order in ([(2, 'x'), (1, 5)], [(1, 5), (9, -3), (2, 'x')], [(9, 7), (1, 5), (2, 'x')]):
        buf = TTransport.TMemoryBuffer()
        prot = PROTOS[proto](buf)
        prot.writeStructBegin('RecordV1')
        for fid, val in order:
            if isinstance(val, str):
                prot.writeFieldBegin('f', TType.STRING, fid)
                prot.writeString(val)
            else:
                prot.writeFieldBegin('f', TType.I32, fid)
                prot.writeI32(val)
            prot.writeFieldEnd()
        prot.writeFieldStop()
        prot.writeStructEnd()
        p = drv(['roundtrip', 'RecordV1', proto], buf.getvalue())
        check(p.returncode == 0, '%s out-of-order %r: %s' % (proto, order, p.stderr.decode()))
        if p.returncode == 0:
            got = dec(versions.RecordV1, p.stdout, proto)
            check(got == versions.RecordV1(id=5, name='x'), '%s out-of-order %r: %r' % (proto, order, got))
    # Every proper prefix is "need more" (-2) for a reader that may get more, never success or malformed.
    for typ, obj in (('Everything', everything()), ('Value', demo.Value(list_value=[demo.Value(bool_value=False)])),
                     ('RecordV1', record_v2())):
        p = drv(['prefixes', typ, proto], enc(obj, proto))
        check(p.returncode == 0, '%s prefixes of %s: %s' % (proto, typ, p.stderr.decode()))
    # Truncated input must fail cleanly, never crash.
    data = enc(everything(), proto)
    for cut in range(0, len(data), max(1, len(data) // 40)):
        p = drv(['roundtrip', 'Everything', proto], data[:cut])
        check(p.returncode == 1, '%s truncated at %d: status %d %s' % (proto, cut, p.returncode, p.stderr.decode()))


def call(proto, method, args, seqid=42, mtype=TMessageType.CALL):
    buf = TTransport.TMemoryBuffer()
    prot = PROTOS[proto](buf)
    prot.writeMessageBegin(method, mtype, seqid)
    args.write(prot)
    prot.writeMessageEnd()
    return drv(['serve', proto], buf.getvalue())


def reply(proto, p, method, cls, seqid=42):
    prot = PROTOS[proto](TTransport.TMemoryBuffer(p.stdout))
    name, mtype, sid = prot.readMessageBegin()
    check((name, mtype, sid) == (method, TMessageType.REPLY, seqid),
          '%s %s envelope: %r' % (proto, method, (name, mtype, sid)))
    res = cls()
    res.read(prot)
    return res


def services(proto):
    cases = [
        ('get', Store.get_args(key='alpha'), Store.get_result,
         Store.get_result(success=demo.Value(string_value='alpha'))),
        ('get', Store.get_args(key='timeout', timeout_ms=5), Store.get_result,
         Store.get_result(success=demo.Value(int_value=5))),
        ('get', Store.get_args(key='missing'), Store.get_result,
         Store.get_result(nf=demo.NotFound(key='missing', code=404))),
        ('put', Store.put_args(key='k', value=demo.Value(bool_value=True)), Store.put_result,
         Store.put_result(bad=demo.Invalid(why='bool values are refused', details=['k']))),
        ('put', Store.put_args(key='k', value=demo.Value(int_value=1)), Store.put_result, Store.put_result()),
        ('ping', Base.ping_args(), Base.ping_result, Base.ping_result(success='pong')),  # inherited, included
        ('uptime', Base.uptime_args(), Base.uptime_result,
         Base.uptime_result(err=shared.SharedError(code=503, message='down'))),
        ('count', AdminStore.count_args(owner=21), AdminStore.count_result, AdminStore.count_result(success=42)),
    ]
    for method, args, cls, want in cases:
        p = call(proto, method, args)
        check(p.returncode == 0, '%s serve %s: status %d %s' % (proto, method, p.returncode, p.stderr.decode()))
        if p.returncode == 0:
            got = reply(proto, p, method, cls)
            check(got == want, '%s %s result:\n got  %r\n want %r' % (proto, method, got, want))
    p = call(proto, 'forget', Store.forget_args(key='gone'), mtype=TMessageType.ONEWAY)
    check(p.returncode == 0 and p.stdout == b'' and b'forget gone' in p.stderr,
          '%s oneway forget: %d %r %r' % (proto, p.returncode, p.stdout, p.stderr))
    p = call(proto, 'nope', Store.forget_args(key='x'))
    check(p.returncode == 3 and p.stdout == b'', '%s unknown method: status %d' % (proto, p.returncode))

    # gale client stub -> Apache reads the call; Apache replies -> gale client stub reads the result.
    p = drv(['send_get', proto])
    check(p.returncode == 0, '%s send_get: %s' % (proto, p.stderr.decode()))
    prot = PROTOS[proto](TTransport.TMemoryBuffer(p.stdout))
    name, mtype, sid = prot.readMessageBegin()
    args = Store.get_args()
    args.read(prot)
    check((name, mtype, sid) == ('get', TMessageType.CALL, 7), '%s send_get envelope %r' % (proto, (name, mtype, sid)))
    check(args == Store.get_args(key='k1', timeout_ms=250), '%s send_get args %r' % (proto, args))
    for expect, res, mtype in (('double', Store.get_result(success=demo.Value(double_value=2.5)), TMessageType.REPLY),
                               ('notfound', Store.get_result(nf=demo.NotFound(key='x')), TMessageType.REPLY),
                               ('appex', TApplicationException(TApplicationException.INTERNAL_ERROR, 'boom'),
                                TMessageType.EXCEPTION)):
        buf = TTransport.TMemoryBuffer()
        prot = PROTOS[proto](buf)
        prot.writeMessageBegin('get', mtype, 7)
        res.write(prot)
        prot.writeMessageEnd()
        p = drv(['recv_get', proto, expect], buf.getvalue())
        check(p.returncode == 0, '%s recv_get %s: %s' % (proto, expect, p.stderr.decode()))


def generic(proto):
    """The generic decoder and JSON printer against Apache's encoding, with and without descriptors."""
    import base64
    import json
    p = drv(['generic', 'Everything', proto], enc(everything(), proto))
    check(p.returncode == 0, '%s generic Everything: %s' % (proto, p.stderr.decode()))
    if p.returncode == 0:
        j = json.loads(p.stdout)
        e = everything()
        for name in ('b', 'by', 'i_8', 'i_16', 'i_32', 'i_64', 'd', 's', 'must', 'maybe', 'strings', 'users',
                     'color', 'priority', 'highest_id'):
            check(j.get(name) == getattr(e, name), '%s generic %s: %r != %r' % (proto, name, j.get(name),
                                                                                 getattr(e, name)))
        check(base64.b64decode(j['bin']) == e.bin, '%s generic binary as base64: %r' % (proto, j['bin']))
        check(j['scores'] == e.scores, '%s generic map<string,double>' % proto)
        check(sorted(j['ints']) == sorted(e.ints), '%s generic set' % proto)
        check(j['index'] == e.index, '%s generic map<string,list>' % proto)
        check(j['places'] == {str(demo.Color.RED): {'x': 1.0, 'y': 1.0}}, '%s generic map<enum,struct> %r' %
              (proto, j['places']))
        check(j['point'] == {'x': 3.0, 'y': 4.0, 'label': 'pt'}, '%s generic struct field' % proto)
        check(j['nested'] == [{'k': [1, 2]}], '%s generic nested %r' % (proto, j['nested']))
        check(j['inners'][1] == {'value': 2, 'deeper': {'text': 'd'}}, '%s generic list<struct>' % proto)
        check(j.get('maybe_int') == 5, '%s generic: optional with a default (Apache writes it)' % proto)
    # Without a descriptor fields are keyed by id; with an older descriptor, unknown fields by id.
    p = drv(['generic', 'RecordV1', proto], enc(record_v2(), proto))
    check(p.returncode == 0, '%s generic RecordV1: %s' % (proto, p.stderr.decode()))
    if p.returncode == 0:
        j = json.loads(p.stdout)
        check(j['id'] == 77 and j['name'] == 'seventy-seven' and j['3'] == ['t1', 't2'] and
              j['4'] == {'1': 'inner', '2': [-1, 0, 1]} and j['6'] == 1e300 and j['8'] is True,
              '%s generic unknown fields by id: %r' % (proto, j))
    p = drv(['loopback', proto])
    check(p.returncode == 0 and b'loopback ok' in p.stdout, '%s loopback channel: %s %s' %
          (proto, p.stdout.decode(), p.stderr.decode()))


def main():
    try:
        for proto in ('binary', 'compact'):
            structs(proto)
            services(proto)
            generic(proto)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print('%d checks, %d failures' % (checks, len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
