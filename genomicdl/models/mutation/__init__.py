"""Mutation-effect models of alignments: site-independent, Potts, arDCA, VAE."""
