"""The `guanjia` command line (Typer), one module per command group."""
