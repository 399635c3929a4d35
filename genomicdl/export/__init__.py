"""Export: TorchScript/ONNX models, their model cards, and prediction with an exported model."""
