"""Removing what a deploy or a project created, on AWS or in the local home."""
