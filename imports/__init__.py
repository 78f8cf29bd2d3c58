"""The register importer: reading, row rules, diff and apply, the staged first import, the CLI.
May import dispatch.core, dispatch.models and dispatch.register; never a feature package's views."""

# The file it accepts: ../shared/register-format.md.
