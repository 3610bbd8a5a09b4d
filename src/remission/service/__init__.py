"""The remission web service (``remission serve``): FastAPI application, storage, access
control, audit and server-rendered pages.  See docs/service.md and
``../shared/spec/service.md``."""

from remission.extras import require as _require

_require("service", "remission.service")

__all__ = ["create_app"]


def __getattr__(name):  # lazy: importing the storage layer must not import FastAPI
    if name == "create_app":
        from remission.service.app import create_app

        return create_app
    raise AttributeError(name)
