"""File formats and transfers: genomes, tables, the dataset store, bigWig, VCF, BGZF, alignments, scans, downloads."""
