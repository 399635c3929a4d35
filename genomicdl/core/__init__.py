"""The floor: errors, atomic files, seeds, sequence codes, number text, the rule-script runner."""
