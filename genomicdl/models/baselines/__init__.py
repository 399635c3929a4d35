"""Classical baselines (scikit-learn): k-mer models, trees, per-position windows."""
