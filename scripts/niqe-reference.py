#!/usr/bin/env python3
"""Reference NIQE values for shared/tests/vectors/niqe.json, computed by basicsr 1.4.2's own
NIQE (an implementation independent of srkd's), on the embedded eval PNGs and on their bicubic
×4 reconstructions (MATLAB-style: modcrop, imresize ×1/4 then ×4, both with basicsr's
MATLAB-compatible `imresize`, rounded to 8 bits). Y channel, crop_border = 4.

Two values per image:
- `niqe`: basicsr's `niqe()` on the rounded Y plane in float64, as the MATLAB release computes
  (`double(im)`); the test compares srkd with this.
- `niqe_basicsr_float32`: basicsr's `calculate_niqe` as shipped, which casts to float32 first;
  E[x²] − μ² then loses precision in flat regions and moves NIQE by up to ~0.05.
JPEGs are skipped: PIL's and the `image` crate's decoders differ by ±1 level, which alone moves
NIQE by a few hundredths and would blur what the test checks.

Run once; the output is committed. Needs python3 with numpy, scipy, pillow, torch (CPU) and the
basicsr 1.4.2 sdist unpacked at $BASICSR_SRC (only its source files are imported, not its
package __init__, so none of its training dependencies are needed):

    BASICSR_SRC=/path/to/basicsr-1.4.2 python3 scripts/niqe-reference.py > shared/tests/vectors/niqe.json
"""
import importlib.util, json, os, sys, types
import numpy as np
from PIL import Image

src = os.environ["BASICSR_SRC"]
# Minimal package skeleton so niqe.py's imports resolve to the sdist's own files.
for name in ["basicsr", "basicsr.metrics", "basicsr.utils"]:
    sys.modules[name] = types.ModuleType(name)
def load(name, path):
    spec = importlib.util.spec_from_file_location(name, os.path.join(src, path))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod
registry = types.ModuleType("basicsr.utils.registry")
registry.METRIC_REGISTRY = types.SimpleNamespace(register=lambda: (lambda f: f))
sys.modules["basicsr.utils.registry"] = registry
color = load("basicsr.utils.color_util", "basicsr/utils/color_util.py")
sys.modules["basicsr.utils"].bgr2ycbcr = color.bgr2ycbcr
matlab = load("basicsr.utils.matlab_functions", "basicsr/utils/matlab_functions.py")
load("basicsr.metrics.metric_util", "basicsr/metrics/metric_util.py")
niqe = load("basicsr.metrics.niqe", "basicsr/metrics/niqe.py")

SCALE = 4
EVAL = "data/eval"
params = np.load(os.path.join(src, "basicsr/metrics/niqe_pris_params.npz"))
out = {"generator": "scripts/niqe-reference.py (basicsr 1.4.2 niqe on the float64 Y plane, crop_border=4)", "images": []}
for name in sorted(os.listdir(EVAL)):
    if not name.lower().endswith(".png"):
        continue
    rgb = np.asarray(Image.open(os.path.join(EVAL, name)).convert("RGB")).astype(np.float64)
    h, w = rgb.shape[0] // SCALE * SCALE, rgb.shape[1] // SCALE * SCALE
    hr = rgb[:h, :w]
    lr = np.clip(np.round(matlab.imresize(hr / 255.0, 1 / SCALE) * 255.0), 0, 255)
    bic = np.clip(np.round(matlab.imresize(lr / 255.0, SCALE) * 255.0), 0, 255)
    for kind, img in [("hr", rgb), ("bicubic", bic)]:
        bgr = img[:, :, ::-1].copy()
        as_shipped = niqe.calculate_niqe(bgr, crop_border=SCALE, input_order="HWC", convert_to="y")
        y = color.bgr2ycbcr((bgr / 255.0).astype(np.float32), y_only=True).astype(np.float64) * 255.0
        y = y[SCALE:-SCALE, SCALE:-SCALE].round()
        value = niqe.niqe(y, params["mu_pris_param"], params["cov_pris_param"], params["gaussian_window"])
        out["images"].append({"image": name, "kind": kind, "niqe": value, "niqe_basicsr_float32": as_shipped})
        print(name, kind, value, as_shipped, file=sys.stderr)
print(json.dumps(out, indent=1))
