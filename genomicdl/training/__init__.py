"""Training: the engine, batches, losses, checkpoints, rebalancing, baselines, tuning, devices and threads."""
