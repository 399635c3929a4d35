"""Mutation effects: prepared alignments, sequence weights, training and scoring of scans."""
