"""`python -m offline.endpoint [serve options]`: what `start_endpoint` runs in the background."""

from pipelines.cli.endpoint import serve_command

if __name__ == "__main__":
    serve_command(prog_name="python -m offline.endpoint")
