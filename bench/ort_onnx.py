"""Time ONNX Runtime on an exported .onnx model, the way the peer's ort_bench.py times its own.

  python ort_onnx.py MODEL.onnx [--batch N] [--threads T] [--seconds S] [--input X.npy --output Y.npy]

Same session options as ort_bench.py (intra-op threads T, inter-op 1, sequential, every graph
optimization), a uniform [0, 1) input of batch N, three warm-up runs, then runs until 10 runs
and S seconds; prints one JSON object: median_ms, min_ms, images_per_s, runs, onnxruntime.
--input/--output instead run X.npy once and save the output as Y.npy (the correctness check).
Runs in the peer's environment (bench/out/venv: onnxruntime and numpy)."""
import argparse, json, time
import numpy as np
import onnxruntime as ort

p = argparse.ArgumentParser()
p.add_argument("model")
p.add_argument("--batch", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seconds", type=float, default=5.0)
p.add_argument("--input")
p.add_argument("--output")
a = p.parse_args()

so = ort.SessionOptions()
so.intra_op_num_threads = a.threads
so.inter_op_num_threads = 1
so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
if a.input:
    y = sess.run(None, {name: np.load(a.input).astype(np.float32)})[0]
    np.save(a.output, y.astype("<f4"))
    print(json.dumps({"model": a.model, "output_shape": list(y.shape), "onnxruntime": ort.__version__}))
    raise SystemExit(0)
shape = [a.batch if not isinstance(d, int) else d for d in sess.get_inputs()[0].shape]
shape[0] = a.batch
x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
for _ in range(3):
    sess.run(None, {name: x})
times, start = [], time.perf_counter()
while len(times) < 10 or time.perf_counter() - start < a.seconds:
    t = time.perf_counter(); sess.run(None, {name: x}); times.append(time.perf_counter() - t)
med = float(np.median(times))
print(json.dumps({"model": a.model, "batch": a.batch, "threads": a.threads, "runs": len(times),
                  "median_ms": med * 1e3, "min_ms": min(times) * 1e3, "images_per_s": a.batch / med,
                  "onnxruntime": ort.__version__}))
