"""One module per capability; each holds its config model and its behaviour."""
