"""The endpoint's inference handler, bundled into model.tar.gz under code/."""
