#!/usr/bin/env python3
"""The frameworks srkd is measured against (docs/performance.md), on the very weights srkd runs.

  peers.py infer --weights DIR --models a,b --size 256 --runs 1 --threads N --json OUT [--check DIR]
      Loads DIR/<model>.safetensors (from `srkd export`: PyTorch names, architecture in the
      metadata) into a PyTorch SRResNet, exports it to ONNX, and times one whole-image ×4
      forward pass in PyTorch CPU and ONNX Runtime CPU (after a warm-up) with N threads.
      --check DIR compares both outputs with srkd's (DIR/input.f32, DIR/<model>.f32 from
      `srkd bench infer --save`) and fails if they differ by more than 0.05 on 0-255.
  peers.py report --dir DIR --out docs/performance.md [--dist web/dist]
      Medians over the alternated rounds DIR/srkd-*.json / DIR/peers-*.json, ratios, FLOPs,
      the share of this CPU's peak, the browser payload, and the machine/versions.
Run by scripts/bench.sh, which installs the pinned peers into a venv.
"""
import argparse
import warnings
import gzip
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The UpscalerJS models scripts/bench/browser installs (npm ci there).
PEER_MODELS = ROOT / "scripts" / "bench" / "browser" / "node_modules" / "@upscalerjs"

from p4 import p4_section  # scripts/bench/p4.py
from p7 import p7_section, splice  # scripts/bench/p7.py
from p8 import p8_section  # scripts/bench/p8.py
from p9 import p9_section  # scripts/bench/p9.py


def build_generator(config, tensors, strict=True):
    import torch
    from torch import nn

    f, blocks, scale = config["filters"], config["blocks"], config["scale"]
    eps = config["bn_epsilon"]
    stages = scale.bit_length() - 1

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(f, f, 3, padding=1)
            self.bn1 = nn.BatchNorm2d(f, eps=eps)
            self.act = nn.PReLU(f)
            self.conv2 = nn.Conv2d(f, f, 3, padding=1)
            self.bn2 = nn.BatchNorm2d(f, eps=eps)

        def forward(self, x):
            return x + self.bn2(self.conv2(self.act(self.bn1(self.conv1(x)))))

    pixels = config["pixels"]
    in_scale = (pixels["input"][1] - pixels["input"][0]) / 255.0
    in_offset = pixels["input"][0]
    out_scale = 255.0 / (pixels["output"][1] - pixels["output"][0])
    out_offset = -pixels["output"][0] * out_scale
    tanh = pixels["output_activation"] == "tanh"
    shared_act = config["upsample_prelu"] == "shared"

    class Generator(nn.Module):
        """SRResNet exactly as srkd-core's Generator::forward (0-255 in, 0-255 out)."""

        def __init__(self):
            super().__init__()
            self.head = nn.Conv2d(3, f, 9, padding=4)
            self.head_act = nn.PReLU(f)
            self.blocks = nn.ModuleList(Block() for _ in range(blocks))
            self.trunk_conv = nn.Conv2d(f, f, 3, padding=1)
            self.trunk_bn = nn.BatchNorm2d(f, eps=eps)
            self.upsample_convs = nn.ModuleList(nn.Conv2d(f, 4 * f, 3, padding=1) for _ in range(stages))
            self.upsample_acts = nn.ModuleList(nn.PReLU(f) for _ in range(1 if shared_act else stages))
            self.shuffle = nn.PixelShuffle(2)
            self.tail = nn.Conv2d(f, 3, 9, padding=4)

        def forward(self, pixels):
            x = self.head_act(self.head(pixels * in_scale + in_offset))
            y = x
            for block in self.blocks:
                y = block(y)
            y = x + self.trunk_bn(self.trunk_conv(y))
            for i, conv in enumerate(self.upsample_convs):
                y = self.upsample_acts[min(i, len(self.upsample_acts) - 1)](self.shuffle(conv(y)))
            y = self.tail(y)
            if tanh:
                y = torch.tanh(y)
            return y * out_scale + out_offset

    model = Generator().eval()
    if not strict:
        return model
    state = {re.sub(r"\.alpha$", ".weight", k): torch.from_numpy(v) for k, v in tensors.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        sys.exit(f"weights do not fit the architecture: missing {missing}, unexpected {unexpected}")
    return model


def load(path):
    from safetensors import safe_open

    with safe_open(path, "np") as f:
        meta = f.metadata() or {}
        if "srkd.config" not in meta:
            sys.exit(f"{path}: no srkd.config metadata (export it with `srkd export`)")
        return json.loads(meta["srkd.config"]), {k: f.get_tensor(k) for k in f.keys()}


# The parts of a training step, as srkd names them (train/src/training/step_clock.rs).
TRAIN_PARTS = ["G forward", "D step", "frozen nets (teacher, VGG on HR)", "G losses (VGG on SR, D on SR)", "G backward", "G Adam"]


def timed(fn, runs):
    fn()  # warm-up: allocations, ONNX Runtime graph optimisation, oneDNN primitive caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def infer(args):
    import numpy as np
    import onnxruntime as ort
    import torch

    torch.set_num_threads(args.threads)
    weights = Path(args.weights)
    results = []
    for name in args.models.split(","):
        config, tensors = load(weights / f"{name}.safetensors")
        model = build_generator(config, tensors)
        rng = np.random.default_rng(0)
        if args.check:
            x = np.fromfile(Path(args.check) / "input.f32", dtype="<f4").reshape(1, 3, args.size, args.size)
        else:
            x = rng.uniform(0, 255, (1, 3, args.size, args.size)).astype(np.float32)
        xt = torch.from_numpy(x)
        onnx_path = weights / f"{name}.onnx"
        if not onnx_path.exists():
            # The TorchScript exporter handles this static graph without onnxscript.
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            with torch.no_grad():
                torch.onnx.export(model, (xt,), str(onnx_path), input_names=["pixels"], output_names=["sr"],
                                  dynamic_axes={"pixels": {2: "h", 3: "w"}, "sr": {2: "H", 3: "W"}}, dynamo=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

        def run_torch():
            with torch.inference_mode():
                return model(xt).numpy()

        torch_times, torch_out = timed(run_torch, args.runs)
        ort_times, ort_out = timed(lambda: session.run(None, {"pixels": x})[0], args.runs)
        entry = {"model": name, "pytorch_seconds": torch_times, "onnxruntime_seconds": ort_times}
        if args.check:
            srkd_out = np.fromfile(Path(args.check) / f"{name}.f32", dtype="<f4").reshape(torch_out.shape)
            entry["max_abs_diff_vs_srkd"] = {"pytorch": float(np.abs(torch_out - srkd_out).max()),
                                             "onnxruntime": float(np.abs(ort_out - srkd_out).max())}
            for peer, diff in entry["max_abs_diff_vs_srkd"].items():
                if diff > 0.05:
                    sys.exit(f"{name}: {peer} output differs from srkd's by {diff:.4f} (0-255 scale): not the same model")
        results.append(entry)
        print(f"{name}: pytorch {torch_times[0]:.3f} s, onnxruntime {ort_times[0]:.3f} s", file=sys.stderr)
    versions = {"torch": torch.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__, "python": platform.python_version()}
    Path(args.json).write_text(json.dumps({"threads": args.threads, "size": args.size, "versions": versions, "results": results}, indent=1))


def train(args):
    """One student G2G+AL step as `srkd bench train` runs it: D step on real/detached fake, then
    G on content (VGG16 conv5_3 features / 12.75) + 1e-3·KD (teacher SR) + 1e-3·adversarial."""
    import numpy as np
    import torch
    from torch import nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    config, tensors = load(Path(args.weights) / f"{args.teacher}.safetensors")
    teacher = build_generator(config, tensors).requires_grad_(False)
    student_config = dict(config, filters=32, blocks=8)
    student = build_generator(student_config, {}, strict=False).train()

    layers, c_in = [], 3
    for block, n in enumerate([2, 2, 3, 3, 3]):
        if block:
            layers.append(nn.MaxPool2d(2))
        for _ in range(n):
            c_out = [64, 128, 256, 512, 512][block]
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU()]
            c_in = c_out
    vgg = nn.Sequential(*layers).eval().requires_grad_(False)
    bgr_mean = torch.tensor([104.00699, 116.66877, 122.67892]).view(1, 3, 1, 1)

    def features(pixels):
        return vgg(pixels.flip(1) - bgr_mean)

    blocks, c_in = [], 3
    for i in range(8):
        c_out = 64 << (i // 2)
        blocks += [nn.Conv2d(c_in, c_out, 3, stride=2 if i % 2 else 1, padding=1)]
        if i:
            blocks.append(nn.BatchNorm2d(c_out, eps=1e-3))
        blocks.append(nn.LeakyReLU(0.2))
        c_in = c_out
    side = args.crop // 16
    disc = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(c_in * side * side, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 1))

    def d(pixels):
        return disc(pixels / 127.5 - 1.0)

    opt_g = torch.optim.Adam(student.parameters(), lr=1e-4, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=1e-4, betas=(0.9, 0.999))
    rng = np.random.default_rng(0)
    hr = torch.from_numpy(rng.uniform(0, 255, (args.batch, 3, args.crop, args.crop)).astype(np.float32))
    lr = F.avg_pool2d(hr, 4)
    bce = F.binary_cross_entropy_with_logits

    # The same parts as srkd's step (train/src/training/step_clock.rs), timed the same way.
    parts = {name: [] for name in TRAIN_PARTS}

    def step():
        laps, last = [], time.perf_counter()

        def lap():
            nonlocal last
            now = time.perf_counter()
            laps.append(now - last)
            last = now

        sr = student(lr)
        lap()
        real, fake = d(hr), d(sr.detach())
        loss_d = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        lap()
        with torch.no_grad():
            hr_features = features(hr) / 12.75
            teacher_sr = teacher(lr)
        lap()
        adv = d(sr)
        loss = F.mse_loss(features(sr) / 12.75, hr_features) + 1e-3 * F.mse_loss(sr, teacher_sr) + 1e-3 * bce(adv, torch.ones_like(adv))
        value = loss.item()
        lap()
        opt_g.zero_grad()
        loss.backward()
        lap()
        opt_g.step()
        lap()
        return laps

    # One warm-up step, then the timed ones: the same protocol as `srkd bench train`, and the parts
    # come from the very steps whose totals are reported.
    laps = []
    times, _ = timed(lambda: laps.append(step()), args.runs)
    for run in laps[1:]:  # the first is the warm-up
        for name, seconds in zip(TRAIN_PARTS, run):
            parts[name].append(seconds)
    print(f"g2g+al step: pytorch {times[0]:.3f} s", file=sys.stderr)
    versions = {"torch": torch.__version__, "python": platform.python_version()}
    Path(args.json).write_text(json.dumps({"threads": args.threads, "batch": args.batch, "crop": args.crop, "versions": versions,
                                           "pytorch_seconds": times, "pytorch_parts": parts}, indent=1))


def cpu_facts():
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.*)", info)
    mhz = re.search(r"cpu MHz\s*:\s*([\d.]+)", info)
    flags = set((re.search(r"flags\s*:\s*(.*)", info) or re.search("", "")).group(1 if "flags" in info else 0).split())
    # FP32 FLOPs per cycle per core: two FMA units × lanes × 2 (multiply + add).
    per_cycle = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= flags else 16 if "avx" in flags else 8
    cores = os.cpu_count() or 1
    ghz = float(mhz.group(1)) / 1000 if mhz else None
    peak = cores * ghz * 1e9 * per_cycle if ghz else None
    return {"model": model.group(1).strip() if model else platform.processor(), "cores": cores, "ghz": ghz,
            "flops_per_cycle": per_cycle, "peak_flops": peak}


# The page's build (web/src/lib.rs; one since the WebGPU kernels are srkd's own WGSL) and who loads it.
BUILDS = [("srkd-web", "every browser")]


def payload(dist, model):
    """Bytes before the first upscale, as a static host serves them (gzip -9 and brotli -q 11):
    (rows every visitor loads — page, service worker, CSS, the default model —, {build: its JS
    glue and wasm rows})."""
    import brotli
    dist = Path(dist)

    def row(f):
        raw = f.read_bytes()
        return (f.relative_to(dist).as_posix(), len(raw), len(gzip.compress(raw, 9)), len(brotli.compress(raw, quality=11)))
    shared = [dist / "index.html", dist / "sw.js"] + sorted(dist.glob("*.css")) + [dist / "weights" / f"{model}.bpk.planes"]
    builds = {}
    for name, _ in BUILDS:
        named = re.compile(rf"{re.escape(name)}-[0-9a-f]{{16}}(\.js|_bg\.wasm)")  # web/precache.sh's names
        files = sorted(f for f in dist.iterdir() if named.fullmatch(f.name))
        builds[name] = [row(f) for f in files]
    return [row(f) for f in shared if f.exists()], builds


def p5_section(dist, page_model):
    shared, builds = payload(dist, page_model)
    lines = ["", "## P5 — browser payload before the first upscale", "",
             f"What the page downloads before its first result (`{page_model}`, the default model), compressed as a "
             "static host serves it: gzip for any browser, brotli for those that accept it (Chromium, Firefox and Safari "
             "over HTTPS; GitHub Pages, Netlify and Cloudflare serve it). One build of the page's wasm (CPU and WebGPU "
             "kernels) serves every browser; it is built with the `web` cargo profile "
             "(fat LTO, one codegen unit, opt-level s; srkd-core's kernels at opt-level 3) and `wasm-opt -Oz`.", "",
             "| file | raw bytes | gzip -9 bytes | brotli -q 11 bytes |", "|---|---|---|---|"]
    lines += [f"| {n} | {r:,} | {g:,} | {b:,} |" for n, r, g, b in shared]
    for name, _ in BUILDS:
        lines += [f"| {n} | {r:,} | {g:,} | {b:,} |" for n, r, g, b in builds[name]]
    verdicts = []
    verdict = lambda v: "met" if v <= 3_000_000 else f"missed by {v - 3_000_000:,} bytes"  # noqa: E731
    for name, who in BUILDS:
        rows = shared + builds[name]
        raw, gz, br = (sum(r[i] for r in rows) for i in (1, 2, 3))
        lines.append(f"| **total, {who}** | {raw:,} | **{gz:,}** | **{br:,}** |")
        verdicts.append(f"{name}: gzip {verdict(gz)}, brotli {verdict(br)}")
    lines += ["", f"Target ≤ 3 MB (3,000,000 bytes): {'; '.join(verdicts)}."]
    return lines


TFJS_BACKENDS = {"webgpu": "WebGPU", "webgl": "WebGL", "wasm": "WebAssembly",
                 "wasm-threads": "WebAssembly, cross-origin-isolated page"}


def srkd_gflop(model, side=64):
    """GFLOP (2 × multiply-adds) of a shipped SRResNet-style generator on a side² input, from its
    training manifest: 9×9 head, two 3×3 per block and the trunk conv at LR size, one 3×3 to 4×
    filters per ×2 stage (before its shuffle), the 9×9 tail at HR size."""
    g = json.loads((ROOT / "weights" / f"{model}.manifest.json").read_text())["generator"]
    f, blocks, scale = g["filters"], g["blocks"], g["scale"]
    macs = 81 * 3 * f + (2 * blocks + 1) * 9 * f * f
    macs += sum(9 * f * 4 * f * 4 ** stage for stage in range(scale.bit_length() - 1))
    macs += 81 * f * 3 * scale * scale
    return 2 * macs * side * side / 1e9


def keras_gflop(model_json, scale, side=64):
    """GFLOP of a TF.js layers model on a side² input: each Conv2D's kernel, at HR size once an
    UpSampling2D has run (UpscalerJS's esrgan models upsample once, by the model's scale)."""
    model = json.loads(Path(model_json).read_text())
    layers = model["modelTopology"]["model_config"]["config"]["layers"]
    shapes = {w["name"]: w["shape"] for group in model["weightsManifest"] for w in group["weights"]}
    macs, factor = 0, 1
    for layer in layers:
        if layer["class_name"] == "UpSampling2D":
            factor = scale * scale
        elif layer["class_name"] == "Conv2D":
            k = shapes[layer["config"]["name"] + "/kernel"]
            macs += k[0] * k[1] * k[2] * k[3] * factor
    return 2 * macs * side * side / 1e9


def p3_section(d):
    """The page vs UpscalerJS (p3.mjs's p3.json, `srkd eval --results` of the peer's pictures)."""
    p3 = json.loads((d / "p3.json").read_text())
    med = statistics.median
    first = {k: med(v) / 1000 for k, v in p3["first_result_ms"].items()}
    steady = {k: sum(med(ts) for ts in per.values()) / 1000 for k, per in p3["steady_ms"].items()}
    peer_backends = [k.split("-", 1)[1] for k in p3["steady_ms"] if k.startswith("upscalerjs-")]
    peer_quality = {b: json.loads((d / f"p3-upscalerjs-{b}.json").read_text()) for b in peer_backends}
    srkd_keys = [k for k in p3["steady_ms"] if k.startswith("srkd-")]
    peer_keys = [f"upscalerjs-{b}" for b in peer_backends]
    def took(k):
        path = p3["paths"][k]
        workers = p3.get("workers", {}).get(k)
        on = f", {workers} {'instance' if workers == '1' else 'workers'}" if path["backend"] == "cpu" and workers else ""
        return f"{path['backend']}, {path['kernels']} kernels{on}, build {path.get('build', 'n/a')}"
    roles = {"srkd-default": "default", "srkd-1-thread": "one instance (`?threads=1`)", "srkd-webgpu": "forced WebGPU"}
    names = {k: f"srkd page, {p3['model']} — {roles.get(k, k)} ({took(k)})" for k in srkd_keys}
    names |= {f"upscalerjs-{b}": f"UpscalerJS esrgan-slim (TF.js {TFJS_BACKENDS[b]})" for b in peer_backends}
    quality = {k: (statistics.mean(q["psnr"] for q in p3["srkd_quality"][k].values()),
                   statistics.mean(q["ssim"] for q in p3["srkd_quality"][k].values())) for k in srkd_keys}
    for b, q in peer_quality.items():
        quality[f"upscalerjs-{b}"] = (q["mean"]["model"]["psnr"], q["mean"]["model"]["ssim"])
    bicubic = peer_quality[peer_backends[0]]["mean"]["bicubic"]
    n = len(p3["images"])
    u = p3["upscalerjs"]
    lines = ["", "## P3 — in the browser: the srkd page vs UpscalerJS", "",
             f"Headless Chromium {p3['chromium']}, WebGPU on SwiftShader (a GPU emulated on this CPU: absolute times are "
             f"far from a real GPU's; every WebGPU contender runs on the same adapter). The page's default path on this adapter "
             f"is {took('srkd-default')} (a software adapter loses to the CPU kernels: README, Web page); forced WebGPU is "
             f"`?backend=webgpu`. The default runs a picture on one tile worker per core (this machine: "
             f"{p3.get('workers', {}).get('srkd-default', 'n/a')}; README, Web page) once they have started, its first picture on the page's own "
             f"instance meanwhile; `?threads=1` keeps every picture there. Peer: UpscalerJS {u['upscaler']} with "
             f"{u['model']} ×4 on TF.js {u['tfjs']} (scripts/bench/browser), on each of its backends ({', '.join(TFJS_BACKENDS[b] for b in peer_backends)}; "
             "WebAssembly: XNNPACK with SIMD, one thread on a page served as UpscalerJS's are, and "
             "on the same page served cross-origin isolated (COOP/COEP headers, which TF.js needs for threads; srkd's tile "
             f"workers need none) its threaded build, which ran {p3.get('peer_threads', {}).get('wasm-threads', 'n/a')} thread(s) here "
             "(asked for every core; TF.js's pthread pool holds half the logical cores)). Time to first result: a fresh browser per run, "
             f"navigation → the ×4 pixels of the Set5 butterfly (its 64×64 ×¼ input, 256×256 out) read back, on the page's clock; median of "
             f"{p3['rounds']} alternated rounds. Steady state: the {n} data/eval pictures (MATLAB-bicubic ×¼ inputs, the same for all), "
             f"after one warm-up pass; sum over pictures of the median of {p3['rounds']} passes, pixels in → pixels read back. "
             "Quality: PSNR-Y / SSIM-Y against the HR pictures, shave 4 (the peer's outputs scored by `srkd eval --results`).", "",
             "| contender | time to first result (s) | steady state, all pictures (s) | vs srkd default steady | PSNR-Y (dB) | SSIM-Y |",
             "|---|---|---|---|---|---|"]
    base = steady["srkd-default"]
    for k in srkd_keys + peer_keys:
        first_s = f"{first[k]:.2f}" if k in first else "as default"
        lines.append(f"| {names[k]} | {first_s} | {steady[k]:.2f} | {steady[k] / base:.2f}× | {quality[k][0]:.2f} | {quality[k][1]:.4f} |")
    lines.append(f"| bicubic (reference) | | | | {bicubic['psnr']:.2f} | {bicubic['ssim']:.4f} |")
    verdict = lambda ok: "met" if ok else "missed"
    best_peer = min(peer_keys, key=lambda k: steady[k])
    # The peer as served on any host (srkd's default runs there too), without cross-origin isolation.
    best_plain = min((k for k in peer_keys if k != "upscalerjs-wasm-threads"), key=lambda k: steady[k])
    gpu_ratio = steady["upscalerjs-webgpu"] / steady["srkd-webgpu"]
    webgl = "upscalerjs-webgl"
    lines += ["", f"Targets (issue #17): the default path faster than esrgan-slim on TF.js WebGL (the backend UpscalerJS users get by default) — "
              f"steady {verdict(steady['srkd-default'] < steady[webgl])} ({steady['srkd-default']:.2f} s vs {steady[webgl]:.2f} s), "
              f"first result {verdict(first['srkd-default'] < first[webgl])} ({first['srkd-default']:.2f} s vs {first[webgl]:.2f} s); "
              f"and than esrgan-slim on its fastest backend on a page served as UpscalerJS's are ({names[best_plain]}) — "
              f"steady {verdict(steady['srkd-default'] < steady[best_plain])} ({steady['srkd-default']:.2f} s vs {steady[best_plain]:.2f} s), "
              f"first result {verdict(first['srkd-default'] < first[best_plain])} ({first['srkd-default']:.2f} s vs {first[best_plain]:.2f} s); "
              f"and on its fastest backend of all ({names[best_peer]}) — "
              f"steady {verdict(steady['srkd-default'] < steady[best_peer])} ({steady['srkd-default']:.2f} s vs {steady[best_peer]:.2f} s), "
              f"first result {verdict(first['srkd-default'] < first[best_peer])} ({first['srkd-default']:.2f} s vs {first[best_peer]:.2f} s); "
              f"PSNR-Y higher — {verdict(quality['srkd-default'][0] > quality[best_peer][0])} "
              f"({quality['srkd-default'][0]:.2f} vs {quality[best_peer][0]:.2f} dB); srkd on WebGPU ≥ 2× faster than TF.js WebGPU — "
              f"{verdict(gpu_ratio >= 2)} ({gpu_ratio:.2f}×).", "",
              f"Work per 64×64 input: {p3['model']} {srkd_gflop(p3['model']):.2f} GFLOP (its manifest's generator), esrgan-slim "
              f"{keras_gflop(PEER_MODELS / 'esrgan-slim' / 'models' / 'x4' / 'model.json', 4):.2f} GFLOP (its model.json): on the same "
              "CPU, a steady-state time ratio below this work ratio means srkd's kernels do more per second.", "",
              "| picture | " + " | ".join(f"{k} steady (ms)" for k in srkd_keys)
              + " | " + " | ".join(f"esrgan-slim {TFJS_BACKENDS[b]} (ms)" for b in peer_backends) + " | srkd PSNR-Y | esrgan-slim PSNR-Y |",
              "|---|" + "---|" * (len(srkd_keys) + len(peer_keys) + 2)]
    peer_psnr = {Path(r["name"]).stem: r["model"]["psnr"] for r in peer_quality[peer_backends[0]]["images"]}
    for img in p3["images"]:
        t = {k: med(p3["steady_ms"][k][img]) for k in p3["steady_ms"]}
        lines.append("| " + img + " | " + " | ".join(f"{t[k]:.0f}" for k in srkd_keys + peer_keys)
                     + f" | {p3['srkd_quality']['srkd-default'][img]['psnr']:.2f} | {peer_psnr[img]:.2f} |")
    commit = (d / "commit").read_text().strip() if (d / "commit").exists() else "n/a"
    lines += ["", f"P3 measured on srkd {commit} (web/dist built by scripts/build-web.sh; weights/{p3['model']}.bpk); "
              "`scripts/bench-page-speed.sh` reruns just this section."]
    return lines, p3["model"]


def p6_section(d):
    """P6: `srkd bench serve` runs (serve-sqlite.json, serve-postgres.json) as Markdown lines."""
    runs = [(name, json.loads((d / f"serve-{name}.json").read_text()))
            for name in ("sqlite", "postgres") if (d / f"serve-{name}.json").exists()]
    if not runs:
        return []
    r0 = runs[0][1]
    lines = ["", "## P6 — `srkd serve` under load (rating study answers)", "",
             f"`srkd bench serve`: {r0['raters']} simulated raters register, then all answer the "
             f"{r0['answers_per_rater']} items of web/study at once, one HTTP request per answer as the page sends them "
             "(a new loopback connection each), against a fresh `srkd serve` on this machine. An answer counts when its "
             "200 arrives, which the server sends after the commit; *lost* = acknowledged answers the database does not "
             "hold afterwards.", "",
             "| database | answers | answers/s | p50 latency ms | p99 latency ms | max ms | failed | lost |",
             "|---|---|---|---|---|---|---|---|"]
    for name, r in runs:
        db = {"sqlite": "SQLite (WAL, synchronous=FULL)", "postgres": "PostgreSQL 15 (local)"}[name]
        lat = r["latency_ms"]
        lines.append(f"| {db} | {r['acknowledged']:,} | {r['answers_per_s']:.0f} | {lat['p50']:.1f} | {lat['p99']:.1f} | "
                     f"{lat['max']:.1f} | {r['failed']} | {r['lost']} |")
    notes = []
    if (d / "serve-commit").exists():
        notes.append(f"srkd {(d / 'serve-commit').read_text().strip()}, debug binary as scripts/bench-serve.sh builds it")
    if (d / "serve-loadavg").exists():
        notes.append(f"1-minute load average before the run {(d / 'serve-loadavg').read_text().strip()} on "
                     f"{os.cpu_count()} cores (above ~0.5, other work was running and the figures are lower bounds)")
    if notes:
        lines += ["", "Measured on " + "; ".join(notes) + ". `scripts/bench-serve.sh` reruns just this section."]
    return lines


def splice_p3(args):
    """Replace (or add) the P3 section of an existing docs/performance.md (scripts/bench-page-speed.sh),
    and with --dist the P5 payload of the page it measured."""
    lines, page_model = p3_section(Path(args.dir))
    splice(Path(args.out), lines, "## P3")
    if args.dist:
        p5 = p5_section(args.dist, page_model)
        splice(Path(args.out), p5, "## P5")
        lines += p5
    print("\n".join(lines))


def splice_p6(args):
    """Replace (or add) the P6 section of an existing docs/performance.md (scripts/bench-serve.sh)."""
    lines = p6_section(Path(args.dir))
    splice(Path(args.out), lines, "## P6")
    print("\n".join(lines))


def report(args):
    d = Path(args.dir)
    srkd_runs = [json.loads(p.read_text()) for p in sorted(d.glob("srkd-*.json"))]
    peer_runs = [json.loads(p.read_text()) for p in sorted(d.glob("peers-*.json"))]
    if not srkd_runs or len(srkd_runs) != len(peer_runs):
        sys.exit(f"{d}: need the same number of srkd-*.json and peers-*.json rounds")
    cpu = cpu_facts()
    lines = ["# Performance", "",
             f"Generated by `scripts/bench.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; do not edit by hand.", "",
             "## P1 — native inference, ×4 on a 256×256 input (1024×1024 out)", "",
             f"Whole-image forward pass of the same weights (`srkd export` → safetensors → PyTorch → ONNX), "
             f"outputs checked equal to srkd's within 0.05 on 0–255. {len(srkd_runs)} rounds, srkd and the peers "
             f"alternated in one process tree; medians. Threads: {peer_runs[0]['threads']} everywhere.", "",
             "| model | FLOPs / output px | srkd cpu (s) | PyTorch CPU (s) | ONNX Runtime CPU (s) | srkd / PyTorch | srkd / ORT | srkd GFLOP/s | share of nominal peak | target |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    verdicts = []
    for i, r in enumerate(srkd_runs[0]["results"]):
        name = r["model"]
        s = statistics.median(x for run in srkd_runs for x in run["results"][i]["seconds"])
        pt = statistics.median(x for run in peer_runs for x in run["results"][i]["pytorch_seconds"])
        ox = statistics.median(x for run in peer_runs for x in run["results"][i]["onnxruntime_seconds"])
        gflops = r["flops"] / s / 1e9
        share = f"{r['flops'] / s / cpu['peak_flops']:.1%}" if cpu["peak_flops"] else "n/a"
        ok = s <= 0.8 * pt and s <= ox
        verdicts.append((name, s / pt, s / ox, ok))
        lines.append(f"| {name} | {r['flops_per_output_pixel'] / 1e3:.1f} k | {s:.3f} | {pt:.3f} | {ox:.3f} | "
                     f"{s / pt:.2f}× | {s / ox:.2f}× | {gflops:.1f} | {share} | {'met' if ok else 'missed'} |")
    srkd_train = [json.loads(p.read_text()) for p in sorted(d.glob("train-srkd-*.json"))]
    peer_train = [json.loads(p.read_text()) for p in sorted(d.glob("train-peers-*.json"))]
    train_lines = []
    if srkd_train and len(srkd_train) == len(peer_train):
        st = statistics.median(x for run in srkd_train for x in run["results"][0]["seconds"])
        pt = statistics.median(x for run in peer_train for x in run["pytorch_seconds"])
        b, c = srkd_train[0]["batch"], srkd_train[0]["crop"]
        train_lines = ["", f"## P2 — one student G2G+AL training step (batch {b}, {c}² HR crops)", "",
                       "Generator forward/backward, teacher (SRResNet) forward, VGG16 conv5_3 content loss on SR and HR, "
                       "KD and adversarial terms, Adam on G; discriminator step on real and detached fake. "
                       f"{len(srkd_train)} rounds alternated, each one warm-up step and "
                       f"{len(srkd_train[0]['results'][0]['seconds'])} timed steps per framework; medians over all timed steps.", "",
                       "| srkd cpu (s/step) | PyTorch CPU (s/step) | srkd / PyTorch | target ≤ 1.0× |", "|---|---|---|---|",
                       f"| {st:.2f} | {pt:.2f} | {st / pt:.2f}× | {'met' if st <= pt else 'missed'} |"]
        srkd_parts = srkd_train[0]["results"][0].get("parts")
        if srkd_parts and all("pytorch_parts" in run for run in peer_train):
            train_lines += ["", "### Where the training step's time goes", "",
                            "Both steps timed in the same six parts (srkd: `train/src/training/step_clock.rs`, waiting for the "
                            "device after each; PyTorch: the same cut points in `scripts/bench/peers.py`); medians over the rounds.", "",
                            "| part | srkd cpu (s) | PyTorch CPU (s) | srkd / PyTorch |", "|---|---|---|---|"]
            gaps = []
            for name in TRAIN_PARTS:
                a = statistics.median(x for run in srkd_train for x in run["results"][0]["parts"][name])
                b = statistics.median(x for run in peer_train for x in run["pytorch_parts"][name])
                train_lines.append(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.2f}× |")
                gaps.append((a - b, name))
            behind = [(g, n) for g, n in sorted(gaps, reverse=True) if g > 0]
            if st > pt and behind:
                train_lines += ["", f"srkd is {st - pt:.2f} s per step behind; " + ", ".join(
                    f"{n} {g:+.2f} s" for g, n in behind[:3]) + " — those parts hold the gap."]
    diffs = [r.get("max_abs_diff_vs_srkd") for run in peer_runs for r in run["results"] if r.get("max_abs_diff_vs_srkd")]
    if diffs:
        lines += ["", f"Largest output difference to srkd (0–255): PyTorch {max(x['pytorch'] for x in diffs):.4f}, "
                  f"ONNX Runtime {max(x['onnxruntime'] for x in diffs):.4f}."]
    lines += ["", "Target: srkd ≤ 0.8× PyTorch and ≤ 1.0× ONNX Runtime. " + "; ".join(
        f"{n}: {'met' if ok else f'missed — {a:.2f}× PyTorch, {b:.2f}× ONNX Runtime'}" for n, a, b, ok in verdicts) + "."]
    stages_file = d / "stages.json"
    if stages_file.exists():
        lines += ["", "### Where srkd's inference time goes", "",
                  "`srkd bench infer --stages`: each generator stage synchronised and timed (median of 3). "
                  "Conv FLOPs per stage are counted as in `GeneratorConfig::flops_per_output_pixel`.", "",
                  "| model | stage | seconds | share | conv GFLOP | GFLOP/s |", "|---|---|---|---|---|---|"]
        profile = json.loads(stages_file.read_text())
        for r in profile["results"]:
            f, b, px = r["filters"], r["blocks"], profile["size"] ** 2
            macs = {"head": 3 * f * 81 * px, "blocks": 2 * b * f * f * 9 * px, "trunk": f * f * 9 * px,
                    "upsample": f * 4 * f * 9 * 5 * px, "tail": f * 3 * 81 * 16 * px}
            total = sum(r["stage_median_seconds"].values())
            for stage in ["head", "blocks", "trunk", "upsample", "tail"]:
                t = r["stage_median_seconds"].get(stage)
                if t:
                    g = 2 * macs[stage] / 1e9
                    lines.append(f"| {r['model']} | {stage} | {t:.3f} | {t / total:.0%} | {g:.1f} | {g / t:.1f} |")
    lines += train_lines
    page_model = srkd_runs[0]["results"][0]["model"]
    if (d / "p3.json").exists():
        p3_lines, page_model = p3_section(d)
        lines += p3_lines
    if args.dist and Path(args.dist).exists():
        lines += p5_section(args.dist, page_model)
    lines += p6_section(d)
    lines += p7_section(d)
    lines += p8_section(d)
    lines += p9_section(d)
    versions = peer_runs[0]["versions"]
    # The commit the timings were measured on (bench.sh writes it first), not the one reporting.
    commit_file = d / "commit"
    commit = (commit_file.read_text().strip() if commit_file.exists() else
              subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip())
    p4 = p4_section(Path(__file__).resolve().parents[2] / "docs" / "gpu-check.json")
    lines += [""] + (p4 if p4[0].startswith("## ") else ["## Not measured yet", ""] + p4) + ["",
              "## Machine and versions", "",
              f"- CPU: {cpu['model']}, {cpu['cores']} logical cores available"
              + (f", {cpu['ghz']:.2f} GHz nominal (as /proc/cpuinfo reports it); nominal peak {cpu['peak_flops'] / 1e9:.0f} GFLOP/s FP32 "
                 f"({cpu['flops_per_cycle']} FLOPs/cycle/core from the CPU flags). A share above 100% means the cores ran faster "
                 "than that nominal clock (boost): read the shares as relative" if cpu["peak_flops"] else "") + ".",
              f"- srkd {commit} (burn 0.22.1, `flex` cpu backend with rayon + simd, srkd's direct AVX-512/AVX2 convolutions "
              "(`shared/src/cpu/`) for inference and training; dev profile, dependencies at opt-level 3)",
              f"- PyTorch {versions['torch']}, ONNX Runtime {versions['onnxruntime']}, NumPy {versions['numpy']}, Python {versions['python']}",
              f"- input: centre crop of data/eval/baboon.png; weights: weights/*.bpk (sha256 in weights/manifest.json)"]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("infer")
    i.add_argument("--weights", required=True)
    i.add_argument("--models", required=True)
    i.add_argument("--size", type=int, default=256)
    i.add_argument("--runs", type=int, default=1)
    i.add_argument("--threads", type=int, default=os.cpu_count())
    i.add_argument("--json", required=True)
    i.add_argument("--check")
    t = sub.add_parser("train")
    t.add_argument("--weights", required=True)
    t.add_argument("--teacher", default="teacher-srresnet")
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--crop", type=int, default=96)
    t.add_argument("--runs", type=int, default=1)
    t.add_argument("--threads", type=int, default=os.cpu_count())
    t.add_argument("--json", required=True)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--dist")
    for name, script in [("p3", "bench-page-speed.sh"), ("p6", "bench-serve.sh")]:
        one = sub.add_parser(name, help=f"replace only the {name.upper()} section of an existing report (scripts/{script})")
        one.add_argument("--dir", required=True)
        one.add_argument("--out", required=True)
        if name == "p3":
            one.add_argument("--dist", help="the page P3 measured: its payload replaces P5 too")
    args = p.parse_args()
    {"infer": infer, "train": train, "report": report, "p3": splice_p3, "p6": splice_p6}[args.cmd](args)


if __name__ == "__main__":
    main()
