"""Shared pytest fixtures for the Python interop suites (oss2 and alibabacloud-oss-v2)."""

import itertools
import os
import socket
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

_counter = itertools.count()


@pytest.fixture
def new_key(request):
    """Returns a function making object keys unique to this test (and this run)."""
    base = f'interop/{request.node.name.replace("[", "-").replace("]", "")}/{uuid.uuid4().hex[:10]}'

    def make(suffix='obj.bin'):
        return f'{base}/{next(_counter)}-{suffix}'

    return make



TEST_DOMAIN = 'interop.test'


@pytest.fixture
def test_dns(monkeypatch):
    """Resolves `*.interop.test` (a reserved domain) to 127.0.0.1 for this test: cname and virtual-host addressing."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and (host == TEST_DOMAIN or host.endswith('.' + TEST_DOMAIN)):
            host = '127.0.0.1'
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, 'getaddrinfo', getaddrinfo)
    return TEST_DOMAIN
