"""PyTorch training workloads. Models live here and nowhere else; see README.md."""
