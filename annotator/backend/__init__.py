"""The model in the annotation loop: a Label Studio ML backend that predicts live and retrains on the team's labels.

Modules: :mod:`.app` (the WSGI application and its routes), :mod:`.protocol` (request bodies and
prediction responses), :mod:`.models` (the served models, swapped under a lock), :mod:`.trainer`
(the debounced queue and the one background job), :mod:`.job` (a training job, in its own
process), :mod:`.registry` (model files and versions in the data dir), :mod:`.link` (connecting
the backend to a Label Studio project, retitling it), :mod:`.serve` (waitress, the state file,
running it in the background).
"""
from .app import BackendApp
from .link import BackendAuth, backend_version, connect_project, rename_backend
from .models import ModelHolder, Served
from .registry import Registry, VersionEntry, default_data_dir, project_ids
from .serve import (ServeOptions, auth_from_env, build_app, serve, server_state, start_background,
                    stop_background)
from .trainer import Trainer

__all__ = ["BackendApp", "BackendAuth", "backend_version", "connect_project", "rename_backend", "ModelHolder",
           "Served", "Registry", "VersionEntry", "default_data_dir", "project_ids", "ServeOptions",
           "auth_from_env", "build_app", "serve", "server_state", "start_background", "stop_background",
           "Trainer"]
