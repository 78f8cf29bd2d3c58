"""The register importer: reading, row rules, diff and apply, the plan that applies it on SQLite
without holding the writer's turn while the file is read, the staged first import, the CLI.
May import dispatch.core, dispatch.models and dispatch.register; never a feature package's views."""

# The file it accepts: ../shared/register-format.md.
