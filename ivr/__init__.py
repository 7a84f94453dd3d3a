"""A support-line IVR: YAML call flows, local speech, warm transfer with context.

``ivr.create_app(config=None)`` is the Flask application (``ivr.web.app``). It is
imported when first asked for, so ``import ivr.engine`` or ``import ivr.model`` loads no
web framework.
"""
from typing import Any

__all__ = ["create_app"]


def create_app(config: Any = None) -> Any:
    """The Flask app (see ``ivr.web.app.create_app``)."""
    from ivr.web.app import create_app as factory

    return factory(config)
