"""A support-line IVR: YAML call flows, local speech, warm transfer with context."""
