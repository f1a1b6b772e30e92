// qstrs specific to the golden port (none yet); see py/qstrdefs.h for the format.
