"""Every shape a genuine AWS checkout may take, through every input form."""
