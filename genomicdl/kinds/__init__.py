"""Target kinds: what a dataset's labels are, and everything that follows from that."""
