"""`popsim` in-process for the tests: exit status and what it printed."""

from popsim.cli import main


def run_cli(argv, capsys) -> tuple[int, str, str]:
    """`main(argv)` (any path-like arguments made strings): (exit status, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err
