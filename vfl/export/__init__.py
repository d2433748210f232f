"""A party's trained model part as a standalone ONNX graph for its own serving stack.

`vfl.export.onnx.export_part(model_folder, out)` is the entry point; docs/export.md says
what each role's graph computes.
"""
