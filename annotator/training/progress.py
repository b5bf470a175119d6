"""Progress of a training run: a line per stage with the elapsed seconds, and a heartbeat in long ones.

The stages inside ``FramingModel.fit`` (tokenising, token features, threshold tuning, span filter,
classifiers, the document model's out-of-fold fits) run in one call; :meth:`Stages.watch` names
them by looking, twice a second, at which of the functions in :data:`STAGES` the training thread
is in (``sys._current_frames``), so the estimators need no progress hook. A stage that lasts
longer than ``heartbeat`` seconds is said again ("still ...") so a log never goes quiet for long.
"""
from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager

__all__ = ["Stages", "STAGES"]

#: (module, function qualname, the function it is called from or None, what it does): the first entry
#: found walking out from the running frame names the stage. tests/test_training.py checks that each
#: function still exists.
STAGES = (
    ("annotator.cues.tagger.training", "tokenised_articles", None, "tagger: tokenising the training articles"),
    ("annotator.cues.tagger.training", "TokenDesign.__init__", None, "tagger: building the vocabulary"),
    ("annotator.cues.tagger.estimator", "CueTagger._design", None, "tagger: building the token features"),
    ("annotator.cues.tagger.heldout", "tune_thresholds", None,
     "tagger: tuning decision thresholds on held-out articles"),
    ("annotator.cues.tagger.estimator", "CueTagger._fit_span_filter", None, "tagger: fitting the span filter"),
    ("annotator.cues.tagger.training", "fit_classifiers", "CueTagger.fit",
     "tagger: fitting the token classifiers on every article"),
    ("annotator.cues.tagger.estimator", "CueTagger.fit", None, "tagger: fitting"),
    ("annotator.cues.tagger.estimator", "CueTagger.predict_spans", None, "tagger: tagging the held-out articles"),
    ("annotator.model.framing", "FramingModel._out_of_fold", None,
     "document model: out-of-fold fits for the calibration"),
    ("annotator.model.framing", "FramingModel._fit_intervals", None,
     "document model: the interval table (training articles cut short and scored)"),
    ("annotator.model.framing", "FramingModel.fit", None, "document model: cue features, ridge and calibration"),
)


class Stages:
    """Says ``[ elapsed s] message`` lines through ``say`` (nothing when ``say`` is None).

    Parameters
    ----------
    say : callable(str) or None
    heartbeat : float
        Seconds after which a stage still running is said again.
    poll : float
        Seconds between looks at the training thread inside :meth:`watch`.
    """

    def __init__(self, say=None, heartbeat=30.0, poll=0.5, stages=STAGES):
        self.say = say
        self.heartbeat = heartbeat
        self.poll = poll
        self.stages = {(mod, qual, caller): what for mod, qual, caller, what in stages}
        self.t0 = time.perf_counter()
        self._last = self.t0
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def __call__(self, message: str) -> None:
        if self.say is None:
            return
        with self._lock:
            self._last = time.perf_counter()
            self.say(f"[{self.elapsed():5.0f} s] {message}")

    def stage_of(self, frame) -> str | None:
        """The stage a thread whose innermost frame is ``frame`` is in (None: none of :data:`STAGES`)."""
        while frame is not None:
            key = (frame.f_globals.get("__name__"), frame.f_code.co_qualname)
            caller = frame.f_back.f_code.co_qualname if frame.f_back is not None else None
            what = self.stages.get(key + (caller,)) or self.stages.get(key + (None,))
            if what is not None:
                return what
            frame = frame.f_back
        return None

    @contextmanager
    def watch(self, prefix=""):
        """Within the block, say each new stage of this thread (and "still ..." every ``heartbeat`` s)."""
        if self.say is None:
            yield self
            return
        ident, done = threading.get_ident(), threading.Event()

        def run():
            current = None
            while not done.wait(self.poll):
                frame = sys._current_frames().get(ident)
                stage = self.stage_of(frame) or current
                del frame
                if stage is not None and stage != current:
                    current = stage
                    self(prefix + stage)
                elif current is not None and time.perf_counter() - self._last >= self.heartbeat:
                    self(f"{prefix}still {current}")

        thread = threading.Thread(target=run, name="training-progress", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            done.set()
            thread.join()
