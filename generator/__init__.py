"""The spec compiler: validates spec/ and ports/, renders suites/ and scaffolding."""
