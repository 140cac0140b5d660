"""Singer-protocol executables over holded_core, for Meltano and any other Singer runner.

- `tap-holded` (`singer_holded.tap`): discovery and incremental sync through the core's sync engine.
- `target-holded` (`singer_holded.target`): reverse ETL through the core's `Push`.

Like holded_core, nothing here imports the Airbyte CDK: the executables start fast and run in any
environment that has our package (Meltano's own venv included, or none at all: Meltano runs the
main venv's scripts).
"""
