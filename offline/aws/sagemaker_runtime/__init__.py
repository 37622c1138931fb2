"""Local sagemaker-runtime: InvokeEndpoint, routed to the local host that serves the endpoint."""
