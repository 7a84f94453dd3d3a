"""A support-line IVR: YAML call flows, local speech, warm transfer with context."""


def create_app(config=None):
    """The Flask app (see ``ivr.web.app.create_app``)."""
    from ivr.web.app import create_app as factory

    return factory(config)
