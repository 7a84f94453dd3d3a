"""Outside systems we call: Twilio's REST API."""
