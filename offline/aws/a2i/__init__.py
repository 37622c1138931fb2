"""Local Amazon A2I runtime (`sagemaker-a2i-runtime`, rest-json): human loops over the flow definitions and
task UIs of the local SageMaker service, their answers, and A2I's output.json in the object store."""
