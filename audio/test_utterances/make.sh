#!/bin/sh
# Make the Korean test utterances: espeak-ng speaks each line of utterances.tsv,
# out_of_grammar.tsv and variants.tsv (voice, speed, word gap), sox turns it into raw
# 8 kHz G.711 mu-law (what Twilio Media Streams carry), with 0.2 s of leading silence
# and no dither (-D) nor random seed (-R: the noise is the same every run), so the files
# are reproducible. variants.tsv adds an effect: pink noise about 15 dB under the words
# (mixed with sox -m), louder pink noise about 8 dB under them (loud_noise), the
# telephone band (sinc 300-3400), or both.
# The files are committed; run this only to change them.
#   apt-get install -y espeak-ng sox && audio/test_utterances/make.sh
# espeak-ng 1.51 and sox 14.4.2 (Debian 12) made the committed files.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
speak() {  # speak ID VOICE SPEED GAP TEXT -> $tmp/ID.wav, 8 kHz 16-bit, 0.2 s lead-in
    espeak-ng -v "$2" -s "$3" -g "$4" -w "$tmp/$1.raw.wav" "$5"
    sox -V1 -D -R "$tmp/$1.raw.wav" -r 8000 -c 1 -b 16 "$tmp/$1.wav" pad 0.2 0
}
ulaw() {  # ulaw IN.wav OUT.ulaw [EFFECTS...]
    in=$1 out=$2
    shift 2
    sox -V1 -D -R "$in" -r 8000 -c 1 -e u-law -t raw "$out" "$@"
}
grep -v '^#' utterances.tsv | while IFS='	' read -r id node voice speed gap text; do
    [ -n "$id" ] || continue
    espeak-ng -v "$voice" -s "$speed" -g "$gap" -w "$tmp/$id.wav" "$text"
    sox -V1 -D "$tmp/$id.wav" -r 8000 -c 1 -e u-law -t raw "$id.ulaw" pad 0.2 0
    echo "$id.ulaw  $node  $text"
done
grep -v '^#' out_of_grammar.tsv | while IFS='	' read -r id voice speed gap text; do
    [ -n "$id" ] || continue
    speak "$id" "$voice" "$speed" "$gap" "$text"
    ulaw "$tmp/$id.wav" "$id.ulaw"
    echo "$id.ulaw  (out of grammar)  $text"
done
grep -v '^#' variants.tsv | while IFS='	' read -r id node voice speed gap effect answer text; do
    [ -n "$id" ] || continue
    speak "$id" "$voice" "$speed" "$gap" "$text"
    words="$tmp/$id.wav"
    case "$effect" in
        phone|phone+noise)
            sox -V1 -D -R "$words" "$tmp/$id.band.wav" sinc 300-3400
            words="$tmp/$id.band.wav" ;;
    esac
    case "$effect" in
        noise|loud_noise|phone+noise)  # the noise runs 0.3 s past the words, as on a live line
            volume=0.1
            [ "$effect" = loud_noise ] && volume=0.25
            sox -V1 -D -R "$words" "$tmp/$id.long.wav" pad 0 0.3
            seconds=$(soxi -D "$tmp/$id.long.wav")
            sox -V1 -D -R -n -r 8000 -c 1 -b 16 "$tmp/$id.noise.wav" synth "$seconds" pinknoise vol "$volume"
            sox -V1 -D -R -m "$tmp/$id.long.wav" "$tmp/$id.noise.wav" "$tmp/$id.mixed.wav"
            words="$tmp/$id.mixed.wav" ;;
    esac
    ulaw "$words" "$id.ulaw"
    echo "$id.ulaw  $node  $effect  $text -> $answer"
done
