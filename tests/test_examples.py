"""Smoke runs of every numbered example in ``examples/`` with tiny settings.

Each example is imported from its file and its ``main(argv)`` is called in this process (the
per-op kernels compiled by one example are reused by the next, which keeps the file fast);
example 7 starts its own fresh Python process, as it is meant to. The checks look for the
lines that show each example did its job, not for exact numbers.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# file -> (tiny argv, regexes the output must contain)
CASES = {
    "01_deferred_graph.py": (["--n", "64", "--repeat", "2"], [
        r"callable\(c\) = True", r"c\(3\., 4\.\)\s+= tensor\(5\.\)", r"%a = placeholder",
        r"return %\d+", r"compiled graph\(a, b\)", r"OK: eager, deferred and compiled agree"]),
    "02_autograd_polynomial.py": (["--steps", "30"], [
        r"by hand\s+y = ", r"nn \+ optim\s+y = ", r"least squares", r"OK: both fits agree"]),
    "03_mlp_classifier.py": (["--epochs", "2", "--n-train", "128", "--n-test", "64", "--batch-size", "64",
                              "--hidden", "16"], [
        r"step: mt\.jit", r"final: train acc [01]\.\d+, test acc [01]\.\d+",
        r"timing \(mt\.jit\): [0-9.]+ ms/step .*1 compilation"]),
    "04_cnn_batchnorm_dropout.py": (["--steps", "4", "--n-train", "32", "--n-test", "32",
                                     "--batch-size", "32"], [
        r"eval mode,\s+twice", r"num_batches_tracked = \d+", r"final: train acc", r"timing \(mt\.jit\)"]),
    "05_char_transformer.py": (["--steps", "3", "--batch-size", "4", "--block", "16", "--d-model", "16",
                                "--layers", "1", "--dropout", "0", "--sample-len", "5"], [
        r"vocab \d+", r"step\s+0\s+train loss [0-9.]+\s+val loss [0-9.]+", r"training: .* ms/step",
        r"4 samples of 5 characters", r"The keeper "]),
    "06_custom_autograd_function.py": (["--steps", "5"], [
        r"gradcheck\(Swish\.apply, \(x, beta\)\) -> True", r"y\.grad_fn = SwishBackward",
        r"gradcheck\(QuantizeSTE\) -> False", r"mt\.jit \(1 compilation\): loss"]),
    "07_trace_save_load.py": (["--steps", "3", "--train-steps", "2"], [
        r"traced MLP\(float32\[256, 8\]\)", r"traced MLP\(float32\['batch', 8\]\)",
        r"wrong batch size refused: .*expects shape \[256, 8\]",
        r"batch sizes 1, 7, 256 -> output shapes \[\[1, 1\], \[7, 1\], \[256, 1\]\]",
        r"the training step run 2 times", r"max \|fresh process - in process\|"]),
    "08_data_parallel.py": (["--steps", "3", "--batch-size", "8"], [
        r"local device\(s\)", r"DataParallel\+jit: loss", r"state_dict keys start with 'module\.",
        r"OK: data parallel matches one device"]),
}


def _load(name: str):
    path = EXAMPLES / name
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_every_numbered_example_is_covered_and_listed():
    files = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert files == sorted(CASES), f"examples without a smoke test, or tests without an example: {files}"
    readme = (EXAMPLES / "README.md").read_text()
    for name in files:
        assert name in readme, f"{name} is not listed in examples/README.md"


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_with_tiny_settings(name, capsys):
    argv, patterns = CASES[name]
    mod = _load(name)
    assert mod.__doc__ and len(mod.__doc__) > 200, "each example explains what it teaches"
    assert mod.main(argv) == 0
    out = capsys.readouterr().out
    for pat in patterns:
        assert re.search(pat, out), f"{name}: no match for {pat!r} in:\n{out}"


def test_examples_reject_bad_arguments():
    mod = _load("03_mlp_classifier.py")
    with pytest.raises(SystemExit) as e:
        mod.main(["--epochs", "not-a-number"])
    assert e.value.code == 2
