"""Every default and every fixed name of the Maya side, in one place.

The dialog, the shelf, the batch scripts and the functions without UI all read their defaults from here,
so no two of them can disagree. Engine options that the engine itself defaults (smoothing cutoff, lip
correction) are passed only when the user chose a value: `None` here means "the engine's own default".
"""
from __future__ import annotations

# --- identity -----------------------------------------------------------------------------------------
MODULE_NAME = "FaceRetarget"
SHELF_NAME = "FaceRetarget"
MENU_NAME = "FaceRetargetMenu"
MENU_LABEL = "FaceRetarget"
PLUGIN_NAME = "faceretarget"                  # maya_module/plug-ins/faceretarget.py
UNDO_COMMIT_COMMAND = "faceRetargetCommit"    # registered by the plug-in: puts API edits on the undo queue

# --- the take folder ----------------------------------------------------------------------------------
TAKE_FORMAT = "faceretarget-take/1"
TAKE_FORMAT_FAMILY = "faceretarget-take/"
TAKE_INFO_FILE = "take.json"
FACEBOARD_FILE = "faceboard.csv"
ARKIT_FILE = "arkit.csv"
EXPORT_SOURCE = "maya-export"
LIVELINK_TIMECODE_FPS = 60.0                  # Live Link Face CSV timecodes count frames at this rate

# --- applying a take ----------------------------------------------------------------------------------
APPLY_UNDO_CHUNK = "FaceRetarget: apply take"
INSPECT_UNDO_CHUNK = "FaceRetarget: inspect ARKit"
APPLY_MODES = ("replace", "layer")
DEFAULT_APPLY_MODE = "replace"
DEFAULT_LAYER_NAME = "FaceRetarget"
DEFAULT_START_FRAME = None                    # None: the scene's playback start
DEFAULT_CLAMP = True
DEFAULT_IMPORT_AUDIO = True
DEFAULT_IMAGE_PLANE = False
DEFAULT_FIT_PLAYBACK_RANGE = False
# Keys are written on every scene frame, so linear tangents reproduce the samples between frames without
# the overshoot that spline/auto tangents add to dense data.
KEY_TANGENT = "linear"
AUDIO_NODE_NAME = "FaceRetarget_audio"
IMAGE_PLANE_NAME = "FaceRetarget_video"
IMAGE_PLANE_CAMERA = "persp"

# --- head motion (head_pose.csv onto the rig's neck and head; docs/maya.md "Head motion") ---------------
HEAD_POSE_FILE = "head_pose.csv"
HEAD_DETECTED_COLUMN = "detected"
HEAD_ANGLE_COLUMNS = ("yaw_deg", "pitch_deg", "roll_deg")        # camera frame, intrinsic YXZ (headpose.py)
HEAD_TRANSLATION_COLUMNS = ("tx_cm", "ty_cm", "tz_cm")
HEAD_POSE_COLUMNS = (HEAD_DETECTED_COLUMN,) + HEAD_TRANSLATION_COLUMNS + HEAD_ANGLE_COLUMNS
DEFAULT_HEAD = True                           # key the head when a head joint is found
DEFAULT_HEAD_STRENGTH = 1.0                   # share of the actor's head turn (0-1)
DEFAULT_HEAD_TRANSLATION = False              # the head's position too (on the top-most neck joint)
HEAD_JOINT = "head"                           # MetaHuman body skeleton and face-only rigs alike
NECK_JOINTS = ("neck_02", "neck_01")          # the head's parent, then its parent, when named so
# How the turn is spread from the neck up (normalised over the joints found; the head alone takes all).
DEFAULT_HEAD_WEIGHTS = (("neck_01", 0.2), ("neck_02", 0.3), ("head", 0.5))

# --- inspecting ARKit curves --------------------------------------------------------------------------
ARKIT_BLENDSHAPE_NAME = "FaceRetarget_arkit"

# --- the engine process -------------------------------------------------------------------------------
ENGINE_PYTHON_ENV = "FACERETARGET_ENGINE_PYTHON"
ENGINE_MODULE = "engine"
ENGINE_COMMAND = "run"
RIG_CHOICES = ("auto", "mh4", "legacy")       # "auto": the generation of the rig found in the scene
LIP_CORRECTION_CHOICES = ("auto", "off", "blend", "replace")
DEFAULT_LIP_CORRECTION = None                 # None: the engine's own choice
# The speech's language (`run --language`): what each one gets from the engine (README, docs/lipsync.md).
LANGUAGES = (("en", "English: words aligned to the transcript (or recognised)"),
             ("zh", "Mandarin: pinyin alignment with a Chinese transcript, loudness without"),
             ("other", "Another language: the mouth from loudness and timbre"))
DEFAULT_LANGUAGE = "en"
DEFAULT_SMOOTHING_HZ = None                   # None: the engine's own cutoff
# run --symmetric: the face also read flipped. On for the animator's takes: MediaPipe reads a face and its
# mirror image differently (left/right pooled r 0.87-0.91 single-pass, 1.00 symmetric on the shared real
# clips, bench/real_footage.py), so an expression on the actor's left would read weaker than on the right.
# It costs ~1.3x the time (2.3x real time at 720p on 2 cores, README); the engine's own `run` stays
# single-pass by default, the fast path for scripted throughput.
DEFAULT_SYMMETRIC = True
SMOOTHING_RANGE_HZ = (0.5, 30.0)
CANCEL_GRACE_MS = 3000                        # after a cancel request, terminate(); as long again, then kill()

# --- remembered settings (QSettings) ------------------------------------------------------------------
SETTINGS_ORGANIZATION = "FaceRetarget"
SETTINGS_APPLICATION = "MayaDialog"
ACTOR_PROFILES_KEY = "actor_profiles"         # {video folder: actor profile}: one actor's footage per folder
MAX_REMEMBERED_FOLDERS = 200                  # the oldest folders are forgotten beyond this

# --- batch --------------------------------------------------------------------------------------------
BATCH_PLAYBLAST_SIZE = (1280, 720)
BATCH_PLAYBLAST_CAMERA = "persp"              # mayapy has no model panel: this camera is made the renderable one
BATCH_LOG_NAME = "batch.log"
EXIT_OK = 0
EXIT_FAILED = 1          # at least one clip failed
EXIT_USAGE = 2           # bad command line or manifest
