"""alibabacloud-oss-v2 (the Python v2 SDK, V4 signing) against the local oss-emulator started with `--auth v4`.

The main client is path-style on `http://127.0.0.1:<port>` (`use_path_style=True`; the SDK picks path style for an IP
endpoint anyway). The addressing tests add virtual-host (`<bucket>.oss-emulator.interop.test`) and cname
(`use_cname=True` on `media.interop.test`, the emulator's default bucket), with `*.interop.test` resolved to 127.0.0.1
inside the test. Faults are armed through the emulator's control plane and checked in its request log.
"""

import datetime
import urllib.parse

import alibabacloud_oss_v2 as oss
import pytest
import requests
from alibabacloud_oss_v2.crc import Crc64

from emulator import STS_TOKEN, Emulator, payload

HTTP_TIMEOUT = 10


def crc64(data, init=0):
    c = Crc64(init)
    c.update(data)
    return c.sum64()


@pytest.fixture(scope='module')
def emu():
    e = Emulator(auth='v4')
    yield e
    e.stop()


def make_client(emu, secret=None, host=None, style='path', retry_max_attempts=None, token=None):
    """A v2 client; by default path-style on http://127.0.0.1:<port> (style: 'path', 'virtual' or 'cname')."""
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
        emu.access_key_id, secret if secret is not None else emu.access_key_secret, security_token=token)
    cfg.region = emu.region
    cfg.endpoint = emu.endpoint(host)
    cfg.signature_version = 'v4'
    if style == 'cname':
        cfg.use_cname = True
    elif style == 'path':
        cfg.use_path_style = True
    cfg.connect_timeout = 5
    cfg.readwrite_timeout = HTTP_TIMEOUT
    if retry_max_attempts is not None:
        cfg.retry_max_attempts = retry_max_attempts
    return oss.Client(cfg)


@pytest.fixture
def client(emu):
    return make_client(emu)


def service_error(excinfo):
    """The ServiceError inside the SDK's OperationError."""
    err = excinfo.value
    assert isinstance(err, oss.exceptions.OperationError), repr(err)
    inner = err.unwrap()
    assert isinstance(inner, oss.exceptions.ServiceError), repr(inner)
    return inner


def append(client, emu, key, position, body, **kwargs):
    return client.append_object(oss.AppendObjectRequest(bucket=emu.bucket, key=key, position=position, body=body,
                                                        **kwargs))


def head(client, emu, key):
    return client.head_object(oss.HeadObjectRequest(bucket=emu.bucket, key=key))


def get(client, emu, key, range_header=None):
    r = client.get_object(oss.GetObjectRequest(bucket=emu.bucket, key=key, range_header=range_header))
    return r, r.body.read()


# ---- faults through the control plane -------------------------------------------------------------------------

def arm(emu, kind, key, count=1, **extra):
    """Arms a fault for the next `count` appends to `key`."""
    status, body = emu.control('POST', 'faults', {'kind': kind, 'op': 'append', 'bucket': emu.bucket, 'key': key,
                                                  'count': count, **extra})
    assert status in (200, 201), (status, body)


def arm_drop_after_commit(emu, key, count=1):
    """The next `count` appends to `key` commit and then lose their response (the connection is dropped)."""
    arm(emu, 'drop_after_commit', key, count)


def armed_faults_for(emu, key):
    status, body = emu.control('GET', 'faults')
    assert status == 200, (status, body)
    return [f for f in body['faults'] if f.get('key') == key]


# ---- tests -----------------------------------------------------------------------------------------------------

def test_append_object_twice_then_head_get_and_range(client, emu, new_key):
    key = new_key()
    part1, part2 = payload(1000, 'v2-a'), payload(777, 'v2-b')
    whole = part1 + part2

    r1 = append(client, emu, key, 0, part1)
    assert r1.status_code == 200
    assert r1.next_position == len(part1)
    assert int(r1.hash_crc64) == crc64(part1)

    r2 = append(client, emu, key, r1.next_position, part2)
    assert r2.next_position == len(whole)
    assert int(r2.hash_crc64) == crc64(whole)
    assert int(r2.hash_crc64) == crc64(part2, init=int(r1.hash_crc64))

    h = head(client, emu, key)
    assert h.object_type == 'Appendable'
    assert h.content_length == len(whole)
    assert h.next_append_position == len(whole)
    assert int(h.hash_crc64) == crc64(whole)

    g, content = get(client, emu, key)
    assert g.status_code == 200
    assert content == whole
    assert int(g.hash_crc64) == crc64(whole)

    g, content = get(client, emu, key, range_header='bytes=995-1004')
    assert g.status_code == 206
    assert content == whole[995:1005]
    assert g.content_range == f'bytes 995-1004/{len(whole)}'

    g, content = get(client, emu, key, range_header='bytes=10-19,500-599')  # OSS returns the first range only
    assert g.status_code == 206
    assert content == whole[10:20]
    assert g.content_range == f'bytes 10-19/{len(whole)}'


def test_position_not_equal_to_length_is_409(client, emu, new_key):
    key = new_key()
    data = payload(300, 'v2-c')
    append(client, emu, key, 0, data)

    for wrong in (0, 299, 301):
        with pytest.raises(oss.exceptions.OperationError) as info:
            append(client, emu, key, wrong, b'more')
        err = service_error(info)
        assert err.status_code == 409
        assert err.code == 'PositionNotEqualToLength'
        assert int(err.headers['x-oss-next-append-position']) == len(data)

    assert get(client, emu, key)[1] == data


def test_append_to_a_put_object_is_object_not_appendable(client, emu, new_key):
    key = new_key()
    client.put_object(oss.PutObjectRequest(bucket=emu.bucket, key=key, body=b'normal object'))
    assert head(client, emu, key).object_type == 'Normal'

    with pytest.raises(oss.exceptions.OperationError) as info:
        append(client, emu, key, 0, b'tail')
    err = service_error(info)
    assert err.status_code == 409
    assert err.code == 'ObjectNotAppendable'

    # AppendOnlyFile refuses to open it as well
    with pytest.raises(Exception, match='Not a appendable file'):
        client.append_file(emu.bucket, key)
    assert get(client, emu, key)[1] == b'normal object'


def test_meta_and_content_type_from_creation_stick(client, emu, new_key):
    key = new_key('clip.bin')
    r1 = append(client, emu, key, 0, b'first', content_type='video/webm',
                metadata={'author': 'interop', 'take': '7'}, cache_control='no-cache')
    # the SDK sends a Content-Type on every append; the object keeps the one it was created with
    append(client, emu, key, r1.next_position, b'second', content_type='text/plain')

    h = head(client, emu, key)
    assert h.content_type == 'video/webm'
    assert h.metadata == {'author': 'interop', 'take': '7'}
    assert h.cache_control == 'no-cache'
    assert h.content_length == 11


def test_append_file_create_parameter_sticks_and_resumes(client, emu, new_key):
    key = new_key('log.txt')
    create = oss.AppendObjectRequest(content_type='text/plain; charset=utf-8', metadata={'source': 'append-file'})
    with client.append_file(emu.bucket, key, create_parameter=create) as f:
        assert f.tell() == 0
        assert f.write(b'line 1\n') == 7
        assert f.write(b'line 2\n') == 7
        assert f.tell() == 14

    # re-opening resumes from HEAD (length and type), as after a restart
    with client.append_file(emu.bucket, key) as f:
        assert f.tell() == 14
        assert f.write(b'line 3\n') == 7

    h = head(client, emu, key)
    assert h.content_type == 'text/plain; charset=utf-8'
    assert h.metadata == {'source': 'append-file'}
    assert get(client, emu, key)[1] == b'line 1\nline 2\nline 3\n'
    assert int(h.hash_crc64) == crc64(b'line 1\nline 2\nline 3\n')


def test_empty_appends_create_and_change_nothing(client, emu, new_key):
    key = new_key()
    with client.append_file(emu.bucket, key) as f:
        f.flush()  # the SDK creates the object with a zero-byte append at position 0
        assert f.tell() == 0
    h = head(client, emu, key)
    assert (h.object_type, h.content_length, int(h.hash_crc64)) == ('Appendable', 0, 0)

    r = append(client, emu, key, 0, b'data')
    again = append(client, emu, key, r.next_position, b'')  # a zero-byte append at the right position: no-op
    assert again.next_position == 4
    assert again.hash_crc64 == r.hash_crc64
    assert get(client, emu, key)[1] == b'data'


def test_append_file_across_a_lost_response_after_commit(emu, new_key):
    """drop_after_commit: the append is applied, its response is lost; the SDK retries, gets 409, HEADs and
    reconciles, so every byte lands exactly once."""
    client = make_client(emu, retry_max_attempts=3)
    key = new_key('recording.webm')
    chunks = [payload(4096, 'v2-drop-1'), payload(1000, 'v2-drop-2'), payload(2500, 'v2-drop-3')]

    with client.append_file(emu.bucket, key) as f:
        assert f.write(chunks[0]) == len(chunks[0])
        arm_drop_after_commit(emu, key)
        assert f.write(chunks[1]) == len(chunks[1])
        assert armed_faults_for(emu, key) == []  # the fault fired on that append
        # what the SDK did: the append committed and lost its answer, the retry met 409, a HEAD reconciled
        at = len(chunks[0])
        log = [(r['op'], r['position'], r['status'], r['code'], r['fault']) for r in emu.requests_for(key)]
        i = log.index(('append', str(at), 0, None, 'drop_after_commit'))
        assert log[i + 1] == ('append', str(at), 409, 'PositionNotEqualToLength', None)
        assert log[i + 2][:3] == ('head', None, 200)
        assert f.write(chunks[2]) == len(chunks[2])
        assert f.tell() == sum(map(len, chunks))

    whole = b''.join(chunks)
    assert get(client, emu, key)[1] == whole
    h = head(client, emu, key)
    assert h.content_length == len(whole)
    assert int(h.hash_crc64) == crc64(whole)


def test_plain_append_object_across_a_lost_response_surfaces_409(emu, new_key):
    """Without AppendOnlyFile's reconciliation, the retried append meets the committed bytes: 409, applied once."""
    client = make_client(emu, retry_max_attempts=3)
    key = new_key()
    part1, part2 = payload(100, 'v2-drop-4'), payload(200, 'v2-drop-5')
    append(client, emu, key, 0, part1)
    arm_drop_after_commit(emu, key)
    assert len(armed_faults_for(emu, key)) == 1

    with pytest.raises(oss.exceptions.OperationError) as info:
        append(client, emu, key, len(part1), part2)
    err = service_error(info)
    assert err.status_code == 409
    assert err.code == 'PositionNotEqualToLength'
    assert int(err.headers['x-oss-next-append-position']) == len(part1) + len(part2)
    log = [(r['op'], r['position'], r['status'], r['fault']) for r in emu.requests_for(key)]
    assert log[-2:] == [('append', str(len(part1)), 0, 'drop_after_commit'), ('append', str(len(part1)), 409, None)]
    assert get(client, emu, key)[1] == part1 + part2


@pytest.mark.parametrize('kind', ['error_before_commit', 'reset_mid_body'])
def test_failures_before_commit_are_retried_by_the_sdk(emu, kind, new_key):
    """A 500 or a connection reset mid-body applies nothing; the SDK's retry then lands the bytes once."""
    client = make_client(emu, retry_max_attempts=3)
    key = new_key()
    part1, part2 = payload(100, 'v2-retry-1'), payload(4000, 'v2-retry-2')
    append(client, emu, key, 0, part1)
    arm(emu, kind, key)

    r = append(client, emu, key, len(part1), part2)
    assert r.next_position == len(part1) + len(part2)
    assert int(r.hash_crc64) == crc64(part1 + part2)
    assert get(client, emu, key)[1] == part1 + part2
    log = [(r['position'], r['status'], r['fault']) for r in emu.requests_for(key) if r['op'] == 'append']
    expected_status = 500 if kind == 'error_before_commit' else 0
    assert log[-2:] == [(str(len(part1)), expected_status, kind), (str(len(part1)), 200, None)]


def _tamper(url, param):
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    assert any(k == param for k, _ in query), f'{param} not in {url}'
    out = [(k, (('A' if v[0] != 'A' else 'B') + v[1:]) if k == param else v) for k, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(out, quote_via=urllib.parse.quote)))


def test_presigned_get_works_over_http(client, emu, new_key):
    key = new_key('signed file.bin')
    data = payload(513, 'v2-d')
    append(client, emu, key, 0, data)

    pre = client.presign(oss.GetObjectRequest(bucket=emu.bucket, key=key), expires=datetime.timedelta(seconds=60))
    assert pre.method == 'GET'
    assert 'x-oss-signature=' in pre.url and 'x-oss-signature-version=OSS4-HMAC-SHA256' in pre.url
    resp = requests.get(pre.url, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200, resp.text
    assert resp.content == data

    bad = requests.get(_tamper(pre.url, 'x-oss-signature'), timeout=HTTP_TIMEOUT)
    assert bad.status_code == 403
    assert '<Code>SignatureDoesNotMatch</Code>' in bad.text

    with emu.clock_shifted(5 * 60 * 1000):  # five minutes later the 60-second URL has expired
        expired = requests.get(pre.url, timeout=HTTP_TIMEOUT)
    assert expired.status_code == 403
    assert '<Code>AccessDenied</Code>' in expired.text
    assert requests.get(pre.url, timeout=HTTP_TIMEOUT).status_code == 200  # back inside its window


def test_wrong_secret_is_signature_does_not_match(client, emu, new_key):
    bad = make_client(emu, secret='not-the-secret')
    key = new_key()
    with pytest.raises(oss.exceptions.OperationError) as info:
        append(bad, emu, key, 0, b'data')
    err = service_error(info)
    assert err.status_code == 403
    assert err.code == 'SignatureDoesNotMatch'
    with pytest.raises(oss.exceptions.OperationError) as info:
        head(client, emu, key)  # nothing was written
    assert service_error(info).status_code == 404


def test_delete_then_head_is_404_no_such_key(client, emu, new_key):
    key = new_key()
    append(client, emu, key, 0, b'short lived')
    assert head(client, emu, key).content_length == 11

    d = client.delete_object(oss.DeleteObjectRequest(bucket=emu.bucket, key=key))
    assert d.status_code == 204

    with pytest.raises(oss.exceptions.OperationError) as info:
        head(client, emu, key)  # HEAD has no body: the code comes from the x-oss-err header
    err = service_error(info)
    assert err.status_code == 404
    assert err.code == 'NoSuchKey'

    with client.append_file(emu.bucket, key) as f:  # opening a deleted object starts afresh
        assert f.tell() == 0
        f.write(b'again')
    assert get(client, emu, key)[1] == b'again'


@pytest.mark.parametrize('style', ['virtual', 'cname'])
def test_virtual_host_and_cname_addressing(client, emu, test_dns, style, new_key):
    host = f'oss-emulator.{test_dns}' if style == 'virtual' else f'media.{test_dns}'
    other = make_client(emu, host=host, style=style)
    key = new_key('via addressing.bin')
    r1 = append(other, emu, key, 0, b'abc')
    append(other, emu, key, r1.next_position, b'def')
    assert get(other, emu, key)[1] == b'abcdef'
    assert get(client, emu, key)[1] == b'abcdef'  # the same object, seen path-style
    assert int(head(other, emu, key).hash_crc64) == crc64(b'abcdef')

    pre = other.presign(oss.GetObjectRequest(bucket=emu.bucket, key=key), expires=datetime.timedelta(seconds=60))
    expected_host = f'{emu.bucket}.{host}' if style == 'virtual' else host
    assert urllib.parse.urlsplit(pre.url).hostname == expected_host
    resp = requests.get(pre.url, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200 and resp.content == b'abcdef'


def test_keys_with_spaces_plus_percent_and_unicode(client, emu, new_key):
    key = new_key('a b+c%20d/日志 ü.bin')
    with client.append_file(emu.bucket, key) as f:
        f.write(payload(10, 'v2-e'))
        f.write(payload(20, 'v2-f'))
    whole = payload(10, 'v2-e') + payload(20, 'v2-f')
    assert get(client, emu, key)[1] == whole
    assert int(head(client, emu, key).hash_crc64) == crc64(whole)
    pre = client.presign(oss.GetObjectRequest(bucket=emu.bucket, key=key), expires=datetime.timedelta(seconds=60))
    resp = requests.get(pre.url, timeout=HTTP_TIMEOUT)
    assert resp.status_code == 200 and resp.content == whole


def test_sts_token_in_requests_and_presigned_urls(new_key):
    sts_emu = Emulator(auth='v4', extra_args=('--sts-token', STS_TOKEN))
    try:
        client = make_client(sts_emu, token=STS_TOKEN)
        key = new_key()
        with client.append_file(sts_emu.bucket, key) as f:
            f.write(b'with a token')
        assert get(client, sts_emu, key)[1] == b'with a token'

        pre = client.presign(oss.GetObjectRequest(bucket=sts_emu.bucket, key=key),
                             expires=datetime.timedelta(seconds=60))
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(pre.url).query))
        assert query['x-oss-security-token'] == STS_TOKEN
        resp = requests.get(pre.url, timeout=HTTP_TIMEOUT)
        assert resp.status_code == 200 and resp.content == b'with a token'

        with pytest.raises(oss.exceptions.OperationError) as info:
            append(make_client(sts_emu, token='not-the-token'), sts_emu, key, 12, b'x')
        err = service_error(info)
        assert err.status_code == 403
        assert err.code == 'InvalidSecurityToken'
    finally:
        sts_emu.stop()


@pytest.fixture(scope='module')
def versioned_emu():
    e = Emulator(auth='v4', versioning='enabled')
    yield e
    e.stop()


def test_versioned_bucket_append_put_delete_flow(versioned_emu, new_key):
    """The flow of a recording on a versioned bucket, with the answers oss-append's own e2e test expects."""
    emu = versioned_emu
    client = make_client(emu)
    key = new_key('take.webm')
    part1, part2 = payload(3000, 'v-v2-a'), payload(1234, 'v-v2-b')

    r1 = append(client, emu, key, 0, part1)
    r2 = append(client, emu, key, r1.next_position, part2)
    assert [r1.version_id, r2.version_id] == ['null', 'null']
    listed = client.list_object_versions(oss.ListObjectVersionsRequest(bucket=emu.bucket, prefix=key))
    assert [(v.key, v.version_id, v.is_latest, v.object_type, v.size) for v in listed.version] == \
        [(key, 'null', True, 'Appendable', len(part1) + len(part2))]
    assert not listed.delete_marker

    put = client.put_object(oss.PutObjectRequest(bucket=emu.bucket, key=key, body=b'normal'))
    assert put.version_id and put.version_id != 'null'
    old = client.get_object(oss.GetObjectRequest(bucket=emu.bucket, key=key, version_id='null'))
    assert old.version_id == 'null'
    assert old.body.read() == part1 + part2
    assert head(client, emu, key).version_id == put.version_id

    with pytest.raises(oss.exceptions.OperationError) as info:
        append(client, emu, key, r2.next_position, b'late')
    err = service_error(info)
    assert (err.status_code, err.code) == (409, 'ObjectNotAppendable')

    deleted = client.delete_object(oss.DeleteObjectRequest(bucket=emu.bucket, key=key))
    assert deleted.status_code == 204
    assert deleted.delete_marker is True
    assert deleted.version_id not in (None, '', 'null', put.version_id)
    with pytest.raises(oss.exceptions.OperationError) as info:
        client.get_object(oss.GetObjectRequest(bucket=emu.bucket, key=key))
    assert (service_error(info).status_code, service_error(info).code) == (404, 'NoSuchKey')
    kept = client.get_object(oss.GetObjectRequest(bucket=emu.bucket, key=key, version_id='null'))
    assert kept.body.read() == part1 + part2
    listed = client.list_object_versions(oss.ListObjectVersionsRequest(bucket=emu.bucket, prefix=key))
    assert [(m.version_id, m.is_latest) for m in listed.delete_marker] == [(deleted.version_id, True)]
    assert [v.version_id for v in listed.version] == [put.version_id, 'null']
    assert [(v['version_id'], v['delete_marker']) for v in emu.versions(key)] == \
        [(deleted.version_id, True), (put.version_id, False), ('null', False)]
