#!/usr/bin/env bash
# @file make-sample.sh
# @brief Generates the embedded sample channel (assets/sample/sample_NNNNN.mkv) with ffmpeg.
#
# How it works: one ffmpeg run renders a test pattern (testsrc2) with the chunk index burnt in
# (drawtext of trunc(t / SECONDS)) plus a sine tone whose pitch changes every chunk, forces a
# keyframe at every chunk boundary, and cuts with the segment muxer into Matroska files that
# each start with a keyframe and play alone. Bitrate ~0.6 Mbit/s so 30 chunks stay under 5 MB.
# The output is committed: the server runs without ffmpeg.
#
# Usage: scripts/make-sample.sh [OUT_DIR] [CHUNKS] [SECONDS]
set -euo pipefail

OUT="${1:-$(cd "$(dirname "$0")/.." && pwd)/assets/sample}"
CHUNKS="${2:-30}"
SECONDS_PER_CHUNK="${3:-2}"
DURATION=$((CHUNKS * SECONDS_PER_CHUNK))

command -v ffmpeg >/dev/null || { echo "make-sample: ffmpeg not found on PATH" >&2; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT"/sample_*.mkv

FONT=""
for f in /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf /usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf; do
  [ -f "$f" ] && FONT="$f" && break
done

# The chunk number on every frame: drawtext when available, else a grey bar whose width grows
# with the chunk index (drawbox), so a viewer can still tell chunks apart.
IDX="trunc(t/${SECONDS_PER_CHUNK})"
FILTERS="$(ffmpeg -hide_banner -filters 2>/dev/null || true)"
if grep -q ' drawtext ' <<<"$FILTERS" && [ -n "$FONT" ]; then
  LABEL="drawtext=fontfile=${FONT}:text='chunk %{eif\:${IDX}\:d\:5}':fontsize=56:fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=12:x=(w-tw)/2:y=(h-th)/2"
else
  LABEL="drawbox=x=0:y=0:w=20*(1+${IDX}):h=40:color=white:t=fill:eval=frame"
fi

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=${DURATION}" \
  -f lavfi -i "aevalsrc='0.2*sin(2*PI*(440+40*mod(trunc(t/${SECONDS_PER_CHUNK}),12))*t)':s=48000:d=${DURATION}" \
  -vf "$LABEL" \
  -c:v libx264 -preset veryfast -pix_fmt yuv420p -b:v 520k -maxrate 600k -bufsize 600k \
  -g 50 -keyint_min 50 -sc_threshold 0 \
  -force_key_frames "expr:gte(t,n_forced*${SECONDS_PER_CHUNK})" \
  -c:a libopus -b:a 48k -ac 1 \
  -f segment -segment_time "$SECONDS_PER_CHUNK" -reset_timestamps 1 -segment_format matroska \
  "$OUT/sample_%05d.mkv"

echo "make-sample: $(ls "$OUT"/sample_*.mkv | wc -l) chunks, $(du -sh "$OUT" | cut -f1) in $OUT"
