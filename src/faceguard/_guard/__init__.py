"""Whether a call may happen: the responsible-use rules, as pure decisions."""
