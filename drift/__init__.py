"""Drift: upstream's docs read as data (reST through docutils, or the seed format) and
compared with the spec (`drift docs`), and the spec compared with what a port has
(`drift port`)."""
