"""What is made from results files: the cross-port matrix, comparisons between runs,
expectations updates, bring-up to-do lists and profile edits from the probe."""
