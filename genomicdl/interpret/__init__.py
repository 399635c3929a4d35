"""Interpretation: attributions, motifs and their logos, TF-MoDISco, variant effects."""
