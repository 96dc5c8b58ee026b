"""oss2 (the Python v1 SDK) against the local oss-emulator, signing with `Auth` (V1) and `AuthV4` (V4).

Each signature version gets its own emulator started with `--auth v1` or `--auth v4`, so a request signed the
other way would be refused: passing here means oss2 really spoke that version to the emulator.
oss2 turns an IP endpoint into path-style addressing (`http://127.0.0.1:<port>/<bucket>/<key>`); the addressing tests
add virtual-host (`<bucket>.oss-emulator.interop.test`) and cname (`is_cname=True` on `media.interop.test`, the
emulator's default bucket), with `*.interop.test` resolved to 127.0.0.1 inside the test.
"""

import urllib.parse

import oss2
import pytest
import requests
from oss2.utils import Crc64

from emulator import STS_TOKEN, Emulator, payload

HTTP_TIMEOUT = 10


def crc64(data, init=0):
    c = Crc64(init)
    c.update(data)
    return c.crc


@pytest.fixture(scope='module', params=['v1', 'v4'])
def emu(request):
    e = Emulator(auth=request.param)
    e.sig = request.param
    yield e
    e.stop()


def make_bucket(emu, secret=None, host=None, is_cname=False):
    """An oss2 Bucket; by default on http://127.0.0.1:<port>, which oss2 addresses path-style."""
    secret = secret if secret is not None else emu.access_key_secret
    auth = oss2.Auth(emu.access_key_id, secret) if emu.sig == 'v1' else oss2.AuthV4(emu.access_key_id, secret)
    return oss2.Bucket(auth, emu.endpoint(host), emu.bucket, is_cname=is_cname, region=emu.region,
                       connect_timeout=HTTP_TIMEOUT)


@pytest.fixture
def bucket(emu):
    b = make_bucket(emu)
    assert b.enable_crc, 'oss2 CRC checking must be on for these tests'
    return b


def test_append_twice_chaining_crc_then_head_and_get(bucket, new_key):
    key = new_key()
    part1, part2 = payload(1000, 'oss2-a'), payload(777, 'oss2-b')

    r1 = bucket.append_object(key, 0, part1, init_crc=0)
    assert r1.status == 200
    assert r1.next_position == len(part1)
    assert r1.crc == crc64(part1)

    # init_crc chains the whole-object CRC: oss2 checks the server's CRC after this append itself
    r2 = bucket.append_object(key, r1.next_position, part2, init_crc=r1.crc)
    whole = part1 + part2
    assert r2.next_position == len(whole)
    assert r2.crc == crc64(whole)
    assert r2.crc == crc64(part2, init=r1.crc)

    head = bucket.head_object(key)
    assert head.status == 200
    assert head.object_type == 'Appendable'
    assert head.content_length == len(whole)
    assert int(head.headers['x-oss-next-append-position']) == len(whole)
    assert head.server_crc == crc64(whole)

    got = bucket.get_object(key)  # oss2 checks the whole-object CRC of a full GET as well
    assert got.read() == whole
    assert got.server_crc == crc64(whole)

    ranged = bucket.get_object(key, byte_range=(995, 1004))
    assert ranged.status == 206
    assert ranged.read() == whole[995:1005]
    assert ranged.headers['Content-Range'] == f'bytes 995-1004/{len(whole)}'

    multi = bucket.get_object(key, headers={'Range': 'bytes=10-19,500-599'})  # OSS returns the first range only
    assert multi.status == 206
    assert multi.read() == whole[10:20]
    assert multi.headers['Content-Range'] == f'bytes 10-19/{len(whole)}'


def test_iterables_go_chunked_and_file_objects_append_too(bucket, new_key, tmp_path):
    key = new_key()
    a, b = payload(5000, 'oss2-s1'), payload(1234, 'oss2-s2')

    def chunks():  # oss2 sends an iterable with Transfer-Encoding: chunked
        yield a[:2000]
        yield a[2000:]

    r1 = bucket.append_object(key, 0, chunks(), init_crc=0)
    assert r1.next_position == len(a) and r1.crc == crc64(a)
    path = tmp_path / 'tail.log'
    path.write_bytes(b)
    with open(path, 'rb') as f:
        r2 = bucket.append_object(key, r1.next_position, f, init_crc=r1.crc)
    assert r2.next_position == len(a) + len(b)
    assert bucket.get_object(key).read() == a + b


def test_append_with_a_wrong_init_crc_is_caught_by_the_sdk(bucket, new_key):
    key = new_key()
    part1, part2 = payload(64, 'oss2-c'), payload(64, 'oss2-d')
    r1 = bucket.append_object(key, 0, part1, init_crc=0)
    # the server reports the CRC of the whole object, so seeding with 0 instead of r1.crc must not match
    with pytest.raises(oss2.exceptions.InconsistentError):
        bucket.append_object(key, r1.next_position, part2, init_crc=0)
    assert bucket.head_object(key).server_crc == crc64(part1 + part2)


def test_position_not_equal_to_length_is_409_with_next_position(bucket, new_key):
    key = new_key()
    data = payload(300, 'oss2-e')
    bucket.append_object(key, 0, data, init_crc=0)

    for wrong in (0, 299, 301):
        with pytest.raises(oss2.exceptions.PositionNotEqualToLength) as info:
            bucket.append_object(key, wrong, b'more', init_crc=crc64(data))
        err = info.value
        assert err.status == 409
        assert err.code == 'PositionNotEqualToLength'
        assert err.next_position == len(data)  # read from the 409's x-oss-next-append-position header

    assert bucket.get_object(key).read() == data


def test_append_to_a_put_object_is_object_not_appendable(bucket, new_key):
    key = new_key()
    bucket.put_object(key, b'normal object')
    assert bucket.head_object(key).object_type == 'Normal'

    with pytest.raises(oss2.exceptions.ObjectNotAppendable) as info:
        bucket.append_object(key, 0, b'tail')
    assert info.value.status == 409
    assert info.value.code == 'ObjectNotAppendable'
    assert bucket.get_object(key).read() == b'normal object'


def test_meta_and_content_type_from_creation_stick(bucket, new_key):
    key = new_key('clip.bin')
    r1 = bucket.append_object(key, 0, b'first', init_crc=0, headers={
        'Content-Type': 'video/webm',
        'x-oss-meta-author': 'interop',
        'x-oss-meta-take': '7',
    })
    # a later append sends another Content-Type; the object keeps the one it was created with
    bucket.append_object(key, r1.next_position, b'second', init_crc=r1.crc,
                         headers={'Content-Type': 'text/plain'})

    head = bucket.head_object(key)
    assert head.content_type == 'video/webm'
    assert head.headers['x-oss-meta-author'] == 'interop'
    assert head.headers['x-oss-meta-take'] == '7'
    assert head.content_length == len(b'firstsecond')


def _tamper(url, param):
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    out = []
    for k, v in query:
        if k == param:
            v = ('A' if v[0] != 'A' else 'B') + v[1:]
        out.append((k, v))
    assert any(k == param for k, _ in query), f'{param} not in {url}'
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(out, quote_via=urllib.parse.quote)))


def test_presigned_get_url_works_over_http(emu, bucket, new_key):
    key = new_key('signed file.bin')
    data = payload(513, 'oss2-f')
    bucket.append_object(key, 0, data, init_crc=0)

    url = bucket.sign_url('GET', key, 60)
    assert ('Signature=' in url) if emu.sig == 'v1' else ('x-oss-signature=' in url)
    resp = requests.get(url, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert resp.content == data

    ranged = requests.get(url, headers={'Range': 'bytes=500-'}, timeout=HTTP_TIMEOUT)
    assert ranged.status_code == 206
    assert ranged.content == data[500:]

    bad = requests.get(_tamper(url, 'Signature' if emu.sig == 'v1' else 'x-oss-signature'), timeout=HTTP_TIMEOUT)
    assert bad.status_code == 403
    assert '<Code>SignatureDoesNotMatch</Code>' in bad.text

    with emu.clock_shifted(5 * 60 * 1000):  # five minutes later the 60-second URL has expired
        expired = requests.get(url, timeout=HTTP_TIMEOUT)
    assert expired.status_code == 403
    assert '<Code>AccessDenied</Code>' in expired.text
    assert requests.get(url, timeout=HTTP_TIMEOUT).status_code == 200  # back inside its window

    if emu.sig == 'v1':  # V1 carries an absolute Expires; one in the past is refused
        assert requests.get(bucket.sign_url('GET', key, -60), timeout=HTTP_TIMEOUT).status_code == 403


def test_wrong_secret_is_signature_does_not_match(emu, new_key):
    bad = make_bucket(emu, secret='not-the-secret')
    key = new_key()
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch) as info:
        bad.append_object(key, 0, b'data')
    assert info.value.status == 403
    assert info.value.code == 'SignatureDoesNotMatch'
    # nothing was written
    with pytest.raises(oss2.exceptions.NoSuchKey):
        make_bucket(emu).head_object(key)


def test_clock_skew_is_request_time_too_skewed(emu, bucket, new_key):
    key = new_key()
    with emu.clock_shifted(20 * 60 * 1000):  # the emulator's clock runs 20 minutes ahead
        with pytest.raises(oss2.exceptions.ServerError) as info:
            bucket.append_object(key, 0, b'late')
    assert info.value.status == 403
    assert info.value.code == 'RequestTimeTooSkewed'
    assert bucket.append_object(key, 0, b'on time').next_position == 7


def test_the_emulator_refuses_the_other_signature_version(emu, new_key):
    other = (oss2.AuthV4 if emu.sig == 'v1' else oss2.Auth)(emu.access_key_id, emu.access_key_secret)
    b = oss2.Bucket(other, emu.endpoint(), emu.bucket, region=emu.region, connect_timeout=HTTP_TIMEOUT)
    with pytest.raises(oss2.exceptions.ServerError) as info:
        b.append_object(new_key(), 0, b'x')
    assert info.value.status == 403


def test_delete_then_head_is_404_no_such_key(bucket, new_key):
    key = new_key()
    bucket.append_object(key, 0, b'short lived', init_crc=0)
    assert bucket.head_object(key).content_length == 11

    assert bucket.delete_object(key).status == 204
    with pytest.raises(oss2.exceptions.NoSuchKey) as info:
        bucket.head_object(key)  # HEAD has no body: the code comes from the x-oss-err header
    assert info.value.status == 404
    assert info.value.code == 'NoSuchKey'
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object(key)

    # after the delete, position 0 creates a fresh appendable object
    r = bucket.append_object(key, 0, b'again', init_crc=0)
    assert r.next_position == 5


@pytest.mark.parametrize('style', ['virtual', 'cname'])
def test_virtual_host_and_cname_addressing(emu, bucket, test_dns, style, new_key):
    if style == 'virtual':  # http://<bucket>.oss-emulator.interop.test:<port>/<key>
        other = make_bucket(emu, host=f'oss-emulator.{test_dns}')
    else:  # http://media.interop.test:<port>/<key>, the emulator's default bucket
        other = make_bucket(emu, host=f'media.{test_dns}', is_cname=True)
    key = new_key()
    r1 = other.append_object(key, 0, b'abc', init_crc=0)
    other.append_object(key, r1.next_position, b'def', init_crc=r1.crc)
    assert other.get_object(key).read() == b'abcdef'
    assert bucket.get_object(key).read() == b'abcdef'  # the same object, seen path-style
    resp = requests.get(other.sign_url('GET', key, 60), timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200 and resp.content == b'abcdef'
    assert urllib.parse.urlsplit(other.sign_url('GET', key, 60)).hostname == (
        f'{emu.bucket}.oss-emulator.{test_dns}' if style == 'virtual' else f'media.{test_dns}')


def test_keys_with_spaces_plus_percent_and_unicode(bucket, new_key):
    key = new_key('a b+c%20d/日志 ü.bin')
    part1, part2 = payload(10, 'oss2-g'), payload(20, 'oss2-h')
    r1 = bucket.append_object(key, 0, part1, init_crc=0)
    bucket.append_object(key, r1.next_position, part2, init_crc=r1.crc)
    assert bucket.get_object(key).read() == part1 + part2
    head = bucket.head_object(key)
    assert head.content_length == 30
    assert head.server_crc == crc64(part1 + part2)
    resp = requests.get(bucket.sign_url('GET', key, 60), timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200 and resp.content == part1 + part2


@pytest.fixture(scope='module')
def sts_emu():
    e = Emulator(auth='any', extra_args=('--sts-token', STS_TOKEN))
    yield e
    e.stop()


@pytest.mark.parametrize('version', [oss2.AUTH_VERSION_1, oss2.AUTH_VERSION_4])
def test_sts_token_in_requests_and_presigned_urls(sts_emu, version, new_key):
    def sts_bucket(token):
        auth = oss2.StsAuth(sts_emu.access_key_id, sts_emu.access_key_secret, token, auth_version=version)
        return oss2.Bucket(auth, sts_emu.endpoint(), sts_emu.bucket, region=sts_emu.region,
                           connect_timeout=HTTP_TIMEOUT)

    bucket = sts_bucket(STS_TOKEN)
    key = new_key()
    data = payload(100, 'oss2-sts')
    r = bucket.append_object(key, 0, data, init_crc=0)
    assert r.next_position == len(data)
    assert bucket.get_object(key).read() == data

    url = bucket.sign_url('GET', key, 60)
    token_param = 'security-token' if version == oss2.AUTH_VERSION_1 else 'x-oss-security-token'
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))[token_param] == STS_TOKEN
    resp = requests.get(url, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200 and resp.content == data

    with pytest.raises(oss2.exceptions.ServerError) as info:
        sts_bucket('not-the-token').append_object(key, len(data), b'x')
    assert info.value.status == 403
    assert info.value.code == 'InvalidSecurityToken'


@pytest.fixture(scope='module')
def versioned_emu():
    e = Emulator(auth='v4', versioning='enabled')
    e.sig = 'v4'
    yield e
    e.stop()


def test_versioned_bucket_append_put_delete_flow(versioned_emu, new_key):
    """The flow of a recording on a versioned bucket, with the answers oss-append's own e2e test expects."""
    bucket = make_bucket(versioned_emu)
    key = new_key('take.webm')
    part1, part2 = payload(3000, 'v-oss2-a'), payload(1234, 'v-oss2-b')

    r1 = bucket.append_object(key, 0, part1, init_crc=0)
    r2 = bucket.append_object(key, r1.next_position, part2, init_crc=r1.crc)
    assert [r1.versionid, r2.versionid] == ['null', 'null']
    listed = bucket.list_object_versions(prefix=key)
    assert [(v.key, v.versionid, v.is_latest, v.type, v.size) for v in listed.versions] == \
        [(key, 'null', True, 'Appendable', len(part1) + len(part2))]
    assert listed.delete_marker == []

    put = bucket.put_object(key, b'normal')
    assert put.versionid and put.versionid != 'null'
    old = bucket.get_object(key, params={'versionId': 'null'})
    assert old.versionid == 'null'
    assert old.read() == part1 + part2
    assert bucket.head_object(key).versionid == put.versionid

    with pytest.raises(oss2.exceptions.ObjectNotAppendable) as info:
        bucket.append_object(key, r2.next_position, b'late')
    assert info.value.status == 409

    deleted = bucket.delete_object(key)
    assert deleted.status == 204
    assert deleted.delete_marker is True
    assert deleted.versionid not in ('', 'null', put.versionid)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object(key)
    assert bucket.get_object(key, params={'versionId': 'null'}).read() == part1 + part2
    listed = bucket.list_object_versions(prefix=key)
    assert [(m.versionid, m.is_latest) for m in listed.delete_marker] == [(deleted.versionid, True)]
    assert [v.versionid for v in listed.versions] == [put.versionid, 'null']
    assert [(v['version_id'], v['delete_marker']) for v in versioned_emu.versions(key)] == \
        [(deleted.versionid, True), (put.versionid, False), ('null', False)]


def test_suspended_bucket_writes_are_the_one_null_version(versioned_emu, new_key):
    bucket = make_bucket(versioned_emu)
    key = new_key()
    assert versioned_emu.set_versioning('suspended') == 'suspended'
    try:
        assert bucket.append_object(key, 0, b'abc').versionid == 'null'
        assert bucket.put_object(key, b'def').versionid == 'null'
        assert bucket.get_object(key, params={'versionId': 'null'}).read() == b'def'
        assert [(v.versionid, v.type) for v in bucket.list_object_versions(prefix=key).versions] == [('null', 'Normal')]
    finally:
        versioned_emu.set_versioning('enabled')


def test_put_bucket_versioning_suspends_and_enables_versioning(versioned_emu, new_key):
    bucket = make_bucket(versioned_emu)
    key = new_key()
    try:
        assert bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig('Suspended')).status == 200
        assert bucket.get_bucket_versioning().status == 'Suspended'
        assert bucket.put_object(key, b'a').versionid == 'null'
        bucket.put_bucket_versioning(oss2.models.BucketVersioningConfig('Enabled'))
        assert bucket.get_bucket_versioning().status == 'Enabled'
        assert bucket.put_object(key, b'b').versionid not in ('', None, 'null')
    finally:
        versioned_emu.set_versioning('enabled')
