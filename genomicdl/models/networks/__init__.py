"""PyTorch architectures of the zoo and their shared layers."""
