"""The local web page: upload contracts, read the findings, download reports; plus a small JSON API."""
from __future__ import annotations

from .app import create_app
from .settings import WebSettings

__all__ = ["create_app", "WebSettings"]
