"""The offline runtime: object store, state DB, local AWS-compatible services and executors."""
