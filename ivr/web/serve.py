"""``ivr serve``: the development server (threaded werkzeug). For production, see README
(gunicorn with threads)."""
from __future__ import annotations

import logging
import sys


def serve(args) -> int:
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from ivr.settings import SettingsError
    try:
        from ivr.web.app import create_app
        app = create_app()
    except (SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ivr.web.services import services
    settings = services(app).settings
    from ivr.web.admin import install_sighup
    install_sighup(app)  # kill -HUP <pid> reloads the flows
    flows = ", ".join(sorted(services(app).library.flows)) or "none"
    base = settings.public_url or f"http://{args.host}:{args.port}"
    print(f"Serving the support line ({flows}) on http://{args.host}:{args.port}\n"
          f"  Twilio number -> 'A call comes in': POST {base}/twilio/voice\n"
          f"  Status callback URL:                POST {base}/twilio/status", file=sys.stderr)
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=args.reload, threaded=True)
    return 0
