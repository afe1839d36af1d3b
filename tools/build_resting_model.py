"""Build the tracker's population resting-face model: engine/solve/data/resting_face.json.

    .venv/bin/python tools/build_resting_model.py [--ict DIR] [--shared-data DIR] [--cache DIR] [--print-only]

What MediaPipe's 52 scores read on faces at rest, over many identities and conditions:
- rendered: the ICT-FaceKit head at rest (all weights 0, eyes ahead) for RENDERED_IDENTITIES random identities
  (ICT identity PCA; seeds 300+, never used by the rendered bench's test or dev splits), with every skin tone,
  iris colour and lighting of the renderer, several image sizes and distances, and slow head motion up to
  15 degrees of yaw;
- real: the shared real clips' opening frames (REAL_REST: the first 0.3 s of each clip, every one checked by
  eye to show the actor at rest before the performance starts).
Each identity gives one resting vector (the per-channel median over its frames). The model's `level` is the
lower of the two groups' LEVEL_QUANTILE (10 %) quantiles over identities (so 7 real faces are not outvoted by
40 renders, and neither group can raise the level above what a tenth of the other's faces rest at), `spread` the robust
standard deviation across all identities (every face also counted mirrored, so the model is
left-right symmetric), and `active` the raw score above which a channel is clearly
active: the groups' median resting face + ACTIVE_SPREADS spreads, at least MIN_ACTIVE_MARGIN above it (rest
detection in a clip), and `expressive`: the level above which a neutral capture is refused, CAPTURE_MARGIN
above `active` and never below the highest resting score of the population + MAX_REST_MARGIN.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.media.video import probe  # noqa: E402
from engine.protocol import Reporter  # noqa: E402
from engine.rig.arkit import ARKIT_NAMES  # noqa: E402
from engine.solve.resting import CAPTURE_MARGIN, MODEL_FILE  # noqa: E402
from engine.track.landmarker import TrackerOptions  # noqa: E402
from engine.track.run_tracker import track_video  # noqa: E402
from engine_dev.render.ict_head import IctHead  # noqa: E402
from engine_dev.render.renderer import IRIS_COLOURS, LIGHTINGS, SKIN_TONES, Camera, Look  # noqa: E402
from engine_dev.render.sequences import HeadMotion  # noqa: E402
from engine_dev.render.truth import ClipSpec, load_clip, render_and_track, save_clip  # noqa: E402

RENDERED_IDENTITIES = 40
FIRST_SEED = 300
SIZES = ((512, 512, 62), (640, 480, 58), (480, 640, 66), (384, 384, 70), (720, 540, 55))
REAL_REST = {name: 0.3 for name in ("driving_d0", "driving_d3", "driving_d6", "driving_d9", "driving_d11",
                                    "driving_d12", "driving_d13")}   # seconds at the start of each clip
# The level subtracted is a low quantile of the resting faces, not their median: an actor who rests lower
# than the level loses every movement below it (a child's squint resting at 0 against a median of 0.28),
# while one who rests higher only reads a small offset. Chosen on the real clips (bench/real_footage.py).
LEVEL_QUANTILE = 0.1
ACTIVE_SPREADS = 3.0
MIN_ACTIVE_MARGIN = 0.15
MAX_REST_MARGIN = 0.1


def rest_specs() -> list[ClipSpec]:
    skins, irises, lights = list(SKIN_TONES), list(IRIS_COLOURS), list(LIGHTINGS)
    specs = []
    for i in range(RENDERED_IDENTITIES):
        w, h, dist = SIZES[i % len(SIZES)]
        look = Look(skins[i % 3], irises[(i // 3) % 3], lights[(i // 9) % 3])
        specs.append(ClipSpec(f"rest{i}", FIRST_SEED + i, look=look, camera=Camera(w, h, distance_cm=dist),
                              motion=HeadMotion(5 + (i * 7) % 11, 3 + (i * 5) % 8, (i * 3) % 5, period_s=3.0),
                              scripts=("rest",), seed=FIRST_SEED + i))
    return specs


def rendered_rest(ict: Path | None, cache: Path) -> np.ndarray:
    head = IctHead.load(ict)
    vectors = []
    for spec in rest_specs():
        path = cache / f"{spec.name}.npz"
        clip = load_clip(spec, path)
        if clip is None:
            clip = render_and_track(spec, head, cache)
            save_clip(clip, path)
        t = clip.track
        if t.detected.any():
            vectors.append(np.median(t.arkit[t.detected], axis=0))
        print(f"  {spec.name}: face in {t.detected.mean():.0%} of {len(t)} frames", file=sys.stderr)
    return np.array(vectors)


def real_rest(shared: Path, cache: Path) -> np.ndarray:
    vectors = []
    for name, seconds in REAL_REST.items():
        info = probe(shared / "video" / "faces" / f"{name}.mp4")
        track = track_video(info, cache / f"{name}.landmarks.npy", Reporter(), TrackerOptions())
        rest = track.detected & (track.times < seconds)
        vectors.append(np.median(track.arkit[rest], axis=0))
        print(f"  {name}: {rest.sum()} rest frames", file=sys.stderr)
    return np.array(vectors)


def mirrored(vectors: np.ndarray) -> np.ndarray:
    """The same faces flipped left-right (Left and Right channels swapped)."""
    swap = [ARKIT_NAMES.index(n.replace("Left", "#").replace("Right", "Left").replace("#", "Right"))
            for n in ARKIT_NAMES]
    return vectors[:, swap]


def build_model(rendered: np.ndarray, real: np.ndarray) -> dict:
    # Every face is counted with its mirror image: a face and its mirror rest alike, so the model is
    # left-right symmetric and a flipped clip gets the flipped neutral (mirror symmetry of the takes).
    rendered, real = np.vstack([rendered, mirrored(rendered)]), np.vstack([real, mirrored(real)])
    everyone = np.vstack([rendered, real])
    # The lower of the two groups' quantiles, not their mean: MediaPipe rests higher on renders than on real
    # faces on the eyes and inner brows (squint 0.15 vs 0.03, blink 0.05 vs 0.01, browInnerUp 0.11 vs 0.02),
    # and the mean let renders lift the level above a real actor's rest. Subtracting too much costs more than
    # too little (see LEVEL_QUANTILE): with the mean, d11 (wide-eyed throughout, so never lowered to its own
    # rest) read squint 0.009 where MediaPipe's score rose 0.1 above the clip's low; bench/real_footage.py.
    level = np.minimum(np.quantile(rendered, LEVEL_QUANTILE, axis=0), np.quantile(real, LEVEL_QUANTILE, axis=0))
    spread = 1.4826 * np.median(np.abs(everyone - np.median(everyone, axis=0)), axis=0)
    spread = np.maximum(spread, np.std(everyone, axis=0) * 0.5)
    # "Clearly active" is measured from the typical resting face (the median), not from the low level: an
    # actor who rests high (a squint of 0.45 at rest) is still at rest.
    typical = 0.5 * (np.median(rendered, axis=0) + np.median(real, axis=0))
    active = typical + np.maximum(ACTIVE_SPREADS * spread, MIN_ACTIVE_MARGIN)
    # Resting biases are heavy-tailed (one rendered identity rests with a lip press of 0.55, the demo's
    # synthetic head with 0.44, a real child with a pucker of 0.9): a neutral capture is refused only
    # beyond anything a resting face of the population showed. (Rest detection in a clip keeps the tight
    # `active`: there a false "rest" would switch the landmark estimate on in one cut of a clip and not in
    # another; bench/real_footage.py measured that as middle-third r 0.96 on d6's compressed copy.)
    expressive = np.maximum(active + CAPTURE_MARGIN, everyone.max(axis=0) + MAX_REST_MARGIN)
    channels = {n: {"level": round(float(l), 4), "spread": round(float(s), 4), "active": round(float(a), 4),
                    "expressive": round(float(e), 4),
                    "rendered_median": round(float(r), 4), "real_median": round(float(q), 4)}
                for n, l, s, a, e, r, q in zip(ARKIT_NAMES, level, spread, active, expressive,
                                               np.median(rendered, axis=0), np.median(real, axis=0))}
    return {"about": (f"MediaPipe Face Landmarker v2 on resting faces: {len(rendered) // 2} rendered ICT identities "
                      f"and {len(real) // 2} real actors, each also mirrored (tools/build_resting_model.py). "
                      "level = the lower of the two groups' 10 % quantiles; active = the groups' median + max(3 spreads, 0.15); expressive = max(active + 0.25, the highest resting score + 0.1)."),
            "channels": channels}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ict", type=Path, default=None)
    parser.add_argument("--shared-data", type=Path,
                        default=Path(os.environ.get("FACERETARGET_SHARED_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--cache", type=Path,
                        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "faceretarget"
                        / "resting_model")
    parser.add_argument("--print-only", action="store_true", help="print the table, do not write the model")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    doc = build_model(rendered_rest(args.ict, args.cache), real_rest(args.shared_data, args.cache))
    print("| channel | level | spread | active | expressive | rendered | real |\n|---|---:|---:|---:|---:|---:|---:|")
    for name, row in doc["channels"].items():
        print(f"| {name} | {row['level']:.3f} | {row['spread']:.3f} | {row['active']:.3f} | {row['expressive']:.3f} | "
              f"{row['rendered_median']:.3f} | {row['real_median']:.3f} |")
    if not args.print_only:
        MODEL_FILE.write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {MODEL_FILE.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
