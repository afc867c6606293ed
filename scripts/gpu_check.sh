#!/usr/bin/env bash
# One-command check of every GPU-only path of dcbench, for a machine with an NVIDIA GPU.
#
#   scripts/gpu_check.sh [OUT_DIR]
#
# 1. pytest -m gpu over the GPU test files: NVML inventory and fields, energy under a
#    matmul load, every workload on CUDA in fp32/bf16/fp16, FlopCounterMode with the CUDA
#    attention kernels, `dcbench bench` on CUDA (peak device memory, MFU against the
#    catalog, NVML energy, GPU metadata), --batch-size auto and out-of-memory against a
#    real allocator cap.
# 2. dcbench bench gpt resnet --device cuda --dtype bf16 --size small --steps 20 --json
# 3. A compact table of both, and the figures the GPU tests print (for the issue note).
#
# Python: $PYTHON if set, else .venv/bin/python, else python3. The checkout is put first
# on PYTHONPATH, so dcbench need not be installed. The python must have: torch with CUDA,
# nvidia-ml-py (module pynvml), numpy, psutil, rich, PyYAML, pydantic (the bench), Pillow
# (the image-folder test) and pytest (step 1 only). Missing modules are listed with a pip
# command before anything runs; installing them (e.g. from wheels carried to a machine
# without internet: pip install --no-index --find-links WHEELS ...) is the caller's job.
#
# Writes into OUT_DIR (default: $OUT if set, else .dcbench/gpu-check): env.txt, pytest-gpu.log,
# pytest-gpu.xml, bench.jsonl, bench.err, results.db, summary.txt.
# Exit code: 0 when every GPU test passed and both runs are ok; 3 when a module is
# missing; 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=$(command -v python3 || command -v python)
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT_DIR=${1:-${OUT:-.dcbench/gpu-check}}
mkdir -p "$OUT_DIR"
PYTEST_TIMEOUT_S=${GPU_CHECK_PYTEST_TIMEOUT_S:-480}
BENCH_TIMEOUT_S=${GPU_CHECK_BENCH_TIMEOUT_S:-300}
with_timeout() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }

echo "== environment (python: $PY)"
"$PY" - "$OUT_DIR/env.txt" <<'EOF'
import importlib.util, sys
needed = {"torch": "torch", "pynvml": "nvidia-ml-py", "numpy": "numpy", "psutil": "psutil",
          "rich": "rich", "yaml": "PyYAML", "pydantic": "pydantic", "PIL": "Pillow"}
missing = [pkg for mod, pkg in needed.items() if importlib.util.find_spec(mod) is None]
lines = [f"python {sys.version.split()[0]} ({sys.executable})"]
if sys.version_info < (3, 11):
    print(f"dcbench needs Python 3.11 or newer; {sys.executable} is {sys.version.split()[0]} (set PYTHON=...)")
    sys.exit(3)
if importlib.util.find_spec("torch") is not None:
    import torch
    lines.append(f"torch {torch.__version__}, CUDA build {torch.version.cuda}, "
                 f"{torch.cuda.device_count()} CUDA device(s) visible")
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        lines.append(f"  cuda:{i} {props.name}, {props.total_memory / 2**30:.1f} GiB")
if importlib.util.find_spec("pytest") is None:
    lines.append("pytest missing: step 1 (pytest -m gpu) will be skipped (pip install pytest)")
if missing:
    lines.append(f"MISSING: {' '.join(missing)} -> {sys.executable} -m pip install {' '.join(missing)}")
text = "\n".join(lines)
print(text)
open(sys.argv[1], "w").write(text + "\n")
sys.exit(3 if missing else 0)
EOF
env_rc=$?
if [ $env_rc -ne 0 ]; then exit 3; fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv,noheader | tee -a "$OUT_DIR/env.txt"

pytest_rc=0
if "$PY" -c "import pytest" 2>/dev/null; then
  echo "== pytest -m gpu"
  with_timeout "$PYTEST_TIMEOUT_S" "$PY" -m pytest -m gpu -s -rs -p no:cacheprovider -o addopts="" \
      --junitxml="$OUT_DIR/pytest-gpu.xml" \
      tests/dcbench/telemetry/test_telemetry_nvml.py tests/workloads/test_workloads_gpu.py \
      tests/dcbench/harness/test_bench_gpu.py > "$OUT_DIR/pytest-gpu.log" 2>&1
  pytest_rc=$?
  tail -n 3 "$OUT_DIR/pytest-gpu.log"
else
  pytest_rc=1
  echo "== pytest -m gpu: skipped, pytest is not installed"
fi

DEVICE=${GPU_CHECK_DEVICE:-cuda}  # GPU_CHECK_DEVICE=cpu: a dry run of this script anywhere
echo "== dcbench bench gpt resnet --device $DEVICE --dtype bf16 --size small --steps 20"
with_timeout "$BENCH_TIMEOUT_S" "$PY" -m dcbench bench gpt resnet --device "$DEVICE" --dtype bf16 --size small \
    --steps 20 --store "$OUT_DIR/results.db" --json > "$OUT_DIR/bench.jsonl" 2> "$OUT_DIR/bench.err"
bench_rc=$?
[ -s "$OUT_DIR/bench.err" ] && tail -n 5 "$OUT_DIR/bench.err"

"$PY" - "$OUT_DIR" "$pytest_rc" "$bench_rc" <<'EOF' | tee "$OUT_DIR/summary.txt"
import json, os, sys
import xml.etree.ElementTree as ET

out, pytest_rc, bench_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
junit = os.path.join(out, "pytest-gpu.xml")
if os.path.exists(junit):
    suites = ET.parse(junit).getroot()
    suite = suites if suites.tag == "testsuite" else suites[0]
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    print(f"pytest -m gpu: {counts['tests']} tests, {counts['failures']} failed, "
          f"{counts['errors']} errors, {counts['skipped']} skipped (exit {pytest_rc})")
    for case in suite.iter("testcase"):
        for bad in list(case.findall("failure")) + list(case.findall("error")):
            print(f"  FAILED {case.get('name')}: {(bad.get('message') or '').splitlines()[0][:160]}")
log = os.path.join(out, "pytest-gpu.log")
if os.path.exists(log):
    prefixes = ("inventory:", "gpu0 fields:", "matmul 2 s:", "gpu bench:", "auto batch:")
    for line in open(log, errors="replace"):
        if line.startswith(prefixes):
            print("  " + line.rstrip()[:400])

def si(x, unit=""):
    if x is None:
        return "-"
    for scale, p in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.3g}{p}{unit}"
    return f"{x:.3g}{unit}"

runs = []
path = os.path.join(out, "bench.jsonl")
if os.path.exists(path):
    runs = [json.loads(line) for line in open(path) if line.startswith("{")]
print(f"bench (exit {bench_rc}):")
cols = ("workload", "status", "batch", "step ms", "samples/s", "tokens/s", "FLOP/s", "MFU",
        "GPU GiB", "energy J", "J/sample", "peak")
def get(run, *keys):
    node = run
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node

rows = []
for r in runs:
    g = lambda *keys, r=r: get(r, *keys)  # noqa: E731
    med = g("step_time_s", "median")
    mfu = g("flops", "mfu")
    dev = g("memory", "peak_device_bytes")
    rows.append((r.get("workload"), r.get("status"), str(r.get("batch_size") or "-"),
                 "-" if med is None else f"{med * 1e3:.3g}", si(g("throughput", "samples_per_s")),
                 si(g("throughput", "tokens_per_s")), si(g("flops", "achieved_per_s")),
                 "-" if mfu is None else f"{mfu:.1%}", "-" if dev is None else f"{dev / 2**30:.2f}",
                 si(g("energy", "total_j")), si(g("energy", "per_sample_j")),
                 g("flops", "peak_source") or "-"))
widths = [max(len(c), *(len(str(row[i])) for row in rows)) if rows else len(c) for i, c in enumerate(cols)]
print("  " + "  ".join(c.ljust(w) for c, w in zip(cols, widths)))
for row in rows:
    print("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
for r in runs:
    for note in ([r.get("error")] if r.get("error") else []) + (r.get("warnings") or []) + \
            ([f"energy null: {r['energy']['null_reason']}"] if (r.get("energy") or {}).get("null_reason") else []):
        print(f"  {r.get('workload')}: {note}")
EOF

if [ "$pytest_rc" -ne 0 ] || [ "$bench_rc" -ne 0 ]; then exit 1; fi
exit 0
