"""The course's errors: each one says what was expected and how to fix it."""


class CourseError(Exception):
    """Base class of every error the package raises on purpose."""


class UnknownEnvironmentError(CourseError, ValueError):
    """An environment id that the course does not support."""


class ShapeError(CourseError, ValueError):
    """An array or tensor whose shape or dtype is not the one expected."""


class MissingArtefactError(CourseError, FileNotFoundError):
    """A file in data/ (or a run folder) that is not there; the message names the command that makes it."""


class CorruptArtefactError(CourseError, OSError):
    """A file in data/ that is there but not as recorded (truncated or altered); the message says how to restore it."""


class LedgerError(CourseError, ValueError):
    """A run-ledger entry that is not valid (an unknown stage, a negative count), or one the ledger already has."""


class SettingsError(CourseError, ValueError):
    """Settings that do not fit together, or that differ from the ones a run folder or file was made with."""


class RunStateError(CourseError, ValueError):
    """A run folder that is not in the state a step needs: not finished yet, or made by another run."""


class CommandFailedError(CourseError, RuntimeError):
    """A command the course ran on the learner's behalf (a notebook's RETRAIN) that exited with an error."""


class ModelMismatchError(ShapeError):
    """A V, an M and a C that were not made together (their latent or memory sizes do not match)."""
