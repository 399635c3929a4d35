"""Dataset builders: genome windows, tables, signal tracks -> the on-disk store, with splits and negatives."""
