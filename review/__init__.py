"""Human review: the A2I task template, its Liquid rendering, the one parser of its answers, and consensus.

Shared by the local A2I runtime (`offline.aws`), `mlops review` and, later, the reviewer portal and the
collector that turns completed loops into ground truth. Importing it is light (python-liquid only).
"""
