"""Options of an engine run: the single source of every default (CLI and callers read them from here).

The options of the other commands sit beside this module (batch, blendshapes, learned, live, preview);
nothing here imports a stage package, so every floor of the engine may read its defaults.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.config.blendshapes import FlameRunOptions
from engine.config.learned import LearnedOptions
from engine.config.preview import PreviewOptions
from engine.config.rigs import DEFAULT_RIG, RIG_GENERATIONS, check_rig  # noqa: F401  (read here by the engine)


@dataclass
class SolveOptions:
    # The actor's neutral: an actor profile (`actor`), else the frames around `neutral_time`, else the
    # population resting model (engine.solve.calibration explains the rule).
    neutral_time: float | None = None          # seconds; overrides the population model
    # Offline takes are smoothed with a zero-phase low-pass filter of this cutoff (Hz); blinks last
    # ~100-150 ms, so the cutoff stays well above 4 Hz.
    smoothing_cutoff_hz: float = 8.0
    # Gaps (frames with no face) up to this long are bridged by interpolation; longer ones ease to
    # the neutral face. Both are recorded in take.json.
    max_bridged_gap_s: float = 0.5
    # One-Euro filter (live use): minimum cutoff (Hz) and speed coefficient (per unit/s of a 0..1 score).
    # beta 3 lets blinks through (correlation with `run`'s takes 0.94-0.98 on the shared clips, 0.84-0.90
    # with 0.3) while frame-to-frame jitter stays below the offline takes' (bench/live.py, tests/test_live.py).
    one_euro_min_cutoff: float = 1.5
    one_euro_beta: float = 3.0
    # Landmark-space estimates (engine/solve/landmark_fit.py) for what MediaPipe's scores miss; which
    # source each channel takes, and its gain, is data: engine/solve/data/channels.json.
    use_landmarks: bool = True
    landmark_basis: Path | None = None         # ARKit basis at MediaPipe's landmarks (.json/.npz); None: built-in
    actor: Path | None = None                  # the actor profile (engine.solve.actor, `calibrate`);
                                               # None = population resting model (engine.solve.resting)


@dataclass
class AudioOptions:
    """Speech input of `run --audio` and `lipsync` (engine/audio)."""
    audio: Path | None = None                  # speech recording; run: None = no audio unless lip correction is asked
    transcript: str | None = None              # a transcript file or the text itself; None: phone recognition
    language: str = "en"                       # en: pocketsphinx; zh: pinyin -> English phones (needs a transcript);
                                               # any other: loudness/spectral mouth track (also zh without transcript)
    lip_correction: str | None = None          # off | blend | replace | auto; None: auto with --audio, else off
    audio_offset: float = 0.0                  # seconds the sound lags the picture (negative: it leads)
    blend_weight: float = 0.7                  # the audio's share of the mouth controls in `blend` mode
    fps: float = 60.0                          # curve rate of an audio-only take (lipsync)
    max_align_s: float = 30.0                  # longer speech is aligned in chunks cut at the longest pauses
    recognizer: str = "words"                  # without a transcript: words (recognise words, then align them;
                                               # ~5x real time) or phones (phone LM only; ~20x, less accurate)
    # A script on a long recording (engine/audio/script_alignment.py): speech is cut into utterances at pauses of at
    # least `utterance_pause_s`; each is recognised with a language model biased to the script, the words
    # heard are matched to the script's words, and each utterance is aligned with the script words placed in it.
    utterance_pause_s: float = 0.25            # each pause the voice-activity detector keeps cuts an utterance
    utterance_pad_s: float = 0.15              # pause around an utterance recognised or aligned (at most half the
                                               # pause to its neighbour)
    script_frame_skip: int = 2                 # recognition only places the script: the acoustic model is
    script_topn: int = 2                       # evaluated every 2nd frame with 2 Gaussians (~2x faster)
    script_language_weight: float = 10.0       # the script's word sequences weigh more than pocketsphinx's 6.5
    script_common_words: int = 100             # frequent English words recognition may hear besides the script
    script_common_weight: float = 0.1          # (ad-libs), at this weight relative to a uniform unigram
    deviation_min_gain: float = 300.0          # words heard but not scripted stand when saying them raises the
                                               # acoustic score of the audio around them by this much (log units;
                                               # festival-dev: ones said 430-12000 but for a "the the", chance
                                               # ones -180 and below)
    unscripted_min_speech_s: float = 0.2       # ...or, said or not, when dropping them leaves this much loud audio
    speech_below_peak_db: float = 20.0         # where they were heard to silence ("loud": within this of the
                                               # utterance's 90th-percentile level): misheard words (an ad-lib
                                               # "hang on" heard as "and pink") fit worse than silence, so their
                                               # acoustic gain cannot tell that something was said (10-minute
                                               # Festival recordings: that ad-lib left 0.36 s, chance words 0-0.11)
    missing_min_gain: float = 600.0            # a script word not heard is dropped when that raises it by this much
                                               # (fast real speech gained 250-305 dropping words that were said)
    repeat_min_stretch: float = 1.3            # a script word aligned this many times its phones' median lengths
    repeat_min_misfit: float = 15.0            # (over the recording), scoring this much per frame below its
                                               # utterance, may be two (the recogniser heard one): said twice
    repeat_min_gain: float = 200.0             # where that raises the acoustic score around it by this much
                                               # (festival-dev: 222-1393 for words said twice, 95 for a word said once)
    repeat_min_gain_two_syllables: float = 100.0   # ... or by half that where a syllable is there without a
                                               # vowel of its own (engine.audio.syllables): one of the word's vowels
                                               # holds two, or the word is beside one aligned to silence (none is
                                               # on the exact 10-minute Festival recordings; "threw the the ball"
                                               # gained 137)
    syllable_min_prominence_db: float = 10.0   # a syllable peak rises this much above the dips either side of it
                                               # (800-3000 Hz loudness, 10 ms frames). A word heard said twice is
                                               # also said where the alignment without it leaves a syllable
                                               # without a vowel where it was heard, and saying it gives it one
    script_min_heard: float = 0.3              # below this share of its words heard, a script is not the recording's
    speech_processes: int = 0                  # processes aligning a long recording; 0: one per core when it holds
    parallel_min_s: float = 60.0               # at least this much speech (and an audio-only take this long has its
                                               # raw-curve files written by a helper process); a helper takes ~1 s
                                               # to start
    min_said_word_s: float = 0.12              # script words the recogniser missed count as said when the audio
                                               # between their neighbours has at least this much time per word
    min_said_phone_s: float = 0.06             # ... and, for a run of 3+ words heard as other words, this much per
                                               # phone: less, and the words heard were said instead of them (a
                                               # skipped line next to an ad-lib left 0.037-0.055 s a phone; real
                                               # speech misheard over 8 words, 0.085)

    @property
    def correction(self) -> str:
        """The lip-correction mode in effect: the one asked for, else auto with --audio, else off."""
        return self.lip_correction or ("auto" if self.audio else "off")


LIP_CORRECTION_MODES = ("off", "blend", "replace", "auto")


@dataclass
class RunOptions:
    video: Path | None = None
    out: Path | None = None
    arkit: Path | None = None                  # run --arkit: an ARKit-52 CSV (iPhone Live Link Face) instead of
                                               # the video (engine/track/arkit_source)
    arkit_fps: float | None = None             # its frame rate: what timecode frames / a frame column count, or
                                               # the rows of a file without a time column; None: from the file
    rig: str = DEFAULT_RIG
    fps_out: float | None = None               # None: keep the video's own frame times
    progress: str = "human"                    # "human" (stderr bar) or "json" (stdout events)
    overwrite: bool = False
    model_path: Path | None = None             # face_landmarker.task; None: resolve (see track.model_bundle)
    symmetric: bool = False                    # also track each frame flipped and average the two readings:
                                               # no left/right bias from the tracker, ~1.3x the time
    mapping: str | None = None                 # ARKit -> face board: None = mapping pose + full-face rules,
                                               # "pose" = mapping pose only, or a fit-mapping / rules JSON path
    solve: SolveOptions = field(default_factory=SolveOptions)
    preview: bool = False                      # also write preview.mp4 into the take (engine/preview)
    preview_options: PreviewOptions = field(default_factory=PreviewOptions)
    audio: AudioOptions = field(default_factory=AudioOptions)
    learned: LearnedOptions = field(default_factory=LearnedOptions)   # run --video-model/--audio-model (engine/models)
    flame: FlameRunOptions | None = None       # run --flame-params: FLAME sequence instead of video (engine/blendshapes)

    def to_json(self) -> dict:
        doc = asdict(self)
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in doc.items()}
