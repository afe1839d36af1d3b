"""MediaPipe's canonical face mesh (468 vertices, cm), read from the Face Landmarker bundle the engine
already needs for tracking (`face_landmarker.task` holds `geometry_pipeline_metadata_landmarks.binarypb`).

The metadata is a small protobuf (mediapipe/modules/face_geometry/protos): GeometryPipelineMetadata
{canonical_mesh: Mesh3d = 1, procrustes_landmark_basis = 2, input_source = 3}; Mesh3d {vertex_type = 1,
primitive_type = 2, vertex_buffer = 3 (x, y, z, u, v per vertex), index_buffer = 4 (triangles)}. A
few lines of wire-format decoding read it; no generated protobuf classes are needed.

Axes: x towards the subject's left (image right when facing the camera), y up, z towards the camera.
"""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

METADATA_MEMBER = "geometry_pipeline_metadata_landmarks.binarypb"


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def _fields(data: bytes):
    """(field number, wire type, value) of one protobuf message; value is int, bytes or 4/8 raw bytes."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i:i + size], i + size
        elif wire == 5:
            value, i = data[i:i + 4], i + 4
        elif wire == 1:
            value, i = data[i:i + 8], i + 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def parse_canonical_mesh(metadata: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(vertices (468, 3) float32 cm, triangles (T, 3) int32) from the geometry pipeline metadata."""
    floats: list[float] = []
    indices: list[int] = []
    for number, _wire, value in _fields(metadata):
        if number != 1:
            continue
        for field, wire, item in _fields(value):
            if field == 3:          # repeated float, packed (wire 2) or not (wire 5)
                floats.extend(struct.unpack(f"<{len(item) // 4}f", item))
            elif field == 4:        # repeated uint32, packed (wire 2) or not (wire 0)
                if wire == 0:
                    indices.append(item)
                else:
                    j = 0
                    while j < len(item):
                        index, j = _varint(item, j)
                        indices.append(index)
    if not floats or not indices:
        raise ValueError("no canonical mesh in the geometry metadata")
    vertices = np.asarray(floats, dtype=np.float32).reshape(-1, 5)[:, :3]
    triangles = np.asarray(indices, dtype=np.int32).reshape(-1, 3)
    return np.ascontiguousarray(vertices), triangles


def load_canonical_mesh(bundle: Path) -> tuple[np.ndarray, np.ndarray]:
    """The canonical mesh inside a face_landmarker.task bundle."""
    with zipfile.ZipFile(bundle) as archive:
        return parse_canonical_mesh(archive.read(METADATA_MEMBER))
