# Variant-effect scoring from VCF (per dataset with `variants`).
