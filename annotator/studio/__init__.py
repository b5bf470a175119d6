"""Label Studio round trip: a local server, a connection, ``push`` and ``pull``.

Three parts, each usable on its own:

* **A local server** (:class:`LocalStudio`, :mod:`.local`; processes and the
  migrated template in :mod:`.server`): Label Studio from the installed
  ``label-studio`` package on 127.0.0.1. Used by ``annotator studio up | down | status``.
* **A connection** (:func:`resolve_connection` in :mod:`.connection`,
  :func:`connect` and the retrying :class:`Studio` client in :mod:`.client`):
  any Label Studio, from arguments, the environment, a config file or the local server.
* **push / pull** (:mod:`.push`, :mod:`.pull`): articles to tasks
  (:mod:`.task_data`, :mod:`.tasks`) with pre-annotations from a tagger or a
  framing model (:mod:`.preannotate`, :mod:`.predictions`), and the project's
  annotations back into a :class:`annotator.dataset.Dataset` (:mod:`.tables`).
* **Annotators** (:mod:`.users`): add a person with a password to a server
  (``annotator studio user add``).

Offsets between Python and Label Studio are converted in :mod:`.offsets`;
the only plain HTTP calls (``/health``, ``/api/version``, the sign-up form) are in :mod:`.rest`.
"""
from .client import Studio, connect
from .connection import Connection, resolve_connection
from .errors import StudioError, StudioWarning
from .files import ANNOTATORS_FILE, CREDENTIALS_FILE, LOG_FILE, STATE_FILE, write_csv
from .local import LocalStudio, default_data_dir
from .offsets import ls_to_py_offsets, py_to_ls_offsets
from .preannotate import Preannotation, holds_framing_model, is_framing_model, preannotate
from .predictions import build_prediction
from .projects import compare_configs
from .pull import export_tasks, pull
from .push import SUMMARY_COLUMNS, push
from .server import (ADMIN_EMAIL, LS_VERSION, TemplateServer, ensure_template, free_port, server_env, start_server,
                     stop_server, template_cache_dir, wait_healthy)
from .tables import MISMATCH_COLUMNS, span_mismatches, tasks_to_dataset
from .task_data import task_data, title_of
from .tasks import existing_tasks
from .users import AddedUser, add_local_user, add_user

__all__ = [
    "StudioError", "StudioWarning", "LocalStudio", "Connection", "Studio",
    "resolve_connection", "connect", "push", "pull", "build_prediction", "compare_configs",
    "py_to_ls_offsets", "ls_to_py_offsets", "span_mismatches", "default_data_dir",
    "ensure_template", "template_cache_dir", "TemplateServer", "start_server", "wait_healthy", "stop_server",
    "free_port", "server_env", "LS_VERSION", "existing_tasks", "export_tasks", "tasks_to_dataset", "write_csv",
    "ADMIN_EMAIL", "STATE_FILE", "CREDENTIALS_FILE", "ANNOTATORS_FILE", "LOG_FILE", "SUMMARY_COLUMNS",
    "MISMATCH_COLUMNS", "Preannotation", "preannotate", "is_framing_model", "holds_framing_model", "task_data",
    "title_of", "AddedUser", "add_user", "add_local_user",
]
