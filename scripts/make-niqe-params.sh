#!/usr/bin/env bash
# Regenerate shared/src/metrics/niqe_pris_params.json: the NIQE pristine model (Mittal et al.
# 2013, the MATLAB release's parameters as redistributed by basicsr 1.4.2, Apache-2.0) taken
# from the basicsr sdist on PyPI, checksum-verified, converted from .npz to JSON with every
# float64 written exactly (Python repr round-trips). Needs python3 with numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
SDIST_URL=https://files.pythonhosted.org/packages/86/41/00a6b000f222f0fa4c6d9e1d6dcc9811a374cabb8abb9d408b77de39648c/basicsr-1.4.2.tar.gz
SDIST_SHA=b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL -o "$tmp/basicsr.tar.gz" "$SDIST_URL"
echo "$SDIST_SHA  $tmp/basicsr.tar.gz" | sha256sum --check --status || { echo "checksum mismatch: basicsr sdist" >&2; exit 1; }
tar -xzf "$tmp/basicsr.tar.gz" -C "$tmp" basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz
out=shared/src/metrics/niqe_pris_params.json
python3 - "$tmp/basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz" "$SDIST_URL" "$SDIST_SHA" > "$out.part" <<'PY'
import hashlib, json, sys
import numpy as np
path, url, sha = sys.argv[1:]
p = np.load(path)
doc = {
    "source": {
        "package": "basicsr==1.4.2 (PyPI sdist), basicsr/metrics/niqe_pris_params.npz",
        "url": url,
        "sdist_sha256": sha,
        "npz_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "licence": "Apache-2.0 (basicsr); parameters from the NIQE MATLAB release, Mittal, Soundararajan and Bovik, 2013",
        "regenerate": "scripts/make-niqe-params.sh",
    },
    "mu": [float(v) for v in p["mu_pris_param"].reshape(-1)],
    "cov": [float(v) for v in p["cov_pris_param"].reshape(-1)],
    "gaussian_window": [float(v) for v in p["gaussian_window"].reshape(-1)],
}
print(json.dumps(doc, indent=1))
PY
mv "$out.part" "$out"
echo "wrote $out"
