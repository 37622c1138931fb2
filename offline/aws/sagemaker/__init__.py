"""Local SageMaker: the model registry (model package groups, versioned model packages, tags)."""
