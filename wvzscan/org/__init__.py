"""``wvzscan org``: every repository of an organization, one report for the fleet.

- ``targets``: the repository list (GitHub, GitLab, a file of URLs and paths), pagination and
  rate limits, forks and archived repositories.
- ``shard``: the stable split of that list across machines (``--shard K/N``).
- ``credentials``: the forge token handed to git for one host only, through the environment.
- ``mirrors``: bare mirrors kept between runs (``--mirror-dir``) or temporary clones.
- ``state``: the SQLite file of what earlier runs scanned (``--state``).
- ``engine``: the one place that calls the scan engine (and ``sources.git``) for one repository.
- ``fleet``: the loop over repositories: clone or fetch, incremental or full scan, one result.
- ``merge``: shard reports joined into one.

Nothing here prints, imports click or exits: messages go through callbacks, failures are
``WvzscanError`` (the whole run cannot be done) or errors in the result (one repository could not).
"""
