"""Export one party's model part to ONNX: `export_part(model_folder, out)`.

The graph is traced from the torch part that `load_part` rebuilds from the folder alone
(no job spec, no peer): scaler baked in, raw float32 features in, rows dynamic. Names,
feature order and what the graph computes go into the file's metadata_props (docs/export.md).
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import onnx
import torch

from vfl.errors import ExportError
from vfl.export.folder import RETRAIN, ModelFolder, first_line, load_folder
from vfl.export.other_parts import horizontal_part, transfer_part
from vfl.export.part import Part, Port
from vfl.export.split_parts import feature_holder_part, label_holder_part

OPSET = 17
FORMAT_VERSION = "1"
BUILDERS: dict[str, Callable[[ModelFolder], Part]] = {
    "feature_holder": feature_holder_part,
    "label_holder": label_holder_part,
    "source": transfer_part,
    "target": transfer_part,
    "horizontal": horizontal_part,
}


def load_part(model_folder: Path) -> Part:
    """The party's part as a torch module, rebuilt from `model_folder` (what gets exported)."""
    folder = load_folder(model_folder)
    kind = folder.meta.get("role") or folder.meta.get("mode")
    builder = BUILDERS.get(str(kind))
    if builder is None:
        raise ExportError(
            f"{model_folder}/model.json: role/mode {kind!r} is not a part vfl can export "
            f"(it exports {', '.join(BUILDERS)}); pass a party's model folder"
        )
    try:
        return builder(folder)
    except ExportError:
        raise
    except KeyError as exc:
        raise ExportError(
            f"{model_folder}: {folder.weights_file} or model.json lacks {exc.args[0]!r}; {RETRAIN}"
        ) from None
    except (ValueError, RuntimeError, TypeError, AttributeError, IndexError) as exc:
        raise ExportError(
            f"{model_folder}: {folder.weights_file} does not fit model.json "
            f"({first_line(exc)}); {RETRAIN}"
        ) from None


def export_part(model_folder: Path, out: Path) -> Path:
    """Write the ONNX graph of the part in `model_folder` to `out` (replaced atomically);
    returns `out`. Raises ExportError (one line) for a missing, corrupt or unsupported
    folder, or an `out` whose folder does not exist."""
    part = load_part(model_folder)
    if not out.parent.is_dir():
        raise ExportError(f"{out}: folder {out.parent} does not exist; create it first")
    model = _trace(part)
    meta = {"vfl.format": FORMAT_VERSION, **part.metadata}
    meta["vfl.inputs"] = _ports(part.inputs)
    meta["vfl.outputs"] = _ports(part.outputs)
    onnx.helper.set_model_props(model, meta)
    model.producer_name = "vfl"
    model.doc_string = part.metadata.get("vfl.graph", "")
    onnx.checker.check_model(model)
    _write(out, model.SerializeToString())
    return out


def _ports(ports: tuple[Port, ...]) -> str:
    return json.dumps({p.name: {"width": p.width, "doc": p.doc} for p in ports})


def _trace(part: Part) -> onnx.ModelProto:
    examples = tuple(torch.zeros(2, p.width) for p in part.inputs)
    names = [p.name for p in (*part.inputs, *part.outputs)]
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings(), torch.no_grad():
        # torch ≥ 2.9 warns that the TorchScript exporter is legacy; unlike the dynamo
        # exporter it needs no onnxscript, and these graphs (MLPs) need nothing newer
        warnings.simplefilter("ignore")
        traced = Path(scratch) / "part.onnx"
        torch.onnx.export(
            part.module,
            examples,
            traced,
            dynamo=False,
            input_names=[p.name for p in part.inputs],
            output_names=[p.name for p in part.outputs],
            dynamic_axes={name: {0: "rows"} for name in names},
            opset_version=OPSET,
        )
        return onnx.load_model(str(traced))


def _write(out: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        Path(tmp).replace(out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
