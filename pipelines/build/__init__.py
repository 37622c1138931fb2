"""The model-build pipeline: preprocess -> train -> evaluate -> baselines -> register (or fail)."""
