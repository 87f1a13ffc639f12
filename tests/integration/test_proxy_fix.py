"""TRUSTED_PROXIES: behind nginx, the visitor's address and scheme come from X-Forwarded-*."""

from __future__ import annotations

import pytest
from flask import request

from config import TestingConfig
from forum import create_app

HEADERS = {
    # A client's own (forged) entry first, then the address nginx appended.
    "X-Forwarded-For": "198.51.100.9, 203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "evil.example",
}


def _echo_app(tmp_path, proxies: int):
    config = type(
        "ProxyConfig",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'proxy.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "ix"),
            "TRUSTED_PROXIES": proxies,
        },
    )
    app = create_app(config)

    @app.get("/_test/echo")
    def echo():
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app


@pytest.mark.parametrize(
    ("proxies", "seen"),
    [
        (0, "127.0.0.1 http localhost"),  # the default: no header is believed
        (1, "203.0.113.7 https localhost"),  # one proxy: its entry, never the client's own
    ],
)
def test_trusted_proxies_decides_which_forwarded_headers_count(tmp_path, proxies, seen):
    client = _echo_app(tmp_path, proxies).test_client()
    response = client.get("/_test/echo", headers=HEADERS, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.get_data(as_text=True) == seen
