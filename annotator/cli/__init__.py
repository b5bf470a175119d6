"""The ``annotator`` command line: thin wrappers over the public Python API.

Each command is a few lines that call a library function taking and returning
pandas objects; each loads its library on first use (start-up time). Expected
failures (:class:`annotator.errors.AnnotatorError`, OS errors on a named file)
print one line ``annotator: error: ...`` and exit with status 2; commands that
write one record per input row exit with status 1 when some rows failed.

Modules: :mod:`~annotator.cli.group` (the group's error handling),
:mod:`~annotator.cli.articles` (articles, tag), :mod:`~annotator.cli.scoring`
(score, report), :mod:`~annotator.cli.studio` (studio, push, pull, agreement), :mod:`~annotator.cli.queue` (queue),
:mod:`~annotator.cli.retrain` (retrain), :mod:`~annotator.cli.model` (rules, evaluate, train, demo) and
:mod:`~annotator.cli.backend` (backend).
"""
from __future__ import annotations

import click

from .articles import articles_command, tag_command
from .backend import backend_group
from .group import AnnotatorGroup
from .model import demo_command, evaluate_command, rules_command, train_command
from .queue import queue_command
from .retrain import retrain_command
from .scoring import report_command, score_command
from .studio import agreement_command, pull_command, push_command, studio_group

__all__ = ["main"]


@click.group(cls=AnnotatorGroup, subcommand_metavar="COMMAND [ARGS]")
@click.version_option(package_name="annotator")
def main():
    """Annotate news articles for sourcing and framing, train and score.

    \b
    Examples:
      annotator demo --no-studio        # score the seeds, write two reports
      annotator score news/ -o scores.jsonl
      annotator report scores.jsonl --articles news/ -o report.html

    Run 'annotator COMMAND --help' for a command's options and examples.
    """


for _command in (articles_command, tag_command, score_command, report_command, studio_group, push_command,
                 pull_command, queue_command, agreement_command, rules_command, evaluate_command, train_command,
                 retrain_command, demo_command, backend_group):
    main.add_command(_command)
