"""P9 of docs/performance.md: quality of the page's default student against UpscalerJS's esrgan-slim
and esrgan-thick on pictures the student never trained on, from the `p9/` folder
scripts/bench-peer-quality.sh writes (`srkd eval --json` per set and contender, `peer.json` per
browser run). Run as a script, it replaces (or adds) just the P9 section of an existing report."""
import json
from pathlib import Path

from p7 import splice_section_cli  # scripts/bench/p7.py

PEERS = ["esrgan-slim", "esrgan-thick"]
SET_NAMES = {"embedded": "embedded set (data/eval, 7 pictures)",
             "lomiri": "independent photos (data/photos-lomiri, 15 pictures)"}
NODE_MODULES = Path(__file__).parent / "browser" / "node_modules"


def peer_parameters(peer: str) -> int | None:
    """Trainable weights of an UpscalerJS ×4 model, from its TF.js weights manifest."""
    path = NODE_MODULES / "@upscalerjs" / peer / "models" / "x4" / "model.json"
    if not path.exists():
        return None
    total = 0
    for group in json.loads(path.read_text())["weightsManifest"]:
        for w in group["weights"]:
            n = 1
            for s in w["shape"]:
                n *= s
            total += n
    return total


def cell(mean: dict) -> str:
    return f"{mean['psnr']:.2f} / {mean['ssim']:.4f} / {mean['niqe']:.2f}"


def p9_section(d: Path) -> list[str]:
    p9 = d / "p9"
    if not (p9 / "model").exists():
        return []
    model = (p9 / "model").read_text().strip()
    sets = [s for s in SET_NAMES if (p9 / s / f"{model}.json").exists()]
    scores = {s: {c: json.loads((p9 / s / f"{c}.json").read_text())["mean"]
                  for c in [model, *PEERS] if (p9 / s / f"{c}.json").exists()} for s in sets}
    runs = {c: json.loads((p9 / sets[0] / c / "peer.json").read_text()) for c in PEERS if (p9 / sets[0] / c / "peer.json").exists()}
    params = {c: peer_parameters(c) for c in PEERS}
    lines = ["", "## P9 — quality beside UpscalerJS's models (unseen pictures)", "",
             "PSNR-Y (dB) / SSIM-Y / NIQE (lower = more natural) of the ×4 results of the same MATLAB-bicubic ×¼ inputs, "
             "border shave 4, scored by `srkd eval` (the peers' results with `--results`). The srkd student runs in "
             "`srkd eval --model` (the page's output equals it within 1e-3, tested in Chromium); the UpscalerJS models run "
             "in headless Chromium on TF.js's WebAssembly backend (`scripts/bench/browser/peer-quality.mjs`; its WebGL "
             "backend gives the same pictures to float rounding, 30× slower on this machine's emulated GPU). The srkd student never saw "
             "these pictures (it trains on data/train); the UpscalerJS packages do not say what their models trained on.", "",
             "| contender | parameters | " + " | ".join(SET_NAMES[s] for s in sets) + " |",
             "|---|---|" + "---|" * len(sets)]
    bicubic = {s: json.loads((p9 / s / f"{model}.json").read_text())["mean"]["bicubic"] for s in sets}
    # The student's size as `srkd eval` read it from the weights (reports from before it did: n/a).
    ours = json.loads((p9 / sets[0] / f"{model}.json").read_text()).get("parameters")
    rows = [(f"srkd {model} (the page's default)", f"{ours:,}" if ours else "n/a", model)]
    rows += [(f"UpscalerJS {c}", f"{params[c]:,}" if params[c] else "n/a", c) for c in PEERS]
    for label, n, key in rows:
        lines.append(f"| {label} | {n} | " + " | ".join(cell(scores[s][key]["model"]) if key in scores[s] else "n/a" for s in sets) + " |")
    lines.append("| bicubic | | " + " | ".join(cell(bicubic[s]) for s in sets) + " |")
    verdicts = []
    for s in sets:
        if "esrgan-thick" in scores[s]:
            ours, thick = scores[s][model]["model"]["psnr"], scores[s]["esrgan-thick"]["model"]["psnr"]
            verdicts.append(f"{s}: {'met' if ours > thick else 'missed'} ({ours:.2f} vs {thick:.2f} dB)")
    lines += ["", "Target (issue #15, item 8): the page's default student above esrgan-thick in PSNR-Y — " + "; ".join(verdicts) + "."]
    sha = (p9 / "weights-sha256").read_text().strip()
    peers = ", ".join(f"{r['model']}" for r in runs.values())
    r0 = next(iter(runs.values()), None)
    where = f"UpscalerJS {r0['upscaler']} with {peers} on TF.js {r0['tfjs']} ({r0['backend']}), Chromium {r0['chromium']}" if r0 else "no peer runs"
    lines += ["", f"Measured on srkd {(p9 / 'commit').read_text().strip()}, weights/{model}.bpk sha256 {sha[:12]}…; {where}. "
              "`scripts/bench-peer-quality.sh` reruns just this section (`P9_SETS=embedded` for the embedded set alone)."]
    return lines


if __name__ == "__main__":
    splice_section_cli(__doc__, p9_section, "## P9", "p9/ results")
