"""Forges (GitHub, GitLab): post pull-request plans as a comment updated in place and a commit status."""
