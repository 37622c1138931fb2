"""The two ways a deploy stops: bad input (exit 2) and AWS refusing or failing (exit 1)."""

from __future__ import annotations


class DeployInputError(ValueError):
    """The arguments, the model package or its baselines do not allow a deploy; nothing was changed
    by the failing step. The message says what to fix."""


class DeployFailed(RuntimeError):
    """AWS refused a request or a resource failed (e.g. the endpoint went to Failed)."""


def client_error_text(error: Exception) -> str:
    """`Code: Message` of a botocore ClientError (or the exception's text)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return str(error)


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
