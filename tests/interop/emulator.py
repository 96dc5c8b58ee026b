"""Start and stop the local `oss-emulator` for the Python interop suites.

The emulator prints `listening on http://127.0.0.1:<port>` as its first stdout line and `control token: <token>` as
its second (the control plane wants it in `X-Emulator-Token`); everything after that is drained in the background so
a chatty emulator can never block on a full pipe. Every wait here is bounded.
"""

import atexit
import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))

BUCKET = 'interop-bucket'
ACCESS_KEY_ID = 'LTAIinteropTestKeyId'
ACCESS_KEY_SECRET = 'interopTestSecretKey0123456789'
REGION = 'cn-hangzhou'
STS_TOKEN = 'CAIS-interop-sts-token+/=with.odd~chars'

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
CONTROL_TIMEOUT = 5.0

_LISTENING = re.compile(r'^listening on (http://127\.0\.0\.1:(\d+))\s*$')
_TOKEN_LINE = re.compile(r'^control token: (\S+)\s*$')


def emulator_binary():
    path = os.environ.get('OSS_EMULATOR') or os.path.join(REPO_ROOT, 'target', 'release', 'oss-emulator')
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RuntimeError(f'oss-emulator binary not found at {path} (set $OSS_EMULATOR or build it with '
                           f'`cargo build -p oss-append-emulator --release`)')
    return path


class Emulator:
    """One emulator process on a free port, with its own data directory."""

    def __init__(self, auth='any', extra_args=(), versioning=None):
        binary = emulator_binary()
        self.auth = auth
        self.bucket = BUCKET
        self.access_key_id = ACCESS_KEY_ID
        self.access_key_secret = ACCESS_KEY_SECRET
        self.region = REGION
        self.data_dir = tempfile.mkdtemp(prefix='oss-interop-')
        fd, self._stderr_path = tempfile.mkstemp(prefix='oss-interop-', suffix='.stderr')
        self._stderr = os.fdopen(fd, 'wb')
        args = [
            binary, '--port', '0',
            '--bucket', BUCKET,
            '--access-key-id', ACCESS_KEY_ID,
            '--access-key-secret', ACCESS_KEY_SECRET,
            '--region', REGION,
            '--data-dir', self.data_dir,
            '--auth', auth,
            *(['--versioning', versioning] if versioning else []),
            *extra_args,
        ]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr)
        atexit.register(self._kill)  # never leave an emulator behind, even if a fixture's teardown is skipped
        try:
            self.url, self.port, self.token = self._read_start_lines()
        except Exception:
            self.stop()
            raise
        self.host = f'127.0.0.1:{self.port}'
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()

    def _read_start_lines(self):
        """The listening line and the control token line, read within START_TIMEOUT."""
        box = {}

        def read():
            box['first'] = self.proc.stdout.readline()
            box['second'] = self.proc.stdout.readline()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        first, second = box.get('first'), box.get('second')
        if first is None or second is None:
            raise RuntimeError(f'oss-emulator printed no listening and token lines within {START_TIMEOUT}s; '
                               f'stderr: {self.stderr_tail()}')
        text = first.decode('utf-8', 'replace').strip()
        m = _LISTENING.match(text)
        if not m:
            raise RuntimeError(f'unexpected first line from oss-emulator: {text!r}; stderr: {self.stderr_tail()}')
        token_text = second.decode('utf-8', 'replace').strip()
        t = _TOKEN_LINE.match(token_text)
        if not t:
            raise RuntimeError(f'expected the control token line from oss-emulator, got {token_text!r}')
        return m.group(1), int(m.group(2)), t.group(1)

    def _drain_stdout(self):
        try:
            for _ in iter(self.proc.stdout.readline, b''):
                pass
        except (OSError, ValueError):
            pass

    def stderr_tail(self, limit=4000):
        try:
            self._stderr.flush()
            with open(self._stderr_path, 'rb') as f:
                return f.read()[-limit:].decode('utf-8', 'replace')
        except OSError:
            return ''

    def endpoint(self, host=None):
        """The endpoint URL an SDK is configured with (127.0.0.1 by default, or e.g. `localhost`)."""
        return f'http://{host or "127.0.0.1"}:{self.port}'

    # ---- control plane -------------------------------------------------------------------------------------

    def control(self, method, path, body=None):
        """Call the control plane under /__emulator__/; returns (status, parsed JSON or raw text)."""
        data = None
        headers = {'X-Emulator-Token': self.token}
        if body is not None:
            data = json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        req = urllib.request.Request(f'{self.url}/__emulator__/{path.lstrip("/")}', data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=CONTROL_TIMEOUT) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        text = raw.decode('utf-8', 'replace')
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    @contextlib.contextmanager
    def clock_shifted(self, ms):
        """Runs the block with the emulator's clock moved by `ms` milliseconds (restored afterwards)."""
        status, body = self.control('POST', 'clock', {'shift_ms': ms})
        assert status == 200, (status, body)
        try:
            yield
        finally:
            self.control('POST', 'clock', {'shift_ms': -ms})

    def requests_for(self, key):
        """The emulator's request log entries for `key`, oldest first."""
        status, body = self.control('GET', 'requests')
        assert status == 200, (status, body)
        return [r for r in body['requests'] if r.get('key') == key]

    def set_versioning(self, status):
        """Sets every bucket's versioning status ('enabled' or 'suspended'); returns the status now."""
        code, body = self.control('POST', 'versioning', {'status': status})
        assert code == 200, (code, body)
        return body['status']

    def versions(self, key):
        """Every version of `key`, newest first: [{version_id, delete_marker, type, size, crc64}]."""
        path = '/'.join(urllib.parse.quote(p, safe='') for p in key.split('/'))
        code, body = self.control('GET', f'versions/{self.bucket}/{path}')
        assert code == 200, (code, body)
        return body['versions']

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT)

    def stop(self):
        proc = getattr(self, 'proc', None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        if proc is not None:
            atexit.unregister(self._kill)
            if proc.stdout is not None:
                proc.stdout.close()
        self._stderr.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        try:
            os.unlink(self._stderr_path)
        except OSError:
            pass


def payload(n, seed):
    """n deterministic bytes covering the whole byte range (not just ASCII)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f'{seed}:{counter}'.encode()).digest()
        counter += 1
    return bytes(out[:n])
