"""One module per `musicgen` subcommand: `add_arguments(parser)` and `run(args) -> int`."""
