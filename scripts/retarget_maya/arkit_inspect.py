"""Seeing what the solver saw (`inspect_arkit`): the take's ARKit curves keyed on a blendShape of a
user-supplied ARKit-topology head, next to the MetaHuman.

The head is any mesh with the 52 ARKit targets by name: either it already has a blendShape whose
weights are named after them (reused), or the scene holds target meshes named after them (a blendShape
is built). Names may carry a namespace or a prefix ("ARKit_eyeBlinkLeft", "head_jawOpen").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from maya import cmds

from . import arkit, defaults, keying, scene, takes, timebase


class HeadNotUsable(Exception):
    """The head mesh has no ARKit blendShape and the scene has no ARKit targets to build one from."""


@dataclass
class InspectReport:
    take: str
    head: str
    blendshape: str
    built: bool
    keyed: List[str]
    missing: List[str]
    start_frame: float
    end_frame: float
    key_path: str
    warnings: List[str] = field(default_factory=list)

    def summary(self) -> str:
        text = "Keyed %d ARKit curves on %s (%s) from frame %g to %g." % (
            len(self.keyed), self.blendshape, "built" if self.built else "reused", self.start_frame, self.end_frame)
        if self.missing:
            text += "\nThe head has no target for: %s" % ", ".join(self.missing)
        return text


def inspect_arkit(take_dir: str, head_mesh: str, start_frame: Optional[float] = defaults.DEFAULT_START_FRAME,
                  fast: Optional[bool] = None) -> InspectReport:
    """Key the take's ARKit curves (arkit.csv) on `head_mesh`'s ARKit blendShape, building it if needed."""
    info = takes.read_take_info(take_dir)
    path = info.file("arkit", defaults.ARKIT_FILE)
    if path is None:
        raise takes.TakeError("the take has no ARKit curves (%s): %s" % (defaults.ARKIT_FILE, info.folder))
    table = takes.read_arkit_csv(path)
    if not cmds.objExists(head_mesh):
        raise HeadNotUsable("No node named %r in the scene." % head_mesh)
    start = float(round(scene.playback_start() if start_frame is None else start_frame))
    key_path = keying.choose_path(fast)
    with scene.undo_chunk(defaults.INSPECT_UNDO_CHUNK):
        blendshape, weights, built = find_or_build_blendshape(head_mesh)
        names = [n for n in arkit.arkit_names() if n in weights and n in table.names]
        columns = [table.names.index(n) for n in names]
        frames, values = timebase.take_to_scene(table.times, table.values[:, columns], scene.scene_fps(), start)
        plugs = [weights[n] for n in names]
        keying.write_keys(keying.KeyRequest(plugs, frames, values, [1.0] * len(plugs)), key_path)
    missing = [n for n in arkit.arkit_names() if n not in weights]
    return InspectReport(take=info.folder, head=head_mesh, blendshape=blendshape, built=built, keyed=names,
                         missing=missing, start_frame=float(frames[0]), end_frame=float(frames[-1]),
                         key_path=key_path)


def find_or_build_blendshape(head: str) -> Tuple[str, Dict[str, str], bool]:
    """(blendShape node, {ARKit name: weight plug}, whether it was built)."""
    existing = _existing_arkit_blendshape(head)
    if existing is not None:
        return existing[0], existing[1], False
    targets = arkit.match_arkit_targets(_target_meshes(head))
    if not targets:
        raise HeadNotUsable(
            "%s has no blendShape with ARKit-named weights, and the scene has no meshes named after the "
            "ARKit shapes (eyeBlinkLeft, jawOpen, ...) to build one from." % head)
    names = [n for n in arkit.arkit_names() if n in targets]
    created = cmds.blendShape(*([targets[n] for n in names] + [head]), name=defaults.ARKIT_BLENDSHAPE_NAME)
    node = str(created[0] if isinstance(created, (list, tuple)) else created)
    return node, {n: "%s.weight[%d]" % (node, i) for i, n in enumerate(names)}, True


def _existing_arkit_blendshape(head: str) -> Optional[Tuple[str, Dict[str, str]]]:
    history = cmds.listHistory(head)
    nodes = cmds.ls(*history, type="blendShape") if isinstance(history, list) and history else []
    best: Optional[Tuple[str, Dict[str, str]]] = None
    for node in nodes:
        aliases = cmds.aliasAttr(node, query=True) or []
        # aliasAttr answers [alias, "weight[0]", alias, "weight[1]", ...]
        weights = {name: "%s.%s" % (node, alias) for name, alias in
                   arkit.match_arkit_targets(aliases[0::2]).items()}
        if weights and (best is None or len(weights) > len(best[1])):
            best = (str(node), weights)
    return best


def _target_meshes(head: str) -> List[str]:
    """Mesh transforms of the scene other than the head, as candidate ARKit targets."""
    shapes = cmds.ls(type="mesh", noIntermediate=True, long=True) or []
    head_paths = set(cmds.ls(head, long=True) or [])
    transforms: List[str] = []
    for shape in shapes:
        for parent in cmds.listRelatives(shape, parent=True, fullPath=True) or []:
            if parent not in head_paths and parent not in transforms:
                transforms.append(parent)
    return transforms
