"""The plain loop a user would write instead of the engine: decode with OpenCV, call MediaPipe's Face
Landmarker (VIDEO mode, blendshapes and transformation matrix on) on every frame, keep the results.
bench/throughput.py --whole-process times it as a whole process against `faceretarget-engine run`.

    python bench/bare_tracker.py VIDEO MODEL.task
"""
import sys

import cv2
import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision


def main(video: str, model: str) -> int:
    landmarker = vision.FaceLandmarker.create_from_options(vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model), running_mode=vision.RunningMode.VIDEO, num_faces=1,
        output_face_blendshapes=True, output_facial_transformation_matrixes=True))
    capture = cv2.VideoCapture(video)
    results, last_ms = [], -1
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        stamp = max(int(capture.get(cv2.CAP_PROP_POS_MSEC)), last_ms + 1)
        last_ms = stamp
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        results.append(landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), stamp))
    landmarker.close()
    found = sum(1 for r in results if r.face_landmarks)
    print(f"{len(results)} frames, face in {found}")
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
