"""Past the floor: would another runtime embed the chunks faster than torch's bf16 here?

    python -m bench.bench_runtimes [--every 10] [--rounds 2] [--work DIR]

Needs ``onnxruntime``, ``onnx``, ``openvino`` and ``nncf``, which the project does not
install (``pip install --target DIR ...`` and ``PYTHONPATH=DIR``); a runtime that is
missing is left out of the table with a line saying so. The e5-st model (fp32 weights) is
exported once to ONNX (``--work``, default under the bench folder), then every variant
embeds the same chunks of every N-th chunk of the ALQAC articles, in the batches
``E5STEmbedder`` makes, round after round, each keeping its fastest:

* ``torch bf16``: what ingest runs (``E5STEmbedder``; the baseline);
* ``onnxruntime fp32`` and ``onnxruntime int8``: dynamic quantisation, per-channel int8
  weights and per-tensor activations (``quantize_dynamic``);
* ``openvino bf16`` (the fp32 model with a bf16 inference hint) and ``openvino int8``:
  NNCF's static post-training quantisation for transformers, calibrated on other chunks.

Prints seconds, the speed-up over torch bf16, and parity: the cosine of each chunk's
mean-pooled vector with the fp32 model's (onnxruntime fp32), minimum and mean. The
issue's bar for a faster model is a minimum cosine of 0.9989 (int8 with per-token
scales kept that, docs/embedder-speed.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import BENCH_DIR, print_table
from index.embed_base import normalise_rows

DEFAULT_INDEX = Path("/tmp/policy-search-eval/alqac-index-e5-st-intfloat-multilingual-e5-small-p3")


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _pooled(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """e5's pooling: the mean of each row's unpadded token states, normalised."""
    m = mask[..., None].astype(np.float32)
    return normalise_rows((np.asarray(states, np.float32) * m).sum(1) / m.sum(1))


def _export(model: Any, path: Path) -> None:
    import torch

    class LastStates(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "rows", 1: "tokens"}
    tmp = path.with_suffix(".tmp.onnx")
    torch.onnx.export(
        LastStates(model).float().eval(),
        (ids, torch.ones_like(ids)),
        str(tmp),
        input_names=["input_ids", "attention_mask"],
        output_names=["states"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "states": axes},
        opset_version=17,
        dynamo=False,
    )
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--index", default=str(DEFAULT_INDEX), help="an ALQAC index to read chunks from"
    )
    parser.add_argument("--every", type=int, default=10, help="every N-th chunk")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--work", default=str(BENCH_DIR / "runtimes"))
    args = parser.parse_args()

    import torch

    from index.e5st import PASSAGE_PREFIX, E5STEmbedder
    from index.store import open_current

    index = Path(args.index)
    if not (index / "current").exists():
        raise SystemExit(
            f"no index at {index}: build one with `policy-search eval --alqac` (its cache) "
            "or pass --index DIR"
        )
    snap = open_current(index)
    every = list(snap.all_chunks())
    emb = E5STEmbedder()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    def prepared(chunks: list[Any]) -> tuple[list[list[int]], list[list[int]]]:
        windows, _, _ = emb._windows([c.embed_text for c in chunks], PASSAGE_PREFIX)
        return windows, emb._batches(windows)

    windows, batches = prepared(every[:: args.every])
    feeds = []
    for b in batches:
        ids, mask = emb._padded([windows[i] for i in b])
        feeds.append({"input_ids": ids.numpy(), "attention_mask": mask.numpy()})

    def run_torch() -> np.ndarray:
        out = []
        with torch.inference_mode():
            for b in batches:
                states, mask = emb._token_states([windows[i] for i in b])
                out.append(_pooled(states.numpy(), mask.numpy()))
        return np.concatenate(out)

    variants: dict[str, Callable[[], np.ndarray]] = {"torch bf16": run_torch}
    notes = []
    onnx_path = work / "e5.onnx"
    if _missing("onnx"):
        notes.append("onnx is not installed: no runtime can be measured")
    else:
        if not onnx_path.exists():
            # The fp32 weights: another instance, read with bf16 off (then the setting
            # is put back as it was: the baseline runs as ingest does).
            before = os.environ.get("POLICY_SEARCH_ST_BF16")
            os.environ["POLICY_SEARCH_ST_BF16"] = "0"
            try:
                fp32 = E5STEmbedder()
            finally:
                if before is None:
                    del os.environ["POLICY_SEARCH_ST_BF16"]
                else:
                    os.environ["POLICY_SEARCH_ST_BF16"] = before
            _export(fp32._model[0].auto_model, onnx_path)
            del fp32
        if _missing("onnxruntime"):
            notes.append("onnxruntime is not installed: its rows are left out")
        else:
            import onnxruntime as ort
            from onnxruntime.quantization import QuantType, quantize_dynamic

            int8 = work / "e5.ort-int8.onnx"
            if not int8.exists():
                quantize_dynamic(
                    str(onnx_path), str(int8), weight_type=QuantType.QInt8, per_channel=True
                )
            options = ort.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            for label, path in (("onnxruntime fp32", onnx_path), ("onnxruntime int8", int8)):
                session = ort.InferenceSession(
                    str(path), options, providers=["CPUExecutionProvider"]
                )

                def run(session: Any = session) -> np.ndarray:
                    return np.concatenate(
                        [_pooled(session.run(None, f)[0], f["attention_mask"]) for f in feeds]
                    )

                variants[label] = run
        if _missing("openvino", "nncf"):
            notes.append("openvino or nncf is not installed: their rows are left out")
        else:
            import nncf
            import openvino as ov

            core = ov.Core()
            threads = {"INFERENCE_NUM_THREADS": torch.get_num_threads()}
            model = core.read_model(str(onnx_path))
            calib_windows, calib_batches = prepared(every[args.every // 2 :: 97])
            calibration = []
            for b in calib_batches:
                ids, mask = emb._padded([calib_windows[i] for i in b])
                calibration.append({"input_ids": ids.numpy(), "attention_mask": mask.numpy()})
            quantized = nncf.quantize(
                model,
                nncf.Dataset(calibration),
                model_type=nncf.ModelType.TRANSFORMER,
                subset_size=len(calibration),
            )
            compiled = {
                "openvino bf16": core.compile_model(
                    model, "CPU", {**threads, "INFERENCE_PRECISION_HINT": "bf16"}
                ),
                "openvino int8": core.compile_model(quantized, "CPU", threads),
            }
            for label, net in compiled.items():

                def run_ov(net: Any = net) -> np.ndarray:
                    return np.concatenate(
                        [_pooled(np.asarray(net(f)[0]), f["attention_mask"]) for f in feeds]
                    )

                variants[label] = run_ov

    times: dict[str, list[float]] = {k: [] for k in variants}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(args.rounds):
        for label, run_variant in variants.items():
            started = time.perf_counter()
            vectors[label] = run_variant()
            times[label].append(time.perf_counter() - started)
    reference = vectors.get("onnxruntime fp32", vectors["torch bf16"])
    base = min(times["torch bf16"])
    rows = []
    for label in variants:
        cos = (vectors[label] * reference).sum(axis=1)
        best = min(times[label])
        rows.append(
            [label, round(best, 2), f"{base / best:.2f}x", f"{cos.min():.4f}", f"{cos.mean():.5f}"]
        )
    print_table(
        f"{len(windows)} chunks (every {args.every}th of {index.name}), {len(batches)} batches, "
        f"fastest of {args.rounds} interleaved rounds; parity against the fp32 model"
        + "".join(f"; {n}" for n in notes),
        ["runtime", "s", "vs torch bf16", "min cosine", "mean cosine"],
        rows,
    )


if __name__ == "__main__":
    main()
