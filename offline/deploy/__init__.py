"""The deploy workflow on this machine: groups set up for deployment (the local EventBridge rules), the trigger
that starts an execution when one of their packages is approved, and `mlops deploy --local`."""
