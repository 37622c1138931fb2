"""Build-side code: pipeline and workflow definitions, the CLIs and the offline runtime."""
