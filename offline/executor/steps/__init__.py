"""One runner per step type: each takes the resolved step and returns its properties."""
