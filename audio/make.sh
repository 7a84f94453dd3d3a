#!/usr/bin/env bash
# Makes the demo line's recordings: hold music and the welcome prompt (8 kHz mono WAV,
# what Twilio plays best). Needs espeak-ng and sox (Debian packages).
set -euo pipefail
cd "$(dirname "$0")"
# Hold audio: a soft, slowly pulsing major chord, 12 seconds.
sox -n -r 8000 -c 1 -b 16 hold.wav synth 12 sine 261.6 sine 329.6 sine 392.0 remix - \
    tremolo 0.5 40 fade q 1 12 1 gain -18
# The welcome prompt of call_flows/acme-support.yaml (text fallback in the flow).
espeak-ng -v en-us -s 160 -w /tmp/ivr-welcome.wav \
  "Welcome to Acme Outfitters. You can say order status, billing, or store hours, or press 1, 2 or 3. To speak to a person, press 0 or say agent at any time. For Korean, press 9."
sox /tmp/ivr-welcome.wav -r 8000 -c 1 -b 16 welcome.wav
rm -f /tmp/ivr-welcome.wav
