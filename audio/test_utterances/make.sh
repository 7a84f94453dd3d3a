#!/bin/sh
# Make the Korean test utterances: espeak-ng speaks each line of utterances.tsv (voice,
# speed, word gap), sox turns it into raw 8 kHz G.711 mu-law (what Twilio Media Streams
# carry), with 0.2 s of leading silence and no dither (-D: the files are reproducible).
# The files are committed; run this only to change them.
#   apt-get install -y espeak-ng sox && audio/test_utterances/make.sh
# espeak-ng 1.51 and sox 14.4.2 (Debian 12) made the committed files.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^#' utterances.tsv | while IFS='	' read -r id node voice speed gap text; do
    [ -n "$id" ] || continue
    espeak-ng -v "$voice" -s "$speed" -g "$gap" -w "$tmp/$id.wav" "$text"
    sox -V1 -D "$tmp/$id.wav" -r 8000 -c 1 -e u-law -t raw "$id.ulaw" pad 0.2 0
    echo "$id.ulaw  $node  $text"
done
