"""The studio (issue 12): an HTTP API over the same verbs as the CLI, with a job queue and a
library that survive restarts.

* :mod:`.store`: jobs and uploads in SQLite (WAL) and their files in folders;
* :mod:`.jobs`: what each kind of job takes (checked before a job exists) and does;
* :mod:`.workers`: worker processes that take jobs from the queue;
* :mod:`.app`: the FastAPI application (``tunecraft serve``).

Needs the ``[web]`` extra (FastAPI, uvicorn, python-multipart).
"""
