"""Git as a source: the object store read as a stream, findings traced to commits afterwards.

- ``process``: running git, repository discovery, errors.
- ``objects``: listing and parallel ``cat-file --batch`` readers.
- ``history``: the ``git log --raw -z`` parser.
- ``history_scan``: ``wvzscan repo`` (all objects, then attribution).
- ``changes``: what a range of commits or the index adds (``--range``, ``push``, ``staged``, ``ci``).
"""
