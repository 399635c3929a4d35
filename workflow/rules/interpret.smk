# Attributions and motifs of trained models (opt-in in the config).
