"""Preview stage: review videos and curve plots of a take.

- `preview.render_preview(take_dir, out, PreviewOptions)`: the side-by-side MP4 (source + landmarks,
  face-board diagram, 3D head driven by the ARKit curves, scrolling key curves), with the take's audio.
- `compare.compare_videos(left, right, out)`: an original video beside a render made elsewhere.
- `plot.plot_take(take_dir, out, PlotOptions)`: publication-quality curve plots (matplotlib).
- `cli.register`: the `preview`, `compare` and `plot` sub-commands (`batch --preview` previews many clips).
Heavy modules (OpenCV, moderngl, matplotlib) are imported by those modules, not here.
"""
from engine.config.preview import PreviewOptions

__all__ = ["PreviewOptions"]
